"""DICOM values checked against numbers worked out by hand: the region calibration (cm x 10, the largest 2D region
by its inclusive pixel box, units other than cm ignored), the frame-rate tags in their order, grey conversion of
12-bit, MONOCHROME1 and palette data, and the metadata a recording carries. Files are built here with pydicom."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    BasicTextSRStorage,
    EnhancedUSVolumeStorage,
    ExplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
    RLELossless,
    UltrasoundMultiFrameImageStorage,
    generate_uid,
)

from echolatent.errors import InputError
from echolatent.io.dicom import frame_rate, grey_frames, holds_image, read_dicom_file, region_spacing, without_images

PATH = Path("calibrated.dcm")


def region(box=(0, 0, 9, 9), delta=(0.03, 0.02), units=(3, 3), spatial=1) -> Dataset:
    """A SequenceOfUltrasoundRegions item: ``box`` (x0, y0, x1, y1) inclusive, ``delta`` (dy, dx) in ``units``."""
    item = Dataset()
    item.RegionSpatialFormat = spatial
    item.RegionLocationMinX0, item.RegionLocationMinY0, item.RegionLocationMaxX1, item.RegionLocationMaxY1 = box
    item.PhysicalUnitsXDirection, item.PhysicalUnitsYDirection = units
    item.PhysicalDeltaY, item.PhysicalDeltaX = delta
    return item


def with_regions(*items: Dataset) -> Dataset:
    ds = Dataset()
    ds.SequenceOfUltrasoundRegions = list(items)
    return ds


def image(pixels: np.ndarray, photometric: str = "MONOCHROME2", bits: int = 8, **tags) -> Dataset:
    """A file-ready ultrasound dataset of ``pixels`` (``(T, H, W)``, ``(H, W)`` or with a colour axis)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UltrasoundMultiFrameImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.5"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = UltrasoundMultiFrameImageStorage
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.set_pixel_data(pixels, photometric, bits, generate_instance_uid=False)
    for key, value in tags.items():
        setattr(ds, key, value)
    return ds


