"""Clinical indices with exact expected values: the volume formulas by hand, and unequal pixel spacing (sy != sx)
wherever a spacing enters lengths, areas and volumes (analytic ellipses and half ellipsoids)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from measure_helpers import ellipse

from echolatent.labels import Label, View
from echolatent.measure.clinical import (
    LVGeometry,
    area_length_volume,
    biplane_volume,
    clinical_indices,
    ejection_fraction,
    find_base,
    lv_geometry,
    single_plane_volume,
)


def _geometry(diameters, length, area=0.0):
    base = np.array([[10.0, 0.0], [10.0, 4.0]])
    return LVGeometry(base, np.array([0.0, 2.0]), length, np.asarray(diameters, float), area)


def half_ellipse(semi_long, semi_across, spacing, size=320, angle=0.0):
    """``(size, size)`` LV labels: an ellipse (mm) cut at its centre, apex up; centre at 45 % of the rows."""
    centre = (0.45 * size * spacing[0], 0.5 * size * spacing[1])
    lv = ellipse((size, size), centre, (semi_long, semi_across), angle=angle, spacing=spacing)
    rows, cols = np.mgrid[:size, :size]
    t = np.radians(angle)
    along = (rows * spacing[0] - centre[0]) * np.cos(t) + (cols * spacing[1] - centre[1]) * np.sin(t)
    return np.where(lv & (along <= 0), Label.LV, 0).astype(np.uint8)


# --- formulas by hand ------------------------------------------------------------------------------------------


def test_volume_formulas_by_hand():
    four, two = _geometry([1, 2, 3, 4], 10.0, area=12.0), _geometry([2, 2, 2, 2], 12.0)
    assert single_plane_volume(four) == pytest.approx(math.pi / 4 * 30 * 10 / 4, rel=1e-12)
    assert single_plane_volume(four, 20.0) == pytest.approx(math.pi / 4 * 30 * 20 / 4, rel=1e-12)
    # the longer L (12) of the two views gives the disk height
    assert biplane_volume(four, two) == pytest.approx(math.pi / 4 * 20 * 12 / 4, rel=1e-12)
    assert biplane_volume(two, four) == pytest.approx(math.pi / 4 * 20 * 12 / 4, rel=1e-12)
    assert biplane_volume(four, two, 8.0) == pytest.approx(math.pi / 4 * 20 * 8 / 4, rel=1e-12)
    assert area_length_volume(four) == pytest.approx(8 * 144 / (3 * math.pi * 10), rel=1e-12)
    np.testing.assert_array_equal(four.base_mid, [10.0, 2.0])
    with pytest.raises(ValueError, match="^both views need the same number of disks$"):
        biplane_volume(four, _geometry([1, 2, 3], 10.0))


def test_ejection_fraction_by_hand():
    assert ejection_fraction(100.0, 40.0) == 60.0
    assert ejection_fraction(80.0, 100.0) == -25.0
    assert ejection_fraction(0.5, 0.25) == 50.0  # small volumes (px^3 or mL) are volumes too
    assert math.isnan(ejection_fraction(0.0, 0.0)) and math.isnan(ejection_fraction(-5.0, 1.0))


def test_base_of_a_rectangle_is_its_bottom_corners():
    """A 10 x 6 rectangle contour: the bottom edge is the only chord whose arc stays within 0.5 px of it."""
    top = [(0.0, float(x)) for x in range(7)]
    right = [(float(y), 6.0) for y in range(1, 11)]
    bottom = [(10.0, float(x)) for x in range(5, -1, -1)]
    left = [(float(y), 0.0) for y in range(9, 0, -1)]
    contour = np.array(top + right + bottom + left)
    np.testing.assert_array_equal(find_base(contour, tolerance=0.5), [[10.0, 0.0], [10.0, 6.0]])
    # (10, 0)-(9, 6) leaves the corner (10, 6) 0.99 px away, (10, 0)-(6, 6) 3.3 px: longer chords, larger tolerances
    assert np.hypot(*np.diff(find_base(contour, tolerance=1.0), axis=0)[0]) == pytest.approx(math.sqrt(37))
    loose = find_base(contour, tolerance=3.4, max_angle=34.0)
    assert np.hypot(*(loose[1] - loose[0])) > 6.0
    with pytest.raises(ValueError, match="no mitral base"):
        find_base(contour, tolerance=0.5, max_angle=-1.0)


# --- unequal spacing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spacing", [(0.3, 0.6), (0.6, 0.3), (0.25, 0.5)])
def test_lengths_areas_volumes_with_unequal_spacing(spacing):
    a, b = 30.0, 18.0  # mm: semi long axis (apex up), semi short axis
    mask = half_ellipse(a, b, spacing)
    geometry = lv_geometry(mask, spacing)
    assert geometry.length == pytest.approx(a, rel=0.02)
    assert geometry.base[1, 1] - geometry.base[0, 1] == pytest.approx(2 * b, rel=0.03)
    assert geometry.area == pytest.approx(math.pi * a * b / 2, rel=0.02)
    assert geometry.area == (mask == Label.LV).sum() * spacing[0] * spacing[1]
    assert single_plane_volume(geometry) == pytest.approx(2 / 3 * math.pi * a * b * b, rel=0.03)
    assert area_length_volume(geometry) == pytest.approx(8 * (math.pi * a * b / 2) ** 2 / (3 * math.pi * a), rel=0.05)
    coarse = lv_geometry(mask, spacing, iso_spacing=max(spacing))  # resampled coarser: still mm
    assert coarse.length == pytest.approx(a, rel=0.03)
    assert coarse.apex[0] == pytest.approx(geometry.apex[0], abs=2 * max(spacing))


def test_tilted_lv_with_unequal_spacing():
    spacing, a, b = (0.3, 0.5), 30.0, 15.0
    geometry = lv_geometry(half_ellipse(a, b, spacing, angle=20.0), spacing)
    assert geometry.length == pytest.approx(a, rel=0.03)
    assert np.hypot(*(geometry.base[1] - geometry.base[0])) == pytest.approx(2 * b, rel=0.04)
    axis = (geometry.base_mid - geometry.apex) / geometry.length  # apex -> base, along the tilted long axis
    np.testing.assert_allclose(axis, [np.cos(np.radians(20)), np.sin(np.radians(20))], atol=0.03)


def test_clinical_indices_with_a_different_unequal_spacing_per_view():
    spacing = {View.A4C: (0.3, 0.6), View.A2C: (0.5, 0.25)}
    ed = {View.A4C: half_ellipse(30, 20, spacing[View.A4C]), View.A2C: half_ellipse(30, 15, spacing[View.A2C])}
    es = {View.A4C: half_ellipse(26, 15, spacing[View.A4C]), View.A2C: half_ellipse(26, 11, spacing[View.A2C])}
    edv, esv = 2 / 3 * math.pi * 30 * 20 * 15 / 1000, 2 / 3 * math.pi * 26 * 15 * 11 / 1000  # mL
    result = clinical_indices(ed, es, spacing)
    assert result.units == "mL" and result.method == "biplane" and not result.single_view
    assert result.edv == pytest.approx(edv, rel=0.03)
    assert result.esv == pytest.approx(esv, rel=0.04)
    assert result.ef == pytest.approx(100 * (edv - esv) / edv, abs=1.5)
    assert result.ef == pytest.approx(100 * (result.edv - result.esv) / result.edv, rel=1e-9)


def test_single_view_in_pixels_and_in_mm():
    frame_ed, frame_es = half_ellipse(40, 20, (1.0, 1.0)), half_ellipse(30, 16, (1.0, 1.0))
    pixels = clinical_indices({View.A2C: frame_ed}, {View.A2C: frame_es}, {View.A2C: None})
    mm = clinical_indices({View.A2C: frame_ed}, {View.A2C: frame_es}, {View.A2C: (1.0, 1.0)})
    assert pixels.units == "px^3" and mm.units == "mL" and pixels.method == "single-plane 2CH"
    assert pixels.edv == pytest.approx(mm.edv * 1000, rel=1e-12)
    assert pixels.edv == pytest.approx(2 / 3 * math.pi * 40 * 20 * 20, rel=0.03)
    assert pixels.esv == pytest.approx(2 / 3 * math.pi * 30 * 16 * 16, rel=0.03)
    camus = clinical_indices({View.A2C: frame_ed}, {View.A2C: frame_es}, {View.A2C: None}, step="camus")
    assert camus.edv == pytest.approx(pixels.edv, rel=1e-12)
    assert camus.esv == pytest.approx(pixels.esv * 40 / 30, rel=0.02)  # ES disks as high as the ED ones


def test_all_four_masks_are_measured_on_the_finest_grid_of_all(monkeypatch):
    from echolatent.measure import clinical

    calls = []

    def spy(mask, spacing=None, **kwargs):
        calls.append((spacing, kwargs.get("iso_spacing")))
        return lv_geometry(mask, spacing, **kwargs)

    monkeypatch.setattr(clinical, "lv_geometry", spy)
    spacing = {View.A4C: (0.3, 0.6), View.A2C: (0.5, 0.25)}
    ed = {View.A4C: half_ellipse(30, 20, spacing[View.A4C]), View.A2C: half_ellipse(30, 15, spacing[View.A2C])}
    clinical_indices(ed, ed, spacing)
    assert sorted(calls) == sorted([(spacing[View.A4C], 0.25), (spacing[View.A2C], 0.25)] * 2)


def test_camus_step_when_the_es_mask_is_the_longest():
    spacing = {View.A4C: (0.3, 0.6), View.A2C: (0.5, 0.25)}
    ed = {View.A4C: half_ellipse(26, 20, spacing[View.A4C]), View.A2C: half_ellipse(26, 15, spacing[View.A2C])}
    es = {View.A4C: half_ellipse(30, 15, spacing[View.A4C]), View.A2C: half_ellipse(30, 11, spacing[View.A2C])}
    usual, camus = clinical_indices(ed, es, spacing), clinical_indices(ed, es, spacing, step="camus")
    assert camus.esv == pytest.approx(usual.esv, rel=1e-12)
    assert camus.edv == pytest.approx(usual.edv * 30 / 26, rel=0.02)  # ED disks as high as the ES ones
    one = {View.A4C: ed[View.A4C]}, {View.A4C: es[View.A4C]}, {View.A4C: spacing[View.A4C]}
    assert clinical_indices(*one, step="camus").edv == pytest.approx(clinical_indices(*one).edv * 30 / 26, rel=0.02)
