"""Tiny synthetic heart masks for the shape-model tests."""

from __future__ import annotations

import numpy as np
import pytest


def make_hearts(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """``(n, size, size)`` uint8 masks: LV ellipse in a MYO ring, LA disc below, random sizes and shifts."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size].astype(float)
    masks = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        ry, rx = rng.uniform(0.18, 0.28) * size, rng.uniform(0.09, 0.14) * size
        wall, la = rng.uniform(0.05, 0.08) * size, rng.uniform(0.08, 0.12) * size
        cy, cx = 0.38 * size, size / 2 + rng.uniform(-0.06, 0.06) * size
        epi = ((yy - cy) / (ry + wall)) ** 2 + ((xx - cx) / (rx + wall)) ** 2 <= 1
        lv = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        base = cy + 0.75 * ry  # the mitral plane cuts the ellipses
        atrium = ((yy - (base + la)) / la) ** 2 + ((xx - cx) / la) ** 2 <= 1
        masks[i][epi & (yy < base)] = 2
        masks[i][lv & (yy < base)] = 1
        masks[i][atrium & (yy >= base)] = 3
    return masks


@pytest.fixture
def hearts() -> np.ndarray:
    """24 tiny synthetic hearts (32 x 32)."""
    return make_hearts(24)
