"""The smoother's temporal checks by hand: bounds carried to another grid, taus with a margin, verdicts at, just below
and just above tau, the second check at the thresholds' grid, merged reports and the margin used.

The masks: three frames whose LV is a block of 5, 10, 5 pixels on a 5 x 5 grid (each pixel doubled: 20, 40, 20 on
10 x 10). With LV-area bounds (0, 25) on the 5 x 5 grid, d(1) = 10/25 - (5/25 + 5/25)/2 = 0.2 exactly in floating
point (0.4 is twice 0.2 in binary)."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.measure import attributes as attributes_module
from echolatent.measure.framecache import FrameCache
from echolatent.measure.temporal import TemporalReport, TemporalThresholds
from echolatent.temporal import checks

BELOW_ONE = np.nextafter(1.0, 0.0)


def _coarse() -> np.ndarray:
    masks = np.zeros((3, 5, 5), dtype=np.uint8)
    masks[0, 1:2, 0:5] = 1
    masks[1, 1:3, 0:5] = 1
    masks[2, 3:4, 0:5] = 1
    return masks


def _fine() -> np.ndarray:
    return np.repeat(np.repeat(_coarse(), 2, axis=1), 2, axis=2)


def _thresholds(tau: float, grid=(5, 5), spacing=None, high: float = 25.0) -> TemporalThresholds:
    return TemporalThresholds({"lv_area": (0.0, high)}, {"lv_area": tau}, grid, spacing, "hand")


ALL_BOUNDS = {"lv_area": (1.0, 2.0), "myo_area": (3.0, 4.0), "la_area": (5.0, 6.0), "lv_base_width": (7.0, 8.0),
              "lv_length": (9.0, 10.0), "epi_center_x": (11.0, 12.0), "epi_center_y": (13.0, 14.0),
              "lv_orientation": (15.0, 16.0)}


def test_thresholds_carried_to_another_grid_by_hand():
    """(10, 20) -> (30, 40): sy = 3, sx = 2; areas x 6, lengths x sqrt(6), x centre x 2, y centre x 3, angles x 1."""
    thresholds = TemporalThresholds(dict(ALL_BOUNDS), {"lv_area": 0.1}, (10, 20), None, "src")
    carried = checks.thresholds_at(thresholds, np.array([30, 40]))
    root = np.sqrt(6.0)
    expected = {"lv_area": (6.0, 12.0), "myo_area": (18.0, 24.0), "la_area": (30.0, 36.0),
                "lv_base_width": (7 * root, 8 * root), "lv_length": (9 * root, 10 * root),
                "epi_center_x": (22.0, 24.0), "epi_center_y": (39.0, 42.0), "lv_orientation": (15.0, 16.0)}
    assert carried.bounds.keys() == expected.keys()
    for name, (low, high) in expected.items():
        assert carried.bounds[name] == (pytest.approx(low, rel=1e-15), pytest.approx(high, rel=1e-15)), name
    assert carried.grid == (30, 40) and all(type(v) is int for v in carried.grid)
    assert carried.tau == {"lv_area": 0.1} and carried.spacing is None
    assert carried.note == "src; bounds carried from (10, 20) to (30, 40)"
    assert thresholds.bounds == ALL_BOUNDS and thresholds.grid == (10, 20)  # the original is left as it was


def test_thresholds_left_alone():
    on_grid = TemporalThresholds(dict(ALL_BOUNDS), {"lv_area": 0.1}, (10, 20))
    assert checks.thresholds_at(on_grid, [10, 20]) is on_grid
    no_grid = TemporalThresholds(dict(ALL_BOUNDS), {"lv_area": 0.1}, None)
    assert checks.thresholds_at(no_grid, (30, 40)) is no_grid
    in_mm = TemporalThresholds(dict(ALL_BOUNDS), {"lv_area": 0.1}, (10, 20), (0.3, 0.3))
    assert checks.thresholds_at(in_mm, (30, 40)) is in_mm


def test_margin_on_the_taus():
    thresholds = TemporalThresholds({"lv_area": (0.0, 1.0)}, {"lv_area": 0.4, "lv_length": 0.3}, note="base")
    half = checks.with_margin(thresholds, 0.5)
    assert half.tau == {"lv_area": 0.2, "lv_length": 0.15}
    assert half.note == "base; taus x 0.5" and half.bounds == thresholds.bounds
    assert thresholds.tau == {"lv_area": 0.4, "lv_length": 0.3}
    assert checks.with_margin(thresholds, 1.0).tau == thresholds.tau
    assert checks.with_margin(thresholds, 1e-9).tau["lv_area"] == pytest.approx(4e-10)
    for bad in (0.0, -0.5, np.nextafter(1.0, 2.0), 2.0):
        with pytest.raises(ValueError, match=r"the fraction of tau must lie in \(0, 1\], got "):
            checks.with_margin(thresholds, bad)


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    monkeypatch.setattr(checks, "ATTRIBUTE_CACHE", FrameCache())


@pytest.mark.parametrize(
    ("tau", "fraction", "consistent"),
    [(0.2, 1.0, True), (np.nextafter(0.2, 0.0), 1.0, False), (np.nextafter(0.2, 1.0), 1.0, True),
     (0.2, BELOW_ONE, False), (0.4, 0.5, True), (0.4, np.nextafter(0.5, 0.0), False),
     (0.4, np.nextafter(0.5, 1.0), True)],
)
def test_own_check_at_just_below_just_above_tau(tau, fraction, consistent):
    """d(1) = 0.2 at the masks' own grid (bounds carried from 5 x 5 to 10 x 10: x 4) and at the coarse grid."""
    for masks in (_fine(), _coarse()):
        report = checks.own_check(masks, None, _thresholds(tau), fraction)
        np.testing.assert_array_equal(report.d["lv_area"][1:2], [0.2])
        assert np.isnan(report.d["lv_area"][[0, 2]]).all()
        assert report.inconsistent["lv_area"].tolist() == [False, not consistent, False]
        assert report.sequence_ok is consistent


