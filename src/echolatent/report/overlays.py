"""Label overlays on echo frames: RGB arrays, frame strips and animated GIFs.

Colours follow the usual CAMUS figures: LV red, MYO green, LA blue, blended over the grey image with
the structure outlines drawn fully opaque so thin errors stay visible.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from echolatent.files import atomic_path
from echolatent.labels import Label

COLOURS = {Label.LV: (230, 60, 60), Label.MYO: (60, 200, 90), Label.LA: (70, 130, 240)}


def overlay(image: np.ndarray | None, mask: np.ndarray, alpha: float = 0.35) -> np.ndarray:
    """Blend label ``mask`` (H, W) over grey ``image`` (H, W) (uint8 or None for black) -> (H, W, 3) uint8."""
    if image is None:
        image = np.zeros(mask.shape, np.uint8)
    if image.shape != mask.shape:
        raise ValueError(f"image {image.shape} and mask {mask.shape} differ in shape")
    rgb = np.repeat(np.asarray(image, np.float32)[..., None], 3, axis=2)
    for label, colour in COLOURS.items():
        region = mask == label
        if not region.any():
            continue
        colour_arr = np.asarray(colour, np.float32)
        rgb[region] = (1 - alpha) * rgb[region] + alpha * colour_arr
        outline = region & ~ndimage.binary_erosion(region)
        rgb[outline] = colour_arr
    return np.clip(rgb, 0, 255).astype(np.uint8)


def overlay_sequence(images: np.ndarray | None, masks: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` images and masks -> ``(T, H, W, 3)`` uint8 overlays."""
    frames = [overlay(None if images is None else images[t], masks[t]) for t in range(len(masks))]
    return np.stack(frames)


def save_gif(frames_rgb: np.ndarray, path: str | Path, fps: float = 10.0, max_size: int = 256) -> Path:
    """Write ``(T, H, W, 3)`` uint8 frames as a looping GIF (atomically), downscaled to ``max_size`` px."""
    path = Path(path)
    pictures = [_fit(Image.fromarray(frame), max_size) for frame in frames_rgb]
    # one palette for all frames (from the first): 4x faster than a palette per frame, and no colour flicker
    first = pictures[0].quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    rest = [picture.quantize(palette=first, dither=Image.Dither.NONE) for picture in pictures[1:]]
    with atomic_path(path, ".gif") as tmp:
        first.save(tmp, save_all=True, append_images=rest, duration=int(1000 / fps), loop=0)
    return path


def _fit(picture: Image.Image, max_size: int) -> Image.Image:
    scale = max_size / max(picture.size)
    if scale >= 1:
        return picture
    return picture.resize((round(picture.width * scale), round(picture.height * scale)), Image.Resampling.LANCZOS)


def pick_frames(n_frames: int, count: int = 6) -> list[int]:
    """``count`` evenly spaced frame indices from 0 to ``n_frames - 1`` (all frames when fewer)."""
    if n_frames <= count:
        return list(range(n_frames))
    return sorted({int(round(i)) for i in np.linspace(0, n_frames - 1, count)})
