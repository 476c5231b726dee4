"""LightningModule of the shape models: the losses live here, the networks in :mod:`echolatent.models.shape`.

Loss = ``ce_weight`` * cross-entropy + (1 - soft Dice over LV, MYO, LA) + beta * KL (closed form, optional
warm-up and capacity) + gamma * sum_k L_reg(k), with
``L_reg(k) = mean over pairs i != j of |tanh(delta (z_i[k] - z_j[k])) - sign(a_i[k] - a_j[k])|`` on the
sampled codes (Pati & Lerch 2020), attribute k on latent dim k, pairs with an undefined attribute skipped;
with ``prior_weight`` > 0, plus prior_weight * the same reconstruction loss on codes drawn from the prior against
their cleaned, valid decodings (:mod:`echolatent.train.prior_pool`, redrawn every epoch).
Targets are one-hot or, for ``soft_masks`` models, area fractions: cross-entropy and Dice take them as they come;
targets finer than the logits (``loss_size``) are compared with the softmax probabilities resampled to their size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from monai.losses import DiceLoss

from echolatent.labels import NUM_LABELS, Label
from echolatent.models.shape import ShapeModel, ShapeModelConfig, save_model
from echolatent.resample import resize_probs
from echolatent.train.prior_pool import PriorPool, build_prior_pool
from echolatent.train.shape_config import ShapeTrainConfig, flat_config, split_config

log = logging.getLogger(__name__)

#: Soft Dice with the areas summed over the batch (castor's) or per frame then averaged (``dice_per_frame``).
#: Keyed by (per_frame, softmax): ``softmax=False`` takes probabilities (resampled ones, see ``loss_size``).
_DICE = {(per_frame, softmax): DiceLoss(include_background=False, softmax=softmax, batch=not per_frame,
                                        smooth_nr=1e-5, smooth_dr=1e-5)
         for per_frame in (False, True) for softmax in (False, True)}
#: Probability floor under the log of the cross-entropy on resampled probabilities.
_PROB_FLOOR = 1e-6


def reconstruction_loss(logits: torch.Tensor, labels: torch.Tensor, ce_weight: float,
                        per_frame: bool = False) -> dict[str, torch.Tensor]:
    """``logits (B, 4, S, S)``, ``labels (B, L, L)`` int or class fractions ``(B, 4, L, L)`` -> ``{"ce", "dice",
    "recon"}`` scalars.

    ``dice`` is 1 - soft Dice (softmax probabilities, areas summed over the batch, or with ``per_frame`` over each
    frame, the Dice values then averaged: small structures count as much as large ones) averaged over LV, MYO, LA;
    with fractions, cross-entropy is against the target distribution (equal to the label form on a one-hot).
    When ``L`` > ``S`` the softmax probabilities are first resampled bilinearly to ``L x L`` (as
    :func:`echolatent.latent.codec.decode_probs` does at inference) and both terms are computed there.
    """
    if labels.ndim == 3:
        target = F.one_hot(labels.long(), NUM_LABELS).permute(0, 3, 1, 2).to(logits.dtype)
    else:
        target = labels.to(logits.dtype)
    size = tuple(target.shape[-2:])
    if size == tuple(logits.shape[-2:]):
        ce = F.cross_entropy(logits, target)
        dice = _DICE[per_frame, True](logits, target)
    else:
        probs = resize_probs(logits.softmax(1), size)
        ce = -(target * probs.clamp_min(_PROB_FLOOR).log()).sum(1).mean()
        dice = _DICE[per_frame, False](probs, target)
    return {"ce": ce, "dice": dice, "recon": ce_weight * ce + dice}


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) of ``(B, d)`` codes: sum over dims, mean over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()


def attribute_loss(z: torch.Tensor, attrs: torch.Tensor, delta: float) -> torch.Tensor:
    """``z (B, d)``, ``attrs (B, K)`` (NaN = undefined) -> ``(K,)`` AR-VAE losses of dims ``0..K-1``.

    ``L(k) = mean over ordered pairs i != j with both attributes defined of
    |tanh(delta (z_i[k] - z_j[k])) - sign(a_i[k] - a_j[k])|``; 0 when no pair is defined.
    """
    K = attrs.shape[1]
    if K == 0:
        return z.new_zeros(0)
    zk = z[:, :K]
    dz = torch.tanh(delta * (zk[:, None, :] - zk[None, :, :]))  # (B, B, K)
    diff = attrs[:, None, :] - attrs[None, :, :]
    defined = torch.isfinite(diff) & ~torch.eye(len(z), dtype=torch.bool, device=z.device)[..., None]
    da = torch.sign(torch.nan_to_num(diff))  # torch.sign(nan) is 0: undefined pairs are masked explicitly
    err = torch.where(defined, (dz - da).abs(), torch.zeros_like(dz))
    return err.sum((0, 1)) / defined.sum((0, 1)).clamp(min=1)


def dice_scores(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Hard Dice per structure ``(3,)`` (LV, MYO, LA) of label maps ``(B, S, S)``, areas summed over the batch."""
    scores = []
    for label in Label.foreground():
        p, t = pred == label, labels == label
        denom = p.sum() + t.sum()
        scores.append(2 * (p & t).sum() / denom if denom > 0 else torch.tensor(1.0))
    return torch.stack([s.float() for s in scores])


