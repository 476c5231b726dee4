"""Dataset check: every broken input gives one problem naming its file; clean data gives none; reads only."""

from __future__ import annotations

import contextlib
import gzip
from pathlib import Path

import numpy as np
import pytest
from io_helpers import frame_image, heart_mask, odd_geometry, write_patient
from typer.testing import CliRunner

import echolatent.cli.check_cmd  # noqa: F401  (registers `data check`)
from echolatent.cli.app import app
from echolatent.io.camus import find_sequences, load_sequence
from echolatent.io.check import check_dataset, structure_problems
from echolatent.io.volume import Geometry, write_like
from echolatent.synth.export import UltrasoundRegion, dicom_dataset, write_dicom, write_dicom_series, write_video

PATIENT = "patient0001"


def _break_truncated(folder: Path) -> Path:
    path = folder / f"{PATIENT}_4CH_half_sequence.nii.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _break_garbage(folder: Path) -> Path:
    path = folder / f"{PATIENT}_2CH_ED.nii.gz"
    path.write_bytes(gzip.compress(np.random.default_rng(1).bytes(2000)))
    return path


def _break_empty_file(folder: Path) -> Path:
    path = folder / f"{PATIENT}_2CH_ES.nii.gz"
    path.write_bytes(b"")
    return path


def _break_labels(folder: Path) -> Path:
    mask = heart_mask(1)
    mask[0, -1, -1] = 5
    path = folder / f"{PATIENT}_4CH_ED_gt.nii.gz"
    write_like(mask, odd_geometry((1, 24, 20)), path)
    return path


def _break_nan(folder: Path) -> Path:
    image = frame_image(1).astype(np.float32)
    image[0, 3, 3] = np.nan
    path = folder / f"{PATIENT}_4CH_ES.nii.gz"
    write_like(image, odd_geometry((1, 24, 20)), path)
    return path


def _break_shape(folder: Path) -> Path:
    path = folder / f"{PATIENT}_2CH_ED_gt.nii.gz"
    write_like(heart_mask(1, 24, 22), odd_geometry((1, 24, 22)), path)
    return path


def _break_spacing(folder: Path) -> Path:
    path = folder / f"{PATIENT}_2CH_ES_gt.nii.gz"
    write_like(heart_mask(1), Geometry.default((1, 24, 20), (0.5, 0.5)), path)
    return path


def _break_missing_image(folder: Path) -> Path:
    (folder / f"{PATIENT}_4CH_ES.nii.gz").unlink()
    return folder / f"{PATIENT}_4CH_ES_gt.nii.gz"


def _break_short_sequence(folder: Path) -> Path:
    (folder / "Info_2CH.cfg").write_text("ED: 1\nES: 7\nNbFrame: 7\n")
    return [folder / f"{PATIENT}_2CH_half_sequence.nii.gz", folder / f"{PATIENT}_2CH_half_sequence_gt.nii.gz"]


def _break_empty_mask(folder: Path) -> Path:
    path = folder / f"{PATIENT}_4CH_ED_gt.nii.gz"
    write_like(np.zeros((1, 24, 20), np.uint8), odd_geometry((1, 24, 20)), path)
    return path


def _break_missing_structure(folder: Path) -> Path:
    mask = heart_mask(5)
    mask[1][mask[1] == 3] = 0
    mask[3][mask[3] == 3] = 0
    path = folder / f"{PATIENT}_4CH_half_sequence_gt.nii.gz"
    write_like(mask, odd_geometry((5, 24, 20)), path)
    return path


def _break_cfg(folder: Path) -> Path:
    path = folder / "Info_4CH.cfg"
    path.write_text("ED: 1\nES = 5\n")
    return path


def _break_mhd_raw(folder: Path) -> Path:
    write_like(frame_image(1), odd_geometry((1, 24, 20)), folder / "extra.mhd")
    for data in folder.glob("extra.*raw"):
        data.unlink()
    return folder / "extra.mhd"


BREAKS = {
    _break_truncated: "cannot read image",
    _break_garbage: "cannot read image",
    _break_empty_file: "empty file",
    _break_labels: r"labels {5} outside 0..3",
    _break_nan: "1 NaN or infinite voxels",
    _break_shape: "shape (1, 24, 22) (T, H, W) does not match its image's (1, 24, 20)",
    _break_spacing: "spacing (0.5, 0.5) mm does not match its image's",
    _break_missing_image: "mask without image",
    _break_short_sequence: "5 frames, fewer than NbFrame 7 in Info_2CH.cfg",
    _break_empty_mask: "empty mask (no LV, MYO or LA)",
    _break_missing_structure: "frames 1, 3: LA missing",
    _break_cfg: "line 2: expected 'Key: value'",
    _break_mhd_raw: "cannot read image",
}


@pytest.fixture
def patient(tmp_path: Path) -> Path:
    return write_patient(tmp_path, PATIENT, frames=5, cfg="ED: 1\nES: 5\nNbFrame: 5\n")


def _snapshot(folder: Path) -> dict[Path, tuple[bytes, int]]:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_clean_patient_has_no_problem(patient):
    assert check_dataset(patient) == []
    assert check_dataset(patient.parent) == []


@pytest.mark.parametrize("make_broken", list(BREAKS), ids=lambda f: f.__name__.removeprefix("_break_"))
def test_each_broken_input_gives_one_problem_naming_its_file(patient, make_broken):
    broken = make_broken(patient)
    broken = broken if isinstance(broken, list) else [broken]
    problems = check_dataset(patient)
    assert [p.path for p in problems] == broken, problems
    for problem in problems:
        assert BREAKS[make_broken] in problem.message
        assert str(problem) == f"{problem.path}: {problem.message}" and "\n" not in str(problem)