def test_own_check_in_millimetres():
    """Thresholds in mm: the masks are measured with their spacing (0.5 x 0.5 mm pixels: 5, 10, 5 mm^2 on the fine
    grid), not carried in pixels: with bounds (0, 25) mm^2, d(1) = 0.2."""
    thresholds = _thresholds(0.2, grid=None, spacing=(1.0, 1.0))
    report = checks.own_check(_fine(), (0.5, 0.5), thresholds)
    np.testing.assert_allclose(report.d["lv_area"][1], 0.2, rtol=1e-12)
    assert report.sequence_ok
    assert not checks.own_check(_fine(), (0.5, 0.5), thresholds, BELOW_ONE).sequence_ok


def test_second_report_at_the_thresholds_grid():
    """Masks on 10 x 10, thresholds of the 5 x 5 grid: two reports, the second measured on the masks resampled to
    5 x 5 (areas 5, 10, 5 with bounds (0, 25); not resampled, d would be 40/25 - 20/25 = 0.8); the margin applies
    to both."""
    reports = checks.temporal_reports(_fine(), None, _thresholds(0.4), 0.5)
    assert len(reports) == 2
    for report in reports:
        np.testing.assert_array_equal(report.d["lv_area"][1:2], [0.2])
        assert report.sequence_ok
    strict = checks.temporal_reports(_fine(), None, _thresholds(0.4), np.nextafter(0.5, 0.0))
    assert [r.sequence_ok for r in strict] == [False, False]
    assert len(checks.temporal_reports(_coarse(), None, _thresholds(0.4))) == 1
    assert len(checks.temporal_reports(_fine(), None, _thresholds(0.4, grid=None))) == 1
    assert len(checks.temporal_reports(_fine(), None, _thresholds(0.4, grid=[10, 10]))) == 1


def test_reports_in_millimetres_use_the_spacing():
    """Thresholds in mm on the 5 x 5 grid, masks on 10 x 10 with 0.5 mm pixels: both reports resample to 5 x 5
    (1 mm pixels): areas 5, 10, 5 mm^2, d(1) = 0.2 with bounds (0, 25); without the spacing (1 mm) it would be 0.8."""
    thresholds = _thresholds(0.2, spacing=(1.0, 1.0))
    reports = checks.temporal_reports(_fine(), (0.5, 0.5), thresholds)
    assert len(reports) == 2
    for report in reports:
        np.testing.assert_allclose(report.d["lv_area"][1], 0.2, rtol=1e-12)
        assert report.sequence_ok


