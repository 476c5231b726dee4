"""``echolatent run`` with cohort options and ``echolatent report OUT`` on the command line."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from echolatent.cohort.shards import select_part
from echolatent.device import resolve_device
from echolatent.errors import EcholatentError, InputError


@pytest.fixture
def cli():
    from echolatent.cli.app import _register_commands, app

    _register_commands()
    return lambda *args: CliRunner().invoke(app, [str(a) for a in args])


def test_parts_on_the_command_line_then_report(cli, cohort_data, tiny_models, serial_run, tmp_path):
    out = tmp_path / "out"
    base = ["run", cohort_data, "--out", out, "--model", tiny_models["model"], "--vae", tiny_models["vae"],
            "--figures", "all", "--num-parts", "2"]
    first = cli(*base, "--part-id", "0")
    assert first.exit_code == 0, first.output
    assert "part 0 of 2: 3 processed, 0 failed" in first.output and "echolatent report" in first.output
    other = cli(*base, "--part-id", "1", "--method", "gaussian")  # another part must share the settings
    assert isinstance(other.exception, InputError) and "other settings (method)" in str(other.exception)
    assert cli(*base, "--part-id", "1").exit_code == 0
    report = cli("report", out)
    assert report.exit_code == 0, report.output
    assert "6 sequence(s)" in report.output and (out / "report.html").is_file()
    assert len(list((out / "report_files").glob("*_strip.png"))) == 6  # --figures all: every sequence's strip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["before"] == json.loads((serial_run[0] / "summary.json").read_text())["before"]


def test_bad_cohort_options_are_one_line_errors(cli, cohort_data, tmp_path):
    base = ["run", cohort_data, "--out", tmp_path / "out"]
    for args, message in (((*base, "--num-parts", "2", "--part-id", "2"), "--part-id must be in 0..1"),
                          ((*base, "--figures", "some"), "--figures: unknown choice"),
                          ((*base, "--workers", "1", "--device", "tpu"), "--device: unknown device")):
        result = cli(*args)  # main() turns these errors into one line and exit code 2
        assert isinstance(result.exception, EcholatentError) and message in str(result.exception), result.output
    assert not (tmp_path / "out").exists()
    no_report = cli("report", tmp_path)
    assert isinstance(no_report.exception, InputError) and "no config.json" in str(no_report.exception)


def test_device_choice():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="sees no CUDA GPU"):
            resolve_device("cuda")


def test_parts_are_a_deterministic_partition():
    names = [f"patient{i:04d}/seq" for i in (5, 3, 9, 1, 7, 2, 8)]
    parts = [select_part(names, 3, i, key=str) for i in range(3)]
    assert sorted(sum(parts, [])) == sorted(names) and [len(p) for p in parts] == [3, 2, 2]
    assert parts[0] == [n for n in names if n in sorted(names)[0::3]]  # the input order is kept
    assert select_part(list(reversed(names)), 3, 1, key=str) == list(reversed(parts[1]))
    for bad in ((0, 0), (2, -1), (2, 2)):
        with pytest.raises(InputError):
            select_part(names, *bad, key=str)


def test_device_option_of_run_segment_smooth(cli, cohort_data, tmp_path):
    asked = ["tpu"] if torch.cuda.is_available() else ["tpu", "cuda"]
    for command in ("run", "segment", "smooth"):
        for device in asked:
            result = cli(command, cohort_data, "--out", tmp_path / command, "--device", device)
            expected = "unknown device" if device == "tpu" else "sees no CUDA GPU"
            assert isinstance(result.exception, InputError) and expected in str(result.exception), result.output
    assert not any(tmp_path.iterdir())  # nothing written
