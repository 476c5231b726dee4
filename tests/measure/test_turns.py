"""Sequences of several half cycles: their turns (ED, ES inside the sequence) are not held to tau."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from echolatent.measure.sequence import measure_sequence
from echolatent.measure.summary import temporal_summary
from echolatent.measure.temporal import TemporalThresholds, temporal_consistency, turning_frames
from echolatent.temporal.checks import margin_used

THRESHOLDS = TemporalThresholds(bounds={"lv_area": (0.0, 100.0)}, tau={"lv_area": 0.016})


def test_turning_frames_mark_interior_turns_and_their_neighbours():
    instants = ["ED", "", "", "ES", "", "", "ED", "", "ES"]
    np.testing.assert_array_equal(turning_frames(instants), [0, 0, 1, 1, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(turning_frames(instants, radius=0), [0, 0, 0, 1, 0, 0, 1, 0, 0])


@pytest.mark.parametrize("instants", [["ED", "", "", "", "ES"], ["", "", ""], ["ED", "", "", "ES"]])
def test_a_single_half_cycle_has_no_turn_inside(instants):
    assert turning_frames(instants).tolist() == [False] * len(instants)


def test_a_peak_at_a_turn_passes_only_when_the_turn_is_unchecked():
    # a triangle wave 40 -> 60 -> 40 (normalised 0.4 -> 0.6 -> 0.4): d = 0.05 at the peak (frame 4), 0 elsewhere
    curve = np.array([40.0, 45.0, 50.0, 55.0, 60.0, 55.0, 50.0, 45.0, 40.0])
    checked = temporal_consistency({"lv_area": curve}, THRESHOLDS)
    np.testing.assert_allclose(checked.d["lv_area"][1:-1], [0, 0, 0, 0.05, 0, 0, 0], atol=1e-12)
    assert checked.counts() == {"lv_area": 1, "any": 1} and not checked.sequence_ok
    unchecked = turning_frames(["ED", "", "", "", "ES", "", "", "", "ED"])
    free = temporal_consistency({"lv_area": curve}, THRESHOLDS, unchecked)
    assert free.sequence_ok and free.counts() == {"lv_area": 0, "any": 0}
    np.testing.assert_allclose(free.d["lv_area"], checked.d["lv_area"])  # d is still reported
    np.testing.assert_array_equal(free.unchecked, [0, 0, 0, 1, 1, 1, 0, 0, 0])
    assert checked.unchecked is None


def test_a_jump_beside_the_unchecked_frames_still_fails():
    curve = np.array([40.0, 45.0, 50.0, 55.0, 60.0, 55.0, 50.0, 49.0, 40.0])  # frame 7 off the line by 4
    report = temporal_consistency({"lv_area": curve}, THRESHOLDS, turning_frames(["", "", "", "", "ES", "", "", "",
                                                                                   ""]))
    np.testing.assert_array_equal(report.inconsistent["lv_area"], [0, 0, 0, 0, 0, 0, 1, 1, 0])
    assert not report.sequence_ok


def test_unchecked_flags_of_another_length_raise():
    with pytest.raises(ValueError, match=r"\(5,\) bool"):
        temporal_consistency({"lv_area": np.linspace(1, 5, 5)}, THRESHOLDS, np.zeros(4, bool))


def test_measure_sequence_frees_the_turns_of_its_instants():
    """An LV rectangle 20 px high widening by 4 px a frame, then narrowing: its area is linear but for the kink at
    the turn (frame 3), held to tau only when the instants do not name it."""
    masks = np.zeros((7, 64, 64), np.uint8)
    for t, width in enumerate([10, 14, 18, 22, 18, 14, 10]):
        masks[t, 20:40, 32 - width // 2:32 + width // 2] = 1
    areas = masks.sum((1, 2)).astype(float)
    thresholds = TemporalThresholds(bounds={"lv_area": (0.0, float(areas.max()))}, tau={"lv_area": 0.016})
    np.testing.assert_array_equal(areas, [200, 280, 360, 440, 360, 280, 200])  # d = 80 / 440 at frame 3, 0 elsewhere
    plain = measure_sequence(masks, None, thresholds=thresholds, instants=["ED", "", "", "", "", "", "ES"])
    assert plain.temporal.inconsistent["lv_area"][3]
    turns = measure_sequence(masks, None, thresholds=thresholds, instants=["ES", "", "", "ED", "", "", "ES"])
    assert not turns.temporal.inconsistent["lv_area"].any()
    np.testing.assert_array_equal(turns.temporal.unchecked, [0, 0, 1, 1, 1, 0, 0])


def test_the_summary_counts_the_frames_left_free_per_sequence():
    curve = np.array([40.0, 45.0, 50.0, 55.0, 60.0, 55.0, 50.0, 45.0, 40.0])
    free = temporal_consistency({"lv_area": curve}, THRESHOLDS, turning_frames(["ED", "", "", "", "ES", "", "", "",
                                                                                 "ED"]))
    held = temporal_consistency({"lv_area": curve}, THRESHOLDS)
    sequences = [({"sequence": "beats"}, SimpleNamespace(temporal=free)),
                 ({"sequence": "half"}, SimpleNamespace(temporal=held))]
    summary = temporal_summary(sequences, THRESHOLDS)
    assert summary["frames_at_turns_not_held_to_tau"] == {"beats": 3}
    assert summary["inconsistent_sequences"] == ["half"] and summary["sequences_ok"] == 1


def test_the_margin_is_taken_over_the_frames_held_to_tau():
    curve = np.array([40.0, 45.0, 50.0, 55.0, 60.0, 55.0, 50.0, 45.0, 40.0])  # d = 0.05 at the turn, 0 elsewhere
    free = temporal_consistency({"lv_area": curve}, THRESHOLDS, turning_frames(["", "", "", "", "ES", "", "", "", ""]))
    held = temporal_consistency({"lv_area": curve}, THRESHOLDS)
    assert margin_used(free, THRESHOLDS.tau) == 0.0
    assert margin_used(held, THRESHOLDS.tau) == pytest.approx(0.05 / 0.016)


def test_no_frame_left_free_reads_as_none():
    curve = np.array([40.0, 45.0, 50.0, 55.0, 60.0, 55.0, 50.0, 45.0, 40.0])
    report = temporal_consistency({"lv_area": curve}, THRESHOLDS, np.zeros(9, bool))
    assert report.unchecked is None and report.counts() == {"lv_area": 1, "any": 1}
