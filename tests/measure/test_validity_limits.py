"""Validity criteria with exact values computed by hand, and every limit checked at, just below and just above."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from measure_helpers import heart_frame
from scipy import ndimage

from echolatent.labels import Label
from echolatent.measure.validity import (
    CAMUS128_THRESHOLDS,
    CAMUS224_THRESHOLDS,
    CRITERIA,
    ValidityThresholds,
    check_validity,
    default_check_grid,
    default_thresholds,
    disconnected_pixels,
    erosion_ratio,
    frame_criteria,
    frontier_ratio,
    holes_between,
    width_ratio,
)

BG, LV, MYO, LA = Label.BG, Label.LV, Label.MYO, Label.LA
RATIOS = ("frontier_lv_bg", "frontier_myo_la", "width_ratio_lv_myo")


def _box(shape, rows, cols):
    region = np.zeros(shape, bool)
    region[rows[0] : rows[1] + 1, cols[0] : cols[1] + 1] = True
    return region


# --- the value behind each criterion, by hand ------------------------------------------------------------------


def test_frontier_ratio_counts_touching_pixels_over_the_bounding_box_width():
    first = _box((10, 10), (0, 3), (2, 6))  # 5 columns wide
    two = _box((10, 10), (4, 4), (3, 4))  # dilated: row 3, columns 2..5 -> 4 touching pixels
    assert frontier_ratio(first, two) == 4 / 5
    pair = _box((10, 10), (4, 4), (1, 2))  # dilated: row 3, columns 0..3 -> (3, 2), (3, 3)
    assert frontier_ratio(first, pair) == 2 / 5
    single = _box((10, 10), (4, 4), (1, 1))  # dilated: row 3, columns 0..2 -> only (3, 2): no frontier
    assert frontier_ratio(first, single) == 0.0
    assert frontier_ratio(first, _box((10, 10), (6, 9), (0, 9))) == 0.0  # two rows apart


def test_width_ratio_uses_the_row_through_the_centre_of_mass():
    lv = np.zeros((9, 11), bool)
    myo = _box((9, 11), (2, 6), (1, 9))  # the union is this rectangle: centre of mass (4, 5)
    for row, half in ((2, 0), (3, 0), (4, 1), (5, 2), (6, 0)):
        lv[row, 5 - half : 6 + half] = True
    myo &= ~lv
    assert width_ratio(lv, myo) == 3 / 6  # row 4: 3 LV, 6 MYO (row 5 would give 5 / 4, column 5 is no row)
    lv[4] = False
    myo[4, 1:10] = True
    assert np.isnan(width_ratio(lv, myo))  # no LV on that row


def _dumbbell(small_side):
    """A 7 x 7 square joined by a 1-px neck (3 long) to a ``small_side`` square; padded by 2."""
    myo = np.zeros((11, 20), bool)
    myo[2:9, 2:9] = True
    myo[5, 9:12] = True
    top = 5 - small_side // 2
    myo[top : top + small_side, 12 : 12 + small_side] = True
    return myo


def test_erosion_ratio_by_hand():
    # one 3x3 erosion cuts the neck: 1 erosion; the 7 x 7 square's deepest pixel is 4 px from outside
    assert erosion_ratio(_dumbbell(7), 1.0) == 1 / 4
    # a 3 x 3 square: its 1-px remnant is debris when pieces of 2 px count, so erosion goes on until the 7 x 7
    # square (5x5, 3x3, 1x1) vanishes at the 4th erosion
    assert erosion_ratio(_dumbbell(3), 2.0) == 4 / 4
    assert erosion_ratio(_dumbbell(3), 1.0) == 1 / 4
    two_pieces = _box((12, 12), (1, 4), (1, 4)) | _box((12, 12), (7, 10), (7, 10))
    assert erosion_ratio(two_pieces, 1.0) == 0.0


def test_erosion_ratio_matches_repeated_binary_erosion():
    """Independent route: scipy's binary_erosion applied until the region splits, and a brute-force distance."""
    myo = heart_frame(size=64, length=24, half_width=10, wall=4, la_height=10) == MYO
    region, count = myo.copy(), 0
    while ndimage.label(region, structure=np.ones((3, 3)))[1] == 1:
        region = ndimage.binary_erosion(region, np.ones((3, 3)), border_value=0)
        count += 1
    inside, outside = np.argwhere(myo), np.argwhere(~np.pad(myo, 1)) - 1
    thickness = np.sqrt(((inside[:, None] - outside[None]) ** 2).sum(-1)).min(1).max()
    assert erosion_ratio(myo, 1.0) == pytest.approx(count / thickness, rel=1e-12)


