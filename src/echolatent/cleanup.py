"""Morphological clean-up of decoded masks: one connected piece per structure, no holes.

Per frame: keep the largest 8-connected component of LV, MYO and LA (the rest becomes background); give
background pixels enclosed by the heart (LV + MYO + LA) the label of the nearest structure; fill the holes of
LV and of LA with that structure.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from echolatent.arrays import pad_border
from echolatent.labels import Label

_EIGHT = np.ones((3, 3), dtype=bool)


def _box(region: np.ndarray) -> tuple[slice, slice] | None:
    """Bounding box of a ``(H, W)`` bool region as slices (None when empty)."""
    rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
    if not len(rows):
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def largest_component(region: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool -> the largest 8-connected component (empty stays empty); labels the bounding box only."""
    box = _box(region)
    if box is None:
        return region.copy()
    labels, count = ndimage.label(region[box], structure=_EIGHT)
    if count <= 1:
        return region.copy()
    out = np.zeros_like(region)
    out[box] = labels == (int(np.bincount(labels.ravel())[1:].argmax()) + 1)
    return out


def fill_holes(region: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool -> ``region`` with its holes filled, as ``scipy.ndimage.binary_fill_holes`` (background
    4-connected to the image border stays out), by one labelling pass over the bounding box (every background
    pixel outside it reaches the border) instead of iterated dilations."""
    box = _box(region)
    if box is None:
        return region.copy()
    outside, _ = ndimage.label(pad_border(~region[box], True))
    out = region.copy()
    out[box] |= outside[1:-1, 1:-1] != outside[0, 0]
    return out


def clean_frame(frame: np.ndarray) -> np.ndarray:
    """``(H, W)`` labels -> ``(H, W)`` uint8 labels, cleaned as the module docstring says."""
    out = np.zeros_like(frame, dtype=np.uint8)
    for label in Label.foreground():
        out[largest_component(frame == label)] = label
    heart = out > 0
    enclosed = fill_holes(heart) & ~heart
    if enclosed.any():  # the nearest structure pixel lies in the heart's bounding box: transform that box only
        box = _box(heart)
        _, (rows, cols) = ndimage.distance_transform_edt(~heart[box], return_indices=True)
        inside, crop = enclosed[box], out[box]
        crop[inside] = crop[rows[inside], cols[inside]]
    for label in (Label.LV, Label.LA):
        region = out == label
        out[fill_holes(region) & ~region] = label
    return out


def clean_masks(masks: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` labels -> ``(T, H, W)`` uint8 cleaned labels (input untouched)."""
    return np.stack([clean_frame(frame) for frame in np.asarray(masks)])
