"""Bad output folders and options against every writing command: one line, exit code 2, before any computing."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability_helpers import (
    FUZZ,
    OPTION_FILE_KINDS,
    assert_no_complete_output,
    command_line,
    option_file,
    tree_hashes,
)

from echolatent.outdir import lock_folder

WRITERS = ("segment", "run", "smooth", "evaluate", "data corrupt", "data synth")


def writer_line(command: str, inputs: dict, out: Path, models: list[str]) -> list:
    if command == "data corrupt":
        return ["data", "corrupt", inputs["data"], "--out", out]
    if command == "data synth":
        return ["data", "synth", out, "--patients", "1", "--frames", "3", "--size", "32", "--previews", "0"]
    return command_line(command, inputs, out, models)


def refused(outcome, *words: str) -> str:
    assert outcome.escaped is None, repr(outcome.escaped)
    assert "Traceback" not in outcome.err and not outcome.logged_tracebacks
    assert outcome.code == 2, (outcome.code, outcome.out, outcome.err)
    (line,) = outcome.error_lines()
    assert all(word in line for word in words), (words, line)
    return line


@pytest.mark.parametrize("command", WRITERS)
def test_out_that_is_a_file(command, inputs, cli, models, tmp_path, monkeypatch):
    out = tmp_path / "taken.txt"
    out.write_text("a user's file")
    import echolatent.segment as segment

    monkeypatch.setattr(segment, "load_segmenter", lambda *_a, **_k: pytest.fail("computed before refusing"))
    refused(cli(writer_line(command, inputs, out, models)), str(out), "not a folder")
    assert out.read_text() == "a user's file"


@pytest.mark.parametrize("command", [c for c in WRITERS if c != "data synth"])
def test_out_inside_the_input_tree(command, inputs, cli, models):
    before = tree_hashes(*inputs.values())
    out = inputs["data"] / "results"
    line = refused(cli(writer_line(command, inputs, out, models)), "inside the input folder")
    assert str(out) in line and tree_hashes(*inputs.values()) == before and not out.exists()


def _hold_lock(out: Path, run_id: str, pid: int) -> Path:
    """A lock entry as another process (``pid``) of run ``run_id`` writes it."""
    folder = lock_folder(out)
    folder.mkdir(parents=True, exist_ok=True)
    entry = folder / f"{socket.gethostname()}-{pid}.json"
    entry.write_text(json.dumps({"host": socket.gethostname(), "pid": pid, "run_id": run_id, "command": "run",
                                 "started": "2026-12-07T08:00:00+00:00"}))
    return entry


@pytest.mark.parametrize("command", WRITERS)
def test_second_run_into_the_same_out_fails_fast(command, inputs, cli, models, tmp_path):
    out = tmp_path / "out"
    entry = _hold_lock(out, "someone-else", os.getppid())  # a live process: pytest's parent
    line = refused(cli(writer_line(command, inputs, out, models)), "in use by another echolatent run")
    assert f"pid {os.getppid()}" in line and not out.exists() and entry.is_file()


def test_shards_of_one_run_share_out(inputs, cli, models, tmp_path, monkeypatch):
    out = tmp_path / "out"
    entry = _hold_lock(out, "cohort-7", os.getppid())
    monkeypatch.setenv("ECHOLATENT_RUN_ID", "cohort-7")
    outcome = cli(writer_line("segment", inputs, out, models))
    assert outcome.code == 0, outcome.err
    assert entry.is_file() and lock_folder(out).is_dir()  # the other shard still holds it


def test_leftovers_of_a_killed_run_are_named_and_cleared(inputs, cli, models, tmp_path, caplog):
    out = tmp_path / "out"
    dead = _dead_pid()
    stale = _hold_lock(out, "killed", dead)
    partial = tmp_path / f"out.partial-{dead}"
    (partial / "patient0001").mkdir(parents=True)
    outcome = cli(writer_line("run", inputs, out, models))
    assert outcome.code == 0, outcome.err
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert f"pid {dead}" in messages and partial.name in messages
    assert not stale.exists() and not partial.exists() and not lock_folder(out).exists()
    assert (out / "report.html").is_file()


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("kind", OPTION_FILE_KINDS)
@pytest.mark.parametrize(("command", "option"), [("evaluate", "--thresholds"), ("evaluate", "--validity"),
                                                 ("smooth", "--thresholds"), ("smooth", "--validity")])
def test_bad_option_files(command, option, kind, inputs, cli, models, tmp_path):
    path, words = option_file(tmp_path, kind)
    out = tmp_path / "out"
    refused(cli([*command_line(command, inputs, out, models), option, path]), str(path), words)
    assert not out.exists()


@pytest.mark.parametrize("suffix", ["pred", "", "_", "_a/b", "_pred "])
def test_bad_suffix(suffix, inputs, cli, models, tmp_path):
    refused(cli([*command_line("evaluate", inputs, tmp_path / "out", models), "--suffix", suffix]), "--suffix")


@pytest.mark.parametrize("command", ["segment", "run"])
def test_negative_threads(command, inputs, cli, models, tmp_path):
    refused(cli([*command_line(command, inputs, tmp_path / "out", models), "--threads", "-3"]), "--threads", "-3")


@pytest.mark.parametrize("method", ["gaussian", "none"])
def test_unreadable_vae_is_an_error_whatever_the_method(method, inputs, cli, tmp_path):
    vae = tmp_path / "vae.pt"
    vae.write_bytes(os.urandom(300))
    outcome = cli(["smooth", inputs["data"], "--out", tmp_path / "out", "--method", method, "--vae", vae])
    refused(outcome, str(vae))
    assert_no_complete_output(tmp_path / "out")


def test_unreadable_model(inputs, cli, tmp_path):
    model = tmp_path / "unet.pt"
    model.write_bytes(b"not a model")
    refused(cli(["segment", inputs["data"], "--out", tmp_path / "out", "--model", model]), str(model))


def test_version(cli):
    from echolatent import __version__

    outcome = cli(["--version"])
    assert outcome.code == 0 and outcome.out.strip() == f"echolatent {__version__}"


@FUZZ
@given(text=st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=5),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=3), max_leaves=6))
def test_any_json_as_validity_file_is_used_or_refused_in_one_line(text, inputs, cli, models, tmp_path_factory):
    folder = tmp_path_factory.mktemp("opt")
    path = folder / "validity.json"
    path.write_text(json.dumps(text))
    outcome = cli([*command_line("evaluate", inputs, folder / "out", models), "--validity", path])
    assert outcome.escaped is None and "Traceback" not in outcome.err, (text, outcome.escaped)
    if outcome.code != 0:
        refused(outcome, str(path))
