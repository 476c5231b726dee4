"""Training settings of a shape model, beside its architecture (:class:`~echolatent.models.shape.ShapeModelConfig`),
as the segmentation side has :class:`~echolatent.train.seg_module.SegTrainConfig` beside its ``UNetConfig``.

Run folders record both as one flat dict (:func:`flat_config`, the keys of the configs written before the split, so
older run folders and checkpoints still resume: :func:`split_config`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from echolatent.models.shape import ShapeModelConfig


@dataclass(frozen=True)
class ShapeTrainConfig:
    """Loss weights and optimisation of a shape model.

    ``beta``, ``gamma`` and ``delta`` left at ``None`` take the model kind's defaults (:data:`~echolatent.models.
    shape.KINDS`, :meth:`resolved`). ``prior_weight``: weight of the prior-sample term (:mod:`.prior_pool`; 0: off),
    on ``prior_pool_size`` codes drawn each epoch. ``dice_per_frame``: the Dice loss per frame, then averaged, instead
    of over the batch's summed areas. ``loss_size`` > 0: the reconstruction losses compare the decoded probabilities,
    bilinearly resampled to ``loss_size`` pixels as inference resamples them (0: on the model's grid).
    ``freeze_decoder``: train the encoder only, the decoder's weights and batch-norm statistics left as they are.
    """

    beta: float | None = None
    gamma: float | None = None
    delta: float | None = None
    ce_weight: float = 0.1
    kl_warmup_epochs: int = 0
    kl_capacity: float = 0.0
    lr: float = 1e-3
    weight_decay: float = 5e-4
    batch_size: int = 16
    prior_weight: float = 0.0
    prior_pool_size: int = 512
    dice_per_frame: bool = False
    loss_size: int = 0
    freeze_decoder: bool = False

    def resolved(self, model: ShapeModelConfig) -> ShapeTrainConfig:
        """These settings with the kind's default ``beta``/``gamma``/``delta`` filled in, checked against ``model``.

        Raises:
            ValueError: naming the first bad field.
        """
        spec = model.spec
        defaults = {"beta": spec.beta, "gamma": spec.gamma, "delta": spec.delta}
        out = replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})
        out = replace(out, prior_pool_size=int(out.prior_pool_size), loss_size=int(out.loss_size),
                      dice_per_frame=bool(out.dice_per_frame), freeze_decoder=bool(out.freeze_decoder))
        _validate(out, model)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


TRAIN_KEYS = tuple(f.name for f in fields(ShapeTrainConfig))


def _validate(cfg: ShapeTrainConfig, model: ShapeModelConfig) -> None:
    """Raise ValueError with the first broken rule of ``cfg`` (for ``model``) and the value that breaks it."""
    rules = [(name, math.isfinite(getattr(cfg, name)) and getattr(cfg, name) >= 0, "must be a finite number >= 0")
             for name in ("beta", "gamma", "ce_weight", "kl_capacity", "weight_decay", "prior_weight")]
    rules += [(name, math.isfinite(getattr(cfg, name)) and getattr(cfg, name) > 0, "must be a finite number > 0")
              for name in ("delta", "lr")]
    rules += [
        ("kl_warmup_epochs", cfg.kl_warmup_epochs >= 0, "must be >= 0"),
        ("batch_size", cfg.batch_size >= 2, "must be >= 2 (the attribute loss compares pairs)"),
        ("prior_pool_size", cfg.prior_pool_size >= 1, "must be >= 1 (codes drawn per epoch)"),
        ("loss_size", cfg.loss_size == 0 or cfg.loss_size >= model.input_size,
         f"must be 0 (the model's grid) or >= input_size {model.input_size}"),
        ("prior_weight", cfg.prior_weight == 0 or model.spec.variational, "> 0 needs a variational kind (the AE has "
         "no prior)"),
        ("prior_weight", not (cfg.freeze_decoder and cfg.prior_weight > 0), "> 0 trains the decoder, which "
         "freeze_decoder leaves as it is"),
        ("gamma", cfg.gamma == 0 or bool(model.attributes), "> 0 but no attributes are declared"),
    ]
    for name, ok, rule in rules:
        if not ok:
            raise ValueError(f"{name} {rule}, got {getattr(cfg, name)}")


def flat_config(model: ShapeModelConfig, train: ShapeTrainConfig) -> dict[str, Any]:
    """Both configs as one flat dict (the format of run folders' ``config.json`` and checkpoints)."""
    return {**model.to_dict(), **train.to_dict()}


def split_config(flat: dict[str, Any]) -> tuple[ShapeModelConfig, ShapeTrainConfig]:
    """A flat dict (:func:`flat_config`, or a config written before the split) -> both configs, training resolved.

    Raises:
        ValueError: unknown keys or bad values.
    """
    model = ShapeModelConfig.from_dict({k: v for k, v in flat.items() if k not in TRAIN_KEYS})
    train = ShapeTrainConfig(**{k: v for k, v in flat.items() if k in TRAIN_KEYS})
    return model, train.resolved(model)
