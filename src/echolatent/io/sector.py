"""The ultrasound fan of a recording: the pixels that change over time, fitted by a cone (two straight edges from
the apex and an arc), as a ``(H, W)`` bool mask.

Screens carry a grey-scale bar, depth marks, text and an ECG trace around the fan. They are still (bar, text) or thin
(ECG line, frame counter), so: pixels whose temporal standard deviation exceeds ``min_std`` grey levels (a single
frame: pixels above 0), closed and opened at about 1 % of the image size, the largest connected piece with its holes
filled; its left and right boundaries over the upper part give two lines (robust fit) that meet at the apex; the arc
radius follows the farthest pixel per angle (a running median over a few degrees), so an arc stretched by a
resampling or clipped by the image is kept whole; an inner radius (the nearest pixels) serves fans that start
below the apex. The mask is the cone between the two edges and the radii, within the changing piece. When no cone
fits the piece (a linear probe, edges clipped by the image) the piece's convex hull is used; :attr:`Sector.method`
says which.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage
from skimage.morphology import convex_hull_image, disk

log = logging.getLogger(__name__)

MIN_IOU = 0.9  # the fitted cone must cover the changing piece this well, else the convex hull is used


@dataclass(frozen=True)
class Sector:
    """A detected fan.

    Attributes:
        mask: ``(H, W)`` bool, True inside the fan.
        method: "cone" (two edges and an arc), "convex hull", or "whole image" (nothing found).
        apex: ``(y, x)`` pixel coordinates of the apex (may lie above the image), None unless a cone.
        radius: ``(inner, outer)`` radii in pixels from the apex (outer: the median over the fan), None unless a cone.
        angles: ``(left, right)`` edge angles in degrees from the downward vertical, None unless a cone.
        agreement: IoU between the mask and the changing piece it was fitted to (1.0 for "whole image").
    """

    mask: np.ndarray
    method: str
    apex: tuple[float, float] | None = None
    radius: tuple[float, float] | None = None
    angles: tuple[float, float] | None = None
    agreement: float = 1.0

    def describe(self) -> str:
        """One line for reports: method, coverage, and the cone's apex, angle and depth."""
        text = f"{self.method}, {100 * self.mask.mean():.1f} % of the image"
        if self.apex is not None and self.angles is not None and self.radius is not None:
            opening = self.angles[1] - self.angles[0]
            text += (f", apex ({self.apex[0]:.1f}, {self.apex[1]:.1f}) px, opening {opening:.1f} deg, "
                     f"radius {self.radius[1]:.1f} px")
        return text


def changing_pixels(frames: np.ndarray, min_std: float = 1.0) -> np.ndarray:
    """``(T, H, W)`` -> ``(H, W)`` bool: temporal std above ``min_std`` (one frame: intensity above 0)."""
    frames = np.asarray(frames)
    if frames.ndim != 3 or min(frames.shape) == 0:
        raise ValueError(f"expected frames (T, H, W), got shape {frames.shape}")
    if frames.shape[0] < 2:
        return frames[0] > 0
    return frames.std(axis=0, dtype=np.float64) > min_std


def main_piece(changing: np.ndarray) -> np.ndarray:
    """The largest connected piece of ``changing``, holes filled: found after a closing and an opening (~1 % of the
    size, which cut thin lines and small marks off), then given back the corners the opening rounded."""
    size = max(1, round(0.01 * max(changing.shape)))
    pad = 3 * size + 2
    closed = ndimage.binary_closing(np.pad(changing, pad), structure=disk(size))[pad:-pad, pad:-pad]
    opened = ndimage.binary_opening(closed, structure=disk(size + 1))
    labels, count = ndimage.label(opened)
    if count == 0:
        return np.zeros_like(changing, dtype=bool)
    sizes = np.bincount(labels.ravel())[1:]
    largest = labels == 1 + int(np.argmax(sizes))
    return ndimage.binary_fill_holes(closed & ndimage.binary_dilation(largest, structure=disk(2 * size + 2)))


def _robust_line(y: np.ndarray, x: np.ndarray) -> tuple[float, float] | None:
    """``x = a + b y`` fitted by least squares with outliers (beyond 3 median deviations, >= 1 px) dropped."""
    keep = np.ones(len(y), bool)
    for _ in range(4):
        if keep.sum() < 5:
            return None
        b, a = np.polyfit(y[keep], x[keep], 1)
        residual = np.abs(x - (a + b * y))
        keep = residual <= max(1.0, 3.0 * float(np.median(residual[keep])))
    return float(a), float(b)


