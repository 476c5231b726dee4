"""Attributes with unequal pixel spacing against values by hand: pixel counts and centres of drawn rectangles,
a heart drawn in mm on pixels 0.7 x 0.3 mm (its base width and length known from the drawing), crops at the
image border, frames measured in chunks against frames measured one at a time."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
from measure_helpers import ellipse

from echolatent.errors import InputError
from echolatent.labels import Label
from echolatent.measure import attributes
from echolatent.measure.attributes import (
    ATTRIBUTES,
    CHUNK,
    check_masks,
    check_spacing,
    compute_attributes,
    lv_landmarks,
    measure_attributes,
    not_measured_notes,
)

SY, SX = 0.7, 0.3  # mm per row, per column


def _heart_mm(shape=(170, 330), centre=(80.0, 50.0), length=40.0, half_width=14.0, wall=4.0,
              spacing=(SY, SX)) -> np.ndarray:
    """``(H, W)`` labels drawn in mm: LV half-ellipse (apex up, flat base at ``centre[0]`` mm) of ``length`` and
    ``half_width`` mm, a MYO band ``wall`` mm thick, an LA half-disc below the base."""
    sy, _ = spacing
    rows = np.arange(shape[0])[:, None] * sy
    above = np.broadcast_to(rows <= centre[0], shape)
    frame = np.zeros(shape, np.uint8)
    frame[ellipse(shape, centre, (length + wall, half_width + wall), spacing=spacing) & above] = Label.MYO
    frame[ellipse(shape, centre, (length, half_width), spacing=spacing) & above] = Label.LV
    frame[ellipse(shape, centre, (18.0, half_width), spacing=spacing) & ~above] = Label.LA
    return frame


def test_areas_and_centres_of_rectangles_by_hand():
    frame = np.zeros((40, 50), np.uint8)
    frame[5:15, 10:30] = Label.LV  # 10 x 20 pixels
    frame[15:20, 10:40] = Label.MYO  # 5 x 30
    frame[25:28, 0:7] = Label.LA  # 3 x 7
    attrs = compute_attributes(frame[None], (SY, SX))
    assert attrs["lv_area"][0] == pytest.approx(200 * SY * SX)
    assert attrs["myo_area"][0] == pytest.approx(150 * SY * SX)
    assert attrs["la_area"][0] == pytest.approx(21 * SY * SX)
    # centre of LV + MYO: columns (200 * 19.5 + 150 * 24.5) / 350, rows (200 * 9.5 + 150 * 17) / 350
    assert attrs["epi_center_x"][0] == pytest.approx((200 * 19.5 + 150 * 24.5) / 350 * SX)
    assert attrs["epi_center_y"][0] == pytest.approx((200 * 9.5 + 150 * 17) / 350 * SY)
    pixels = compute_attributes(frame[None])
    assert pixels["lv_area"][0] == 200 and pixels["epi_center_x"][0] == pytest.approx((200 * 19.5 + 150 * 24.5) / 350)


def test_heart_drawn_in_mm_on_unequal_pixels():
    frame = _heart_mm()
    attrs = compute_attributes(frame[None], (SY, SX))
    assert attrs["lv_base_width"][0] == pytest.approx(28.0, rel=0.03)  # 2 x half width
    assert attrs["lv_length"][0] == pytest.approx(40.0, rel=0.03)
    assert attrs["lv_orientation"][0] == pytest.approx(0.0, abs=1.0)
    assert attrs["lv_area"][0] == pytest.approx(np.pi * 40 * 14 / 2, rel=0.03)
    assert attrs["epi_center_x"][0] == pytest.approx(50.0, abs=0.3)


def test_translated_heart_keeps_its_values_up_to_the_shift():
    """A heart near the image's top-left corner and the same heart far inside."""
    frame = _heart_mm(shape=(170, 330), centre=(50.0, 20.0))
    corner = frame[np.ix_(*(np.flatnonzero(frame.any(axis)) for axis in (1, 0)))]  # rows then columns
    corner = np.pad(corner, ((17, 60), (40, 60)))  # clear of the border by more than the crop margin
    inside = np.pad(corner, ((37, 0), (91, 0)))
    a, b = (compute_attributes(m[None], (SY, SX)) for m in (corner, inside))
    for name in ("lv_area", "myo_area", "la_area", "lv_base_width", "lv_length", "lv_orientation"):
        assert b[name][0] == pytest.approx(a[name][0], rel=1e-9, abs=1e-9), name
    assert b["epi_center_x"][0] - a["epi_center_x"][0] == pytest.approx(91 * SX)
    assert b["epi_center_y"][0] - a["epi_center_y"][0] == pytest.approx(37 * SY)


