"""Progress as a redirected stderr reads it: plain lines without carriage returns or escape sequences, and
nothing at all with ``--quiet``."""

from __future__ import annotations

import io

import pytest
from typer.testing import CliRunner

import echolatent.cli.data_cmds  # noqa: F401  (registers the commands)
from echolatent.cli import progress
from echolatent.cli.app import app
from echolatent.cli.progress import PlainBar, progress_bar


@pytest.fixture(autouse=True)
def loud():
    progress.set_quiet(False)
    yield
    progress.set_quiet(False)


def test_plain_bar_writes_the_first_and_last_counts_between_intervals() -> None:
    stream = io.StringIO()
    with PlainBar(total=5, desc=" segment", unit="file", stream=stream, interval=1e9) as bar:
        for _ in range(5):
            bar.update()
    assert stream.getvalue() == "segment: 1/5 file\nsegment: 5/5 file\n"


def test_plain_bar_without_a_total_reports_at_close() -> None:
    stream = io.StringIO()
    with PlainBar(desc="corrupt", unit="file", stream=stream, interval=1e9) as bar:
        bar.update(3)
        bar.update(4)
    assert stream.getvalue() == "corrupt: 3 file\ncorrupt: 7 file\n"


def test_a_redirected_stream_gets_a_plain_bar_and_quiet_gets_none() -> None:
    stream = io.StringIO()
    assert isinstance(progress_bar("x", stream=stream), PlainBar)
    progress.set_quiet(True)
    with progress_bar("x", total=3, stream=stream) as bar:
        bar.update(3)
    assert stream.getvalue() == ""


def test_cli_progress_is_plain_when_redirected_and_absent_when_quiet(tmp_path) -> None:
    words = ["data", "synth", "--patients", "1", "--frames", "3", "--size", "32", "--previews", "0"]
    result = CliRunner().invoke(app, [*words[:2], str(tmp_path / "a"), *words[2:]])
    assert result.exit_code == 0, result.output
    assert "synth: 1/1 patient\n" in result.output
    assert "\r" not in result.output and "\x1b" not in result.output
    quiet = CliRunner().invoke(app, ["--quiet", *words[:2], str(tmp_path / "b"), *words[2:]])
    assert quiet.exit_code == 0, quiet.output
    assert "synth:" not in quiet.output and "wrote 1 patients" in quiet.output
