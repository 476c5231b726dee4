"""The Smoother's own steps by hand, on a tiny random shape model: argument limits (at and either side), latent
limits per dimension, the tightening of limits around failing frames, which frames fail, the decode that reuses
unmoved frames, the probability cache, and the shortcut for a sequence that is already smooth."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from echolatent.errors import InputError
from echolatent.latent import codec
from echolatent.measure.attribute_info import PUBLISHED_TAU
from echolatent.measure.temporal import TemporalReport, TemporalThresholds
from echolatent.measure.validity import CRITERIA, ValidityReport, ValidityThresholds
from echolatent.models.shape import ShapeModel, ShapeModelConfig, save_model
from echolatent.temporal import smooth
from echolatent.temporal.input_checks import already_smooth, measure_input
from echolatent.temporal.result import SmoothReport
from echolatent.temporal.smooth import Smoother
from echolatent.temporal.smooth_setup import check_arguments

from .sequences import ring_sequence as _heart
from .sequences import tiny_shape_model


@pytest.fixture(scope="module")
def tiny() -> ShapeModel:
    return tiny_shape_model(torch.linspace(1.0, 2.0, 10))


GOOD = {"method": "exact", "decode": "residual", "blends": (0.6, 0.9), "input_sigmas": (1.5, 3.0), "target": 0.85,
        "keep_below": 0.5, "tighten": 0.25, "max_rounds": 2}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "gaussian"}, r"unknown smoothing method 'gaussian'; expected one of \('exact', 'snake'\)"),
        ({"decode": "half"}, r"unknown decode mode 'half'; expected one of \('residual', 'full'\)"),
        ({"blends": (0.5,)}, r"blend weights must increase within \(0.5, 1\), got \(0.5,\)"),
        ({"blends": (1.0,)}, "blend weights"),
        ({"blends": (0.9, 0.6)}, "blend weights"),
        ({"blends": (0.6, 0.6)}, "blend weights"),
        ({"input_sigmas": ()}, r"input sigmas must increase within \[0, 100\) frames, got \(\)"),
        ({"input_sigmas": (-0.5,)}, "input sigmas"),
        ({"input_sigmas": (100.0,)}, "input sigmas"),
        ({"input_sigmas": (3.0, 1.5)}, "input sigmas"),
        ({"input_sigmas": (1.5, 1.5)}, "input sigmas"),
        ({"target": 0.0}, r"need 0 < target <= 1 and 0 <= keep_below <= target, got 0.0, 0.5"),
        ({"target": np.nextafter(1.0, 2.0)}, "target"),
        ({"keep_below": -0.1}, "keep_below"),
        ({"keep_below": np.nextafter(0.85, 1.0)}, "keep_below"),
        ({"tighten": 0.0}, r"need 0 < tighten < 1 and max_rounds >= 0, got 0.0, 2"),
        ({"tighten": 1.0}, "tighten"),
        ({"max_rounds": -1}, "max_rounds"),
    ],
)
def test_arguments_out_of_range(change, message):
    with pytest.raises(ValueError, match=message):
        check_arguments(**{**GOOD, **change})


@pytest.mark.parametrize(
    "change",
    [{}, {"method": "snake", "decode": "full"}, {"blends": ()}, {"blends": (np.nextafter(0.5, 1.0),)},
     {"blends": (np.nextafter(1.0, 0.0),)}, {"input_sigmas": (0.0,)}, {"input_sigmas": (0.0, np.nextafter(100, 0))},
     {"target": 1.0, "keep_below": 1.0}, {"keep_below": 0.0}, {"keep_below": 0.85}, {"tighten": 1e-9},
     {"tighten": np.nextafter(1.0, 0.0)}, {"max_rounds": 0}, {"max_rounds": None}],
)
def test_arguments_at_their_limits(change):
    check_arguments(**{**GOOD, **change})


def test_a_model_without_latent_range(tiny, tmp_path):
    torch.manual_seed(0)
    bare = ShapeModel(ShapeModelConfig(input_size=16, channels=(4,), bottleneck_channels=2, latent_dim=10)).eval()
    low = torch.zeros(10)
    high = torch.ones(10)
    high[3] = 0.0  # one dimension without a range
    bare.set_latent_range(low, high)
    with pytest.raises(InputError, match="the shape model has no latent range") as err:
        Smoother(bare, "exact")
    assert err.value.path is None  # a loaded model: no file to name (it used to fail building the error)
    path = save_model(bare, tmp_path / "bare.pt")
    with pytest.raises(InputError, match="the shape model has no latent range") as err:
        Smoother(path, "exact", thresholds=TemporalThresholds())
    assert err.value.path == path
    assert Smoother(tiny, "exact").model is tiny


def test_latent_limits_by_dimension(tiny):
    """Dimension k carries attribute k (the eight defaults), the last two are free (inf)."""
    attributes = tiny.config.attributes
    given = TemporalThresholds({"lv_area": (0.0, 1.0)}, {"lv_area": 0.01, attributes[3]: 0.2})
    tau = Smoother(tiny, "exact", thresholds=given)._latent_tau()
    expected = np.full(10, np.inf)
    expected[0], expected[3] = 0.01, 0.2
    assert attributes[0] == "lv_area" and len(attributes) == 8
    np.testing.assert_array_equal(tau, expected)
    published = Smoother(tiny, "exact")._latent_tau()  # a loaded model and no thresholds: the published taus
    np.testing.assert_array_equal(published, [PUBLISHED_TAU[name] for name in attributes] + [np.inf, np.inf])
    low, high = Smoother(tiny, "exact")._latent_range()
    assert low.dtype == high.dtype == np.float64
    np.testing.assert_array_equal(low, np.full(10, -2.0))
    np.testing.assert_allclose(high, np.linspace(1.0, 2.0, 10), rtol=1e-7)


def _validity(valid: list[bool]) -> ValidityReport:
    passed = {name: np.array(valid) for name in CRITERIA}
    return ValidityReport(np.array(valid), {name: np.zeros(len(valid)) for name in CRITERIA}, passed,
                          ValidityThresholds())


def _report(valid: list[bool], frame_ok: list[bool] | None) -> SmoothReport:
    temporal = None
    if frame_ok is not None:
        ok = np.array(frame_ok)
        temporal = TemporalReport({"lv_area": np.zeros(len(ok))}, {"lv_area": ~ok}, ok, bool(ok.all()))
    return SmoothReport("exact", temporal=temporal, validity=_validity(valid))


def test_failing_frames(tiny):
    smoother = Smoother(tiny, "exact")
    report = _report([True, False, True, True, True], [True, True, True, False, True])
    np.testing.assert_array_equal(smoother._failing_frames(report), [False, True, False, True, False])
    np.testing.assert_array_equal(smoother._failing_frames(_report([True, False, True], None)), [False, True, False])
    dims = smoother.failing_dims(report)
    assert dims == {1: list(range(10)), 3: list(range(10))}
    assert smoother.failing_dims(_report([True] * 3, [True] * 3)) == {}


def test_tightening_by_hand(tiny, caplog):
    """T = 8, d = 10; frame 4 fails. Round 1: rows 2..4 (d at frames 3..5) of every dim drop to 0.25 |d| of the
    last solution there (at least MIN_LIMIT, never above the old limit); round 2: rows 1..5."""
    smoother = Smoother(tiny, "exact", tighten=0.25)
    smoothed = np.zeros((8, 10))
    smoothed[:, 0] = [0.0, 0.0, 0.0, 0.0, 0.4, 0.0, 0.0, 0.0]  # d = 0.4 at frame 4, -0.2 at frames 3 and 5
    smoothed[:, 1] = [0.0, 0.0, 0.0, 0.0, 4e-6, 0.0, 0.0, 0.0]  # tiny deviations: the floor MIN_LIMIT = 1e-6
    limits = np.full((6, 10), 0.08)
    report = _report([True] * 4 + [False] + [True] * 3, [True] * 8)
    with caplog.at_level(logging.DEBUG, logger="echolatent.temporal.smooth"):
        assert smoother._tighten(limits, smoothed, report, 1) is True
    expected = np.full((6, 10), 0.08)
    expected[2:5, :] = 1e-6  # dims with no deviation there: the floor
    expected[2:5, 0] = [0.05, 0.08, 0.05]  # 0.25 * (0.2, 0.4, 0.2), capped by the old 0.08
    expected[2:5, 1] = [1e-6, 1e-6, 1e-6]  # 0.25 * (2e-6, 4e-6, 2e-6) < 1e-6
    np.testing.assert_allclose(limits, expected, rtol=1e-12)
    assert report.tightened == [{"round": 1, "frames": [4], "dims": list(range(10))}]
    assert caplog.messages == [f"round 1: tightened the latent limits of dims {list(range(10))} around frames [4]"]
    wider = np.full((6, 10), 0.08)
    smoother._tighten(wider, smoothed, report, 2)
    assert (wider[1:6] < 0.08).any(axis=1).all() and (wider[0] == 0.08).all()
    edge = np.full((6, 10), 0.08)
    smoother._tighten(edge, smoothed, _report([False] + [True] * 7, [True] * 8), 1)  # frame 0: rows 0..0
    assert (edge[0] < 0.08).any() and (edge[1:] == 0.08).all()
    last = np.full((6, 10), 0.08)
    smoother._tighten(last, smoothed, _report([True] * 7 + [False], [True] * 8), 3)  # frame 7: rows 3..5
    assert (last[3:] < 0.08).any(axis=1).all() and (last[:3] == 0.08).all()
    smoother._unchecked = np.array([False, False, True, False, False, False, False, False])  # frame 2 (row 1) free
    free = np.full((6, 10), 0.08)
    smoother._tighten(free, smoothed, report, 2)  # report: frame 4 fails; rows 1..5 tightened, row 1 left free
    assert np.isinf(free[1]).all() and (free[[2, 3, 4, 5]] < 0.08).any(axis=1).all() and (free[0] == 0.08).all()
    smoother._unchecked = None
    calm = np.full((6, 10), 0.08)
    report = _report([True] * 8, [True] * 8)
    assert smoother._tighten(calm, smoothed, report, 1) is False
    assert (calm == 0.08).all() and report.tightened == []


def test_decode_reuses_frames_that_did_not_move(tiny, monkeypatch):
    """A frame whose code moved by at most REUSE_TOLERANCE keeps its mask; one that moved more is decoded again."""
    decoded = []
    real = codec.decode_latents

    def counted(model, latents, size):
        decoded.append(len(latents))
        return real(model, latents, size)

    monkeypatch.setattr(codec, "decode_latents", counted)
    smoother = Smoother(tiny, "exact")
    previous = np.full((4, 10), 0.5)
    codes = previous.copy()
    codes[1, 2] += 2**-21  # 4.8e-7, within the tolerance: reused
    codes[2, 5] += 3e-6  # moved: decoded
    masks = np.full((4, 24, 24), 9, dtype=np.uint8)  # marks: reused frames keep them
    out = smoother._decode(codes, masks.shape, previous, masks)
    assert decoded == [1]
    assert (out[[0, 1, 3]] == 9).all() and out[2].max() < 4
    assert (masks == 9).all()  # the old masks are left as they were
    fresh = smoother._decode(codes, masks.shape)
    assert decoded == [1, 4] and fresh.dtype == np.uint8 and fresh.max() < 4
    np.testing.assert_array_equal(fresh[2], out[2])
    smoother._decode(codes + 1.0, masks.shape, previous, masks)
    assert decoded == [1, 4, 4]


def test_probabilities_are_cached_per_code_and_size(tiny, monkeypatch):
    calls = []
    real = codec.decode_probs

    def counted(model, latents, size):
        calls.append((len(latents), size))
        return real(model, latents, size)

    monkeypatch.setattr(codec, "decode_probs", counted)
    smoother = Smoother(tiny, "exact")
    codes = np.random.default_rng(0).uniform(0.2, 0.8, (3, 10))
    first = smoother._probs(codes, (24, 24))
    assert first.shape == (3, 4, 24, 24) and first.dtype == np.float32
    again = smoother._probs(codes[[2, 0]], (24, 24))
    np.testing.assert_array_equal(again, first[[2, 0]])
    assert calls == [(3, (24, 24))]
    smoother._probs(codes[:1], (20, 24))  # another size: decoded again
    assert calls == [(3, (24, 24)), (1, (20, 24))]
    assert smoother._cache_bytes == 3 * first[0].nbytes + 4 * 20 * 24 * 4
    monkeypatch.setattr(smooth, "PROBS_CACHE_BYTES", first[0].nbytes)  # room for one more frame only
    small = Smoother(tiny, "exact")
    small._probs(codes, (24, 24))
    assert len(small._cache) == 1 and small._cache_bytes == first[0].nbytes
    small._probs(codes, (24, 24))
    assert calls[-2:] == [(3, (24, 24)), (2, (24, 24))]


def test_shortcut_needs_bounds_and_a_positive_keep_below(tiny):
    masks = np.zeros((4, 24, 24), dtype=np.uint8)
    masks[:, 8:16, 8:16] = 1
    assert measure_input(masks, None, TemporalThresholds(), None, 0.0, None) is None
    assert measure_input(masks, None, None, None, 0.5, None) is None
    assert measure_input(masks, None, TemporalThresholds(), None, 0.5, None) is None
    bounded = TemporalThresholds.published({"lv_area": (0.0, 100.0)})
    temporal, validity = measure_input(masks, None, bounded, None, 0.5, None)
    assert list(temporal.d) == ["lv_area"] and validity.valid.shape == (4,)




def test_defaults(tiny):
    smoother = Smoother(tiny)
    assert smoother.method == "exact" and smoother.decode == "residual" and smoother.max_rounds is None
    assert smoother.tighten == 0.25 and smoother.blends == (0.6, 0.75, 0.9) and smoother.input_sigmas == (1.5, 3.0)
    assert smoother.target == 0.85 and smoother.keep_below == 0.5
    assert smoother.settings == smooth.ExactSettings() and smoother._cache_bytes == 0 and smoother._cache == {}
    given = smooth.ExactSettings(free_weight=7.0)
    assert Smoother(tiny, settings=given).settings is given


def test_default_rounds_four_on_a_half_cycle_two_with_turns_inside(tiny):
    assert (smooth.ROUNDS, smooth.ROUNDS_WITH_TURNS) == (4, 2)
    auto, fixed = Smoother(tiny), Smoother(tiny, max_rounds=3)
    none, ends_only, inside = np.zeros(7, bool), np.zeros(7, bool), np.zeros(7, bool)
    ends_only[[0, -1]] = True  # the two ends of a half cycle are never held to tau anyway
    inside[3] = True
    assert [auto.rounds_for(u) for u in (None, none, ends_only, inside)] == [4, 4, 4, 2]
    second, before_last = np.zeros(7, bool), np.zeros(7, bool)
    second[1], before_last[5] = True, True  # the first and last frames inside the sequence
    assert [auto.rounds_for(u) for u in (second, before_last)] == [2, 2]
    with pytest.raises(ValueError, match="max_rounds >= 0"):
        Smoother(tiny, max_rounds=-1)
    assert [fixed.rounds_for(u) for u in (None, inside)] == [3, 3]
    assert Smoother(tiny, max_rounds=0).rounds_for(None) == 0


def test_thresholds_stored_with_the_model_file(tmp_path):
    stored = TemporalThresholds({"lv_area": (3.0, 9.0)}, {"lv_area": 0.05}, (16, 16), None, "mine")
    torch.manual_seed(0)
    model = ShapeModel(ShapeModelConfig(input_size=16, channels=(4,), bottleneck_channels=2, latent_dim=8))
    model.set_latent_range(-torch.ones(8), torch.ones(8))
    path = save_model(model, tmp_path / "with.pt", {"temporal_thresholds": stored.to_dict()})
    smoother = Smoother(path, "exact")
    assert smoother.model.config.latent_dim == 8  # the file's model, not the shipped one
    assert smoother.thresholds.bounds == {"lv_area": (3.0, 9.0)} and smoother.thresholds.note == "mine"


def test_measured_thresholds_logged_once(tiny, caplog):
    smoother = Smoother(tiny, "exact")  # a loaded model: nothing stored to read
    assert smoother.thresholds is None
    masks = _heart(6)
    with caplog.at_level(logging.WARNING, logger="echolatent.temporal.smooth"):
        first = smoother.thresholds_for(masks)
        smoother.thresholds_for(masks)
    assert caplog.messages == ["no temporal thresholds given or stored with the model: bounds measured on each input"]
    assert first.grid == (16, 16) and first.note == "bounds measured on the input sequence itself"


def test_what_the_exact_method_solves(tiny, monkeypatch):
    """The codes encoded from the input prefiltered at the first sigma (residual decode only), limits target x tau per
    interior frame (inf on unchecked frames and free dims), the smoother's own solver settings."""
    solved, encoded, filtered = [], [], []
    settings = smooth.ExactSettings(free_weight=2.0)
    smoother = Smoother(tiny, "exact", settings=settings, target=0.5, keep_below=0.0, max_rounds=0,
                        input_sigmas=(1.2, 2.0))
    real_solve, real_encode, real_prefilter = smooth.solve_exact, smoother._encode, smooth.prefiltered
    monkeypatch.setattr(smooth, "solve_exact", lambda z, limits, s: solved.append((limits.copy(), s))
                        or real_solve(z, limits, s))
    monkeypatch.setattr(smoother, "_encode", lambda m: encoded.append(m) or real_encode(m))
    monkeypatch.setattr(smooth, "prefiltered",
                        lambda m, sigma, turns=None, cache=None, lv_kept=None: filtered.append(sigma)
                        or real_prefilter(m, sigma, turns, cache, lv_kept))
    masks = _heart(6)
    unchecked = np.array([False, False, True, False, False, False])
    smoother(masks, None, unchecked=unchecked)
    assert filtered == [1.2]
    np.testing.assert_array_equal(encoded[0], real_prefilter(masks, 1.2))
    limits, used = solved[0]
    assert used is settings and limits.shape == (4, 10)
    expected = np.tile(0.5 * smoother._latent_tau(), (4, 1))
    expected[1] = np.inf  # frame 2 is row 1
    np.testing.assert_array_equal(limits, expected)
    encoded.clear()
    filtered.clear()
    Smoother(tiny, "exact", decode="full", keep_below=0.0, max_rounds=0)._exact(masks, None, None,
                                                                              SmoothReport("exact"))
    assert filtered == []
    raw = Smoother(tiny, "exact", keep_below=0.0, max_rounds=0, input_sigmas=(0.0, 1.0))
    monkeypatch.setattr(raw, "_encode", lambda m: encoded.append(m) or real_encode(m))
    raw(masks, None)
    assert filtered == []  # a first sigma of 0: the input itself is encoded
    np.testing.assert_array_equal(encoded[0], masks)


def test_shortcut_measures_with_the_spacing(tiny):
    """Thresholds in mm (LV area only): with 0.5 x 0.5 mm pixels the deviations are a quarter of those of 1 mm
    pixels. tau = 4 max|d_mm|: at keep_below 0.5 the input is kept as it is with its spacing, not without."""
    masks = _heart(6)
    area = (masks == 1).sum(axis=(1, 2)).astype(float)
    d_mm = 0.25 * np.abs(area[1:-1] - (area[:-2] + area[2:]) / 2) / 100.0
    thresholds = TemporalThresholds({"lv_area": (0.0, 100.0)}, {"lv_area": 4 * d_mm.max()}, None, (1.0, 1.0))
    smoother = Smoother(tiny, "exact", thresholds=thresholds, validity_thresholds=ValidityThresholds(
        frontier_myo_la=1.0))
    checks = (smoother.validity_thresholds, smoother.keep_below, None)
    assert already_smooth(measure_input(masks, (0.5, 0.5), thresholds, *checks))
    assert not already_smooth(measure_input(masks, None, thresholds, *checks))
    result = smoother(masks, (0.5, 0.5))
    assert result.report.decoded == "unchanged" and result.masks is not masks
    np.testing.assert_array_equal(result.masks, masks)
