"""Prior-sample targets for training a shape model's decoder where the encoder never sends it.

Codes drawn from the prior N(0, I) land partly where no training mask was encoded: there the decoder was never
taught, and some of its masks break topology (a stray island of LA, a hole in the myocardium) or anatomy (an LV
that reaches the background, a myocardium too thin for its cavity). Each epoch, :func:`build_prior_pool` draws
codes and decodes them as the evaluation does (probabilities resampled to :data:`ATTRIBUTE_GRID`, argmax), then
looks for a valid mask to teach each code:

1. the decoded mask after the smoothing pipeline's clean-up (largest piece of each structure, holes filled);
2. when that is not valid, up to ``cycles`` times: encode the cleaned mask (``mu``), decode, clean. The encoder
   was only trained on real hearts, so it sends a broken mask to the code of a nearby real-looking one.

Codes with a valid mask are kept, that mask (back on the model's grid, or as labels at ``target_size`` for models
trained with ``loss_size``) is their target (weight ``prior_weight``); the rest are left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from echolatent.models.shape import ATTRIBUTE_GRID, ShapeModel

log = logging.getLogger(__name__)

#: Codes drawn per call unless told (the config's ``prior_pool_size``, per epoch).
POOL_SIZE = 512


@dataclass
class PriorPool:
    """Codes ``z (m, d)`` float32 and decoder targets, ``(m, 4, S, S)`` float16 on the model's grid or ``(m, L, L)``
    uint8 labels at a target size; validity rates of the draw (as decoded, after the clean-up, and the share kept
    with a target)."""

    z: torch.Tensor
    targets: torch.Tensor
    valid_raw: float
    valid_cleaned: float
    kept: float = 1.0

    def batch(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` random (code, target) pairs, drawn with replacement."""
        idx = torch.randint(len(self.z), (n,), generator=generator)
        return self.z[idx], self.targets[idx]


def build_prior_pool(model: ShapeModel, n: int = POOL_SIZE, seed: int = 0, cycles: int = 2,
                     target_size: int = 0) -> PriorPool:
    """Draw ``n`` prior codes, decode, clean, re-encode the invalid ones, keep the valid (module docstring).

    ``target_size`` > 0: targets are the valid labels resampled to that side (pixels), not one-hot on the model's
    grid (0).

    Decoding and encoding go through :mod:`echolatent.latent.codec`, as at inference (eval mode: batch-norm
    running statistics); the model is put back in the mode it was in. ``valid_raw`` / ``valid_cleaned``: the
    share of the draw valid as decoded / after the clean-up alone.
    """
    from echolatent.cleanup import clean_masks
    from echolatent.latent.codec import decode_latents, encode_masks
    from echolatent.measure.validity import check_validity
    from echolatent.resample import resize_labels
    from echolatent.train.mask_data import grid_inputs

    was_training = model.training
    model.eval()
    z = torch.randn(n, model.config.latent_dim, generator=torch.Generator().manual_seed(seed))
    grid = (ATTRIBUTE_GRID, ATTRIBUTE_GRID)
    raw = decode_latents(model, z.numpy(), grid)
    target = clean_masks(raw)
    valid_raw = check_validity(raw).valid
    valid = check_validity(target).valid
    valid_cleaned = float(valid.mean())
    for _ in range(cycles):
        redo = np.flatnonzero(~valid)
        if len(redo) == 0:
            break
        target[redo] = clean_masks(decode_latents(model, encode_masks(model, target[redo]), grid))
        valid[redo] = check_validity(target[redo]).valid
    model.train(was_training)
    keep = np.flatnonzero(valid)
    if target_size:
        targets = torch.from_numpy(resize_labels(target[keep], (target_size, target_size)))
    else:
        targets = grid_inputs(target[keep], (model.config.input_size,) * 2, model.config.soft_masks)
    log.debug("prior pool: %d/%d valid raw, %.3f cleaned, %d kept after %d cycles", valid_raw.sum(), n,
              valid_cleaned, len(keep), cycles)
    return PriorPool(z[keep], targets, float(valid_raw.mean()), valid_cleaned, len(keep) / n)
