"""Segmenting files: outputs mirror the input folders with the input's shape, spacing and orientation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813

from echolatent.errors import InputError
from echolatent.io.discovery import default_refs, select_refs
from echolatent.jobs.segment import segment_path
from echolatent.segment import load_segmenter

from .conftest import echo_like, run_cli, write_sitk

FLIP_Y = (1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0)


def _geometry(path: Path) -> tuple:
    image = sitk.ReadImage(str(path))
    return image.GetSize(), image.GetSpacing(), image.GetOrigin(), image.GetDirection()


@pytest.fixture
def patient_folder(tmp_path: Path) -> Path:
    """One CAMUS-named patient: a 4CH NIfTI half sequence (odd size, anisotropic), 2CH MHD ED/ES frames."""
    folder = tmp_path / "data" / "patient0007"
    write_sitk(
        echo_like((5, 29, 37)),
        folder / "patient0007_4CH_half_sequence.nii.gz",
        (0.31, 0.47, 1.0),
        (1.5, -2.0, 0.0),
        FLIP_Y,
    )
    write_sitk(
        echo_like((5, 29, 37), 1), folder / "patient0007_4CH_ED.nii.gz", (0.31, 0.47, 1.0), (1.5, -2.0, 0.0), FLIP_Y
    )
    for instant in ("ED", "ES"):
        write_sitk(
            echo_like((23, 41), 2),
            folder / f"patient0007_2CH_{instant}.mhd",
            (0.6, 0.25),
            (0.0, 3.0),
            (1.0, 0.0, 0.0, 1.0),
        )
    return folder


def test_default_picks_sequences_else_frames(patient_folder):
    names = [ref.name for ref in select_refs(patient_folder)]
    assert names == ["patient0007_2CH_ED", "patient0007_2CH_ES", "patient0007_4CH_half_sequence"]
    all_kinds = [ref.name for ref in select_refs(patient_folder, ("half_sequence", "ED"))]
    assert all_kinds == ["patient0007_2CH_ED", "patient0007_4CH_half_sequence", "patient0007_4CH_ED"]
    assert default_refs([]) == []


def test_outputs_keep_input_geometry(patient_folder, tiny_unet_file, tmp_path):
    out = tmp_path / "out"
    written = segment_path(patient_folder, out, load_segmenter(tiny_unet_file), batch_size=2)
    assert [p.relative_to(out).as_posix() for p in written] == [
        "patient0007/patient0007_2CH_ED_pred.nii.gz",
        "patient0007/patient0007_2CH_ES_pred.nii.gz",
        "patient0007/patient0007_4CH_half_sequence_pred.nii.gz",
    ]
    sources = ["patient0007_2CH_ED.mhd", "patient0007_2CH_ES.mhd", "patient0007_4CH_half_sequence.nii.gz"]
    for source, pred in zip(sources, written, strict=True):
        size, spacing, origin, direction = _geometry(patient_folder / source)
        p_size, p_spacing, p_origin, p_direction = _geometry(pred)
        assert p_size == size
        assert np.allclose(p_spacing, spacing) and np.allclose(p_origin, origin)
        assert np.allclose(p_direction, direction)
        labels = sitk.GetArrayFromImage(sitk.ReadImage(str(pred)))
        assert labels.dtype == np.uint8 and labels.max() <= 3


def test_cli_single_file(patient_folder, tiny_unet_file, tmp_path, monkeypatch, capsys):
    source = patient_folder / "patient0007_2CH_ES.mhd"
    out = tmp_path / "cli_out"
    assert run_cli(["segment", str(source), "--out", str(out), "--model", str(tiny_unet_file)], monkeypatch) == 0
    assert "wrote 1 mask file" in capsys.readouterr().out
    pred = out / "patient0007" / "patient0007_2CH_ES_pred.nii.gz"
    assert _geometry(pred)[0] == _geometry(source)[0]


def _cli_error(argv, monkeypatch, capsys) -> str:
    assert run_cli(argv, monkeypatch) == 2
    return capsys.readouterr().err


def test_cli_bad_inputs_name_file_and_problem(tmp_path, tiny_unet_file, monkeypatch, capsys):
    empty = tmp_path / "empty_4CH.nii.gz"
    empty.write_bytes(b"")
    text = tmp_path / "notes.nii.gz"
    text.write_text("this is not an image")
    volume = write_sitk(
        np.zeros((2, 3, 12, 12), np.uint8), tmp_path / "vol4d.nii.gz", (1.0,) * 4, (0.0,) * 4, tuple(np.eye(4).ravel())
    )
    model = ["--model", str(tiny_unet_file), "--out", str(tmp_path / "o")]
    assert "empty file" in _cli_error(["segment", str(empty), *model], monkeypatch, capsys)
    err = _cli_error(["segment", str(text), *model], monkeypatch, capsys)
    assert "notes.nii.gz" in err and "cannot read image" in err
    err = _cli_error(["segment", str(volume), *model], monkeypatch, capsys)
    assert "vol4d.nii.gz" in err and "dimensions" in err
    assert "not found" in _cli_error(["segment", str(tmp_path / "nope"), *model], monkeypatch, capsys)
    err = _cli_error(["segment", str(empty), "--model", str(text), "--out", str(tmp_path / "o")], monkeypatch, capsys)
    assert "notes.nii.gz" in err and "model file" in err
    err = _cli_error(["segment", str(empty), *model[:2], "--out", str(tmp_path)], monkeypatch, capsys)
    assert "holds the input" in err  # the masks would land beside the inputs


def test_folder_without_images(tmp_path, tiny_unet_file):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InputError, match="no image files"):
        segment_path(tmp_path / "nothing", tmp_path / "o", load_segmenter(tiny_unet_file))