def save(ds: Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


# ------------------------------------------------------------------------------------------- pixel size


def test_region_deltas_in_cm_become_mm_on_their_own_axes() -> None:
    spacing, source = region_spacing(with_regions(region(delta=(0.0325, 0.0175))), PATH)
    assert spacing == pytest.approx((0.325, 0.175), rel=1e-12)
    assert source == "SequenceOfUltrasoundRegions (2D region, cm x 10)"


def test_negative_deltas_give_their_magnitude() -> None:
    spacing, _ = region_spacing(with_regions(region(delta=(-0.04, -0.025))))
    assert spacing == pytest.approx((0.4, 0.25), rel=1e-12)


def with_fields(item, keys: tuple[str, ...], values: tuple) -> object:
    """``item`` with each of ``keys`` set to its value, or removed where the value is None."""
    for key, value in zip(keys, values, strict=True):
        if value is None:
            delattr(item, key)
        else:
            setattr(item, key, value)
    return item


@pytest.mark.parametrize("units", [(3, 2), (2, 3), (4, 4), (None, None)])
def test_a_region_not_in_cm_on_both_axes_is_ignored(units) -> None:
    item = with_fields(region(), ("PhysicalUnitsXDirection", "PhysicalUnitsYDirection"), units)
    ds = with_regions(item)
    ds.PixelSpacing = [0.5, 0.6]
    assert region_spacing(ds) == ((0.5, 0.6), "PixelSpacing")


@pytest.mark.parametrize("delta", [(0.0, 0.02), (0.03, 0.0), (None, 0.02), (0.03, None)])
def test_a_region_without_both_deltas_is_ignored(delta) -> None:
    item = with_fields(region(), ("PhysicalDeltaY", "PhysicalDeltaX"), delta)
    assert region_spacing(with_regions(item)) == (None, "unknown (no ultrasound region calibration, no PixelSpacing)")


def test_a_region_ignored_for_its_units_is_logged(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="echolatent.io.dicom"):
        region_spacing(with_regions(region(units=(3, 5))), PATH)
    assert "calibrated.dcm: a 2D ultrasound region without a calibration in cm (units (3, 5)) is ignored" in caplog.text


def test_regions_other_than_2d_are_ignored() -> None:
    ds = with_regions(region(delta=(0.09, 0.09), spatial=2), region(delta=(0.03, 0.02)))
    assert region_spacing(ds)[0] == pytest.approx((0.3, 0.2), rel=1e-12)
    assert region_spacing(with_regions(region(spatial=0)))[0] is None


# Boxes (x0, y0, x1, y1), inclusive: areas (x1 - x0 + 1) * (y1 - y0 + 1).
@pytest.mark.parametrize(("small", "large"), [
    ((0, 0, 9, 9), (20, 30, 30, 39)),  # 100 px < 11 x 10 = 110 px
    ((0, 0, 10, 9), (50, 0, 60, 10)),  # 11 x 10 = 110 < 11 x 11 = 121 (without the + 1: 100 both)
    ((5, 0, 14, 0), (30, 40, 33, 42)),  # 10 x 1 = 10 < 4 x 3 = 12 (without the + 1: 9 > 6)
    ((100, 100, 102, 109), (0, 0, 5, 5)),  # 3 x 10 = 30 < 36 (corners far from 0 on both axes)
    ((0, 40, 39, 40), (0, 0, 6, 6)),  # 40 x 1 = 40 < 49, though its maxima are larger
])
def test_the_largest_region_by_its_inclusive_box_wins(small, large, caplog) -> None:
    for order in ((small, large), (large, small)):
        ds = with_regions(*(region(box, delta=(0.01, 0.01) if box == small else (0.03, 0.02)) for box in order))
        with caplog.at_level(logging.WARNING, logger="echolatent.io.dicom"):
            spacing, source = region_spacing(ds, PATH)
        assert spacing == pytest.approx((0.3, 0.2), rel=1e-12)
        assert source == ("SequenceOfUltrasoundRegions (2D region, cm x 10); 2 2D regions disagree "
                          + ("(0.1 x 0.1, 0.3 x 0.2 mm)" if order[0] == small else "(0.3 x 0.2, 0.1 x 0.1 mm)")
                          + ", the largest used")


def test_a_region_without_its_box_counts_from_pixel_zero() -> None:
    boxless = region(delta=(0.01, 0.01))
    for key in ("RegionLocationMinX0", "RegionLocationMinY0"):
        delattr(boxless, key)
    boxless.RegionLocationMaxX1, boxless.RegionLocationMaxY1 = 5, 5  # 6 x 6 = 36 px from (0, 0)
    boxed = region((10, 10, 16, 14), delta=(0.03, 0.02))  # 7 x 5 = 35 px
    assert region_spacing(with_regions(boxed, boxless))[0] == pytest.approx((0.1, 0.1), rel=1e-12)
    no_maximum = region(delta=(0.01, 0.01))
    del no_maximum.RegionLocationMaxX1  # width 0 - 0 + 1 = 1 px: 1 x 10 = 10 px
    small = region((0, 0, 2, 3), delta=(0.03, 0.02))  # 3 x 4 = 12 px
    assert region_spacing(with_regions(no_maximum, small))[0] == pytest.approx((0.3, 0.2), rel=1e-12)


def test_regions_agreeing_within_a_millionth_do_not_warn(caplog) -> None:
    near = region((20, 0, 29, 9), delta=(0.03 * (1 + 5e-7), 0.02 * (1 - 5e-7)))
    with caplog.at_level(logging.WARNING, logger="echolatent.io.dicom"):
        spacing, source = region_spacing(with_regions(region(), near), PATH)
    assert not caplog.records and source == "SequenceOfUltrasoundRegions (2D region, cm x 10)"
    far = region((20, 0, 29, 8), delta=(0.03 * (1 + 3e-6), 0.02))
    with caplog.at_level(logging.WARNING, logger="echolatent.io.dicom"):
        spacing, source = region_spacing(with_regions(region(), far), PATH)
    assert spacing == pytest.approx((0.3, 0.2), rel=1e-12)
    assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.WARNING
    assert caplog.records[0].getMessage() == ("calibrated.dcm: 2D ultrasound regions disagree on the pixel size "
                                              "(0.3 x 0.2, 0.3 x 0.2 mm); the largest region's is used")
    assert "2 2D regions disagree" in source


def test_only_the_x_delta_disagreeing_is_found_too(caplog) -> None:
    other = region((20, 0, 29, 8), delta=(0.03, 0.025))
    with caplog.at_level(logging.WARNING, logger="echolatent.io.dicom"):
        _, source = region_spacing(with_regions(region(), other))
    assert "disagree (0.3 x 0.2, 0.3 x 0.25 mm)" in source and "disagree" in caplog.text


@pytest.mark.parametrize(("spacing", "expected"), [
    ([0.41, 0.37], (0.41, 0.37)),
    ([0.0, 0.37], None), ([0.41, 0.0], None), ([-0.4, 0.37], None), ([0.41, -0.3], None), ([0.41], None),
    ([0.41, 0.37, 0.2], None),
])
def test_pixel_spacing_only_when_two_positive_values(spacing, expected) -> None:
    ds = Dataset()
    ds.PixelSpacing = spacing
    got, source = region_spacing(ds)
    assert got == expected
    assert source == ("PixelSpacing" if expected else "unknown (no ultrasound region calibration, no PixelSpacing)")


def test_an_empty_region_sequence_falls_back_to_pixel_spacing() -> None:
    ds = with_regions()
    ds.PixelSpacing = [0.25, 0.5]
    assert region_spacing(ds) == ((0.25, 0.5), "PixelSpacing")


# ------------------------------------------------------------------------------------------- frame rate


def rate_of(**tags) -> tuple[float | None, str]:
    ds = Dataset()
    for key, value in tags.items():
        setattr(ds, key, value)
    return frame_rate(ds)


def test_frame_time_in_ms_gives_frames_per_second() -> None:
    assert rate_of(FrameTime="20") == (50.0, "FrameTime")
    assert rate_of(FrameTime="33.3333", CineRate=10) == pytest.approx((1000 / 33.3333, "FrameTime"))


def test_frame_time_vector_averages_its_steps_after_the_first() -> None:
    # the first entry is the time of frame 0 (0 or anything): steps 20, 20, 40 -> 80 / 3 ms
    fps, source = rate_of(FrameTimeVector=[7, 20, 20, 40])
    assert source == "FrameTimeVector" and fps == pytest.approx(3000 / 80, rel=1e-12)
    assert rate_of(FrameTimeVector=[0, 25]) == (40.0, "FrameTimeVector")


@pytest.mark.parametrize("vector", [[0, 20, 0, 20], [0, 20, -5], [20], 20])
def test_a_frame_time_vector_with_a_zero_step_or_one_entry_is_not_used(vector) -> None:
    assert rate_of(FrameTimeVector=vector, CineRate=30) == (30.0, "CineRate")


@pytest.mark.parametrize("bad", ["0", "-20", "nan", "inf", "abc", ""])
def test_a_frame_time_not_a_positive_number_falls_through(bad) -> None:
    ds = Dataset()
    ds.add_new(0x00181063, "LO", bad)  # FrameTime as read from a file whose DS is not a number: a str
    assert frame_rate(ds) == (None, "unknown")
    ds.FrameTimeVector = [0, 40, 40]
    assert frame_rate(ds) == (25.0, "FrameTimeVector")


def test_cine_rate_before_the_recommended_display_rate() -> None:
    assert rate_of(CineRate=30, RecommendedDisplayFrameRate=25) == (30.0, "CineRate")
    assert rate_of(CineRate=0, RecommendedDisplayFrameRate=25) == (25.0, "RecommendedDisplayFrameRate")
    assert rate_of() == (None, "unknown")


# ------------------------------------------------------------------------------------------- grey frames


def test_twelve_bit_monochrome2_is_scaled_to_255() -> None:
    pixels = np.array([[[0, 1, 8, 2048], [4095, 4094, 100, 3000]]], np.uint16)
    grey = grey_frames(image(pixels, bits=12), PATH)
    expected = np.round(pixels * (255 / 4095))  # 8 -> 0.498 -> 0; 2048 -> 127.53 -> 128; 3000 -> 186.8 -> 187
    assert grey.dtype == np.uint8 and np.array_equal(grey, expected.astype(np.uint8))
    assert grey[0, 1].tolist() == [255, 255, 6, 187]


def test_twelve_bit_monochrome1_is_inverted_then_scaled() -> None:
    pixels = np.array([[[0, 4095, 1000, 4000]]], np.uint16)
    grey = grey_frames(image(pixels, "MONOCHROME1", bits=12), PATH)
    assert grey[0, 0].tolist() == [255, 0, 193, 6]  # (4095 - v) * 255 / 4095: 3095 -> 192.7, 95 -> 5.9


def test_eight_bit_monochrome1_inverts_within_255() -> None:
    pixels = np.array([[[0, 1, 254, 255], [100, 7, 128, 60]]], np.uint8)
    assert np.array_equal(grey_frames(image(pixels, "MONOCHROME1"), PATH), 255 - pixels)


def test_one_frame_without_a_frame_axis_gets_one() -> None:
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    grey = grey_frames(image(pixels), PATH)
    assert grey.shape == (1, 3, 4) and np.array_equal(grey[0], pixels)


def test_one_rgb_frame_becomes_its_luminance() -> None:
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[0, 0] = (255, 0, 0)
    rgb[0, 1] = (0, 255, 0)
    rgb[0, 2] = (0, 0, 255)
    rgb[1] = (10, 200, 90)
    grey = grey_frames(image(rgb, "RGB"), PATH)
    assert grey.shape == (1, 2, 3)
    assert grey[0, 0].tolist() == [76, 150, 29]  # 0.299, 0.587, 0.114 of 255 rounded
    assert grey[0, 1].tolist() == [round(0.299 * 10 + 0.587 * 200 + 0.114 * 90)] * 3


def palette(pixels: np.ndarray, lut: dict[str, list[int]], bits: int) -> Dataset:
    ds = image(pixels, "PALETTE COLOR")
    for colour, values in lut.items():
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [len(values), 0, bits])
        setattr(ds, f"{colour}PaletteColorLookupTableData", np.array(values, "<u2").tobytes())
    return ds


