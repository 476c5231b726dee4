"""Per-frame shape attributes of cardiac masks (castor's set plus the LA area), vectorised over frames.

All functions take label arrays ``(T, H, W)`` (apex at the top) and an optional spacing ``(sy, sx)`` in mm.
With a spacing, areas are in mm^2 and lengths/centres in mm; without one, in pixels. Angles are in degrees.

Attribute definitions (DESIGN.md section 5):

* ``lv_area``, ``myo_area``, ``la_area``: pixel count times pixel area (0 for an absent structure).
* ``lv_base_width``: distance between the two basal corners of the LV. Corner candidates are LV pixels with a
  MYO pixel and an outside pixel (neither LV nor MYO) in their 3x3 neighbourhood; they are split left/right of
  the LV's centre column and each side keeps its lowest pixel (ties: the most lateral one).
* ``lv_length``: distance from the middle of the base to the farthest LV boundary pixel above that middle.
* ``lv_orientation``: angle between the image's vertical axis (rows) and the LV's main inertia axis, in
  (-90, 90] degrees, with skimage's ``regionprops.orientation`` sign convention (positive when the axis runs
  down and to the right, i.e. rows and columns grow together), computed in physical coordinates.
* ``epi_center_x``, ``epi_center_y``: centre of mass of LV + MYO (column, row), from the image's top-left pixel.

Undefined values are NaN, never an exception: :func:`measure_attributes` also says why, frame by frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from echolatent.labels import Label, check_labels

log = logging.getLogger(__name__)

#: Frames measured at a time by :func:`measure_attributes` (bounds its float64 temporaries).
CHUNK = 64
ATTRIBUTES = (
    "lv_area",
    "lv_base_width",
    "lv_length",
    "lv_orientation",
    "myo_area",
    "epi_center_x",
    "epi_center_y",
    "la_area",
)


@dataclass
class AttributeResult:
    """Attribute curves and the reasons of their NaNs.

    Attributes:
        values: ``{name: (T,) float64}`` for every name of :data:`ATTRIBUTES`.
        reasons: ``{name: {frame: reason}}`` for every NaN value.
    """

    values: dict[str, np.ndarray]
    reasons: dict[str, dict[int, str]] = field(default_factory=dict)


def check_masks(masks: np.ndarray, name: str = "masks") -> np.ndarray:
    """Validate a label array ``(T, H, W)`` (or ``(H, W)``, made ``(1, H, W)``) and return it as uint8
    (:func:`echolatent.labels.check_labels`).

    Raises:
        InputError: wrong number of dimensions, an empty axis, non-integer or NaN values, labels outside 0..3.
    """
    return check_labels(masks, name=name)


def check_spacing(spacing: tuple[float, float] | None) -> tuple[float, float]:
    """``(sy, sx)`` mm as floats, ``(1, 1)`` when None. Raises ValueError on non-positive or non-finite values."""
    if spacing is None:
        return (1.0, 1.0)
    values = tuple(float(s) for s in spacing)
    if len(values) != 2 or not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"spacing must be two positive finite numbers (sy, sx) in mm, got {spacing!r}")
    return values  # type: ignore[return-value]


def compute_attributes(masks: np.ndarray, spacing: tuple[float, float] | None = None) -> dict[str, np.ndarray]:
    """``(T, H, W)`` uint8 labels -> ``{attribute: (T,) float64}`` (mm, mm^2, degrees; pixels without spacing).

    NaN where an attribute is undefined (absent LV, no basal corner...); never raises on a bad frame.
    See :func:`measure_attributes` for the reasons.
    """
    return measure_attributes(masks, spacing).values


def measure_attributes(masks: np.ndarray, spacing: tuple[float, float] | None = None) -> AttributeResult:
    """Like :func:`compute_attributes`, also returning why each NaN is NaN.

    Frames are measured :data:`CHUNK` at a time (the same values): the float64 ``(chunk, H, W)`` temporaries stay
    bounded for long sequences.

    Raises:
        InputError: the array itself is unusable (shape, labels); bad frames only give NaNs.
    """
    masks = check_masks(masks)
    check_spacing(spacing)
    if len(masks) <= CHUNK:
        return _measure_block(masks, spacing)
    parts = [_measure_block(masks[start:start + CHUNK], spacing) for start in range(0, len(masks), CHUNK)]
    values = {name: np.concatenate([part.values[name] for part in parts]) for name in ATTRIBUTES}
    reasons = {}
    for index, part in enumerate(parts):
        for name, why in part.reasons.items():
            reasons.setdefault(name, {}).update({t + index * CHUNK: text for t, text in why.items()})
    return AttributeResult(values, reasons)


def _measure_block(masks: np.ndarray, spacing: tuple[float, float] | None) -> AttributeResult:
    """:func:`measure_attributes` of checked ``(T, H, W)`` uint8 labels, all frames at once."""
    sy, sx = check_spacing(spacing)
    T, H, W = masks.shape
    lv, myo, la = (masks == Label.LV), (masks == Label.MYO), (masks == Label.LA)
    rows = np.arange(H, dtype=np.float64)[None, :, None]
    cols = np.arange(W, dtype=np.float64)[None, None, :]
    lv_count = lv.sum((1, 2)).astype(np.float64)
    values = {
        "lv_area": lv_count * sy * sx,
        "myo_area": myo.sum((1, 2)) * sy * sx,
        "la_area": la.sum((1, 2)) * sy * sx,
    }
    values["epi_center_x"], values["epi_center_y"] = _centre(lv | myo, rows, cols, sy, sx)
    values["lv_orientation"] = _orientation(lv, lv_count, rows, cols, sy, sx)
    width, length, reasons = _base_and_length(lv, myo, lv_count, rows, cols, sy, sx)
    values["lv_base_width"], values["lv_length"] = width, length
    values = {name: np.asarray(values[name], dtype=np.float64) for name in ATTRIBUTES}
    empty_epi = np.flatnonzero(~(lv | myo).any((1, 2)))
    reasons["epi_center_x"] = reasons["epi_center_y"] = {int(t): "no LV or MYO pixel" for t in empty_epi}
    reasons["lv_orientation"] = {int(t): "no LV pixel" for t in np.flatnonzero(lv_count == 0)}
    reasons = {name: why for name, why in reasons.items() if why}
    if reasons:
        log.debug("undefined attributes: %s", {name: len(why) for name, why in reasons.items()})
    return AttributeResult(values, reasons)


def _centre(region, rows, cols, sy, sx) -> tuple[np.ndarray, np.ndarray]:
    """Centre of mass (x, y) of a boolean ``(T, H, W)`` region, NaN where empty."""
    count = region.sum((1, 2)).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (region * cols).sum((1, 2)) / count * sx
        cy = (region * rows).sum((1, 2)) / count * sy
    return cx, cy


def _orientation(lv, count, rows, cols, sy, sx) -> np.ndarray:
    """Angle in degrees between the rows axis and the LV's main inertia axis (skimage convention)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        y = rows * sy
        x = cols * sx
        my = (lv * y).sum((1, 2)) / count
        mx = (lv * x).sum((1, 2)) / count
        var_y = (lv * y**2).sum((1, 2)) / count - my**2
        var_x = (lv * x**2).sum((1, 2)) / count - mx**2
        cov = (lv * (y * x)).sum((1, 2)) / count - my * mx
    angle = np.degrees(0.5 * np.arctan2(2 * cov, var_y - var_x))
    angle[count == 0] = np.nan
    return angle


