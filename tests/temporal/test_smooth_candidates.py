"""The exact method's candidate outputs, traced by hand: which frames move to a wider input filter, then along the
blends, then to the full decode, as the checks fail on given frames (the decode and blend steps replaced by marks:
a residual frame holds its filter level, a blended frame 10 + 10 w, the full decode 99). Then the residual and
blend steps themselves against SciPy's filter with the decoder's probabilities set to zero or given."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy import ndimage

from echolatent.cleanup import clean_masks
from echolatent.labels import NUM_LABELS, Label
from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import CRITERIA, ValidityReport, ValidityThresholds
from echolatent.models.shape import ShapeModel
from echolatent.temporal import residual
from echolatent.temporal.checks import margin_used
from echolatent.temporal.result import SmoothReport
from echolatent.temporal.smooth import Smoother

from .sequences import fail_frames, tiny_shape_model
from .sequences import ring_sequence as _heart


@pytest.fixture(scope="module")
def tiny() -> ShapeModel:
    return tiny_shape_model()


@pytest.fixture
def marked(tiny, monkeypatch):
    """A smoother whose residual step writes each frame's filter level and whose blend step writes 10 + 10 w."""
    smoother = Smoother(tiny, "exact", input_sigmas=(0.0, 1.0, 2.0), blends=(0.6, 0.9))
    calls = []

    def residual_frames(out, masks, codes, smoothed, level, frames):
        calls.append(("residual", frames.tolist()))
        out[frames] = level[frames][:, None, None]

    def blend_frames(out, masks, smoothed, full, residual_out, weights, frames):
        calls.append(("blend", frames.tolist()))
        out[frames] = np.round(10 + 10 * weights[frames])[:, None, None]

    monkeypatch.setattr(smoother, "_residual_frames", residual_frames)
    monkeypatch.setattr(smoother, "_blend_frames", blend_frames)
    return smoother, calls


def _frames(candidate: np.ndarray) -> list[int]:
    return candidate[:, 0, 0].tolist()


def test_candidates_step_by_step(marked):
    smoother, calls = marked
    length = 7
    masks, codes = np.zeros((length, 2, 2), np.uint8), np.zeros((length, 10))
    full = residual.Once(lambda: np.full((length, 2, 2), 99, np.uint8))
    report = SmoothReport("exact")
    candidates = smoother._candidates((masks, codes), codes, full, report)

    weights, candidate = next(candidates)  # every frame at the first filter
    assert weights.tolist() == [0.0] * length and _frames(candidate) == [0] * length
    assert candidate.dtype == np.uint8
    assert report.input_sigma == 0.0 and calls == [("residual", list(range(length)))]

    fail_frames(report, [3], length)  # frame 3 and its neighbours move to the next filter
    weights, candidate = next(candidates)
    assert weights.tolist() == [0.0] * length and _frames(candidate) == [0, 0, 1, 1, 1, 0, 0]
    assert report.input_sigma == 1.0 and calls[-1] == ("residual", [2, 3, 4])

    fail_frames(report, [4], length)
    weights, candidate = next(candidates)
    assert _frames(candidate) == [0, 0, 1, 2, 2, 1, 0] and report.input_sigma == 2.0
    assert calls[-1] == ("residual", [3, 4, 5])

    fail_frames(report, [0], length)  # no wider filter left: frames 0 and 1 move along the blends
    weights, candidate = next(candidates)
    assert weights.tolist() == [0.6, 0.6, 0, 0, 0, 0, 0]
    assert _frames(candidate) == [16, 16, 1, 2, 2, 1, 0] and calls[-1] == ("blend", [0, 1])
    assert report.input_sigma == 2.0  # the blends sit on the widest filter's output

    fail_frames(report, [1], length)
    weights, candidate = next(candidates)
    assert weights.tolist() == [0.9, 0.9, 0.6, 0, 0, 0, 0]
    assert _frames(candidate) == [19, 19, 16, 2, 2, 1, 0] and calls[-1] == ("blend", [0, 1, 2])

    fail_frames(report, [], length)  # nothing fails any more: last comes the full decode
    weights, candidate = next(candidates)
    assert weights.tolist() == [1.0] * length and _frames(candidate) == [99] * length
    assert report.input_sigma is None
    with pytest.raises(StopIteration):
        next(candidates)


