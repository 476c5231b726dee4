"""The reader interface: format chosen from the file, NIfTI and MHD readers, the shared unit rule, mask writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_helpers import SPACING, frame_image, heart_mask, odd_geometry

from echolatent.errors import InputError
from echolatent.io import readers
from echolatent.io.readers import (
    Reader,
    Recording,
    header_spacing,
    read_recording,
    reader_for,
    register_reader,
    write_masks,
)
from echolatent.io.volume import Geometry, read_image, write_like
from echolatent.labels import View


@pytest.mark.parametrize(("name", "reader"), [("a.nii.gz", "nifti"), ("a.NII", "nifti"), ("b.mhd", "mhd")])
def test_reader_for_picks_by_suffix(name: str, reader: str) -> None:
    assert reader_for(name).name == reader


def test_reader_for_unknown_suffix_names_the_file() -> None:
    with pytest.raises(InputError, match=r"notes\.txt: unsupported file type"):
        reader_for("notes.txt")


@pytest.mark.parametrize("suffix", [".nii.gz", ".mhd"])
def test_read_camus_file_keeps_geometry_and_ids(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"patient0007_2CH_half_sequence{suffix}"
    geometry = odd_geometry((4, 24, 20))
    write_like(frame_image(4), geometry, path)
    rec = read_recording(path)
    assert isinstance(rec, Recording)
    assert rec.frames.dtype == np.uint8 and rec.frames.shape == (4, 24, 20)
    assert np.array_equal(rec.frames[:, 0, 0], [10, 20, 30, 40])
    assert rec.spacing == pytest.approx(SPACING)
    assert rec.geometry.shape == (4, 24, 20) and rec.geometry.direction == geometry.direction
    assert (rec.patient, rec.name, rec.view, rec.fps) == ("patient0007", path.name[: -len(suffix)], View.A2C, None)
    assert rec.meta["format"] == ("nifti" if suffix == ".nii.gz" else "mhd")
    assert rec.source == path and rec.num_frames == 4


def test_one_by_one_mm_header_is_unknown_spacing(tmp_path: Path) -> None:
    path = tmp_path / "scan.nii.gz"
    write_like(frame_image(3), Geometry.default((3, 24, 20)), path)
    rec = read_recording(path)
    assert rec.spacing is None and rec.geometry.spacing == (1.0, 1.0)
    assert (rec.patient, rec.name, rec.view) == ("scan", "scan", None)
    assert "unknown" in rec.meta["spacing_source"]


def test_header_spacing_rule() -> None:
    assert header_spacing(Geometry.default((2, 8, 8), (0.3, 0.2))) == (0.3, 0.2)
    assert header_spacing(Geometry.default((2, 8, 8), (1.0, 1.0))) is None
    assert header_spacing(Geometry.default((2, 8, 8), (1.0, 0.5))) == (1.0, 0.5)


def test_float_intensities_become_uint8(tmp_path: Path) -> None:
    path = tmp_path / "float.nii.gz"
    write_like(np.linspace(-1.0, 1.0, 2 * 24 * 20).reshape(2, 24, 20), Geometry.default((2, 24, 20)), path)
    frames = read_recording(path).frames
    assert frames.dtype == np.uint8 and frames.min() == 0 and frames.max() == 255


@pytest.mark.parametrize(("content", "problem"), [(None, "file not found"), (b"", "empty file")])
def test_bad_files_raise_input_error(tmp_path: Path, content: bytes | None, problem: str) -> None:
    path = tmp_path / "bad.nii.gz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=problem):
        read_recording(path)


def test_write_masks_round_trip_with_source_geometry(tmp_path: Path) -> None:
    source = tmp_path / "patient0001_4CH_half_sequence.mhd"
    write_like(frame_image(5), odd_geometry((5, 24, 20)), source)
    rec = read_recording(source)
    out = write_masks(rec, heart_mask(5), tmp_path / "out" / "mask.nii.gz")
    mask, geometry = read_image(out)
    assert np.array_equal(mask, heart_mask(5)) and mask.dtype == np.uint8
    assert geometry.spacing == pytest.approx(SPACING) and geometry.origin == rec.geometry.origin


def test_write_masks_refuses_bad_shape_labels_and_source(tmp_path: Path) -> None:
    source = tmp_path / "scan.nii.gz"
    write_like(frame_image(2), Geometry.default((2, 24, 20)), source)
    rec = read_recording(source)
    with pytest.raises(ValueError, match="does not match"):
        write_masks(rec, heart_mask(3), tmp_path / "m.nii.gz")
    with pytest.raises(InputError, match="outside 0..3"):
        write_masks(rec, heart_mask(2) * 2, tmp_path / "m.nii.gz")
    with pytest.raises(ValueError, match="refusing to overwrite"):
        write_masks(rec, heart_mask(2), source)
    assert np.array_equal(read_recording(source).frames, frame_image(2))


class _TextReader:
    """A toy format: a ``.frames`` text file holding T, then one grey value per frame."""

    name = "toy"

    def can_read(self, path: Path) -> bool:
        return Path(path).suffix == ".frames"

    def read(self, path: Path) -> Recording:
        values = [int(v) for v in Path(path).read_text().split()]
        frames = np.repeat(np.array(values, np.uint8)[:, None, None], 64, 1).reshape(len(values), 8, 8)
        geometry = Geometry.default(frames.shape)
        return Recording(frames, None, 25.0, None, geometry, Path(path), "toy", Path(path).stem, {"format": "toy"})


def test_register_reader_adds_a_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "_REGISTRY", list(readers._REGISTRY))
    path = tmp_path / "clip.frames"
    path.write_text("3 5 7")
    with pytest.raises(InputError):
        read_recording(path)
    register_reader(_TextReader())
    rec = read_recording(path)
    assert isinstance(reader_for(path), Reader) and rec.fps == 25.0 and rec.frames[:, 0, 0].tolist() == [3, 5, 7]
    assert reader_for(tmp_path / "a.nii.gz").name == "nifti"


def test_register_reader_refuses_non_readers() -> None:
    with pytest.raises(TypeError, match="Reader protocol"):
        register_reader(object())  # type: ignore[arg-type]