def test_a_16_bit_palette_is_looked_up_then_grey_on_its_full_range() -> None:
    # 16-bit LUT entries span 0..65535: grey = luma(R, G, B) * 255 / 65535, whatever the frames' own range (the
    # reader stretched each file's extreme values to 0..255 before: a red pixel 130 instead of 76)
    pixels = np.array([[[0, 1, 2, 3]], [[3, 2, 1, 1]]], np.uint8)
    lut = {"Red": [0, 65535, 0, 32768], "Green": [0, 0, 65535, 32768], "Blue": [0, 0, 0, 65535]}
    grey = grey_frames(palette(pixels, lut, 16), PATH)
    rgb = np.array([lut["Red"], lut["Green"], lut["Blue"]], float).T * 255 / 65535  # entry -> (R, G, B) in 0..255
    luma = np.round(rgb @ [0.299, 0.587, 0.114])  # 0, 76.2, 149.7, 142.0
    assert luma.tolist() == [0, 76, 150, 142]
    assert grey.shape == (2, 1, 4) and np.array_equal(grey[:, 0], luma[pixels[:, 0]])


def test_an_8_bit_palette_is_grey_as_it_stands() -> None:
    pixels = np.array([[[0, 1, 2]]], np.uint8)
    lut = {"Red": [10, 200, 0], "Green": [10, 100, 0], "Blue": [10, 50, 255]}
    grey = grey_frames(palette(pixels, lut, 8), PATH)
    assert grey[0, 0].tolist() == [10, round(0.299 * 200 + 0.587 * 100 + 0.114 * 50), round(0.114 * 255)]


