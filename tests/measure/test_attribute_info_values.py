"""The attribute table's units and labels, written out by hand for both unit systems."""

from __future__ import annotations

import pytest

from echolatent.measure.attribute_info import ATTRIBUTE_INFO, attribute_label, attribute_unit, unit_names

MM = {"area": "mm²", "length": "mm", "angle": "°", "volume": "mL"}
PX = {"area": "px²", "length": "px", "angle": "°", "volume": "px³"}
#: attribute -> (unit with a known spacing, unit in pixels, label in mm)
BY_HAND = {
    "lv_area": ("mm²", "px²", "LV area (mm²)"),
    "lv_base_width": ("mm", "px", "LV base width (mm)"),
    "lv_length": ("mm", "px", "LV length (mm)"),
    "lv_orientation": ("°", "°", "LV orientation (°)"),
    "myo_area": ("mm²", "px²", "Myocardium area (mm²)"),
    "epi_center_x": ("mm", "px", "Heart centre, x (mm)"),
    "epi_center_y": ("mm", "px", "Heart centre, y (mm)"),
    "la_area": ("mm²", "px²", "LA area (mm²)"),
}


def test_unit_names_of_both_systems():
    assert unit_names(True) == MM
    assert unit_names(False) == PX


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_units_and_labels_of_every_attribute(name):
    mm, px, label = BY_HAND[name]
    assert attribute_unit(name, True) == mm
    assert attribute_unit(name, False) == px
    assert attribute_label(name, True) == label
    assert attribute_label(name, False) == label.replace(f"({mm})", f"({px})")


def test_the_table_lists_the_attributes_written_above():
    assert list(ATTRIBUTE_INFO) == list(BY_HAND)


def test_an_unknown_attribute_is_refused_with_the_known_ones():
    expected = ("unknown attribute 'rv_area'; expected one of ['lv_area', 'lv_base_width', 'lv_length', "
                "'lv_orientation', 'myo_area', 'epi_center_x', 'epi_center_y', 'la_area']")
    for call in (attribute_unit, attribute_label):
        with pytest.raises(ValueError) as err:
            call("rv_area", True)
        assert str(err.value) == expected
