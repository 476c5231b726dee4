"""Temporal thresholds and consistency by hand: every check at its limit (|d| = tau, max = min, tau = 0), bounds
from references with gaps, fitted taus of hand-made curves, the dict / file format, messages."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from measure_helpers import heart_frame

from echolatent.measure.attribute_info import PUBLISHED_TAU
from echolatent.measure.attributes import compute_attributes
from echolatent.measure.temporal import (
    TemporalReport,
    TemporalThresholds,
    second_difference,
    temporal_consistency,
    turning_frames,
)


def test_second_difference_by_hand():
    d = second_difference(np.array([10.0, 30.0, 20.0, 20.0]), (10.0, 50.0))
    # normalised 0, .5, .25, .25: d(1) = .5 - (0 + .25) / 2, d(2) = .25 - (.5 + .25) / 2
    np.testing.assert_allclose(d, [np.nan, 0.375, -0.125, np.nan], atol=1e-15)


def test_a_deviation_equal_to_tau_is_consistent():
    curve = np.array([0.0, 0.5, 0.0, 0.0])  # d = .5, -.25 in bounds (0, 1)
    at = temporal_consistency({"lv_area": curve}, TemporalThresholds({"lv_area": (0.0, 1.0)}, {"lv_area": 0.5}))
    np.testing.assert_array_equal(at.inconsistent["lv_area"], [False, False, False, False])
    assert at.sequence_ok and at.counts() == {"lv_area": 0, "any": 0}
    below = temporal_consistency({"lv_area": curve}, TemporalThresholds({"lv_area": (0.0, 1.0)}, {"lv_area": 0.25}))
    np.testing.assert_array_equal(below.inconsistent["lv_area"], [False, True, False, False])
    assert below.counts() == {"lv_area": 1, "any": 1} and not below.sequence_ok


def test_frames_fail_for_any_attribute():
    thresholds = TemporalThresholds({"lv_area": (0.0, 1.0), "la_area": (0.0, 1.0)}, {"lv_area": 0.1, "la_area": 0.1})
    report = temporal_consistency({"lv_area": np.array([0.0, 0.5, 0.0, 0.0, 0.0]),
                                   "la_area": np.array([0.0, 0.0, 0.0, 0.5, 0.0]),
                                   "lv_length": np.array([0.0, 9.0, 0.0, 9.0, 0.0])}, thresholds)  # no bounds
    assert set(report.d) == {"lv_area", "la_area"}
    # lv_area: d = .5, -.25 on frames 1, 2; la_area: -.25, .5 on frames 2, 3 (the end frames have no d)
    np.testing.assert_array_equal(report.frame_ok, [True, False, False, False, True])
    assert report.counts() == {"lv_area": 2, "la_area": 2, "any": 3}
    assert isinstance(report, TemporalReport) and report.unmeasured_counts() == {"lv_area": 0, "la_area": 0}


@pytest.mark.parametrize(("bounds", "tau", "message"), [
    ({"lv_area": (1.0, 1.0)}, {}, r"bounds of lv_area must be finite with max > min, got \(1.0, 1.0\)"),
    ({"lv_area": (0.0, np.inf)}, {}, "bounds of lv_area"),
    ({"lv_area": (np.nan, 1.0)}, {}, "bounds of lv_area"),
    ({}, {"lv_area": 0.0}, "tau of lv_area must be positive, got 0.0"),
    ({}, {"lv_area": np.nan}, "tau of lv_area must be positive, got nan"),
    ({}, {"lv_area": np.inf}, "tau of lv_area must be positive, got inf"),
])
def test_invalid_thresholds_at_their_limits(bounds, tau, message):
    with pytest.raises(ValueError, match=message):
        TemporalThresholds(bounds, tau)


def test_tiny_positive_values_are_valid():
    thresholds = TemporalThresholds({"lv_area": (0.0, 1e-300)}, {"lv_area": 1e-300})
    assert thresholds.bounds == {"lv_area": (0.0, 1e-300)} and thresholds.tau == {"lv_area": 1e-300}


def test_consistency_errors_name_the_problem():
    thresholds = TemporalThresholds.published({"lv_area": (0.0, 1.0), "la_area": (0.0, 1.0)})
    with pytest.raises(ValueError, match=r"the thresholds have bounds for \['la_area', 'lv_area'\]"):
        temporal_consistency({"lv_length": np.zeros(5)}, thresholds)
    with pytest.raises(ValueError, match=r"different lengths: \[4, 5\]"):
        temporal_consistency({"lv_area": np.zeros(5), "la_area": np.zeros(4)}, thresholds)
    with pytest.raises(ValueError, match="at least 3 frames, got 2"):
        temporal_consistency({"lv_area": np.zeros(2)}, thresholds)
    assert temporal_consistency({"lv_area": np.zeros(3)}, thresholds).sequence_ok
    no_tau = TemporalThresholds({"lv_area": (0.0, 1.0)}, {})
    with pytest.raises(ValueError, match="no attribute has both bounds and tau"):
        temporal_consistency({"lv_area": np.zeros(5)}, no_tau)


def test_published_thresholds():
    bounds = {"lv_area": (0.0, 1.0)}
    thresholds = TemporalThresholds.published(bounds, grid=(4, 5))
    assert thresholds.tau == PUBLISHED_TAU and thresholds.tau is not PUBLISHED_TAU
    assert thresholds.note == "published taus" and thresholds.grid == (4, 5) and thresholds.bounds == bounds
    assert thresholds.bounds is not bounds and TemporalThresholds.published().bounds == {}
    assert TemporalThresholds().tau == PUBLISHED_TAU and TemporalThresholds().note == ""


def frames(lengths, size=128):
    return np.stack([heart_frame(size=size, length=n, half_width=n // 2) for n in lengths])


def without_myo(frame: np.ndarray) -> np.ndarray:
    return np.where(frame == 2, 0, frame).astype(np.uint8)  # no MYO: no base width (NaN)


def test_bounds_from_references_skip_gaps_and_constant_attributes():
    first, second = frames([40, 44, 42]), frames([46, 41, 43])
    second[1] = without_myo(second[1])
    thresholds = TemporalThresholds.from_reference([first, second], spacing=(0.5, 0.25), tau={"lv_area": 0.3})
    areas = [(f == 1).sum() * 0.125 for f in (*first, *second)]
    assert thresholds.bounds["lv_area"] == (min(areas), max(areas))
    widths = [compute_attributes(m, (0.5, 0.25))["lv_base_width"] for m in (first, second)]
    assert np.isnan(widths[1][1]) and np.isfinite(np.delete(np.concatenate(widths), 4)).all()
    assert thresholds.bounds["lv_base_width"] == (np.nanmin(widths), np.nanmax(widths))
    assert thresholds.tau == {"lv_area": 0.3} and thresholds.spacing == (0.5, 0.25) and thresholds.grid == (128, 128)
    assert thresholds.note == "2 references"
    constant = TemporalThresholds.from_reference([frames([40, 40, 40])])
    assert "lv_area" not in constant.bounds and constant.note == "1 references"


def test_references_must_exist_and_share_a_grid():
    with pytest.raises(ValueError) as error:
        TemporalThresholds.from_reference([])
    assert str(error.value) == "from_reference needs at least one reference mask array"
    with pytest.raises(ValueError, match=r"one grid, got \[\(96, 96\), \(128, 128\)\]"):
        TemporalThresholds.from_reference([frames([40, 44]), frames([30, 33], size=96)])


def test_fitted_tau_is_the_largest_reference_deviation_unless_the_given_one_is_larger():
    lengths = [40, 48, 40, 44]
    references = [frames(lengths), frames([44, 41])]  # the 2-frame reference has no d
    thresholds = TemporalThresholds.from_reference(references, fit_tau=True)
    a = np.array([(f == 1).sum() for f in frames(lengths)], dtype=float)
    low, high = thresholds.bounds["lv_area"]
    n = (a - low) / (high - low)
    worst = max(abs(n[1] - (n[0] + n[2]) / 2), abs(n[2] - (n[1] + n[3]) / 2))
    assert worst > PUBLISHED_TAU["lv_area"]
    assert thresholds.tau["lv_area"] == pytest.approx(worst, rel=1e-12)
    assert thresholds.note == "2 references, fitted taus"
    larger = TemporalThresholds.from_reference(references, tau={"lv_area": 1.5}, fit_tau=True)
    assert worst < 1.5 and larger.tau["lv_area"] == 1.5
    three = TemporalThresholds.from_reference([frames([40, 48, 40])], fit_tau=True)
    assert three.tau["lv_area"] == 1.0  # normalised 0, 1, 0: d = 1 on a reference of 3 frames
    lengths = [40, 48, 44, 46]
    unset = TemporalThresholds.from_reference([frames(lengths)], tau={"la_area": 0.9}, fit_tau=True)
    a = np.array([(f == 1).sum() for f in frames(lengths)], dtype=float)
    n = (a - a.min()) / (a.max() - a.min())
    worst = max(abs(n[1] - (n[0] + n[2]) / 2), abs(n[2] - (n[1] + n[3]) / 2))
    assert worst < 1 and unset.tau["lv_area"] == pytest.approx(worst, rel=1e-12)  # no tau given: the deviation


def test_fitted_tau_skips_an_attribute_never_measured_inside():
    reference = frames([40, 48, 44])
    reference[1] = without_myo(reference[1])  # the one d of lv_base_width is NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's all-NaN warning
        thresholds = TemporalThresholds.from_reference([reference], fit_tau=True)
    assert "lv_base_width" in thresholds.bounds
    assert thresholds.tau["lv_base_width"] == PUBLISHED_TAU["lv_base_width"]


def test_dict_and_file_format(tmp_path):
    thresholds = TemporalThresholds({"lv_area": (1.0, 2.0)}, {"lv_area": 0.5}, (4, 5), (0.5, 0.25), "made here")
    data = thresholds.to_dict()
    assert data == {"bounds": {"lv_area": [1.0, 2.0]}, "tau": {"lv_area": 0.5}, "grid": [4, 5],
                    "spacing": [0.5, 0.25], "note": "made here"}
    path = thresholds.save(tmp_path / "t.json")
    assert json.loads(path.read_text()) == data
    loaded = TemporalThresholds.load(path)
    assert loaded == thresholds and loaded.grid == (4, 5) and loaded.spacing == (0.5, 0.25)
    bare = TemporalThresholds({"lv_area": (1.0, 2.0)}, {"lv_area": 0.5})
    assert bare.to_dict()["grid"] is None and bare.to_dict()["spacing"] is None
    back = TemporalThresholds.from_dict({"bounds": {"lv_area": [1, 2]}, "tau": {"lv_area": 1}}, note="from a model")
    assert back == TemporalThresholds({"lv_area": (1.0, 2.0)}, {"lv_area": 1.0}, None, None, "from a model")
    assert isinstance(back.bounds["lv_area"][0], float) and isinstance(back.tau["lv_area"], float)
    assert TemporalThresholds.from_dict({"bounds": {}, "tau": {}}).note == ""


def test_turning_frames_by_hand():
    assert turning_frames(["ED", "", "", "ES"]).tolist() == [False] * 4  # the turns of one half cycle are its ends
    assert turning_frames(["", "", "", ""]).tolist() == [False] * 4
    np.testing.assert_array_equal(turning_frames(["ED", "", "ES", "", "", "ED"]), [0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(turning_frames(["", "ES", "", "", "ED", ""], radius=0), [0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(turning_frames(["", "ES", "", "", "", "", "ED", ""], radius=2),
                                  [1, 1, 1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(turning_frames(["", "", "", "", "ES", "", "", ""], radius=2),
                                  [0, 0, 1, 1, 1, 1, 1, 0])
    assert turning_frames(["", "", "ES", "", ""]).dtype == bool


def test_unchecked_frames_are_not_held_to_tau():
    thresholds = TemporalThresholds({"lv_area": (0.0, 1.0)}, {"lv_area": 0.1})
    curve = np.array([0.0, 0.5, 0.0, 0.5, 0.0])  # d = .5, -.5, .5 on frames 1-3
    held = temporal_consistency({"lv_area": curve}, thresholds)
    assert held.unchecked is None and held.counts() == {"lv_area": 3, "any": 3}
    report = temporal_consistency({"lv_area": curve}, thresholds, np.array([0, 1, 1, 0, 0]))
    np.testing.assert_array_equal(report.inconsistent["lv_area"], [False, False, False, True, False])
    np.testing.assert_array_equal(report.unchecked, [False, True, True, False, False])
    assert report.unchecked.dtype == bool and not report.sequence_ok
    free = temporal_consistency({"lv_area": curve}, thresholds, [False, True, True, True, False])
    assert free.sequence_ok and free.frame_ok.all()
    with pytest.raises(ValueError, match=r"unchecked frames must be a \(5,\) bool array, got shape \(4,\)"):
        temporal_consistency({"lv_area": curve}, thresholds, np.zeros(4, bool))


def test_deviations_are_computed_in_float64():
    curve = np.array([0.0, 0.1, 0.0, 0.2], np.float32)
    report = temporal_consistency({"lv_area": curve}, TemporalThresholds({"lv_area": (0.0, 3.0)}, {"lv_area": 0.5}))
    expected = second_difference(curve.astype(np.float64), (0.0, 3.0))
    assert report.d["lv_area"].dtype == np.float64
    np.testing.assert_array_equal(report.d["lv_area"], expected)