def test_sixteen_bit_rgb_is_scaled_by_its_range() -> None:
    rgb = np.zeros((1, 1, 3, 3), np.uint16)
    rgb[0, 0, 0], rgb[0, 0, 1], rgb[0, 0, 2] = (65535, 0, 0), (0, 65535, 0), (30000, 30000, 30000)
    grey = grey_frames(image(rgb, "RGB", bits=16), PATH)
    assert grey[0, 0].tolist() == [76, 150, round(30000 * 255 / 65535)]


def test_undecodable_pixel_data_names_the_transfer_syntax(tmp_path: Path) -> None:
    ds = image(np.zeros((2, 4, 4), np.uint8))
    ds.PixelData = ds.PixelData[:-5]  # too short for 2 x 4 x 4
    with pytest.raises(InputError, match=r"cannot decode the pixel data \(1\.2\.840\.10008\.1\.2\.1: "):
        grey_frames(ds, PATH)


def test_zero_frames_and_no_pixels_are_refused() -> None:
    ds = image(np.zeros((2, 4, 4), np.uint8))
    ds.NumberOfFrames = 0
    with pytest.raises(InputError, match=r"zero frames \(NumberOfFrames is 0\)"):
        grey_frames(ds, PATH)
    ds.NumberOfFrames = ""
    with pytest.raises(InputError, match="zero frames"):
        grey_frames(ds, PATH)
    del ds.PixelData
    with pytest.raises(InputError, match=r"no pixel data \(not an image\)"):
        grey_frames(ds, PATH)