def _edges(piece: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Left and right edge lines ``x = a + b y`` from the upper 60 % of the piece's rows (not on the image border)."""
    rows = np.flatnonzero(piece.any(axis=1))
    top, bottom = rows[0], rows[-1]
    rows = rows[rows <= top + 0.6 * (bottom - top)]
    left = np.array([np.flatnonzero(piece[r])[0] for r in rows], float)
    right = np.array([np.flatnonzero(piece[r])[-1] for r in rows], float)
    width = piece.shape[1]
    lines = []
    for xs in (left, right):
        inside = (left > 0) & (right < width - 1)
        fit = _robust_line(rows[inside].astype(float), xs[inside]) if inside.sum() >= 5 else None
        if fit is None:
            return None
        lines.append(fit)
    return lines[0], lines[1]


def _cone(piece: np.ndarray) -> Sector | None:
    """Fit two edges and an arc to ``piece``; None when the edges do not meet above a usable apex."""
    edges = _edges(piece)
    if edges is None:
        return None
    (a1, b1), (a2, b2) = edges
    if b2 - b1 < 0.05:  # parallel or crossing edges: no fan
        return None
    apex_y = (a1 - a2) / (b2 - b1)
    apex_x = a1 + b1 * apex_y
    rows = np.flatnonzero(piece.any(axis=1))
    if apex_y > rows[0] + 0.25 * (rows[-1] - rows[0]):
        return None
    yy, xx = np.mgrid[: piece.shape[0], : piece.shape[1]].astype(np.float64)
    r = np.hypot(yy - apex_y, xx - apex_x)
    theta = np.degrees(np.arctan2(xx - apex_x, yy - apex_y))
    left, right = np.degrees(np.arctan(b1)), np.degrees(np.arctan(b2))
    inner, outer = _radii(piece, r, theta, left, right)
    # half a pixel of tolerance on the edges (their lines pass through the outermost pixel centres)
    tolerance = np.degrees(0.5 / np.maximum(r, 1.0))
    mask = (r >= inner - 0.5) & (r <= outer + 0.5) & (theta >= left - tolerance) & (theta <= right + tolerance)
    iou = float((mask & piece).sum() / max(1, (mask | piece).sum()))
    depth = float(np.median(outer[mask])) if mask.any() else 0.0
    return Sector(mask, "cone", (float(apex_y), float(apex_x)), (inner, depth), (left, right), iou)


def _radii(piece: np.ndarray, r: np.ndarray, theta: np.ndarray, left: float, right: float) -> tuple[float, np.ndarray]:
    """``(inner radius, outer radius per pixel (H, W))``: the arc is the farthest piece pixel per angle (bins of about
    half a degree, a running median over 9 bins against bumps), so an arc stretched into an ellipse (frames resampled
    to another aspect ratio) or clipped by the image is followed; the inner radius is the piece's 0.1 % nearest pixel,
    0 below a tenth of the depth."""
    n_bins = int(np.clip((right - left) / 0.5, 24, 360))
    edges = np.linspace(left, right, n_bins + 1)
    index = np.clip(np.digitize(theta[piece], edges) - 1, 0, n_bins - 1)
    radii = r[piece]
    far = np.full(n_bins, -np.inf)
    np.maximum.at(far, index, radii)
    seen = np.isfinite(far)
    centres = 0.5 * (edges[:-1] + edges[1:])
    far = np.interp(centres, centres[seen], far[seen])
    far = ndimage.median_filter(far, size=9, mode="nearest")
    inner = float(np.percentile(radii, 0.1))
    outer = np.interp(theta, centres, far)
    return (inner if inner > 0.1 * float(far.max()) else 0.0), outer


def detect_sector(frames: np.ndarray, min_std: float = 1.0) -> Sector:
    """``(T, H, W)`` frames -> the ultrasound fan (see the module docstring).

    Raises:
        ValueError: not a ``(T, H, W)`` array.
    """
    changing = changing_pixels(frames, min_std)
    piece = main_piece(changing)
    if piece.sum() < 0.01 * piece.size:
        log.info("no changing region found (%d px): the whole image is kept", int(piece.sum()))
        return Sector(np.ones(piece.shape, bool), "whole image")
    cone = _cone(piece)
    if cone is not None and cone.agreement >= MIN_IOU:
        return replace(cone, mask=cone.mask & piece)  # the cone's half-pixel edge tolerance stays within the piece
    hull = convex_hull_image(piece)
    iou = float((hull & piece).sum() / max(1, (hull | piece).sum()))
    log.info("no cone fits the changing region (%s): its convex hull is used",
             "no edges" if cone is None else f"IoU {cone.agreement:.2f}")
    return Sector(hull, "convex hull", agreement=iou)


SECTOR_MODES = ("auto", "cut", "off")


def screen_content(frames: np.ndarray, sector: np.ndarray, min_fraction: float = 0.002) -> bool:
    """True when ``(T, H, W)`` frames show something outside ``sector`` (text, a grey bar, an ECG trace...): more
    than ``min_fraction`` of the image (at least 20 pixels) is non-zero in some frame away from the fan (beyond a
    band of 1.5 % of the image size, at least 2 px, where a fitted edge may miss the fan's last pixels)."""
    band = max(2, round(0.015 * max(sector.shape)))
    outside = ~ndimage.binary_dilation(sector, iterations=band)
    shown = int((np.asarray(frames)[:, outside] > 0).any(axis=0).sum())
    return shown > max(20, min_fraction * sector.size)


def cut_masks(mode: str, frames: np.ndarray, sector: np.ndarray) -> bool:
    """Whether frames and output masks are cut to the fan: ``"cut"`` always, ``"off"`` never, ``"auto"`` when the
    frames show screen content outside it (:func:`screen_content`). Where the screen is blank outside the fan (CAMUS)
    nothing is cut: the masks stay as the experts draw them, their myocardium reaching past the fan edge (6 % of
    camus224's MYO pixels)."""
    if mode not in SECTOR_MODES:
        raise ValueError(f"sector mode must be one of {SECTOR_MODES}, got {mode!r}")
    return mode == "cut" or (mode == "auto" and screen_content(frames, sector))


def apply_sector(frames_or_masks: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` (or ``(H, W)``) array with every pixel outside ``sector`` ``(H, W)`` set to 0 (a copy)."""
    array = np.asarray(frames_or_masks)
    if array.shape[-2:] != sector.shape:
        raise ValueError(f"sector {sector.shape} does not match the frames' {array.shape[-2:]}")
    return np.where(sector, array, 0).astype(array.dtype, copy=False)


def outline_sector(frames: np.ndarray, sector: np.ndarray, value: int = 255) -> np.ndarray:
    """A copy of ``(T, H, W)`` frames with the border of ``sector`` ``(H, W)`` drawn at ``value`` (for figures)."""
    border = sector & ~ndimage.binary_erosion(sector, border_value=0)
    out = np.array(frames, copy=True)
    out[:, border] = value
    return out