def test_blends_up_to_the_full_decode(marked):
    """Every frame keeps failing: blends 0.6 and 0.9 on all of them, then the full decode."""
    smoother, calls = marked
    masks, codes = np.zeros((3, 2, 2), np.uint8), np.zeros((3, 10))
    report = SmoothReport("exact")
    fail_frames(report, [0, 1, 2], 3)
    full = residual.Once(lambda: np.full((3, 2, 2), 99, np.uint8))
    got = [(w.tolist(), _frames(c)) for w, c in smoother._candidates((masks, codes), codes, full, report)]
    assert got == [([0.0] * 3, [0] * 3), ([0.0] * 3, [1] * 3), ([0.0] * 3, [2] * 3), ([0.6] * 3, [16] * 3),
                   ([0.9] * 3, [19] * 3), ([1.0] * 3, [99] * 3)]
    assert [kind for kind, _ in calls] == ["residual"] * 3 + ["blend"] * 2


def test_candidates_stop_early_or_without_a_full_decode(marked):
    smoother, calls = marked
    masks, codes = np.zeros((5, 2, 2), np.uint8), np.zeros((5, 10))
    report = SmoothReport("exact")
    fail_frames(report, [2], 5)  # read after the first candidate: frames 1..3 move on, then frame 2 alone fails again
    got = [(w.tolist(), _frames(c)) for w, c in smoother._candidates((masks, codes), codes, None, report)]
    assert got == [([0.0] * 5, [0] * 5), ([0.0] * 5, [0, 1, 1, 1, 0]), ([0.0] * 5, [0, 2, 2, 2, 0])]
    report = SmoothReport("exact")
    fail_frames(report, [], 5)  # the first candidate passes: no wider filter is tried
    got = list(smoother._candidates((masks, codes), codes, None, report))
    assert len(got) == 1
    full = np.full((5, 2, 2), 99, np.uint8)
    only = list(smoother._candidates(None, codes, full, SmoothReport("exact")))  # decode="full": the decode only
    assert len(only) == 1 and only[0][0].tolist() == [1.0] * 5 and only[0][1] is full


def _filtered(masks: np.ndarray, sigma: float) -> np.ndarray:
    onehot = (masks[:, None] == np.arange(NUM_LABELS)[None, :, None, None]).astype(np.float32)
    if sigma == 0:
        return onehot
    return ndimage.gaussian_filter1d(onehot, sigma, axis=0, mode="nearest", truncate=3.0)


def test_residual_frames_filter_each_frame_at_its_level(tiny, monkeypatch):
    """With the decoded correction P(z') - P(z) zero, a frame's output is the cleaned arg-max of the input one-hot
    filtered at its own level's sigma (a chunk of two frames at a time)."""
    smoother = Smoother(tiny, "exact", input_sigmas=(0.0, 1.5))
    monkeypatch.setattr(smoother, "_probs", lambda codes, size: np.zeros((len(codes), NUM_LABELS, *size), np.float32))
    monkeypatch.setattr(residual, "CHUNK", 2)
    masks = _heart(6)
    masks[2, 7:12, 18:23] = Label.MYO  # a one-frame bump
    level = np.array([0, 1, 1, 1, 0, 1])
    out = np.full(masks.shape, 7, np.uint8)
    smoother._residual_frames(out, masks, np.zeros((6, 10)), np.zeros((6, 10)), level, np.array([1, 2, 3, 4]))
    assert (out[[0, 5]] == 7).all()  # frames not asked for are left alone
    wide, raw = _filtered(masks, 1.5), _filtered(masks, 0.0)
    for t in (1, 2, 3):
        np.testing.assert_array_equal(out[t], clean_masks(wide[t].argmax(0)[None].astype(np.uint8))[0])
    np.testing.assert_array_equal(out[4], clean_masks(raw[4].argmax(0)[None].astype(np.uint8))[0])
    assert (out[2, 7:12, 18:23] != Label.MYO).any()  # the wide filter removes most of the bump


def test_residual_frames_add_the_decoded_correction(tiny, monkeypatch):
    """P(z') - P(z): +2 on LA wherever the smoothed code differs from the encoded one (a code of 1 vs 0)."""
    smoother = Smoother(tiny, "exact", input_sigmas=(0.0,))

    def probs(codes, size):
        out = np.zeros((len(codes), NUM_LABELS, *size), np.float32)
        out[:, Label.LA] = 2.0 * codes[:, :1, None]
        return out

    monkeypatch.setattr(smoother, "_probs", probs)
    masks = _heart(4)
    smoothed = np.zeros((4, 10))
    smoothed[2] = 1.0
    out = np.zeros_like(masks)
    smoother._residual_frames(out, masks, np.zeros((4, 10)), smoothed, np.zeros(4, int), np.arange(4))
    np.testing.assert_array_equal(out[[0, 1, 3]], clean_masks(masks[[0, 1, 3]]))
    assert (out[2] == Label.LA).all()  # LA everywhere: one piece, nothing to clean


