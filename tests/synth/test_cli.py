"""``echolatent data synth`` and ``echolatent data corrupt``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import echolatent.cli.data_cmds  # noqa: F401  (registers the commands)
from echolatent.cli.app import app


def test_synth_then_corrupt(tmp_path):
    runner = CliRunner()
    out = tmp_path / "synth"
    result = runner.invoke(
        app,
        ["data", "synth", str(out), "--patients", "1", "--frames", "3", "--size", "32", "--seed", "2", "--full-cycle"],
    )
    assert result.exit_code == 0, result.output
    truth = json.loads((out / "truth.json").read_text())
    assert truth["seed"] == 2 and "sequence_volumes" in truth["patients"]["patient0001"]
    assert (out / "database_nifti" / "patient0001" / "patient0001_4CH_sequence_gt.nii.gz").is_file()
    result = runner.invoke(app, ["data", "corrupt", str(out), "--out", str(tmp_path / "pred"), "--severity", "0.4"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pred" / "patient0001" / "patient0001_2CH_ED_pred.nii.gz").is_file()


def test_corrupt_bad_severity(tmp_path):
    result = CliRunner().invoke(
        app, ["data", "corrupt", str(tmp_path), "--out", str(tmp_path / "o"), "--severity", "huge"]
    )
    assert result.exit_code != 0 and "severity" in result.output
