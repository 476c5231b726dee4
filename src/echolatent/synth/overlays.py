"""Screen overlays drawn around the ultrasound fan, as scanners show them: a grey-scale bar, depth marks, text, a
frame counter and a sweeping ECG trace.

Everything is drawn only at least ``margin`` pixels away from the fan, so a test can check that nothing outside the
fan reaches the output masks while the pixels inside stay as they were.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

# 3 x 5 glyphs (rows of 3 bits) for digits and a few letters: enough to look like a scanner's text
_GLYPHS = {
    "0": (7, 5, 5, 5, 7), "1": (2, 6, 2, 2, 7), "2": (7, 1, 7, 4, 7), "3": (7, 1, 3, 1, 7), "4": (5, 5, 7, 1, 1),
    "5": (7, 4, 7, 1, 7), "6": (7, 4, 7, 5, 7), "7": (7, 1, 1, 1, 1), "8": (7, 5, 7, 5, 7), "9": (7, 5, 7, 1, 7),
    "H": (5, 5, 7, 5, 5), "Z": (7, 1, 2, 4, 7), "B": (6, 5, 6, 5, 6), "P": (7, 5, 7, 4, 4), "M": (5, 7, 7, 5, 5),
    " ": (0, 0, 0, 0, 0), ".": (0, 0, 0, 0, 2), "c": (0, 7, 4, 4, 7), "m": (0, 7, 7, 5, 5),
}


def text_bitmap(text: str, scale: int = 1) -> np.ndarray:
    """``(5 s, 4 s n)`` bool bitmap of ``text`` (digits, a few capitals, ``c m . space``) at ``scale`` px per dot."""
    columns = []
    for char in text:
        rows = _GLYPHS.get(char, _GLYPHS[" "])
        glyph = np.array([[(row >> (2 - i)) & 1 for i in range(3)] + [0] for row in rows], bool)
        columns.append(glyph)
    bitmap = np.concatenate(columns, axis=1) if columns else np.zeros((5, 0), bool)
    return np.kron(bitmap, np.ones((scale, scale), bool)).astype(bool)


def _stamp(canvas: np.ndarray, bitmap: np.ndarray, top: int, left: int, value: int) -> None:
    h = max(0, min(bitmap.shape[0], canvas.shape[0] - top))
    w = max(0, min(bitmap.shape[1], canvas.shape[1] - left))
    region = canvas[top : top + h, left : left + w]
    region[bitmap[:h, :w]] = value


def _ecg(t: int, frames: int, width: int, height: int) -> np.ndarray:
    """``(height, width)`` bool: an ECG-like trace swept up to a cursor that moves with frame ``t``."""
    x = np.arange(width)
    beat = (x % max(8, width // 2)) / max(8, width // 2)
    trace = 0.1 * np.sin(2 * np.pi * beat) + 0.8 * np.exp(-(((beat - 0.3) / 0.03) ** 2)) - 0.25 * np.exp(
        -(((beat - 0.36) / 0.03) ** 2))
    rows = np.clip(np.round((0.75 - 0.6 * trace) * (height - 1)), 0, height - 1).astype(int)
    image = np.zeros((height, width), bool)
    cursor = int(round((t + 1) / frames * width))
    for col in range(min(cursor, width)):
        low, high = sorted((rows[col], rows[max(col - 1, 0)]))
        image[low : high + 1, col] = True
    return image


def draw_overlays(images: np.ndarray, sector: np.ndarray, margin: int = 3) -> np.ndarray:
    """``(T, H, W)`` uint8 frames + ``(H, W)`` bool fan -> a copy with screen overlays drawn outside the fan.

    Top left: a grey-scale bar; top right: text, a frame counter and a sweeping ECG trace; right edge: depth
    marks. Pixels within ``margin`` of the fan are never touched.
    """
    images = np.asarray(images)
    frames, height, width = images.shape
    allowed = ~ndimage.binary_dilation(sector, iterations=margin)
    scale = max(1, height // 96)
    out = images.copy()
    for t in range(frames):
        canvas = np.full((height, width), -1, np.int32)
        top, bottom = int(0.08 * height), int(0.45 * height)
        ramp = np.linspace(255, 0, bottom - top).astype(np.int32)[:, None]
        canvas[top:bottom, int(0.02 * width): max(int(0.06 * width), int(0.02 * width) + 2)] = ramp
        _stamp(canvas, text_bitmap("4.5 MHZ", scale), int(0.02 * height), int(0.64 * width), 230)
        _stamp(canvas, text_bitmap(f"{t + 1:03d}", scale), int(0.09 * height), int(0.80 * width), 200)
        ecg_top, ecg_left = int(0.16 * height), int(0.74 * width)
        ecg = _ecg(t, frames, width - ecg_left - 1, int(0.12 * height))
        canvas[ecg_top : ecg_top + ecg.shape[0], ecg_left : ecg_left + ecg.shape[1]][ecg] = 180
        for depth in np.linspace(0.30, 0.60, 4):
            row = int(depth * height)
            canvas[row : row + scale + 1, width - 2 * scale - 2 : width - 1] = 220
        drawn = (canvas >= 0) & allowed
        out[t][drawn] = canvas[drawn].astype(np.uint8)
    return out
