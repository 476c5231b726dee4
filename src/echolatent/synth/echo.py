"""Echo-like B-mode images of a synthetic view: sector scan, echogenicity, moving speckle.

Pipeline per frame, on a polar (depth x angle) beam grid: echogenicity map from the heart's regions
(dark blood, bright myocardium, brighter pericardium, textured tissue, right heart cavities in the 4CH,
a closed mitral valve in systole, optional lateral dropout and apical clutter) -> complex scatterers
(tissue scatterers sampled from one fixed field at material coordinates that follow the deformation,
blood scatterers redrawn each frame) -> point-spread function (short axially, wide laterally) ->
envelope, depth attenuation, thermal noise -> log compression -> scan conversion to the square image
(apex of the sector at the top centre, zero outside the sector) -> per-frame min-max to uint8 1..255.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from echolatent.labels import View
from echolatent.synth.heart import Heart, HeartState
from echolatent.synth.slicing import Placement, PlaneShapes, epi_region, plane_coordinates, plane_shapes, regions


@dataclass(frozen=True)
class EchoStyle:
    """Imaging parameters of one view (angles in degrees, lengths in mm)."""

    half_angle: float = 37.0
    dynamic_range: float = 48.0  # dB
    attenuation: float = 0.3  # net amplitude loss over the depth after gain compensation, nepers
    axial_psf: float = 0.35  # mm (Gaussian sigma)
    lateral_psf: float = 0.9  # degrees
    dropout: float | None = None  # angle (deg) of a lateral dropout band, None: none
    clutter: float = 0.0  # apical clutter strength, 0: none
    noise: float = 0.04  # thermal noise, fraction of the mean envelope

    @classmethod
    def sample(cls, rng: np.random.Generator, view: View) -> EchoStyle:
        """Random but plausible imaging settings; dropout and clutter in about a third of the views each."""
        dropout = float(rng.uniform(12.0, 28.0)) if rng.random() < 0.35 else None
        if dropout is not None and view == View.A4C and rng.random() < 0.5:
            dropout = -dropout
        return cls(
            half_angle=float(rng.uniform(35.0, 39.0)),
            dynamic_range=float(rng.uniform(42.0, 54.0)),
            attenuation=float(rng.uniform(-0.2, 0.6)),
            axial_psf=float(rng.uniform(0.4, 0.6)),
            lateral_psf=float(rng.uniform(0.6, 0.9)),
            dropout=dropout,
            clutter=float(rng.uniform(0.3, 1.0)) if rng.random() < 0.35 else 0.0,
        )


# echogenicity (intensity scale) of each kind of scatterer
BLOOD, TISSUE, MYOCARDIUM, PERICARDIUM, VALVE = 0.006, 0.06, 0.22, 0.6, 0.9


GAMMA = 1.5  # display curve after log compression, darkens the mid-tones as on scanners


def _polar_grid(size: int, depth: float, half_angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Beam grid ``(depth r mm, angle rad)`` as 2D arrays ``(n_r, n_theta)``."""
    n_r = size
    n_theta = max(16, int(round(size * 0.75)))
    r = (np.arange(n_r) + 0.5) * depth / n_r
    theta = np.radians(np.linspace(-half_angle, half_angle, n_theta))
    return np.meshgrid(r, theta, indexing="ij")


