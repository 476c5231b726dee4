"""castor's Gaussian baseline against SciPy's filter of each label (sigma = fraction x T frames), an exact tie that
keeps the lower label, and its argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from echolatent.errors import InputError
from echolatent.temporal.gaussian import SIGMA_FRACTION, gaussian_smooth


def _scores(masks: np.ndarray, sigma: float) -> np.ndarray:
    return np.stack([gaussian_filter1d((masks == label).astype(np.float32), sigma=sigma, axis=0) for label in range(4)])


@pytest.mark.parametrize(("frames", "fraction"), [(20, 0.1), (7, 0.3), (40, SIGMA_FRACTION)])
def test_each_label_filtered_with_sigma_fraction_times_frames(frames, fraction):
    masks = np.random.default_rng(frames).integers(0, 4, (frames, 6, 7)).astype(np.uint8)
    out = gaussian_smooth(masks, fraction)
    assert out.dtype == np.uint8 and out.shape == masks.shape
    np.testing.assert_array_equal(out, _scores(masks, fraction * frames).argmax(0))
    assert SIGMA_FRACTION == 0.05


def test_default_fraction():
    masks = np.random.default_rng(3).integers(0, 4, (60, 5, 5)).astype(np.uint8)
    np.testing.assert_array_equal(gaussian_smooth(masks), _scores(masks, 3.0).argmax(0))
    assert (gaussian_smooth(masks) != gaussian_smooth(masks, 0.1)).any()


def test_a_tie_keeps_the_lower_label():
    """Labels 1, 1, 3, 2, 2 over time: at the middle frame labels 1 and 2 get mirror-image weights (SciPy adds the
    symmetric kernel's pairs, so both sums are equal to the last bit) and, with sigma 1.5, more than label 3."""
    masks = np.array([1, 1, 3, 2, 2], dtype=np.uint8)[:, None, None]
    scores = _scores(masks, 1.5)[:, 2, 0, 0]
    assert scores[1] == scores[2] > scores[3]
    np.testing.assert_array_equal(gaussian_smooth(masks, 0.3)[:, 0, 0], [1, 1, 1, 2, 2])
    np.testing.assert_array_equal(gaussian_smooth(masks, 0.2)[:, 0, 0], [1, 1, 3, 2, 2])  # sigma 1: label 3 keeps it


@pytest.mark.parametrize("fraction", [0.0, -0.1])
def test_non_positive_fraction(fraction):
    with pytest.raises(ValueError, match=f"sigma_fraction must be positive, got {fraction}"):
        gaussian_smooth(np.zeros((3, 2, 2), dtype=np.uint8), fraction)


def test_not_a_sequence():
    with pytest.raises(InputError):
        gaussian_smooth(np.zeros((4, 4), dtype=np.uint8))
