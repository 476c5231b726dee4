"""Units of the measured quantities: one table that figures, tables and pages read (mm with a spacing, px without).

Each attribute of :data:`echolatent.measure.attributes.ATTRIBUTES` has a kind (area, length, angle) and each kind a
unit that depends on whether the pixel spacing is known.
"""

from __future__ import annotations

ATTRIBUTE_KINDS = {
    "lv_area": "area",
    "lv_base_width": "length",
    "lv_length": "length",
    "lv_orientation": "angle",
    "myo_area": "area",
    "epi_center_x": "length",
    "epi_center_y": "length",
    "la_area": "area",
}
ATTRIBUTE_TITLES = {
    "lv_area": "LV area",
    "lv_base_width": "LV base width",
    "lv_length": "LV length",
    "lv_orientation": "LV orientation",
    "myo_area": "Myocardium area",
    "epi_center_x": "Heart centre, x",
    "epi_center_y": "Heart centre, y",
    "la_area": "LA area",
}


def unit_names(spacing_known: bool) -> dict[str, str]:
    """``{"area", "length", "angle", "volume"}`` unit strings for mm (spacing known) or pixel measurements."""
    if spacing_known:
        return {"area": "mm²", "length": "mm", "angle": "°", "volume": "mL"}
    return {"area": "px²", "length": "px", "angle": "°", "volume": "px³"}


def attribute_unit(name: str, spacing_known: bool) -> str:
    """The unit of attribute ``name``: e.g. ``lv_area`` -> ``mm²`` (``px²`` without spacing).

    Raises:
        ValueError: an unknown attribute.
    """
    if name not in ATTRIBUTE_KINDS:
        raise ValueError(f"unknown attribute {name!r}; expected one of {list(ATTRIBUTE_KINDS)}")
    return unit_names(spacing_known)[ATTRIBUTE_KINDS[name]]


def attribute_label(name: str, spacing_known: bool) -> str:
    """Axis or colour-bar label with the unit: ``"LV area (mm²)"``."""
    unit = attribute_unit(name, spacing_known)
    return f"{ATTRIBUTE_TITLES[name]} ({unit})"


def known_spacing(spacing: tuple[float, ...]) -> tuple[float, float] | None:
    """A header's ``(sy, sx)`` mm, or None when it is exactly 1 x 1 mm: the value written by tools that know no
    spacing (as in camus224), read as "pixel size unknown" (the ``auto`` rule of the pipeline's spacing modes)."""
    pair = (float(spacing[0]), float(spacing[1]))
    return None if pair == (1.0, 1.0) else pair
