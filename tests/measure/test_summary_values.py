"""summary.json by hand: score means per instant over sequences with NaNs, validity rates, temporal counts and
interior frames, unmeasured attributes, strain means, clinical errors, on measures built by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from echolatent.measure.summary import (
    clinical_summary,
    not_measured_summary,
    score_means,
    strain_summary,
    summarise,
    temporal_summary,
    validity_summary,
)
from echolatent.measure.temporal import TemporalReport, TemporalThresholds
from echolatent.measure.validity import CRITERIA

NAN = float("nan")


def scores(dice, hd, assd):
    table = {"dice": np.array(dice, float), "hd_mm": np.array(hd, float), "assd_mm": np.array(assd, float)}
    return {name: {k: v * (i + 1) for k, v in table.items()} for i, name in enumerate(("LV", "MYO", "EPI", "LA"))}


def validity(valid, failing=(), note="limits of here"):
    valid = np.array(valid, bool)
    passed = {name: np.ones_like(valid) for name in CRITERIA}
    for name, frame in failing:
        passed[name][frame] = False
    return SimpleNamespace(valid=valid, passed=passed, thresholds=SimpleNamespace(note=note))


def report(inconsistent: list[bool], unmeasured: list[bool] | None = None, unchecked=None) -> TemporalReport:
    flags = np.array(inconsistent)
    missing = np.array(unmeasured if unmeasured is not None else [False] * len(flags))
    return TemporalReport({"lv_area": np.zeros(len(flags))}, {"lv_area": flags}, ~flags,
                          bool((~flags).all() and not missing.any()), {"lv_area": missing},
                          None if unchecked is None else np.array(unchecked))


def measures(frames, instants, scored=None, valid=None, temporal=None, reasons=None, strain=None):
    return SimpleNamespace(frames=frames, instants=instants, scores=scored, validity=valid or validity([True] * frames),
                           temporal=temporal, reasons=reasons or {}, strain=strain)


def test_score_means_per_instant_skip_nans_and_unscored_sequences():
    a = measures(3, ["ED", "", "ES"], scores([0.8, 0.6, 0.7], [2.0, NAN, 4.0], [1.0, 1.0, 3.0]))
    b = measures(2, ["ED", "ES"], scores([0.9, 0.5], [6.0, 8.0], [NAN, NAN]))
    unscored = measures(4, ["ED", "", "", "ES"])
    table = score_means([({}, a), ({}, unscored), ({}, b)])
    assert table["LV"]["all"] == {"dice": pytest.approx(3.5 / 5), "hd_mm": pytest.approx(5.0),
                                  "assd_mm": pytest.approx(5 / 3), "frames": 5}
    assert table["LV"]["ED"] == {"dice": pytest.approx(0.85), "hd_mm": 4.0, "assd_mm": 1.0, "frames": 2}
    assert table["LV"]["ES"] == {"dice": pytest.approx(0.6), "hd_mm": 6.0, "assd_mm": 3.0, "frames": 2}
    assert table["LA"]["ES"]["hd_mm"] == 24.0 and set(table) == {"LV", "MYO", "EPI", "LA"}
    only_nan = measures(1, ["ED"], scores([NAN], [NAN], [NAN]))
    assert score_means([({}, only_nan)])["LV"] == {
        "all": {"dice": None, "hd_mm": None, "assd_mm": None, "frames": 1},
        "ED": {"dice": None, "hd_mm": None, "assd_mm": None, "frames": 1}}
    assert score_means([({}, unscored)]) == {}


def test_validity_rates():
    a = measures(2, ["", ""], valid=validity([True, False], [("holes_lv", 1)]))
    b = measures(3, ["", "", ""], valid=validity([False, True, True], [("holes_lv", 0), (CRITERIA[-1], 0)], "other"))
    summary = validity_summary([({}, a), ({}, b)])
    assert summary["rate"] == 3 / 5 and summary["frames"] == 5 and summary["thresholds"] == "limits of here"
    assert summary["per_criterion"]["holes_lv"] == 3 / 5 and summary["per_criterion"][CRITERIA[-1]] == 4 / 5
    assert summary["per_criterion"]["holes_la"] == 1.0 and set(summary["per_criterion"]) == set(CRITERIA)


def test_temporal_summary_counts_and_interior_frames():
    ok = measures(4, [""] * 4, temporal=report([False] * 4))
    bad = measures(5, [""] * 5, temporal=report([False, True, True, False, False], [False, False, True, False, False],
                                                unchecked=[False, False, True, True, False]))
    short = measures(2, ["", ""])  # not checked
    thresholds = TemporalThresholds({"lv_area": (0.0, 1.0)}, {"lv_area": 0.1}, (4, 5), note="mine")
    summary = temporal_summary([({"sequence": "bad"}, bad), ({"sequence": "ok"}, ok), ({"sequence": "s"}, short)],
                               thresholds)
    assert summary == {"checked": 2, "sequences_ok": 1, "inconsistent_sequences": ["bad"],
                       "not_verified": {"lv_area": ["bad"]}, "interior_frames": 2 + 3,
                       "frames_at_turns_not_held_to_tau": {"bad": 2},
                       "inconsistent_frames": {"lv_area": 2, "any": 2},
                       "thresholds": {"note": "mine", "grid": (4, 5)}}
    assert temporal_summary([({"sequence": "s"}, short)], thresholds) == {
        "checked": 0, "note": "no temporal check (no thresholds, or sequences shorter than 3 frames)"}
    tiny = temporal_summary([({"sequence": "t"}, measures(1, [""], temporal=report([False])))], None)
    assert tiny["interior_frames"] == 0 and tiny["thresholds"] == {"note": "", "grid": None}


def test_not_measured_summary():
    a = measures(3, [""] * 3, reasons={"lv_area": {}, "lv_length": {0: "no apex", 2: "no apex"}})
    b = measures(2, [""] * 2, reasons={"lv_length": {1: "no MYO"}, "lv_base_width": {1: "no MYO"}})
    assert not_measured_summary([({}, a), ({}, b)]) == {
        "lv_length": {"frames": 3, "sequences": 2, "reasons": {"no apex": 2, "no MYO": 1}},
        "lv_base_width": {"frames": 1, "sequences": 1, "reasons": {"no MYO": 1}}}


def gls(es, peak, frames_missing=0):
    return SimpleNamespace(gls_es=es, gls_peak=peak, ed=0, es=3, reasons=dict.fromkeys(range(frames_missing), "x"))


def test_strain_summary_means_and_missing_values():
    rows = [({"sequence": "a"}, measures(4, [""] * 4, strain=gls(-20.0, -22.0))),
            ({"sequence": "b"}, measures(4, [""] * 4, strain=gls(NAN, -10.0, 2))),
            ({}, measures(4, [""] * 4, strain=gls(-16.0, NAN))),
            ({"sequence": "c"}, measures(1, [""]))]
    summary = strain_summary(rows)
    assert summary["sequences"] == {
        "a": {"gls_es": -20.0, "gls_peak": -22.0, "ed": 0, "es": 3, "frames_not_measured": 0},
        "b": {"gls_es": None, "gls_peak": -10.0, "ed": 0, "es": 3, "frames_not_measured": 2},
        "2": {"gls_es": -16.0, "gls_peak": None, "ed": 0, "es": 3, "frames_not_measured": 0}}
    assert summary["mean_gls_es"] == -18.0 and summary["mean_gls_peak"] == -16.0
    assert summary["not_measured"] == ["b"]
    assert strain_summary([]) == {"sequences": {}, "mean_gls_es": None, "mean_gls_peak": None, "not_measured": []}


def test_clinical_summary_errors():
    clinical = {"p1": {"error": {"EF": -4.0, "EDV": 10.0}}, "p2": {"error": {"EF": 2.0}}, "p3": {"EF": 50.0}}
    summary = clinical_summary(clinical)
    assert summary == {"patients": clinical, "mae": {"EF": 3.0, "EDV": 10.0}, "bias": {"EF": -1.0, "EDV": 10.0},
                       "count": {"EF": 2, "EDV": 1}}


def test_summarise_puts_the_parts_together():
    a = measures(3, ["ED", "", "ES"], scores([0.8, 0.6, 0.7], [2.0, 3.0, 4.0], [1.0, 1.0, 3.0]),
                 temporal=report([False] * 3), strain=gls(-20.0, -21.0))
    b = measures(2, ["ED", "ES"])
    rows = [({"sequence": "a"}, a), ({"sequence": "b"}, b)]
    clinical = {"p": {"error": {"EF": 1.0}}}
    thresholds = TemporalThresholds({"lv_area": (0.0, 1.0)}, {"lv_area": 0.1}, note="given")
    summary = summarise(rows, clinical, {"rate": 1.0}, thresholds)
    assert summary["temporal"]["thresholds"]["note"] == "given"
    assert summary["sequences"] == 2 and summary["frames"] == 5 and isinstance(summary["frames"], int)
    assert summary["scores"] == score_means(rows) and summary["validity"] == validity_summary(rows)
    assert summary["validity_ground_truth"] == {"rate": 1.0}
    assert summary["temporal"] == temporal_summary(rows, thresholds) and summary["temporal"]["checked"] == 1
    assert summary["not_measured"] == {} and summary["strain"]["mean_gls_es"] == -20.0
    assert summary["clinical"]["mae"] == {"EF": 1.0}