def test_disconnected_pixels_are_those_outside_the_largest_8_connected_piece():
    region = _box((12, 12), (0, 2), (0, 2)) | _box((12, 12), (6, 7), (6, 7)) | _box((12, 12), (10, 10), (10, 11))
    assert disconnected_pixels(region) == 4 + 2
    diagonal = np.zeros((4, 4), bool)
    diagonal[0, 0] = diagonal[1, 1] = True
    assert disconnected_pixels(diagonal) == 0.0


@pytest.mark.parametrize(
    ("gap", "min_pixels", "expected"), [(4, 4.0, 0.0), (5, 4.0, 5.0), (5, 5.0, 0.0), (6, 5.0, 6.0)]
)
def test_holes_between_counts_only_above_the_minimum(gap, min_pixels, expected):
    first = np.zeros((8, 12), bool)  # a U of LV (open at the top) closed by a bar of MYO: a 1 x gap hole
    first[2:4, 1] = first[2:4, 2 + gap] = first[3, 1 : 3 + gap] = True
    second = np.zeros_like(first)
    second[1, 1 : 3 + gap] = True
    assert holes_between(first, second, min_pixels) == expected
    assert holes_between(second, first, min_pixels) == expected


def test_a_hole_of_one_structure_alone_is_no_hole_between():
    first = _box((9, 9), (1, 5), (1, 5)) & ~_box((9, 9), (2, 4), (2, 4))  # a ring around 9 empty pixels
    second = _box((9, 9), (6, 7), (1, 5))  # beside it
    assert holes_between(first, second, 0.0) == 0.0
    second[3, 3] = True  # one pixel of the other inside: the 8 empty pixels are a gap between the two
    assert holes_between(first, second, 0.0) == 8.0


def test_frame_criteria_exact_on_a_heart_with_drawn_defects():
    frame = heart_frame()
    clean = frame_criteria(frame)
    frame[50, 60] = BG  # one LV pixel
    frame[5, 5] = MYO  # one island
    frame[6, 6] = MYO  # diagonal to it: the same island, 2 px
    values = frame_criteria(frame)
    assert values["holes_lv"] == 1.0 and values["holes_epi"] == 1.0
    assert values["disconnected_myo"] == 2.0
    assert values["holes_la"] == clean["holes_la"] == 0.0
    assert values["disconnected_lv"] == values["disconnected_la"] == 0.0
    assert list(values) == list(CRITERIA)


@pytest.mark.parametrize("missing", [LV, MYO, LA])
def test_missing_structure_gives_nan_for_the_criteria_that_need_it(missing):
    frame = heart_frame()
    frame[frame == missing] = BG
    values = frame_criteria(frame)
    needs = {
        LV: {"holes_lv", "holes_epi", "disconnected_lv", "holes_lv_myo", "holes_lv_la", "frontier_lv_bg",
             "width_ratio_lv_myo"},
        MYO: {"holes_epi", "disconnected_myo", "holes_lv_myo", "frontier_myo_la", "width_ratio_lv_myo",
              "erosion_ratio_myo"},
        LA: {"holes_la", "disconnected_la", "holes_lv_la", "frontier_myo_la"},
    }[missing]
    assert {name for name, value in values.items() if np.isnan(value)} == needs
    report = check_validity(frame[None], ValidityThresholds.published())
    assert needs <= set(report.failures(0))  # (without MYO the LV also touches the background)


# --- each limit at, just below and just above its value ------------------------------------------------------


@pytest.mark.parametrize("name", RATIOS)
def test_upper_limits_pass_at_the_value_and_fail_just_below(name):
    frame = heart_frame()[None]
    value = check_validity(frame, ValidityThresholds.published()).criteria[name][0]
    assert value > 0
    base = replace(ValidityThresholds.published(), erosion_ratio_myo=0.0)
    for limit, ok in ((value, True), (np.nextafter(value, np.inf), True), (np.nextafter(value, -np.inf), False)):
        report = check_validity(frame, replace(base, **{name: float(limit)}))
        assert report.passed[name][0] == ok, (name, limit)
        assert report.failures(0) == ([] if ok else [name])
        assert report.valid[0] == ok


def test_erosion_limit_passes_at_the_value_and_fails_just_above():
    frame = heart_frame()[None]
    value = check_validity(frame, ValidityThresholds.published()).criteria["erosion_ratio_myo"][0]
    assert value > 0
    base = ValidityThresholds(frontier_lv_bg=9.0, frontier_myo_la=9.0, width_ratio_lv_myo=99.0)
    for limit, ok in ((value, True), (np.nextafter(value, -np.inf), True), (np.nextafter(value, np.inf), False)):
        report = check_validity(frame, replace(base, erosion_ratio_myo=float(limit)))
        assert report.failures(0) == ([] if ok else ["erosion_ratio_myo"])
        assert report.valid[0] == ok


