"""The LV's frame and landmarks against independent routes: scipy's binary dilation, the covariance matrix's
eigenvector, contours of blocks whose 0.5 level is known, the side field sampled bilinearly by hand, mirror images,
hearts drawn in mm on unequal pixels (basal points of hand-made contours: test_landmarks_basal.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from measure_helpers import ellipse
from scipy.ndimage import binary_dilation, gaussian_filter

from echolatent.labels import Label
from echolatent.measure import landmarks
from echolatent.measure.attributes import lv_landmarks
from echolatent.measure.landmarks import (
    LVFrame,
    _side,
    dilate3,
    find_landmarks,
    lv_contour,
    lv_frame,
)

SY, SX = 0.7, 0.3


@pytest.mark.parametrize("border", [False, True])
def test_dilate3_is_scipys_3x3_dilation(border):
    rng = np.random.default_rng(4)
    region = rng.random((3, 9, 11)) < 0.08
    region[1, 0, 5] = region[2, 8, 10] = True  # on the edges
    expected = np.stack([binary_dilation(r, np.ones((3, 3), bool), border_value=int(border)) for r in region])
    assert np.array_equal(dilate3(region, border=border), expected)
    assert np.array_equal(dilate3(region), dilate3(region, False))


def _coords(shape, spacing, origin=(0.0, 0.0)):
    y = (origin[0] + np.arange(shape[0]) * spacing[0])[None, :, None]
    x = (origin[1] + np.arange(shape[1]) * spacing[1])[None, None, :]
    return y, x


def _principal(lv, spacing):
    """Centre (mm) and orientation (degrees from the rows axis, in (-90, 90]) from the covariance matrix."""
    rows, cols = np.nonzero(lv)
    points = np.stack([rows * spacing[0], cols * spacing[1]])
    values, vectors = np.linalg.eigh(np.cov(points, bias=True))
    vy, vx = vectors[:, np.argmax(values)]
    angle = np.degrees(np.arctan2(vx, vy))
    angle = angle - 180 if angle > 90 else angle + 180 if angle <= -90 else angle
    return points.mean(1), angle


@pytest.mark.parametrize("angle", [-60.0, -20.0, 35.0, 80.0])
def test_lv_frame_centre_and_axis_are_the_covariance_eigenvector(angle):
    shape = (90, 200)
    lv = ellipse(shape, (30.0, 30.0), (20.0, 8.0), angle=angle, spacing=(SY, SX))
    myo = binary_dilation(lv, np.ones((3, 3), bool), iterations=3) & ~lv  # all around: no opening
    y, x = _coords(shape, (SY, SX))
    frame = lv_frame(lv[None], myo[None], lv.sum()[None].astype(float), y, x)
    centre, orientation = _principal(lv, (SY, SX))
    assert (frame.cy[0], frame.cx[0]) == pytest.approx(tuple(centre), abs=1e-9)
    assert frame.orientation[0] == pytest.approx(orientation, abs=1e-7)
    assert frame.orientation[0] == pytest.approx(angle, abs=1.5)  # the drawn tilt
    # no opening: the axis points to the image's top
    assert frame.ay[0] < 0 and np.hypot(frame.ay[0], frame.ax[0]) == pytest.approx(1.0, abs=1e-12)
    t = np.radians(orientation)
    assert (frame.ay[0], frame.ax[0]) == pytest.approx((-np.cos(t), -np.sin(t)), abs=1e-9)


def _u_heart(opening: str, shape=(40, 44)):
    """An 8 x 14 px LV in a MYO cup 3 px thick, open on one side (``"bottom"``, ``"top"``, ``"left"``, ``"right"``)."""
    frame = np.zeros(shape, np.uint8)
    frame[10:30, 12:26] = Label.MYO
    frame[13:27, 15:23] = Label.LV
    if opening == "bottom":
        frame[27:30, 15:23] = 0
    elif opening == "top":
        frame[10:13, 15:23] = 0
    elif opening == "left":
        frame[13:27, 12:15] = 0
    elif opening == "right":
        frame[13:27, 23:26] = 0
    return frame


@pytest.mark.parametrize("opening, transposed, axis", [("bottom", False, (-1, 0)), ("top", False, (1, 0)),
                                                       ("bottom", True, (0, -1)), ("top", True, (0, 1))])
def test_the_axis_points_away_from_the_opening(opening, transposed, axis):
    frame = _u_heart(opening)
    spacing = (SY, SX)
    if transposed:  # the LV lying along the columns, open on the right (bottom) or the left (top)
        frame, spacing = np.ascontiguousarray(frame.T), (SX, SY)
    lv, myo = (frame == Label.LV)[None], (frame == Label.MYO)[None]
    y, x = _coords(frame.shape, spacing, origin=(5.0, -3.0))
    found = lv_frame(lv, myo, lv.sum((1, 2)).astype(float), y, x)
    assert (found.ay[0], found.ax[0]) == pytest.approx(axis, abs=1e-12)
    rows, cols = np.nonzero(frame == Label.LV)
    assert found.cy[0] == pytest.approx(5.0 + rows.mean() * spacing[0])
    assert found.cx[0] == pytest.approx(-3.0 + cols.mean() * spacing[1])
    # the long axis along the rows (0 degrees) or the columns (90), whichever way it points
    assert found.orientation[0] == pytest.approx(90.0 if transposed else 0.0, abs=1e-9)


def test_a_frame_without_lv_is_nan_without_warnings():
    lv = np.zeros((3, 8, 8), bool)
    lv[1, 2:5, 3:6] = True
    lv[2, 6, 1] = True  # one pixel: a centre, and an orientation (arctan2(0, 0) = 0)
    y, x = _coords((8, 8), (1.0, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = lv_frame(lv, np.zeros_like(lv), lv.sum((1, 2)).astype(float), y, x)
    for values in (found.cy, found.cx, found.ay, found.ax, found.orientation):
        assert np.isnan(values[0]) and np.isfinite(values[1:]).all()
    assert (found.cy[1], found.cx[1]) == (3.0, 4.0) and (found.cy[2], found.cx[2]) == (6.0, 1.0)
    assert found.orientation[2] == 0.0


def test_frames_of_a_sequence_are_framed_one_by_one():
    closed = _u_heart("top")
    closed[10:13, 15:23] = Label.MYO  # MYO all around: the axis points up, whatever the other frames' openings
    frames = [_u_heart("bottom"), np.zeros((40, 44), np.uint8), _u_heart("top"), closed,
              np.ascontiguousarray(_u_heart("bottom", shape=(44, 40)).T)[:40, :44]]
    masks = np.stack(frames)
    lv, myo = masks == Label.LV, masks == Label.MYO
    y, x = _coords(masks.shape[1:], (SY, SX), origin=(1.0, 2.0))
    together = lv_frame(lv, myo, lv.sum((1, 2)).astype(float), y, x)
    for t in range(len(frames)):
        alone = lv_frame(lv[t:t + 1], myo[t:t + 1], lv[t:t + 1].sum((1, 2)).astype(float), y, x)
        for name in ("cy", "cx", "ay", "ax", "orientation"):
            np.testing.assert_allclose(getattr(together, name)[t], getattr(alone, name)[0], atol=1e-12)
    assert together.ay[0] == pytest.approx(-1.0) and together.ay[2] == pytest.approx(1.0)
    assert together.ay[3] == pytest.approx(-1.0)


def test_a_single_open_pixel_or_the_image_edge_sets_the_axis():
    frame = _u_heart("top")
    frame[10:13, 15:23] = Label.MYO  # closed again ...
    frame[12, 18] = Label.LV  # ... but for one LV pixel at the top that touches the outside
    frame[11, 18] = frame[10, 18] = 0
    lv, myo = (frame == Label.LV)[None], (frame == Label.MYO)[None]
    y, x = _coords(frame.shape, (SY, SX))
    found = lv_frame(lv, myo, lv.sum((1, 2)).astype(float), y, x)
    assert found.ay[0] > 0.999  # away from that pixel: down (tilted a little by the pixel)
    edge = _u_heart("top")[13:]  # the LV on the image's top edge: outside the image counts as the outside
    lv, myo = (edge == Label.LV)[None], (edge == Label.MYO)[None]
    y, x = _coords(edge.shape, (SY, SX))
    found = lv_frame(lv, myo, lv.sum((1, 2)).astype(float), y, x)
    assert (found.ay[0], found.ax[0]) == pytest.approx((1.0, 0.0), abs=1e-12)


@pytest.mark.parametrize("pixel", [0.02, 2.0])
@pytest.mark.parametrize("opening, ay", [("top", 1.0), ("bottom", -1.0)])
def test_the_opening_sets_the_axis_at_any_pixel_size(pixel, opening, ay):
    frame = _u_heart(opening)  # the opening's mean is 6.5 px from the centre: 0.13 mm at 0.02 mm per pixel
    lv, myo = (frame == Label.LV)[None], (frame == Label.MYO)[None]
    y, x = _coords(frame.shape, (pixel, pixel))
    found = lv_frame(lv, myo, lv.sum((1, 2)).astype(float), y, x)
    assert (found.ay[0], found.ax[0]) == pytest.approx((ay, 0.0), abs=1e-12)


def test_a_hole_near_the_centre_does_not_turn_the_axis():
    frame = _u_heart("bottom")  # LV rows 13-26 (centre 19.5 without the hole), open below
    frame[18, 18] = 0  # a hole 1.5 rows above the centre: 8 LV pixels around it touch the outside
    lv, myo = (frame == Label.LV)[None], (frame == Label.MYO)[None]
    y, x = _coords(frame.shape, (1.0, 1.0))
    found = lv_frame(lv, myo, lv.sum((1, 2)).astype(float), y, x)
    # the opening's mean: 8 pixels 7 rows below the centre, 8 about 1.5 rows above: below, so the axis points up
    assert found.ay[0] < -0.99


@pytest.mark.parametrize("origin, pixel", [((0.0, 0.0), 0.1), ((39.9, 27.93), 1.0)])
def test_a_square_lv_has_no_sign_from_rounding(origin, pixel):
    lv = np.zeros((1, 20, 20), bool)
    # 7 x 7 px: var_y = var_x, cov 0 up to rounding (-2e-16, and -2e-13 with var_y + var_x = 8 mm2: below
    # 1e-12 times the variance, as rounding errors grow with it, above 1e-12 divided by it)
    lv[0, 5:12, 6:13] = True
    myo = dilate3(dilate3(lv)) & ~lv  # closed: the axis points to the image's top
    y, x = _coords((20, 20), (pixel, pixel), origin)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no opening: 0 / 0 for its mean, silently
        found = lv_frame(lv, myo, lv.sum((1, 2)).astype(float), y, x)
    assert found.orientation[0] == 0.0 and (found.ay[0], found.ax[0]) == (-1.0, 0.0)


def test_the_contour_is_the_half_level_not_the_middle_of_the_values():
    indicator = np.zeros((10, 10))
    indicator[2:6, 3:8] = 0.8  # 0 -> 0.8 between rows 1 and 2: 0.5 is reached 5/8 of the way
    contour = lv_contour(indicator)
    assert contour[:, 0].min() == pytest.approx(1.625) and contour[:, 0].max() == pytest.approx(5.375)
    assert contour[:, 1].min() == pytest.approx(2.625) and contour[:, 1].max() == pytest.approx(7.375)


def test_contour_of_a_block_lies_half_a_pixel_outside():
    indicator = np.zeros((12, 14))
    indicator[2:6, 3:8] = 1.0
    contour = lv_contour(indicator)
    assert (contour[:, 0].min(), contour[:, 0].max(), contour[:, 1].min(), contour[:, 1].max()) == (1.5, 5.5, 2.5, 7.5)
    assert not np.allclose(contour[0], contour[-1]) and len(np.unique(contour, axis=0)) == len(contour)
    edge = np.zeros((6, 6))
    edge[:3, :4] = 1.0  # on the image's corner: closed through the padding
    contour = lv_contour(edge)
    extent = (contour[:, 0].min(), contour[:, 0].max(), contour[:, 1].min(), contour[:, 1].max())
    assert extent == (-0.5, 2.5, -0.5, 3.5)
    two = np.zeros((20, 20))
    two[1:3, 1:3] = 1.0
    two[8:16, 5:15] = 1.0  # the longer contour is kept
    assert lv_contour(two)[:, 0].min() == 7.5
    assert lv_contour(np.zeros((5, 5))).shape == (0, 2)


def _heart_mm(shape=(150, 260), centre=(70.0, 40.0), length=36.0, half_width=12.0, wall=4.0):
    rows = np.arange(shape[0])[:, None] * SY
    above = np.broadcast_to(rows <= centre[0], shape)
    frame = np.zeros(shape, np.uint8)
    frame[ellipse(shape, centre, (length + wall, half_width + wall), spacing=(SY, SX)) & above] = Label.MYO
    frame[ellipse(shape, centre, (length, half_width), spacing=(SY, SX)) & above] = Label.LV
    return frame


def test_landmarks_of_a_half_ellipse_drawn_in_mm():
    frame = _heart_mm()
    marks = lv_landmarks(frame[None], (SY, SX))
    base_row = np.flatnonzero((frame == Label.LV).any(1)).max() * SY  # the last LV row (mm)
    # left: the smaller across coordinate, i.e. the larger column with the apex up
    assert marks.left[0] == pytest.approx([base_row, 40.0 + 12.0], abs=SY)
    assert marks.right[0] == pytest.approx([base_row, 40.0 - 12.0], abs=SY)
    assert marks.apex[0] == pytest.approx([70.0 - 36.0, 40.0], abs=SY)
    mirrored = lv_landmarks(frame[None, :, ::-1], (SY, SX))  # columns reversed: x -> (W - 1) sx - x
    width = (frame.shape[1] - 1) * SX
    assert mirrored.left[0] == pytest.approx([marks.right[0, 0], width - marks.right[0, 1]], abs=1e-9)
    assert mirrored.right[0] == pytest.approx([marks.left[0, 0], width - marks.left[0, 1]], abs=1e-9)
    assert mirrored.apex[0] == pytest.approx([marks.apex[0, 0], width - marks.apex[0, 1]], abs=1e-9)


def test_unequal_spacing_enters_every_landmark():
    frame = _heart_mm()
    marks = lv_landmarks(frame[None], (SY, SX))
    swapped = lv_landmarks(np.ascontiguousarray(frame.T)[None], (SX, SY))  # the same heart, axes swapped
    for name in ("left", "right", "apex"):
        got = getattr(swapped, name)[0][::-1]
        want = getattr(marks, name)[0]
        if name != "apex":  # the axis is now across the columns: left and right trade places
            want = getattr(marks, "right" if name == "left" else "left")[0]
        assert got == pytest.approx(want, abs=1e-6), name


def test_frames_without_lv_or_myo_or_contour_have_nan_landmarks():
    frame = _heart_mm()
    no_myo = np.where(frame == Label.MYO, 0, frame).astype(np.uint8)
    tiny = np.zeros_like(frame)
    tiny[40, 40] = Label.LV  # one pixel: its smoothed indicator stays below 0.5
    tiny[41, 40] = Label.MYO
    marks = lv_landmarks(np.stack([tiny, frame, np.zeros_like(frame), no_myo, frame]), (SY, SX))
    alone = lv_landmarks(frame[None], (SY, SX))  # each frame is measured on its own: no smoothing across frames
    for t in (1, 4):
        for name in ("left", "right", "apex"):
            assert getattr(marks, name)[t] == pytest.approx(getattr(alone, name)[0], abs=1e-9), (t, name)
    for t in (0, 2, 3):
        assert np.isnan(marks.left[t]).all() and np.isnan(marks.right[t]).all() and np.isnan(marks.apex[t]).all()


def test_flipped_upside_down_the_landmarks_follow():
    frame = _heart_mm()
    marks = lv_landmarks(frame[None], (SY, SX))
    flipped = lv_landmarks(frame[None, ::-1], (SY, SX))  # rows reversed: y -> (H - 1) sy - y, the apex down
    height = (frame.shape[0] - 1) * SY
    # the axis now points down: across = x - cx, so left (negative across) is now the point of smaller column
    for name, was in (("left", "right"), ("right", "left"), ("apex", "apex")):
        want = getattr(marks, was)[0]
        assert getattr(flipped, name)[0] == pytest.approx([height - want[0], want[1]], abs=1e-9), name
    assert flipped.frame.ay[0] == pytest.approx(1.0) and marks.frame.ay[0] == pytest.approx(-1.0)


def test_find_landmarks_keeps_the_frame_it_was_given():
    frame = _heart_mm()
    lv, myo = (frame == Label.LV)[None], (frame == Label.MYO)[None]
    y, x = _coords(frame.shape, (SY, SX), origin=(2.0, 3.0))
    lv_axes = lv_frame(lv, myo, lv.sum((1, 2)).astype(float), y, x)
    marks = find_landmarks(lv, myo, lv_axes, y, x, (SY, SX))
    assert marks.frame is lv_axes
    base = lv_landmarks(frame[None], (SY, SX))  # origin 0: every point 2 mm lower, 3 mm further right
    for name in ("left", "right", "apex"):
        assert getattr(marks, name)[0] == pytest.approx(getattr(base, name)[0] + [2.0, 3.0], abs=1e-9), name


def test_along_and_across_the_axis_by_hand():
    frame = LVFrame(np.array([1.0, 0.0]), np.array([2.0, 0.0]), np.array([0.6, -1.0]), np.array([0.8, 0.0]),
                    np.array([53.13, 0.0]))
    y, x = np.array([[[4.0]]]), np.array([[[6.0, 2.0]]])  # points (4, 6) and (4, 2)
    # frame 0: (3, 4) from the centre: along 3 * 0.6 + 4 * 0.8 = 5, across 4 * 0.6 - 3 * 0.8 = 0
    #          (3, 0): along 1.8, across -2.4; frame 1 (axis up): along -4, across -6 and -2
    np.testing.assert_allclose(frame.along(y, x), [[[5.0, 1.8]], [[-4.0, -4.0]]], atol=1e-12)
    np.testing.assert_allclose(frame.across(y, x), [[[0.0, -2.4]], [[-6.0, -2.0]]], atol=1e-12)


def _bilinear(field, points):
    """Bilinear interpolation of ``field (H, W)`` at ``points (N, 2)`` (row, col), by hand."""
    r0, c0 = np.floor(points).astype(int).T
    fr, fc = points[:, 0] - r0, points[:, 1] - c0
    r1, c1 = np.minimum(r0 + 1, field.shape[0] - 1), np.minimum(c0 + 1, field.shape[1] - 1)
    return ((1 - fr) * (1 - fc) * field[r0, c0] + (1 - fr) * fc * field[r0, c1] + fr * (1 - fc) * field[r1, c0]
            + fr * fc * field[r1, c1])


def test_side_is_the_smoothed_myo_minus_outside_sampled_bilinearly():
    frame = _heart_mm(shape=(80, 140), centre=(29.0, 20.0), length=26.0)  # the MYO reaches the image's top
    assert (frame[0] == Label.MYO).any()
    lv, myo = frame == Label.LV, frame == Label.MYO
    contour = lv_contour(gaussian_filter(lv.astype(float), (0.7, 0.7 * SY / SX)))
    sigma = max(0.05 * np.sqrt(lv.sum() * SY * SX), 2.0 * SY)  # mm: 5 % of the root of the LV's area, >= 2 px
    difference = myo.astype(float) - (~(lv | myo)).astype(float)
    field = gaussian_filter(difference, (sigma / SY, sigma / SX), mode="nearest")
    np.testing.assert_allclose(_side(lv, myo, contour, (SY, SX)), _bilinear(field, contour), atol=1e-12)


def test_a_myo_a_pixel_thick_is_found_with_the_contour_sigma():
    lv = np.zeros((14, 16), bool)
    lv[5:9, 6:10] = True
    myo = dilate3(lv[None])[0] & ~lv
    myo[9:] = False  # one pixel thick on three sides, open below
    difference = myo.astype(float) - (~(lv | myo)).astype(float)
    contour = lv_contour(gaussian_filter(lv.astype(float), (0.7, 0.7 * SY / SX)))
    side = _side(lv, myo, contour, (SY, SX))
    wide = max(0.05 * np.sqrt(16 * SY * SX), 2.0 * SY)
    assert not (_bilinear(gaussian_filter(difference, (wide / SY, wide / SX), mode="nearest"), contour) > 0).any()
    narrow = gaussian_filter(difference, (0.7, 0.7 * SY / SX), mode="nearest")  # 0.7 px of the coarser axis
    np.testing.assert_allclose(side, _bilinear(narrow, contour), atol=1e-12)
    assert (side > 0).any()
    np.testing.assert_allclose(_side(lv, myo, contour, (2 * SY, 2 * SX)), side, atol=1e-12)  # in pixels alike


def test_contour_sigma_is_in_pixels_of_the_coarser_axis():
    assert landmarks.CONTOUR_SIGMA == 0.7 and landmarks.SIDE_SIGMA_MIN == 2.0 and landmarks.SIDE_SIGMA == 0.05