class ShapeModule(L.LightningModule):
    """Trains a :class:`ShapeModel`; batches are ``(one-hot or fractions (B, 4, S, S), attributes (B, K) float32)``
    and, with ``loss_size``, the labels at that size ``(B, L, L)`` (the reconstruction target)."""

    def __init__(self, config: dict[str, Any], seed: int = 0) -> None:
        """``config``: the architecture and training settings as one flat dict (:func:`.shape_config.flat_config`;
        the config of checkpoints written before the split reads the same)."""
        super().__init__()
        self.save_hyperparameters({"config": dict(config), "seed": seed})
        self.config, self.train_config = split_config(dict(config))
        self.model = ShapeModel(self.config)
        self.seed = seed
        self.prior_pool: PriorPool | None = None
        if self.train_config.freeze_decoder:
            self.model.decoder.requires_grad_(False)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        """Keep a frozen decoder in eval mode before every step, whatever mode the loops restored: its batch-norm
        statistics are not updated, and it decodes during training as it does at inference."""
        if self.train_config.freeze_decoder:
            self.model.decoder.eval()

    def kl_weight(self) -> float:
        """beta, ramped linearly over the first ``kl_warmup_epochs`` epochs."""
        warmup = self.train_config.kl_warmup_epochs
        ramp = min(1.0, (self.current_epoch + 1) / warmup) if warmup else 1.0
        return self.train_config.beta * ramp

    def losses(self, onehot: torch.Tensor, attrs: torch.Tensor, sample: bool,
               prior: tuple[torch.Tensor, torch.Tensor] | None = None,
               target: torch.Tensor | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Every loss term of one batch and the logits; ``sample`` draws z = mu + s * eps (else z = mu).

        ``target``: the reconstruction target when it is not the encoder's input (labels at ``loss_size``).

        ``prior``: pooled prior codes ``(m, d)`` and their targets, decoded in the same call as the batch's codes
        (one set of batch-norm statistics for both, so training and inference normalise alike).
        """
        cfg, attributes = self.train_config, self.config.attributes
        onehot = onehot.float()
        mu, logvar = self.model.encode(onehot)
        z = mu
        if logvar is not None and sample:
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        if prior is None:
            logits = self.model.decode(z)
        else:
            logits, prior_logits = self.model.decode(torch.cat([z, prior[0].to(z)])).split([len(z), len(prior[0])])
        recon_target = onehot if target is None else target
        terms = reconstruction_loss(logits, recon_target, cfg.ce_weight, cfg.dice_per_frame)
        total = terms["recon"]
        if prior is not None:
            prior_target = prior[1].to(prior_logits.device)  # labels (loss_size) or one-hot / fractions
            terms["prior"] = reconstruction_loss(prior_logits, prior_target, cfg.ce_weight,
                                                 cfg.dice_per_frame)["recon"]
            total = total + cfg.prior_weight * terms["prior"]
        if logvar is not None:
            terms["kl"] = kl_divergence(mu, logvar)
            kl_term = (terms["kl"] - cfg.kl_capacity).abs() if cfg.kl_capacity > 0 else terms["kl"]
            total = total + self.kl_weight() * kl_term
        if attributes and cfg.gamma > 0:
            reg = attribute_loss(z, attrs, cfg.delta)
            terms.update({f"reg_{name}": value for name, value in zip(attributes, reg, strict=True)})
            terms["reg"] = reg.sum()
            total = total + cfg.gamma * terms["reg"]
        terms["loss"] = total
        return terms, logits

    def on_train_epoch_start(self) -> None:
        """Redraw the prior-sample targets (``prior_weight`` > 0), seeded by seed, epoch and rank."""
        if self.train_config.prior_weight <= 0:
            return
        seed = self.seed * 100_003 + self.current_epoch * 101 + self.global_rank
        self.prior_pool = build_prior_pool(self.model, n=self.train_config.prior_pool_size, seed=seed,
                                           target_size=self.train_config.loss_size)
        self.log_dict({"train/prior_valid_raw": self.prior_pool.valid_raw,
                       "train/prior_valid_cleaned": self.prior_pool.valid_cleaned,
                       "train/prior_kept": self.prior_pool.kept}, on_step=False, on_epoch=True)

    def prior_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``n`` pooled prior codes and their targets (``None``: no pool yet, or an empty one)."""
        pool = self.prior_pool
        if pool is None or len(pool.z) == 0:
            return None
        return pool.batch(n)

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        onehot, attrs, *target = batch
        terms, _ = self.losses(onehot, attrs, sample=True, prior=self.prior_batch(len(onehot)),
                               target=target[0] if target else None)
        self.log_dict({f"train/{k}": v for k, v in terms.items() if not k.startswith("reg_") and k != "loss"},
                      prog_bar=False, on_step=True, on_epoch=True, batch_size=len(onehot), sync_dist=False)
        self.log("train/loss", terms["loss"], prog_bar=True, on_step=True, on_epoch=True, batch_size=len(onehot))
        return terms["loss"]

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        onehot, attrs, *target = batch
        terms, logits = self.losses(onehot, attrs, sample=False, target=target[0] if target else None)
        if target:  # Dice where the loss is: probabilities resampled to the targets' size, as at inference
            dice = dice_scores(resize_probs(logits.softmax(1), tuple(target[0].shape[-2:])).argmax(1), target[0])
        else:
            dice = dice_scores(logits.argmax(1), onehot.argmax(1))
        logged = {f"val/{k}": v for k, v in terms.items() if k != "loss"}
        logged.update({f"val/dice_{lab.name.lower()}": d for lab, d in zip(Label.foreground(), dice, strict=True)})
        self.log_dict(logged, on_epoch=True, batch_size=len(onehot), sync_dist=True)
        self.log("val/loss", terms["loss"], prog_bar=True, on_epoch=True, batch_size=len(onehot), sync_dist=True)

    def configure_optimizers(self) -> dict[str, Any]:
        trained = [p for p in self.parameters() if p.requires_grad]
        cfg = self.train_config
        optimizer = torch.optim.Adam(trained, lr=cfg.lr, weight_decay=cfg.weight_decay)
        epochs = max(1, int(self.trainer.max_epochs or 1)) if self._trainer is not None else 1
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=cfg.lr * 0.02)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "epoch"}}