class _MaterialField:
    """Complex scatterers and a smooth texture fixed in the heart's reference (ED) plane coordinates."""

    def __init__(self, depth: float, step: float, rng: np.random.Generator) -> None:
        self.step = step
        self.origin = np.array([-0.6 * depth, -1.0 * depth])
        n = int(np.ceil(2.0 * depth / step)) + 2
        self.scatter = torch.from_numpy(rng.standard_normal((1, 2, n, n)).astype(np.float32))
        # the texture varies over ~4 mm: drawn on a grid 8x coarser
        coarse = ndimage.gaussian_filter(rng.standard_normal((n // 8 + 2, n // 8 + 2)), sigma=0.5 / step)
        texture = np.exp(0.6 * coarse / (coarse.std() + 1e-12))
        self.texture = torch.from_numpy(texture.astype(np.float32))[None, None]

    def sample(self, s: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = (s - self.origin[0]) / self.step
        cols = (x - self.origin[1]) / self.step
        scatter = _bilinear(self.scatter, rows, cols)
        texture = _bilinear(self.texture, rows / 8.0, cols / 8.0)[0]
        return scatter[0] + 1j * scatter[1], texture


def _material_coordinates(shapes: PlaneShapes, t: int, s: np.ndarray, x: np.ndarray):
    """In-plane points at frame ``t`` -> where that tissue was at frame 0.

    The heart deforms (apex fixed, base moving, walls moving in and out); the motion fades over ~10 mm
    outside the epicardium, so the surrounding tissue stays nearly still.
    """
    length, length0 = shapes.length[t], shapes.length[0]
    epi, epi0 = shapes.epi[t], shapes.epi[0]
    below = np.clip(s - shapes.la_center[t] - shapes.la_half_length[t], 0, None)
    weight = np.exp(-(np.clip(np.abs(x) - epi, 0, None) + below) / 10.0)
    s_heart = np.where(s <= 0, s, np.where(s <= length, s * length0 / length, s - length + length0))
    x_heart = np.where(np.abs(x) <= epi, x * epi0 / epi, x + np.sign(x) * (epi0 - epi))
    s0 = s + weight * (s_heart - s)
    x0 = x + weight * (x_heart - x)
    return s0, x0


def _right_heart(shapes: PlaneShapes, t: int, s: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Dark RV and RA of a 4CH view, left of the septum (image only, not labelled)."""
    length, width = shapes.length[t], shapes.epi[t]
    rv_x = -(width + 0.55 * width + 2.0)
    rv = ((x - rv_x) / (0.6 * width)) ** 2 + ((s - 0.6 * length) / (0.5 * length)) ** 2 <= 1.0
    ra_x = -(width + 0.4 * width)
    ra = ((x - ra_x) / (0.55 * width)) ** 2 + (
        (s - length - 0.55 * shapes.la_half_length[t]) / (0.8 * shapes.la_half_length[t])
    ) ** 2 <= 1.0
    return rv | ra


def _echogenicity(heart: Heart, shapes: PlaneShapes, state: HeartState, view: View, t: int, s, x, texture):
    reg = regions(heart, shapes, t, s, x)
    shell = epi_region(heart, shapes, t, s, x, grow=2.5) & ~reg.epi
    blood = reg.cavity | reg.la
    if view == View.A4C:
        blood |= _right_heart(shapes, t, s, x) & ~reg.epi & ~shell
    echo = TISSUE * texture
    echo = np.where(shell, PERICARDIUM * texture, echo)
    echo = np.where(reg.epi & ~reg.cavity, MYOCARDIUM * np.sqrt(texture), echo)
    echo = np.where(blood, BLOOD, echo)
    if state.valve_closed[t]:
        annulus = heart.base_ratio * shapes.cavity[t]
        valve = (np.abs(s - shapes.length[t] + 1.0) <= 1.0) & (np.abs(x) <= annulus)
        echo = np.where(valve, VALVE, echo)
    return echo, blood


def _psf_envelope(scatter: np.ndarray, depth: float, style: EchoStyle) -> np.ndarray:
    """Complex scatterers ``(T, n_r, n_theta)`` -> envelope of the beamformed signal (separable Gaussian PSF)."""
    _, n_r, n_theta = scatter.shape
    # never finer than the image's pixels, so a small image still shows a speckle grain that can be tracked
    sigma_r = max(style.axial_psf * n_r / depth, 0.7)
    sigma_t = max(style.lateral_psf * (n_theta - 1) / (2.0 * style.half_angle), 1.0)
    signal = np.stack([scatter.real, scatter.imag]).astype(np.float32)
    signal = ndimage.gaussian_filter1d(signal, sigma_r, axis=2, mode="nearest")
    signal = ndimage.gaussian_filter1d(signal, sigma_t, axis=3, mode="nearest")
    return np.hypot(signal[0], signal[1]).astype(np.float64)


def _bilinear(channels: torch.Tensor, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample ``(1, C, h, w)`` at fractional pixel positions ``rows, cols`` (any 2D shape) -> ``(C, *shape)``."""
    h, w = channels.shape[-2:]
    grid = np.stack([(2.0 * cols + 1.0) / w - 1.0, (2.0 * rows + 1.0) / h - 1.0], axis=-1)
    grid_t = torch.from_numpy(grid.astype(np.float32))[None]
    out = F.grid_sample(channels, grid_t, mode="bilinear", padding_mode="border", align_corners=False)
    return out[0].numpy().astype(np.float64)


def _scan_convert(polar: np.ndarray, size: int, depth: float, half_angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Polar images ``(T, n_r, n_theta)`` -> square images ``(T, size, size)`` and the sector mask."""
    n_r, n_theta = polar.shape[-2:]
    centres = (np.arange(size) + 0.5) * depth / size
    y, x = np.meshgrid(centres, centres - depth / 2.0, indexing="ij")
    r = np.hypot(y, x)
    theta = np.degrees(np.arctan2(x, y))
    sector = (r <= depth) & (np.abs(theta) <= half_angle)
    rows = r / depth * n_r - 0.5
    cols = (theta + half_angle) / (2.0 * half_angle) * (n_theta - 1)
    images = _bilinear(torch.from_numpy(polar.astype(np.float32))[None], rows, cols)
    return np.where(sector[None], images, 0.0), sector


def simulate_view(
    heart: Heart,
    state: HeartState,
    placement: Placement,
    size: int,
    rng: np.random.Generator,
    style: EchoStyle | None = None,
) -> np.ndarray:
    """B-mode images ``(T, size, size)`` uint8 of one view: 0 outside the sector, 1..255 inside."""
    style = style or EchoStyle.sample(rng, placement.view)
    depth = placement.depth
    shapes = plane_shapes(heart, state, placement.phi)
    r, theta = _polar_grid(size, depth, style.half_angle)
    y, x_img = r * np.cos(theta), depth / 2.0 + r * np.sin(theta)
    s, x = plane_coordinates(placement, y, x_img)
    material = _MaterialField(depth, depth / size * 0.6, rng)
    gain = np.exp(-style.attenuation * r / depth)
    if style.dropout is not None:
        band = np.exp(-0.5 * ((np.degrees(theta) - style.dropout) / 4.0) ** 2)
        gain = gain * (1.0 - 0.8 * band * (r > 0.3 * depth))
    clutter = (
        style.clutter
        * TISSUE
        * 2.0
        * np.exp(-r / (0.12 * depth))
        * ndimage.gaussian_filter(rng.random(r.shape), 3.0) ** 2
        * 4.0
    )
    scatter = np.empty((state.frames, *r.shape), dtype=np.complex64)
    for t in range(state.frames):
        s0, x0 = _material_coordinates(shapes, t, s, x)
        tissue, texture = material.sample(s0, x0)
        echo, blood = _echogenicity(heart, shapes, state, placement.view, t, s, x, texture)
        fresh = rng.standard_normal(r.shape) + 1j * rng.standard_normal(r.shape)
        scatter[t] = np.where(blood, fresh, tissue) * np.sqrt(echo + clutter)
    envelope = _psf_envelope(scatter, depth, style) * gain
    mean = envelope.mean(axis=(1, 2), keepdims=True)
    envelope = envelope + style.noise * mean * np.abs(rng.standard_normal(envelope.shape))
    polar = np.stack([_log_compress(frame, style.dynamic_range) for frame in envelope])
    images, sector = _scan_convert(polar, size, depth, style.half_angle)
    return np.stack([_to_uint8(image, sector) for image in images])


def _log_compress(envelope: np.ndarray, dynamic_range: float) -> np.ndarray:
    ref = np.percentile(envelope, 99.5)
    decibels = 20.0 * np.log10(np.maximum(envelope, 1e-12) / ref)
    return np.clip((decibels + dynamic_range) / dynamic_range, 0.0, 1.0) ** GAMMA


def _to_uint8(image: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """Per-frame min-max inside the sector to 1..255, 0 outside (like camus224's normalisation)."""
    inside = image[sector]
    low, high = inside.min(), inside.max()
    scaled = 1.0 + 254.0 * (image - low) / max(high - low, 1e-12)
    return np.where(sector, np.round(scaled), 0).astype(np.uint8)
