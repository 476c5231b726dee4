"""Basal points, junctions and apex of hand-made contours: the ends of the longest outside stretch (in mm along
the contour, wrapping past the first point, zeros counted as the outside), interpolated by hand where the side crosses
0; basal corners of a closed LV; the apex at and around the base line's limit."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.measure.landmarks import _apex, _basal_points, _junction


def test_junction_is_interpolated_where_side_crosses_zero():
    points = np.array([[0.0, 0.0], [0.0, 2.0], [1.0, 2.0], [3.0, 2.0]])
    side = np.array([-1.0, -3.0, 1.0, 2.0])
    # from point 1 (side -3) to point 2 (side 1): 3/4 of the way
    assert _junction(points, side, 1, 1) == pytest.approx([0.75, 2.0])
    # from point 0 (side -1) back to point 3 (wrapping, side 2): 1/3 of the way
    assert _junction(points, side, 0, -1) == pytest.approx([1.0, 2.0 / 3.0])


def _square(n=4):
    """Counter-clockwise points of a square's edge, ``n`` per side, centred on 0 (side 2n, step 1)."""
    side = np.arange(n) - n / 2.0
    top = np.stack([np.full(n, -n / 2.0), side])
    right = np.stack([side, np.full(n, n / 2.0)])
    bottom = np.stack([np.full(n, n / 2.0), -side])
    left = np.stack([-side, np.full(n, -n / 2.0)])
    return np.concatenate([top, right, bottom, left], axis=1).T


def test_the_basal_points_are_the_ends_of_the_longest_outside_stretch():
    points = _square(4)  # 16 points, side 4, corners at +-2
    axis = np.array([-1.0, 0.0])  # apex up: the base is at the bottom (row +2)
    side = np.ones(16)
    side[[9, 10, 11, 12]] = -1.0  # the bottom side's points (2, 1), (2, 0), (2, -1), (2, -2): a stretch of 3
    side[[1]] = -0.5  # a single outside point on the top: a stretch of 0
    left, right = _basal_points(points, side, axis)
    # ends: between 8 (2, 2) and 9 (2, 1), and between 12 (2, -2) and 13 (1, -2), each at half way
    assert left == pytest.approx([2.0, 1.5]) and right == pytest.approx([1.5, -2.0])
    side[[1, 2, 3, 4, 5]] = [-2.0, -2.0, -2.0, -2.0, -2.0]  # now the top and right side: longer (4)
    side[0] = 2.0
    first, second = _basal_points(points, side, axis)
    # between 0 (-2, -2) [side 2] and 1 [-2]: half way; between 5 (-1, 2) [-2] and 6 (0, 2) [side 1]: 2/3
    # left: the smaller across (-x), i.e. the larger column
    assert first == pytest.approx([-1.0 + 2 / 3, 2.0]) and second == pytest.approx([-2.0, -1.5])


def test_an_outside_stretch_wrapping_past_the_first_point():
    points = _square(4)
    side = np.ones(16)
    side[[14, 15, 0, 1]] = -1.0  # wraps around the index 0
    left, right = _basal_points(points, side, np.array([1.0, 0.0]))  # the apex down
    assert {tuple(left), tuple(right)} == {tuple((points[13] + points[14]) / 2), tuple((points[1] + points[2]) / 2)}


def test_an_lv_closed_by_myo_has_its_basal_corners():
    points = _square(4)
    left, right = _basal_points(points, np.ones(16), np.array([-1.0, 0.0]))  # apex up
    # across = -x: the half across < 0 is x > 0; largest |x| - along (along = -y): the bottom corners
    assert left == pytest.approx([2.0, 2.0]) and right == pytest.approx([2.0, -2.0])
    nowhere = _basal_points(points, -np.ones(16), np.array([-1.0, 0.0]))  # MYO nowhere
    assert nowhere.shape == (2, 2) and np.isnan(nowhere).all()


def test_basal_corners_with_a_point_on_the_axis():
    points = np.array([[0.0, -1.0], [3.0, 0.0], [0.0, 1.0], [-2.0, 0.0]])  # a kite, its lowest point on the axis
    left, right = _basal_points(points, np.ones(4), np.array([-1.0, 0.0]))  # across = -x, along = -y
    # across < 0: only (0, 1), |across| - along = 1; across >= 0: (3, 0) scores 3, (0, -1) 1, (-2, 0) -2
    assert left == pytest.approx([0.0, 1.0]) and right == pytest.approx([3.0, 0.0])