def test_a_file_of_twelve_bit_frames_reads_back_scaled(tmp_path: Path) -> None:
    pixels = (np.arange(2 * 3 * 5, dtype=np.uint16).reshape(2, 3, 5) * 141)  # 0 .. 4089
    path = save(image(pixels, bits=12, FrameTime="40", PatientID="P 9", SeriesNumber=4), tmp_path / "x.dcm")
    rec = read_dicom_file(path)
    assert np.array_equal(rec.frames, np.round(pixels.astype(float) * 255 / 4095).astype(np.uint8))
    assert (rec.fps, rec.spacing, rec.patient, rec.name) == (25.0, None, "P_9", "x")


def test_a_file_with_one_pixel_spacing_value_has_an_unknown_pixel_size(tmp_path: Path) -> None:
    # PixelSpacing needs 2 values; one value (VM 1, a damaged header) made the reader fail with a TypeError
    path = save(image(np.zeros((2, 3, 4), np.uint8), PixelSpacing="0.4"), tmp_path / "one_value.dcm")
    rec = read_dicom_file(path)
    assert rec.spacing is None and rec.meta["spacing_source"].startswith("unknown")


# ------------------------------------------------------------------------------------------- limits and messages


class Decoded(Dataset):
    """A dataset whose decoder gives ``array`` (or raises ``error``): the decoder's output as pydicom could give it."""

    def __init__(self, array=None, error=None, **tags) -> None:
        super().__init__()
        self.PixelData = b"\0\0"
        for key, value in tags.items():
            setattr(self, key, value)
        self._array, self._error = array, error

    @property
    def pixel_array(self):
        if self._error is not None:
            raise self._error
        return self._array


def test_a_sub_millisecond_frame_time_and_steps() -> None:
    assert rate_of(FrameTime="0.5") == (2000.0, "FrameTime")
    assert rate_of(FrameTimeVector=[0, 0.5, 0.5]) == (2000.0, "FrameTimeVector")


def test_a_nine_bit_image_is_scaled_by_511() -> None:
    pixels = np.array([[[0, 1, 255, 256, 511]]], np.uint16)
    assert grey_frames(image(pixels, bits=9), PATH)[0, 0].tolist() == [0, 0, 127, 128, 255]  # 255 * 255 / 511 = 127.25
    darker = np.array([[[1, 255, 300]]], np.uint16)  # not the full range: scaled by 511 all the same, not stretched
    assert grey_frames(image(darker, bits=9), PATH)[0, 0].tolist() == [0, 127, 150]  # 300 * 255 / 511 = 149.7


def test_signed_eight_bit_monochrome1_is_inverted_without_overflow(caplog) -> None:
    pixels = np.array([[[-10, 0, 100]]], np.int8)
    with caplog.at_level(logging.WARNING, logger="echolatent.io.volume"):
        grey = grey_frames(image(pixels, "MONOCHROME1"), PATH)
    # 255 - v = 265, 255, 155, beyond 255: rescaled from 155..265, (255 - 155) / 110 * 255 = 231.8
    assert grey[0, 0].tolist() == [255, 232, 0]


def test_signed_twelve_bit_values_below_zero_are_black() -> None:
    # the ultrasound standard has unsigned pixels; signed ones scale like unsigned and negatives clip to 0
    pixels = np.array([[[-2048, -1, 0, 2047, 1000]]], np.int16)
    assert grey_frames(image(pixels, bits=12), PATH)[0, 0].tolist() == [0, 0, 0, 127, 62]  # 2047 * 255 / 4095


def test_signed_eight_bit_values_are_rescaled_with_a_warning_naming_the_file(caplog) -> None:
    pixels = np.array([[[-10, 30, 90]]], np.int8)
    with caplog.at_level(logging.WARNING, logger="echolatent.io.volume"):
        grey = grey_frames(image(pixels), PATH)
    assert grey[0, 0].tolist() == [0, 102, 255]  # -10..90 -> 0..255: 30 -> 40 / 100 * 255 = 102
    assert caplog.records[0].getMessage().startswith("calibrated.dcm: intensities -10..90 outside 0..255")


