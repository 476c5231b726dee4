"""Per-frame shape attributes of cardiac masks (castor's set plus the LA area), vectorised over frames.

All functions take label arrays ``(T, H, W)`` and an optional spacing ``(sy, sx)`` in mm.
With a spacing, areas are in mm^2 and lengths/centres in mm; without one, in pixels. Angles are in degrees.

Attribute definitions (DESIGN.md section 5):

Everything about the LV's shape is found in the LV's own frame (:func:`lv_frame`): its centre of mass, its main
inertia axis (computed in mm, so unequal pixel spacing ``sy != sx`` is handled) pointing away from the LV's opening
(the mitral side). Nothing depends on the image axes, so rotating a heart rotates ``lv_orientation`` by the same
angle and leaves the base width and length unchanged; resampling scales lengths linearly and areas by the square.

* ``lv_area``, ``myo_area``, ``la_area``: pixel count times pixel area (0 for an absent structure).
* ``lv_base_width``: distance between the two basal points, the ends of the LV/MYO frontier at the base, found on
  the LV's sub-pixel contour: the LV's opening is the longest stretch of contour along the outside (neither LV nor
  MYO, i.e. LA or background), and its two ends, where the smoothed MYO and outside fields cross, are the basal
  points (:func:`lv_landmarks`; an LV with MYO all around has the most basal contour point on each side of the
  long axis). No pixel corner and no image axis is involved.
* ``lv_length``: distance from the middle of the base to the apex, the point of the LV's sub-pixel contour farthest
  from it on the apex side of the base.
* ``lv_orientation``: angle between the image's vertical axis (rows) and the LV's main inertia axis, in
  (-90, 90] degrees, with skimage's ``regionprops.orientation`` sign convention (positive when the axis runs
  down and to the right, i.e. rows and columns grow together; a heart rotated counter-clockwise on screen gains
  the angle), computed in physical coordinates.
* ``epi_center_x``, ``epi_center_y``: centre of mass of LV + MYO (column, row), from the image's top-left pixel.

Undefined values are NaN, never an exception: :func:`measure_attributes` also says why, frame by frame ("not
measured" is a result: e.g. "no MYO beside the LV").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from echolatent.labels import Label, check_labels
from echolatent.measure.landmarks import Landmarks, LVFrame, dilate3, find_landmarks, lv_frame

log = logging.getLogger(__name__)

#: Frames measured at a time by :func:`measure_attributes` (bounds its float64 temporaries).
CHUNK = 64
#: Margin (pixels along the coarser axis) kept around the heart when frames are cropped for measuring: more than
#: the reach (4 sigma) of the landmarks' Gaussians (:mod:`echolatent.measure.landmarks`).
CROP_MARGIN = 16
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
        landmarks: the LV's frame and landmarks the base width and length were measured from (as
            :func:`lv_landmarks` gives them; None when not kept).
    """

    values: dict[str, np.ndarray]
    reasons: dict[str, dict[int, str]] = field(default_factory=dict)
    landmarks: Landmarks | None = None


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


def not_measured_notes(reasons: dict[str, dict[int, str]]) -> dict[str, str]:
    """``{attribute: {frame: reason}}`` -> ``{attribute: "not measured on N frames: reason"}`` (the most frequent
    reason first, others with their counts), for the attributes with at least one unmeasured frame."""
    notes = {}
    for name, why in reasons.items():
        if not why:
            continue
        tally: dict[str, int] = {}
        for text in why.values():
            tally[text] = tally.get(text, 0) + 1
        ranked = sorted(tally.items(), key=lambda item: -item[1])
        detail = ranked[0][0] if len(ranked) == 1 else "; ".join(f"{text} ({n})" for text, n in ranked)
        frames = "frame" if len(why) == 1 else "frames"
        notes[name] = f"not measured on {len(why)} {frames}: {detail}"
    return notes


