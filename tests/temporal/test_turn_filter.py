"""The temporal filter of the turns: a quadratic fit over 5 frames (Savitzky-Golay), against hand-computed values."""

from __future__ import annotations

import numpy as np
from scipy.signal import savgol_coeffs

from echolatent.temporal.residual import TURN_KERNEL, filtered_onehot, turn_onehot


def _pixel_sequence(labels: list[int]) -> np.ndarray:
    """``(T, 1, 1)`` uint8 labels of one pixel."""
    return np.array(labels, dtype=np.uint8)[:, None, None]


def test_the_kernel_is_scipys_quadratic_fit_over_five_frames():
    np.testing.assert_allclose(np.array(TURN_KERNEL) / 35.0, savgol_coeffs(5, 2), atol=1e-12)


def test_a_two_frame_peak_at_a_turn_stays_where_a_gaussian_loses_it():
    # LV (1) at frames 4 and 5 only, background (0) elsewhere: at frame 4 the fit gives LV (17 + 12) / 35
    masks = _pixel_sequence([0, 0, 0, 0, 1, 1, 0, 0, 0])
    fitted = turn_onehot(masks, np.array([4]))[0, :, 0, 0]
    np.testing.assert_allclose(fitted, [6 / 35, 29 / 35, 0, 0], atol=1e-6)
    gaussian = filtered_onehot(masks, np.array([4]), 1.5)[0, :, 0, 0]
    weights = np.exp(-0.5 * (np.arange(-5, 6) / 1.5) ** 2)
    assert gaussian[1] == np.float32(weights[5:7].sum() / weights.sum())  # about 0.48: LV lost to the background
    assert fitted.argmax() == 1 and gaussian.argmax() == 0


def test_a_single_wrong_frame_is_removed_and_edges_repeat():
    masks = _pixel_sequence([2, 2, 2, 3, 2, 2, 2])
    np.testing.assert_allclose(turn_onehot(masks, np.array([3]))[0, :, 0, 0], [0, 0, 18 / 35, 17 / 35], atol=1e-6)
    # at frame 0 the taps -2, -1 repeat frame 0: weights -3 + 12 + 17 on frame 0, 12 on frame 1, -3 on frame 2
    edge = _pixel_sequence([1, 0, 0, 0, 0])
    np.testing.assert_allclose(turn_onehot(edge, np.array([0]))[0, :, 0, 0], [9 / 35, 26 / 35, 0, 0], atol=1e-6)
