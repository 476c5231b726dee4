"""Beat detection by hand and by brute force: ED / ES rules on hand-made curves (every end condition at its limit),
the alternation rules against a plain re-reading of the docstring on random integer curves (ties included), exact
periods, heart rates and notes of a sampled cosine, and the per-beat summary statistics."""

from __future__ import annotations

import logging
import warnings
from itertools import groupby

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from echolatent.labels import Label, View
from echolatent.measure.beats import (
    Beat,
    BeatDetection,
    _alternate,
    _beats,
    _extremes,
    autocorrelation_period,
    beat_indices,
    find_beats,
    lv_area_curve,
)


def docstring_alternate(s, maxima, minima):
    """_alternate as its docstring reads: runs of one kind collapse to their highest ED / lowest ES (the first of
    equals), then each frame moves to the extreme of the frames strictly between its two neighbours."""
    events = sorted([(f, "ED") for f in maxima] + [(f, "ES") for f in minima])
    kept = []
    for kind, run in groupby(events, key=lambda event: event[1]):
        frames = [f for f, _ in run]
        values = [s[f] for f in frames]
        kept.append((frames[values.index(max(values) if kind == "ED" else min(values))], kind))
    ed, es = [], []
    for k, (_, kind) in enumerate(kept):
        window = range(kept[k - 1][0] + 1 if k else 0, kept[k + 1][0] if k + 1 < len(kept) else len(s))
        values = [s[i] for i in window]
        best = max(values) if kind == "ED" else min(values)
        (ed if kind == "ED" else es).append(window[values.index(best)])
    return ed, es


def test_alternate_follows_its_docstring_on_random_integer_curves():
    rng = np.random.default_rng(7)
    for _ in range(400):
        n = int(rng.integers(3, 25))
        s = rng.integers(0, 5, n).astype(np.float64)  # few levels: many ties
        frames = rng.permutation(n)[: int(rng.integers(1, n + 1))]
        split = int(rng.integers(0, len(frames) + 1))
        maxima, minima = sorted(frames[:split].tolist()), sorted(frames[split:].tolist())
        assert _alternate(s, maxima, minima) == docstring_alternate(s, maxima, minima), (s, maxima, minima)


def test_alternate_keeps_the_higher_ed_and_moves_the_es_before_it():
    # EDs at 2 (5) and 5 (6) in a row: 5 stays; the ES at 0 is then the lowest of frames 0..4 (frame 3)
    s = np.array([2.0, 4.0, 5.0, 1.5, 3.0, 6.0, 2.0, 0.0, 1.0])
    assert _alternate(s, [2, 5], [0, 7]) == ([5], [3, 7])
    # ESs at 1 (1) and 4 (0) in a row: 4 stays; the ED after it is the highest of frames 5..8
    s = np.array([5.0, 1.0, 3.0, 2.0, 0.0, 4.0, 6.0, 2.0, 3.0])
    assert _alternate(s, [0, 8], [1, 4]) == ([0, 6], [4])


def extremes_by_hand(s, distance, prominence, strict):
    """_extremes' rules spelled out: scipy's interior peaks, then each end by the four documented conditions (the
    distance of the last frame counted from the start when the start is kept)."""
    interior = [int(i) for i in find_peaks(s, distance=max(1.0, distance), prominence=prominence)[0]]
    level = np.median(s[interior]) - 0.4 * prominence if interior else -np.inf
    end = len(s) - 1
    first = interior[0] if interior else end
    last = interior[-1] if interior else 0
    start = (s[0] >= s[1] and (not strict[0] or s[0] >= level)
             and any(s[0] - s[j] >= prominence for j in range(first + 1))
             and (not interior or first >= distance))
    before = [0] * bool(start) + interior  # the end keeps its distance from the start too
    finish = (s[end] >= s[end - 1] and (not strict[1] or s[end] >= level)
              and any(s[end] - s[j] >= prominence for j in range(last, end + 1))
              and (not before or end - before[-1] >= distance))
    return before + [end] * bool(finish)


