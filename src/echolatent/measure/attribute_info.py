"""The attribute table: each attribute's name, title, unit kind and published temporal threshold, read by the
temporal check (:mod:`.temporal`), the figures and the report; plus the unit names of both unit systems.

Adding an attribute: compute it in :mod:`.attributes` (name in ``ATTRIBUTES``) and give it a row here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttributeInfo:
    """One attribute: ``name``, ``title`` for figures, ``unit`` kind ("area", "length", "angle"), published ``tau``
    (castor, normalised units; None when it has none)."""

    name: str
    title: str
    unit: str
    tau: float | None


ATTRIBUTE_INFO: dict[str, AttributeInfo] = {
    info.name: info
    for info in (
        AttributeInfo("lv_area", "LV area", "area", 0.016),
        AttributeInfo("lv_base_width", "LV base width", "length", 0.0969),
        AttributeInfo("lv_length", "LV length", "length", 0.0262),
        AttributeInfo("lv_orientation", "LV orientation", "angle", 0.0229),
        AttributeInfo("myo_area", "Myocardium area", "area", 0.0321),
        AttributeInfo("epi_center_x", "Heart centre, x", "length", 0.00456),
        AttributeInfo("epi_center_y", "Heart centre, y", "length", 0.0110),
        AttributeInfo("la_area", "LA area", "area", 0.016),  # castor has none: lv_area's
    )
}

#: Published thresholds in normalised units (castor), by attribute.
PUBLISHED_TAU = {name: info.tau for name, info in ATTRIBUTE_INFO.items() if info.tau is not None}


def unit_names(spacing_known: bool) -> dict[str, str]:
    """``{"area", "length", "angle", "volume"}`` unit strings for mm (``spacing_known``) or pixel measurements."""
    if spacing_known:
        return {"area": "mm²", "length": "mm", "angle": "°", "volume": "mL"}
    return {"area": "px²", "length": "px", "angle": "°", "volume": "px³"}


def attribute_unit(name: str, spacing_known: bool) -> str:
    """The unit of attribute ``name``: e.g. ``lv_area`` -> ``mm²`` (``px²`` without spacing).

    Raises:
        ValueError: an unknown attribute.
    """
    if name not in ATTRIBUTE_INFO:
        raise ValueError(f"unknown attribute {name!r}; expected one of {list(ATTRIBUTE_INFO)}")
    return unit_names(spacing_known)[ATTRIBUTE_INFO[name].unit]


def attribute_label(name: str, spacing_known: bool) -> str:
    """Axis or colour-bar label with the unit: ``"LV area (mm²)"``."""
    unit = attribute_unit(name, spacing_known)
    return f"{ATTRIBUTE_INFO[name].title} ({unit})"
