"""Turns kept as segmented: input_checks.turns_on_curve (a turn frame on the quadratic through its neighbours, on
LV's curves only), residual.keep_lv (the input's LV exactly, the other labels as the filter chooses them) and the
exact smoother's use of both (the input it encodes keeps a kept turn's LV, the other frames filtered as before)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echolatent.labels import NUM_LABELS, Label
from echolatent.measure.temporal import TemporalThresholds, temporal_consistency
from echolatent.measure.validity import ValidityThresholds
from echolatent.temporal import input_checks, residual
from echolatent.temporal.smooth import Smoother

from .sequences import tiny_shape_model

TAU = 0.1


def _cusp(frames: int = 12, size: int = 24) -> np.ndarray:
    """The ring heart of ``sequences.ring_sequence`` whose LV radius peaks sharply at frame 6 (6.5 px, 0.5 px less
    a frame away): a temporal filter lowers that maximum."""
    rows, cols = np.mgrid[:size, :size]
    masks = np.zeros((frames, size, size), dtype=np.uint8)
    for t in range(frames):
        distance = np.hypot(rows - 9, cols - 12)
        radius = 6.5 - 0.5 * abs(t - 6)
        masks[t][distance < radius + 2] = Label.MYO
        masks[t][distance < radius] = Label.LV
        masks[t][(np.hypot(rows - 20, cols - 12) < 3) & (masks[t] == 0)] = Label.LA
    return masks


def _report(area: np.ndarray, other: np.ndarray | None = None):
    """Temporal report of an LV area curve (bounds 0-100: a~ = area / 100) and optionally an LA area curve."""
    curves = {"lv_area": area} | ({} if other is None else {"la_area": other})
    bounds = {name: (0.0, 100.0) for name in curves}
    return temporal_consistency(curves, TemporalThresholds(bounds, dict.fromkeys(curves, TAU)))


def _kept(report, unchecked, valid=None) -> np.ndarray:
    valid = np.ones(len(unchecked), bool) if valid is None else valid
    return input_checks.turns_on_curve(report, valid, unchecked, {"lv_area": TAU, "la_area": TAU}, 0.5)


def _turn(length: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """A quadratic turn (maximum at frame 5) and the flags of frames 1, 4, 5, 6 as turns."""
    t = np.arange(length, dtype=float)
    unchecked = np.zeros(length, bool)
    unchecked[[1, 4, 5, 6]] = True
    return 90.0 - 2.0 * (t - 5) ** 2, unchecked


def test_a_quadratic_turn_is_on_its_curve_except_next_to_the_ends():
    area, unchecked = _turn()
    assert _kept(_report(area), unchecked).tolist() == [t in (4, 5, 6) for t in range(11)]  # frame 1: d(0) missing


@pytest.mark.parametrize("error, kept", [(0.6, [True, False, True]), (0.4, [True, True, True])])
def test_a_one_frame_error_is_measured_by_its_size(error, kept):
    """An error e (normalised) at frame 5 leaves it e from the quadratic of its neighbours, each neighbour 2e/3."""
    area, unchecked = _turn()
    area[5] += 100.0 * error * TAU
    assert _kept(_report(area), unchecked)[[4, 5, 6]].tolist() == kept


def test_only_the_lv_curves_decide_and_an_invalid_frame_is_never_kept():
    area, unchecked = _turn()
    noisy_la = 40.0 + 30.0 * (np.arange(11) % 2)  # flickers by 3 tau on every frame
    assert _kept(_report(area, noisy_la), unchecked)[[4, 5, 6]].all()
    valid = np.ones(11, bool)
    valid[5] = False
    assert _kept(_report(area), unchecked, valid)[[4, 5, 6]].tolist() == [True, False, True]
    missing = area.copy()
    missing[6] = np.nan  # not measured: frames 5 to 7 lack a d, so 5 and 6 are not on their curve
    assert _kept(_report(missing), unchecked)[[4, 5, 6]].tolist() == [False, False, False]


def test_keep_lv_holds_the_lv_and_lets_the_filter_choose_the_rest():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, NUM_LABELS, (2, 9, 9)).astype(np.uint8)
    filtered = rng.random((2, NUM_LABELS, 9, 9)).astype(np.float32)
    out = residual.keep_lv(filtered, labels)
    chosen = out.argmax(axis=1)
    lv = labels == Label.LV
    assert (chosen[lv] == Label.LV).all() and (chosen[~lv] != Label.LV).all()
    others = filtered.copy()
    others[:, Label.LV] = -1.0
    np.testing.assert_array_equal(chosen[~lv], others.argmax(axis=1)[~lv])
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)
    assert not np.shares_memory(out, filtered) and out.dtype == np.float32


def test_onehot_per_frame_keeps_the_lv_on_flagged_frames_only_and_caches_the_plain_filter():
    masks = _cusp()
    frames, sigmas = np.array([2, 6, 7]), np.full(3, 1.5)
    flags = np.zeros(12, bool)
    flags[6] = True
    cache = residual.OneHotCache()
    got = residual.onehot_per_frame(masks, frames, sigmas, cache=cache, lv_kept=flags)
    plain = residual.onehot_per_frame(masks, frames, sigmas)
    np.testing.assert_array_equal(got[[0, 2]], plain[[0, 2]])
    np.testing.assert_array_equal(got[1], residual.keep_lv(plain[1:2], masks[6:7])[0])
    assert ((got[1].argmax(axis=0) == Label.LV) == (masks[6] == Label.LV)).all()
    assert not np.array_equal(plain[1].argmax(axis=0) == Label.LV, masks[6] == Label.LV)  # the filter moves it
    np.testing.assert_array_equal(cache[6, 1.5], plain[1])


@pytest.fixture(scope="module")
def tiny():
    return tiny_shape_model(torch.linspace(1.0, 2.0, 10))


def test_the_smoother_encodes_and_outputs_a_kept_turn_with_its_lv(tiny, monkeypatch):
    masks = _cusp()
    unchecked = np.zeros(12, bool)
    unchecked[5:8] = True
    kept = np.zeros(12, bool)
    kept[6] = True
    decided = []
    monkeypatch.setattr(input_checks, "turns_on_curve", lambda *args: decided.append(args) or kept)
    thresholds = TemporalThresholds.published({"lv_area": (0.0, 200.0), "la_area": (0.0, 100.0)})
    smoother = Smoother(tiny, "exact", thresholds=thresholds, max_rounds=0, blends=(0.6,),
                        validity_thresholds=ValidityThresholds(frontier_myo_la=1.0))
    encoded = []
    real_encode = smoother._encode
    monkeypatch.setattr(smoother, "_encode", lambda m: encoded.append(m.copy()) or real_encode(m))
    result = smoother(masks, None, unchecked=unchecked)
    assert len(decided) == 1 and decided[0][4] == smoother.keep_below and result.report.turns_kept == [6]
    np.testing.assert_array_equal(encoded[0][6] == Label.LV, masks[6] == Label.LV)
    lowered = residual.prefiltered(masks, smoother.input_sigmas[0], turns=unchecked)[6] == Label.LV
    assert lowered.sum() < (masks[6] == Label.LV).sum()  # the filter alone lowers this maximum
    np.testing.assert_array_equal(encoded[0][5], residual.prefiltered(masks, smoother.input_sigmas[0],
                                                                      turns=unchecked)[5])
    np.testing.assert_array_equal(decided[0][2], unchecked)
    without = Smoother(tiny, "exact", thresholds=thresholds, max_rounds=0, keep_below=0.0)(masks, None, unchecked)
    assert without.report.turns_kept == []
