"""Recordings value by value: pixel-size text, option checks with their messages, which files are recordings, ids
of DICOM files, series folders and videos, names made unique, the cfg frame rate, and each value settled with its
source (the file's first, then the option's; ED/ES from the cfg, then --ed/--es, else found)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from io_helpers import write_case, write_patient
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import BasicTextSRStorage, ExplicitVRLittleEndian, MediaStorageDirectoryStorage, generate_uid

from echolatent.errors import InputError
from echolatent.io.camus import EchoSequence, SequenceRef, find_sequences
from echolatent.io.check_recordings import recording_items
from echolatent.io.dicom import holds_image, series_files
from echolatent.io.readers import read_recording
from echolatent.io.recordings import (
    RecordingOptions,
    cfg_fps,
    is_one_series,
    is_recording,
    load_any,
    parse_spacing,
    recording_ref,
    recording_refs,
    resolve,
)
from echolatent.io.volume import Geometry
from echolatent.labels import View
from echolatent.synth.export import write_dicom, write_dicom_series, write_video

FRAMES = np.random.default_rng(1).integers(1, 255, (3, 24, 20)).astype(np.uint8)


@pytest.mark.parametrize(("text", "expected"), [("0.3", (0.3, 0.3)), ("0.3x0.25", (0.3, 0.25)), ("2X1", (2.0, 1.0)),
                                                ("1*.5", (1.0, 0.5)), (" 3. ", (3.0, 3.0)), (".25 x 4", (0.25, 4.0))])
def test_pixel_size_text(text: str, expected: tuple[float, float]) -> None:
    assert parse_spacing(text) == expected


@pytest.mark.parametrize("text", ["0x0.3", "0.3x0", "0.0", "x0.3", "0.3x0.2x0.1", "0,3", "1e-1", "0.3 mm"])
def test_pixel_size_text_refused(text: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_spacing(text)
    assert str(err.value) in (f"pixel size {text!r} must be positive",
                              f"pixel size {text!r}: expected MM or MMxMM (rows x columns), e.g. 0.3 or 0.3x0.25")
    zero = text in ("0x0.3", "0.3x0", "0.0")
    assert str(err.value).endswith("must be positive") is zero


def test_option_messages_and_config() -> None:
    for kwargs, message in (({"es": 3}, "--ed and --es go together"), ({"ed": 2, "es": 0}, "--es 0: frame numbers "
                            "start at 1"), ({"fps": 0.0}, "--fps 0.0: must be positive"),
                            ({"fps": float("nan")}, "--fps nan: must be positive"),
                            ({"sector": "on"}, "--sector 'on': choose from auto, cut, off")):
        with pytest.raises(ValueError) as err:
            RecordingOptions(**kwargs)
        assert str(err.value) == message
    options = RecordingOptions(View.A2C, (0.3, 0.2), 30.0, 1, 1, "cut")  # ED and ES may be the same number here
    assert options.as_config() == {"view": "2CH", "spacing": [0.3, 0.2], "fps": 30.0, "ed": 1, "es": 1,
                                   "sector": "cut"}
    assert RecordingOptions().as_config() == {"view": None, "spacing": None, "fps": None, "ed": None, "es": None,
                                              "sector": "auto"}
    assert RecordingOptions(fps=0.5).fps == 0.5


def test_which_files_are_recordings(tmp_path: Path) -> None:
    dicom = write_dicom(FRAMES, tmp_path / "a.dcm")
    no_suffix = write_dicom(FRAMES, tmp_path / "IM1")
    video = write_video(FRAMES, tmp_path / "v.avi", fps=25)
    write_case(tmp_path / "n", "scan", 2, mask=False)
    dicm_named_nifti = tmp_path / "odd.nii"
    dicm_named_nifti.write_bytes(dicom.read_bytes())
    assert [is_recording(p) for p in (dicom, no_suffix, video, tmp_path / "n" / "scan.nii.gz", dicm_named_nifti)] == [
        True, True, True, False, False]
    assert is_recording(tmp_path / "missing.mp4")  # by its suffix


def test_ids_of_dicom_files_series_and_videos(tmp_path: Path) -> None:
    dicom = write_dicom(FRAMES, tmp_path / "my loop.dcm", patient_id="PAT/1")
    assert recording_ref(dicom) == SequenceRef("PAT_1", None, "file", dicom, None, None, "my_loop")
    anonymous = write_dicom(FRAMES, tmp_path / "anon.dcm", patient_id="")
    assert (recording_ref(anonymous).patient, recording_ref(anonymous).name) == ("anon", "anon")
    series = write_dicom_series(FRAMES, tmp_path / "ser ies", patient_id="S9")
    assert (recording_ref(series).patient, recording_ref(series).name) == ("S9", "ser_ies")
    video = write_video(FRAMES, tmp_path / "clip v.mp4", fps=25)
    assert recording_ref(video) == SequenceRef("clip_v", None, "file", video, None, None, "clip_v")
    damaged = tmp_path / "bad.dcm"
    damaged.write_bytes(b"")
    assert (recording_ref(damaged).patient, recording_ref(damaged).name) == ("bad", "bad")


def test_recordings_under_a_folder(tmp_path: Path) -> None:
    write_dicom(FRAMES, tmp_path / "b" / "loop.dcm", patient_id="P")
    write_dicom(FRAMES, tmp_path / "a" / "loop.dcm", patient_id="P")
    write_dicom(FRAMES, tmp_path / "a" / "c" / "loop.dcm", patient_id="P")
    write_dicom_series(FRAMES, tmp_path / "s", patient_id="Q")
    write_video(FRAMES, tmp_path / ".hidden" / "x.avi", fps=25)
    (tmp_path / ".x.avi").write_bytes(b"")
    write_case(tmp_path / "n", "scan", 2, mask=False)
    refs = recording_refs(tmp_path)
    assert [(r.patient, r.name, r.image.relative_to(tmp_path).as_posix()) for r in refs] == [
        ("P", "loop", "a/loop.dcm"), ("P", "loop_2", "a/c/loop.dcm"), ("P", "loop_3", "b/loop.dcm"), ("Q", "s", "s")]
    assert recording_refs(tmp_path / "s") == [refs[-1]]
    assert recording_refs(tmp_path / "n" / "scan.nii.gz") == []
    with pytest.raises(InputError) as err:
        recording_refs(tmp_path / "none")
    assert (err.value.path, err.value.problem) == (tmp_path / "none", "not found")


def test_a_folder_of_one_file_or_of_multi_frame_files_is_not_a_series(tmp_path: Path) -> None:
    write_dicom(FRAMES[:1], tmp_path / "one" / "a.dcm", patient_id="O")
    assert [r.image for r in recording_refs(tmp_path / "one")] == [tmp_path / "one"]  # given: read as its series
    write_dicom(FRAMES, tmp_path / "multi" / "a.dcm")
    write_dicom(FRAMES, tmp_path / "multi" / "b.dcm")
    assert [r.image.name for r in recording_refs(tmp_path / "multi")] == ["a.dcm", "b.dcm"]
    below = [r.image.relative_to(tmp_path).as_posix() for r in recording_refs(tmp_path)]
    assert below == ["multi/a.dcm", "multi/b.dcm", "one/a.dcm"]  # found below: one file is a file


def test_one_series_needs_single_frames_of_one_uid_all_readable(tmp_path: Path) -> None:
    series = write_dicom_series(FRAMES, tmp_path / "s", series_uid="1.2.3")
    files = sorted(series.iterdir())
    assert is_one_series(files)
    other = write_dicom(FRAMES[:1], tmp_path / "o.dcm", series_uid="1.2.4")
    assert not is_one_series([*files, other])
    multi = write_dicom(FRAMES, tmp_path / "m.dcm", series_uid="1.2.3")
    assert not is_one_series([*files, multi])
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"")
    assert not is_one_series([*files, bad]) and not is_one_series([])


@pytest.mark.parametrize(("info", "expected"), [({"FrameRate": "30"}, 30.0), ({"FrameRate": " 12.5 "}, 12.5),
                                                ({"FrameRate": "0"}, None), ({"FrameRate": "-5"}, None),
                                                ({"FrameRate": "inf"}, None), ({"FrameRate": "x"}, None), ({}, None),
                                                ({"FrameRate": "0.5"}, 0.5)])
def test_cfg_frame_rate(info, expected) -> None:
    assert cfg_fps(info) == expected


def sequence(kind: str = "half_sequence", frames: int = 4, spacing=(0.5, 0.25), view=None, cfg=None, ed=None,
             es=None) -> EchoSequence:
    ref = SequenceRef("p", view, kind, Path("p.nii.gz"), None, cfg, "p")
    return EchoSequence(ref, None, None, Geometry.default((frames, 8, 8)), spacing, {}, ed, es, False)


def test_the_file_values_win_over_the_options() -> None:
    options = RecordingOptions(View.A4C, (0.9, 0.9), 10.0)
    loaded = resolve(sequence(view=View.A2C), 40.0, View.A4C, {"format": "dicom", "spacing_source": "regions",
                                                                "fps_source": "FrameTime"}, options)
    assert loaded.seq.spacing == (0.5, 0.25) and loaded.fps == 40.0 and loaded.seq.ref.view == View.A2C
    assert loaded.facts == {"format": "dicom", "spacing_source": "regions", "spacing": [0.5, 0.25], "fps": 40.0,
                            "fps_source": "FrameTime", "view": "2CH", "view_source": "file name",
                            "instants_source": "found on the smoothed LV area curve"}
    assert loaded.find_instants


def test_the_options_fill_what_the_file_lacks() -> None:
    options = RecordingOptions(View.A4C, (0.9, 0.8), 10.0, 2, 4)
    loaded = resolve(sequence(spacing=(1.0, 1.0)), None, None, {}, options)
    assert (loaded.seq.spacing, loaded.fps, loaded.seq.ref.view) == ((0.9, 0.8), 10.0, View.A4C)
    assert (loaded.seq.ed, loaded.seq.es, loaded.find_instants) == (1, 3, False)
    assert loaded.facts == {"format": "", "spacing_source": "--spacing", "spacing": [0.9, 0.8], "fps": 10.0,
                            "fps_source": "--fps", "view": "4CH", "view_source": "--view",
                            "instants_source": "--ed/--es"}


def test_unknown_values_without_options() -> None:
    loaded = resolve(sequence(spacing=(1.0, 1.0)), None, None, {"fps_source": "FrameTime"}, RecordingOptions())
    assert loaded.facts == {"format": "", "spacing_source": "unknown", "spacing": None, "fps": None,
                            "fps_source": "unknown", "view": None, "view_source": "unknown",
                            "instants_source": "found on the smoothed LV area curve"}
    single = resolve(sequence(frames=1), 0.0, View.A2C, {"view_source": "DICOM description"}, RecordingOptions())
    assert single.facts["instants_source"] == "single frame" and not single.find_instants
    assert single.facts["view_source"] == "DICOM description" and single.facts["fps_source"] == "unknown"


def test_spacing_modes_with_options() -> None:
    options = RecordingOptions(spacing=(0.9, 0.8))
    header = resolve(sequence(spacing=(1.0, 1.0)), None, None, {}, options, spacing_mode="header")
    assert header.seq.spacing == (1.0, 1.0) and header.facts["spacing_source"] == "header"
    pixels = resolve(sequence(), None, None, {}, options, spacing_mode="none")
    assert pixels.seq.spacing is None and pixels.facts["spacing_source"] == "unknown"


def test_instants_from_the_file_name_the_cfg_or_the_options() -> None:
    options = RecordingOptions(ed=2, es=3)
    frame = resolve(sequence("ED", frames=1, ed=0), None, None, {}, options)
    assert (frame.seq.ed, frame.seq.es, frame.facts["instants_source"]) == (0, None, "file name")
    cfg = resolve(sequence(cfg=Path("Info_2CH.cfg"), ed=0, es=3), None, None, {}, options)
    assert (cfg.seq.ed, cfg.seq.es, cfg.facts["instants_source"]) == (0, 3, "cfg")
    no_cfg = resolve(sequence(ed=0, es=3), None, None, {}, options)
    assert (no_cfg.seq.ed, no_cfg.seq.es, no_cfg.facts["instants_source"]) == (1, 2, "--ed/--es")
    half = resolve(sequence(cfg=Path("Info_2CH.cfg"), ed=0), None, None, {}, options)
    assert half.facts["instants_source"] == "--ed/--es"
    last = resolve(sequence(frames=4), None, None, {}, RecordingOptions(ed=4, es=1))
    assert (last.seq.ed, last.seq.es) == (3, 0)
    with pytest.raises(InputError) as err:
        resolve(sequence(frames=4), None, None, {}, RecordingOptions(ed=5, es=1))
    assert (err.value.path, err.value.problem) == (Path("p.nii.gz"), "--ed 5 is past the last frame (4)")


def test_loading_a_camus_file_and_a_dicom(tmp_path: Path) -> None:
    folder = write_patient(tmp_path, "patient0001", frames=3, cfg="ED: 1\nES: 3\nFrameRate: 25\n")
    assert recording_refs(tmp_path) == []  # no recording among CAMUS files
    ref = find_sequences(folder, kinds=("half_sequence",))[0]
    loaded = load_any(ref)
    assert loaded.fps == 25.0 and loaded.facts["fps_source"] == "cfg FrameRate"
    assert loaded.facts["format"] == "nifti/mhd" and loaded.facts["instants_source"] == "cfg"
    (folder / "Info_2CH.cfg").write_text("ED: 1\nES: 3\n")
    assert load_any(ref).facts["fps_source"] == "unknown"
    dicom = write_dicom(FRAMES, tmp_path / "d.dcm", fps=50, patient_id="D")
    loaded = load_any(recording_ref(dicom), spacing_mode="auto")
    assert loaded.fps == 50.0 and loaded.facts["fps_source"] == "FrameTime" and loaded.facts["format"] == "dicom"
    assert loaded.seq.image.shape == (3, 24, 20) and loaded.seq.spacing is None


def _without_image(path: Path, kind: str) -> Path:
    """A DICOM file holding no pixel data, as exports hold beside the images: a DICOMDIR (named so, no suffix) or
    a structured report."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MediaStorageDirectoryStorage if kind == "dicomdir" else BasicTextSRStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), Dataset(), file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.PatientID = "SYNTH0001"
    ds.Modality = "SR" if kind == "report" else "OT"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_files_without_an_image_are_skipped_with_a_warning(tmp_path: Path, caplog) -> None:
    """A CD export: a DICOMDIR, a report and a multi-frame clip in one folder, and a series folder with a report
    beside its frames: the clip and the series are the recordings, the others are named in one warning each."""
    clip = write_dicom(np.zeros((3, 8, 8), np.uint8), tmp_path / "IM0001.dcm")
    _without_image(tmp_path / "DICOMDIR", "dicomdir")
    _without_image(tmp_path / "SR0001.dcm", "report")
    series = write_dicom_series(np.zeros((3, 8, 8), np.uint8), tmp_path / "series")
    _without_image(series / "SR0002.dcm", "report")
    assert (holds_image(clip), holds_image(tmp_path / "DICOMDIR"), holds_image(tmp_path / "SR0001.dcm")) == (
        True, False, False)
    with caplog.at_level(logging.WARNING, logger="echolatent.io.recordings"):
        refs = recording_refs(tmp_path)
    assert sorted(ref.image for ref in refs) == [clip, series]
    assert f"{tmp_path}: 2 DICOM file(s) without an image (DICOMDIR, SR0001.dcm) skipped" in caplog.messages
    assert series_files(series) == sorted(series.glob("IM_*.dcm"))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="echolatent.io.check_recordings"):
        assert recording_items(p for p in tmp_path.rglob("*") if p.is_file()) == [clip, series]
    assert sorted(caplog.messages) == sorted([
        f"{tmp_path}: 2 DICOM file(s) without an image (DICOMDIR, SR0001.dcm) not checked",
        f"{series}: 1 DICOM file(s) without an image (SR0002.dcm) not checked"])


def test_a_damaged_dicom_is_left_to_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "broken.dcm"
    path.write_bytes(b"\1\2\3" * 50)
    assert holds_image(path)
    with pytest.raises(InputError):
        read_recording(path)


@pytest.mark.parametrize("reports", [0, 3, 4])
def test_the_skip_warning_names_three_files_at_most(tmp_path: Path, caplog, reports: int) -> None:
    clip = write_dicom(np.zeros((3, 8, 8), np.uint8), tmp_path / "IM0001.dcm")
    for k in range(reports):
        _without_image(tmp_path / f"SR{k}.dcm", "report")
    with caplog.at_level(logging.WARNING, logger="echolatent.io.recordings"):
        assert [ref.image for ref in recording_refs(tmp_path)] == [clip]
    expected = {0: [], 3: [f"{tmp_path}: 3 DICOM file(s) without an image (SR0.dcm, SR1.dcm, SR2.dcm) skipped"],
                4: [f"{tmp_path}: 4 DICOM file(s) without an image (SR0.dcm, SR1.dcm, SR2.dcm, ...) skipped"]}
    assert caplog.messages == expected[reports]
