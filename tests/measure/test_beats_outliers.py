"""find_beats' running median: outlier frames (a failed segmentation) no longer pass for an ED or ES."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d, median_filter

from echolatent.measure.beats import find_beats, median_window


def beating(frames: int = 96, period: int = 32) -> np.ndarray:
    """``(frames,)`` an LV area (mm^2) with EDs at multiples of ``period`` (120) and ESs half way (80)."""
    return 100.0 + 20.0 * np.cos(2 * np.pi * np.arange(frames) / period)


@pytest.mark.parametrize(("fps", "period", "size"), [
    (40.0, None, 5),  # 100 ms at 40 fps = 4 frames: 2 * round(2) + 1
    (25.0, None, 3),  # 2.5 frames: 2 * round(1.25) + 1
    (60.0, None, 7),  # 6 frames: 2 * 3 + 1
    (10.0, None, 1),  # 1 frame: 2 * round(0.5) + 1 = 1 (round half to even): no median
    (None, None, 1),  # neither a frame rate nor a period: nothing to size it by
    (None, 31.0, 3),  # 3 frames without a frame rate, a sixth of 31 frames (5) allows it
    (40.0, 24.0, 3),  # a sixth of 24 frames is 4: the odd size below it
    (40.0, 12.0, 1),  # a sixth of 12 frames is 2: 1
    (None, 12.0, 1),
    (100.0, 120.0, 11),  # 10 frames: 2 * 5 + 1; a sixth of 120 is 20
])
def test_median_window_by_hand(fps, period, size):
    assert median_window(fps, period) == size


def test_a_one_frame_spike_in_diastole_is_not_an_ed():
    # 40 fps: EDs at least 13.3 frames apart; a failed frame at 26 (between the ES at 16 and the ED at 32) reads 150
    curve = beating()
    curve[26] = 150.0
    alone = find_beats(curve, 40.0, median=1)  # the Gaussian alone keeps the spike, higher than the ED 6 frames on
    assert 26 in alone.ed and 32 not in alone.ed
    found = find_beats(curve, 40.0)
    assert (found.ed, found.es) == ([0, 32, 64, 95], [16, 48, 80])


def test_two_failed_frames_in_a_row_are_removed_by_a_window_of_five():
    curve = beating()
    curve[[57, 58]] = [60.0, 62.0]  # below the ES (80) at 48, 9-10 frames after it, the ED at 64 next
    assert 57 in find_beats(curve, 40.0, median=1).es
    found = find_beats(curve, 40.0)
    assert found.es == [16, 48, 80] and found.ed == [0, 32, 64, 95]


def test_a_monotone_half_sequence_is_left_as_it_is():
    # ED -> ES of CAMUS: a running median keeps every monotone stretch exactly, so only the Gaussian acts
    half = 100.0 + 20.0 * np.cos(np.pi * np.arange(20) / 19)
    found = find_beats(half, 40.0)
    np.testing.assert_allclose(found.curve, gaussian_filter1d(half, 0.8, mode="nearest"), rtol=1e-12)
    assert (found.ed, found.es) == ([0], [19])


def test_the_median_needs_as_many_frames_as_its_window():
    # 40 fps: a window of 5 frames; too short for an autocorrelation period, so nothing caps it
    five = np.array([100.0, 80.0, 60.0, 200.0, 40.0])
    expected = gaussian_filter1d(median_filter(five, 5, mode="nearest"), 0.8, mode="nearest")
    np.testing.assert_allclose(find_beats(five, 40.0).curve, expected, rtol=1e-12)
    four = five[:4]  # shorter than the window: the Gaussian alone
    np.testing.assert_allclose(find_beats(four, 40.0).curve, gaussian_filter1d(four, 0.8, mode="nearest"), rtol=1e-12)


@pytest.mark.parametrize("median", [0, -1, 2, 4])
def test_an_even_or_empty_median_window_is_refused(median):
    with pytest.raises(ValueError, match=f"positive odd number of frames, got {median}"):
        find_beats(beating(), 40.0, median=median)
