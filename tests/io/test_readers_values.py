"""The reader registry and the unit rule value by value: which reader a name gets (in order), the exact refusal,
the spacing modes at the 1 x 1 mm rule, CAMUS ids from names, and what the NIfTI / MHD readers put in a recording."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.io import readers
from echolatent.io.readers import (
    MHD_READER,
    NIFTI_READER,
    SPACING_MODES,
    Recording,
    camus_ids,
    read_recording,
    reader_for,
    register_reader,
    registered_readers,
    resolve_spacing,
    write_masks,
)
from echolatent.io.volume import Geometry, read_image, write_like
from echolatent.labels import View


class _Named:
    """A reader that takes every file."""

    def __init__(self, name: str) -> None:
        self.name = name

    def can_read(self, path: Path) -> bool:
        return True

    def read(self, path: Path) -> Recording:
        raise InputError(path, self.name)


def test_the_registry_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "_REGISTRY", [])
    assert registered_readers() == ()
    with pytest.raises(InputError, match=r"a\.nii: unsupported file type \(readers: \)$"):
        reader_for("a.nii")
    register_reader(NIFTI_READER)
    register_reader(MHD_READER)
    with pytest.raises(InputError, match=r"x\.txt: unsupported file type \(readers: nifti, mhd\)$"):
        reader_for(Path("x.txt"))
    first, second = _Named("first"), _Named("second")
    register_reader(first)
    register_reader(second)
    assert registered_readers() == (NIFTI_READER, MHD_READER, first, second)
    assert reader_for("a.NII.GZ") is NIFTI_READER and reader_for("b.MHD") is MHD_READER
    assert reader_for("c.txt") is first  # the first that can read it
    with pytest.raises(InputError, match=r"c\.txt: first$"):
        read_recording("c.txt")


@pytest.mark.parametrize(("name", "reader"), [("a.nii", NIFTI_READER), ("a.nii.gz", NIFTI_READER),
                                              ("a.Nii.Gz", NIFTI_READER), ("a.mhd", MHD_READER)])
def test_image_suffixes(name, reader) -> None:
    assert reader.can_read(Path(name)) and reader.can_read(name)
    other = MHD_READER if reader is NIFTI_READER else NIFTI_READER
    assert not other.can_read(Path(name))


@pytest.mark.parametrize("name", ["a.nii.gz.txt", "a.gz", "a.raw", "nii"])
def test_not_image_suffixes(name) -> None:
    assert not NIFTI_READER.can_read(Path(name)) and not MHD_READER.can_read(Path(name))


def test_reader_names_and_reprs() -> None:
    assert (NIFTI_READER.name, MHD_READER.name) == ("nifti", "mhd")
    assert repr(NIFTI_READER) == "<reader nifti ('.nii.gz', '.nii')>"
    assert repr(MHD_READER) == "<reader mhd ('.mhd',)>"


@pytest.mark.parametrize(("spacing", "mode", "expected"), [
    ((0.3, 0.2), "auto", (0.3, 0.2)), ((1.0, 1.0), "auto", None), ((1, 1), "auto", None),
    ((1.0, 0.5), "auto", (1.0, 0.5)), ((0.5, 1.0), "auto", (0.5, 1.0)), ((1.0, 1.0), "header", (1.0, 1.0)),
    ((0.3, 0.2), "header", (0.3, 0.2)), ((0.3, 0.2), "none", None), ((1.0, 1.0), "none", None),
    (None, "auto", None), (None, "header", None), (None, "none", None),
])
def test_spacing_modes(spacing, mode, expected) -> None:
    got = resolve_spacing(spacing, mode)
    assert got == expected
    if got is not None:
        assert all(type(v) is float for v in got)


def test_spacing_values_become_floats_and_the_mode_is_auto_by_default() -> None:
    assert resolve_spacing((np.float32(0.5), 2)) == (0.5, 2.0)
    assert resolve_spacing((1.0, 1.0)) is None
    assert SPACING_MODES == ("auto", "header", "none")
    with pytest.raises(ValueError, match=r"^spacing mode must be one of \('auto', 'header', 'none'\), got 'Auto'$"):
        resolve_spacing((0.3, 0.2), "Auto")
    with pytest.raises(ValueError, match="spacing mode"):
        resolve_spacing(None, "pixels")


@pytest.mark.parametrize(("stem", "expected"), [
    ("patient0001_4CH_ED", ("patient0001", View.A4C)), ("patient12_2CH_half_sequence", ("patient12", View.A2C)),
    ("patient0001_3CH_ED", ("patient0001_3CH_ED", None)), ("xpatient0001_2CH_ED", ("xpatient0001_2CH_ED", None)),
    ("patient0001_2CH", ("patient0001_2CH", None)), ("patient_2CH_ES", ("patient_2CH_ES", None)),
    ("patient0001_4ch_ED", ("patient0001_4ch_ED", None)), ("scan", ("scan", None)),
])
def test_camus_ids(stem, expected) -> None:
    assert camus_ids(stem) == expected


def test_an_image_file_as_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "patient0003_4CH_ED.nii"
    image = np.arange(1 * 6 * 5, dtype=np.uint8).reshape(1, 6, 5) * 7
    write_like(image, Geometry((5, 6), (0.25, 0.5), (1.0, 2.0), (1.0, 0.0, 0.0, 1.0)), path)  # sx, sy
    rec = NIFTI_READER.read(path)
    assert np.array_equal(rec.frames, image) and rec.num_frames == 1 and isinstance(rec.num_frames, int)
    assert (rec.spacing, rec.fps, rec.view, rec.patient, rec.name) == ((0.5, 0.25), None, View.A4C, "patient0003",
                                                                       "patient0003_4CH_ED")
    assert rec.meta == {"format": "nifti", "spacing_source": "header"} and rec.source == path
    assert rec.geometry.origin == (1.0, 2.0)


def test_an_image_with_a_one_by_one_header_and_intensities_beyond_255(tmp_path: Path, caplog) -> None:
    path = tmp_path / "scan.mhd"
    image = np.array([[[0, 510], [1020, 255]]], np.int16)
    write_like(image, Geometry.default((1, 2, 2)), path)
    with caplog.at_level(logging.WARNING, logger="echolatent.io.volume"):
        rec = MHD_READER.read(path)
    assert [r.getMessage() for r in caplog.records] == [f"{path}: intensities 0..1.02e+03 outside 0..255, rescaled to "
                                                        "uint8"]
    assert rec.frames.tolist() == [[[0, 128], [255, 64]]]  # rescaled from 0..1020: 127.5 -> 128, 63.75 -> 64
    assert (rec.spacing, rec.patient, rec.view) == (None, "scan", None)
    assert rec.meta == {"format": "mhd", "spacing_source": "unknown (1 x 1 mm header)"}


def test_masks_are_written_with_the_recording_geometry(tmp_path: Path) -> None:
    source = tmp_path / "a.nii.gz"
    geometry = Geometry((3, 2, 2), (0.5, 0.25, 1.0), (3.0, 4.0, 0.0), (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    write_like(np.zeros((2, 2, 3), np.uint8), geometry, source)
    rec = read_recording(source)
    masks = np.array([[[0, 1, 2], [3, 0, 1]], [[1, 1, 1], [2, 2, 3]]], np.int64)
    out = write_masks(rec, masks, str(tmp_path / "m.nii.gz"))
    written, got = read_image(out)
    assert out == tmp_path / "m.nii.gz" and written.dtype == np.uint8 and written.tolist() == masks.tolist()
    assert got.spacing_xyz == (0.5, 0.25, 1.0) and got.origin == (3.0, 4.0, 0.0)
    with pytest.raises(ValueError, match=r"mask shape \(2, 2, 2\) does not match the recording's \(2, 2, 3\)"):
        write_masks(rec, masks[..., :2], tmp_path / "n.nii.gz")
    with pytest.raises(ValueError, match=r"a.nii.gz: refusing to overwrite an input file"):
        write_masks(rec, masks, tmp_path / "." / "a.nii.gz")
    with pytest.raises(InputError):
        write_masks(rec, masks[0][None].repeat(2, 0) + 4, tmp_path / "n.nii.gz")


def test_a_new_image_reader_keeps_its_name_and_suffixes(tmp_path: Path) -> None:
    reader = readers._ImageFileReader("gz nifti", (".nii.gz",))
    assert (reader.name, reader.suffixes) == ("gz nifti", (".nii.gz",))
    assert reader.can_read(tmp_path / "A.NII.GZ") and not reader.can_read(tmp_path / "a.nii")
    assert repr(reader) == "<reader gz nifti ('.nii.gz',)>"
