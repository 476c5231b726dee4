"""Helpers for the io tests: tiny CAMUS-layout cases with a CAMUS-like header."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from echolatent.io.volume import Geometry, write_like

# A CAMUS-like header: anisotropic spacing, non-zero origin, the x/y-flipped direction of the real files.
SPACING = (0.31, 0.17)


def odd_geometry(shape: tuple[int, int, int]) -> Geometry:
    """Geometry of ``shape`` (T, H, W) with anisotropic spacing, an origin and a flipped direction."""
    t, h, w = shape
    if t == 1:
        return Geometry((w, h), (SPACING[1], SPACING[0]), (4.5, -2.25), (-1.0, 0.0, 0.0, -1.0))
    direction = (-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0)
    return Geometry((w, h, t), (SPACING[1], SPACING[0], 1.0), (4.5, -2.25, 0.0), direction)


def heart_mask(frames: int, height: int = 24, width: int = 20) -> np.ndarray:
    """``(T, H, W)`` uint8: LV above LA, MYO around the LV, all three in every frame; LV shrinks with t."""
    mask = np.zeros((frames, height, width), np.uint8)
    for t in range(frames):
        bottom = height // 2 + 2 - t % 3
        mask[t, 2:bottom, 4 : width - 4] = 2
        mask[t, 4:bottom, 6 : width - 6] = 1
        mask[t, bottom : bottom + 6, 6 : width - 6] = 3
    return mask


def frame_image(frames: int, height: int = 24, width: int = 20) -> np.ndarray:
    """``(T, H, W)`` uint8 whose frame t is filled with 10 * (t + 1), so frame order can be read back."""
    return np.repeat((10 * np.arange(1, frames + 1, dtype=np.uint8))[:, None, None], height * width, 1).reshape(
        frames, height, width
    )


def write_case(folder: Path, stem: str, frames: int, suffix: str = ".nii.gz", mask: bool = True) -> None:
    """Write ``stem`` image (and ``stem_gt`` mask) with ``frames`` frames into ``folder``."""
    geometry = odd_geometry((frames, 24, 20))
    write_like(frame_image(frames), geometry, folder / f"{stem}{suffix}")
    if mask:
        write_like(heart_mask(frames), geometry, folder / f"{stem}_gt{suffix}")


def write_patient(root: Path, patient: str, frames: int = 5, cfg: str | None = None, suffix: str = ".nii.gz") -> Path:
    """A CAMUS patient folder: 2CH/4CH ED, ES and half sequences with masks, optional Info cfg."""
    folder = root / patient
    folder.mkdir(parents=True, exist_ok=True)
    for view in ("2CH", "4CH"):
        for instant in ("ED", "ES"):
            write_case(folder, f"{patient}_{view}_{instant}", 1, suffix)
        write_case(folder, f"{patient}_{view}_half_sequence", frames, suffix)
        if cfg is not None:
            (folder / f"Info_{view}.cfg").write_text(cfg)
    return folder