def test_all_problems_are_listed_together(patient):
    broken = {
        make(patient) for make in (_break_truncated, _break_labels, _break_missing_image, _break_cfg, _break_garbage)
    }
    assert {p.path for p in check_dataset(patient)} == broken


def test_split_listing_a_missing_patient(patient):
    split = patient.parent / "database_split"
    split.mkdir()
    (split / "subgroup_training.txt").write_text(f"{PATIENT}\npatient0099\n")
    (patient.parent / "database_nifti").mkdir()
    patient.rename(patient.parent / "database_nifti" / PATIENT)
    (problem,) = check_dataset(patient.parent)
    assert problem.path == split / "subgroup_training.txt" and "patient0099" in problem.message


def test_check_and_load_never_write_inputs(patient):
    _break_labels(patient)
    _break_truncated(patient)
    before = _snapshot(patient)
    check_dataset(patient)
    for ref in find_sequences(patient):
        with contextlib.suppress(ValueError):
            load_sequence(ref)
    assert _snapshot(patient) == before


def test_structure_problems_single_frame_and_sequence():
    assert structure_problems(heart_mask(3)) == []
    lv_only = np.zeros((1, 8, 8), np.uint8)
    lv_only[0, 2:4, 2:4] = 1
    assert structure_problems(lv_only) == ["MYO and LA missing"]


def test_cli_exit_codes_and_output(patient, tmp_path):
    runner = CliRunner()
    clean = runner.invoke(app, ["data", "check", str(patient), "--no-progress"])
    assert clean.exit_code == 0, clean.output
    assert clean.output.strip().endswith("14 files checked, 0 problems")
    broken = _break_labels(patient)
    result = runner.invoke(app, ["data", "check", str(patient), "--no-progress"])
    assert result.exit_code == 1
    assert f"{broken}: labels {{5}} outside 0..3" in result.output.splitlines()
    assert "1 problem" in result.output.splitlines()[-1]
    missing = runner.invoke(app, ["data", "check", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "nowhere: not found" in missing.output


def test_one_frame_sequence_and_ed_past_the_end(tmp_path):
    write_like(frame_image(1), odd_geometry((1, 24, 20)), tmp_path / "patient0002_2CH_half_sequence.nii.gz")
    write_like(frame_image(4), odd_geometry((4, 24, 20)), tmp_path / "patient0002_4CH_half_sequence.nii.gz")
    (tmp_path / "Info_4CH.cfg").write_text("ED: 6\nES: 1\n")
    problems = [str(p) for p in check_dataset(tmp_path)]
    assert problems == [
        f"{tmp_path / 'patient0002_2CH_half_sequence.nii.gz'}: one-frame sequence (a sequence needs at least 2 frames)",
        f"{tmp_path / 'patient0002_4CH_half_sequence.nii.gz'}: 4 frames, but Info_4CH.cfg puts ED at frame 6",
    ]


def test_single_mask_file_is_compared_with_its_image(patient):
    broken = _break_spacing(patient)
    (problem,) = check_dataset(broken)
    assert problem.path == broken and "spacing (0.5, 0.5) mm does not match" in problem.message
    assert check_dataset(patient / f"{PATIENT}_4CH_ED_gt.nii.gz") == []


# ------------------------------------------------------------------------------------------ recordings (DICOM, video)


def test_check_lists_recording_problems(tmp_path: Path) -> None:
    frames = np.random.default_rng(0).integers(0, 255, (3, 20, 24)).astype(np.uint8)
    root = tmp_path / "clinic"
    good = UltrasoundRegion((0, 0, 23, 19), (0.3, 0.3))
    write_dicom(frames, root / "ok.dcm", regions=(good,), fps=30)
    write_dicom(frames, root / "uncalibrated.dcm", fps=30)
    write_dicom_series(frames, root / "series", regions=(good,), fps=30)
    (root / "broken.dcm").write_bytes((root / "ok.dcm").read_bytes()[:-700])
    ds = dicom_dataset(frames)
    ds.NumberOfFrames = 0
    ds.save_as(root / "zero.dcm", enforce_file_format=True)
    write_video(frames, root / "clip.avi", fps=25)
    problems = [(p.path.name, p.message) for p in check_dataset(root)]
    names = [name for name, _ in problems]
    assert "ok.dcm" not in names and "series" not in names and not any(n.startswith("IM_") for n in names)
    assert any(n == "uncalibrated.dcm" and "no pixel size" in m for n, m in problems)
    assert any(n == "zero.dcm" and "zero frames" in m for n, m in problems)
    assert any(n == "broken.dcm" and ("DICOM" in m or "pixel data" in m) for n, m in problems)
    assert [m for n, m in problems if n == "clip.avi"] == [
        "no pixel size (a video holds no pixel size): volumes in pixels unless --spacing is given"]


def test_check_echonet_layout_lists_missing_videos(tmp_path: Path) -> None:
    root = tmp_path / "echonet"
    write_video(np.zeros((3, 16, 16), np.uint8) + 40, root / "Videos" / "0XA.avi", fps=50)
    (root / "FileList.csv").write_text("FileName,EF,Split\n0XA,50,TEST\n0XB,40,TEST\n")
    problems = [str(p) for p in check_dataset(root)]
    assert any("FileList.csv: 1 listed video(s) missing under Videos/ (0XB)" in p for p in problems)
