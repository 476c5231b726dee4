"""The exact smoother's round loop and blends, traced: frames that fail after the last blend step take the full
decode (w = 1) before the whole sequence does; a code that moved by exactly REUSE_TOLERANCE keeps its mask; every
measurement inside the loop gets the given spacing; the log names three remaining failures and marks more."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from echolatent.measure.temporal import TemporalThresholds
from echolatent.models.shape import ShapeModel
from echolatent.temporal import residual, smooth
from echolatent.temporal.result import SmoothReport
from echolatent.temporal.smooth import Smoother

from .sequences import fail_frames, ring_sequence, tiny_shape_model


@pytest.fixture(scope="module")
def tiny() -> ShapeModel:
    return tiny_shape_model()


def test_frames_past_the_last_blend_take_the_full_decode_alone(tiny, monkeypatch):
    """Blends (0.6, 0.9): steps 0, 0.6, 0.9, 1. Frame 0 (with its neighbour 1, WINDOW = 1) keeps failing: 0.6, 0.9,
    then 1 on those two frames only (a blend step of weight 1 is the full decode there), then the full decode."""
    smoother = Smoother(tiny, "exact", input_sigmas=(0.0,), blends=(0.6, 0.9))
    monkeypatch.setattr(smoother, "_residual_frames", lambda out, *args: out.fill(0))

    def blend_frames(out, masks, smoothed, full, residual_out, weights, frames):
        out[frames] = np.round(10 + 10 * weights[frames])[:, None, None]

    monkeypatch.setattr(smoother, "_blend_frames", blend_frames)
    masks, codes = np.zeros((6, 2, 2), np.uint8), np.zeros((6, 10))
    full = residual.Once(lambda: np.full((6, 2, 2), 99, np.uint8))
    report = SmoothReport("exact")
    fail_frames(report, [0], 6)
    got = [(w.tolist(), c[:, 0, 0].tolist()) for w, c in smoother._candidates((masks, codes), codes, full, report)]
    rest = [0.0] * 4
    assert got == [([0.0] * 6, [0] * 6), ([0.6, 0.6, *rest], [16, 16, 0, 0, 0, 0]),
                   ([0.9, 0.9, *rest], [19, 19, 0, 0, 0, 0]), ([1.0, 1.0, *rest], [20, 20, 0, 0, 0, 0]),
                   ([1.0] * 6, [99] * 6)]


def test_a_code_moved_by_exactly_the_tolerance_keeps_its_mask(tiny):
    smoother = Smoother(tiny, "exact")
    previous = np.zeros((3, 10))
    codes = previous.copy()
    codes[1, 4] = smooth.REUSE_TOLERANCE  # exactly at the tolerance: not moved
    codes[2, 4] = 2 * smooth.REUSE_TOLERANCE  # beyond it: decoded again
    kept = np.full((3, 24, 24), 7, np.uint8)  # no decode gives label 7
    out = smoother._decode(codes, kept.shape, previous, kept)
    assert (out[0] == 7).all() and (out[1] == 7).all()
    assert out[2].max() <= 3


def test_every_measure_in_the_rounds_gets_the_spacing(tiny, monkeypatch):
    bounds = {"lv_area": (0.0, 40.0), "myo_area": (0.0, 60.0), "lv_length": (0.0, 8.0)}
    mm = TemporalThresholds.published(bounds, spacing=(0.3, 0.7))
    smoother = Smoother(tiny, "exact", thresholds=mm, keep_below=0.0, max_rounds=1)
    spacings = []
    real = smoother._measure
    monkeypatch.setattr(smoother, "_measure", lambda masks, spacing, *args: spacings.append(spacing)
                        or real(masks, spacing, *args))
    smoother(ring_sequence(9), (0.3, 0.7))
    assert len(spacings) >= 2 and all(s == (0.3, 0.7) for s in spacings)


@pytest.mark.parametrize(("count", "tail"), [(3, "a; b; c"), (4, "a; b; c ..."), (5, "a; b; c ...")])
def test_the_log_names_three_failures_and_marks_more(tiny, monkeypatch, caplog, count, tail):
    monkeypatch.setattr(SmoothReport, "residual", lambda self: ["a", "b", "c", "d", "e"][:count])
    smoother = Smoother(tiny, "exact", keep_below=0.0, max_rounds=0, target=0.8)
    with caplog.at_level(logging.INFO, logger="echolatent.temporal.smooth"):
        smoother(ring_sequence(6), None)
    assert f"exact smoothing left {count} failure(s) at 0.80 tau after 1 rounds: {tail}" in caplog.messages
