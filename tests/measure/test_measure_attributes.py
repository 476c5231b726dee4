"""Attributes: known answers on drawn shapes, units, NaN on broken masks, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from measure_helpers import ellipse, heart_frame, transform_labels
from skimage.measure import regionprops

from echolatent.errors import InputError
from echolatent.labels import Label
from echolatent.measure.attributes import ATTRIBUTES, compute_attributes, measure_attributes, not_measured_notes


@pytest.mark.parametrize("spacing", [(1.0, 1.0), (0.5, 0.25)])
def test_areas_of_ellipses_match_pi_a_b_in_mm2(spacing):
    frame = np.zeros((600, 600), np.uint8)
    frame[ellipse(frame.shape, (45, 45), (30, 12), spacing=spacing)] = Label.LV
    frame[ellipse(frame.shape, (50, 110), (40, 16), spacing=spacing)] = Label.LA
    attrs = compute_attributes(frame[None], spacing)
    assert attrs["lv_area"][0] == pytest.approx(np.pi * 30 * 12, rel=0.01)
    assert attrs["la_area"][0] == pytest.approx(np.pi * 40 * 16, rel=0.01)
    assert attrs["myo_area"][0] == 0


@pytest.mark.parametrize("angle", [-35.0, -12.0, 0.0, 8.0, 25.0, 40.0])
def test_orientation_of_rotated_ellipse(angle):
    lv = ellipse((256, 256), (128, 128), (90, 30), angle=angle)
    value = compute_attributes(lv.astype(np.uint8)[None])["lv_orientation"][0]
    assert value == pytest.approx(angle, abs=max(0.02 * abs(angle), 0.3))
    assert value == pytest.approx(np.degrees(regionprops(lv.astype(int))[0].orientation), abs=1e-6)


def test_orientation_uses_physical_units():
    # a 45-degree line in mm drawn on pixels twice as tall as wide
    spacing = (1.0, 0.5)
    lv = ellipse((200, 300), (100, 75), (60, 10), angle=30.0, spacing=spacing)
    value = compute_attributes(lv.astype(np.uint8)[None], spacing)["lv_orientation"][0]
    assert value == pytest.approx(30.0, abs=0.6)


def test_base_width_and_length_of_half_ellipse_lv():
    frame = heart_frame(size=256, length=100, half_width=40, wall=8, la_height=30, base_row=180)
    attrs = compute_attributes(frame[None])
    assert attrs["lv_base_width"][0] == pytest.approx(80, rel=0.02)
    assert attrs["lv_length"][0] == pytest.approx(100, rel=0.02)
    assert attrs["lv_orientation"][0] == pytest.approx(0, abs=0.5)


def test_lengths_scale_with_spacing():
    frame = heart_frame(size=256, length=100, half_width=40, wall=8, la_height=30, base_row=180)
    pixels = compute_attributes(frame[None])
    mm = compute_attributes(frame[None], (0.3, 0.3))
    for name in ("lv_base_width", "lv_length", "epi_center_x", "epi_center_y"):
        assert mm[name][0] == pytest.approx(0.3 * pixels[name][0])
    assert mm["lv_area"][0] == pytest.approx(0.09 * pixels["lv_area"][0])


def test_epi_centre_is_the_centre_of_mass_of_lv_and_myo():
    frame = np.zeros((60, 80), np.uint8)
    frame[10:20, 30:50] = Label.LV
    frame[20:30, 30:50] = Label.MYO
    attrs = compute_attributes(frame[None], (2.0, 1.0))
    assert attrs["epi_center_x"][0] == pytest.approx(39.5)
    assert attrs["epi_center_y"][0] == pytest.approx(2.0 * 19.5)


def test_nan_with_reasons_on_empty_and_broken_frames():
    good = heart_frame()
    no_myo = np.where(good == Label.MYO, 0, good).astype(np.uint8)
    masks = np.stack([good, np.zeros_like(good), no_myo])
    result = measure_attributes(masks)
    assert set(result.values) == set(ATTRIBUTES)
    assert all(np.isfinite(v[0]) for v in result.values.values())
    assert result.values["lv_area"][1] == 0
    assert np.isnan(result.values["lv_base_width"][1]) and np.isnan(result.values["lv_orientation"][1])
    assert "no LV" in result.reasons["lv_base_width"][1]
    assert np.isnan(result.values["lv_base_width"][2]) and np.isnan(result.values["lv_length"][2])
    assert result.reasons["lv_base_width"][2] == "no MYO beside the LV"
    assert np.isfinite(result.values["lv_orientation"][2])


@pytest.mark.parametrize(
    ("masks", "message"),
    [
        (np.zeros((2, 2, 4, 4), np.uint8), "expected"),
        (np.full((1, 4, 4), 7, np.uint8), "outside 0..3"),
        (np.full((1, 4, 4), np.nan), "NaN"),
        (np.zeros((0, 4, 4), np.uint8), "empty"),
    ],
)
def test_bad_input_raises_input_error(masks, message):
    with pytest.raises(InputError, match=message):
        compute_attributes(masks)


def test_bad_spacing_raises():
    with pytest.raises(ValueError, match="spacing"):
        compute_attributes(heart_frame()[None], (0.0, 1.0))


ANGLES = (-40.0, -20.0, 20.0, 40.0)


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.3])
def test_drawn_heart_rotated_and_resampled_keeps_its_lengths(scale):
    heart = heart_frame(size=160, length=70, half_width=26, wall=7, la_height=24, base_row=115)[None]
    reference = compute_attributes(transform_labels(heart, 0.0, scale))
    assert compute_attributes(heart)["lv_base_width"][0] == pytest.approx(52, rel=0.03)
    for angle in ANGLES:
        rotated = compute_attributes(transform_labels(heart, angle, scale))
        assert all(np.isfinite(v[0]) for v in rotated.values())
        for name in ("lv_base_width", "lv_length"):
            assert rotated[name][0] == pytest.approx(reference[name][0], rel=0.03), (name, angle)
        assert rotated["lv_orientation"][0] - reference["lv_orientation"][0] == pytest.approx(angle, abs=2.0)
        assert rotated["lv_area"][0] == pytest.approx(reference["lv_area"][0], rel=0.03)


def test_lengths_and_areas_follow_resampling():
    heart = heart_frame(size=160, length=70, half_width=26, wall=7, la_height=24, base_row=115)[None]
    one = compute_attributes(transform_labels(heart, 20.0, 1.0))
    big = compute_attributes(transform_labels(heart, 20.0, 2.3))
    for name in ("lv_base_width", "lv_length"):
        assert big[name][0] == pytest.approx(2.3 * one[name][0], rel=0.03)
    assert big["lv_area"][0] == pytest.approx(2.3**2 * one["lv_area"][0], rel=0.03)
    assert big["lv_orientation"][0] == pytest.approx(one["lv_orientation"][0], abs=1.0)


@pytest.mark.parametrize("spacing", [(0.5, 1.0), (1.0, 0.4)])
def test_tilted_heart_with_unequal_spacing_measures_in_mm(spacing):
    """Rows (or columns) resampled by the spacing ratio: the same heart in mm, drawn on unequal pixels."""
    heart = transform_labels(heart_frame(size=160, length=70, half_width=26, wall=7, la_height=24, base_row=115)[None],
                             30.0, 1.0)
    square = compute_attributes(heart)
    ry, rx = 1.0 / spacing[0], 1.0 / spacing[1]
    rows = np.clip(np.round((np.arange(int(heart.shape[1] * ry)) + 0.5) / ry - 0.5).astype(int), 0, heart.shape[1] - 1)
    cols = np.clip(np.round((np.arange(int(heart.shape[2] * rx)) + 0.5) / rx - 0.5).astype(int), 0, heart.shape[2] - 1)
    stretched = compute_attributes(heart[:, rows][:, :, cols], spacing)
    for name in ("lv_base_width", "lv_length", "lv_area"):
        assert stretched[name][0] == pytest.approx(square[name][0], rel=0.03), name
    assert stretched["lv_orientation"][0] == pytest.approx(square["lv_orientation"][0], abs=1.0)


def test_apex_side_comes_from_the_lv_opening_not_the_image_top():
    heart = heart_frame(size=160, length=70, half_width=26, wall=7, la_height=24, base_row=115)[None]
    upright = compute_attributes(heart)
    upside_down = compute_attributes(heart[:, ::-1])
    for name in ("lv_base_width", "lv_length"):
        assert upside_down[name][0] == pytest.approx(upright[name][0], rel=1e-6)


def test_not_measured_notes_say_how_many_frames_and_why():
    good = heart_frame()
    no_myo = np.where(good == Label.MYO, 0, good).astype(np.uint8)
    result = measure_attributes(np.stack([good, no_myo, no_myo, np.zeros_like(good)]))
    notes = not_measured_notes(result.reasons)
    assert notes["lv_base_width"] == "not measured on 3 frames: no MYO beside the LV (2); no LV pixel (1)"
    assert notes["lv_orientation"] == "not measured on 1 frame: no LV pixel"
    assert "lv_area" not in notes


@pytest.mark.parametrize("scale", [1.0, 2.3])
@pytest.mark.parametrize("angle", [-30.0, 30.0])
def test_rotated_drawn_heart_has_its_known_base_width_and_length(angle, scale):
    # LV: half-ellipse of semi-axes 70 (long) and 26 px on a flat base: base width 2 x 26 = 52 px, length 70 px
    heart = heart_frame(size=160, length=70, half_width=26, wall=7, la_height=24, base_row=115)[None]
    attrs = compute_attributes(transform_labels(heart, angle, scale))
    assert attrs["lv_base_width"][0] == pytest.approx(52 * scale, rel=0.02)
    assert attrs["lv_length"][0] == pytest.approx(70 * scale, rel=0.02)
    assert attrs["lv_orientation"][0] == pytest.approx(angle, abs=0.5)


@pytest.mark.parametrize("angle", [0.0, 30.0])
def test_lv_closed_by_myo_has_its_basal_corners(angle):
    # no opening (a MYO band under the base): the basal corners are the contour points farthest across and down
    heart = heart_frame(size=160, length=70, half_width=26, wall=7, la_height=24, base_row=115)
    cols = np.flatnonzero(heart[115] == Label.LV)
    heart[116:123, cols[0] - 7:cols[-1] + 8] = Label.MYO
    attrs = compute_attributes(transform_labels(heart[None], angle, 1.0))
    assert attrs["lv_base_width"][0] == pytest.approx(52, rel=0.02)
    assert attrs["lv_length"][0] == pytest.approx(70, rel=0.02)
