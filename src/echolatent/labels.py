"""Domain names: segmentation labels, apical views and cardiac instants.

Internal array convention used everywhere in echolatent:

* label and image arrays are ``(T, H, W)`` (a single frame is ``(1, H, W)``), with the apex at the top
  (row 0) and the mitral plane / atrium towards the bottom;
* pixel spacing is ``(sy, sx)`` in millimetres (row spacing, column spacing), taken from the file header;
  ``None`` when unknown.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from pathlib import Path

import numpy as np

from echolatent.errors import InputError


class Label(IntEnum):
    """Segmentation labels of CAMUS masks."""

    BG = 0
    LV = 1
    MYO = 2
    LA = 3

    @classmethod
    def foreground(cls) -> tuple[Label, ...]:
        """The three cardiac structures, in label order."""
        return (cls.LV, cls.MYO, cls.LA)


NUM_LABELS = len(Label)


class View(StrEnum):
    """Apical views."""

    A2C = "2CH"
    A4C = "4CH"


class Instant(StrEnum):
    """Cardiac instants."""

    ED = "ED"
    ES = "ES"

#: Castor's temporal deviation d(t) needs a frame before and after t: temporal checks and smoothing need at least
#: this many frames (shorter sequences, e.g. CAMUS ED/ES files, are measured frame by frame, never smoothed).
MIN_FRAMES = 3


def check_labels(
    masks: np.ndarray,
    source: str | Path | None = None,
    *,
    name: str = "",
    integer_dtype: bool = False,
    allow_2d: bool = True,
) -> np.ndarray:
    """The one mask validator: ``(T, H, W)`` labels (``(H, W)`` made ``(1, H, W)`` when ``allow_2d``) -> uint8.

    Any numeric dtype holding whole numbers 0..3 is taken (only integer dtypes with ``integer_dtype``).

    Raises:
        InputError: naming ``source`` (and ``name``): wrong shape, an empty axis, NaN/inf, fractions, a float dtype
        where ``integer_dtype``, labels outside 0..3.
    """
    arr = np.asarray(masks)
    where = f"{name}: " if name else ""
    if arr.ndim == 2 and allow_2d:
        arr = arr[None]
    if arr.ndim != 3:
        raise InputError(source, f"{where}expected labels (T, H, W), got an array of shape {arr.shape}")
    if min(arr.shape) == 0:
        raise InputError(source, f"{where}empty array of shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.uint8)
    if not np.issubdtype(arr.dtype, np.integer):
        if integer_dtype or not np.issubdtype(arr.dtype, np.floating):
            raise InputError(source, f"{where}expected integer labels, got dtype {arr.dtype}")
        if not np.isfinite(arr).all():
            raise InputError(source, f"{where}NaN or infinite labels")
        if not np.array_equal(arr, np.round(arr)):
            raise InputError(source, f"{where}non-integer labels (expected whole numbers 0..{NUM_LABELS - 1})")
    if arr.min() < 0 or arr.max() >= NUM_LABELS:
        bad = sorted({int(v) for v in np.unique(arr) if v < 0 or v >= NUM_LABELS})
        shown = ", ".join(str(v) for v in bad[:8])
        raise InputError(source, f"{where}labels {{{shown}}} outside 0..{NUM_LABELS - 1}")
    return arr.astype(np.uint8, copy=False)
