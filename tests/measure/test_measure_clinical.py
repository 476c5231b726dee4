"""Clinical indices: ellipsoid volumes by the method of disks, area-length, EF, single-view flag."""

from __future__ import annotations

import numpy as np
import pytest
from measure_helpers import ellipse

from echolatent.labels import Label, View
from echolatent.measure.clinical import (
    area_length_volume,
    biplane_volume,
    clinical_indices,
    lv_geometry,
    single_plane_volume,
)


def cut_ellipsoid_slice(semi_long, semi_across, cut, angle=0.0, size=256, spacing=(1.0, 1.0)):
    """Apical slice (H, W) labels of an ellipsoid cut by the plane ``cut * semi_long`` below its centre."""
    centre = (0.45 * size * spacing[0], 0.5 * size * spacing[1])
    lv = ellipse((size, size), centre, (semi_long, semi_across), angle=angle, spacing=spacing)
    rows, cols = np.mgrid[:size, :size]
    t = np.radians(angle)
    along = (rows * spacing[0] - centre[0]) * np.cos(t) + (cols * spacing[1] - centre[1]) * np.sin(t)
    return np.where(lv & (along <= cut * semi_long), Label.LV, 0).astype(np.uint8)


def cut_ellipsoid_volume(a, b, c, cut):
    """Volume of the ellipsoid part from the apex (-a) to the plane cut * a."""
    return np.pi * a * b * c * (cut + 1 - (cut**3 + 1) / 3)


@pytest.mark.parametrize(("cut", "angle"), [(0.0, 0.0), (0.5, 0.0), (0.5, 15.0), (-0.3, -20.0), (0.0, 30.0)])
def test_biplane_volume_of_ellipsoid_within_2_percent(cut, angle):
    a, b, c = 80.0, 40.0, 30.0
    four = lv_geometry(cut_ellipsoid_slice(a, b, cut, angle))
    two = lv_geometry(cut_ellipsoid_slice(a, c, cut, angle))
    assert four.length == pytest.approx(a * (1 + cut), rel=0.02)
    assert biplane_volume(four, two) == pytest.approx(cut_ellipsoid_volume(a, b, c, cut), rel=0.02)
    assert single_plane_volume(four) == pytest.approx(cut_ellipsoid_volume(a, b, b, cut), rel=0.02)


def test_landmarks_of_a_half_ellipsoid_slice():
    geometry = lv_geometry(cut_ellipsoid_slice(80.0, 40.0, 0.0))
    centre = (0.45 * 256, 128)
    np.testing.assert_allclose(geometry.base_mid, centre, atol=1.0)
    # the pixelated tip is a flat run of ~+-6 px (curvature radius b^2/a = 20 px): any of it is "farthest"
    assert geometry.apex[0] == pytest.approx(centre[0] - 80, abs=1.0)
    assert geometry.apex[1] == pytest.approx(centre[1], abs=7.0)
    assert geometry.base[1, 1] - geometry.base[0, 1] == pytest.approx(80, rel=0.02)
    # disks of a half ellipse: d(s) = 2 b sqrt(1 - s^2 / a^2)
    s = (np.arange(20) + 0.5) / 20 * 80
    np.testing.assert_allclose(geometry.diameters, 80 * np.sqrt(1 - (s / 80) ** 2), atol=1.5)


def test_anisotropic_spacing_is_resampled_to_the_finest():
    spacing = (0.6, 0.3)
    geometry = lv_geometry(cut_ellipsoid_slice(60.0, 25.0, 0.0, size=256, spacing=spacing), spacing)
    assert geometry.length == pytest.approx(60.0, rel=0.02)
    assert single_plane_volume(geometry) == pytest.approx(cut_ellipsoid_volume(60, 25, 25, 0.0), rel=0.02)


def test_area_length_of_half_ellipse():
    geometry = lv_geometry(cut_ellipsoid_slice(80.0, 40.0, 0.0))
    area = np.pi * 80 * 40 / 2
    assert area_length_volume(geometry) == pytest.approx(8 * area**2 / (3 * np.pi * 80), rel=0.03)


def test_clinical_indices_biplane_and_single_view():
    ed = {View.A4C: cut_ellipsoid_slice(80, 40, 0.0), View.A2C: cut_ellipsoid_slice(80, 30, 0.0)}
    es = {View.A4C: cut_ellipsoid_slice(70, 30, 0.0), View.A2C: cut_ellipsoid_slice(70, 22, 0.0)}
    spacing = {View.A4C: (0.5, 0.5), View.A2C: (0.5, 0.5)}
    both = clinical_indices(ed, es, spacing)
    true_edv = cut_ellipsoid_volume(40, 20, 15, 0.0) / 1000
    true_esv = cut_ellipsoid_volume(35, 15, 11, 0.0) / 1000
    assert both.method == "biplane" and not both.single_view and both.units == "mL"
    assert both.edv == pytest.approx(true_edv, rel=0.02)
    assert both.esv == pytest.approx(true_esv, rel=0.03)
    assert both.ef == pytest.approx(100 * (true_edv - true_esv) / true_edv, abs=1.0)
    one = clinical_indices({View.A4C: ed[View.A4C]}, {View.A4C: es[View.A4C]}, {View.A4C: None})
    assert one.single_view and one.method == "single-plane 4CH" and one.units == "px^3"


def test_camus_step_uses_the_longest_of_all_masks_for_both_volumes():
    ed = {View.A4C: cut_ellipsoid_slice(80, 40, 0.0), View.A2C: cut_ellipsoid_slice(80, 30, 0.0)}
    es = {View.A4C: cut_ellipsoid_slice(60, 30, 0.0), View.A2C: cut_ellipsoid_slice(60, 22, 0.0)}
    spacing = dict.fromkeys(ed, (1.0, 1.0))
    usual, camus = clinical_indices(ed, es, spacing), clinical_indices(ed, es, spacing, step="camus")
    assert camus.edv == pytest.approx(usual.edv)
    assert camus.esv == pytest.approx(usual.esv * 80 / 60, rel=0.02)


def test_bad_arguments():
    with pytest.raises(ValueError, match="no LV"):
        lv_geometry(np.zeros((32, 32), np.uint8))
    with pytest.raises(ValueError, match="one \\(H, W\\) mask"):
        lv_geometry(np.zeros((2, 32, 32), np.uint8))
    frame = cut_ellipsoid_slice(80, 40, 0.0)
    with pytest.raises(ValueError, match="same, non-empty set of views"):
        clinical_indices({View.A4C: frame}, {View.A2C: frame}, {})
    with pytest.raises(ValueError, match="step"):
        clinical_indices({View.A4C: frame}, {View.A4C: frame}, {}, step="other")
