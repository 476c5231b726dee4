"""residual.onehot_per_frame: each frame filtered by its own sigma (SciPy's gaussian_filter1d of the whole one-hot,
mode "nearest", truncate 3, as the independent route), TURN_SIGMA on the flagged turns whatever their sigma, and a
float32 stack (the chunk sizes assume 4 bytes a value)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from echolatent.cleanup import clean_masks
from echolatent.labels import NUM_LABELS, Label
from echolatent.temporal import residual

from .sequences import ring_sequence


def _scipy(masks: np.ndarray, sigma: float) -> np.ndarray:
    one_hot = (masks[:, None] == np.arange(NUM_LABELS)[None, :, None, None]).astype(np.float64)
    if sigma == 0:
        return one_hot
    return ndimage.gaussian_filter1d(one_hot, sigma, axis=0, mode="nearest", truncate=3.0)


def test_each_frame_by_its_own_sigma_and_the_turns_by_turn_sigma():
    masks = ring_sequence(10)
    masks[6, 2:7, 2:7] = Label.LA  # a one-frame blip
    frames = np.array([9, 0, 6, 3, 6])  # out of order, repeated
    sigmas = np.array([1.5, 0.0, 1.5, 2, 0.5])  # an integer-valued one among them
    got = residual.onehot_per_frame(masks, frames, sigmas)
    assert got.dtype == np.float32 and got.shape == (5, NUM_LABELS, 24, 24)
    for row, (frame, sigma) in enumerate(zip(frames, sigmas, strict=True)):
        np.testing.assert_allclose(got[row], _scipy(masks, sigma)[frame], atol=3e-7)
    turns = np.zeros(10, bool)
    turns[[6, 0]] = True  # frame 6 and 0 at 0.85 frames, whatever sigma they were given
    got = residual.onehot_per_frame(masks, frames, sigmas, turns)
    assert got.dtype == np.float32
    expected = [_scipy(masks, s)[f] for f, s in zip(frames, [1.5, 0.85, 0.85, 2, 0.85], strict=True)]
    np.testing.assert_allclose(got, np.stack(expected), atol=3e-7)


def test_prefiltered_turns_take_turn_sigma_the_others_sigma():
    masks = ring_sequence(12)
    masks[5, 2:7, 2:7] = Label.LA
    turns = np.zeros(12, bool)
    turns[4:7] = True
    out = residual.prefiltered(masks, 1.5, turns=turns)
    assert out.dtype == np.uint8
    sigma = np.where(turns, residual.TURN_SIGMA, 1.5)
    raw = np.stack([_scipy(masks, s)[t] for t, s in enumerate(sigma)]).argmax(1)
    np.testing.assert_array_equal(out, clean_masks(raw.astype(np.uint8)))
