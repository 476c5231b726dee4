"""``echolatent latent ...`` as a user types it: data given with --data, a split the dataset lacks is refused
with the list of those it has, ``all`` takes every patient."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import echolatent.cli.latent_cmds  # noqa: F401  (registers the commands)
from echolatent.cli.app import app
from echolatent.errors import InputError


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def invoke(*words: str):
    return CliRunner().invoke(app, ["latent", *words])


def test_evaluate_all_and_a_missing_split(tiny_models, dataset: Path, tmp_path: Path) -> None:
    common = ["--data", str(dataset), "--out", str(tmp_path / "eval"), "--vae", str(tiny_models["vae"]),
              "--samples", "2", "--pairs", "2"]
    result = invoke("evaluate", *common, "--subset", "testing")
    assert isinstance(result.exception, InputError)
    assert "the splits found are: training, validation, all" in str(result.exception)
    result = invoke("evaluate", *common, "--subset", "all")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "eval" / "latent_metrics.json").read_text())["data"]
    assert data["subset"] == "all" and data["frames"] == 12


def test_traverse_takes_data_as_an_option(tiny_models, dataset: Path, tmp_path: Path) -> None:
    result = invoke("traverse", "--data", str(dataset), "--out", str(tmp_path), "--vae", str(tiny_models["vae"]),
                    "--frame", "patient0003_4CH_ES", "--steps", "3")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "traversal.png").is_file() and "patient0003_4CH_ES" in result.output