@pytest.mark.parametrize("strict", [(False, False), (True, False), (False, True), (True, True)])
def test_extremes_follow_their_rules_on_random_integer_curves(strict):
    rng = np.random.default_rng(3)
    for _ in range(300):
        s = rng.integers(0, 9, int(rng.integers(3, 30))).astype(np.float64)
        distance, prominence = float(rng.choice([1.0, 2.0, 2.5, 4.0])), float(rng.choice([1.0, 2.5, 5.0]))
        assert _extremes(s, distance, prominence, strict) == extremes_by_hand(s, distance, prominence, strict)


@pytest.mark.parametrize(("s", "expected"), [
    ([5.0, 5.2, 0.0, 10.0], [3]),  # still rising at the start: not a maximum (its bump is not prominent)
    ([5.0, 5.0, 0.0, 10.0], [0, 3]),  # level at the start: a maximum
    ([10.0, 7.5, 10.0], [0, 2]),  # each end falls by exactly the prominence
    ([10.0, 7.6, 10.0], []),
])
def test_ends_at_their_limits(s, expected):
    assert _extremes(np.array(s), 1.0, 2.5, (False, False)) == expected


def test_a_strict_end_must_be_about_as_high_as_the_interior_maxima():
    # interior maxima of 8 (prominence 2.5): an end counts from 8 - 0.4 * 2.5 = 7 up, when strict
    for first, counted in ((7.0, True), (6.9, False)):
        s = np.array([first, 3, 8, 3, 8, 3, 8, 4])
        assert _extremes(s, 1.0, 2.5, (True, False)) == [0] * counted + [2, 4, 6]
        assert _extremes(s, 1.0, 2.5, (False, False)) == [0, 2, 4, 6]
        assert _extremes(s[::-1].copy(), 1.0, 2.5, (False, True)) == [1, 3, 5] + [7] * counted


def test_ends_and_peaks_keep_the_minimum_distance():
    s = np.array([8.0, 3, 8, 3, 4])
    assert _extremes(s, 2.0, 2.5, (False, False)) == [0, 2]  # the start is 2 frames from the peak: kept at 2
    assert _extremes(s, 2.5, 2.5, (False, False)) == [2]
    s = np.array([4.0, 3, 8, 3, 8])
    assert _extremes(s, 2.0, 2.5, (False, False)) == [2, 4]
    assert _extremes(s, 2.5, 2.5, (False, False)) == [2]
    # two prominent peaks 3 frames apart: at a distance of 4 only the higher stays
    s = np.array([0.0, 0, 9, 0, 0, 10, 0, 0])
    assert _extremes(s, 4.0, 2.5, (False, False)) == [5]
    assert _extremes(s, 3.0, 2.5, (False, False)) == [2, 5]


def test_beats_pair_each_ed_with_its_es_and_the_next_ed():
    assert _beats([0, 10, 20], [5, 15]) == [Beat(0, 5, 10), Beat(10, 15, 20)]
    assert _beats([0, 10, 20], [5, 15, 25]) == [Beat(0, 5, 10), Beat(10, 15, 20), Beat(20, 25, None)]
    assert _beats([0, 10], [15]) == [Beat(10, 15, None)]  # no ES before the next ED: ED 0 has no beat
    assert _beats([3], [1]) == []


def cosine(period: int, beats: int) -> np.ndarray:
    """Area curve 100 + 20 cos(2 pi t / period): EDs at multiples of ``period``, ESs half-way."""
    t = np.arange(period * beats + 1)
    return 100.0 + 20.0 * np.cos(2 * np.pi * t / period)


