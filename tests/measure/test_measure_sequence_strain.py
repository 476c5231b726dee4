"""Sequence tables and summaries: reasons of unmeasured attributes, GLS columns, "not verified" sequences."""

from __future__ import annotations

import numpy as np
import pytest
from measure_helpers import heart_frame

from echolatent.labels import Label
from echolatent.measure.sequence import measure_sequence
from echolatent.measure.summary import summarise
from echolatent.measure.temporal import TemporalThresholds


def _sequence(scales):
    return np.stack([heart_frame(size=160, length=70 * s, half_width=26 * s, wall=7, la_height=24, base_row=115)
                     for s in scales])


@pytest.fixture()
def thresholds():
    return TemporalThresholds.from_reference([_sequence([1.0, 0.9, 0.8])], (0.5, 0.5))


def test_frame_rows_carry_strain_and_reasons(thresholds):
    masks = _sequence([1.0, 0.95, 0.9, 0.85, 0.8])
    masks[2][masks[2] == Label.MYO] = 0
    measures = measure_sequence(masks, (0.5, 0.5), thresholds=thresholds, instants=["ED", "", "", "", "ES"])
    rows = measures.frame_rows(sequence="s")
    assert rows[0]["not_measured"] == "" and rows[0]["strain_pct"] == 0.0
    assert rows[2]["not_measured"] == "lv_base_width: no MYO beside the LV; lv_length: no MYO beside the LV"
    assert np.isnan(rows[2]["strain_pct"]) and np.isnan(rows[2]["lv_base_width"])
    assert rows[4]["strain_pct"] == pytest.approx(-20.0, abs=0.5)
    assert measures.strain.gls_es == pytest.approx(-20.0, abs=0.5) and measures.strain.es == 4
    assert rows[4]["endo_length"] == pytest.approx(0.8 * rows[0]["endo_length"], rel=0.005)
    assert not measures.temporal.sequence_ok and measures.temporal.not_verified == ["lv_base_width", "lv_length"]


def test_summary_counts_unmeasured_frames_and_gls(thresholds):
    whole = _sequence([1.0, 0.95, 0.9, 0.85])
    broken = whole.copy()
    broken[1][broken[1] == Label.MYO] = 0
    measures = [({"sequence": name}, measure_sequence(m, (0.5, 0.5), thresholds=thresholds))
                for name, m in (("whole", whole), ("broken", broken))]
    summary = summarise(measures, {}, None, thresholds)
    assert summary["not_measured"]["lv_base_width"] == {"frames": 1, "sequences": 1,
                                                         "reasons": {"no MYO beside the LV": 1}}
    assert "lv_area" not in summary["not_measured"]
    assert summary["temporal"]["not_verified"] == {"lv_base_width": ["broken"], "lv_length": ["broken"]}
    assert not measures[1][1].temporal.sequence_ok  # never counted consistent
    assert summary["strain"]["sequences"]["whole"]["gls_es"] == pytest.approx(-15.0, abs=0.5)
    assert summary["strain"]["sequences"]["broken"]["frames_not_measured"] == 1
