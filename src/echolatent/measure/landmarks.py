"""The LV's own frame and its landmarks (basal points, apex), vectorised over frames ``(T, H, W)``.

Inputs are boolean LV and MYO masks ``(T, H, W)`` with their row/column coordinates in mm (``y (1, H, 1)``,
``x (1, 1, W)``, possibly of a crop of the image) and the pixel spacing ``(sy, sx)`` in mm; every output is in mm.
Nothing here depends on the image axes: the frame is the LV's centre of mass and main inertia axis, pointing away
from the LV's opening (the mitral side). :mod:`echolatent.measure.attributes` checks inputs and measures with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter, map_coordinates
from skimage.measure import find_contours

#: Gaussian sigma (pixels along the coarser axis, isotropic in mm) of the LV indicator whose 0.5 level is the LV's
#: sub-pixel contour (small: a larger one cuts the basal corners, narrowing the base).
CONTOUR_SIGMA = 0.7
#: Gaussian sigma of the MYO and outside (neither LV nor MYO) indicators, as a fraction of the square root of the LV's
#: area (so the definition scales with the heart), at least :data:`SIDE_SIGMA_MIN` pixels: each contour point borders
#: whichever is larger there, and the basal points are where they cross. Wide, so that where a thin LV corner ends
#: does not hang on single pixels (measured on camus224 rotated and resampled: benchmarks/bench_attributes.py).
SIDE_SIGMA = 0.05
SIDE_SIGMA_MIN = 2.0


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
        cy, cx, ay, ax = (v[:, None, None] for v in (self.cy, self.cx, self.ay, self.ax))
        return (y - cy) * ay + (x - cx) * ax

    def across(self, y, x) -> np.ndarray:
        """Signed coordinate (mm) across the long axis of points ``y, x`` (positive on the apex's left)."""
        cy, cx, ay, ax = (v[:, None, None] for v in (self.cy, self.cx, self.ay, self.ax))
        return (x - cx) * ay - (y - cy) * ax


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
    cov = np.where(np.abs(cov) <= 1e-12 * (var_y + var_x), 0.0, cov)  # a symmetric LV: no sign from rounding
    theta = 0.5 * np.arctan2(2 * cov, var_y - var_x)
    theta[count == 0] = np.nan
    ay, ax = np.cos(theta), np.sin(theta)
    opening = lv & dilate3(~(lv | myo), border=True)
    n_open = opening.sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        open_along = (opening * LVFrame(cy, cx, ay, ax, theta).along(y, x)).sum((1, 2)) / n_open
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


def find_landmarks(lv, myo, frame: LVFrame, y, x, spacing) -> Landmarks:
    """Boolean LV/MYO ``(T, H, W)`` with their mm coordinates ``y (1, H, 1)``, ``x (1, 1, W)`` -> :class:`Landmarks`.

    Everything is found on the LV's sub-pixel contour (:func:`lv_contour`), each point of which borders MYO or the
    outside (neither LV nor MYO). The LV's opening is the longest stretch of contour along the outside; its two ends
    (the junctions, interpolated where the MYO and outside fields cross) are the basal points, ``left`` the one with
    the smaller ``across`` coordinate. An LV with no opening (MYO all around) has its basal corners: on each side of
    the long axis, the contour point farthest across the axis and towards the base (largest ``|across| - along``).
    The apex is the contour point farthest from the base's midpoint on the apex side of the base."""
    sy, sx = spacing
    pixel = max(spacing)
    smooth_lv = gaussian_filter(lv.astype(np.float64), (0, CONTOUR_SIGMA * pixel / sy, CONTOUR_SIGMA * pixel / sx))
    origin = np.array([float(y.flat[0]), float(x.flat[0])])
    marks = np.full((3, len(lv), 2), np.nan)  # left, right, apex
    for t in np.flatnonzero(lv.any((1, 2)) & myo.any((1, 2))):
        contour = lv_contour(smooth_lv[t])
        if len(contour) < 3:
            continue
        side = _side(lv[t], myo[t], contour, spacing)
        points = origin + contour * np.array([sy, sx])
        axis, centre = np.array([frame.ay[t], frame.ax[t]]), np.array([frame.cy[t], frame.cx[t]])
        marks[:2, t] = _basal_points(points - centre, side, axis) + centre
        marks[2, t] = _apex(points, marks[0, t], marks[1, t], axis, pixel)
    return Landmarks(marks[0], marks[1], marks[2], frame)


def _side(lv, myo, contour, spacing) -> np.ndarray:
    """``(N,)`` smoothed MYO minus smoothed outside indicator (sigma :data:`SIDE_SIGMA`) at the ``contour (N, 2)``
    pixels of boolean ``(H, W)`` LV and MYO masks: > 0 where the contour borders MYO. Where that finds MYO nowhere
    (a MYO a pixel or two thick around a tiny LV), the indicators are smoothed by :data:`CONTOUR_SIGMA` only."""
    sy, sx = spacing
    difference = myo.astype(np.float64) - ~(lv | myo)
    wide = max(SIDE_SIGMA * np.sqrt(lv.sum() * sy * sx), SIDE_SIGMA_MIN * max(sy, sx))  # mm
    for sigma in (wide, CONTOUR_SIGMA * max(sy, sx)):
        side = map_coordinates(gaussian_filter(difference, (sigma / sy, sigma / sx), mode="nearest"), contour.T,
                               order=1)
        if (side > 0).any():
            break
    return side


def lv_contour(smooth_lv: np.ndarray) -> np.ndarray:
    """``(H, W)`` smoothed LV indicator -> ``(N, 2)`` (row, col) pixels of its longest 0.5 contour (closed, the last
    point not repeating the first; empty when there is none)."""
    contours = find_contours(np.pad(smooth_lv, 1), 0.5)
    if not contours:
        return np.zeros((0, 2))
    contour = max(contours, key=len) - 1.0
    return contour[:-1] if len(contour) > 1 and np.allclose(contour[0], contour[-1]) else contour


def _basal_points(points, side, axis) -> np.ndarray:
    """``(2, 2)`` left and right basal points (mm) of a contour ``points (N, 2)`` (relative to the LV's centre) whose
    ``side`` is > 0 along MYO and <= 0 along the outside; ``axis`` ``(2,)`` the unit long axis (row, col) towards the
    apex."""
    across_unit = np.array([-axis[1], axis[0]])
    along, across = points @ axis, points @ across_unit
    on_myo = side > 0
    if not on_myo.any():  # MYO nowhere beside the LV
        return np.full((2, 2), np.nan)
    if on_myo.all():  # no opening: on each side of the axis, the basal corner (largest |across| - along)
        out = np.full((2, 2), np.nan)
        for k, half in enumerate((across < 0, across >= 0)):
            if half.any():
                out[k] = points[np.flatnonzero(half)[np.argmax(np.abs(across[half]) - along[half])]]
        return out
    n = len(points)
    starts = np.flatnonzero(~on_myo & np.roll(on_myo, 1))  # first outside point of each outside stretch
    steps = np.hypot(*(np.roll(points, -1, axis=0) - points).T)
    best, ends = -1.0, None
    for first in starts:
        last = first
        while not on_myo[(last + 1) % n]:
            last += 1
        length = steps[np.arange(first, last) % n].sum()
        if length > best:
            best, ends = length, (first, last % n)
    return np.array(sorted((_junction(points, side, last, step) for last, step in ((ends[0], -1), (ends[1], 1))),
                           key=lambda point: point @ across_unit))


def _junction(points, side, last, step) -> np.ndarray:
    """``(2,)`` point between the opening's end ``last`` (its last outside point) and its neighbour ``step`` (+-1)
    on the MYO, where ``side`` (linear between them) crosses 0."""
    outer = (last + step) % len(points)
    frac = side[last] / (side[last] - side[outer])
    return points[last] + frac * (points[outer] - points[last])


def _apex(points, left, right, axis, pixel) -> np.ndarray:
    """The contour point farthest from the middle of ``left`` and ``right`` on the apex side of the base, points on
    the line through it across the axis included, to rounding (NaN when the base is not measured or no point lies
    there)."""
    mid = (left + right) / 2.0
    if not np.isfinite(mid).all():
        return np.full(2, np.nan)
    apical = (points - mid) @ axis > -1e-9 * pixel
    if not apical.any():
        return np.full(2, np.nan)
    dist = np.hypot(*(points[apical] - mid).T)
    return points[np.flatnonzero(apical)[np.argmax(dist)]]


def dilate3(region: np.ndarray, border: bool = False) -> np.ndarray:
    """3x3 binary dilation of each frame of a boolean ``(T, H, W)`` array (separable shifted ORs).

    ``border``: the value assumed outside the image (True makes pixels on the image edge touch the outside).
    """
    padded = np.pad(region, ((0, 0), (1, 1), (1, 1)), constant_values=border)
    rows = padded[:, :-2] | padded[:, 1:-1] | padded[:, 2:]
    return rows[:, :, :-2] | rows[:, :, 1:-1] | rows[:, :, 2:]