def test_zero_sides_count_as_the_outside_in_the_stretch_lengths():
    points = _square(4)
    side = np.ones(16)
    side[[1, 2, 3, 4]] = [0.0, -1.0, -1.0, 0.0]  # 3 steps with its zeros, 1 without
    side[[9, 10, 11]] = -1.0  # 2 steps
    ends = _basal_points(points, side, np.array([1.0, 0.0]))
    assert sorted(map(tuple, ends)) == sorted([tuple(points[1]), tuple(points[4])])


def test_a_stretch_after_a_single_myo_point():
    points = _square(4)
    side = np.ones(16)
    side[[0, 1]] = -1.0  # a short stretch, one MYO point (2), then a long one
    side[[3, 4, 5, 6]] = -1.0
    ends = _basal_points(points, side, np.array([1.0, 0.0]))
    expected = [(points[2] + points[3]) / 2, (points[6] + points[7]) / 2]
    assert sorted(map(tuple, ends)) == sorted(map(tuple, expected))


def test_a_zero_side_is_the_outside():
    points = _square(4)
    side = np.ones(16)
    side[[9, 10, 11]] = [0.0, -1.0, 0.0]  # 0 at both ends of the stretch: the junctions are those points
    left, right = _basal_points(points, side, np.array([-1.0, 0.0]))
    assert left == pytest.approx(points[9]) and right == pytest.approx(points[11])


def test_a_single_outside_point_and_equally_long_stretches():
    points = _square(4)
    side = np.ones(16)
    side[6] = -1.0  # point (0, 2): a stretch of length 0, its junctions half way to either neighbour
    left, right = _basal_points(points, side, np.array([0.0, -1.0]))  # the apex on the left
    assert {tuple(left), tuple(right)} == {(-0.5, 2.0), (0.5, 2.0)}
    side = np.ones(16)
    side[[1, 2]] = side[[9, 10]] = -1.0  # two stretches one step long: the first found is kept
    ends = _basal_points(points, side, np.array([-1.0, 0.0]))
    assert sorted(map(tuple, ends)) == [(-2.0, -1.5), (-2.0, 0.5)]


def test_the_longest_stretch_is_measured_in_mm_along_the_contour():
    # two outside stretches: 2 points 5 mm apart, and 4 points 1 mm apart (3 mm): the first is the opening
    points = np.array([[0.0, 0.0], [0.0, 5.0], [1.0, 6.0], [2.0, 6.0], [3.0, 6.0], [4.0, 6.0], [5.0, 5.0],
                       [5.0, 0.0], [2.5, -1.0]])
    side = np.array([-1.0, -1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0, 1.0])
    # stretch A: points 0-1 (5 mm); stretch B: points 3-6 (1 + 1 + hypot(1, 1) = 3.41 mm)
    ends = _basal_points(points, side, np.array([0.0, 1.0]))
    expected = [(points[8] + points[0]) / 2, (points[1] + points[2]) / 2]
    assert sorted(map(tuple, ends)) == sorted(map(tuple, expected))


def test_basal_corners_on_one_side_only():
    points = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 1.0]])  # all at x > 0: across = -x < 0 with the axis up
    out = _basal_points(points, np.ones(3), np.array([-1.0, 0.0]))
    assert out[0] == pytest.approx([1.0, 2.0]) and np.isnan(out[1]).all()


def test_the_apex_is_the_farthest_point_on_the_apex_side():
    points = np.array([[0.0, 0.0], [-3.0, 1.0], [-2.0, -2.5], [1.0, 5.0], [0.0, 4.0]])
    axis = np.array([-1.0, 0.0])
    left, right = np.array([0.0, -1.0]), np.array([0.0, 1.0])  # base midpoint (0, 0)
    assert _apex(points, left, right, axis, 1.0) == pytest.approx([0.0, 4.0])  # on the base line, 4 away
    assert _apex(points[:3], left, right, axis, 1.0) == pytest.approx([-2.0, -2.5])  # 3.20 > 3.16
    for nothing in (_apex(points[3:4], left, right, axis, 1.0),  # below the base only
                    _apex(points, np.array([np.nan, 0.0]), right, axis, 1.0)):
        assert nothing.shape == (2,) and np.isnan(nothing).all()
    # within rounding of the base line (1e-9 of a pixel): on it
    near = np.array([[1e-10, 4.0], [-0.5, 0.0]])
    assert _apex(near, left, right, axis, 1.0) == pytest.approx([1e-10, 4.0])
    assert _apex(near, left, right, axis, 0.01) == pytest.approx([-0.5, 0.0])
    at_limit = np.array([[1e-9, 4.0], [-0.5, 0.0]])  # exactly 1e-9 pixel below the base line: not above it
    assert _apex(at_limit, left, right, axis, 1.0) == pytest.approx([-0.5, 0.0])
