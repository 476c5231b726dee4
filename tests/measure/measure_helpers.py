"""Drawn shapes with known geometry for the measure tests (apex at the top, rows down)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import affine_transform

from echolatent.labels import NUM_LABELS, Label


def ellipse(shape, centre, semi_axes, angle=0.0, spacing=(1.0, 1.0)) -> np.ndarray:
    """Boolean ``(H, W)`` filled ellipse; ``semi_axes`` (along the major direction, across it) in mm.

    The first semi-axis points along ``(cos angle, sin angle)`` in (row, col) mm: a positive angle tilts it
    down-right (rows and columns grow together).
    """
    sy, sx = spacing
    rows, cols = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    dy, dx = rows * sy - centre[0], cols * sx - centre[1]
    t = np.radians(angle)
    along = dy * np.cos(t) + dx * np.sin(t)
    across = -dy * np.sin(t) + dx * np.cos(t)
    return (along / semi_axes[0]) ** 2 + (across / semi_axes[1]) ** 2 <= 1.0


def heart_frame(size=128, length=50, half_width=20, wall=6, la_height=22, base_row=None) -> np.ndarray:
    """``(H, W)`` uint8 labels: LV half-ellipse (apex up, flat base on ``base_row``), a MYO band ``wall`` px thick
    around it, and a half-ellipse LA below the base, as wide as the LV base. Passes every validity criterion."""
    base_row = base_row if base_row is not None else int(size * 0.62)
    centre = (base_row, size // 2)
    rows = np.arange(size)[:, None]
    above = np.broadcast_to(rows <= base_row, (size, size))
    lv = ellipse((size, size), centre, (length, half_width)) & above
    epi = ellipse((size, size), centre, (length + wall, half_width + wall)) & above
    frame = np.zeros((size, size), np.uint8)
    frame[epi] = Label.MYO
    frame[lv] = Label.LV
    cols = np.flatnonzero(lv[base_row])
    la = ellipse((size, size), (base_row + 0.5, size // 2), (la_height, (cols[-1] - cols[0]) / 2 + 0.5))
    la &= rows > base_row
    la &= (np.arange(size)[None, :] >= cols[0]) & (np.arange(size)[None, :] <= cols[-1])
    frame[la] = Label.LA
    return frame


def transform_labels(masks: np.ndarray, angle: float, scale: float, margin: float = 1.2, supersample: int = 2,
                     shift: float = 0.25):
    """``(N, H, W)`` labels rotated by ``angle`` degrees (counter-clockwise on screen) about the image centre and
    resampled by ``scale``, on a square canvas ``margin`` times the scaled size: each label's one-hot is warped
    bilinearly onto a grid ``supersample`` times finer, area-averaged onto the canvas, then argmax.

    ``shift`` (input pixels, both axes) moves the canvas off the input grid: aligned (0), the unrotated case samples
    exactly between input pixels, every boundary pixel is a tie, and argmax gives it to the lowest label (the LV
    grew by 2 % in area and the MYO lost 4 % on camus224 at 1x and 0.5x, while rotated masks kept every area within
    0.2 %). Shifted, every angle keeps the areas."""
    n, h, w = masks.shape
    side = int(round(max(h, w) * scale * margin))
    k = supersample
    scale, fine = scale * k, side * k
    t = np.radians(angle)
    forward = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) * scale
    matrix = np.linalg.inv(forward)
    centre_in = np.array([(h - 1) / 2, (w - 1) / 2])
    centre_out = np.array([(fine - 1) / 2, (fine - 1) / 2])
    offset = centre_in + shift - matrix @ centre_out
    out = np.empty((n, side, side), np.uint8)
    for i, mask in enumerate(masks):
        probs = [affine_transform((mask == c).astype(np.float32), matrix, offset, (fine, fine), order=1)
                 for c in range(NUM_LABELS)]
        out[i] = np.argmax(np.reshape(probs, (NUM_LABELS, side, k, side, k)).mean((2, 4)), axis=0)
    return out
