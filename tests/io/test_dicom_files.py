"""DICOM files and folders: what is recognised as DICOM (suffix or the DICM marker at byte 128), names and ids,
view hints, series order and refusals, and every metadata value a recording carries. Files are built here with
pydicom (or as raw bytes), each value expected is written out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, UltrasoundImageStorage

from echolatent.errors import InputError
from echolatent.io.dicom import (
    DICOM_READER,
    dicom_name,
    has_dicom_magic,
    is_dicom_file,
    read_dataset,
    read_dicom_file,
    read_dicom_series,
    safe_id,
    series_files,
    view_hint,
)
from echolatent.labels import View


def dataset(pixels: np.ndarray, **tags) -> Dataset:
    """A single- or multi-frame ultrasound dataset of ``(T, H, W)`` uint8 ``pixels`` with ``tags``."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UltrasoundImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.9"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = UltrasoundImageStorage, "1.2.3.9"
    ds.set_pixel_data(pixels if len(pixels) > 1 else pixels[0], "MONOCHROME2", 8, generate_instance_uid=False)
    for key, value in tags.items():
        setattr(ds, key, value)
    return ds


def save(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def frame(value: int, shape=(3, 4)) -> np.ndarray:
    return np.full((1, *shape), value, np.uint8)


def text(**tags) -> Dataset:
    ds = Dataset()
    for key, value in tags.items():
        setattr(ds, key, value)
    return ds


# ------------------------------------------------------------------------------------------- recognition


def test_the_marker_is_dicm_exactly_at_byte_128(tmp_path: Path) -> None:
    cases = {"right": b"\0" * 128 + b"DICM" + b"\0" * 8, "early": b"\0" * 127 + b"DICM" + b"\0" * 9,
             "late": b"\0" * 129 + b"DICM" + b"\0" * 7, "short": b"\0" * 128 + b"DIC", "other": b"\0" * 128 + b"DICX"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    assert {name: has_dicom_magic(tmp_path / name) for name in cases} == {
        "right": True, "early": False, "late": False, "short": False, "other": False}
    assert not has_dicom_magic(tmp_path / "missing") and not has_dicom_magic(tmp_path)
    assert is_dicom_file(tmp_path / "right") and not is_dicom_file(tmp_path / "early")


@pytest.mark.parametrize(("name", "expected"), [
    ("a.dcm", True), ("A.DCM", True), ("b.Dicom", True), ("c.dicom", True), ("d.dcm.txt", False), ("dcm", False),
    ("e.nii.gz", False), ("f", False),
])
def test_a_dicom_suffix_needs_no_file(tmp_path: Path, name: str, expected: bool) -> None:
    assert is_dicom_file(tmp_path / name) is expected  # none of these exist


@pytest.mark.parametrize(("name", "expected"), [
    ("loop.dcm", "loop"), ("LOOP.DCM", "LOOP"), ("x.y.dicom", "x.y"), ("IM0001", "IM0001"), ("a.txt", "a.txt"),
])
def test_a_file_name_loses_its_dicom_suffix_only(tmp_path: Path, name: str, expected: str) -> None:
    (tmp_path / name).write_bytes(b"x")
    assert dicom_name(tmp_path / name) == expected


def test_a_folder_keeps_its_name_even_with_a_dicom_suffix(tmp_path: Path) -> None:
    (tmp_path / "study.dcm").mkdir()
    assert dicom_name(tmp_path / "study.dcm") == "study.dcm"
    assert dicom_name(tmp_path / "absent.dcm") == "absent.dcm"  # not a file


def test_series_files_are_the_visible_dicom_files_in_name_order(tmp_path: Path) -> None:
    marker = b"\0" * 128 + b"DICM"
    for name in ("b.dcm", "A.dcm", ".hidden.dcm", "c", "notes.txt"):
        (tmp_path / name).write_bytes(marker if name == "c" else b"plain")
    (tmp_path / "sub.dcm").mkdir()
    assert [p.name for p in series_files(tmp_path)] == ["A.dcm", "b.dcm", "c"]


# ------------------------------------------------------------------------------------------- reading


def test_without_suffix_or_marker_it_is_not_dicom(tmp_path: Path) -> None:
    path = tmp_path / "IM0001"
    path.write_bytes(b"x" * 300)
    with pytest.raises(InputError, match=r"IM0001: not a DICOM file \(no DICM marker at byte 128\)"):
        read_dataset(path)
    with pytest.raises(InputError, match="file not found"):
        read_dataset(tmp_path / "gone.dcm")


def test_a_suffixed_file_without_a_preamble_is_read(tmp_path: Path) -> None:
    path = save(dataset(frame(9), PatientID="P1"), tmp_path / "full.dcm")
    raw = tmp_path / "raw.dcm"
    raw.write_bytes(path.read_bytes()[132:])  # no preamble, no DICM: a suffix forces pydicom to read it
    assert read_dataset(raw).PatientID == "P1"


def test_reading_without_pixels_stops_before_them(tmp_path: Path) -> None:
    path = save(dataset(frame(9), PatientID="P1"), tmp_path / "x.dcm")
    assert "PixelData" not in read_dataset(path, pixels=False) and "PixelData" in read_dataset(path)


def test_a_damaged_file_is_named_with_the_error_type(tmp_path: Path) -> None:
    uid = b"1.2.840.10008.1.2.1.99"  # deflated explicit VR little endian, followed by bytes that are not zlib data
    element = b"\x02\x00\x10\x00UI" + len(uid).to_bytes(2, "little") + uid
    meta = b"\x02\x00\x00\x00UL\x04\x00" + len(element).to_bytes(4, "little") + element
    path = tmp_path / "deflated.dcm"
    path.write_bytes(b"\0" * 128 + b"DICM" + meta + b"not zlib data" * 8)
    with pytest.raises(InputError, match=r"deflated.dcm: unreadable DICOM \(error: Error -3 while decompressing"):
        read_dicom_file(path)


# ------------------------------------------------------------------------------------------- names and views


@pytest.mark.parametrize(("raw", "expected"), [
    ("PAT 7/a", "PAT_7_a"), ("  ..ab..  ", "ab"), ("a__b", "a__b"), ("x.y-z_1", "x.y-z_1"), ("é€ü", "fb"),
    ("", "fb"), (None, "fb"), ("_._", "fb"), ("a  b", "a_b"), ("XrayX", "XrayX"), ("_X.", "X"),
])
def test_safe_ids(raw, expected) -> None:
    assert safe_id(raw, "fb") == expected


@pytest.mark.parametrize(("tags", "expected"), [
    ({"SeriesDescription": "A4C"}, View.A4C), ({"ProtocolName": "4CH loop"}, View.A4C),
    ({"ImageComments": "Four-Chamber"}, View.A4C), ({"StudyDescription": "apical 4"}, View.A4C),
    ({"SeriesDescription": "a2c"}, View.A2C), ({"ProtocolName": "2 CH"}, View.A2C),
    ({"ImageComments": "two chamber"}, View.A2C), ({"StudyDescription": "Apical 2 chamber"}, View.A2C),
    ({"SeriesDescription": "A4CX"}, None), ({"SeriesDescription": "PLAX"}, None), ({}, None),
    ({"SeriesDescription": "A2C", "StudyDescription": "A4C"}, View.A4C),  # A4C is looked for first
])
def test_view_hints_from_descriptions(tags, expected) -> None:
    assert view_hint(text(**tags)) == expected


def test_a_view_from_the_view_code_sequence() -> None:
    code = Dataset()
    code.CodeMeaning = "Apical two chamber"
    other = Dataset()
    other.CodeValue = "X"
    assert view_hint(text(ViewCodeSequence=[other, code])) == View.A2C


# ------------------------------------------------------------------------------------------- recordings


def test_a_recording_carries_its_values_and_their_sources(tmp_path: Path) -> None:
    path = save(dataset(np.zeros((2, 3, 4), np.uint8), PatientID="@@", SeriesInstanceUID="1.2.840.99",
                        SeriesNumber=7, SeriesDescription="A2C", CineRate=30), tmp_path / "my loop.dcm")
    rec = read_dicom_file(path)
    assert rec.meta == {"format": "dicom", "spacing_source": "unknown (no ultrasound region calibration, no "
                        "PixelSpacing)", "fps_source": "CineRate", "view_source": "DICOM description",
                        "photometric": "MONOCHROME2", "transfer_syntax": "Explicit VR Little Endian",
                        "patient_id": "@@", "series_uid": "1.2.840.99", "series_number": "7", "files": "1"}
    assert (rec.patient, rec.name, rec.view, rec.fps) == ("my_loop", "my_loop", View.A2C, 30.0)
    assert rec.geometry.shape == (2, 3, 4) and rec.geometry.spacing == (1.0, 1.0)


def test_without_ids_a_recording_is_named_dicom(tmp_path: Path) -> None:
    rec = read_dicom_file(save(dataset(frame(5)), tmp_path / "...dcm"))
    assert (rec.patient, rec.name, rec.view, rec.meta["view_source"]) == ("dicom", "dicom", None, "unknown")
    assert (rec.meta["patient_id"], rec.meta["series_uid"], rec.meta["series_number"]) == ("", "", "")
    assert rec.frames.shape == (1, 3, 4) and (rec.frames == 5).all()


def test_a_series_is_ordered_by_instance_number_then_file_name(tmp_path: Path) -> None:
    folder = tmp_path / "series"
    numbers = {"a.dcm": 3, "b.dcm": 1, "c.dcm": None, "d.dcm": 2, "e.dcm": 1}
    for value, (name, number) in enumerate(numbers.items()):
        tags = {"InstanceNumber": number} if number is not None else {}
        save(dataset(frame(10 * (value + 1)), SeriesInstanceUID="1.5", PatientID="P", FrameTime="25", **tags),
             folder / name)
    rec = read_dicom_series(folder)
    # c (no number: 0), b (1), e (1, after b by name), d (2), a (3)
    assert rec.frames[:, 0, 0].tolist() == [30, 20, 50, 40, 10]
    assert (rec.name, rec.patient, rec.source, rec.fps, rec.meta["files"]) == ("series", "P", folder, 40.0, "5")
    assert DICOM_READER.read(folder).frames[:, 0, 0].tolist() == [30, 20, 50, 40, 10]


def test_a_folder_of_one_file_is_that_file(tmp_path: Path) -> None:
    path = save(dataset(frame(7), PatientID="Q"), tmp_path / "one" / "only.dcm")
    rec = read_dicom_series(tmp_path / "one")
    assert (rec.name, rec.source, rec.meta["files"]) == ("only", path, "1")


def test_series_refusals_name_the_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="empty: no DICOM file in the folder"):
        read_dicom_series(empty)
    multi = tmp_path / "multi"
    save(dataset(np.zeros((2, 3, 4), np.uint8), SeriesInstanceUID="1.6"), multi / "m1.dcm")
    save(dataset(frame(1), SeriesInstanceUID="1.6"), multi / "s1.dcm")
    save(dataset(np.zeros((3, 3, 4), np.uint8), SeriesInstanceUID="1.6"), multi / "m2.dcm")
    with pytest.raises(InputError, match=r"multi-frame files in a series folder \(m1.dcm, m2.dcm\): give them one by"):
        read_dicom_series(multi)
    sizes = tmp_path / "sizes"
    save(dataset(frame(1, (3, 4)), SeriesInstanceUID="1.7", InstanceNumber=1), sizes / "a.dcm")
    save(dataset(frame(1, (4, 3)), SeriesInstanceUID="1.7", InstanceNumber=2), sizes / "b.dcm")
    with pytest.raises(InputError, match=r"frames of different sizes in one series: \[\(1, 3, 4\), \(1, 4, 3\)\]"):
        read_dicom_series(sizes)
    mixed = tmp_path / "mixed"
    for name, uid in (("a.dcm", "1.8"), ("b.dcm", "1.9"), ("c.dcm", "1.10")):
        save(dataset(frame(1), SeriesInstanceUID=uid), mixed / name)
    with pytest.raises(InputError, match="3 DICOM series in one folder: give one folder per series"):
        read_dicom_series(mixed)


def test_a_folder_is_dicom_only_with_dicom_files_and_no_image_volume(tmp_path: Path) -> None:
    series = tmp_path / "series"
    save(dataset(frame(1)), series / "a.dcm")
    assert DICOM_READER.can_read(series)
    for volume in ("x.nii", "y.NII.GZ", "z.mhd"):
        folder = tmp_path / volume.replace(".", "_")
        save(dataset(frame(1)), folder / "a.dcm")
        (folder / volume).write_bytes(b"v")
        assert not DICOM_READER.can_read(folder)
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.txt").write_text("x")
    assert not DICOM_READER.can_read(other)
    assert DICOM_READER.can_read(tmp_path / "loose.DCM") and not DICOM_READER.can_read(tmp_path / "loose.png")
    assert DICOM_READER.name == "dicom" and repr(DICOM_READER) == "<reader dicom (.dcm, DICM magic, series folders)>"


def test_read_dataset_refusals_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "gone.dcm"
    with pytest.raises(InputError) as err:
        read_dataset(missing)
    assert (err.value.path, err.value.problem) == (missing, "file not found")
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    with pytest.raises(InputError) as err:
        read_dataset(empty)
    assert (err.value.path, err.value.problem) == (empty, "empty file")
    path = save(dataset(frame(1)), tmp_path / "x.dcm")

    def fail(*args, **kwargs):
        raise KeyError("k" * 300)

    monkeypatch.setattr("echolatent.io.dicom.pydicom.dcmread", fail)
    with pytest.raises(InputError) as err:
        read_dataset(path)
    assert err.value.problem == "unreadable DICOM (KeyError: '" + "k" * 159 + ")"  # str of a KeyError is quoted


def test_files_without_a_series_uid_or_with_an_empty_one_are_one_series(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    save(dataset(frame(1), InstanceNumber=1, SeriesInstanceUID=""), folder / "a.dcm")
    save(dataset(frame(2), InstanceNumber=2), folder / "b.dcm")
    assert read_dicom_series(folder).frames[:, 0, 0].tolist() == [1, 2]


def test_a_series_file_with_zero_frames_is_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    save(dataset(frame(1), InstanceNumber=1), folder / "a.dcm")
    save(dataset(frame(2), InstanceNumber=2, NumberOfFrames=0), folder / "b.dcm")
    with pytest.raises(InputError) as err:
        read_dicom_series(folder)
    assert (err.value.path, err.value.problem) == (folder / "b.dcm", "zero frames (NumberOfFrames is 0)")


def test_series_refusals_carry_the_folder(tmp_path: Path) -> None:
    multi = tmp_path / "multi"
    for name in ("a.dcm", "b.dcm", "c.dcm", "d.dcm"):
        save(dataset(np.zeros((2, 3, 4), np.uint8), SeriesInstanceUID="1.6"), multi / name)
    mixed = tmp_path / "mixed"
    save(dataset(frame(1), SeriesInstanceUID="1.8"), mixed / "a.dcm")
    save(dataset(frame(1), SeriesInstanceUID="1.9"), mixed / "b.dcm")
    sizes = tmp_path / "sizes"
    save(dataset(frame(1, (3, 4))), sizes / "a.dcm")
    save(dataset(frame(1, (4, 3))), sizes / "b.dcm")
    expected = {multi: "multi-frame files in a series folder (a.dcm, b.dcm, c.dcm): give them one by one",
                mixed: "2 DICOM series in one folder: give one folder per series",
                sizes: "frames of different sizes in one series: [(1, 3, 4), (1, 4, 3)]"}
    for folder, problem in expected.items():
        with pytest.raises(InputError) as err:
            read_dicom_series(folder)
        assert (err.value.path, err.value.problem) == (folder, problem)


def test_a_series_takes_its_values_from_its_first_instance(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    save(dataset(frame(2), InstanceNumber=2, FrameTime="50", PatientID="B", SeriesDescription="A2C"), folder / "a.dcm")
    save(dataset(frame(1), InstanceNumber=1, FrameTime="20", PatientID="A", SeriesDescription="A4C"), folder / "b.dcm")
    rec = read_dicom_series(folder)
    assert (rec.fps, rec.patient, rec.view, rec.frames[:, 0, 0].tolist()) == (50.0, "A", View.A4C, [1, 2])
