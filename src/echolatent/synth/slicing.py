"""Apical planes through the synthetic heart -> label masks ``(T, H, W)``.

A view is a plane through the LV long axis at angle ``phi`` around it. Inside the plane a point has
coordinates ``(s, x)`` in mm: ``s`` along the long axis from the cavity apex towards the mitral plane,
``x`` across it (positive towards the image right). :class:`Placement` puts that plane in the image:
the cavity apex at ``apex_yx`` (mm from the image's top-left corner), the long axis tilted by ``tilt``
(degrees, positive turns the base to the image right), on a square image of ``depth`` mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from echolatent.labels import Label, View
from echolatent.synth.heart import Heart, HeartState, profile

BASAL_EXTENSION = 0.06  # length of the tapering basal wall ends below the mitral plane, fraction of L


@dataclass(frozen=True)
class Placement:
    """Where a view's plane lies in the image (mm, degrees)."""

    view: View
    phi: float  # plane angle around the long axis, degrees
    depth: float  # image height = width, mm
    apex_yx: tuple[float, float]  # cavity apex in the image, mm
    tilt: float  # long-axis tilt from vertical, degrees

    def to_dict(self) -> dict:
        """JSON-friendly placement."""
        return {
            "view": self.view.value,
            "phi": self.phi,
            "depth": self.depth,
            "apex_yx": list(self.apex_yx),
            "tilt": self.tilt,
        }


@dataclass(frozen=True)
class PlaneShapes:
    """Per-frame in-plane sizes of one view, arrays ``(T,)`` in mm."""

    length: np.ndarray  # cavity length
    cavity: np.ndarray  # cavity half-width scale (x extent at the widest section)
    epi: np.ndarray  # epicardium half-width scale
    wall_apex: np.ndarray
    la_center: np.ndarray  # LA centre along s
    la_x: np.ndarray  # LA centre across
    la_half_width: np.ndarray
    la_half_length: np.ndarray


def sample_placements(heart: Heart, rng: np.random.Generator) -> dict[View, Placement]:
    """Image placement of the 4CH and 2CH planes, matched to camus224's mean layout (LV length ~ half the image)."""
    depth = heart.length_ed / rng.uniform(0.45, 0.53)
    placements = {}
    for view, phi, centre in ((View.A4C, heart.plane_4ch, 0.535), (View.A2C, heart.plane_2ch, 0.51)):
        apex_y = depth * rng.uniform(0.17, 0.21)
        tilt = rng.uniform(-7.0, 7.0)
        # put the LV's middle near the camus224 mean column, whatever the tilt
        mid_shift = 0.5 * heart.length_ed * np.sin(np.radians(tilt))
        apex_x = depth * (centre + rng.uniform(-0.02, 0.02)) - mid_shift
        placements[view] = Placement(view, float(phi), float(depth), (float(apex_y), float(apex_x)), float(tilt))
    return placements


def _half_width(phi: float, semi1: np.ndarray, semi2: np.ndarray) -> np.ndarray:
    """Half-width of an ellipse with semi-axes (semi1 along e1, semi2 along e2) on the line at angle phi."""
    c, s = np.cos(phi), np.sin(phi)
    return 1.0 / np.sqrt((c / semi1) ** 2 + (s / semi2) ** 2)


def plane_shapes(heart: Heart, state: HeartState, phi_deg: float) -> PlaneShapes:
    """In-plane sizes of the heart cut by the plane at ``phi_deg`` around the long axis."""
    phi = np.radians(phi_deg)
    cavity = _half_width(phi, state.radius * heart.ex, state.radius * heart.ey)
    epi = _half_width(phi, state.radius * heart.ex + state.wall_e1, state.radius * heart.ey + state.wall_e2)
    dx, dy = heart.la_offset
    across = dx * np.cos(phi) + dy * np.sin(phi)
    away = -dx * np.sin(phi) + dy * np.cos(phi)
    la_half_width = state.la_radius * np.sqrt(np.clip(1.0 - (away / state.la_radius) ** 2, 0.05, 1.0))
    # the LA mouth spans the annulus: its chord at the mitral plane reaches a bit into the basal wall
    annulus = heart.base_ratio * (cavity + 0.15 * (epi - cavity))
    ratio = np.clip(annulus / la_half_width, 0.0, 0.97)
    la_center = state.length + state.la_length * np.sqrt(1.0 - ratio**2)
    return PlaneShapes(
        state.length,
        cavity,
        epi,
        state.wall_apex,
        la_center,
        np.full_like(cavity, across),
        la_half_width,
        state.la_length,
    )