def test_frames_in_chunks_match_frames_one_at_a_time():
    hearts = [_heart_mm(shape=(64, 110), centre=(32.0 + k, 16.0), length=18.0 + k, half_width=6.0 + k / 3)
              for k in range(5)]
    frames = np.stack([hearts[t % 5] for t in range(2 * CHUNK + 3)])
    frames[CHUNK + 1] = 0  # empty: a NaN with its reason in the second chunk
    frames[2 * CHUNK + 2][frames[2 * CHUNK + 2] == Label.MYO] = 0  # no MYO, third chunk
    result = measure_attributes(frames, (SY, SX))
    single = [compute_attributes(h[None], (SY, SX)) for h in hearts]
    for t in range(len(frames)):
        if t in (CHUNK + 1, 2 * CHUNK + 2):
            continue
        for name in ATTRIBUTES:
            assert result.values[name][t] == pytest.approx(single[t % 5][name][0], rel=1e-9), (name, t)
    assert result.values["lv_area"][CHUNK + 1] == 0
    assert result.reasons["lv_orientation"] == {CHUNK + 1: "no LV pixel"}
    assert result.reasons["epi_center_x"] == result.reasons["epi_center_y"] == {CHUNK + 1: "no LV or MYO pixel"}
    assert result.reasons["lv_base_width"] == {CHUNK + 1: "no LV pixel", 2 * CHUNK + 2: "no MYO beside the LV"}
    assert result.reasons["lv_length"] == result.reasons["lv_base_width"]
    assert set(result.reasons) == {"lv_orientation", "epi_center_x", "epi_center_y", "lv_base_width", "lv_length"}
    marks = lv_landmarks(frames, (SY, SX))
    for t in (0, CHUNK + 3, 2 * CHUNK + 1):
        alone = lv_landmarks(frames[t][None], (SY, SX))
        for name in ("left", "right", "apex"):
            np.testing.assert_allclose(getattr(marks, name)[t], getattr(alone, name)[0], rtol=1e-9)
        assert marks.frame.orientation[t] == pytest.approx(alone.frame.orientation[0])
    width = np.hypot(*(marks.left - marks.right).T)
    np.testing.assert_allclose(width, result.values["lv_base_width"], rtol=1e-9)


def test_landmarks_are_in_mm():
    frame = _heart_mm()
    marks = lv_landmarks(frame[None], (SY, SX))
    # the base is the flat side at 80 mm; the basal points 14 mm either side of the 50 mm centre line
    assert marks.left[0][0] == pytest.approx(80.0, abs=1.5) and marks.right[0][0] == pytest.approx(80.0, abs=1.5)
    assert sorted([marks.left[0][1], marks.right[0][1]]) == pytest.approx([36.0, 64.0], abs=1.0)
    # the apex: a corner of the LV's top row (40.6 mm), which spans 50 -+ 14 sqrt(1 - (39.4 / 40)^2) = 2.4 mm
    assert marks.apex[0][0] == pytest.approx(40.6, abs=0.5) and marks.apex[0][1] == pytest.approx(50.0, abs=2.5)


def test_lv_with_myo_on_one_side_or_on_top_only():
    frame = np.zeros((2, 60, 60), np.uint8)
    frame[:, 10:40, 20:35] = Label.LV  # 30 x 15 pixels
    frame[0, 10:40, 35:40] = Label.MYO  # a wall on the right only
    frame[1, 5:10, 15:40] = Label.MYO  # a cap only
    result = measure_attributes(frame, (SY, SX))
    for name in ATTRIBUTES:  # every NaN has its reason, and every reason its NaN
        assert set(np.flatnonzero(np.isnan(result.values[name]))) == set(result.reasons.get(name, {})), name
    assert result.values["lv_orientation"].tolist() == [0.0, 0.0]
    assert result.values["lv_area"].tolist() == pytest.approx([450 * SY * SX] * 2)
    assert result.values["myo_area"].tolist() == pytest.approx([150 * SY * SX, 125 * SY * SX])


@pytest.mark.parametrize("spacing", [(0.0, 1.0), (1.0, -0.5), (np.nan, 1.0), (1.0, np.inf), (1.0,), (1.0, 1.0, 1.0)])
def test_check_spacing_refuses(spacing):
    with pytest.raises(ValueError, match=r"spacing must be two positive finite numbers \(sy, sx\) in mm"):
        check_spacing(spacing)


def test_check_spacing_values():
    assert check_spacing(None) == (1.0, 1.0)
    values = check_spacing(np.array([1, 2]))
    assert values == (1.0, 2.0) and all(type(v) is float for v in values)
    assert check_spacing((1e-3, 5)) == (1e-3, 5.0)


def test_not_measured_notes_rank_reasons_by_count():
    reasons = {"a": {0: "x", 3: "y", 4: "y", 9: "z", 11: "y"}, "b": {}, "c": {2: "only"}}
    assert not_measured_notes(reasons) == {"a": "not measured on 5 frames: y (3); x (1); z (1)",
                                           "c": "not measured on 1 frame: only"}
    assert not_measured_notes({"d": {1: "w", 2: "w"}}) == {"d": "not measured on 2 frames: w"}


