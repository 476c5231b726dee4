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

#: Gaussian sigma (pixels along the coarser axis, isotropic in mm) of the LV, MYO and outside fields whose product
#: marks their junction (basal points).
JUNCTION_SIGMA = 1.0
#: Radius (pixels) around the most basal corner pixel over which the junction's weighted centre is taken.
JUNCTION_RADIUS = 2.4
#: Levels (pixels towards the apex from a basal point) where the LV wall's sub-pixel edge is found.
WALL_LEVELS = (0.5, 1.0, 1.5, 2.0)
#: Half-length (pixels) of the search for that edge around the basal point.
WALL_SEARCH = 3.0


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

    The basal points are the ends of the LV/MYO frontier at the base. Corner pixels (LV touching MYO and the
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
            point = tuple(np.where(missing, b, p) for p, b in zip(point, backup, strict=True))
        point = _junction(point, triple, y, x, JUNCTION_RADIUS * pixel)
        origin = (float(y.flat[0]), float(x.flat[0]))
        points.append(np.stack(_wall_edge(point, smooth_lv, origin, frame, sign, spacing), axis=1))
    mid = (points[0] + points[1]) / 2.0
    base_along = frame.along(mid[:, 0, None, None], mid[:, 1, None, None])
    apical = boundary & (along > base_along)
    dist2 = np.where(apical, (y - mid[:, 0, None, None]) ** 2 + (x - mid[:, 1, None, None]) ** 2, -1.0)
    far = dist2.reshape(len(lv), -1).argmax(1)
    found = np.isfinite(mid[:, 0]) & apical.reshape(len(lv), -1).any(1)
    r, c = np.divmod(far, lv.shape[2])
    apex = np.where(found[:, None], np.stack([y.ravel()[r], x.ravel()[c]], axis=1), np.nan)
    return Landmarks(points[0], points[1], apex, frame)


def _most_basal(candidates, along, y, x, pixel) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) mm ``(T,)`` of the most basal candidate along the axis (ties: their mean); NaN where none."""
    T = len(candidates)
    score = np.where(candidates, along, np.inf)
    lowest = score.reshape(T, -1).min(1)
    near = candidates & (score <= lowest[:, None, None] + 1e-9 * pixel)
    n = near.sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (near * y).sum((1, 2)) / n, (near * x).sum((1, 2)) / n


def _wall_edge(point, smooth_lv, origin, frame: LVFrame, sign: float, spacing) -> tuple[np.ndarray, np.ndarray]:
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
        rows, cols = (ys - origin[0]) / sy, (xs - origin[1]) / sx
        coords = np.stack([t, np.nan_to_num(rows, nan=-1e3), np.nan_to_num(cols, nan=-1e3)])
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
