"""Cohort measures on hand-made sequences: which frames, views and truth each patient's row is built from (truth.json,
then the cfg, then the ground-truth masks), validity rates counted by hand, temporal verdicts summed over sequences."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from types import SimpleNamespace

import numpy as np
import pytest
from measure_helpers import heart_frame

from echolatent.errors import InputError
from echolatent.labels import Label, View
from echolatent.measure.attributes import compute_attributes
from echolatent.measure.clinical import clinical_indices
from echolatent.measure.cohort import (
    clinical_table,
    instant_masks,
    truth_temporal,
    truth_thresholds,
    truth_validity,
)
from echolatent.measure.sequence import temporal_check
from echolatent.measure.temporal import PUBLISHED_TAU, TemporalThresholds
from echolatent.measure.validity import ValidityThresholds

SPACING = (0.5, 0.4)


def _heart(length, size=64, half_width=11):
    return heart_frame(size=size, length=length, half_width=half_width, wall=4, la_height=10)


def _seq(patient, view, lengths, ed=0, es=None, spacing=SPACING, info=None, size=64):
    masks = np.stack([_heart(n, size) for n in lengths])
    es = len(lengths) - 1 if es is None else es
    return SimpleNamespace(ref=SimpleNamespace(patient=patient, view=view), mask=masks, ed=ed, es=es,
                           spacing=spacing, info=info or {})


def test_instant_masks_take_the_ed_and_es_frames_of_each_view_first_sequence_first():
    a4c = _seq("p1", View.A4C, [30, 28, 26, 24], ed=1, es=3, spacing=(0.3, 0.2))
    again = _seq("p1", View.A4C, [20, 20, 20, 20], ed=1, es=3)  # a second A4C of p1: the first one is kept
    a2c = _seq("p1", View.A2C, [29, 27, 25], ed=0, es=None)
    a2c.es = None  # no ES frame known
    no_view = _seq("p2", None, [30, 28, 26])
    found = instant_masks([no_view, a4c, again, a2c])  # a sequence without view first: skipped, not the end
    assert list(found) == ["p1"] and sorted(found["p1"]) == ["ED", "ES"]
    assert list(found["p1"]["ES"]) == [View.A4C] and sorted(found["p1"]["ED"]) == [View.A2C, View.A4C]
    for instant, view, source, index in (("ED", View.A4C, a4c, 1), ("ES", View.A4C, a4c, 3), ("ED", View.A2C, a2c, 0)):
        mask, spacing = found["p1"][instant][view]
        assert mask is not None and np.array_equal(mask, source.mask[index]) and spacing == source.spacing


def _truth_root(tmp_path, patients):
    (tmp_path / "gt").mkdir(exist_ok=True)
    (tmp_path / "gt" / "truth.json").write_text(json.dumps({"patients": patients}))
    return tmp_path / "gt"


def _expected(seqs):
    """clinical_indices of the ED and ES frames picked by hand from ``seqs`` (one per view)."""
    return clinical_indices({s.ref.view: s.mask[s.ed] for s in seqs}, {s.ref.view: s.mask[s.es] for s in seqs},
                            {s.ref.view: s.spacing for s in seqs})


def test_clinical_rows_take_the_truth_from_truth_json_then_the_cfg_then_the_masks(tmp_path, caplog):
    preds = {p: [_seq(p, View.A4C, [34, 31, 28, 26]), _seq(p, View.A2C, [33, 30, 27, 25], ed=1)]
             for p in ("p1", "p2", "p3", "p4")}
    gt_cfg = _seq("p2", View.A4C, [34, 30, 26], info={"LVedv": "100", "LVesv": "40", "LVef": "", "EF": "60"})
    gt_masks = [_seq("p3", View.A4C, [36, 32, 27]), _seq("p3", View.A2C, [35, 31, 26])]
    gt_empty_cfg = _seq("p4", View.A4C, [34, 30, 26], info={"LVedv": "", "LVesv": None})
    gt_ed_only = _seq("p4", View.A2C, [35, 31, 26])
    gt_ed_only.es = None
    pairs = [(preds["p1"][0], None), (preds["p1"][1], None), (preds["p2"][0], gt_cfg), (preds["p2"][1], None),
             (preds["p3"][0], gt_masks[0]), (preds["p3"][1], gt_masks[1]), (preds["p4"][0], gt_empty_cfg),
             (preds["p4"][1], gt_ed_only)]
    root = _truth_root(tmp_path, {"p1": {"EDV": 50, "EF": 40.5}, "other": {"EDV": 1.0}})
    table = clinical_table(pairs, root)
    assert list(table) == ["p1", "p2", "p3", "p4"]
    for patient in table:
        pred = _expected(preds[patient])
        assert pred.method == "biplane" and pred.ef == pytest.approx(100 * (pred.edv - pred.esv) / pred.edv)
        assert table[patient]["pred"] == asdict(pred)
    p1, p2, p3 = table["p1"], table["p2"], table["p3"]
    assert p1["truth"] == {"EDV": 50.0, "EF": 40.5} and p1["truth_source"] == "truth.json"
    assert p1["error"] == {"EDV": p1["pred"]["edv"] - 50.0, "EF": p1["pred"]["ef"] - 40.5}
    assert p2["truth"] == {"EDV": 100.0, "ESV": 40.0, "EF": 60.0} and p2["truth_source"] == "cfg"
    assert p2["error"] == {"EDV": p2["pred"]["edv"] - 100, "ESV": p2["pred"]["esv"] - 40, "EF": p2["pred"]["ef"] - 60}
    truth = _expected(gt_masks)
    assert p3["truth"] == {"EDV": truth.edv, "ESV": truth.esv, "EF": truth.ef}
    assert p3["truth_source"] == "ground-truth masks"
    assert p3["error"]["EF"] == p3["pred"]["ef"] - truth.ef and truth.edv > p3["pred"]["edv"]  # a longer LV
    # p4: a cfg with empty values and a single ground-truth view (no ES of A2C): the masks' single plane
    single = _expected([gt_empty_cfg])
    assert table["p4"]["truth"] == {"EDV": single.edv, "ESV": single.esv, "EF": single.ef}
    assert table["p4"]["truth_source"] == "ground-truth masks"


def test_patients_without_truth_or_without_both_instants(tmp_path, caplog):
    ed_only = _seq("p1", View.A4C, [34, 31, 28])
    ed_only.es = None
    es_only = _seq("p0", View.A2C, [34, 31, 28])
    es_only.ed = None
    no_truth = _seq("p2", View.A4C, [34, 31, 28])
    unmeasurable = _seq("p3", View.A4C, [34, 31, 28])
    unmeasurable.mask[2][unmeasurable.mask[2] == Label.LV] = Label.MYO  # no LV at ES
    gt_without_lv = _seq("p2", View.A4C, [34, 31, 28])
    gt_without_lv.mask[0][gt_without_lv.mask[0] == Label.LV] = Label.MYO
    with caplog.at_level(logging.WARNING, logger="echolatent.measure.cohort"):
        table = clinical_table([(es_only, None), (ed_only, None), (no_truth, gt_without_lv), (unmeasurable, None)],
                               None)
    assert list(table) == ["p2"] and list(table["p2"]) == ["pred"]
    assert table["p2"]["pred"] == asdict(_expected([no_truth]))
    reasons = []
    for bad in (gt_without_lv, unmeasurable):
        with pytest.raises(ValueError) as err:
            _expected([bad])
        reasons.append(str(err.value))
    assert [r.getMessage() for r in caplog.records] == [f"p2: no clinical indices ({reasons[0]})",
                                                        f"p3: no clinical indices ({reasons[1]})"]


def test_truth_json_missing_empty_or_unreadable(tmp_path):
    pairs = [(_seq("p1", View.A4C, [34, 31, 28]), None)]
    assert list(clinical_table(pairs, tmp_path)["p1"]) == ["pred"]  # no truth.json in the folder
    (tmp_path / "truth.json").write_text(json.dumps({"cohort": "x"}))  # no "patients"
    assert list(clinical_table(pairs, tmp_path)["p1"]) == ["pred"]
    for text in ("{not json", "[1, 2]"):
        (tmp_path / "truth.json").write_text(text)
        with pytest.raises(InputError) as err:
            clinical_table(pairs, tmp_path)
        assert err.value.path == tmp_path / "truth.json" and "unreadable truth file (" in str(err.value)


def test_validity_rates_counted_by_hand():
    assert truth_validity([], None) is None
    clean = _seq("p1", View.A4C, [30, 28, 26, 24]).mask
    stray = _seq("p2", View.A2C, [30, 28, 26], size=72).mask.copy()  # another frame size
    stray[1:, 2:6, 2:6] = Label.LA  # a second LA piece, far from the heart, in 2 of its 3 frames
    rates = truth_validity([SimpleNamespace(mask=clean), SimpleNamespace(mask=stray)], None)
    assert rates["frames"] == 7 and rates["rate"] == pytest.approx(5 / 7)
    expected = {name: 1.0 for name in rates["per_criterion"]}
    expected["disconnected_la"] = 5 / 7
    assert rates["per_criterion"] == pytest.approx(expected) and len(expected) == 12
    alone = truth_validity([SimpleNamespace(mask=clean)], None)
    assert alone == {"rate": 1.0, "frames": 4, "per_criterion": {name: 1.0 for name in expected}}
    strict = ValidityThresholds(width_ratio_lv_myo=0.01)  # no LV is 100 times thinner than its MYO
    rates = truth_validity([SimpleNamespace(mask=clean), SimpleNamespace(mask=stray)], strict)
    assert rates["rate"] == 0.0 and rates["per_criterion"]["width_ratio_lv_myo"] == 0.0
    assert rates["per_criterion"]["disconnected_la"] == pytest.approx(5 / 7)


def test_thresholds_from_masks_on_one_grid_only(caplog):
    a, b = _seq("p1", View.A4C, [30, 28, 26]).mask, _seq("p2", View.A4C, [34, 32]).mask
    thresholds = truth_thresholds([a, b])
    assert thresholds.note == "bounds from the 2 ground-truth mask arrays, published taus"
    assert thresholds.tau == PUBLISHED_TAU and thresholds.grid == (64, 64) and thresholds.spacing is None
    attrs = compute_attributes(np.concatenate([a, b]))
    assert thresholds.bounds["lv_length"] == (attrs["lv_length"].min(), attrs["lv_length"].max())
    assert thresholds.bounds["lv_area"] == (attrs["lv_area"].min(), attrs["lv_area"].max())
    taller = np.pad(b, ((0, 0), (0, 8), (0, 0)))  # 72 x 64: another grid of the same width
    with caplog.at_level(logging.INFO, logger="echolatent.measure.cohort"):
        assert truth_thresholds([a, taller]) is None
    assert [r.getMessage() for r in caplog.records] == [
        "ground-truth masks on 2 grids: no temporal check without given thresholds"]


def test_temporal_verdicts_summed_over_the_sequences_long_enough():
    steady = _seq("p1", View.A4C, [30, 30, 30, 30, 30])  # the same frame: every d(t) is 0
    jumpy = _seq("p2", View.A4C, [36, 24, 36, 24, 36])  # a zigzag far above tau
    short = _seq("p3", View.A4C, [36, 24])  # 2 frames: not checked
    three = _seq("p4", View.A4C, [36, 24, 36])  # 3 frames: checked
    thresholds = TemporalThresholds.from_reference([steady.mask, jumpy.mask], SPACING)
    assert truth_temporal([steady], None) is None
    assert truth_temporal([steady], TemporalThresholds.published()) is None  # no bounds
    assert truth_temporal([short], thresholds) is None
    found = truth_temporal([steady, short, jumpy, three, jumpy], thresholds)
    reports = [temporal_check(s.mask, s.spacing, thresholds) for s in (steady, jumpy, three)]
    assert reports[0].sequence_ok and not reports[1].sequence_ok and reports[1].counts()["any"] > 0
    expected = {name: reports[0].counts()[name] + 2 * reports[1].counts()[name] + reports[2].counts()[name]
                for name in reports[0].counts()}
    assert found == {"checked": 4, "sequences_ok": 1, "inconsistent_frames": expected}


def test_temporal_verdicts_use_each_sequences_spacing():
    reference = _seq("p1", View.A4C, [36, 30, 24, 30, 36])
    mild = _seq("p2", View.A4C, [30, 30, 31, 30, 30], spacing=(0.05, 0.05))  # small in mm, large in pixels
    thresholds = TemporalThresholds.from_reference([reference.mask], SPACING)
    in_mm = temporal_check(mild.mask, mild.spacing, thresholds).counts()
    assert in_mm["any"] == 0 < temporal_check(mild.mask, None, thresholds).counts()["any"]  # the spacing matters
    assert truth_temporal([mild], thresholds) == {"checked": 1, "sequences_ok": int(in_mm["any"] == 0),
                                                  "inconsistent_frames": in_mm}


def test_lvef_of_the_cfg_comes_before_ef_and_esv_of_truth_json_is_read(tmp_path):
    pred = _seq("p1", View.A4C, [34, 31, 28])
    gt = _seq("p1", View.A4C, [34, 31, 28], info={"LVef": "55.5", "EF": "60"})
    row = clinical_table([(pred, gt)], tmp_path)["p1"]
    assert row["truth"] == {"EF": 55.5} and row["truth_source"] == "cfg"
    root = _truth_root(tmp_path, {"p1": {"ESV": 12.5}})
    row = clinical_table([(pred, gt)], root)["p1"]
    assert row["truth"] == {"ESV": 12.5} and row["error"] == {"ESV": row["pred"]["esv"] - 12.5}
