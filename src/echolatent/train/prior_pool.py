"""Prior-sample targets for training a shape model's decoder where the encoder never sends it.

Codes drawn from the prior N(0, I) land partly where no training mask was encoded: there the decoder was never
taught, and a few of its masks break topology (a stray island of LA, a hole in the myocardium). Each epoch,
:func:`build_prior_pool` draws codes, decodes them as the evaluation does (probabilities resampled to
:data:`ATTRIBUTE_GRID`, argmax), applies the smoothing pipeline's clean-up (largest piece of each structure,
holes filled) and keeps the codes whose cleaned mask passes every anatomical-validity criterion; the cleaned
masks, back on the model's grid, are the decoder's targets for those codes (weight ``prior_weight``). Samples
that the clean-up cannot make valid are left out: the term teaches clean topology, not new anatomy.
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
    """Codes ``z (m, d)`` float32 and decoder targets ``(m, 4, S, S)`` float16; validity rates of the draw."""

    z: torch.Tensor
    targets: torch.Tensor
    valid_raw: float
    valid_cleaned: float

    def batch(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` random (code, target) pairs, drawn with replacement."""
        idx = torch.randint(len(self.z), (n,), generator=generator)
        return self.z[idx], self.targets[idx]


@torch.no_grad()
def build_prior_pool(model: ShapeModel, n: int = POOL_SIZE, seed: int = 0, chunk: int = 64) -> PriorPool:
    """Draw ``n`` prior codes, decode, clean, keep the valid ones (see the module docstring).

    The model is decoded in eval mode (batch-norm running statistics, as at inference) and put back in the mode
    it was in.
    """
    from echolatent.measure.validity import check_validity
    from echolatent.temporal.cleanup import clean_masks

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    z = torch.randn(n, model.config.latent_dim, generator=torch.Generator().manual_seed(seed))
    grid = (ATTRIBUTE_GRID, ATTRIBUTE_GRID)
    raw = np.concatenate([
        resize_probs(model.decode(z[i:i + chunk].to(device)).softmax(1).float().cpu(), grid).numpy().argmax(1)
        for i in range(0, n, chunk)
    ]).astype(np.uint8)
    model.train(was_training)
    cleaned = clean_masks(raw)
    valid_raw = check_validity(raw).valid
    valid = check_validity(cleaned).valid
    size = (model.config.input_size,) * 2
    keep = np.flatnonzero(valid)
    targets = torch.cat([grid_onehot(cleaned[keep[i:i + chunk]], size, model.config.soft_masks).half()
                         for i in range(0, len(keep), chunk)]) if len(keep) else torch.zeros(0, 4, *size).half()
    log.debug("prior pool: %d/%d valid raw, %d after clean-up", valid_raw.sum(), n, len(keep))
    return PriorPool(z[keep], targets, float(valid_raw.mean()), float(valid.mean()))
