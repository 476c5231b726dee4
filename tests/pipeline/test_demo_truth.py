"""The demo with the shipped weights measures what its synthetic hearts were drawn with (truth.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from echolatent.jobs.run import run_demo

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "echolatent" / "weights"
#: EF points: measured -1.0 and -3.3 for these two patients (12 frames, 256 px)
EF_TOLERANCE = 5.0


@pytest.mark.skipif(not (SHIPPED / "unet.pt").is_file() or not (SHIPPED / "arvae.pt").is_file(),
                    reason="shipped weights not present")
def test_demo_ef_and_dice_against_the_truth_it_was_drawn_with(tmp_path):
    out = tmp_path / "demo"
    summary = run_demo(out, patients=2, frames=12, size=256, max_figures=0)
    truth = json.loads((out / "data" / "truth.json").read_text())["patients"]
    patients = summary["after"]["clinical"]["patients"]
    assert sorted(patients) == sorted(truth) == ["patient0001", "patient0002"]
    for name, drawn in truth.items():
        measured = patients[name]
        assert measured["truth_source"] == "truth.json" and measured["pred"]["method"] == "biplane"
        assert measured["truth"]["EF"] == pytest.approx(drawn["EF"])
        error = measured["pred"]["ef"] - drawn["EF"]  # the EF written minus the one the heart was drawn with
        assert abs(error) <= EF_TOLERANCE, (name, error)
        assert measured["error"]["EF"] == pytest.approx(error, abs=1e-9)
        assert 0.2 < drawn["EF"] / 100 < 0.8  # a plausible heart, so the bound above is not met by a flat 0
    for stage in ("before", "after"):
        assert summary[stage]["scores"]["LV"]["all"]["dice"] >= 0.95