def test_decoder_output_without_a_frame_axis_or_with_a_zero_side_is_refused() -> None:
    for array in (np.zeros((2, 2, 3, 4), np.uint8), np.zeros((0, 3), np.uint8), np.zeros((2, 0, 3), np.uint8)):
        with pytest.raises(InputError) as err:
            grey_frames(Decoded(array, SamplesPerPixel=1), PATH)
        assert err.value.path == PATH
        assert err.value.problem == f"unexpected pixel array of shape {array.shape if array.ndim != 2 else (1, 0, 3)}"


def test_without_samples_bits_or_photometric_tags_the_frames_are_8_bit_grey() -> None:
    array = np.array([[3, 200], [7, 0]], np.uint8)
    assert grey_frames(Decoded(array), PATH).tolist() == [[[3, 200], [7, 0]]]
    assert grey_frames(Decoded(np.stack([array, array + 1])), PATH).shape == (2, 2, 2)


def test_decoder_errors_give_their_first_line_cut_at_160_characters() -> None:
    long = RuntimeError("e" * 170 + "\nsecond line")
    with pytest.raises(InputError) as err:
        grey_frames(Decoded(error=long), PATH)  # no file meta at all: the syntax is "?"
    assert err.value.problem == f"cannot decode the pixel data (?: {'e' * 160})" and err.value.path == PATH
    no_syntax = Decoded(error=ValueError("bad"))
    no_syntax.file_meta = FileMetaDataset()
    with pytest.raises(InputError) as err:
        grey_frames(no_syntax, PATH)
    assert err.value.problem == "cannot decode the pixel data (?: bad)"


def test_compressed_pixels_without_a_transfer_syntax_cannot_be_decoded(tmp_path: Path) -> None:
    """Encapsulated pixel data and no file meta: no codec is named, so none is guessed (uncompressed data without
    one is read: tests/io/test_dicom.py)."""
    ds = image(np.zeros((2, 3, 4), np.uint8))
    ds.compress(RLELossless)
    del ds.file_meta
    path = tmp_path / "bare.dcm"
    ds.save_as(path, implicit_vr=False, little_endian=True)  # the dataset alone: no preamble, no file meta
    with pytest.raises(InputError) as err:
        read_dicom_file(path)
    assert err.value.path == path and err.value.problem.startswith("cannot decode the pixel data (?: ")


def test_refusals_name_the_file_exactly() -> None:
    ds = image(np.zeros((2, 4, 4), np.uint8))
    ds.NumberOfFrames = 0
    with pytest.raises(InputError) as err:
        grey_frames(ds, PATH)
    assert (err.value.path, err.value.problem) == (PATH, "zero frames (NumberOfFrames is 0)")
    del ds.PixelData
    with pytest.raises(InputError) as err:
        grey_frames(ds, PATH)
    assert (err.value.path, err.value.problem) == (PATH, "no pixel data (not an image)")


def test_a_region_ignored_for_its_units_gives_one_exact_message(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="echolatent.io.dicom"):
        spacing, _ = region_spacing(with_regions(region(units=(3, 5)), region(delta=(0.05, 0.04))), PATH)
    assert spacing == pytest.approx((0.5, 0.4), rel=1e-12)  # the next region is still read
    assert [r.getMessage() for r in caplog.records] == [
        "calibrated.dcm: a 2D ultrasound region without a calibration in cm (units (3, 5)) is ignored"]


def test_a_region_without_its_lower_corner_is_one_pixel_high() -> None:
    flat = region(delta=(0.01, 0.01))
    del flat.RegionLocationMaxY1  # rows 0..0: 10 x 1 = 10 px
    small = region((0, 0, 3, 2), delta=(0.03, 0.02))  # 4 x 3 = 12 px
    assert region_spacing(with_regions(flat, small))[0] == pytest.approx((0.3, 0.2), rel=1e-12)


def test_regions_disagree_below_any_absolute_tolerance() -> None:
    # 0.001 mm and 0.001 mm + 5e-9: a relative difference of 5e-6 (above 1e-6) though the absolute one is tiny
    fine = region((20, 0, 29, 8), delta=(0.0001 + 5e-10, 0.0001))
    _, source = region_spacing(with_regions(region(delta=(0.0001, 0.0001)), fine))
    assert "2 2D regions disagree" in source


