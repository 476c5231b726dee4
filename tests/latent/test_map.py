"""The latent map: codes and attributes of a small CAMUS-layout dataset, a sequence's trajectory, the JSON, the
figure and ``echolatent latent map``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import echolatent.cli.latent_cmds  # noqa: F401  (registers the commands)
from echolatent.cli.app import app
from echolatent.errors import InputError
from echolatent.io.splits import available_subsets
from echolatent.io.volume import Geometry, write_like
from echolatent.latent.codec import encode_masks, load_model
from echolatent.latent.map_data import dataset_codes, find_pairs, map_payload, trajectory
from echolatent.latent.map_figure import map_figure
from echolatent.latent.projection import fit_pca
from echolatent.measure.attributes import ATTRIBUTES, compute_attributes


@pytest.fixture(scope="module")
def model(tiny_models):
    torch.set_num_threads(1)
    return load_model(tiny_models["vae"])


def write_run(root: Path, heart_maker) -> Path:
    """A results folder: one sequence, 5 frames, _pred and _post."""
    folder = root / "patient0001"
    folder.mkdir(parents=True)
    masks = heart_maker(5, size=32, seed=4)
    for stage in ("pred", "post"):
        name = f"patient0001_4CH_half_sequence_{stage}.nii.gz"
        write_like(masks, Geometry.default(masks.shape, (0.5, 0.5)), folder / name)
    return root


def test_dataset_codes_per_split_with_attributes_in_mm(model, dataset: Path, heart_maker) -> None:
    assert available_subsets(dataset) == ["training", "validation"]
    validation = dataset_codes(model, dataset, "validation")
    assert validation.ids == [f"patient0003_{v}_{i}" for v in ("2CH", "4CH") for i in ("ED", "ES")]
    expected = heart_maker(12, size=32, seed=1)[8:]
    assert np.allclose(validation.codes, encode_masks(model, expected), atol=1e-5)
    for name, values in compute_attributes(expected, (0.5, 0.5)).items():
        assert np.allclose(validation.attributes[name], values, equal_nan=True)
    everything = dataset_codes(model, dataset, "all")
    assert len(everything.ids) == 12 and everything.codes.shape == (12, 8)
    # patient0002 was doubled in size with a 0.4 x 0.6 mm pixel: its LV area is 4 x 0.24 / 0.25 times the original's
    original = compute_attributes(heart_maker(12, size=32, seed=1)[4:8], (0.5, 0.5))["lv_area"]
    assert np.allclose(everything.attributes["lv_area"][4:8], original * 4 * 0.24 / 0.25)


def test_an_unknown_pixel_size_puts_every_value_in_pixels(model, dataset: Path, heart_maker) -> None:
    """A 1 x 1 mm header (camus224's) means the pixel size is unknown: all attributes in px, labelled px."""
    folder = dataset / "database_nifti" / "patient0003"
    for path in folder.glob("*_gt.nii.gz"):
        mask = heart_maker(1, size=32, seed=9)
        write_like(mask, Geometry.default(mask.shape, (1.0, 1.0)), path)
        image = path.with_name(path.name.replace("_gt", ""))
        write_like(np.zeros_like(mask), Geometry.default(mask.shape, (1.0, 1.0)), image)
    data = dataset_codes(model, dataset, "all")
    assert not data.spacing_known
    pixels = compute_attributes(heart_maker(12, size=32, seed=1)[:4], None)["lv_area"]
    assert np.allclose(data.attributes["lv_area"][:4], pixels)
    payload = map_payload(data, fit_pca(data.codes), "ar-vae", "x")
    assert payload["labels"]["lv_area"] == "LV area (px²)" and payload["labels"]["lv_length"] == "LV length (px)"


def test_an_unknown_split_lists_those_found(model, dataset: Path) -> None:
    with pytest.raises(InputError, match="training, validation, all"):
        dataset_codes(model, dataset, "testing")


def test_trajectory_from_a_folder_or_a_file(model, tmp_path: Path, heart_maker) -> None:
    run = write_run(tmp_path / "run", heart_maker)
    pairs = find_pairs(run)
    assert list(pairs) == ["patient0001_4CH_half_sequence"] and set(pairs[next(iter(pairs))]) == {"pred", "post"}
    track = trajectory(model, run / "patient0001" / "patient0001_4CH_half_sequence_post.nii.gz")
    assert set(track.codes) == {"pred", "post"} and track.codes["pred"].shape == (5, 8)
    assert np.allclose(track.codes["post"], encode_masks(model, heart_maker(5, size=32, seed=4)), atol=1e-5)
    with pytest.raises(InputError, match="no sequence 'nope'"):
        trajectory(model, run, "nope")
    with pytest.raises(InputError, match="_pred"):
        find_pairs(tmp_path)


def test_payload_units_and_figure(model, dataset: Path, tmp_path: Path, heart_maker) -> None:
    data = dataset_codes(model, dataset, "all")
    pca = fit_pca(data.codes)
    track = trajectory(model, write_run(tmp_path / "run", heart_maker))
    payload = json.loads(json.dumps(map_payload(data, pca, "ar-vae", "camus (all)", track)))
    assert payload["labels"]["lv_area"] == "LV area (mm²)" and payload["labels"]["lv_orientation"].endswith("(°)")
    assert set(payload["attributes"]) == set(ATTRIBUTES) and len(payload["x"]) == 12
    assert np.allclose(np.c_[payload["x"], payload["y"]], pca.transform(data.codes), atol=1e-4)
    assert np.allclose(payload["pca"]["components"], pca.components, atol=1e-4)
    assert len(payload["trajectory"]["pred"]) == 5
    path = map_figure(payload, tmp_path / "map.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no attribute"):
        map_figure(payload, tmp_path / "x.png", ["ef"])


def test_cli_latent_map(tiny_models, dataset: Path, tmp_path: Path, heart_maker) -> None:
    run = write_run(tmp_path / "run", heart_maker)
    out = tmp_path / "map"
    result = CliRunner().invoke(app, ["latent", "map", "--data", str(dataset), "--out", str(out), "--vae",
                                      str(tiny_models["vae"]), "--subset", "all", "--results", str(run)])
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "latent_map.json").read_text())
    assert payload["method"] == "pca" and len(payload["ids"]) == 12 and "trajectory" in payload
    assert (out / "latent_map.png").is_file() and "12 frames" in result.output
    result = CliRunner().invoke(app, ["latent", "map", "--data", str(dataset), "--out", str(out), "--vae",
                                      str(tiny_models["vae"]), "--projection", "tsne"])
    assert result.exit_code == 2 and "projection must be one of" in result.output