def test_blend_frames_mix_the_widest_filter_with_the_decoder(tiny, monkeypatch):
    smoother = Smoother(tiny, "exact", input_sigmas=(0.0, 2.0))
    masks = _heart(5)
    decoder = np.zeros((5, NUM_LABELS, 24, 24), np.float32)
    decoder[:, Label.LA] = 1.0  # the decoder says LA everywhere

    monkeypatch.setattr(smoother, "_probs", lambda codes, size: decoder[: len(codes)])
    residual_out = np.full(masks.shape, 5, np.uint8)
    full = np.full(masks.shape, 6, np.uint8)
    out = residual_out.copy()
    weights = np.array([0.0, 0.6, 0.6, 1.0, 0.0])
    smoother._blend_frames(out, masks, np.zeros((5, 10)), full, residual_out, weights, np.array([1, 2, 3]))
    onehot = _filtered(masks, 2.0)
    for t in (1, 2):
        mixed = 0.4 * onehot[t] + 0.6 * decoder[t]
        np.testing.assert_array_equal(out[t], clean_masks(mixed.argmax(0)[None].astype(np.uint8))[0])
    assert (out[3] == 6).all() and (out[[0, 4]] == 5).all()


def _measures(passing: list[bool]):
    """A stand-in for Smoother._measure: the k-th call's validity passes or fails every frame as told."""
    calls = []

    def measure(masks, spacing, thresholds, fraction=1.0):
        ok = passing[min(len(calls), len(passing) - 1)]
        calls.append(fraction)
        valid = np.full(len(masks), ok)
        return None, ValidityReport(valid, {n: np.zeros(len(masks)) for n in CRITERIA},
                                    {n: valid.copy() for n in CRITERIA}, ValidityThresholds())

    return measure, calls


@pytest.mark.parametrize(
    ("passing", "decoded", "picked"),
    [([True], "residual", 0), ([False, True], "blend", 1), ([False, False, True], "full", 2), ([False], None, None)],
)
def test_choose_takes_the_first_candidate_that_passes(tiny, monkeypatch, passing, decoded, picked):
    smoother = Smoother(tiny, "exact", target=0.7)
    candidates = [(np.zeros(3), np.full((3, 2, 2), 0, np.uint8)), (np.array([0.0, 0.6, 0.0]), np.full((3, 2, 2), 1,
                  np.uint8)), (np.ones(3), np.full((3, 2, 2), 2, np.uint8))]
    monkeypatch.setattr(smoother, "_candidates", lambda *args: iter(candidates))
    measure, calls = _measures(passing)
    monkeypatch.setattr(smoother, "_measure", measure)
    report = SmoothReport("exact")
    out = smoother._choose(None, None, None, None, None, report)
    assert calls == [0.7] * (3 if picked is None else picked + 1)  # each measured with taus x target, in order
    if picked is None:
        assert out is None and report.decoded == "full" and report.weights == [1.0] * 3  # left measuring the last
    else:
        assert out is candidates[picked][1] and report.decoded == decoded
        assert report.weights == candidates[picked][0].tolist()


def test_rounds_until_nothing_fails(tiny, monkeypatch, caplog):
    """decode="full", two tightening rounds allowed: the first two decodes fail (every frame), the third passes."""
    smoother = Smoother(tiny, "exact", decode="full", max_rounds=2, keep_below=0.0)
    measure, calls = _measures([False, False, True])
    monkeypatch.setattr(smoother, "_measure", measure)
    masks = _heart(5)
    with caplog.at_level(logging.INFO, logger="echolatent.temporal.smooth"):
        result = smoother(masks, None)
    report = result.report
    assert report.rounds == 3 and [entry["round"] for entry in report.tightened] == [1, 2]
    assert report.decoded == "full" and report.target == smoother.target
    assert calls[:3] == [smoother.target] * 3 and calls[3] == 1.0  # then the output is measured as written
    assert [m for m in caplog.messages if "failure" in m] == []
    monkeypatch.setattr(smoother, "_measure", _measures([False])[0])
    with caplog.at_level(logging.INFO, logger="echolatent.temporal.smooth"):
        failed = smoother(masks, None).report
    assert failed.rounds == 3 and len(failed.tightened) == 2
    messages = [m for m in caplog.messages if "failure" in m]
    every = ", ".join(CRITERIA)
    named = "; ".join(f"frame {t} invalid: {every}" for t in range(3))
    assert messages == [f"exact smoothing left 5 failure(s) at 0.85 tau after 3 rounds: {named} ..."]  # 3 named
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="echolatent.temporal.smooth"):
        smoother(_heart(3), None)
    assert [m for m in caplog.messages if "failure" in m] == [
        f"exact smoothing left 3 failure(s) at 0.85 tau after 3 rounds: {named}"]