def test_cosine_beats_period_and_heart_rate():
    found = find_beats(cosine(20, 3), fps=50.0)
    assert (found.ed, found.es) == ([0, 20, 40, 60], [10, 30, 50])
    assert found.beats == [Beat(0, 10, 20), Beat(20, 30, 40), Beat(40, 50, 60)]
    assert found.period == 20.0 and found.heart_rate == 150.0 and found.note == ""
    instants = [""] * 61
    instants[0:61:20] = ["ED"] * 4
    instants[10:61:20] = ["ES"] * 3
    assert found.instants() == instants
    without = find_beats(cosine(20, 3))
    assert (without.ed, without.es, without.heart_rate) == (found.ed, found.es, None)


def test_heart_rate_limits_are_inclusive():
    assert find_beats(cosine(30, 3), fps=20.0).heart_rate == 40.0  # 60 * 20 / 30
    assert find_beats(cosine(30, 3), fps=20.0).note == ""
    at_180 = find_beats(cosine(20, 3), fps=60.0)
    assert at_180.heart_rate == 180.0 and at_180.note == "" and at_180.ed == [0, 20, 40, 60]


def test_notes_name_the_numbers_and_are_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="echolatent.measure.beats"):
        fast = find_beats(cosine(20, 3), fps=200.0)
    assert fast.note == "the LV area repeats every 20.0 frames, 600 bpm at 200.0 fps: check the frame rate"
    assert fast.ed == [0, 20, 40, 60] and fast.es == [10, 30, 50]
    assert [r.getMessage() for r in caplog.records] == [fast.note]
    slow = find_beats(cosine(20, 3), fps=5.0)
    assert slow.note == ("ED every 20.0 frames at 5.0 fps is 15 bpm, outside 40-180 bpm: check the frame rate or "
                         "the detected beats")
    assert slow.heart_rate == 15.0
    custom = find_beats(cosine(20, 3), fps=5.0, heart_rate=(10.0, 20.0))
    assert custom.note == "" and custom.heart_rate == 15.0


def test_autocorrelation_period_of_sampled_cosines():
    assert autocorrelation_period(cosine(8, 5)) == 8.0
    assert autocorrelation_period(cosine(12, 4)) == 12.0
    assert autocorrelation_period(np.full(30, 3.0)) is None
    assert autocorrelation_period(cosine(4, 1)[:5]) is None  # fewer than 2 x 3 frames
    assert autocorrelation_period(cosine(2, 5)) == 4.0  # peaks at lags 2, 4, 6: the first from lag 3 on is 4
    assert autocorrelation_period(cosine(2, 5), min_lag=2) == 2.0


@pytest.mark.parametrize("curve", [[5.0], [1e9, 1e9 + 0.5], [0.0, 1e-10, 0.0], [0.0, 1e-9, 0.0]])
def test_curves_that_do_not_change_have_no_beats(curve):
    found = find_beats(np.array(curve), 30.0)
    assert isinstance(found, BeatDetection) and (found.ed, found.es, found.beats) == ([], [], [])
    assert found.note == "the LV area does not change: no ED / ES found"
    np.testing.assert_array_equal(found.curve, curve)


def test_a_small_change_is_a_change():
    found = find_beats(np.array([0.0, 2e-9, 0.0, 2e-9, 0.0, 2e-9, 0.0]), sigma=0)
    assert found.ed == [1, 3, 5] and found.es == [0, 2, 4, 6]
    np.testing.assert_array_equal(found.curve, [0.0, 2e-9, 0.0, 2e-9, 0.0, 2e-9, 0.0])


