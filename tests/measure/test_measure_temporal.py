"""Temporal consistency: hand-computed d(t), thresholds as data, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from measure_helpers import heart_frame

from echolatent.measure.temporal import PUBLISHED_TAU, TemporalThresholds, temporal_consistency


def test_d_matches_a_hand_computed_case():
    thresholds = TemporalThresholds(bounds={"lv_area": (100.0, 200.0)}, tau={"lv_area": 0.016})
    curve = np.array([150.0, 160.0, 150.0, 151.0, 152.0])
    # normalised: 0.5, 0.6, 0.5, 0.51, 0.52 -> d = 0.6-0.5=0.1, 0.5-0.555=-0.055, 0.51-0.51=0
    report = temporal_consistency({"lv_area": curve}, thresholds)
    np.testing.assert_allclose(report.d["lv_area"], [np.nan, 0.1, -0.055, 0.0, np.nan], atol=1e-12)
    np.testing.assert_array_equal(report.inconsistent["lv_area"], [False, True, True, False, False])
    np.testing.assert_array_equal(report.frame_ok, [True, False, False, True, True])
    assert not report.sequence_ok
    assert report.counts() == {"lv_area": 2, "any": 2}


def test_linear_curve_is_consistent_and_la_uses_lv_tau():
    assert PUBLISHED_TAU["la_area"] == PUBLISHED_TAU["lv_area"]
    thresholds = TemporalThresholds.published({"la_area": (0.0, 10.0), "lv_area": (0.0, 10.0)})
    report = temporal_consistency({"la_area": np.linspace(1, 9, 7), "lv_area": np.linspace(9, 1, 7)}, thresholds)
    assert report.sequence_ok and report.frame_ok.all()


@pytest.mark.parametrize("frames", [1, 2])
def test_short_sequences_raise(frames):
    thresholds = TemporalThresholds.published({"lv_area": (0.0, 1.0)})
    with pytest.raises(ValueError, match="at least 3 frames"):
        temporal_consistency({"lv_area": np.zeros(frames)}, thresholds)


def test_invalid_thresholds_raise():
    with pytest.raises(ValueError, match="max > min"):
        TemporalThresholds(bounds={"lv_area": (2.0, 1.0)})
    with pytest.raises(ValueError, match="no attribute"):
        temporal_consistency({"lv_area": np.zeros(5)}, TemporalThresholds())


def test_from_reference_bounds_grid_and_round_trip(tmp_path):
    small, large = heart_frame(length=40), heart_frame(length=50)
    thresholds = TemporalThresholds.from_reference([np.stack([small, large])], spacing=None)
    assert thresholds.grid == (128, 128) and thresholds.spacing is None
    low, high = thresholds.bounds["lv_area"]
    assert low == (small == 1).sum() and high == (large == 1).sum()
    assert thresholds.tau == PUBLISHED_TAU
    loaded = TemporalThresholds.load(thresholds.save(tmp_path / "temporal.json"))
    assert loaded == thresholds


def test_fit_tau_takes_the_largest_reference_deviation():
    frames = [heart_frame(length=n) for n in (40, 48, 42, 44)]
    thresholds = TemporalThresholds.from_reference([np.stack(frames)], fit_tau=True)
    report = temporal_consistency({"lv_area": np.array([(f == 1).sum() for f in frames], dtype=float)}, thresholds)
    assert thresholds.tau["lv_area"] == pytest.approx(np.nanmax(np.abs(report.d["lv_area"])))
    assert report.sequence_ok


def test_an_unmeasured_attribute_leaves_the_sequence_not_verified():
    thresholds = TemporalThresholds.published({"lv_area": (0.0, 10.0), "lv_base_width": (0.0, 10.0)})
    width = np.linspace(2, 6, 6)
    width[3] = np.nan
    report = temporal_consistency({"lv_area": np.linspace(9, 1, 6), "lv_base_width": width}, thresholds)
    assert report.frame_ok.all() and report.counts()["any"] == 0  # nothing found inconsistent ...
    assert not report.sequence_ok  # ... but not verified: never counted consistent
    assert report.not_verified == ["lv_base_width"]
    assert report.unmeasured_counts() == {"lv_area": 0, "lv_base_width": 1}
    whole = temporal_consistency({"lv_area": np.linspace(9, 1, 6), "lv_base_width": np.linspace(2, 6, 6)}, thresholds)
    assert whole.sequence_ok and whole.not_verified == []