def test_the_file_is_named_when_its_regions_disagree(tmp_path: Path, caplog) -> None:
    ds = image(np.zeros((2, 3, 4), np.uint8))
    ds.SequenceOfUltrasoundRegions = [region(), region((20, 0, 29, 5), delta=(0.05, 0.05))]
    path = save(ds, tmp_path / "two_regions.dcm")
    with caplog.at_level(logging.WARNING, logger="echolatent.io.dicom"):
        rec = read_dicom_file(path)
    assert rec.spacing == pytest.approx((0.3, 0.2), rel=1e-12)
    assert caplog.records[0].getMessage().startswith(f"{path}: 2D ultrasound regions disagree")


def test_which_dicom_files_hold_an_image(tmp_path: Path) -> None:
    """An image file, and what exports hold beside images: a DICOMDIR (its SOP class in the file meta only, no
    suffix), a report written bare (no preamble, no file meta: its SOP class in the dataset, found with ``.dcm``); a
    damaged ``.dcm`` is left to the reader."""
    clip = tmp_path / "clip.dcm"
    image(np.zeros((2, 4, 4), np.uint8)).save_as(clip, enforce_file_format=True)
    directory = Dataset()
    directory.file_meta = FileMetaDataset()
    directory.file_meta.MediaStorageSOPClassUID = MediaStorageDirectoryStorage
    directory.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    directory.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    directory.FileSetID = "EXPORT"
    directory.save_as(tmp_path / "DICOMDIR", enforce_file_format=True)
    report = Dataset()
    report.SOPClassUID, report.SOPInstanceUID, report.Modality = BasicTextSRStorage, generate_uid(), "SR"
    report.save_as(tmp_path / "report.dcm", implicit_vr=False, little_endian=True)  # the dataset alone
    damaged = tmp_path / "damaged.dcm"
    damaged.write_bytes(b"\1\2\3" * 50)
    unnamed = tmp_path / "damaged"  # no suffix, no DICM marker: pydicom refuses it
    unnamed.write_bytes(b"\1\2\3" * 50)
    cut = tmp_path / "cut.dcm"  # an image file cut within its header: the SOP class says image
    cut.write_bytes(clip.read_bytes()[:200])
    assert (tmp_path / "report.dcm").read_bytes()[128:132] != b"DICM"
    files = (clip, tmp_path / "DICOMDIR", tmp_path / "report.dcm", damaged, unnamed, cut)
    assert [holds_image(p) for p in files] == [True, False, False, True, True, True]
    with pytest.raises(InputError):
        read_dicom_file(cut)


@pytest.mark.parametrize(("sop_class", "rows", "pixels", "expected"), [
    (BasicTextSRStorage, False, False, False),  # a report
    (BasicTextSRStorage, True, False, True),  # image attributes: an image whatever its class says
    (BasicTextSRStorage, False, True, True),
    (EnhancedUSVolumeStorage, False, False, True),  # an image class cut before its image attributes
    (UltrasoundMultiFrameImageStorage, False, False, True),
])
def test_an_object_is_an_image_by_its_class_or_its_image_attributes(tmp_path: Path, sop_class, rows: bool,
                                                                     pixels: bool, expected: bool) -> None:
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, generate_uid()
    if rows:
        ds.Rows = ds.Columns = 4
    if pixels:
        ds.BitsAllocated, ds.PixelData = 8, bytes(16)
    ds.save_as(tmp_path / "object.dcm", implicit_vr=False, little_endian=True)
    assert holds_image(tmp_path / "object.dcm") is expected


@pytest.mark.parametrize("reports", [0, 3, 4])
def test_without_images_keeps_images_and_other_files_and_names_the_rest(tmp_path: Path, reports: int) -> None:
    clip = tmp_path / "clip.dcm"
    image(np.zeros((2, 4, 4), np.uint8)).save_as(clip, enforce_file_format=True)
    video = tmp_path / "clip.avi"
    video.write_bytes(b"RIFF")
    left = []
    for k in range(reports):
        report = Dataset()
        report.SOPClassUID, report.SOPInstanceUID = BasicTextSRStorage, generate_uid()
        report.save_as(tmp_path / f"SR{k}.dcm", implicit_vr=False, little_endian=True)
        left.append(tmp_path / f"SR{k}.dcm")
    kept, text = without_images([clip, *left, video])
    assert kept == [clip, video]
    assert text == {0: "", 3: "3 DICOM file(s) without an image (SR0.dcm, SR1.dcm, SR2.dcm)",
                    4: "4 DICOM file(s) without an image (SR0.dcm, SR1.dcm, SR2.dcm, ...)"}[reports]
