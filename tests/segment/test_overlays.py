"""Screen overlays for U-Net training: drawn outside the sector only, never on labels, seeded."""

from __future__ import annotations

import numpy as np
from skimage.draw import disk

from echolatent.train.overlays import RandOverlayd, draw_overlays, sector_of


def _fan(size: int = 96) -> np.ndarray:
    """A (size, size) image: a bright disk (the 'sector') on a black screen."""
    image = np.zeros((size, size), np.float32)
    image[disk((size * 0.45, size / 2), size * 0.35, shape=image.shape)] = 0.5
    return image


def test_overlays_stay_outside_the_sector_and_are_drawn():
    image = _fan()
    sector = sector_of(image)
    out, drawn = draw_overlays(image, np.random.default_rng(0), p_each=1.0)
    assert drawn.sum() > 50  # something real was drawn
    assert not (drawn & sector).any()
    assert np.array_equal(out[sector], image[sector])
    assert np.array_equal(out[~drawn], image[~drawn])


def test_labels_are_never_drawn_over():
    image = _fan()
    keep = np.zeros(image.shape, bool)
    keep[:, :20] = True  # labelled pixels outside the fan (a sector cut through a structure)
    _, drawn = draw_overlays(image, np.random.default_rng(3), keep=keep, p_each=1.0)
    assert not (drawn & keep).any()


def test_transform_is_seeded_and_leaves_labels():
    image = _fan(64)[None]
    label = np.zeros((1, 64, 64), np.float32)
    label[0, 20:30, 28:36] = 1
    runs = []
    for _ in range(2):
        t = RandOverlayd(prob=1.0)
        t.set_random_state(seed=7)
        runs.append(t({"image": image, "label": label}))
    assert np.array_equal(runs[0]["image"], runs[1]["image"])
    assert not np.array_equal(runs[0]["image"], image)
    assert np.array_equal(runs[0]["label"], label)
