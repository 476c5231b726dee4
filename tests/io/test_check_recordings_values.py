"""``data check`` of recordings, function by function: which files are recordings, how they are grouped into items
(a folder of one single-frame series is one item), the exact problems of each recording, and the EchoNet-Dynamic
list check (missing videos counted and named, five at most)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import BasicTextSRStorage, generate_uid

from echolatent.io.check_recordings import echonet_problems, is_recording_file, recording_items, recording_problems
from echolatent.synth.export import UltrasoundRegion, dicom_dataset, write_dicom, write_dicom_series, write_video

NO_SPACING_DICOM = ("no pixel size (no ultrasound region calibration and no PixelSpacing): volumes in pixels unless "
                    "--spacing is given")
NO_SPACING_VIDEO = "no pixel size (a video holds no pixel size): volumes in pixels unless --spacing is given"
NO_FPS = "no frame rate (FrameTime, CineRate...): ED spacing unchecked unless --fps is given"
ONE_FRAME = "a single frame: no beat, no ED/ES to find"
REGION = UltrasoundRegion((0, 0, 23, 19), (0.3, 0.3))


def _frames(count: int) -> np.ndarray:
    return np.random.default_rng(count).integers(0, 255, (count, 20, 24)).astype(np.uint8)


def test_recording_files_are_videos_and_dicoms_by_suffix_or_content(tmp_path: Path) -> None:
    write_video(_frames(2), tmp_path / "clip.AVI", fps=25)
    write_dicom(_frames(2), tmp_path / "scan.dcm", fps=30)
    (tmp_path / "noext").write_bytes((tmp_path / "scan.dcm").read_bytes())  # DICM magic, no suffix
    (tmp_path / "notes.txt").write_text("not a recording")
    (tmp_path / "folder.avi").mkdir()  # a folder named like a video
    assert is_recording_file(tmp_path / "clip.AVI")
    assert is_recording_file(tmp_path / "scan.dcm")
    assert is_recording_file(tmp_path / "noext")
    assert not is_recording_file(tmp_path / "notes.txt")
    assert not is_recording_file(tmp_path / "folder.avi")
    assert not is_recording_file(tmp_path / "absent.dcm")


def test_a_folder_of_one_single_frame_series_is_one_item(tmp_path: Path) -> None:
    series = write_dicom_series(_frames(3), tmp_path / "series", regions=(REGION,), fps=30)
    write_video(_frames(2), tmp_path / "b.avi", fps=25)
    write_video(_frames(2), tmp_path / "a.avi", fps=25)
    files = sorted(series.glob("*.dcm"), reverse=True) + [tmp_path / "b.avi", tmp_path / "a.avi"]
    assert recording_items(files) == [tmp_path / "a.avi", tmp_path / "b.avi", series]


def test_two_single_frame_files_of_one_series_are_one_item(tmp_path: Path) -> None:
    series = write_dicom_series(_frames(2), tmp_path / "pair", regions=(REGION,), fps=30)
    assert recording_items(sorted(series.glob("*.dcm"))) == [series]


def test_multi_frame_files_lone_files_and_mixed_series_stay_files(tmp_path: Path) -> None:
    multi = [write_dicom(_frames(2), tmp_path / "multi" / f"{name}.dcm", fps=30) for name in ("y", "x")]
    lone = write_dicom(_frames(1), tmp_path / "lone" / "IM_0001.dcm", fps=30)  # one single-frame file: no series
    mixed = [write_dicom(_frames(1), tmp_path / "mixed" / f"IM_{i}.dcm", fps=30) for i in (2, 1)]  # two series
    assert recording_items([*multi, lone, *mixed]) == sorted([*multi, lone, *mixed])
    assert recording_items([]) == []


def test_a_fine_recording_has_no_problem(tmp_path: Path) -> None:
    assert recording_problems(write_dicom(_frames(2), tmp_path / "ok.dcm", regions=(REGION,), fps=30)) == []
    pixel = write_dicom(_frames(2), tmp_path / "pixel.dcm", pixel_spacing=(0.4, 0.3), fps=30)
    assert recording_problems(pixel) == []
    series = write_dicom_series(_frames(2), tmp_path / "series", regions=(REGION,), fps=30)
    assert recording_problems(series) == []


def test_each_missing_piece_of_a_dicom_is_listed_with_its_file(tmp_path: Path) -> None:
    bare = write_dicom(_frames(1), tmp_path / "bare.dcm")
    assert recording_problems(bare) == [(bare, NO_SPACING_DICOM), (bare, NO_FPS), (bare, ONE_FRAME)]
    two = write_dicom(_frames(2), tmp_path / "two.dcm", regions=(REGION,))
    assert recording_problems(two) == [(two, NO_FPS)]  # 2 frames are enough
    uncalibrated = write_dicom(_frames(3), tmp_path / "uncalibrated.dcm", fps=30)
    assert recording_problems(uncalibrated) == [(uncalibrated, NO_SPACING_DICOM)]
    series = write_dicom_series(_frames(2), tmp_path / "series", fps=30)
    assert recording_problems(series) == [(series, NO_SPACING_DICOM)]  # the folder is named


def test_a_video_is_read_as_a_video(tmp_path: Path) -> None:
    clip = write_video(_frames(3), tmp_path / "clip.avi", fps=25)
    assert recording_problems(clip) == [(clip, NO_SPACING_VIDEO)]
    still = write_video(_frames(1), tmp_path / "still.avi", fps=25)
    assert recording_problems(still) == [(still, NO_SPACING_VIDEO), (still, ONE_FRAME)]


def test_an_unreadable_recording_gives_its_reader_s_problem(tmp_path: Path) -> None:
    good = write_dicom(_frames(3), tmp_path / "good.dcm", regions=(REGION,), fps=30)
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(good.read_bytes()[:-700])
    ((path, message),) = recording_problems(broken)
    assert path == broken and ("DICOM" in message or "pixel data" in message)
    ds = dicom_dataset(_frames(2))
    ds.NumberOfFrames = 0
    ds.save_as(tmp_path / "zero.dcm", enforce_file_format=True)
    ((path, message),) = recording_problems(tmp_path / "zero.dcm")
    assert path == tmp_path / "zero.dcm" and "zero frames" in message
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(b"not a video at all" * 10)
    ((path, message),) = recording_problems(garbage)
    assert path == garbage and message


def test_a_broken_file_inside_a_series_folder_is_named(tmp_path: Path) -> None:
    series = write_dicom_series(_frames(3), tmp_path / "series", regions=(REGION,), fps=30)
    second = series / "IM_0002.dcm"
    second.write_bytes(second.read_bytes()[:-300])
    ((path, message),) = recording_problems(series)
    assert path == second and message


def _echonet(root: Path, names: list[str], present: list[str]) -> Path:
    (root / "Videos").mkdir(parents=True)
    for name in present:
        write_video(np.zeros((2, 16, 16), np.uint8) + 40, root / "Videos" / f"{name}.avi", fps=50)
    rows = "".join(f"{name},50,TEST\n" for name in names)
    (root / "FileList.csv").write_text("FileName,EF,Split\n" + rows)
    return root


def test_echonet_lists_missing_videos_five_at_most(tmp_path: Path) -> None:
    names = [f"0X{i}" for i in range(8)]
    root = _echonet(tmp_path / "seven", names, ["0X3"])
    assert echonet_problems(root) == [
        (root / "FileList.csv", "7 listed video(s) missing under Videos/ (0X0, 0X1, 0X2, 0X4, 0X5, ...)")]
    six = _echonet(tmp_path / "six", names[:6], [])
    assert echonet_problems(six) == [
        (six / "FileList.csv", "6 listed video(s) missing under Videos/ (0X0, 0X1, 0X2, 0X3, 0X4, ...)")]
    five = _echonet(tmp_path / "five", names[:6], ["0X0"])
    assert echonet_problems(five) == [
        (five / "FileList.csv", "5 listed video(s) missing under Videos/ (0X1, 0X2, 0X3, 0X4, 0X5)")]
    complete = _echonet(tmp_path / "complete", ["0X0"], ["0X0"])
    assert echonet_problems(complete) == []


@pytest.mark.parametrize("layout", ["no list", "no videos"])
def test_a_folder_that_is_no_echonet_root_has_no_echonet_problem(tmp_path: Path, layout: str) -> None:
    root = _echonet(tmp_path / "root", ["0X0"], [])
    if layout == "no list":
        (root / "FileList.csv").unlink()
    else:
        (root / "Videos").rmdir()
    assert echonet_problems(root) == []


def test_a_malformed_file_list_is_one_problem_naming_it(tmp_path: Path) -> None:
    root = _echonet(tmp_path / "root", ["0X0"], [])
    (root / "FileList.csv").write_text("FileName,Split\n0X0,TEST\n")
    assert echonet_problems(root) == [(root / "FileList.csv", "missing column(s) EF")]


def test_a_malformed_tracings_file_is_named_not_the_file_list(tmp_path: Path) -> None:
    root = _echonet(tmp_path / "root", ["0X0"], ["0X0"])
    (root / "VolumeTracings.csv").write_text("FileName,X1,Y1\n0X0.avi,1,2\n")
    assert echonet_problems(root) == [(root / "VolumeTracings.csv", "missing column(s) X2, Y2, Frame")]


@pytest.mark.parametrize("reports", [0, 3, 4])
def test_files_without_an_image_are_named_and_not_checked(tmp_path: Path, caplog, reports: int) -> None:
    clip = write_dicom(np.zeros((3, 8, 8), np.uint8), tmp_path / "IM0001.dcm")
    for k in range(reports):
        report = Dataset()
        report.SOPClassUID, report.SOPInstanceUID = BasicTextSRStorage, generate_uid()
        report.save_as(tmp_path / f"SR{k}.dcm", implicit_vr=False, little_endian=True)
    with caplog.at_level(logging.WARNING, logger="echolatent.io.check_recordings"):
        assert recording_items(sorted(tmp_path.iterdir())) == [clip]
    expected = {0: [], 3: [f"{tmp_path}: 3 DICOM file(s) without an image (SR0.dcm, SR1.dcm, SR2.dcm) not checked"],
                4: [f"{tmp_path}: 4 DICOM file(s) without an image (SR0.dcm, SR1.dcm, SR2.dcm, ...) not checked"]}
    assert caplog.messages == expected[reports]