def lv_masks(areas: list[int]) -> np.ndarray:
    """``(T, 40, 40)`` labels with an LV rectangle of 20 rows x ``area / 20`` columns (a flat-ended 'cavity')."""
    masks = np.zeros((len(areas), 40, 40), np.uint8)
    for t, area in enumerate(areas):
        masks[t, 10:30, 20 - area // 40: 20 + area // 40] = Label.LV
    return masks


def test_summary_statistics_of_one_two_and_no_beats():
    masks = lv_masks([400, 200, 360, 160, 400])
    one = beat_indices({View.A4C: masks}, {View.A4C: [Beat(0, 1, 2)]}, {View.A4C: None})
    assert [row["beat"] for row in one.rows] == [1] and set(one.rows[0]) >= {"ED", "ES", "EDV", "ESV", "EF"}
    assert (one.rows[0]["ED"], one.rows[0]["ES"]) == (0, 1)
    assert one.mean["EF"] == one.rows[0]["EF"] and one.sd == {"EDV": 0.0, "ESV": 0.0, "EF": 0.0}
    two = beat_indices({View.A4C: masks}, {View.A4C: [Beat(0, 1, 2), Beat(2, 3, 4)]}, {View.A4C: None})
    assert [row["beat"] for row in two.rows] == [1, 2]
    efs = [row["EF"] for row in two.rows]
    assert two.mean["EF"] == pytest.approx((efs[0] + efs[1]) / 2)
    assert two.sd["EF"] == pytest.approx(abs(efs[0] - efs[1]) / np.sqrt(2))  # sample SD of two values
    empty = masks.copy()
    empty[1] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 'mean of empty slice'
        none = beat_indices({View.A4C: empty}, {View.A4C: [Beat(0, 1, 2)]}, {View.A4C: None})
    assert np.isnan(none.rows[0]["EF"]) and np.isnan(none.mean["EF"]) and np.isnan(none.sd["EF"])


def test_biplane_rows_name_each_view_in_order():
    masks = lv_masks([400, 200, 400])
    beats = {View.A4C: [Beat(0, 1, 2)], View.A2C: [Beat(2, 1, None)]}
    result = beat_indices({View.A4C: masks, View.A2C: masks}, beats, {View.A4C: None, View.A2C: None})
    assert list(result.rows[0])[:5] == ["beat", "ED_2CH", "ES_2CH", "ED_4CH", "ES_4CH"]
    assert [result.rows[0][k] for k in ("ED_2CH", "ES_2CH", "ED_4CH", "ES_4CH")] == [2, 1, 0, 1]
    assert result.method == "biplane"


def cosine_frames(period: int, start: int, stop: int) -> np.ndarray:
    """100 + 20 cos(2 pi t / period) at frames ``start .. stop - 1``: a sequence cut anywhere in the cycle."""
    return 100.0 + 20.0 * np.cos(2 * np.pi * np.arange(start, stop) / period)


def test_partial_beats_at_the_ends():
    # 30 fps: EDs at least 10 frames apart. Ends 15 frames from the last extreme:
    # an ED at the end (filling, 100) or an ES at the start bound a partial beat: kept although not extreme
    rising_end = find_beats(cosine_frames(20, 0, 56), 30.0)
    assert (rising_end.ed, rising_end.es) == ([0, 20, 40, 55], [10, 30, 50])
    rising_start = find_beats(cosine_frames(20, 15, 76), 30.0)
    assert (rising_start.ed, rising_start.es) == ([5, 25, 45, 60], [0, 15, 35, 55])
    # an ES at the end (mid-ejection, 100) must be about as low as the others (80): it is not
    falling_end = find_beats(cosine_frames(20, 0, 66), 30.0)
    assert (falling_end.ed, falling_end.es) == ([0, 20, 40, 60], [10, 30, 50])
    assert (rising_end.period, rising_end.heart_rate, rising_end.note) == (20.0, 90.0, "")


def test_two_samples_and_three_samples():
    two = find_beats(np.array([0.0, 10.0]))  # too short to smooth: rising to an ED at its end
    assert (two.ed, two.es, two.note) == ([1], [0], "") and two.curve.tolist() == [0.0, 10.0]
    three = find_beats(np.array([0.0, 10.0, 0.0]), sigma=1.0)
    np.testing.assert_allclose(three.curve, gaussian_filter1d([0.0, 10.0, 0.0], 1.0, mode="nearest"), rtol=1e-12)


@pytest.mark.parametrize(("fps", "sigma"), [(None, 1.0), (50.0, 1.0), (100.0, 20 / 15), (10.0, 0.5)])
def test_smoothing_is_20_ms_at_least_half_a_frame_at_most_a_fifteenth_of_the_period(fps, sigma):
    values = cosine(20, 3).round()  # integers, smoothed as floats
    found = find_beats(values.astype(np.int64), fps, median=1)  # no running median: the Gaussian alone
    np.testing.assert_allclose(found.curve, gaussian_filter1d(values, sigma, mode="nearest"), rtol=1e-12)


def test_period_from_the_eds_or_the_autocorrelation():
    one_beat = find_beats(cosine(20, 1), 50.0)  # 21 frames: no autocorrelation peak, but two EDs
    assert one_beat.ed == [0, 20] and one_beat.period == 20.0 and one_beat.heart_rate == 150.0
    half = find_beats(cosine(20, 1)[:11], 50.0)  # one ED: no period at all
    assert (half.ed, half.es, half.period, half.heart_rate, half.note) == ([0], [10], None, None, "")


def test_a_period_at_exactly_nine_tenths_of_the_shortest_ed_spacing_trusts_the_frame_rate():
    # 60 fps, 180 bpm at most: EDs 20 frames apart at least; the curve repeats every 18 = 0.9 x 20 frames
    trusted = find_beats(cosine(18, 3), 60.0)
    assert trusted.note == "" and trusted.ed == [0, 36] and trusted.heart_rate == 100.0
    doubted = find_beats(cosine(18, 3), 60.01)
    assert doubted.note.startswith("the LV area repeats every 18.0 frames") and doubted.ed == [0, 18, 36, 54]


def test_autocorrelation_limits():
    assert autocorrelation_period(cosine(3, 6)) == 3.0  # the default minimum lag is 3
    assert autocorrelation_period(cosine(3, 6), min_lag=4) == 6.0
    assert autocorrelation_period(cosine(3, 6)[:8]) == 3.0  # 8 frames are enough for a lag of 3
    t = np.arange(30)
    assert autocorrelation_period(np.cos(2 * np.pi * t / 24)) is None  # its peak at lag 23 correlates by 0.18 < 0.2
    # lags of the last min_lag frames (fewer than min_lag products) are not looked at: 0.4 at lag 5 of 8
    assert autocorrelation_period(np.cos(2 * np.pi * np.arange(8) / 5)) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a flat curve has no correlation, and no 0 / 0
        assert autocorrelation_period(np.full(40, 2.0)) is None


def test_lv_area_curve_in_mm2_with_unequal_spacing():
    masks = np.zeros((2, 6, 8), np.uint8)
    masks[0, 1:3, 1:4] = Label.LV  # 6 px
    masks[1, 0:4, 0:5] = Label.LV  # 20 px
    masks[:, 5, :] = Label.MYO
    assert lv_area_curve(masks, (0.5, 3.0)).tolist() == [9.0, 30.0]
    assert lv_area_curve(masks).tolist() == [6.0, 20.0]
    with pytest.raises(ValueError, match=r"expected masks \(T, H, W\), got shape \(6, 8\)"):
        lv_area_curve(masks[0])


@pytest.mark.parametrize(("fps", "frames"), [(None, [27, 28, 47, 48]), (200.0, [27, 28, 29, 47, 48, 49])])
def test_a_bump_closer_than_half_the_period_to_an_ed_is_no_second_ed(fps, frames):
    # a cosine of period 20 with a bump of +45 7-9 frames after the EDs at 20 and 40: EDs are at least half the
    # autocorrelation period apart (without a frame rate, or with one the curve belies: 200 fps would allow 600 bpm;
    # smoothed over 20 / 15 frames there, the bump is made 3 frames wide to stand out as much)
    curve = cosine(20, 3)
    curve[frames] += 45.0
    found = find_beats(curve, fps)
    assert len(found.ed) == 4 and np.diff(found.ed).min() >= 10 and len(found.es) == 3 and len(found.beats) == 3
    assert found.period == 20.0
    if fps is None:
        assert found.ed == [0, 20, 40, 60]