def compute_attributes(masks: np.ndarray, spacing: tuple[float, float] | None = None) -> dict[str, np.ndarray]:
    """``(T, H, W)`` uint8 labels -> ``{attribute: (T,) float64}`` (mm, mm^2, degrees; pixels without spacing).

    NaN where an attribute is not measured (no LV, no MYO beside the LV...); never raises on a bad frame.
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
    return AttributeResult(values, reasons, _joined([part.landmarks for part in parts]))


def _measure_block(masks: np.ndarray, spacing: tuple[float, float] | None) -> AttributeResult:
    """:func:`measure_attributes` of checked ``(T, H, W)`` uint8 labels, all frames at once."""
    sy, sx = check_spacing(spacing)
    lv, myo, y, x = _heart_view(masks, (sy, sx))
    lv_count = lv.sum((1, 2)).astype(np.float64)
    values = {
        "lv_area": lv_count * sy * sx,
        "myo_area": myo.sum((1, 2)) * sy * sx,
        "la_area": (masks == Label.LA).sum((1, 2)) * sy * sx,
    }
    values["epi_center_x"], values["epi_center_y"] = _centre(lv | myo, y, x)
    frame = lv_frame(lv, myo, lv_count, y, x)
    values["lv_orientation"] = frame.orientation
    width, length, reasons, marks = _base_and_length(lv, myo, frame, y, x, (sy, sx))
    values["lv_base_width"], values["lv_length"] = width, length
    values = {name: np.asarray(values[name], dtype=np.float64) for name in ATTRIBUTES}
    empty_epi = np.flatnonzero(~(lv | myo).any((1, 2)))
    reasons["epi_center_x"] = reasons["epi_center_y"] = {int(t): "no LV or MYO pixel" for t in empty_epi}
    reasons["lv_orientation"] = {int(t): "no LV pixel" for t in np.flatnonzero(lv_count == 0)}
    reasons = {name: why for name, why in reasons.items() if why}
    if reasons:
        log.debug("undefined attributes: %s", {name: len(why) for name, why in reasons.items()})
    return AttributeResult(values, reasons, marks)


def _heart_view(masks: np.ndarray, spacing: tuple[float, float]):
    """LV and MYO ``(T, h, w)`` booleans cropped to the box around every frame's LV and MYO (plus a margin that
    keeps every measurement the same as on the whole image), and the crop's row/column coordinates in mm,
    ``y (1, h, 1)`` and ``x (1, 1, w)``."""
    sy, sx = spacing
    lv, myo = masks == Label.LV, masks == Label.MYO
    heart = lv | myo
    rows, cols = np.flatnonzero(heart.any((0, 2))), np.flatnonzero(heart.any((0, 1)))
    window = []
    for found, size, step in ((rows, masks.shape[1], sy), (cols, masks.shape[2], sx)):
        margin = int(np.ceil(CROP_MARGIN * max(spacing) / step))
        lo, hi = (found[0], found[-1] + 1) if found.size else (0, size)
        window.append(slice(max(lo - margin, 0), min(hi + margin, size)))
    y = np.arange(window[0].start, window[0].stop, dtype=np.float64)[None, :, None] * sy
    x = np.arange(window[1].start, window[1].stop, dtype=np.float64)[None, None, :] * sx
    return lv[:, window[0], window[1]], myo[:, window[0], window[1]], y, x


def _centre(region, y, x) -> tuple[np.ndarray, np.ndarray]:
    """Centre of mass (x, y) in mm of a boolean ``(T, H, W)`` region, NaN where empty."""
    count = region.sum((1, 2)).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (region * x).sum((1, 2)) / count
        cy = (region * y).sum((1, 2)) / count
    return cx, cy


def lv_landmarks(masks: np.ndarray, spacing: tuple[float, float] | None = None) -> Landmarks:
    """``(T, H, W)`` labels -> the LV's :class:`Landmarks` in mm (pixels without spacing)."""
    masks = check_masks(masks)
    sy, sx = check_spacing(spacing)
    parts = []
    for start in range(0, len(masks), CHUNK):
        lv, myo, y, x = _heart_view(masks[start:start + CHUNK], (sy, sx))
        frame = lv_frame(lv, myo, lv.sum((1, 2)).astype(np.float64), y, x)
        parts.append(find_landmarks(lv, myo, frame, y, x, (sy, sx)))
    return _joined(parts)


def _joined(parts: list[Landmarks]) -> Landmarks:
    """The landmarks of successive blocks of frames as one :class:`Landmarks` of all their frames."""
    if len(parts) == 1:
        return parts[0]
    axes = ("cy", "cx", "ay", "ax", "orientation")
    frame = LVFrame(**{name: np.concatenate([getattr(p.frame, name) for p in parts]) for name in axes})
    return Landmarks(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("left", "right", "apex")), frame)


def _base_and_length(lv, myo, frame: LVFrame, y, x, spacing):
    """Base width and LV length ``(T,)`` in mm, with the reasons of their NaNs and the landmarks they were measured
    from (:func:`find_landmarks`)."""
    marks = find_landmarks(lv, myo, frame, y, x, spacing)
    width = np.hypot(*(marks.left - marks.right).T)
    length = np.hypot(*(marks.apex - (marks.left + marks.right) / 2.0).T)
    count = lv.sum((1, 2))
    touches_myo = (lv & dilate3(myo)).any((1, 2))
    why_base = {}
    for t in np.flatnonzero(~np.isfinite(width)):
        why = "no LV/MYO frontier on both sides of the LV's long axis"
        why_base[int(t)] = "no LV pixel" if count[t] == 0 else ("no MYO beside the LV" if not touches_myo[t] else why)
    why_length = dict(why_base)
    for t in np.flatnonzero(np.isfinite(width) & ~np.isfinite(length)):
        why_length[int(t)] = "no LV boundary on the apex side of the base"
    return width, length, {"lv_base_width": why_base, "lv_length": why_length}, marks