@pytest.mark.parametrize(
    ("name", "draw"),
    [
        ("holes_lv", lambda f: f.__setitem__((50, 60), BG)),
        ("holes_la", lambda f: f.__setitem__((90, 64), BG)),
        ("disconnected_lv", lambda f: f.__setitem__((3, 3), LV)),
        ("disconnected_myo", lambda f: f.__setitem__((3, 3), MYO)),
        ("disconnected_la", lambda f: f.__setitem__((3, 3), LA)),
    ],
)
def test_count_criteria_allow_zero_and_fail_at_one_pixel(name, draw):
    frame = heart_frame()
    defect = frame.copy()
    draw(defect)
    report = check_validity(np.stack([frame, defect]), ValidityThresholds.published())
    assert report.criteria[name].tolist() == [0.0, 1.0]
    assert report.passed[name].tolist() == [True, False]
    assert report.valid.tolist() == [True, False]


def test_holes_between_limit_on_a_128_frame_is_one_pixel():
    """H*W/2^14 = 1 px on a 128 x 128 frame: a 1-px gap is ignored, a 2-px gap fails."""
    frame = heart_frame()  # LV base on row 79, LA below
    cols = np.flatnonzero(frame[79] == LV)
    middle = cols[len(cols) // 2]
    one, two = frame.copy(), frame.copy()
    one[79, middle] = BG
    two[79, middle : middle + 2] = BG
    report = check_validity(np.stack([frame, one, two]), ValidityThresholds.published())
    assert report.criteria["holes_lv_la"].tolist() == [0.0, 0.0, 2.0]
    assert report.passed["holes_lv_la"].tolist() == [True, True, False]


# --- the limits themselves -----------------------------------------------------------------------------------


def test_published_limits_are_the_papers():
    published = ValidityThresholds.published()
    assert (published.frontier_lv_bg, published.frontier_myo_la) == (0.4, 0.11)
    assert (published.width_ratio_lv_myo, published.erosion_ratio_myo) == (4.15, 0.12)
    assert published.grid is None


def test_calibration_is_max_times_margin_and_min_times_margin():
    frames = np.stack([heart_frame(), heart_frame(half_width=16, wall=8), heart_frame(length=40, wall=4)])
    values = check_validity(frames, ValidityThresholds.published()).criteria
    tight = ValidityThresholds(frontier_lv_bg=0.0, frontier_myo_la=0.0, width_ratio_lv_myo=0.0, erosion_ratio_myo=9.0)
    calibrated = ValidityThresholds.calibrate(frames, margin=0.1, base=tight)
    for name in RATIOS:
        assert getattr(calibrated, name) == pytest.approx(values[name].max() * 1.1, rel=1e-12), name
    assert calibrated.erosion_ratio_myo == pytest.approx(values["erosion_ratio_myo"].min() * 0.9, rel=1e-12)
    median = ValidityThresholds.calibrate(frames, quantile=0.5, margin=0.0, base=tight)
    assert median.width_ratio_lv_myo == pytest.approx(np.median(values["width_ratio_lv_myo"]), rel=1e-12)
    assert median.erosion_ratio_myo == pytest.approx(np.median(values["erosion_ratio_myo"]), rel=1e-12)
    loose = ValidityThresholds(frontier_lv_bg=5.0, frontier_myo_la=5.0, width_ratio_lv_myo=50.0, erosion_ratio_myo=0.0)
    kept = ValidityThresholds.calibrate(frames, base=loose)  # already looser: nothing moves
    assert (kept.frontier_lv_bg, kept.width_ratio_lv_myo, kept.erosion_ratio_myo) == (5.0, 50.0, 0.0)
    assert kept.grid == (128, 128) and "3 reference masks" in kept.note


@pytest.mark.parametrize(
    ("grid", "limits", "check_grid"),
    [
        ((100, 100), CAMUS128_THRESHOLDS, None),
        ((160, 160), CAMUS128_THRESHOLDS, None),  # log distance to 128^2: 0.45, to 224^2: 0.67
        ((180, 180), CAMUS224_THRESHOLDS, None),  # 0.68 vs 0.44
        ((131, 219), CAMUS224_THRESHOLDS, None),  # 28689 px: above 128 * 224 (the log midpoint)
        ((127, 225), CAMUS128_THRESHOLDS, None),  # 28575 px, just below
        ((300, 100), CAMUS224_THRESHOLDS, None),  # rows times columns, not columns squared
        ((300, 300), CAMUS224_THRESHOLDS, None),  # 0.58 to 224^2, 1.54 to 700 x 600
        ((370, 370), CAMUS224_THRESHOLDS, None),  # 136900 px, below the midpoint 145167 with 700 x 600
        ((400, 400), CAMUS224_THRESHOLDS, (224, 224)),  # 1.16 vs 0.97: native size, checked at 224
        ((843, 583), CAMUS224_THRESHOLDS, (224, 224)),
    ],
)
def test_default_limits_and_check_grid_by_nearest_pixel_count(grid, limits, check_grid):
    assert default_thresholds(grid) is limits
    assert default_check_grid(grid) == check_grid


def test_holes_between_with_diagonal_holes_and_holes_of_the_second():
    first = _box((7, 7), (1, 4), (1, 4)) & ~_box((7, 7), (2, 3), (2, 3))
    first[2, 3] = first[3, 2] = True  # its hole: (2, 2) and (3, 3), one 8-connected piece
    second = np.zeros_like(first)
    second[2, 2] = True  # inside that hole: the rest of it, (3, 3), is a gap between the two
    assert holes_between(first, second, 0.0) == 1.0
    ring = _box((7, 7), (0, 2), (4, 6)) & ~_box((7, 7), (1, 1), (5, 5))  # a second region with its own hole
    assert holes_between(first, second | ring, 0.0) == 1.0
    assert holes_between(second | ring, first, 0.0) == 1.0


def test_calibration_skips_undefined_and_zero_values():
    frames = np.stack([heart_frame(), heart_frame(half_width=16, wall=8)])
    values = check_validity(frames, ValidityThresholds.published()).criteria
    split = heart_frame()
    split[60:62][split[60:62] == MYO] = BG  # MYO in two pieces: erosion ratio 0, left out
    no_myo = heart_frame()
    no_myo[no_myo == MYO] = BG  # every MYO criterion undefined
    assert check_validity(split[None], ValidityThresholds.published()).criteria["erosion_ratio_myo"][0] == 0.0
    tight = ValidityThresholds(frontier_lv_bg=9.0, frontier_myo_la=0.0, width_ratio_lv_myo=0.0, erosion_ratio_myo=9.0)
    calibrated = ValidityThresholds.calibrate([frames, split[None], no_myo[None]], margin=0.0, base=tight)
    assert calibrated.erosion_ratio_myo == values["erosion_ratio_myo"].min()
    only_no_myo = ValidityThresholds.calibrate(no_myo[None], base=tight)
    assert only_no_myo.erosion_ratio_myo == 9.0 and only_no_myo.width_ratio_lv_myo == 0.0
    assert only_no_myo.frontier_myo_la == 0.0  # no MYO value at all: the base limits are kept


def test_calibration_measures_at_the_references_own_grid():
    frames = np.repeat(np.repeat(heart_frame()[None], 3, axis=1), 3, axis=2)  # 384 x 384: default would resample
    native = check_validity(frames, ValidityThresholds.published()).criteria
    tight = ValidityThresholds(frontier_lv_bg=0.0, frontier_myo_la=0.0, width_ratio_lv_myo=0.0)
    calibrated = ValidityThresholds.calibrate(frames, margin=0.0, base=tight)
    assert calibrated.frontier_lv_bg == native["frontier_lv_bg"][0] and calibrated.grid == (384, 384)


def test_calibration_names_a_bad_reference():
    from echolatent.errors import InputError

    with pytest.raises(InputError, match="reference"):
        ValidityThresholds.calibrate(np.full((1, 8, 8), 9, np.uint8))


def test_islands_at_the_far_bottom_and_right_are_counted():
    frame = heart_frame()
    frame[127, 127] = LA  # the last row and column of the image: the crop must keep them
    frame[127, 0] = LV
    values = frame_criteria(frame)
    assert values["disconnected_la"] == 1.0 and values["disconnected_lv"] == 1.0


def test_a_hole_leaking_diagonally_is_no_hole():
    frame = heart_frame()
    ring = _box(frame.shape, (2, 8), (2, 8)) & ~_box(frame.shape, (3, 7), (3, 7))
    ring[2, 2] = False  # the corner: the inside touches the outside diagonally (8-connected)
    frame[ring] = LA
    assert frame_criteria(frame)["holes_la"] == 0.0
    frame[2, 2] = LA
    assert frame_criteria(frame)["holes_la"] == 25.0
