"""GLS by independent routes: exact scale equivariance in mm, the long-axis-only shortening of a stretched heart,
arc lengths on hand-drawn polylines, the contour of an analytic field, every reason of a NaN and the limits."""

from __future__ import annotations

import dataclasses
import logging
import warnings

import numpy as np
import pytest
from measure_helpers import heart_frame
from scipy.integrate import quad

from echolatent.labels import Label
from echolatent.measure import strain
from echolatent.measure.strain import (
    _lv_contour,
    arc_length,
    endocardial_length,
    global_longitudinal_strain,
    strain_curve,
)


def half_perimeter(a: float, b: float) -> float:
    """Length of half an ellipse with semi-axes ``a`` (long) and ``b``, from one end of ``b`` to the other."""
    return quad(lambda t: np.hypot(a * np.sin(t), b * np.cos(t)), 0, np.pi)[0]


def heart(length: float = 50, half_width: float = 20) -> np.ndarray:
    return heart_frame(size=128, length=length, half_width=half_width, wall=6)


@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_length_scales_exactly_with_an_equal_spacing(factor):
    # the same pixels at a spacing c times larger: every length in mm is c times larger (the smoothing is one pixel)
    masks = heart()[None]
    one, _ = endocardial_length(masks, (1.0, 1.0))
    scaled, _ = endocardial_length(masks, (factor, factor))
    assert one[0] == pytest.approx(half_perimeter(50, 20), rel=0.02)
    assert scaled[0] == pytest.approx(factor * one[0], rel=1e-9)


def test_long_axis_shortening_of_a_stretched_heart_is_measured_in_mm():
    # ED: LV half-ellipse 60 x 25 mm; ES: 48 x 25 mm (long axis only). Drawn with rows of 0.5 mm (stretched twice
    # along the rows): in pixels the ratio would be that of 120/96 x 25 half-ellipses, in mm that of 60/48 x 25.
    size = 200
    ed = heart_frame(size=size, length=120, half_width=25, wall=10, la_height=30, base_row=150)
    es = heart_frame(size=size, length=96, half_width=25, wall=10, la_height=30, base_row=150)
    result = global_longitudinal_strain(np.stack([ed, es]), (0.5, 1.0), es=1)
    np.testing.assert_allclose(result.length, [half_perimeter(60, 25), half_perimeter(48, 25)], rtol=0.02)
    expected = 100 * (half_perimeter(48, 25) / half_perimeter(60, 25) - 1)  # -15.1 %; in pixels -17.3 %
    assert 100 * (half_perimeter(96, 25) / half_perimeter(120, 25) - 1) < expected - 2
    assert result.gls_es == pytest.approx(expected, abs=0.5)
    np.testing.assert_allclose(result.strain, 100 * (result.length / result.length[0] - 1), rtol=1e-12)


def test_ed_at_another_frame_and_es_at_frame_zero():
    masks = np.stack([heart(40, 16), heart(50, 20), heart(45, 18)])
    result = global_longitudinal_strain(masks, ed=1, es=0)
    assert result.ed == 1 and result.es == 0 and result.strain[1] == 0
    assert result.gls_es == pytest.approx(100 * (half_perimeter(40, 16) / half_perimeter(50, 20) - 1), abs=0.5)
    assert result.gls_peak == result.gls_es


@pytest.mark.parametrize("es", [3, -1])
def test_es_outside_the_frames_is_a_value_error(es):
    masks = np.stack([heart(), heart(45, 18), heart(40, 16)])
    with pytest.raises(ValueError, match=f"es must index the 3 frames, got {es}"):
        global_longitudinal_strain(masks, es=es)