def _base_and_length(lv, myo, lv_count, rows, cols, sy, sx):
    """Base width and LV length, ``(T,)`` each, with the reasons of their NaNs."""
    T, H, W = lv.shape
    outside = ~(lv | myo)
    near_myo = dilate3(myo)
    near_out = dilate3(outside)
    corners = lv & near_myo & near_out
    with np.errstate(invalid="ignore", divide="ignore"):
        centre_col = (lv * cols).sum((1, 2)) / lv_count
    left_side = cols < centre_col[:, None, None]
    left = _lowest(corners & left_side, rows, W - cols, W)
    right = _lowest(corners & ~left_side, rows, cols, W)
    has_base = (left[0] >= 0) & (right[0] >= 0)
    dy = (left[0] - right[0]) * sy
    dx = (left[1] - right[1]) * sx
    width = np.where(has_base, np.hypot(dy, dx), np.nan)
    mid_r = (left[0] + right[0]) / 2.0
    mid_c = (left[1] + right[1]) / 2.0
    boundary = lv & dilate3(~lv, border=True)
    above = boundary & (rows < mid_r[:, None, None])
    dist2 = ((rows - mid_r[:, None, None]) * sy) ** 2 + ((cols - mid_c[:, None, None]) * sx) ** 2
    far = np.where(above, dist2, -1.0).reshape(T, -1).max(1)
    length = np.where(has_base & (far >= 0), np.sqrt(np.maximum(far, 0)), np.nan)
    why_base = {}
    for t in np.flatnonzero(~has_base):
        no_corner = "no basal corner (LV touching MYO and outside) on both sides"
        why_base[int(t)] = "no LV pixel" if lv_count[t] == 0 else no_corner
    why_length = dict(why_base)
    for t in np.flatnonzero(has_base & (far < 0)):
        why_length[int(t)] = "no LV boundary above the base"
    return width, length, {"lv_base_width": why_base, "lv_length": why_length}


def dilate3(region: np.ndarray, border: bool = False) -> np.ndarray:
    """3x3 binary dilation of each frame of a boolean ``(T, H, W)`` array (separable shifted ORs).

    ``border``: the value assumed outside the image (True makes pixels on the image edge touch the outside).
    """
    padded = np.pad(region, ((0, 0), (1, 1), (1, 1)), constant_values=border)
    rows = padded[:, :-2] | padded[:, 1:-1] | padded[:, 2:]
    return rows[:, :, :-2] | rows[:, :, 1:-1] | rows[:, :, 2:]


def _lowest(candidates, rows, lateral, W) -> tuple[np.ndarray, np.ndarray]:
    """Row and column ``(T,)`` of the lowest candidate pixel (ties: largest ``lateral``); -1 when none."""
    T = candidates.shape[0]
    score = np.where(candidates, rows * (W + 1) + lateral, -1.0).reshape(T, -1)
    index = score.argmax(1)
    found = score[np.arange(T), index] >= 0
    r, c = np.divmod(index, W)
    return np.where(found, r, -1).astype(np.float64), np.where(found, c, -1).astype(np.float64)