def test_check_masks_names_the_array():
    bad = np.full((1, 4, 4), 7, np.uint8)
    for name, args in (("masks", ()), ("expert", ("expert",))):
        with pytest.raises(InputError) as err:
            check_masks(bad, *args)
        assert err.value.problem == f"{name}: labels {{7}} outside 0..3"
    assert check_masks(np.ones((4, 4), np.int64)).shape == (1, 4, 4)


def test_empty_frames_give_nan_without_warnings(caplog):
    masks = np.zeros((3, 20, 30), np.uint8)
    masks[1, 5:9, 10:20] = Label.LA  # an LA alone
    with warnings.catch_warnings(), caplog.at_level(logging.DEBUG, logger="echolatent.measure.attributes"):
        warnings.simplefilter("error")
        result = measure_attributes(masks, (SY, SX))
    assert result.values["la_area"].tolist() == pytest.approx([0.0, 40 * SY * SX, 0.0])
    assert result.values["lv_area"].tolist() == [0.0, 0.0, 0.0]
    for name in ("lv_base_width", "lv_length", "lv_orientation", "epi_center_x", "epi_center_y"):
        assert np.isnan(result.values[name]).all(), name
    assert result.reasons["epi_center_x"] == {0: "no LV or MYO pixel", 1: "no LV or MYO pixel", 2: "no LV or MYO pixel"}
    counts = {"lv_base_width": 3, "lv_length": 3, "epi_center_x": 3, "epi_center_y": 3, "lv_orientation": 3}
    assert caplog.messages == [f"undefined attributes: {counts}"]


def test_the_crop_changes_no_value(monkeypatch):
    """Cropping to the heart only saves time: without it (a margin larger than the image) the values are the same."""
    frame = _heart_mm()[None]
    cropped = compute_attributes(frame, (SY, SX))
    monkeypatch.setattr(attributes, "CROP_MARGIN", 10_000)
    whole = compute_attributes(frame, (SY, SX))
    for name in ATTRIBUTES:
        assert cropped[name][0] == pytest.approx(whole[name][0], rel=1e-12, abs=1e-12), name


def test_landmarks_of_two_chunks():
    hearts = np.stack([_heart_mm(shape=(64, 110), centre=(32.0, 16.0), length=18.0 + t % 2, half_width=6.0)
                       for t in range(CHUNK + 2)])
    marks = lv_landmarks(hearts, (SY, SX))
    assert marks.left.shape == marks.right.shape == marks.apex.shape == (CHUNK + 2, 2)
    assert marks.frame.orientation.shape == (CHUNK + 2,)
    alone = [lv_landmarks(hearts[t][None], (SY, SX)) for t in (0, 1)]
    for t in (0, CHUNK, CHUNK + 1):
        np.testing.assert_allclose(marks.apex[t], alone[t % 2].apex[0], rtol=1e-9)
        assert marks.frame.cy[t] == pytest.approx(alone[t % 2].frame.cy[0])


def test_a_heart_touching_the_image_border_is_measured_whole():
    frame = np.zeros((1, 30, 40), np.uint8)
    frame[0, 0:10, 0:20] = Label.LV  # against the top and left edges
    frame[0, 10:14, 0:24] = Label.MYO
    attrs = compute_attributes(frame, (SY, SX))
    assert attrs["lv_area"][0] == pytest.approx(200 * SY * SX)
    assert attrs["myo_area"][0] == pytest.approx(96 * SY * SX)
    assert attrs["epi_center_x"][0] == pytest.approx((200 * 9.5 + 96 * 11.5) / 296 * SX)
    assert attrs["epi_center_y"][0] == pytest.approx((200 * 4.5 + 96 * 11.5) / 296 * SY)


def test_landmarks_kept_with_the_attributes_are_lv_landmarks(monkeypatch):
    """measure_attributes keeps the landmarks its base width and length came from, joined over blocks of frames
    (three blocks of 2 here), equal to lv_landmarks' and consistent with the widths it reports."""
    from measure_helpers import heart_frame

    monkeypatch.setattr(attributes, "CHUNK", 2)
    masks = np.stack([heart_frame(size=64, length=24 - k, half_width=9, wall=4) for k in range(5)])
    masks[3] = 0  # no LV: NaN landmarks in the middle block
    measured = attributes.measure_attributes(masks, (0.5, 0.4))
    own = attributes.lv_landmarks(masks, (0.5, 0.4))
    marks = measured.landmarks
    for name in ("left", "right", "apex"):
        assert getattr(marks, name).shape == (5, 2)
        np.testing.assert_array_equal(getattr(marks, name), getattr(own, name))
    for name in ("cy", "cx", "ay", "ax", "orientation"):
        np.testing.assert_array_equal(getattr(marks.frame, name), getattr(own.frame, name))
    width = np.hypot(*(marks.left - marks.right).T)
    np.testing.assert_array_equal(width, measured.values["lv_base_width"])
    assert np.isnan(marks.left[3]).all() and np.isfinite(marks.left[[0, 1, 2, 4]]).all()
    single = attributes.measure_attributes(masks[:2], (0.5, 0.4)).landmarks  # one block: kept as found
    np.testing.assert_array_equal(single.apex, own.apex[:2])