def test_strain_curve_values_limits_and_silent_division():
    length = np.array([80, 60, 100])  # integers: the strain is still exact
    np.testing.assert_array_equal(strain_curve(length, ed=2), [-20.0, -40.0, 0.0])
    single = strain_curve(np.array([3.0, 1.0], np.float32))  # computed in float64: -66.666...67, not float32's
    assert single.dtype == np.float64 and single[1] == 100.0 * (1.0 - 3.0) / 3.0
    with pytest.raises(ValueError, match="ed must index the 3 frames, got 3"):
        strain_curve(length, ed=3)
    with pytest.raises(ValueError, match="got -1"):
        strain_curve(length, ed=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a zero length at ED gives inf / NaN without a warning
        values = strain_curve(np.array([0.0, 5.0]))
    assert np.isnan(values[0]) and values[1] == np.inf


def _landmarks_patched(monkeypatch, **changes):
    """Make strain use the real landmarks of the masks with some of them replaced, per frame ``{field: (T, 2)}``."""
    real = strain.lv_landmarks

    def patched(masks, spacing):
        marks = real(masks, spacing)
        return dataclasses.replace(marks, **{k: np.array(v, dtype=np.float64) for k, v in changes.items()})

    monkeypatch.setattr(strain, "lv_landmarks", patched)


def test_every_reason_of_a_missing_length_and_the_log(monkeypatch, caplog):
    masks = np.stack([heart()] * 4)
    masks[3] = 0
    masks[3, 60, 60] = Label.LV  # one LV pixel: below 0.5 once smoothed, no contour
    marks = strain.lv_landmarks(masks, None)
    nan = [np.nan, np.nan]
    left = [marks.left[0], nan, marks.left[0], [60.0, 59.0]]
    right = [marks.right[0], marks.right[0], marks.right[0], [60.0, 61.0]]
    apex = [marks.apex[0], marks.apex[0], nan, [58.0, 60.0]]
    _landmarks_patched(monkeypatch, left=left, right=right, apex=apex)
    with caplog.at_level(logging.DEBUG, logger="echolatent.measure.strain"):
        lengths, reasons = endocardial_length(masks)
    assert np.isfinite(lengths[0]) and np.isnan(lengths[1:]).all()
    assert reasons == {1: "no basal points (no LV/MYO frontier on both sides of the long axis)",
                       2: "no apex (no LV boundary on the apex side of the base)",
                       3: "no closed LV contour"}
    assert [r.getMessage() for r in caplog.records] == ["endocardial length not measured on 3 of 4 frames"]


def test_no_log_when_every_frame_is_measured(caplog):
    with caplog.at_level(logging.DEBUG, logger="echolatent.measure.strain"):
        endocardial_length(np.stack([heart()] * 2))
    assert caplog.records == []


def test_contour_of_an_analytic_field_is_the_half_level_circle_of_the_larger_blob():
    # 0.8 exp(-r^2 / 2 s^2) crosses 0.5 at r = s sqrt(2 ln 1.6) (its midrange level 0.4 would be s sqrt(2 ln 2));
    # a smaller blob elsewhere has a shorter contour and is not the one returned
    rows, cols = np.mgrid[:80, :100].astype(np.float64)
    big = 0.8 * np.exp(-((rows - 30.0) ** 2 + (cols - 40.0) ** 2) / (2 * 10.0**2))
    small = 0.9 * np.exp(-((rows - 60.0) ** 2 + (cols - 85.0) ** 2) / (2 * 3.0**2))
    contour = _lv_contour(big + small)
    radius = np.hypot(contour[:, 0] - 30.0, contour[:, 1] - 40.0)
    np.testing.assert_allclose(radius, 10.0 * np.sqrt(2 * np.log(1.6)), atol=0.05)
    assert _lv_contour(np.zeros((10, 10))).shape == (0, 2)


def test_arc_length_of_a_triangle_and_of_polylines_with_revisited_vertices():
    triangle = np.array([[0.0, 0.0], [0.0, 3.0], [4.0, 0.0]])  # sides 3, 5, 4
    assert arc_length(triangle, triangle[0], triangle[1], through=triangle[2]) == pytest.approx(9.0)
    assert arc_length(triangle, triangle[0], triangle[1], through=np.array([-1.0, 1.5])) == pytest.approx(3.0)
    # a closing duplicate adds nothing; a vertex visited again elsewhere keeps all its edges
    a, b, c, d = np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 2.0], [2.0, 0.0]])
    closed = np.array([a, b, c, d, a])
    assert arc_length(closed, a, c, through=b) == pytest.approx(4.0)
    start_twice = np.array([a, a, b, c, d])  # the first vertex repeated, not closed: perimeter 8
    assert arc_length(start_twice, b, d, through=c) == pytest.approx(4.0)
    assert arc_length(start_twice, b, d, through=a) == pytest.approx(4.0)
    back_to_b = np.array([a, b, c, d, b])  # a -> b -> c -> d -> b -> a: 2 + 2 + 2 + 2 sqrt 2 + 2
    assert arc_length(back_to_b, a, c, through=b) == pytest.approx(4.0)
    assert arc_length(back_to_b, a, c, through=np.array([1.0, 0.8])) == pytest.approx(4 + 2 * np.sqrt(2))
    back_to_a = np.array([a, b, c, a, d])  # a -> b -> c -> a -> d -> a: 2 + 2 + 2 sqrt 2 + 2 + 2
    assert arc_length(back_to_a, b, d, through=c) == pytest.approx(2 + 2 * np.sqrt(2) + 2)


def test_arc_length_when_the_side_point_is_an_end():
    # a 1 x 3 rectangle from (0,0): (0,3) at arc 3 one way, 5 the other; a `through` on an end is on the short side
    rectangle = np.array([[0.0, 0.0], [0.0, 3.0], [1.0, 3.0], [1.0, 0.0]])
    first, second = rectangle[0], rectangle[1]
    assert arc_length(rectangle, first, second, through=first) == pytest.approx(3.0)
    assert arc_length(rectangle, first, second, through=second) == pytest.approx(3.0)
    assert arc_length(rectangle, first, second, through=rectangle[2]) == pytest.approx(5.0)


def test_points_beyond_a_corner_project_onto_the_corner():
    # a 3 x 5 rectangle traced (0,0) -> (0,5) -> (3,5) -> (3,0); perimeter 16
    rectangle = np.array([[0.0, 0.0], [0.0, 5.0], [3.0, 5.0], [3.0, 0.0]])
    before_start = np.array([-1.0, -0.4])  # nearest polyline point: the corner (0,0), not (0,-0.4) on the line
    after_end = np.array([-0.3, 6.0])  # nearest: the corner (0,5), arc 5, not (0,6) beyond the side's end
    assert arc_length(rectangle, before_start, after_end, through=np.array([-1.0, 2.0])) == pytest.approx(5.0)
    assert arc_length(rectangle, before_start, after_end, through=np.array([4.0, 2.0])) == pytest.approx(11.0)
    assert arc_length(rectangle, rectangle[2], after_end, through=np.array([1.0, 5.5])) == pytest.approx(3.0)
    off_side = np.array([1.7, 5.9])  # projects onto (0,5)-(3,5) at (1.7, 5): arc 6.7
    assert arc_length(rectangle, rectangle[0], off_side, through=rectangle[1]) == pytest.approx(6.7)
    assert arc_length(rectangle, rectangle[0], off_side, through=rectangle[3]) == pytest.approx(16 - 6.7)


def test_a_zero_length_segment_is_silent():
    square = np.array([[0.0, 0.0], [0.0, 2.0], [0.0, 2.0], [2.0, 2.0], [2.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert arc_length(square, square[0], square[3], through=square[1]) == pytest.approx(4.0)