def plane_coordinates(placement: Placement, y_mm: np.ndarray, x_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image points (mm) -> in-plane ``(s, x)`` (mm) of the view."""
    tilt = np.radians(placement.tilt)
    dy = y_mm - placement.apex_yx[0]
    dx = x_mm - placement.apex_yx[1]
    return dy * np.cos(tilt) + dx * np.sin(tilt), -dy * np.sin(tilt) + dx * np.cos(tilt)


@dataclass(frozen=True)
class Regions:
    """Boolean maps of one frame at given in-plane points."""

    cavity: np.ndarray
    epi: np.ndarray  # cavity + wall, above the mitral plane
    la: np.ndarray


def epi_region(heart: Heart, shapes: PlaneShapes, t: int, s: np.ndarray, x: np.ndarray, grow: float = 0.0):
    """Inside the epicardium (cavity + wall, above the mitral plane) at frame ``t``; ``grow`` (mm) enlarges it."""
    length = shapes.length[t]
    wall_apex = shapes.wall_apex[t] + grow
    u_epi = (s + wall_apex) / (length + wall_apex)
    epi_width = (shapes.epi[t] + grow) * np.sqrt(profile(u_epi, heart.apex_u, heart.base_ratio))
    return (np.abs(x) <= epi_width) & (s <= length)


def regions(heart: Heart, shapes: PlaneShapes, t: int, s: np.ndarray, x: np.ndarray) -> Regions:
    """Membership of in-plane points ``(s, x)`` at frame ``t``."""
    length = shapes.length[t]
    cavity = (np.abs(x) <= shapes.cavity[t] * np.sqrt(profile(s / length, heart.apex_u, heart.base_ratio))) & (
        s <= length
    )
    epi = epi_region(heart, shapes, t, s, x)
    la = (s > length) & (
        ((x - shapes.la_x[t]) / shapes.la_half_width[t]) ** 2
        + ((s - shapes.la_center[t]) / shapes.la_half_length[t]) ** 2
        <= 1.0
    )
    # the basal wall ends taper a little below the mitral plane, beside the LA, as in expert masks
    inner, outer = heart.base_ratio * shapes.cavity[t], heart.base_ratio * shapes.epi[t]
    below = (s - length) / (BASAL_EXTENSION * length)
    legs = (below > 0) & (below <= 1) & (np.abs(x) > inner) & (np.abs(x) <= outer - (outer - inner) * below)
    return Regions(cavity, epi | cavity | (legs & ~la), la)


def label_points(heart: Heart, shapes: PlaneShapes, t: int, s: np.ndarray, x: np.ndarray) -> np.ndarray:
    """uint8 labels (BG, LV, MYO, LA) at in-plane points ``(s, x)`` for frame ``t``."""
    reg = regions(heart, shapes, t, s, x)
    labels = np.zeros(np.shape(s), dtype=np.uint8)
    labels[reg.la] = Label.LA
    labels[reg.epi] = Label.MYO
    labels[reg.cavity] = Label.LV
    return labels


def pixel_grid(size: int, depth: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``(y, x)`` in mm of a ``size x size`` image covering ``depth`` mm."""
    centres = (np.arange(size) + 0.5) * depth / size
    return np.meshgrid(centres, centres, indexing="ij")


def render_masks(heart: Heart, state: HeartState, placement: Placement, size: int) -> np.ndarray:
    """Label masks ``(T, size, size)`` uint8 of one view, apex at the top."""
    if size < 16:
        raise ValueError(f"image size must be at least 16 px, got {size}")
    shapes = plane_shapes(heart, state, placement.phi)
    y, x = pixel_grid(size, placement.depth)
    s, lat = plane_coordinates(placement, y, x)
    return np.stack([label_points(heart, shapes, t, s, lat) for t in range(state.frames)])
