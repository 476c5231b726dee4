"""Per-frame shape attributes of cardiac masks (castor's set plus the LA area), vectorised over frames.

All functions take label arrays ``(T, H, W)`` and an optional spacing ``(sy, sx)`` in mm.
With a spacing, areas are in mm^2 and lengths/centres in mm; without one, in pixels. Angles are in degrees.

Attribute definitions (DESIGN.md section 5):

Everything about the LV's shape is found in the LV's own frame (:func:`lv_frame`): its centre of mass, its main
inertia axis (computed in mm, so unequal pixel spacing ``sy != sx`` is handled) pointing away from the LV's opening
(the mitral side). Nothing depends on the image axes, so rotating a heart rotates ``lv_orientation`` by the same
angle and leaves the base width and length unchanged; resampling scales lengths linearly and areas by the square.

* ``lv_area``, ``myo_area``, ``la_area``: pixel count times pixel area (0 for an absent structure).
* ``lv_base_width``: distance between the two basal points, the ends of the LV/MYO frontier at the base. Corner
  pixels (LV touching MYO and the outside, i.e. neither LV nor MYO) are split by the long axis; on each side the
  most basal one along the axis is refined to sub-pixel precision (the junction of the smoothed LV, MYO and outside
  fields, then the LV's sub-pixel edge across the axis): :func:`lv_landmarks`.
* ``lv_length``: distance from the middle of the base to the apex, the farthest LV boundary pixel on the apex side
  of the base.
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
from scipy.ndimage import gaussian_filter, map_coordinates

from echolatent.errors import InputError
from echolatent.labels import NUM_LABELS, Label

log = logging.getLogger(__name__)

#: Frames measured at a time by :func:`measure_attributes` (bounds its float64 temporaries).
CHUNK = 64
#: Gaussian sigma (pixels along the coarser axis, isotropic in mm) of the LV, MYO and outside fields whose product marks their junction (basal points).
JUNCTION_SIGMA = 1.0
#: Radius (pixels) around the most basal corner pixel over which the junction's weighted centre is taken.
JUNCTION_RADIUS = 2.4
#: Levels (pixels towards the apex from a basal point) where the LV wall's sub-pixel edge is found.
WALL_LEVELS = (0.5, 1.0, 1.5, 2.0)
#: Half-length (pixels) of the search for that edge around the basal point.
WALL_SEARCH = 3.0
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
    """Validate a label array ``(T, H, W)`` (or ``(H, W)``, made ``(1, H, W)``) and return it as uint8.

    Raises:
        InputError: wrong number of dimensions, an empty axis, non-integer or NaN values, labels outside 0..3.
    """
    arr = np.asarray(masks)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise InputError(None, f"{name}: expected (T, H, W) labels, got shape {arr.shape}")
    if min(arr.shape) == 0:
        raise InputError(None, f"{name}: empty array of shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        if not np.isfinite(arr).all():
            raise InputError(None, f"{name}: NaN or infinite labels")
        if not np.array_equal(arr, np.round(arr)):
            raise InputError(None, f"{name}: labels must be integers, got dtype {arr.dtype} with fractions")
    lo, hi = arr.min(), arr.max()
    if lo < 0 or hi >= NUM_LABELS:
        bad = sorted({int(v) for v in np.unique(arr) if v < 0 or v >= NUM_LABELS})
        raise InputError(None, f"{name}: unknown labels {bad} (expected 0..{NUM_LABELS - 1})")
    return arr.astype(np.uint8, copy=False)


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
    y = np.arange(H, dtype=np.float64)[None, :, None] * sy
    x = np.arange(W, dtype=np.float64)[None, None, :] * sx
    lv_count = lv.sum((1, 2)).astype(np.float64)
    values = {
        "lv_area": lv_count * sy * sx,
        "myo_area": myo.sum((1, 2)) * sy * sx,
        "la_area": la.sum((1, 2)) * sy * sx,
    }
    values["epi_center_x"], values["epi_center_y"] = _centre(lv | myo, y, x)
    frame = lv_frame(lv, myo, lv_count, y, x)
    values["lv_orientation"] = frame.orientation
    width, length, reasons = _base_and_length(lv, myo, frame, y, x, (sy, sx))
    values["lv_base_width"], values["lv_length"] = width, length
    values = {name: np.asarray(values[name], dtype=np.float64) for name in ATTRIBUTES}
    empty_epi = np.flatnonzero(~(lv | myo).any((1, 2)))
    reasons["epi_center_x"] = reasons["epi_center_y"] = {int(t): "no LV or MYO pixel" for t in empty_epi}
    reasons["lv_orientation"] = {int(t): "no LV pixel" for t in np.flatnonzero(lv_count == 0)}
    reasons = {name: why for name, why in reasons.items() if why}
    if reasons:
        log.debug("undefined attributes: %s", {name: len(why) for name, why in reasons.items()})
    return AttributeResult(values, reasons)


def _centre(region, y, x) -> tuple[np.ndarray, np.ndarray]:
    """Centre of mass (x, y) in mm of a boolean ``(T, H, W)`` region, NaN where empty."""
    count = region.sum((1, 2)).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (region * x).sum((1, 2)) / count
        cy = (region * y).sum((1, 2)) / count
    return cx, cy


@dataclass
class LVFrame:
    """The LV's own frame, per frame ``(T,)`` arrays in mm (NaN without an LV pixel).

    Attributes:
        cy, cx: LV centre of mass (row, column) in mm.
        ay, ax: unit vector of the main inertia axis pointing from the base to the apex (row, column).
        orientation: angle of the main inertia axis from the rows axis in (-90, 90] degrees (skimage sign).
    """

    cy: np.ndarray
    cx: np.ndarray
    ay: np.ndarray
    ax: np.ndarray
    orientation: np.ndarray

    def along(self, y, x) -> np.ndarray:
        """Coordinate (mm) towards the apex of points ``y, x`` (broadcast against ``(T, 1, 1)``)."""
        return (y - self.cy[:, None, None]) * self.ay[:, None, None] + (x - self.cx[:, None, None]) * self.ax[:, None, None]

    def across(self, y, x) -> np.ndarray:
        """Signed coordinate (mm) across the long axis of points ``y, x`` (positive on the apex's left)."""
        return (x - self.cx[:, None, None]) * self.ay[:, None, None] - (y - self.cy[:, None, None]) * self.ax[:, None, None]


def lv_frame(lv, myo, count, y, x) -> LVFrame:
    """The LV's centre, long axis and orientation of boolean ``(T, H, W)`` LV/MYO masks (coordinates in mm).

    The axis points to the apex: away from the LV's opening (LV pixels touching neither LV nor MYO, i.e. the
    mitral side), or towards the image's top when the LV has no opening.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        cy, cx = (lv * y).sum((1, 2)) / count, (lv * x).sum((1, 2)) / count
        var_y = (lv * y**2).sum((1, 2)) / count - cy**2
        var_x = (lv * x**2).sum((1, 2)) / count - cx**2
        cov = (lv * (y * x)).sum((1, 2)) / count - cy * cx
    theta = 0.5 * np.arctan2(2 * cov, var_y - var_x)
    theta[count == 0] = np.nan
    ay, ax = np.cos(theta), np.sin(theta)
    opening = lv & dilate3(~(lv | myo), border=True)
    n_open = opening.sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        open_along = (opening * ((y - cy[:, None, None]) * ay[:, None, None] + (x - cx[:, None, None]) * ax[:, None, None]))
        open_along = open_along.sum((1, 2)) / n_open
    flip = np.where(n_open > 0, open_along > 0, ay > 0)
    sign = np.where(flip, -1.0, 1.0)
    return LVFrame(cy, cx, ay * sign, ax * sign, np.degrees(theta))


@dataclass
class Landmarks:
    """Basal points and apex of the LV, per frame, in mm (row, column); NaN where not measured.

    Attributes:
        left, right: ``(T, 2)`` basal points on either side of the long axis (``left``: negative ``across``).
        apex: ``(T, 2)`` the LV boundary pixel farthest from the base's midpoint on the apex side of the base.
        frame: the LV's own frame (:class:`LVFrame`).
    """

    left: np.ndarray
    right: np.ndarray
    apex: np.ndarray
    frame: LVFrame


def lv_landmarks(masks: np.ndarray, spacing: tuple[float, float] | None = None) -> Landmarks:
    """``(T, H, W)`` labels -> the LV's :class:`Landmarks` in mm (pixels without spacing)."""
    masks = check_masks(masks)
    sy, sx = check_spacing(spacing)
    y = np.arange(masks.shape[1], dtype=np.float64)[None, :, None] * sy
    x = np.arange(masks.shape[2], dtype=np.float64)[None, None, :] * sx
    lv, myo = masks == Label.LV, masks == Label.MYO
    frame = lv_frame(lv, myo, lv.sum((1, 2)).astype(np.float64), y, x)
    return _landmarks(lv, myo, frame, y, x, (sy, sx))


def _landmarks(lv, myo, frame: LVFrame, y, x, spacing) -> Landmarks:
    """The basal points: the ends of the LV/MYO frontier at the base. Corner pixels (LV touching MYO and the
    outside, neither LV nor MYO) are split by the long axis; on each side the most basal one along the axis
    (else the most basal LV pixel touching MYO) is refined to the weighted centre of the LV-MYO-outside junction
    around it, then moved across the axis onto the LV's sub-pixel edge (:func:`_wall_edge`). The apex is the LV
    boundary pixel farthest from the base's midpoint on the apex side of the base."""
    pixel = max(spacing)
    boundary = lv & dilate3(~lv, border=True)
    near_myo = dilate3(myo)
    corners = boundary & near_myo & dilate3(~(lv | myo), border=True)
    along, across = frame.along(y, x), frame.across(y, x)
    sigma = (0, JUNCTION_SIGMA * pixel / spacing[0], JUNCTION_SIGMA * pixel / spacing[1])  # isotropic in mm
    smooth_lv, smooth_myo, smooth_out = (
        gaussian_filter(region.astype(np.float64), sigma, mode="nearest") for region in (lv, myo, ~(lv | myo))
    )
    triple = smooth_lv * smooth_myo * smooth_out
    points = []
    for sign, side in ((-1.0, across < 0), (1.0, across >= 0)):
        point = _most_basal(corners & side, along, y, x, pixel)
        missing = ~np.isfinite(point[0])
        if missing.any():
            backup = _most_basal(boundary & near_myo & side, along, y, x, pixel)
            point = tuple(np.where(missing, b, p) for p, b in zip(point, backup))
        point = _junction(point, triple, y, x, JUNCTION_RADIUS * pixel)
        points.append(np.stack(_wall_edge(point, smooth_lv, frame, sign, spacing), axis=1))
    mid = (points[0] + points[1]) / 2.0
    base_along = frame.along(mid[:, 0, None, None], mid[:, 1, None, None])
    apical = boundary & (along > base_along)
    dist2 = np.where(apical, (y - mid[:, 0, None, None]) ** 2 + (x - mid[:, 1, None, None]) ** 2, -1.0)
    far = dist2.reshape(len(lv), -1).argmax(1)
    found = np.isfinite(mid[:, 0]) & apical.reshape(len(lv), -1).any(1)
    r, c = np.divmod(far, lv.shape[2])
    apex = np.where(found[:, None], np.stack([r * spacing[0], c * spacing[1]], axis=1), np.nan)
    return Landmarks(points[0], points[1], apex, frame)


def _base_and_length(lv, myo, frame: LVFrame, y, x, spacing):
    """Base width and LV length ``(T,)`` in mm (:func:`_landmarks`), with the reasons of their NaNs."""
    marks = _landmarks(lv, myo, frame, y, x, spacing)
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
    return width, length, {"lv_base_width": why_base, "lv_length": why_length}


def _most_basal(candidates, along, y, x, pixel) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) mm ``(T,)`` of the most basal candidate along the axis (ties: their mean); NaN where none."""
    T = len(candidates)
    score = np.where(candidates, along, np.inf)
    lowest = score.reshape(T, -1).min(1)
    near = candidates & (score <= lowest[:, None, None] + 1e-9 * pixel)
    n = near.sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (near * y).sum((1, 2)) / n, (near * x).sum((1, 2)) / n


def _wall_edge(point, smooth_lv, frame: LVFrame, sign: float, spacing) -> tuple[np.ndarray, np.ndarray]:
    """``point`` ((T,) y, (T,) x mm) moved across the long axis onto the LV's sub-pixel edge (``smooth_lv`` = 0.5)
    just apical of it: the mean crossing on lines across the axis WALL_LEVELS pixels above the point, searched
    from WALL_SEARCH pixels outside the point inwards (unmoved where no line crosses)."""
    sy, sx = spacing
    pixel = max(sy, sx)
    pa = frame.along(point[0][:, None, None], point[1][:, None, None])[:, 0, 0]
    pc = frame.across(point[0][:, None, None], point[1][:, None, None])[:, 0, 0]
    steps = np.arange(0.0, 2 * WALL_SEARCH + 1e-9, 0.25) * pixel  # inwards from pc + sign * WALL_SEARCH px
    cross = sign * (WALL_SEARCH * pixel - steps)[None, :] + pc[:, None]
    found = []
    for level in WALL_LEVELS:
        al = (pa + level * pixel)[:, None]
        ys = frame.cy[:, None] + al * frame.ay[:, None] - cross * frame.ax[:, None]
        xs = frame.cx[:, None] + al * frame.ax[:, None] + cross * frame.ay[:, None]
        t = np.broadcast_to(np.arange(len(pa))[:, None], ys.shape)
        coords = np.stack([t, np.nan_to_num(ys / sy, nan=-1e3), np.nan_to_num(xs / sx, nan=-1e3)])
        v = map_coordinates(smooth_lv, coords.reshape(3, -1), order=1, cval=0.0).reshape(ys.shape)
        inside = v >= 0.5
        first = inside.argmax(1)
        ok = inside.any(1) & (first > 0)
        i = np.maximum(first, 1)
        rows = np.arange(len(pa))
        v0, v1 = v[rows, i - 1], v[rows, i]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = (0.5 - v0) / (v1 - v0)
        edge = cross[rows, i - 1] + frac * (cross[rows, i] - cross[rows, i - 1])
        found.append(np.where(ok, edge, np.nan))
    found = np.stack(found)
    hits = np.isfinite(found).sum(0)
    level = np.where(hits > 0, np.nansum(found, 0) / np.maximum(hits, 1), pc)
    return frame.cy + pa * frame.ay - level * frame.ax, frame.cx + pa * frame.ax + level * frame.ay


def _junction(point, weight, y, x, radius) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel refinement of ``point`` ((T,) y, (T,) x mm): the ``weight``-weighted centre of the pixels within
    ``radius`` mm of it (``point`` itself where they weigh nothing)."""
    py, px = point
    close = (y - py[:, None, None]) ** 2 + (x - px[:, None, None]) ** 2 <= radius**2
    w = np.where(close, weight, 0.0)
    total = w.sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        wy, wx = (w * y).sum((1, 2)) / total, (w * x).sum((1, 2)) / total
    keep = total > 0
    return np.where(keep, wy, py), np.where(keep, wx, px)


def dilate3(region: np.ndarray, border: bool = False) -> np.ndarray:
    """3x3 binary dilation of each frame of a boolean ``(T, H, W)`` array (separable shifted ORs).

    ``border``: the value assumed outside the image (True makes pixels on the image edge touch the outside).
    """
    padded = np.pad(region, ((0, 0), (1, 1), (1, 1)), constant_values=border)
    rows = padded[:, :-2] | padded[:, 1:-1] | padded[:, 2:]
    return rows[:, :, :-2] | rows[:, :, 1:-1] | rows[:, :, 2:]