def test_default_rounds_as_many_as_the_turns_allow(tiny, monkeypatch):
    """Every check failing: 1 + 4 solves on a half cycle, 1 + 2 with a turn inside the sequence."""
    smoother = Smoother(tiny, "exact", decode="full", keep_below=0.0)
    monkeypatch.setattr(smoother, "_measure", _measures([False])[0])
    masks = _heart(7)
    assert smoother(masks, None).report.rounds == 5
    turn = np.zeros(7, bool)
    turn[2:5] = True  # a turn at frame 3 and its neighbours
    assert smoother(masks, None, unchecked=turn).report.rounds == 3


def test_one_round_without_tightening(tiny, monkeypatch):
    smoother = Smoother(tiny, "exact", decode="full", max_rounds=0, keep_below=0.0)
    monkeypatch.setattr(smoother, "_measure", _measures([False])[0])
    report = smoother(_heart(4), None).report
    assert report.rounds == 1 and report.tightened == []


def test_snake_method_report(tiny):
    masks = _heart(5)
    thresholds = TemporalThresholds.from_reference([masks])
    result = Smoother(tiny, "snake", thresholds=thresholds)(masks, None)
    report = result.report
    assert report.rounds == 1 and report.decoded is None and report.target is None and report.weights == []
    assert report.method == "snake" and report.seconds < 60
    assert result.masks.shape == masks.shape and result.masks.dtype == np.uint8
    assert report.margin == pytest.approx(margin_used(report.temporal, thresholds.tau))
    assert report.seconds > 0


def test_unchanged_input_is_a_copy(tiny):
    masks = _heart(5)
    thresholds = TemporalThresholds.from_reference([masks])
    thresholds.tau = dict.fromkeys(thresholds.tau, 100.0)  # far inside every limit
    smoother = Smoother(tiny, "exact", thresholds=thresholds, validity_thresholds=ValidityThresholds(
        frontier_myo_la=1.0))
    result = smoother(masks.astype(np.int16), None)
    assert result.report.decoded == "unchanged" and result.report.weights == [0.0] * 5
    assert result.masks.dtype == np.uint8 and result.report.rounds == 0
    np.testing.assert_array_equal(result.masks, masks)


def test_nothing_passes_the_nearest_round_is_returned(tiny, monkeypatch, caplog):
    """decode="full", 2 rounds: the three decodes fail 3, 1 and 2 frames: the second is returned, not the last."""
    smoother = Smoother(tiny, "exact", decode="full", max_rounds=2, keep_below=0.0)
    decodes = iter(range(10, 20))
    monkeypatch.setattr(smoother, "_decode", lambda codes, shape, *args: np.full(shape, next(decodes), np.uint8))
    failing = iter([3, 1, 2])
    last_measured = []

    def measure(masks, spacing, thresholds, fraction=1.0):
        count = next(failing, None)
        if count is None:  # the output, measured again as written: as the candidate was
            count = {10: 3, 11: 1, 12: 2}[int(masks[0, 0, 0])]
        report = SmoothReport("exact")
        fail_frames(report, list(range(count)), len(masks))
        last_measured.append(int(masks[0, 0, 0]))
        return None, report.validity

    monkeypatch.setattr(smoother, "_measure", measure)
    with caplog.at_level(logging.INFO, logger="echolatent.temporal.smooth"):
        result = smoother(_heart(5), None)
    assert (result.masks == 11).all() and last_measured == [10, 11, 12, 11]
    assert result.report.rounds == 3 and result.report.valid_frames == 4 and result.report.decoded == "full"
    assert [m for m in caplog.messages if "failure" in m] == [
        "exact smoothing left 1 failure(s) at 0.85 tau after 3 rounds: frame 0 invalid: " + ", ".join(CRITERIA)]


def test_the_last_round_tries_the_full_decode_of_the_residual_method(tiny, monkeypatch):
    """Residual decode, every check failing, 1 tightening round: the full decode is made once, in the last round
    only, and offered with the blends; the output is one of the candidates."""
    smoother = Smoother(tiny, "exact", max_rounds=1, keep_below=0.0, blends=(0.6,))
    monkeypatch.setattr(smoother, "_measure", _measures([False])[0])
    real_decode, decoded = smoother._decode, []
    monkeypatch.setattr(smoother, "_decode", lambda *args: decoded.append(len(args)) or real_decode(*args))
    kinds = []
    real_candidates = smoother._candidates

    def candidates(*args):
        for weights, masks in real_candidates(*args):
            kinds.append("residual" if not weights.any() else "full" if (weights == 1).all() else "blend")
            yield weights, masks

    monkeypatch.setattr(smoother, "_candidates", candidates)
    result = smoother(_heart(6), None)
    assert decoded == [2] and kinds[-1] == "full" and "blend" in kinds and kinds[0] == "residual"
    assert result.report.rounds == 2 and result.masks.shape == (6, 24, 24)
