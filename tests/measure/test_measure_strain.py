"""GLS: known answers on scaled drawn hearts (tilted, unequal spacing), NaN with reasons, synthetic hearts."""

from __future__ import annotations

import numpy as np
import pytest
from measure_helpers import heart_frame, transform_labels
from scipy.integrate import quad
from scipy.stats import spearmanr

from echolatent.errors import InputError
from echolatent.labels import Label
from echolatent.measure.strain import arc_length, endocardial_length, global_longitudinal_strain, strain_curve
from echolatent.synth.patient import synthesize_patient


def half_perimeter(a: float, b: float) -> float:
    """Length of half an ellipse with semi-axes ``a`` (long) and ``b``, from one end of ``b`` to the other."""
    return quad(lambda t: np.hypot(a * np.sin(t), b * np.cos(t)), 0, np.pi)[0]


def pair(length: float, half_width: float, wall: float, s_long: float, s_across: float) -> np.ndarray:
    """``(2, 300, 300)`` ED heart and the same heart with its LV scaled by ``s_long`` / ``s_across``."""
    ed = heart_frame(size=300, length=length, half_width=half_width, wall=wall, la_height=30, base_row=200)
    es = heart_frame(size=300, length=length * s_long, half_width=half_width * s_across, wall=wall * s_across,
                     la_height=30, base_row=200)
    return np.stack([ed, es])


@pytest.mark.parametrize("s", [0.8, 0.88, 0.95])
@pytest.mark.parametrize("angle", [0.0, 27.0])
def test_scaled_endocardium_gives_gls_100_s_minus_1(s, angle):
    masks = transform_labels(pair(110, 35, 8, s, s), angle, 1.0, margin=1.1)
    result = global_longitudinal_strain(masks)
    assert result.gls_es == pytest.approx(100 * (s - 1), abs=0.5)
    assert result.gls_peak == pytest.approx(result.gls_es)
    assert result.ed == 0 and result.es == 1 and not result.reasons


@pytest.mark.parametrize("s", [0.8, 0.9])
def test_scaling_along_the_long_axis_only_follows_the_arc_length(s):
    # shortening only along the axis shortens the border by less than s: the apical cap turns across the axis
    result = global_longitudinal_strain(transform_labels(pair(110, 35, 8, s, 1.0), -33.0, 1.0, margin=1.1))
    expected = 100 * (half_perimeter(110 * s, 35) / half_perimeter(110, 35) - 1)
    assert result.gls_es == pytest.approx(expected, abs=0.5)
    assert result.gls_es > 100 * (s - 1)


def test_length_in_mm_with_unequal_spacing():
    masks = pair(110, 35, 8, 0.85, 0.85)
    tall = np.repeat(masks, 2, axis=1)  # rows of 0.5 mm, columns of 1 mm: the same hearts in mm
    square, _ = endocardial_length(masks, (1.0, 1.0))
    stretched, _ = endocardial_length(tall, (0.5, 1.0))
    assert square[0] == pytest.approx(half_perimeter(110, 35), rel=0.01)
    np.testing.assert_allclose(stretched, square, rtol=0.01)
    assert global_longitudinal_strain(tall, (0.5, 1.0)).gls_es == pytest.approx(-15.0, abs=0.5)


def test_not_measured_frames_are_nan_with_a_reason():
    masks = pair(110, 35, 8, 0.9, 0.9)
    no_myo = np.where(masks[1] == Label.MYO, 0, masks[1])
    masks = np.stack([masks[0], np.zeros_like(masks[0]), no_myo, masks[1]])
    result = global_longitudinal_strain(masks, es=3)
    assert np.isnan(result.strain[[1, 2]]).all() and np.isfinite(result.strain[[0, 3]]).all()
    assert result.reasons[1] == "no LV pixel"
    assert "basal points" in result.reasons[2]
    assert result.gls_es == pytest.approx(-10.0, abs=0.5)
    broken_ed = global_longitudinal_strain(masks[1:], es=2)
    assert np.isnan(broken_ed.strain).all() and np.isnan(broken_ed.gls_es) and np.isnan(broken_ed.gls_peak)
    assert broken_ed.reasons[0] == "no LV pixel" and "basal points" in broken_ed.reasons[1]
    assert broken_ed.reasons[2] == "not measured at ED (frame 0): no LV pixel"


def test_strain_curve_and_arc_length():
    np.testing.assert_allclose(strain_curve(np.array([100.0, 90.0, np.nan, 120.0])), [0, -10, np.nan, 20])
    square = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    assert arc_length(square, square[0], square[2], through=square[1]) == pytest.approx(2.0)
    assert arc_length(square, square[0], square[1], through=square[2]) == pytest.approx(3.0)
    assert np.isnan(arc_length(square[:2], square[0], square[1], square[1]))


@pytest.mark.parametrize(("kwargs", "error"), [({"ed": 5}, ValueError), ({"es": -1}, ValueError)])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        global_longitudinal_strain(pair(60, 20, 5, 0.9, 0.9), **kwargs)


def test_bad_masks_raise_input_error():
    with pytest.raises(InputError):
        global_longitudinal_strain(np.full((2, 8, 8), 9, np.uint8))


@pytest.mark.parametrize("seed", [0, 1])
def test_synthetic_hearts_shorten_more_with_higher_ef(seed):
    """GLS at ES is negative and its magnitude rises with the true EF across 24 patients (the generator's long-axis
    shortening follows the EF; benchmarks/bench_attributes.py: Spearman 0.91-0.97 over five seeds at 256 px)."""
    efs, gls = [], []
    for index in range(1, 25):
        patient = synthesize_patient(index, frames=2, size=128, seed=seed, images=False)
        values = [global_longitudinal_strain(v.masks, patient.spacing, es=1).gls_es for v in patient.views.values()]
        efs.append(patient.ef)
        gls.append(np.mean(values))
    assert max(gls) < 0
    assert spearmanr(efs, -np.array(gls)).statistic >= 0.75


def test_arc_length_runs_between_projections_on_the_segments():
    # a 4 x 4 square traced (0,0) -> (0,4) -> (4,4) -> (4,0); points off the vertices project onto its sides:
    # (0, 1.3) at arc 1.3 and (4, 1.3) at arc 4 + 4 + 2.7 = 10.7, so 9.4 through the side (0,4)-(4,4), 16 - 9.4 else
    square = np.array([[0, 0], [0, 4], [4, 4], [4, 0], [0, 0]], float)
    first, second = np.array([-0.2, 1.3]), np.array([4.1, 1.3])
    assert arc_length(square, first, second, np.array([2.0, 4.5])) == pytest.approx(9.4)
    assert arc_length(square, first, second, np.array([2.0, -0.5])) == pytest.approx(6.6)
