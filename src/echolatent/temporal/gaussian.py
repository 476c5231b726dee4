"""castor's baseline: a Gaussian filter of the one-hot masks along time, then argmax."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from echolatent.labels import NUM_LABELS, check_labels

#: Standard deviation of the temporal Gaussian, as a fraction of the number of frames.
SIGMA_FRACTION = 0.05


def gaussian_smooth(masks: np.ndarray, sigma_fraction: float = SIGMA_FRACTION) -> np.ndarray:
    """``(T, H, W)`` labels -> ``(T, H, W)`` uint8 labels filtered along time with sigma = fraction * T frames.

    Raises:
        InputError: not ``(T, H, W)`` or labels outside 0..3.
        ValueError: a non-positive ``sigma_fraction``.
    """
    masks = check_labels(masks, allow_2d=False)
    if sigma_fraction <= 0:
        raise ValueError(f"sigma_fraction must be positive, got {sigma_fraction}")
    # One label at a time with a running argmax: one (T, H, W) float32 stack in memory instead of four.
    sigma = sigma_fraction * masks.shape[0]
    best = np.full(masks.shape, -1.0, dtype=np.float32)
    out = np.zeros(masks.shape, dtype=np.uint8)
    for label in range(NUM_LABELS):
        score = gaussian_filter1d((masks == label).astype(np.float32), sigma=sigma, axis=0)
        higher = score > best  # strict: ties keep the lower label, as argmax does
        out[higher], best[higher] = label, score[higher]
    return out
