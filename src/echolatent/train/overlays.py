"""Screen overlays outside the ultrasound sector (grey-scale bar, text, ECG trace, depth marks), as real
scanners draw them, so the U-Net learns that nothing outside the fan is heart.

Images are ``(H, W)`` float in [0, 1]; the sector is the convex hull of the non-zero pixels. Overlays are
drawn only outside the sector and outside any labelled structure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from monai.transforms import MapTransform, Randomizable
from skimage.draw import line
from skimage.morphology import convex_hull_image


def sector_of(image: np.ndarray, level: float = 0.0) -> np.ndarray:
    """``(H, W)`` bool: the convex hull of the pixels above ``level`` (all False for a blank image)."""
    bright = image > level
    return convex_hull_image(bright) if bright.any() else bright


def _grey_bar(canvas: np.ndarray, rng: np.random.Generator) -> None:
    h, w = canvas.shape
    width, height = max(2, int(w * rng.uniform(0.02, 0.04))), int(h * rng.uniform(0.3, 0.6))
    top = int(rng.uniform(0.05, 0.35) * h)
    left = int(rng.uniform(0.0, 0.05) * w) if rng.random() < 0.5 else w - width - int(rng.uniform(0.0, 0.05) * w)
    ramp = np.linspace(1.0, 0.0, height)[:, None] if rng.random() < 0.5 else np.linspace(0.0, 1.0, height)[:, None]
    canvas[top : top + height, left : left + width] = ramp


def _text(canvas: np.ndarray, rng: np.random.Generator) -> None:
    h, w = canvas.shape
    glyph_h = max(3, int(h * rng.uniform(0.025, 0.045)))
    for _ in range(rng.integers(2, 6)):
        chars = rng.integers(3, 10)
        row = int(rng.choice([rng.uniform(0.0, 0.15), rng.uniform(0.8, 0.95)]) * h)
        col = int(rng.choice([rng.uniform(0.0, 0.1), rng.uniform(0.65, 0.8)]) * w)
        block = rng.random((glyph_h, chars * (glyph_h - 1))) < 0.45
        block[:, glyph_h - 2 :: glyph_h - 1] = False  # gaps between glyphs
        rows, cols = min(glyph_h, h - row), min(block.shape[1], w - col)
        region = canvas[row : row + rows, col : col + cols]
        region[block[:rows, :cols]] = rng.uniform(0.6, 1.0)


def _ecg(canvas: np.ndarray, rng: np.random.Generator) -> None:
    h, w = canvas.shape
    base = rng.uniform(0.86, 0.96) * h
    cols = np.arange(w)
    period = rng.uniform(0.25, 0.6) * w
    phase = (cols / period + rng.random()) % 1.0
    trace = base - 0.06 * h * np.exp(-(((phase - 0.3) / 0.015) ** 2)) + 0.01 * h * np.sin(2 * np.pi * phase)
    rows = np.clip(np.round(trace).astype(int), 0, h - 1)
    value = rng.uniform(0.5, 1.0)
    for c in range(w - 1):
        rr, cc = line(rows[c], c, rows[c + 1], c + 1)
        canvas[rr, cc] = value


def _depth_marks(canvas: np.ndarray, rng: np.random.Generator) -> None:
    h, w = canvas.shape
    col = int(rng.uniform(0.85, 0.97) * w)
    for row in np.arange(int(0.1 * h), int(0.9 * h), max(4, int(h * rng.uniform(0.06, 0.1)))):
        canvas[row : row + 2, col : col + 2] = rng.uniform(0.7, 1.0)


_DRAWERS = (_grey_bar, _text, _ecg, _depth_marks)


def draw_overlays(
    image: np.ndarray, rng: np.random.Generator, keep: np.ndarray | None = None, p_each: float = 0.6
) -> tuple[np.ndarray, np.ndarray]:
    """Draw each overlay kind with probability ``p_each`` outside the sector of ``image (H, W)``.

    ``keep (H, W)`` bool marks further pixels never drawn on (e.g. labelled structures).
    Returns the new image and the ``(H, W)`` bool mask of the pixels drawn.
    """
    canvas = np.full(image.shape, np.nan, dtype=np.float32)
    for drawer in _DRAWERS:
        if rng.random() < p_each:
            drawer(canvas, rng)
    allowed = ~sector_of(image)
    if keep is not None:
        allowed &= ~keep
    drawn = np.isfinite(canvas) & allowed
    out = np.array(image, dtype=np.float32, copy=True)
    out[drawn] = canvas[drawn]
    return out, drawn


class RandOverlayd(Randomizable, MapTransform):
    """With probability ``prob``, draw screen overlays outside the sector of ``data["image"] (1, S, S)``,
    never on a labelled pixel of ``data["label"]``; labels are unchanged (overlays are background)."""

    def __init__(self, keys: Sequence[str] = ("image",), label_key: str = "label", prob: float = 0.3):
        MapTransform.__init__(self, keys)
        self.label_key, self.prob = label_key, prob

    def __call__(self, data: dict) -> dict:
        if self.R.rand() >= self.prob:
            return data
        rng = np.random.default_rng(self.R.randint(0, 2**31 - 1))
        keep = np.asarray(data[self.label_key])[0] > 0
        out = dict(data)
        for key in self.keys:
            image = np.asarray(out[key], dtype=np.float32)
            out[key] = draw_overlays(image[0], rng, keep)[0][None]
        return out
