"""Sector detection checked on shapes whose answer is known: a fan drawn from a chosen apex, opening and radius
(its cone recovered within a pixel and a tenth of a degree), pixel counts of pieces kept or cut, the temporal-change
threshold, the screen-content limits (band and pixel count) at, below and above their values, and exact borders."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from echolatent.io.sector import (
    MIN_IOU,
    Sector,
    _robust_line,
    apply_sector,
    changing_pixels,
    cut_masks,
    detect_sector,
    main_piece,
    outline_sector,
    screen_content,
)


def fan(h=100, w=120, t=4, half_angle=35.0, depth=None, inner=0.0, apex=(-0.5, 59.5), seed=0, tilt=0.0):
    """``(frames (T, H, W) uint8, fan (H, W))``: speckle in 1..255 inside the fan drawn from ``apex`` (y, x), the
    angles ``tilt +- half_angle`` from the downward vertical, radii ``inner..depth`` (default h - 2)."""
    depth = h - 2 if depth is None else depth
    yy, xx = np.mgrid[:h, :w].astype(float)
    r = np.hypot(yy - apex[0], xx - apex[1])
    theta = np.degrees(np.arctan2(xx - apex[1], yy - apex[0]))
    sector = (np.abs(theta - tilt) <= half_angle) & (r <= depth) & (r >= inner)
    noise = np.random.default_rng(seed).integers(1, 256, (t, h, w))
    return np.where(sector, noise, 0).astype(np.uint8), sector


# ------------------------------------------------------------------------------------------- the cone


@pytest.mark.parametrize(("apex", "half_angle", "tilt", "inner"), [
    ((-0.5, 59.5), 35.0, 0.0, 0.0),
    ((-10.5, 50.5), 30.0, 0.0, 10.5),  # cut by the image's top row: nearest pixels 10.5 px from the apex
    ((-0.5, 62.5), 30.0, 8.0, 0.0),
])
def test_the_cone_of_a_drawn_fan(apex, half_angle, tilt, inner) -> None:
    frames, truth = fan(apex=apex, half_angle=half_angle, tilt=tilt)
    sector = detect_sector(frames)
    assert sector.method == "cone"
    # the edge lines pass through the outermost pixel centres, within half a pixel of the drawn edges
    assert sector.angles == pytest.approx((tilt - half_angle, tilt + half_angle), abs=0.5)
    assert sector.apex[1] == pytest.approx(apex[1] + 0.0, abs=1.0) and sector.apex[0] == pytest.approx(apex[0], abs=1.5)
    assert sector.radius == pytest.approx((inner, 98.0), abs=1.5)  # drawn to 98 px from the apex
    assert not (sector.mask & ~truth).any() and sector.mask.sum() >= 0.99 * truth.sum()
    assert sector.agreement == pytest.approx(float((sector.mask & truth).sum() / (sector.mask | truth).sum()),
                                             abs=0.01)
    assert sector.agreement > 0.98


def test_the_inner_radius_of_a_fan_starting_below_its_apex() -> None:
    frames, truth = fan(inner=30.0, apex=(-5.5, 59.5))
    sector = detect_sector(frames)
    assert sector.radius[0] == pytest.approx(30.0, abs=1.0)
    assert not sector.mask[truth == 0].any() and sector.mask.sum() >= 0.99 * truth.sum()


def test_an_inner_radius_under_a_tenth_of_the_depth_is_zero() -> None:
    # nearest pixels at 8 px from the apex, under a tenth of the ~98 px depth: the fan counts as starting at its apex
    frames, _ = fan(inner=8.0, apex=(-5.5, 59.5))
    assert detect_sector(frames).radius[0] == 0.0
    frames, _ = fan(inner=14.0, apex=(-5.5, 59.5))
    assert detect_sector(frames).radius[0] == pytest.approx(14.0, abs=1.0)


def test_describe_states_method_cover_apex_opening_and_radius() -> None:
    mask = np.zeros((10, 20), bool)
    mask[:, :5] = True
    cone = Sector(mask, "cone", (-1.25, 9.5), (0.0, 80.04), (-30.0, 32.5), 0.97)
    assert cone.describe() == "cone, 25.0 % of the image, apex (-1.2, 9.5) px, opening 62.5 deg, radius 80.0 px"
    assert Sector(mask, "convex hull").describe() == "convex hull, 25.0 % of the image"
    assert Sector(mask, "cone", (1.0, 2.0), None, (0.0, 1.0)).describe() == "cone, 25.0 % of the image"
    assert Sector(mask, "cone", None, (1.0, 2.0), (0.0, 1.0)).describe() == "cone, 25.0 % of the image"
    assert Sector(mask, "cone", (1.0, 2.0), (1.0, 2.0), None).describe() == "cone, 25.0 % of the image"


def test_a_rectangle_is_its_own_convex_hull(caplog) -> None:
    frames = np.zeros((3, 60, 80), np.uint8)
    frames[:, 12:47, 25:61] = np.random.default_rng(3).integers(1, 256, (3, 35, 36))
    with caplog.at_level(logging.INFO, logger="echolatent.io.sector"):
        sector = detect_sector(frames)
    assert [r.getMessage() for r in caplog.records] == ["no cone fits the changing region (no edges): its convex hull "
                                                        "is used"]  # parallel edges
    assert (sector.method, sector.apex, sector.radius, sector.angles) == ("convex hull", None, None, None)
    assert sector.mask.sum() == 35 * 36 and sector.mask[12:47, 25:61].all() and sector.agreement == 1.0


def test_a_change_under_one_percent_of_the_image_keeps_the_whole_image() -> None:
    frames = np.zeros((3, 50, 50), np.uint8)  # 2500 px: 1 % is 25 px
    frames[1, 10:15, 10:14] = 200  # 20 px change
    sector = detect_sector(frames)
    assert sector.method == "whole image" and sector.mask.all() and sector.agreement == 1.0
    frames[1, 10:15, 10:16] = 200  # 30 px
    assert detect_sector(frames).method == "convex hull"


def test_min_iou() -> None:
    assert MIN_IOU == 0.9


# ------------------------------------------------------------------------------------------- pieces


def test_changing_pixels_over_a_std_of_one_grey_level() -> None:
    frames = np.zeros((4, 1, 5), np.uint8)
    frames[:, 0, 1] = (0, 2, 0, 2)  # std 1.0: not above 1
    frames[:, 0, 2] = (0, 3, 0, 3)  # std 1.5
    frames[:, 0, 3] = (9, 9, 9, 9)
    frames[:, 0, 4] = (0, 2, 1, 3)  # std sqrt(1.25) = 1.118
    assert changing_pixels(frames).tolist() == [[False, False, True, False, True]]
    assert changing_pixels(frames, min_std=1.2).tolist() == [[False, False, True, False, False]]
    assert changing_pixels(frames, min_std=0.5).tolist() == [[False, True, True, False, True]]


def test_one_frame_changes_where_it_is_not_zero() -> None:
    frame = np.array([[[0, 1, 255, 0]]], np.uint8)
    assert changing_pixels(frame).tolist() == [[False, True, True, False]]


@pytest.mark.parametrize("shape", [(5, 6), (0, 4, 4), (3, 0, 4), (3, 4, 0), (2, 2, 2, 2)])
def test_changing_pixels_need_frames(shape) -> None:
    with pytest.raises(ValueError, match=rf"expected frames \(T, H, W\), got shape \({shape[0]}, "):
        changing_pixels(np.zeros(shape, np.uint8))


def test_the_largest_piece_with_its_holes_and_corners() -> None:
    change = np.zeros((100, 100), bool)
    change[20:60, 20:60] = True
    change[30:35, 30:35] = False  # a hole: filled
    change[80, :] = True  # a line one pixel thick: cut off
    change[70:90, 75:90] = True  # a smaller piece: left out
    piece = main_piece(change)
    assert piece.sum() == 40 * 40 and piece[20:60, 20:60].all()


@pytest.mark.parametrize(("side", "kept"), [(4, 0), (5, 25)])
def test_a_lone_piece_survives_the_opening_from_five_pixels(side, kept) -> None:
    # in a 100-px image the opening's disk has radius 2 (5 px across): a 5 x 5 square holds it, 4 x 4 does not
    change = np.zeros((100, 100), bool)
    change[40 : 40 + side, 40 : 40 + side] = True
    assert main_piece(change).sum() == kept


def test_a_lone_piece_in_a_larger_image_needs_a_larger_disk() -> None:
    # 300 px: closing radius 3, opening radius 4 (9 px across)
    change = np.zeros((300, 300), bool)
    change[100:108, 100:108] = True
    assert main_piece(change).sum() == 0
    change[100:109, 100:109] = True
    assert main_piece(change).sum() == 81


# 2 px apart: one piece, the gap closed but for its 4 corner pixels (the closing's cross does not reach them);
# 5 px apart: the other piece is beyond the 4 px (2 x 1 + 2) given back around the largest
@pytest.mark.parametrize(("gap", "expected"), [(2, 20 * (20 + 2 + 15) - 4), (5, 20 * 20)])
def test_pieces_two_pixels_apart_are_joined(gap, expected) -> None:
    change = np.zeros((100, 100), bool)
    change[10:30, 10:30] = True
    change[10:30, 30 + gap : 45 + gap] = True  # 20 x 15
    assert main_piece(change).sum() == expected


def test_a_piece_at_the_image_border_keeps_its_border_pixels() -> None:
    change = np.zeros((100, 100), bool)
    change[0:30, 0:40] = True
    assert main_piece(change).sum() == 1200


def test_nothing_changing_gives_no_piece() -> None:
    assert not main_piece(np.zeros((30, 30), bool)).any()


# ------------------------------------------------------------------------------------------- edge lines


def test_a_line_through_points_with_outliers() -> None:
    y = np.arange(20, dtype=float)
    x = 3.0 + 0.5 * y
    x[[4, 11]] += (15.0, -12.0)
    a, b = _robust_line(y, x)
    assert (a, b) == pytest.approx((3.0, 0.5), abs=1e-9)


def test_points_within_a_pixel_are_kept() -> None:
    # residuals of +-0.9 px around x = 1 + 2 y are never outliers (the threshold is at least 1 px): a fit of all
    y = np.arange(10, dtype=float)
    x = 1.0 + 2.0 * y + np.where(np.arange(10) % 2 == 0, 0.9, -0.9)
    assert _robust_line(y, x) == pytest.approx(tuple(np.polyfit(y, x, 1)[::-1]), abs=1e-9)


def test_a_line_needs_five_points() -> None:
    y = np.arange(5, dtype=float)
    assert _robust_line(y, 2.0 - y) == pytest.approx((2.0, -1.0), abs=1e-9)
    assert _robust_line(y[:4], 2.0 - y[:4]) is None
    y = np.arange(7, dtype=float)
    x = 2.0 - y
    x[[2, 4]] += (40.0, -40.0)  # two outliers leave 5 points
    assert _robust_line(y, x) == pytest.approx((2.0, -1.0), abs=1e-9)
    x = 2.0 - y[:6]
    x[[2, 3]] += (40.0, -40.0)  # leave 4
    assert _robust_line(y[:6], x) is None


# ------------------------------------------------------------------------------------------- screen content


def test_screen_content_counts_pixels_beyond_the_band() -> None:
    # 100 x 100: band round(1.5) = 2 px; limit max(20, 0.002 * 10000) = 20 px
    sector = np.zeros((100, 100), bool)
    sector[20:80, 20:60] = True
    frames = np.zeros((2, 100, 100), np.uint8)
    frames[0, 20:80, 20:60] = 255  # inside the fan: never counted
    frames[:, 20:80, 60] = 9  # 1 px off the fan (its last column is 59): within the band
    frames[:, 20:80, 61] = 9  # 2 px off: within the band
    assert not screen_content(frames, sector)
    frames[1, 0, 0:20] = 7  # 20 px outside: not above 20
    assert not screen_content(frames, sector)
    frames[0, 0, 20] = 7  # 21 px
    assert screen_content(frames, sector)
    frames[:, 0, 0:21] = 0
    frames[:, 20:41, 62] = 1  # 21 px, 3 px off the fan: beyond the band
    assert screen_content(frames, sector) and not screen_content(frames[:, :, :], sector, min_fraction=0.0021)


def test_screen_content_limit_grows_with_the_image() -> None:
    # 200 x 200: limit 0.002 * 40000 = 80 px; band round(3) = 3 px
    sector = np.zeros((200, 200), bool)
    sector[50:150, 50:150] = True
    frames = np.zeros((1, 200, 200), np.uint8)
    frames[0, 10, 0:80] = 3
    assert not screen_content(frames, sector)
    frames[0, 11, 0] = 3
    assert screen_content(frames, sector)
    frames[0, 10:12] = 0
    frames[0, 50:150, 152] = 5  # 100 px, 3 px off the fan (its last column is 149): in the band
    assert not screen_content(frames, sector)
    frames[0, 50:150, 153] = 5
    assert screen_content(frames, sector)


def test_cut_modes() -> None:
    sector = np.zeros((40, 40), bool)
    sector[10:30, 10:30] = True
    blank = np.zeros((2, 40, 40), np.uint8)
    shown = blank.copy()
    shown[:, 0, :30] = 200
    assert [cut_masks(mode, frames, sector) for mode in ("auto", "cut", "off") for frames in (blank, shown)] == [
        False, True, True, True, False, False]
    with pytest.raises(ValueError, match=r"sector mode must be one of \('auto', 'cut', 'off'\), got 'AUTO'"):
        cut_masks("AUTO", blank, sector)


# ------------------------------------------------------------------------------------------- applying, outlining


def test_apply_sector_keeps_dtype_and_a_single_frame() -> None:
    sector = np.array([[True, False], [False, True]])
    frames = np.array([[[1.5, 2.5], [3.5, 4.5]]], np.float32)
    cut = apply_sector(frames, sector)
    assert cut.dtype == np.float32 and cut.tolist() == [[[1.5, 0.0], [0.0, 4.5]]]
    mask = np.array([[3, 2], [1, 3]], np.uint8)
    assert apply_sector(mask, sector).tolist() == [[3, 0], [0, 3]] and apply_sector(mask, sector).dtype == np.uint8
    assert mask.tolist() == [[3, 2], [1, 3]]
    with pytest.raises(ValueError, match=r"sector \(2, 2\) does not match the frames' \(2, 3\)"):
        apply_sector(np.zeros((1, 2, 3)), sector)


def test_the_outline_is_the_ring_of_border_pixels() -> None:
    sector = np.zeros((10, 12), bool)
    sector[2:8, 3:9] = True  # 6 x 6: its border ring has 20 pixels
    sector_at_edge = np.zeros((10, 12), bool)
    sector_at_edge[0:4, 0:5] = True  # 4 x 5 at the image corner: the image edge is a border too (14 pixels)
    frames = np.full((2, 10, 12), 7, np.uint8)
    out = outline_sector(frames, sector, value=200)
    ring = sector.copy()
    ring[3:7, 4:8] = False
    assert (out == np.where(ring, 200, 7)).all() and (frames == 7).all()
    edge = outline_sector(frames, sector_at_edge)
    ring = sector_at_edge.copy()
    ring[1:3, 1:4] = False
    assert (edge == np.where(ring, 255, 7)).all()


# ------------------------------------------------------------------------------------------- more limits


def test_the_largest_piece_need_not_be_the_first() -> None:
    change = np.zeros((100, 100), bool)
    change[5:15, 5:15] = True  # first in raster order, smaller
    change[40:90, 30:80] = True
    piece = main_piece(change)
    assert piece.sum() == 50 * 50 and piece[40:90, 30:80].all() and not piece[5:15, 5:15].any()


def test_a_piece_four_pixels_away_is_not_given_back() -> None:
    # 4 px apart: not closed (a gap of 2 is), its first column 5 px from the largest: beyond the 4 px given back
    change = np.zeros((100, 100), bool)
    change[10:30, 10:30] = True
    change[10:30, 34:49] = True
    assert main_piece(change).sum() == 400


def test_in_a_larger_image_a_wider_gap_is_closed() -> None:
    # 300 px: closing disk of radius 3 joins two squares 4 px apart (a cross would not)
    change = np.zeros((300, 300), bool)
    change[100:160, 100:160] = True
    change[100:160, 164:214] = True
    piece = main_piece(change)
    assert piece[100:160, 100:160].all() and piece[100:160, 164:214].all() and piece.sum() > 60 * 110 - 20


def test_no_piece_is_a_boolean_image_of_the_same_shape() -> None:
    empty = main_piece(np.zeros((30, 40), np.uint8))
    assert empty.shape == (30, 40) and empty.dtype == bool and not empty.any()


def test_two_frames_use_the_spread_not_the_first_frame() -> None:
    frames = np.array([[[5, 5, 0]], [[5, 9, 0]]], np.uint8)  # std 0, 2, 0
    assert changing_pixels(frames).tolist() == [[False, True, False]]


def test_the_agreement_is_the_cone_against_the_piece() -> None:
    frames, _ = fan()
    sector = detect_sector(frames)
    # the cone's half-pixel edge tolerance takes a few pixels beyond the drawn fan: agreement just below 1
    assert 0.98 < sector.agreement < 0.999


def test_an_l_shape_gets_its_hull_with_its_agreement(caplog) -> None:
    frames = np.zeros((3, 100, 100), np.uint8)
    frames[:, 20:60, 20:60] = np.random.default_rng(0).integers(1, 256, (3, 40, 40))
    frames[:, 20:40, 40:60] = 0  # an L of 1200 px; its hull adds about half the missing square (1400 px)
    with caplog.at_level(logging.INFO, logger="echolatent.io.sector"):
        sector = detect_sector(frames)
    assert sector.method == "convex hull" and sector.mask.dtype == bool
    assert sector.agreement == pytest.approx(1200 / 1400, abs=0.01)


def test_a_cone_agreeing_too_little_is_named_with_its_iou(caplog) -> None:
    frames, _ = fan()
    frames[:, 50:, :60] = 0  # the fan's lower left quarter gone: its cone covers the rest at IoU 0.89
    with caplog.at_level(logging.INFO, logger="echolatent.io.sector"):
        sector = detect_sector(frames)
    assert sector.method == "convex hull"
    assert [r.getMessage() for r in caplog.records] == ["no cone fits the changing region (IoU 0.89): its convex hull "
                                                        "is used"]


@pytest.mark.parametrize(("side", "method"), [(5, "whole image"), (6, "convex hull")])
def test_a_piece_under_one_percent_keeps_the_whole_image(side, method, caplog) -> None:
    # 60 x 60 = 3600 px: a 5 x 5 piece (25 px) is under 1 % (36 px), a 6 x 6 one (36 px) is not under it
    frames = np.zeros((2, 60, 60), np.uint8)
    frames[1, 20 : 20 + side, 20 : 20 + side] = 90
    with caplog.at_level(logging.INFO, logger="echolatent.io.sector"):
        sector = detect_sector(frames)
    assert sector.method == method and sector.mask.dtype == bool
    if side == 5:
        assert sector.mask.all() and [r.getMessage() for r in caplog.records] == [
            "no changing region found (25 px): the whole image is kept"]


def test_the_change_threshold_is_passed_on() -> None:
    frames, _ = fan(t=4)
    quiet = (frames // 64).astype(np.uint8)  # values 0..3: a spread under 2 grey levels
    assert detect_sector(quiet).method == "cone"
    assert detect_sector(quiet, min_std=2.0).method == "whole image"


def test_a_wide_fan_cut_by_the_image_sides() -> None:
    # +-60 degrees in a 120 px wide image: the lower rows touch both sides and are left out of the edge fits
    frames, truth = fan(h=100, w=120, half_angle=60.0)
    sector = detect_sector(frames)
    assert sector.angles == pytest.approx((-60.0, 60.0), abs=0.5) and iou(sector.mask, truth) > 0.99


def test_a_fan_cut_by_the_image_bottom_keeps_its_corners() -> None:
    # drawn to 150 px in a 100 px high image: the arc is cut flat, the farthest radius grows towards the edges
    frames, truth = fan(h=100, w=200, half_angle=40.0, depth=150, apex=(-0.5, 99.5))
    sector = detect_sector(frames)
    assert not (truth & ~sector.mask).any() and not (sector.mask & ~truth).any()


def test_a_point_a_pixel_and_a_half_off_is_an_outlier() -> None:
    y = np.arange(20, dtype=float)
    x = 4.0 - 0.25 * y
    x[7] += 1.5
    assert _robust_line(y, x) == pytest.approx((4.0, -0.25), abs=1e-9)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())
