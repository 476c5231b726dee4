"""``run`` and ``demo`` take ``smooth``'s options (same names, help and defaults), record the ones given in
config.json, and refuse bad ones as ``smooth`` does."""

from __future__ import annotations

import json
import sys

import pytest

from echolatent.cli.app import main

OPTIONS = ("--method", "--thresholds", "--validity", "--reference", "--rounds", "--decode", "--input-sigmas")


def invoke(monkeypatch, *words: str) -> int:
    monkeypatch.setattr(sys, "argv", ["echolatent", *words])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code or 0


@pytest.mark.parametrize("command", ["run", "demo", "smooth"])
def test_the_smoothing_options_are_the_same_everywhere(command, monkeypatch, capsys) -> None:
    invoke(monkeypatch, command, "--help")
    text = " ".join(capsys.readouterr().out.split())  # help wraps long lines
    assert all(option in text for option in OPTIONS)
    assert "[default: 0,1.2]" in text and "[default: residual]" in text


def test_run_records_the_options_given(tiny_models, tiny_data, tmp_path, monkeypatch, capsys) -> None:
    out = tmp_path / "out"
    code = invoke(monkeypatch, "run", str(tiny_data), "--out", str(out), "--model", str(tiny_models["model"]),
                  "--vae", str(tiny_models["vae"]), "--rounds", "2", "--input-sigmas", "0,2")
    assert code == 0, capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["smoothing"] == {"rounds": 2, "input_sigmas": "0,2"}
    assert (out / "report.html").is_file()


def test_demo_refuses_a_bad_option_before_any_work(tmp_path, monkeypatch, capsys) -> None:
    code = invoke(monkeypatch, "demo", "--out", str(tmp_path / "d"), "--decode", "sideways")
    assert code == 2 and "unknown decode 'sideways'" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
