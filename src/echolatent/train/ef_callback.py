"""Validation metrics that need every validation frame at once: biplane EF against the expert masks' EF,
and LV / EPI / LA Dice at ED and at ES separately.

The validation loader must not shuffle; its frames are named by ``ids`` (``patientXXXX_{2CH,4CH}_{ED,ES}``,
in loader order), and ``SegModule.validation_step`` returns ``{"pred": (N, S, S) labels}``.
EF is measured on the network's grid with pixel units (EF is scale-free; both sides on the same grid).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import lightning as L
import numpy as np
import torch

from echolatent.labels import Label
from echolatent.measure.agreement import biplane_ef_by_patient, ef_agreement

log = logging.getLogger(__name__)

_STRUCTURES = {"lv": (Label.LV,), "epi": (Label.LV, Label.MYO), "la": (Label.LA,)}


def dice_by_instant(pred: np.ndarray, truth: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
    """Mean Dice of LV, EPI and LA at ED and at ES: ``{"lv_ed": ..., "lv_es": ..., ...}`` from ``(N, H, W)`` labels."""
    instants = np.array([frame_id.rsplit("_", 1)[-1] for frame_id in ids])
    scores = {}
    for name, labels in _STRUCTURES.items():
        p, t = np.isin(pred, labels), np.isin(truth, labels)
        inter = (p & t).sum(axis=(1, 2))
        total = p.sum(axis=(1, 2)) + t.sum(axis=(1, 2))
        dice = np.where(total > 0, 2 * inter / np.maximum(total, 1), 1.0)
        for instant in ("ED", "ES"):
            keep = instants == instant
            if keep.any():
                scores[f"{name}_{instant.lower()}"] = float(dice[keep].mean())
    return scores


class ValidationEF(L.Callback):
    """Logs ``val/ef_mae``, ``val/ef_bias``, ``val/ef_r``, ``val/ef_within_5`` and ``val/dice_<s>_<ed|es>``.

    ``frames`` returns ``(masks (N, S, S), ids)`` of the validation set when first needed (after setup).
    """

    def __init__(self, frames: Callable[[], tuple[np.ndarray, list[str]]]):
        self.frames = frames
        self._preds: list[torch.Tensor] = []
        self._reference: tuple[np.ndarray, list[str], dict[str, float]] | None = None

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:  # noqa: D102
        self._preds = []

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):  # noqa: D102
        self._preds.append(outputs["pred"].cpu())

    def _expert(self) -> tuple[np.ndarray, list[str], dict[str, float]]:
        if self._reference is None:
            masks, ids = self.frames()
            self._reference = (masks, ids, biplane_ef_by_patient(masks, ids))
        return self._reference

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:  # noqa: D102
        if trainer.sanity_checking or not self._preds:
            return
        masks, ids, expert_ef = self._expert()
        pred = torch.cat(self._preds).numpy().astype(np.uint8)
        if len(pred) != len(ids):  # a limited validation run: EF needs every frame
            log.info("validation EF skipped: %d predictions for %d frames", len(pred), len(ids))
            return
        agreement = ef_agreement(biplane_ef_by_patient(pred, ids), expert_ef, resamples=0)
        values = {f"val/ef_{k}": agreement[k] for k in ("mae", "bias", "r", "within_5")}
        values |= {f"val/dice_{k}": v for k, v in dice_by_instant(pred, masks, ids).items()}
        pl_module.log_dict({k: float(v) for k, v in values.items() if v is not None}, sync_dist=False)
        if agreement["mae"] is not None:
            log.info("validation EF: MAE %.2f, bias %+.2f, r %.3f (n=%d)", agreement["mae"], agreement["bias"],
                     agreement["r"], agreement["n"])
