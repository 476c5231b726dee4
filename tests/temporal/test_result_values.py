"""A smoothing run's report and the steps every smoother shares, by hand: the residual messages and the JSON summary
of a report built here, the input checks at their limits (3 frames, 8 x 8 pixels, an empty sequence), thresholds
measured on a sequence and the output's measurement (temporal at the masks' own resolution, validity)."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.labels import Label
from echolatent.measure.framecache import FrameCache
from echolatent.measure.temporal import TemporalReport, TemporalThresholds
from echolatent.measure.validity import CRITERIA, ValidityReport, ValidityThresholds, check_validity
from echolatent.temporal import checks, result
from echolatent.temporal.result import Closest, SmoothReport, check_sequence, measure_output, measured_thresholds

from .sequences import ring_sequence as _heart


def _validity(valid: list[bool], failing: dict[int, list[str]]) -> ValidityReport:
    passed = {name: np.ones(len(valid), bool) for name in CRITERIA}
    for frame, names in failing.items():
        for name in names:
            passed[name][frame] = False
    criteria = {name: np.zeros(len(valid)) for name in CRITERIA}
    return ValidityReport(np.array(valid), criteria, passed, ValidityThresholds())


def _temporal() -> TemporalReport:
    flags = {"lv_area": np.array([False, True, False, True]), "la_area": np.zeros(4, bool)}
    return TemporalReport({"lv_area": np.zeros(4), "la_area": np.zeros(4)}, flags,
                          np.array([True, False, True, False]), False)


def test_empty_report():
    report = SmoothReport("none")
    assert report.temporal_ok is None and report.valid_frames == 0 and report.residual() == []
    assert report.as_dict() == {
        "method": "none", "rounds": 0, "tightened": [], "temporal_ok": None, "inconsistent_frames": None,
        "frames_not_held_to_tau": None, "valid_frames": 0, "frames": 0, "residual": [], "decoded": None,
        "weights": [], "input_sigma": None, "target": None, "margin": None, "turns_kept": [], "seconds": 0.0,
    }


def test_report_by_hand():
    names = [CRITERIA[0], CRITERIA[3]]
    report = SmoothReport("exact", rounds=2, tightened=[{"round": 1}], temporal=_temporal(),
                          validity=_validity([True, False, True, False], {1: names, 3: [CRITERIA[2]]}),
                          seconds=1.234567, decoded="blend", weights=[0.0, 0.5, 1.0, 0.0], input_sigma=1.5,
                          target=0.85, margin=0.123456, turns_kept=[2])
    expected_residual = ["lv_area inconsistent at frames [1, 3]", f"frame 1 invalid: {names[0]}, {names[1]}",
                         f"frame 3 invalid: {CRITERIA[2]}"]
    assert report.residual() == expected_residual
    assert report.temporal_ok is False and report.valid_frames == 2
    assert report.as_dict() == {
        "method": "exact", "rounds": 2, "tightened": [{"round": 1}], "temporal_ok": False,
        "inconsistent_frames": {"lv_area": 2, "la_area": 0, "any": 2}, "frames_not_held_to_tau": None,
        "valid_frames": 2, "frames": 4,
        "residual": expected_residual, "decoded": "blend", "weights": [0.0, 0.5, 1.0, 0.0], "input_sigma": 1.5,
        "target": 0.85, "margin": 0.1235, "turns_kept": [2], "seconds": 1.2346,
    }
    assert SmoothReport("x", margin=0.0).as_dict()["margin"] == 0.0  # a margin of 0 is a margin, not None
    report.temporal.unchecked = np.array([True, False, False, True])
    assert report.as_dict()["frames_not_held_to_tau"] == [0, 3]


def test_passing_report():
    flags = {"lv_area": np.zeros(4, bool)}
    calm = TemporalReport({"lv_area": np.zeros(4)}, flags, np.ones(4, bool), True)
    report = SmoothReport("gaussian", temporal=calm, validity=_validity([True] * 4, {}))
    assert report.temporal_ok is True and report.valid_frames == 4 and report.residual() == []




def test_input_checks_at_their_limits(tmp_path):
    path = tmp_path / "seq.nii.gz"
    ok = np.zeros((3, 8, 8), dtype=np.int16)
    ok[1, 3, 3] = 1
    checked = check_sequence(ok, path)
    assert checked.dtype == np.uint8 and checked.shape == (3, 8, 8)
    np.testing.assert_array_equal(checked, ok)
    with pytest.raises(InputError, match=r"2 frame\(s\): temporal smoothing needs a sequence of at least 3$") as err:
        check_sequence(ok[:2], path)
    assert err.value.path == path
    for shape in ((3, 7, 8), (3, 8, 7)):
        small = np.ones(shape, dtype=np.uint8)
        with pytest.raises(InputError) as err:
            check_sequence(small, path)
        assert err.value.problem == f"frames of {shape[1]} x {shape[2]} pixels are too small to smooth"
        assert err.value.path == path
    with pytest.raises(InputError) as err:
        check_sequence(np.zeros((3, 8, 8), np.uint8), path)
    assert err.value.problem == "empty masks: no LV, MYO or LA in any frame, nothing to smooth"
    assert err.value.path == path
    with pytest.raises(InputError, match="integer labels") as err:
        check_sequence(ok.astype(np.float32), path)
    assert err.value.path == path
    with pytest.raises(InputError, match=r"expected labels \(T, H, W\)") as err:
        check_sequence(ok[0], path)
    assert err.value.path == path


def test_thresholds_measured_on_the_sequence():
    masks = _heart(6)
    own = measured_thresholds(masks, None, "own")
    assert own.note == "own" and own.grid == (24, 24)
    lv = (masks == Label.LV).sum(axis=(1, 2))
    assert own.bounds["lv_area"] == (lv.min(), lv.max())
    doubled = np.repeat(np.repeat(masks, 2, axis=1), 2, axis=2)
    coarse = measured_thresholds(doubled, [24, 24], "coarse")  # resampled to the grid given first
    assert coarse.grid == (24, 24) and coarse.bounds["lv_area"] == (lv.min(), lv.max())
    flat = np.repeat(masks[:1], 4, axis=0)  # no attribute changes: no range, no thresholds
    assert measured_thresholds(flat, None, "flat") is None


def test_output_measured_at_its_own_resolution(monkeypatch):
    """Bounds of the 24 x 24 grid carried to 48 x 48 masks: the same deviations as measured on the coarse grid."""
    monkeypatch.setattr(checks, "ATTRIBUTE_CACHE", FrameCache())
    masks = _heart(6)
    thresholds = TemporalThresholds.from_reference([masks])
    doubled = np.repeat(np.repeat(masks, 2, axis=1), 2, axis=2)
    temporal, validity = measure_output(doubled, None, thresholds, None)
    coarse = checks.own_check(masks, None, thresholds)
    assert {"lv_area", "myo_area"} <= set(temporal.d)
    for name in ("lv_area", "myo_area"):
        np.testing.assert_allclose(temporal.d[name], coarse.d[name], atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(validity.valid, check_validity(doubled).valid)
    strict_tau = {name: 1e-6 for name in thresholds.tau}
    strict = TemporalThresholds(thresholds.bounds, strict_tau, thresholds.grid)
    temporal, _ = measure_output(doubled, None, strict, None)
    assert not temporal.sequence_ok
    half, _ = measure_output(masks, None, thresholds, None, 0.5)
    full, _ = measure_output(masks, None, thresholds, None)
    d = np.abs(full.d["lv_area"][1:-1])
    tau = thresholds.tau["lv_area"]
    np.testing.assert_array_equal(half.inconsistent["lv_area"][1:-1], d > 0.5 * tau)
    np.testing.assert_array_equal(full.inconsistent["lv_area"][1:-1], d > tau)


def test_unchecked_frames_reach_the_temporal_check(monkeypatch):
    monkeypatch.setattr(checks, "ATTRIBUTE_CACHE", FrameCache())
    masks = _heart(6)
    thresholds = TemporalThresholds.from_reference([masks])
    thresholds.tau = dict.fromkeys(thresholds.tau, 1e-6)  # every interior frame fails when held to tau
    free = np.array([False, True, True, False, True, False])
    temporal, _ = measure_output(masks, None, thresholds, None, unchecked=free)
    np.testing.assert_array_equal(temporal.unchecked, free)
    np.testing.assert_array_equal(temporal.frame_ok, [True, True, True, False, True, True])
    half, _ = measure_output(masks, None, thresholds, None, 0.5, free)
    np.testing.assert_array_equal(half.unchecked, free)


def test_output_measured_in_millimetres():
    """Thresholds in mm: the LV areas of 0.5 x 0.5 mm pixels are a quarter of the pixel counts; bounds (0, 100)."""
    masks = _heart(6)
    thresholds = TemporalThresholds({"lv_area": (0.0, 100.0)}, {"lv_area": 1.0}, None, (1.0, 1.0))
    temporal, _ = measure_output(masks, (0.5, 0.5), thresholds, None)
    area = 0.25 * (masks == Label.LV).sum(axis=(1, 2)) / 100.0
    np.testing.assert_allclose(temporal.d["lv_area"][1:-1], area[1:-1] - (area[:-2] + area[2:]) / 2, atol=1e-12)


def test_no_temporal_report_without_bounds():
    masks = _heart(4)
    limits = ValidityThresholds()
    temporal, validity = measure_output(masks, None, None, limits)
    assert temporal is None and validity.thresholds is limits
    temporal, _ = measure_output(masks, None, TemporalThresholds(), None)
    assert temporal is None
    assert result.MIN_FRAMES == 3


def _report_with(invalid: int, worst: float, frames: int = 5) -> SmoothReport:
    """A report whose validity fails ``invalid`` frames and whose largest |d| is ``worst`` (tau 1 on lv_area)."""
    report = SmoothReport("exact")
    valid = np.arange(frames) >= invalid
    report.validity = ValidityReport(valid, {n: np.zeros(frames) for n in CRITERIA},
                                     {n: valid.copy() for n in CRITERIA}, ValidityThresholds())
    d = np.zeros(frames)
    d[2] = -worst
    report.temporal = TemporalReport({"lv_area": d}, {"lv_area": np.abs(d) > 1}, np.abs(d) <= 1, worst <= 1)
    report.weights, report.decoded, report.input_sigma = [worst] * frames, f"d{worst}", invalid
    return report


def test_closest_keeps_fewest_invalid_then_smallest_deviation_first_on_ties():
    closest = Closest()
    with pytest.raises(RuntimeError, match="^no candidate output was measured$"):
        closest.restore(SmoothReport("exact"))
    offers = [(2, 0.5), (1, 3.0), (1, 1.2), (3, 0.1), (1, 1.2), (0, 9.0), (0, 9.5)]
    kept = []
    for k, (invalid, worst) in enumerate(offers):
        closest.offer(np.full((5, 2, 2), k, np.uint8), _report_with(invalid, worst), {"lv_area": 1.0})
        kept.append(int(closest.masks[0, 0, 0]))
    assert kept == [0, 1, 2, 2, 2, 5, 5]
    assert closest.key == (0, 9.0)
    report = SmoothReport("exact")
    out = closest.restore(report)
    assert (out == 5).all() and report.decoded == "d9.0" and report.input_sigma == 0 and report.weights == [9.0] * 5
    assert report.validity.valid.all() and report.temporal.d["lv_area"][2] == -9.0


def test_closest_without_a_temporal_report_orders_by_invalid_frames():
    closest = Closest()
    for k, invalid in enumerate((2, 1, 1)):
        report = _report_with(invalid, 0.5)
        report.temporal = None  # no bounds: validity only
        closest.offer(np.full((5, 2, 2), k, np.uint8), report, {})
    assert closest.key == (1, 0.0) and (closest.masks == 1).all()
