"""Where temporal thresholds come from, by hand: a model file's metadata (present, absent, empty, unreadable) and
the expert masks of a small CAMUS-layout folder written here (bounds = the LV area's range over the split)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813
import torch

from echolatent.errors import InputError
from echolatent.latent.codec import model_metadata
from echolatent.measure.attribute_info import PUBLISHED_TAU
from echolatent.measure.temporal import TemporalThresholds
from echolatent.models.shape import ShapeModel, ShapeModelConfig, save_model
from echolatent.temporal.thresholds import THRESHOLDS_KEY, reference_thresholds, stored_thresholds


def _model_file(path: Path, metadata: dict) -> Path:
    torch.manual_seed(0)
    model = ShapeModel(ShapeModelConfig(input_size=16, channels=(4,), bottleneck_channels=2, latent_dim=8))
    return save_model(model, path, metadata)


def test_stored_thresholds_read_back(tmp_path):
    given = TemporalThresholds({"lv_area": (10.0, 30.0)}, {"lv_area": 0.02}, (16, 16), None, "")
    path = _model_file(tmp_path / "with.pt", {THRESHOLDS_KEY: given.to_dict(), "other": 1})
    read = stored_thresholds(path)
    assert read.bounds == {"lv_area": (10.0, 30.0)} and read.tau == {"lv_area": 0.02} and read.grid == (16, 16)
    assert read.note == ""  # the stored dict has a note (empty): it is kept
    stored = given.to_dict()
    del stored["note"]
    noted = stored_thresholds(_model_file(tmp_path / "no_note.pt", {THRESHOLDS_KEY: stored}))
    assert noted.note == "stored with the shape model"
    assert THRESHOLDS_KEY == "temporal_thresholds"


def test_no_stored_thresholds(tmp_path):
    assert stored_thresholds(_model_file(tmp_path / "none.pt", {"other": 1})) is None
    assert stored_thresholds(_model_file(tmp_path / "empty.pt", {THRESHOLDS_KEY: {}})) is None


def test_unreadable_model_file(tmp_path):
    missing = tmp_path / "missing.pt"
    with pytest.raises(InputError, match="model file not found"):
        stored_thresholds(missing)
    with pytest.raises(InputError):
        stored_thresholds(missing, required=True)
    assert stored_thresholds(missing, required=False) is None


def test_the_shipped_models_thresholds():
    stored = model_metadata(None)[THRESHOLDS_KEY]
    read = stored_thresholds(None)
    assert read.bounds == {k: tuple(v) for k, v in stored["bounds"].items()}
    assert read.tau == stored["tau"] and read.grid == tuple(stored["grid"])


def _frame(lv_rows: int) -> np.ndarray:
    mask = np.zeros((24, 24), np.uint8)
    mask[4 : 4 + lv_rows, 8:16] = 1  # LV: lv_rows x 8 pixels
    mask[4 : 4 + lv_rows + 2, 6:8] = 2
    mask[4 : 4 + lv_rows + 2, 16:18] = 2
    mask[18:22, 9:15] = 3
    return mask


def _camus(root: Path) -> Path:
    """Patients 1, 2 (training) and 3 (validation); LV of 8 x (rows) pixels, rows by patient, view and instant."""
    rows = {"patient0001": (6, 8, 7, 9), "patient0002": (5, 10, 6, 8), "patient0003": (3, 12, 4, 11)}
    for patient, counts in rows.items():
        folder = root / "database_nifti" / patient
        folder.mkdir(parents=True)
        for k, (view, instant) in enumerate([(v, i) for v in ("2CH", "4CH") for i in ("ED", "ES")]):
            mask = _frame(counts[k])
            for suffix, array in (("", mask * 50), ("_gt", mask)):
                image = sitk.GetImageFromArray(array.astype(np.uint8))
                image.SetSpacing((0.5, 0.5))
                sitk.WriteImage(image, str(folder / f"{patient}_{view}_{instant}{suffix}.nii.gz"))
    split = root / "database_split"
    split.mkdir()
    (split / "subgroup_training.txt").write_text("patient0001\npatient0002\n")
    (split / "subgroup_validation.txt").write_text("patient0003\n")
    return root


def test_reference_thresholds_of_a_split(tmp_path, monkeypatch):
    monkeypatch.setenv("ECHOLATENT_CACHE", str(tmp_path / "cache"))
    root = _camus(tmp_path / "camus")
    training = reference_thresholds(root, 24)
    assert training.bounds["lv_area"] == (5 * 8.0, 10 * 8.0)  # rows 5..10 over patients 1 and 2
    assert training.grid == (24, 24) and training.spacing is None and training.tau == PUBLISHED_TAU
    assert training.note == f"bounds from 8 expert masks of {root} (training) at 24x24"
    validation = reference_thresholds(root, 24, "validation")
    assert validation.bounds["lv_area"] == (3 * 8.0, 12 * 8.0)
    assert validation.note == f"bounds from 4 expert masks of {root} (validation) at 24x24"
    everything = reference_thresholds(root, 24, None)
    assert everything.bounds["lv_area"] == (3 * 8.0, 12 * 8.0)
    assert everything.note == f"bounds from 12 expert masks of {root} (all) at 24x24"
    assert reference_thresholds(root, 12).grid == (12, 12)  # resampled to the grid asked for
