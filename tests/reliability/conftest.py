"""Fixtures of the reliability tests: a clean tiny input written once, fresh copies, the CLI run in-process."""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from reliability_helpers import write_clean

from echolatent.cli.app import main


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def clean_inputs(tmp_path_factory) -> dict[str, Path]:
    return write_clean(tmp_path_factory.mktemp("clean"))


def copy_inputs(clean: dict[str, Path], root: Path) -> dict[str, Path]:
    for key, source in clean.items():
        shutil.copytree(source, root / key)
    return {key: root / key for key in clean}


@pytest.fixture
def inputs(clean_inputs, tmp_path) -> dict[str, Path]:
    """A fresh copy of the clean input (``data`` root and ``pred`` folder) in ``tmp_path/in``."""
    return copy_inputs(clean_inputs, tmp_path / "in")


@pytest.fixture
def fresh_inputs(clean_inputs, tmp_path_factory) -> Callable[[], dict[str, Path]]:
    """A maker of fresh copies (one per hypothesis example: function fixtures are shared by the examples)."""
    return lambda: copy_inputs(clean_inputs, tmp_path_factory.mktemp("in"))


@dataclass
class Outcome:
    """What one command did: exit code, stdout, stderr, the exception that escaped ``main`` (a traceback)."""

    code: int | None
    out: str
    err: str
    escaped: BaseException | None
    logged_tracebacks: list[str]

    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("error:")]


@pytest.fixture
def cli(monkeypatch, capsys, caplog) -> Callable[[list[str]], Outcome]:
    """Run ``echolatent ARGS`` in-process through the console entry point (as a user's shell would)."""

    def run(args: list[str]) -> Outcome:
        caplog.clear()
        caplog.set_level(logging.INFO)
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["echolatent", *(str(a) for a in args)])
        code, escaped = None, None
        try:
            main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except BaseException as err:  # noqa: BLE001 (a traceback the user would see: the test reports it)
            escaped = err
        captured = capsys.readouterr()
        logged = [r.getMessage() for r in caplog.records if r.exc_info]
        return Outcome(code, captured.out, captured.err, escaped, logged)

    return run


@pytest.fixture
def models(tiny_models) -> list[str]:
    """``--model`` and ``--vae`` options naming the tiny random models."""
    return ["--model", str(tiny_models["model"]), "--vae", str(tiny_models["vae"])]
