"""LV geometry on unequal pixels and non-square images (a half ellipse drawn in mm), the LV taken from labels or
from a boolean mask, and the smallest LV measured."""

from __future__ import annotations

import numpy as np
import pytest
from measure_helpers import ellipse

from echolatent.labels import Label
from echolatent.measure import clinical
from echolatent.measure.clinical import lv_geometry

SY, SX = 0.7, 0.3  # mm per row, per column


def _half_ellipse_lv(shape, centre=(60.0, 18.0), length=40.0, half_width=12.0) -> np.ndarray:
    """``(H, W)`` labels: an LV half ellipse (apex up, flat base at ``centre[0]`` mm) in a 3 mm MYO band."""
    rows = np.arange(shape[0])[:, None] * SY
    above = np.broadcast_to(rows <= centre[0], shape)
    frame = np.zeros(shape, np.uint8)
    frame[ellipse(shape, centre, (length + 3, half_width + 3), spacing=(SY, SX)) & above] = Label.MYO
    frame[ellipse(shape, centre, (length, half_width), spacing=(SY, SX)) & above] = Label.LV
    return frame


@pytest.mark.parametrize("shape", [(100, 220), (180, 120)])  # wide and tall images
def test_half_ellipse_on_unequal_pixels_of_a_non_square_image(shape):
    frame = _half_ellipse_lv(shape)
    geometry = lv_geometry(frame, (SY, SX))
    assert geometry.length == pytest.approx(40.0, rel=0.03)
    assert geometry.area == pytest.approx((frame == Label.LV).sum() * SY * SX)
    assert geometry.area == pytest.approx(np.pi * 40 * 12 / 2, rel=0.03)
    assert np.abs(geometry.base[:, 0] - 60.0).max() < 1.5  # the hinges on the flat side
    assert sorted(geometry.base[:, 1]) == pytest.approx([6.0, 30.0], abs=1.0)
    # the apex: a corner of the LV's top row (20.3 mm), which spans 18 -+ 12 sqrt(1 - (39.7 / 40)^2) = 1.5 mm
    assert geometry.apex[0] == pytest.approx(20.3, abs=0.5) and geometry.apex[1] == pytest.approx(18.0, abs=1.6)
    # the widest disk is near the base: 2 x 12 mm
    assert geometry.diameters.max() == pytest.approx(24.0, rel=0.05)


def test_labels_and_boolean_lv_give_the_same_geometry():
    frame = _half_ellipse_lv((100, 220))
    from_labels, from_bool = lv_geometry(frame, (SY, SX)), lv_geometry(frame == Label.LV, (SY, SX))
    np.testing.assert_allclose(from_labels.base, from_bool.base)
    assert from_labels.length == from_bool.length and from_labels.area == from_bool.area
    ring = np.isin(frame, (Label.LV, Label.MYO))  # LV and MYO as one boolean region: another, larger shape
    assert lv_geometry(ring, (SY, SX)).area > 1.2 * from_labels.area


def test_three_lv_pixels_are_the_fewest_measured():
    frame = np.zeros((10, 10), np.uint8)
    frame[4, 4:6] = Label.LV
    with pytest.raises(ValueError) as err:
        lv_geometry(frame)
    assert str(err.value) == "no LV in the mask (fewer than 3 LV pixels)"
    frame[5, 4] = Label.LV
    assert lv_geometry(frame).area == 3.0
    assert lv_geometry(frame, (SY, SX)).area == pytest.approx(3 * SY * SX)


@pytest.mark.parametrize("batch", [1, 3, 50])
def test_base_chords_tested_longest_first_in_batches_find_the_exhaustive_pair(monkeypatch, batch):
    """The base search stops at the first batch of chords (longest first) holding one that qualifies: any batch size
    gives the pair the search over every chord at once gives, on a tilted LV whose longest chords do not qualify."""
    lv = ellipse((90, 80), (55.0, 40.0), (40.0, 18.0), angle=25.0) & (np.arange(90)[:, None] <= 60)
    monkeypatch.setattr(clinical, "CHORD_BATCH", 10**9)
    every = clinical.lv_geometry(lv)
    monkeypatch.setattr(clinical, "CHORD_BATCH", batch)
    tested, arc_within = [], clinical._arc_within
    monkeypatch.setattr(clinical, "_arc_within", lambda *args: tested.append(len(args[1])) or arc_within(*args))
    batched = clinical.lv_geometry(lv)
    assert np.array_equal(batched.base, every.base) and batched.length == every.length
    assert len(tested) > 2 and max(tested) <= batch  # batches that found nothing were passed over


@pytest.mark.parametrize("batch", [1, 2, 256])
def test_the_longest_chord_is_taken_when_it_qualifies(monkeypatch, batch):
    """A half disc's diameter is its longest chord, flat, at the bottom, its lower arc on it: the search returns its
    two ends (the first chord tested), whatever the batch size."""
    angles = np.linspace(0.0, np.pi, 41)
    arc = np.stack([30.0 - 20.0 * np.sin(angles), 30.0 - 20.0 * np.cos(angles)], axis=1)  # (row, col), apex up
    base = np.stack([np.full(9, 30.0), np.linspace(50.0, 10.0, 11)[1:-1]], axis=1)
    contour = np.concatenate([arc, base])
    i, j = np.triu_indices(len(contour), k=1)
    monkeypatch.setattr(clinical, "CHORD_BATCH", batch)
    assert clinical._longest_base_chord(contour, i, j, np.arange(len(contour)), 0.5, 45.0) == (0, 40)