@torch.no_grad()
def latent_range(model: ShapeModel, inputs: torch.Tensor, batch_size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, 4, S, S)`` encoder inputs (one-hot or fractions) -> per-dimension min and max ``(d,)`` of ``mu``."""
    model.eval()
    mu = torch.cat([model.encode(inputs[i:i + batch_size].float())[0] for i in range(0, len(inputs), batch_size)])
    return mu.min(0).values, mu.max(0).values


def export_model(checkpoint: str | Path, train_inputs: torch.Tensor, path: str | Path,
                 metadata: dict[str, Any] | None = None) -> ShapeModel:
    """Load a training checkpoint, store the latent range of ``train_inputs`` (the training set's encoder inputs
    ``(N, 4, S, S)``, :attr:`MaskDataModule.train_inputs`) and save a model file; its metadata records the training
    settings (``"training"``) beside ``metadata``."""
    module = ShapeModule.load_from_checkpoint(str(checkpoint), map_location="cpu")
    model = module.model.eval()
    low, high = latent_range(model, train_inputs)
    model.set_latent_range(low, high)
    save_model(model, path, {"training": module.train_config.to_dict(), **(metadata or {})})
    log.info("saved %s (%s, latent range %s..%s)", path, model.config.kind,
             np.round(low.numpy(), 2).tolist(), np.round(high.numpy(), 2).tolist())
    return model


#: Config fields that shape each part of the network (what must match to copy that part's weights).
_PART_FIELDS = {
    "encoder": ("kind", "input_size", "encoder_channels", "bottleneck_channels", "latent_dim"),
    "decoder": ("input_size", "channels", "bottleneck_channels", "latent_dim", "head_channels"),
}


def init_from(module: ShapeModule, path: str | Path, decoder_only: bool = False) -> None:
    """Start ``module`` from the weights of the model file at ``path`` (fine-tuning); the architecture must match.

    ``decoder_only``: copy the decoder alone (the encoder keeps its fresh weights and may differ in width), e.g. to
    train a new encoder for a trained decoder with ``freeze_decoder``.

    Raises:
        ValueError: a field that shapes the copied part differs.
    """
    from echolatent.latent.codec import load_model

    source = load_model(path)
    parts = ("decoder",) if decoder_only else ("encoder", "decoder")
    for name in dict.fromkeys(field for part in parts for field in _PART_FIELDS[part]):
        mine, theirs = getattr(module.config, name), getattr(source.config, name)
        if mine != theirs:
            raise ValueError(f"cannot start from {path}: its {name} is {theirs}, this run's is {mine}")
    if decoder_only:
        module.model.decoder.load_state_dict(source.decoder.state_dict())
    else:
        module.model.load_state_dict(source.state_dict())
    log.info("%s initialised from %s", "decoder" if decoder_only else "weights", path)


def train_shape_model(
    data: str | Path, out: str | Path, config: ShapeModelConfig, train: ShapeTrainConfig | None = None, *,
    epochs: int, seed: int = 0, devices: int | str = 1, accelerator: str = "auto", strategy: str = "auto",
    add_synthetic: Sequence[str | Path] | str | Path | None = None, max_steps: int = -1, progress: bool = True,
    metadata: dict[str, Any] | None = None, init: str | Path | None = None, init_decoder: str | Path | None = None,
) -> Path | None:
    """Train ``config``'s model with ``train``'s settings (None: the defaults) on the masks of ``data`` in run folder
    ``out``; return ``out/shape_model.pt``.

    Goes through :func:`echolatent.train.runner.fit` (config, CSV log, checkpoints, resume). The model
    file (best checkpoint, latent range of the training masks, attribute statistics, the training settings) is
    written by the global-zero process only; other DDP ranks return ``None``. ``init``: a model file to start from
    (fine-tuning; ignored when the run folder resumes from its own checkpoint); ``init_decoder``: a model file whose
    decoder alone is copied (see :func:`init_from`).
    """
    from echolatent.train.mask_data import MaskDataModule
    from echolatent.train.runner import fit

    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if init is not None and init_decoder is not None:
        raise ValueError("give init (whole model) or init_decoder (decoder only), not both")
    train = (train or ShapeTrainConfig()).resolved(config)
    datamodule = MaskDataModule.from_dataset(data, input_size=config.input_size, attributes=config.attributes,
                                             add_synthetic=add_synthetic, batch_size=train.batch_size,
                                             soft=config.soft_masks, loss_size=train.loss_size)
    module = ShapeModule(flat_config(config, train), seed=seed)
    if init is not None:
        init_from(module, init)
    if init_decoder is not None:
        init_from(module, init_decoder, decoder_only=True)
    start = time.perf_counter()
    trainer, best = fit(module, datamodule, out, flat_config(config, train), max_epochs=epochs, seed=seed,
                        devices=devices, accelerator=accelerator, strategy=strategy, max_steps=max_steps,
                        progress=progress)
    if not trainer.is_global_zero:
        return None
    info = {
        "data": str(data), "add_synthetic": [str(p) for p in ([add_synthetic] if isinstance(add_synthetic, str | Path)
                                                                    else add_synthetic or ())], "seed": seed,
        "epochs_done": trainer.current_epoch, "steps_done": trainer.global_step,
        "fit_seconds_this_call": round(time.perf_counter() - start, 1), "checkpoint": best.name,
        **_data_metadata(datamodule),
        "init": str(init) if init is not None else None,
        "init_decoder": str(init_decoder) if init_decoder is not None else None,
        **(metadata or {}),
    }
    path = Path(out) / "shape_model.pt"
    export_model(best, datamodule.train_inputs, path, info)
    return path


def _data_metadata(datamodule) -> dict[str, Any]:
    """What the model file records of its training masks: counts, attribute statistics, temporal thresholds."""
    return {
        "train_masks": len(datamodule.train_inputs),
        "reference_masks": datamodule.n_reference, "val_masks": len(datamodule.val_inputs),
        "attribute_mean": datamodule.attribute_mean.tolist(), "attribute_std": datamodule.attribute_std.tolist(),
        "attribute_grid": [datamodule.attribute_size] * 2,
        "temporal_thresholds": temporal_thresholds(datamodule.reference_masks),
    }


def temporal_thresholds(masks: np.ndarray) -> dict[str, Any]:
    """Temporal-consistency bounds of ``(N, S, S)`` reference masks on the model's grid (pixels), published taus.

    Stored in the model file's metadata under ``temporal_thresholds`` (read by :mod:`echolatent.temporal`).
    """
    from echolatent.measure.temporal import TemporalThresholds

    found = TemporalThresholds.from_reference([masks])
    found.note = f"bounds from the {len(masks)} training masks at {masks.shape[1]}x{masks.shape[2]}, published taus"
    return found.to_dict()
