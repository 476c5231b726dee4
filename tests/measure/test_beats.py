"""ED / ES of every beat on LV area curves of synthetic multi-beat hearts, and EF per beat against their truth."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.labels import View
from echolatent.measure.beats import Beat, autocorrelation_period, beat_indices, find_beats, lv_area_curve
from echolatent.synth.heart import filling_curve, sample_heart
from echolatent.synth.patient import synthesize_patient

PATIENTS = range(1, 9)


def multi_beat(index: int, beats: int = 3, size: int = 96):
    return synthesize_patient(index, frames=8, size=size, seed=0, beats=beats, images=False)


def truth_frames(truth: dict) -> tuple[list[int], list[int]]:
    beats = truth["beats"]
    return [b["ED"] for b in beats] + [beats[-1]["next_ED"]], [b["ES"] for b in beats]


def within_one(found: list[int], wanted: list[int]) -> list[bool]:
    return [bool(found) and int(np.min(np.abs(np.array(found) - w))) <= 1 for w in wanted]


@pytest.mark.parametrize("with_fps", [True, False])
def test_every_beat_found_within_one_frame(with_fps: bool) -> None:
    rng = np.random.default_rng(0)
    hits, extra = [], 0
    for index in PATIENTS:
        patient = multi_beat(index)
        ed, es = truth_frames(patient.truth())
        for view in patient.views.values():
            curve = lv_area_curve(view.cycle_masks, patient.spacing)
            curve = curve * (1 + 0.01 * rng.standard_normal(len(curve)))  # 1 % noise, as after smoothing
            found = find_beats(curve, patient.frame_rate if with_fps else None)
            hits += within_one(found.ed, ed) + within_one(found.es, es)
            extra += abs(len(found.ed) - len(ed)) + abs(len(found.es) - len(es))
            assert found.note == ""
    assert np.mean(hits) >= 0.95 and extra == 0


def test_per_beat_ef_biplane_within_three_points_of_truth() -> None:
    errors = []
    for index in PATIENTS:
        patient = multi_beat(index)
        masks = {view: synthetic.cycle_masks for view, synthetic in patient.views.items()}
        beats = {view: find_beats(lv_area_curve(m), patient.frame_rate).beats for view, m in masks.items()}
        result = beat_indices(masks, beats, dict.fromkeys(masks, patient.spacing))
        truth = patient.truth()["beats"]
        assert result.method == "biplane" and result.units == "mL" and len(result.rows) == 3
        errors += [abs(row["EF"] - beat["EF"]) for row, beat in zip(result.rows, truth, strict=True)]
        assert result.mean["EF"] == pytest.approx(np.mean([r["EF"] for r in result.rows]))
        assert result.sd["EF"] == pytest.approx(np.std([r["EF"] for r in result.rows], ddof=1))
    assert max(errors) < 3.0


def test_half_sequence_is_one_beat_from_first_to_last_frame() -> None:
    patient = synthesize_patient(3, frames=12, size=64, seed=0, images=False)
    for view in patient.views.values():
        found = find_beats(lv_area_curve(view.masks), patient.frame_rate)
        assert (found.ed, found.es) == ([0], [11])
        assert found.beats == [Beat(0, 11, None)]
        assert found.instants()[0] == "ED" and found.instants()[-1] == "ES"


def test_sequence_cut_in_mid_ejection_does_not_start_with_an_ed() -> None:
    patient = multi_beat(2)
    ed, es = truth_frames(patient.truth())
    curve = lv_area_curve(patient.views[View.A4C].cycle_masks)
    start = es[0] - 3  # mid-ejection of the first beat
    found = find_beats(curve[start:], patient.frame_rate)
    assert found.ed[0] > 0 and found.es[0] == pytest.approx(3, abs=1)
    assert all(beat.ed > 0 for beat in found.beats)


def test_implausible_heart_rate_is_noted_and_beats_still_found() -> None:
    patient = multi_beat(1)
    ed, es = truth_frames(patient.truth())
    curve = lv_area_curve(patient.views[View.A4C].cycle_masks)
    too_high = find_beats(curve, fps=8.0 * patient.frame_rate)  # a wrong frame rate: beats too close for it
    assert "check the frame rate" in too_high.note
    assert all(within_one(too_high.ed, ed)) and all(within_one(too_high.es, es))
    too_low = find_beats(curve, fps=patient.frame_rate / 8.0)
    assert "outside 40-180" in too_low.note and too_low.heart_rate < 40


def test_autocorrelation_gives_the_beat_period() -> None:
    patient = multi_beat(4, beats=4)
    truth = patient.truth()["beats"]
    period = np.mean([b["next_ED"] - b["ED"] for b in truth])
    curve = lv_area_curve(patient.views[View.A2C].cycle_masks)
    assert autocorrelation_period(curve) == pytest.approx(period, abs=1.0)


def test_flat_curve_and_bad_input() -> None:
    found = find_beats(np.full(20, 5.0), 30.0)
    assert (found.ed, found.es, found.beats) == ([], [], []) and "does not change" in found.note
    with pytest.raises(ValueError, match="1-D"):
        find_beats(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        find_beats(np.array([1.0, np.nan, 2.0]))


def test_beat_without_lv_gets_nan_and_the_others_count() -> None:
    patient = multi_beat(5)
    masks = patient.views[View.A4C].cycle_masks.copy()
    beats = find_beats(lv_area_curve(masks), patient.frame_rate).beats
    masks[beats[1].es] = 0
    result = beat_indices({View.A4C: masks}, {View.A4C: beats}, {View.A4C: None})
    assert result.method == "single-plane 4CH" and result.units == "px^3"
    assert np.isnan(result.rows[1]["EF"]) and "no LV" in result.rows[1]["note"]
    finite = [result.rows[0]["EF"], result.rows[2]["EF"]]
    assert result.mean["EF"] == pytest.approx(np.mean(finite))
    assert beat_indices({View.A4C: masks}, {View.A4C: []}, {View.A4C: None}).rows == []


def test_per_beat_biplane_ef_of_the_true_masks_at_benchmark_size_within_half_a_point() -> None:
    """At the benchmark's size (256 px, 12 frames from ED to ES) the biplane per-beat EF of the true masks at the frames
    found on their LV curves equals truth.json's within 0.5 points: the benchmark compares like with like."""
    for index in (1, 3):
        patient = synthesize_patient(index, frames=12, size=256, seed=0, beats=3, images=False)
        masks = {view: synthetic.cycle_masks for view, synthetic in patient.views.items()}
        beats = {view: find_beats(lv_area_curve(m, patient.spacing), patient.frame_rate).beats
                 for view, m in masks.items()}
        result = beat_indices(masks, beats, dict.fromkeys(masks, patient.spacing))
        truth = patient.truth()["beats"]
        assert [(row["ED_4CH"], row["ES_4CH"]) for row in result.rows] == [(b["ED"], b["ES"]) for b in truth]
        errors = [row["EF"] - beat["EF"] for row, beat in zip(result.rows, truth, strict=True)]
        assert np.max(np.abs(errors)) < 0.5, errors


def test_extremes_of_a_noisy_cycle_curve_are_found_within_one_frame() -> None:
    """A volume-like curve with known extremes (sharp ED after the atrial kick, flat ES), 2 % noise, 4 beats at
    50 fps and 75 bpm: every ED and ES within 1 frame, with and without the frame rate."""
    heart = sample_heart(np.random.default_rng(11))
    fps, bpm, beats = 50.0, 75.0, 4
    period = fps * 60.0 / bpm  # 40 frames
    phase = (np.arange(int(beats * period) + 1) / period) % 1.0
    clean = 100.0 * (1.0 - 0.55 * (1.0 - filling_curve(heart, phase)))
    true_ed = [int(round(k * period)) for k in range(beats + 1)]
    true_es = [int(round((k + heart.systole) * period)) for k in range(beats)]
    noisy = clean + 2.0 * np.random.default_rng(0).standard_normal(len(clean))
    for rate in (fps, None):
        found = find_beats(noisy, rate)
        assert all(within_one(found.ed, true_ed)) and all(within_one(found.es, true_es)), (found.ed, found.es)
        assert len(found.beats) == beats
