"""Global longitudinal strain (GLS) of the LV from label masks ``(T, H, W)``.

The endocardial length L(t) is the length of the LV's sub-pixel contour (scikit-image ``find_contours`` at level 0.5
on the LV indicator smoothed by a Gaussian of :data:`CONTOUR_SIGMA` pixels, isotropic in mm) from one basal point
to the other through the apex (basal points and apex of :func:`echolatent.measure.attributes.lv_landmarks`), in
mm when the pixel spacing ``(sy, sx)`` is known (unequal spacing is handled: the contour is scaled to mm before
its length is taken), else in pixels. The strain curve is ``100 (L(t) - L(ED)) / L(ED)`` in %; GLS is its value
at ES, and the peak is its most negative value (DESIGN.md section 9). Frames where L cannot be measured are NaN
with a reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.measure import find_contours

from echolatent.labels import Label
from echolatent.measure.attributes import check_masks, check_spacing, lv_landmarks
from echolatent.measure.landmarks import Landmarks

log = logging.getLogger(__name__)

#: Gaussian sigma (in pixels along the coarser axis; isotropic in mm) applied to the LV indicator before its contour
#: is traced (a staircase-free border).
CONTOUR_SIGMA = 1.0


@dataclass
class StrainResult:
    """Endocardial length and strain of one sequence.

    Attributes:
        length: ``(T,)`` endocardial length in mm (pixels without spacing), NaN where not measured.
        strain: ``(T,)`` ``100 (L(t) - L(ED)) / L(ED)`` in %, NaN where not measured.
        ed, es: the reference (ED) frame and the ES frame (indices).
        gls_es: strain at ES in % (NaN when not measured there).
        gls_peak: most negative strain of the sequence in % (NaN when no frame is measured).
        reasons: ``{frame: reason}`` for every NaN of ``strain``.
    """

    length: np.ndarray
    strain: np.ndarray
    ed: int
    es: int
    gls_es: float
    gls_peak: float
    reasons: dict[int, str] = field(default_factory=dict)


def endocardial_length(
    masks: np.ndarray, spacing: tuple[float, float] | None = None, landmarks: Landmarks | None = None
) -> tuple[np.ndarray, dict[int, str]]:
    """``(T, H, W)`` labels -> ``(T,)`` endocardial length (mm, or pixels without spacing) and ``{frame: reason}``
    for the frames where it is not measured (NaN). ``landmarks``: :func:`lv_landmarks` of these masks at this
    spacing when already known (``measure_attributes(...).landmarks``)."""
    masks = check_masks(masks)
    sy, sx = check_spacing(spacing)
    marks = lv_landmarks(masks, (sy, sx)) if landmarks is None else landmarks
    if len(marks.left) != len(masks):
        raise ValueError(f"landmarks of {len(marks.left)} frames for {len(masks)} frames")
    lv = masks == Label.LV
    sigma = CONTOUR_SIGMA * max(sy, sx)  # isotropic in mm
    window, offset = _lv_window(lv, (sigma / sy, sigma / sx))
    smooth = gaussian_filter(lv[(slice(None), *window)].astype(np.float64), (0, sigma / sy, sigma / sx))
    lengths = np.full(len(masks), np.nan)
    reasons: dict[int, str] = {}
    for t in range(len(masks)):
        if not lv[t].any():
            reasons[t] = "no LV pixel"
        elif not (np.isfinite(marks.left[t]).all() and np.isfinite(marks.right[t]).all()):
            reasons[t] = "no basal points (no LV/MYO frontier on both sides of the long axis)"
        elif not np.isfinite(marks.apex[t]).all():
            reasons[t] = "no apex (no LV boundary on the apex side of the base)"
        else:
            contour = (_lv_contour(smooth[t]) + offset) * np.array([sy, sx])
            lengths[t] = arc_length(contour, marks.left[t], marks.right[t], marks.apex[t])
            if not np.isfinite(lengths[t]):
                reasons[t] = "no closed LV contour"
    if reasons:
        log.debug("endocardial length not measured on %d of %d frames", len(reasons), len(masks))
    return lengths, reasons


def _lv_window(lv: np.ndarray, sigmas: tuple[float, float]) -> tuple[tuple[slice, slice], np.ndarray]:
    """The box of a boolean ``(T, H, W)`` LV over every frame, widened by the reach of a Gaussian of ``sigmas``
    (pixels, rows and columns) plus one pixel and clipped to the image, as slices and its ``(2,)`` (row, col) offset.

    Inside it the smoothed indicator is the whole image's (the filter reads zeros beyond it either way: the
    reflected border of the box holds no LV pixel), outside it is 0, so the 0.5 contour lies inside it."""
    window = []
    for axis, sigma in zip((1, 2), sigmas, strict=True):
        found = np.flatnonzero(lv.any(axis=tuple(a for a in (0, 1, 2) if a != axis)))
        size = lv.shape[axis]
        reach = int(4.0 * sigma + 0.5) + 1  # scipy's radius at truncate 4, and a pixel more
        lo, hi = (found[0], found[-1] + 1) if found.size else (0, size)
        window.append(slice(max(lo - reach, 0), min(hi + reach, size)))
    return tuple(window), np.array([window[0].start, window[1].start], dtype=np.float64)


def _lv_contour(smooth: np.ndarray) -> np.ndarray:
    """``(H, W)`` smoothed LV indicator -> ``(N, 2)`` (row, col) pixels of its longest closed 0.5 contour."""
    contours = find_contours(np.pad(smooth, 1), 0.5)
    if not contours:
        return np.zeros((0, 2))
    return max(contours, key=len) - 1.0


def arc_length(contour: np.ndarray, first: np.ndarray, second: np.ndarray, through: np.ndarray) -> float:
    """Length of the closed polyline ``contour (N, 2)`` between the points of it nearest to ``first`` and ``second``
    (``(2,)`` each, same units; anywhere on its segments, not only at its vertices), along the side that passes
    nearest to ``through``; NaN for fewer than 3 points."""
    if len(contour) < 3:
        return float("nan")
    if np.allclose(contour[0], contour[-1]):
        contour = contour[:-1]
    ends = np.vstack([contour[1:], contour[:1]])
    steps = np.hypot(*(ends - contour).T)
    position = np.concatenate([[0.0], np.cumsum(steps)[:-1]])  # arc position of each vertex
    a, b, k = (_arc_position(contour, ends, steps, position, p) for p in (first, second, through))
    a, b = min(a, b), max(a, b)
    inner = b - a
    return float(inner if a <= k <= b else steps.sum() - inner)


def _arc_position(starts, ends, steps, position, point) -> float:
    """Arc position (from the first vertex) of the point of the closed polyline (segments ``starts`` -> ``ends``)
    nearest to ``point``."""
    direction = ends - starts
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip(((point - starts) * direction).sum(1) / (steps**2), 0.0, 1.0)
    frac = np.nan_to_num(frac)
    nearest = starts + frac[:, None] * direction
    i = int(np.argmin(((nearest - point) ** 2).sum(1)))
    return float(position[i] + frac[i] * steps[i])


def strain_curve(length: np.ndarray, ed: int = 0) -> np.ndarray:
    """``(T,)`` endocardial length -> ``(T,)`` strain ``100 (L(t) - L(ed)) / L(ed)`` in % (NaN where L is NaN)."""
    length = np.asarray(length, dtype=np.float64)
    if not 0 <= ed < len(length):
        raise ValueError(f"ed must index the {len(length)} frames, got {ed}")
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * (length - length[ed]) / length[ed]


def global_longitudinal_strain(
    masks: np.ndarray, spacing: tuple[float, float] | None = None, ed: int = 0, es: int | None = None,
    landmarks: Landmarks | None = None,
) -> StrainResult:
    """``(T, H, W)`` labels of one sequence -> :class:`StrainResult`.

    ``ed``: the reference frame (default the first, as in CAMUS half sequences); ``es``: the ES frame (default
    the frame of the smallest LV area).

    Raises:
        InputError: unusable masks; ValueError: ``ed`` or ``es`` outside the frames.
    """
    masks = check_masks(masks)
    if es is None:
        es = int(np.argmin((masks == Label.LV).sum((1, 2))))
    if not 0 <= es < len(masks):
        raise ValueError(f"es must index the {len(masks)} frames, got {es}")
    length, reasons = endocardial_length(masks, spacing, landmarks)
    strain = strain_curve(length, ed)
    if not np.isfinite(length[ed]):
        why = f"not measured at ED (frame {ed}): {reasons.get(ed, 'no length')}"
        reasons = {t: reasons.get(t, why) for t in range(len(masks))}
    finite = strain[np.isfinite(strain)]
    peak = float(finite.min()) if finite.size else float("nan")
    return StrainResult(length, strain, ed, es, float(strain[es]), peak, reasons)
