"""echolatent.arrays: the fast arg-max and border padding against NumPy's own (the independent route), ties, NaN,
integers, shapes refused; clean_frame (which transforms the heart's box only) against a clean-up written with the
whole-image distance transform."""

import numpy as np
import pytest
from scipy import ndimage

from echolatent.arrays import argmax_labels, pad_border
from echolatent.cleanup import clean_frame
from echolatent.labels import Label


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_argmax_labels_is_numpys_first_maximum(dtype):
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 3, (5, 4, 7, 9)).astype(dtype)  # few values: many ties between channels
    scores[:, 2] = scores[:, 1]  # channels 1 and 2 tie everywhere: 1 wins where they are the largest
    got = argmax_labels(scores)
    assert got.dtype == np.uint8 and got.shape == (5, 7, 9)
    np.testing.assert_array_equal(got, scores.argmax(1))
    assert (got != 2).all()


def test_argmax_labels_by_hand_and_one_channel():
    scores = np.array([[[[0.1]], [[0.7]], [[0.7]], [[0.2]]]], dtype=np.float32)  # (1, 4, 1, 1)
    assert argmax_labels(scores).tolist() == [[[1]]]
    scores[0, 3] = 0.9
    assert argmax_labels(scores).tolist() == [[[3]]]
    np.testing.assert_array_equal(argmax_labels(np.ones((2, 1, 3, 3))), np.zeros((2, 3, 3)))


def test_argmax_labels_with_nan_answers_as_numpy():
    scores = np.random.default_rng(4).random((2, 4, 5, 5))
    scores[0, 2, 1, 1] = np.nan  # NumPy: the first NaN wins
    scores[1, 3, 4, 0] = np.nan
    np.testing.assert_array_equal(argmax_labels(scores), scores.argmax(1))
    assert argmax_labels(scores)[0, 1, 1] == 2 and argmax_labels(scores)[1, 4, 0] == 3


@pytest.mark.parametrize("shape", [(4, 5, 5), (1, 0, 3, 3), (1, 257, 2, 2)])
def test_argmax_labels_refuses_other_shapes(shape):
    with pytest.raises(ValueError, match="expected \\(N, C, H, W\\)"):
        argmax_labels(np.zeros(shape))


@pytest.mark.parametrize(("value", "width"), [(0, 1), (True, 1), (0, 2), (7, 0), (1.5, 3)])
def test_pad_border_is_numpys_constant_pad(value, width):
    frame = np.random.default_rng(5).integers(0, 2, (6, 4)).astype(type(value) if value is not True else bool)
    got = pad_border(frame, value, width)
    assert got.dtype == frame.dtype
    np.testing.assert_array_equal(got, np.pad(frame, width, constant_values=value))


def test_pad_border_refuses_other_shapes_and_widths():
    with pytest.raises(ValueError, match="expected an \\(H, W\\) frame"):
        pad_border(np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="width must be >= 0"):
        pad_border(np.zeros((3, 3)), 0, -1)


def _clean_whole_image(frame: np.ndarray) -> np.ndarray:
    """The clean-up of cleanup.py's docstring, written with SciPy's whole-image tools only."""
    out = np.zeros(frame.shape, np.uint8)
    for label in (Label.LV, Label.MYO, Label.LA):
        pieces, count = ndimage.label(frame == label, structure=np.ones((3, 3)))
        if count:
            out[pieces == np.bincount(pieces.ravel())[1:].argmax() + 1] = label
    heart = out > 0
    enclosed = ndimage.binary_fill_holes(heart) & ~heart
    if enclosed.any():
        _, (rows, cols) = ndimage.distance_transform_edt(~heart, return_indices=True)
        out[enclosed] = out[rows[enclosed], cols[enclosed]]
    for label in (Label.LV, Label.LA):
        region = out == label
        out[ndimage.binary_fill_holes(region) & ~region] = label
    return out


def test_clean_frame_matches_the_whole_image_clean_up():
    rng = np.random.default_rng(6)
    rows, cols = np.mgrid[:40, :48]
    checked = 0
    for _ in range(60):
        frame = np.zeros((40, 48), np.uint8)
        cy, cx, r = rng.uniform(12, 28), rng.uniform(14, 34), rng.uniform(5, 9)
        ring = np.hypot(rows - cy, cols - cx)
        frame[ring < r + 3] = Label.MYO
        frame[ring < r] = Label.LV
        frame[(np.hypot(rows - cy - r - 6, cols - cx) < 4) & (frame == 0)] = Label.LA
        noise = rng.random(frame.shape) < 0.08  # holes, gaps and debris of every label
        frame[noise] = rng.integers(0, 4, int(noise.sum()))
        expected = _clean_whole_image(frame)
        np.testing.assert_array_equal(clean_frame(frame), expected)
        checked += int((ndimage.binary_fill_holes(expected > 0) != (expected > 0)).any() or (frame != expected).any())
    assert checked == 60  # every frame needed some cleaning
