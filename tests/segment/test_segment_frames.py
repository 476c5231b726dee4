"""segment_frames: any frame size in, same size out; probabilities resampled before the argmax; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.segment import Segmenter, load_segmenter, segment_frames, segment_masks

from .conftest import echo_like


@pytest.fixture
def segmenter(tiny_unet_file) -> Segmenter:
    return load_segmenter(tiny_unet_file)


@pytest.mark.parametrize("shape", [(3, 37, 53), (1, 16, 16), (2, 9, 70)])
def test_output_shapes_and_probabilities(segmenter, shape):
    masks, probs = segment_frames(segmenter, echo_like(shape))
    assert masks.shape == shape and masks.dtype == np.uint8
    assert probs.shape == (shape[0], 4, *shape[1:]) and probs.dtype == np.float32
    assert np.allclose(probs.sum(1), 1.0, atol=1e-5)
    assert np.array_equal(masks, probs.argmax(1))


def test_batching_does_not_change_the_result(segmenter):
    frames = echo_like((5, 30, 41), seed=3)
    masks_1, probs_1 = segment_frames(segmenter, frames, batch_size=1)
    masks_4, probs_4 = segment_frames(segmenter, frames, batch_size=4)
    assert np.allclose(probs_1, probs_4, atol=1e-5)
    assert (masks_1 == masks_4).mean() > 0.999


def test_progress_callback_counts_frames(segmenter):
    seen = []
    segment_frames(segmenter, echo_like((5, 20, 20)), batch_size=2, progress=seen.append)
    assert seen == [2, 4, 5]


def test_input_is_not_modified(segmenter):
    frames = echo_like((2, 20, 20))
    before = frames.copy()
    segment_frames(segmenter, frames)
    assert np.array_equal(frames, before)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((20, 20), np.uint8), "expected frames \\(T, H, W\\)"),
        (np.zeros((1, 2, 20, 20), np.uint8), "expected frames \\(T, H, W\\)"),
        (np.zeros((0, 20, 20), np.uint8), "no frames"),
        (np.zeros((1, 4, 20), np.uint8), "too small"),
        (np.full((1, 20, 20), np.nan, np.float32), "NaN"),
        (np.full((1, 20, 20), "a"), "numeric"),
    ],
)
def test_bad_frames(segmenter, frames, message):
    with pytest.raises(InputError, match=message):
        segment_frames(segmenter, frames)


def test_bad_batch_size(segmenter):
    with pytest.raises(ValueError, match="batch_size"):
        segment_frames(segmenter, echo_like((1, 20, 20)), batch_size=0)


@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_streamed_masks_equal_segment_frames(segmenter, batch_size):
    frames = echo_like((7, 30, 41), seed=5)
    masks, _ = segment_frames(segmenter, frames, batch_size=7)
    assert np.array_equal(segment_masks(segmenter, frames, batch_size=batch_size), masks)
