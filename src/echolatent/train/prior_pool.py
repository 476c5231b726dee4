"""Prior-sample targets for training a shape model's decoder where the encoder never sends it.

Codes drawn from the prior N(0, I) land partly where no training mask was encoded: there the decoder was never
taught, and some of its masks break topology (a stray island of LA, a hole in the myocardium) or anatomy (an LV
that reaches the background, a myocardium too thin for its cavity). Each epoch, :func:`build_prior_pool` draws
codes and decodes them as the evaluation does (probabilities resampled to :data:`ATTRIBUTE_GRID`, argmax), then
looks for a valid mask to teach each code:

1. the decoded mask after the smoothing pipeline's clean-up (largest piece of each structure, holes filled);
2. when that is not valid, up to ``cycles`` times: encode the cleaned mask (``mu``), decode, clean. The encoder
   was only trained on real hearts, so it sends a broken mask to the code of a nearby real-looking one.

Codes with a valid mask are kept, that mask (back on the model's grid) is their target (weight ``prior_weight``);
the rest are left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from echolatent.models.shape import ATTRIBUTE_GRID, ShapeModel
from echolatent.resample import grid_onehot, resize_probs

log = logging.getLogger(__name__)

#: Codes drawn per epoch.
POOL_SIZE = 512


@dataclass
class PriorPool:
    """Codes ``z (m, d)`` float32 and decoder targets ``(m, 4, S, S)`` float16; validity rates of the draw (as
    decoded, after the clean-up, and the share kept with a target)."""

    z: torch.Tensor
    targets: torch.Tensor
    valid_raw: float
    valid_cleaned: float
    kept: float = 1.0

    def batch(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` random (code, target) pairs, drawn with replacement."""
        idx = torch.randint(len(self.z), (n,), generator=generator)
        return self.z[idx], self.targets[idx]


def _decode(model: ShapeModel, z: torch.Tensor, chunk: int) -> np.ndarray:
    """``(n, d)`` codes -> ``(n, G, G)`` uint8 argmax labels at :data:`ATTRIBUTE_GRID`."""
    device, grid = next(model.parameters()).device, (ATTRIBUTE_GRID, ATTRIBUTE_GRID)
    return np.concatenate([
        resize_probs(model.decode(z[i:i + chunk].to(device)).softmax(1).float().cpu(), grid).numpy().argmax(1)
        for i in range(0, len(z), chunk)
    ]).astype(np.uint8)


def _encode(model: ShapeModel, masks: np.ndarray, chunk: int) -> torch.Tensor:
    """``(n, H, W)`` labels -> ``(n, d)`` codes (``mu``), input formed as the codec forms it."""
    device, size = next(model.parameters()).device, (model.config.input_size,) * 2
    return torch.cat([model.encode(grid_onehot(masks[i:i + chunk], size, model.config.soft_masks).to(device))[0].cpu()
                      for i in range(0, len(masks), chunk)])


@torch.no_grad()
def build_prior_pool(model: ShapeModel, n: int = POOL_SIZE, seed: int = 0, cycles: int = 2,
                     chunk: int = 64) -> PriorPool:
    """Draw ``n`` prior codes, decode, clean, re-encode the invalid ones, keep the valid (module docstring).

    The model runs in eval mode (batch-norm running statistics, as at inference) and is put back in the mode it
    was in. ``valid_raw`` / ``valid_cleaned``: the share of the draw valid as decoded / after the clean-up alone.
    """
    from echolatent.measure.validity import check_validity
    from echolatent.temporal.cleanup import clean_masks

    was_training = model.training
    model.eval()
    z = torch.randn(n, model.config.latent_dim, generator=torch.Generator().manual_seed(seed))
    raw = _decode(model, z, chunk)
    target = clean_masks(raw)
    valid_raw = check_validity(raw).valid
    valid = check_validity(target).valid
    valid_cleaned = float(valid.mean())
    for _ in range(cycles):
        redo = np.flatnonzero(~valid)
        if len(redo) == 0:
            break
        target[redo] = clean_masks(_decode(model, _encode(model, target[redo], chunk), chunk))
        valid[redo] = check_validity(target[redo]).valid
    model.train(was_training)
    size = (model.config.input_size,) * 2
    keep = np.flatnonzero(valid)
    targets = torch.cat([grid_onehot(target[keep[i:i + chunk]], size, model.config.soft_masks).half()
                         for i in range(0, len(keep), chunk)]) if len(keep) else torch.zeros(0, 4, *size).half()
    log.debug("prior pool: %d/%d valid raw, %.3f cleaned, %d kept after %d cycles", valid_raw.sum(), n,
              valid_cleaned, len(keep), cycles)
    return PriorPool(z[keep], targets, float(valid_raw.mean()), valid_cleaned, len(keep) / n)
