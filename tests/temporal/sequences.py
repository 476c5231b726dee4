"""Toy sequences shared by the temporal tests."""

from __future__ import annotations

import numpy as np

from echolatent.labels import Label


def ring_sequence(frames: int = 6, size: int = 24) -> np.ndarray:
    """A beating toy heart ``(frames, size, size)``: LV disc in a MYO ring above an LA disc, the LV radius changing
    over time (``clean_masks`` leaves it as it is)."""
    rows, cols = np.mgrid[:size, :size]
    masks = np.zeros((frames, size, size), dtype=np.uint8)
    for t in range(frames):
        radius = 4 + 2 * np.sin(np.pi * t / frames)
        distance = np.hypot(rows - 9, cols - 12)
        masks[t][distance < radius + 2] = Label.MYO
        masks[t][distance < radius] = Label.LV
        masks[t][(np.hypot(rows - 19, cols - 12) < 3) & (masks[t] == 0)] = Label.LA
    return masks
