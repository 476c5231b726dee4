"""DICOM reader: multi-frame files and series folders written from synthetic frames, read back exactly (or within
JPEG's loss), with the pixel size from the region calibration (or PixelSpacing) and the frame rate from its tags."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.filewriter import dcmwrite
from pydicom.uid import (
    JPEG2000,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from echolatent.errors import InputError
from echolatent.io.dicom import DICOM_READER, read_dicom_file, read_dicom_series, region_spacing
from echolatent.labels import View
from echolatent.synth.export import UltrasoundRegion, dicom_dataset, write_dicom, write_dicom_series

SPACING = (0.3125, 0.2873)  # (sy, sx) mm
FPS = 48.0


def frames(t: int = 5, h: int = 40, w: int = 56) -> np.ndarray:
    """``(T, H, W)`` uint8: smooth patterns (JPEG keeps them well), different in every frame."""
    yy, xx = np.mgrid[:h, :w]
    return np.stack([np.clip(110 + 70 * np.sin(xx / 6 + t) + 40 * np.cos(yy / 8 - t), 0, 255)
                     for t in range(t)]).astype(np.uint8)


def region(spacing=SPACING, box=(0, 0, 55, 39)) -> UltrasoundRegion:
    return UltrasoundRegion(box, spacing)


@pytest.mark.parametrize("photometric", ["MONOCHROME2", "RGB", "YBR_FULL"])
def test_uncompressed_frames_pixel_size_and_rate(tmp_path: Path, photometric: str) -> None:
    path = write_dicom(frames(), tmp_path / "clip.dcm", photometric=photometric, regions=(region(),), fps=FPS)
    rec = DICOM_READER.read(path)
    assert rec.frames.dtype == np.uint8 and rec.frames.shape == (5, 40, 56)
    assert np.array_equal(rec.frames, frames())
    assert rec.spacing == pytest.approx(SPACING, abs=1e-6)
    assert rec.fps == pytest.approx(FPS, rel=1e-9)
    assert rec.geometry.shape == (5, 40, 56) and rec.geometry.spacing == pytest.approx(SPACING, abs=1e-6)
    assert rec.meta["spacing_source"].startswith("SequenceOfUltrasoundRegions")
    assert (rec.meta["fps_source"], rec.meta["photometric"]) == ("FrameTime", photometric)
    assert (rec.patient, rec.name, rec.source) == ("SYNTH0001", "clip", path)


@pytest.mark.parametrize("photometric", ["MONOCHROME2", "RGB"])
def test_jpeg_baseline_frames_within_jpeg_loss(tmp_path: Path, photometric: str) -> None:
    path = write_dicom(frames(), tmp_path / "jpeg.dcm", photometric=photometric, jpeg=True, regions=(region(),),
                       fps=FPS)
    rec = read_dicom_file(path)
    assert "JPEG Baseline" in rec.meta["transfer_syntax"]
    error = np.abs(rec.frames.astype(int) - frames())
    assert error.mean() < 1.0 and error.max() <= 4
    assert rec.spacing == pytest.approx(SPACING, abs=1e-6) and rec.fps == pytest.approx(FPS)


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless, JPEGLSLossless])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "RGB"])
def test_lossless_compressed_frames_read_exactly(tmp_path: Path, photometric: str, syntax) -> None:
    """RLE (pydicom's own decoder), JPEG 2000 (pylibjpeg-openjpeg) and JPEG-LS (pylibjpeg-libjpeg), as archives
    and some scanners store ultrasound: the same frames, pixel size and rate as the uncompressed file."""
    plain = write_dicom(frames(), tmp_path / "plain.dcm", photometric=photometric, regions=(region(),), fps=FPS)
    ds = dcmread(plain)
    ds.compress(syntax)
    ds.save_as(tmp_path / "packed.dcm")
    rec = read_dicom_file(tmp_path / "packed.dcm")
    assert rec.meta["transfer_syntax"] == syntax.name
    assert np.array_equal(rec.frames, frames())
    assert rec.spacing == pytest.approx(SPACING, abs=1e-6) and rec.fps == pytest.approx(FPS, rel=1e-9)
    assert dcmread(plain).file_meta.TransferSyntaxUID == ExplicitVRLittleEndian  # the source untouched


def test_lossy_jpeg2000_frames_within_its_loss(tmp_path: Path) -> None:
    ds = dcmread(write_dicom(frames(), tmp_path / "plain.dcm", regions=(region(),), fps=FPS))
    ds.compress(JPEG2000, j2k_psnr=[45])
    ds.save_as(tmp_path / "j2k.dcm")
    rec = read_dicom_file(tmp_path / "j2k.dcm")
    error = np.abs(rec.frames.astype(int) - frames())
    assert rec.meta["transfer_syntax"] == JPEG2000.name and rec.frames.shape == (5, 40, 56)
    assert 0 < error.mean() < 2.0 and error.max() <= 16


def test_colour_pixels_become_their_luminance(tmp_path: Path) -> None:
    rgb = np.zeros((2, 8, 8, 3), np.uint8)
    rgb[..., 0], rgb[1, ..., 1], rgb[..., 2] = 200, 100, 50
    ds = dicom_dataset(frames(2, 8, 8))
    ds.set_pixel_data(rgb, "RGB", 8, generate_instance_uid=False)
    path = tmp_path / "colour.dcm"
    ds.save_as(path, enforce_file_format=True)
    grey = read_dicom_file(path).frames
    expected = np.round(np.array([0.299 * 200 + 0.114 * 50, 0.299 * 200 + 0.587 * 100 + 0.114 * 50]))
    assert np.array_equal(grey[:, 0, 0], expected)


def test_monochrome1_is_inverted(tmp_path: Path) -> None:
    ds = dicom_dataset(frames(3))
    ds.PhotometricInterpretation = "MONOCHROME1"
    path = tmp_path / "inverted.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert np.array_equal(read_dicom_file(path).frames, 255 - frames(3))


def test_pixel_spacing_when_no_region_and_unknown_without_either(tmp_path: Path) -> None:
    with_spacing = read_dicom_file(write_dicom(frames(), tmp_path / "a.dcm", pixel_spacing=(0.41, 0.37)))
    assert with_spacing.spacing == pytest.approx((0.41, 0.37), abs=1e-9)
    assert with_spacing.meta["spacing_source"] == "PixelSpacing"
    bare = read_dicom_file(write_dicom(frames(), tmp_path / "b.dcm"))
    assert bare.spacing is None and bare.fps is None and "unknown" in bare.meta["spacing_source"]
    assert bare.geometry.spacing == (1.0, 1.0)


def test_two_regions_disagreeing_warn_and_the_image_region_wins(tmp_path: Path, caplog) -> None:
    image_region = region(box=(0, 0, 55, 29))
    doppler_strip = UltrasoundRegion((0, 30, 55, 39), (0.5, 0.5))
    m_mode = UltrasoundRegion((0, 30, 55, 39), (0.9, 0.9), spatial_format=2)  # not a 2D region: ignored
    path = write_dicom(frames(), tmp_path / "two.dcm", regions=(doppler_strip, image_region, m_mode))
    with caplog.at_level(logging.WARNING, logger="echolatent.io.dicom"):
        rec = read_dicom_file(path)
    assert rec.spacing == pytest.approx(SPACING, abs=1e-6)
    assert "disagree" in caplog.text and "disagree" in rec.meta["spacing_source"]


def test_two_regions_agreeing_do_not_warn(tmp_path: Path, caplog) -> None:
    ds = dicom_dataset(frames(), regions=(region(box=(0, 0, 27, 39)), region(box=(28, 0, 55, 39))))
    with caplog.at_level(logging.WARNING, logger="echolatent.io.dicom"):
        spacing, source = region_spacing(ds)
    assert spacing == pytest.approx(SPACING, abs=1e-6) and "disagree" not in caplog.text + source


@pytest.mark.parametrize(("tag", "fps"), [("CineRate", 30.0), ("RecommendedDisplayFrameRate", 25.0)])
def test_frame_rate_from_the_other_tags(tmp_path: Path, tag: str, fps: float) -> None:
    rec = read_dicom_file(write_dicom(frames(), tmp_path / "rate.dcm", fps=fps, fps_tag=tag))
    assert rec.fps == pytest.approx(fps) and rec.meta["fps_source"] == tag


def test_series_folder_is_one_recording_in_instance_order(tmp_path: Path) -> None:
    folder = write_dicom_series(frames(4), tmp_path / "series", regions=(region(),), fps=FPS, patient_id="PAT 7/a")
    (folder / "IM_0001.dcm").rename(folder / "IM_0009.dcm")  # file names out of order: InstanceNumber decides
    rec = DICOM_READER.read(folder)
    assert DICOM_READER.can_read(folder)
    assert np.array_equal(rec.frames, frames(4))
    assert rec.spacing == pytest.approx(SPACING, abs=1e-6) and rec.fps == pytest.approx(FPS)
    assert (rec.patient, rec.name, rec.meta["files"]) == ("PAT_7_a", "series", "4")


def test_file_without_suffix_is_found_by_its_magic(tmp_path: Path) -> None:
    path = write_dicom(frames(), tmp_path / "IM00001", description="A4C apical four chamber")
    assert DICOM_READER.can_read(path)
    rec = DICOM_READER.read(path)
    assert rec.name == "IM00001" and rec.view == View.A4C


def test_source_file_is_not_modified(tmp_path: Path) -> None:
    path = write_dicom(frames(), tmp_path / "keep.dcm", regions=(region(),))
    before = path.read_bytes()
    read_dicom_file(path)
    assert path.read_bytes() == before


def test_bad_files_raise_input_errors(tmp_path: Path) -> None:
    text = tmp_path / "notes.dcm"
    text.write_text("not dicom at all" * 20)
    with pytest.raises(InputError, match="notes.dcm"):
        read_dicom_file(text)
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        read_dicom_file(empty)
    ds = dicom_dataset(frames())
    del ds.PixelData
    no_pixels = tmp_path / "header_only.dcm"
    ds.save_as(no_pixels, enforce_file_format=True)
    with pytest.raises(InputError, match="no pixel data"):
        read_dicom_file(no_pixels)
    ds = dicom_dataset(frames())
    ds.NumberOfFrames = 0
    zero = tmp_path / "zero.dcm"
    ds.save_as(zero, enforce_file_format=True)
    with pytest.raises(InputError, match="zero frames"):
        read_dicom_file(zero)
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(write_dicom(frames(), tmp_path / "full.dcm").read_bytes()[:-3000])
    with pytest.raises(InputError, match="truncated.dcm"):
        read_dicom_file(truncated)


def test_series_folder_with_two_series_is_refused(tmp_path: Path) -> None:
    write_dicom_series(frames(2), tmp_path / "mixed", series_uid="1.2.3.4")
    write_dicom(frames(1), tmp_path / "mixed" / "other.dcm", series_uid="1.2.3.5")
    with pytest.raises(InputError, match="2 DICOM series"):
        read_dicom_series(tmp_path / "mixed")


@pytest.mark.parametrize(("implicit", "little"), [(True, True), (False, True), (False, False)])
def test_file_without_file_meta_is_read_with_the_syntax_it_was_parsed_with(tmp_path: Path, implicit: bool,
                                                                           little: bool, caplog) -> None:
    """Old exports carry no preamble and no file meta (so no transfer syntax): named ``.dcm``, such a file is
    parsed, given the uncompressed syntax it was written in, and its frames decode; the file is not changed."""
    ds = dcmread(write_dicom(frames(), tmp_path / "plain.dcm", regions=(region(),), fps=FPS))
    del ds.file_meta
    ds.preamble = None
    path = tmp_path / "bare.dcm"
    dcmwrite(path, ds, implicit_vr=implicit, little_endian=little, force_encoding=True)  # the dataset alone
    before = path.read_bytes()
    assert before[128:132] != b"DICM"
    with caplog.at_level(logging.INFO, logger="echolatent.io.dicom"):
        rec = read_dicom_file(path)
    assert np.array_equal(rec.frames, frames())
    assert rec.spacing == pytest.approx(SPACING, abs=1e-6) and rec.fps == pytest.approx(FPS, rel=1e-9)
    syntax = {(True, True): ImplicitVRLittleEndian, (False, True): ExplicitVRLittleEndian,
              (False, False): ExplicitVRBigEndian}[implicit, little].name
    assert rec.meta["transfer_syntax"] == syntax
    assert [r.getMessage() for r in caplog.records if "transfer syntax" in r.getMessage()] == [
        f"{path}: no transfer syntax in the file meta; read as {syntax}"]
    assert path.read_bytes() == before


def test_a_file_with_its_transfer_syntax_is_read_as_it_says(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="echolatent.io.dicom"):
        rec = read_dicom_file(write_dicom(frames(), tmp_path / "plain.dcm", regions=(region(),), fps=FPS))
    assert rec.meta["transfer_syntax"] == ExplicitVRLittleEndian.name
    assert "transfer syntax" not in caplog.text