def test_unchecked_frames_are_not_held_to_tau():
    """d(1) = 0.2 > tau = 0.1: frame 1 fails unless it is unchecked (in pixels, in mm and in both reports)."""
    free = np.array([False, True, False])
    for spacing, thresholds in ((None, _thresholds(0.1)), ((0.5, 0.5), _thresholds(0.1, spacing=(1.0, 1.0)))):
        held = checks.own_check(_fine(), spacing, thresholds)
        assert held.inconsistent["lv_area"].tolist() == [False, True, False] and held.unchecked is None
        loose = checks.own_check(_fine(), spacing, thresholds, 1.0, free)
        assert loose.inconsistent["lv_area"].tolist() == [False, False, False] and loose.sequence_ok
        np.testing.assert_array_equal(loose.unchecked, free)
        reports = checks.temporal_reports(_fine(), spacing, thresholds, 1.0, free)
        assert len(reports) == 2 and all(r.sequence_ok for r in reports)
        assert all(np.array_equal(r.unchecked, free) for r in reports)
        np.testing.assert_array_equal(checks.merge_reports(reports).unchecked, free)
        assert not any(r.sequence_ok for r in checks.temporal_reports(_fine(), spacing, thresholds))
    with pytest.raises(ValueError, match=r"unchecked frames must be a \(3,\) bool array"):
        checks.own_check(_fine(), None, _thresholds(0.1), 1.0, np.zeros(4, bool))


def test_pixel_attributes_measure_only_new_frames(monkeypatch):
    measured = []
    compute = checks.compute_attributes

    def counted(masks, *args):
        measured.append(len(masks))
        return compute(masks, *args)

    monkeypatch.setattr(checks, "compute_attributes", counted)
    masks = _fine()
    first = checks.pixel_attributes(masks)
    direct = attributes_module.compute_attributes(masks)
    assert first.keys() == direct.keys() and list(first) == list(attributes_module.ATTRIBUTES)
    for name in direct:
        np.testing.assert_array_equal(first[name], direct[name])
    assert measured == [3]
    again = checks.pixel_attributes(masks[::-1])  # every frame cached, in another order
    np.testing.assert_array_equal(again["lv_area"], [20.0, 40.0, 20.0][::-1])
    np.testing.assert_array_equal(again["epi_center_y"], direct["epi_center_y"][::-1])
    assert measured == [3]
    mixed = np.concatenate([masks[1:2], np.zeros((1, 10, 10), np.uint8) + (np.arange(10) < 3), masks[0:1]])
    got = checks.pixel_attributes(mixed.astype(np.uint8))
    np.testing.assert_array_equal(got["lv_area"], [40.0, 30.0, 20.0])
    assert measured == [3, 1]


def _report(d: list[float], flags: list[bool]) -> TemporalReport:
    flags = np.array(flags)
    return TemporalReport({"a": np.array(d)}, {"a": flags}, ~flags, bool((~flags).all()))


def test_merge_reports_by_hand():
    one = _report([np.nan, 0.1, -0.5, np.nan, np.nan], [False, False, True, False, False])
    two = _report([np.nan, -0.3, 0.2, 0.05, np.nan], [False, True, False, False, False])
    assert checks.merge_reports([one]) is one
    merged = checks.merge_reports([one, two])
    np.testing.assert_array_equal(merged.d["a"], [np.nan, -0.3, -0.5, 0.05, np.nan])
    assert merged.inconsistent["a"].tolist() == [False, True, True, False, False]
    assert merged.frame_ok.tolist() == [True, False, False, True, True]
    assert merged.sequence_ok is False
    calm = checks.merge_reports([_report([np.nan, 0.1, np.nan], [False] * 3)] * 2)
    assert calm.sequence_ok is True and calm.frame_ok.all()


def test_margin_used_by_hand():
    report = TemporalReport({"a": np.array([np.nan, 0.1, -0.3, np.nan]), "b": np.array([np.nan, 0.2, 0.1, np.nan]),
                             "c": np.full(4, np.nan)}, {}, np.ones(4, bool), True)
    assert checks.margin_used(report, {"a": 0.5, "b": 0.25, "c": 1e-9}) == pytest.approx(0.8)
    assert checks.margin_used(report, {"a": 0.25, "b": 0.25, "c": 1.0}) == pytest.approx(1.2)
    assert checks.margin_used(TemporalReport({"c": np.full(3, np.nan)}, {}, np.ones(3, bool), True), {"c": 1.0}) == 0.0
    assert checks.TARGET == 0.85
    free = TemporalReport({"a": np.array([np.nan, 0.1, -0.3, np.nan])}, {}, np.ones(4, bool), True,
                          unchecked=np.array([False, False, True, False]))
    assert checks.margin_used(free, {"a": 0.5}) == pytest.approx(0.2)  # frame 2 is not held to tau
