"""Morphological clean-up of decoded masks: one connected piece per structure, no holes.

Per frame: keep the largest 8-connected component of LV, MYO and LA (the rest becomes background); give
background pixels enclosed by the heart (LV + MYO + LA) the label of the nearest structure; fill the holes of
LV and of LA with that structure.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from echolatent.labels import Label

_EIGHT = np.ones((3, 3), dtype=bool)


def largest_component(region: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool -> the largest 8-connected component (empty stays empty)."""
    labels, count = ndimage.label(region, structure=_EIGHT)
    if count <= 1:
        return region.copy()
    sizes = np.bincount(labels.ravel())[1:]
    return labels == (int(sizes.argmax()) + 1)


def clean_frame(frame: np.ndarray) -> np.ndarray:
    """``(H, W)`` labels -> ``(H, W)`` uint8 labels, cleaned as the module docstring says."""
    out = np.zeros_like(frame, dtype=np.uint8)
    for label in Label.foreground():
        out[largest_component(frame == label)] = label
    heart = out > 0
    enclosed = ndimage.binary_fill_holes(heart) & ~heart
    if enclosed.any():
        _, (rows, cols) = ndimage.distance_transform_edt(~heart, return_indices=True)
        out[enclosed] = out[rows[enclosed], cols[enclosed]]
    for label in (Label.LV, Label.LA):
        region = out == label
        out[ndimage.binary_fill_holes(region) & ~region] = label
    return out


def clean_masks(masks: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` labels -> ``(T, H, W)`` uint8 cleaned labels (input untouched)."""
    return np.stack([clean_frame(frame) for frame in np.asarray(masks)])
