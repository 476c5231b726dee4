"""The checks that decide when a smoothed sequence is done: temporal consistency with a margin below the
published taus, at the output's own resolution as well as at the shape model's grid, and anatomical validity.

Bounds of :class:`~echolatent.measure.temporal.TemporalThresholds` are in pixels of their grid (the shape
model's). :func:`thresholds_at` carries them to another grid ``(H, W)``: areas scale by the pixel-area ratio
``(H / h) (W / w)``, centres by ``W / w`` (x) and ``H / h`` (y), lengths by the square root of the area ratio,
angles not at all; exact for an isotropic change of grid (a square model grid and square outputs, as CAMUS-224),
a first-order estimate otherwise. The normalised deviation d(t) does not depend on offsets, only on the span
``max - min``, so a mask sequence measured at its own resolution is judged in the same normalised units.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from echolatent.measure.attributes import ATTRIBUTES, compute_attributes
from echolatent.measure.framecache import FrameCache, frame_key
from echolatent.measure.sequence import temporal_check
from echolatent.measure.temporal import TemporalReport, TemporalThresholds, temporal_consistency

#: Attributes by how their pixel values scale with the grid.
AREAS = ("lv_area", "myo_area", "la_area")
LENGTHS = ("lv_base_width", "lv_length")
#: Attribute rows of recently measured frames, by content (the smoother measures mostly unchanged sequences).
ATTRIBUTE_CACHE = FrameCache()
#: The smoother aims every attribute's |d(t)| below this fraction of its tau at the output's own resolution (the
#: margin it keeps; docs/smoothing.md).
TARGET = 0.85


def thresholds_at(thresholds: TemporalThresholds, grid: tuple[int, int]) -> TemporalThresholds:
    """``thresholds`` (pixel units of ``thresholds.grid``) -> the same thresholds for masks of ``grid`` ``(H, W)``
    (unchanged when ``grid`` is theirs, or when they are in mm or have no grid)."""
    if thresholds.grid is None or thresholds.spacing is not None or tuple(thresholds.grid) == tuple(grid):
        return thresholds
    sy, sx = grid[0] / thresholds.grid[0], grid[1] / thresholds.grid[1]
    factors = {name: sy * sx for name in AREAS}
    factors.update({name: float(np.sqrt(sy * sx)) for name in LENGTHS})
    factors.update({"epi_center_x": sx, "epi_center_y": sy})
    bounds = {}
    for name, (low, high) in thresholds.bounds.items():
        factor = factors.get(name, 1.0)
        bounds[name] = (low * factor, high * factor)
    grid = tuple(int(v) for v in grid)  # the note names plain ints, also for a NumPy grid
    note = f"{thresholds.note}; bounds carried from {tuple(thresholds.grid)} to {grid}"
    return replace(thresholds, bounds=bounds, grid=grid, note=note)


def with_margin(thresholds: TemporalThresholds, fraction: float) -> TemporalThresholds:
    """``thresholds`` with every tau multiplied by ``fraction`` in (0, 1]."""
    if not 0 < fraction <= 1:
        raise ValueError(f"the fraction of tau must lie in (0, 1], got {fraction}")
    tau = {name: value * fraction for name, value in thresholds.tau.items()}
    return replace(thresholds, tau=tau, note=f"{thresholds.note}; taus x {fraction:g}")


def own_check(
    masks: np.ndarray, spacing, thresholds: TemporalThresholds, fraction: float = 1.0, unchecked=None
) -> TemporalReport:
    """Temporal report of ``(T, H, W)`` masks at their own resolution, taus times ``fraction`` (pixel-unit
    thresholds: attributes of frames measured before are looked up, :func:`pixel_attributes`); ``unchecked``
    ``(T,)`` bool frames are not held to tau."""
    strict = thresholds_at(with_margin(thresholds, fraction) if fraction < 1 else thresholds, masks.shape[1:])
    if strict.spacing is not None:
        return temporal_check(masks, spacing, strict, unchecked)
    return temporal_consistency(pixel_attributes(masks), strict, unchecked)


def pixel_attributes(masks: np.ndarray) -> dict[str, np.ndarray]:
    """``(T, H, W)`` labels -> ``{attribute: (T,)}`` in pixel units, as :func:`compute_attributes` (a function of
    each frame alone), frames measured before looked up in :data:`ATTRIBUTE_CACHE` by content."""
    keys = [frame_key(frame, "attributes") for frame in masks]
    rows = [ATTRIBUTE_CACHE.get(key) for key in keys]
    missing = [t for t, row in enumerate(rows) if row is None]
    if missing:
        fresh = compute_attributes(masks[missing])
        for j, t in enumerate(missing):
            rows[t] = np.array([fresh[name][j] for name in ATTRIBUTES])
            ATTRIBUTE_CACHE.put(keys[t], rows[t])
    table = np.stack(rows)
    return {name: table[:, i] for i, name in enumerate(ATTRIBUTES)}


def temporal_reports(
    masks: np.ndarray, spacing, thresholds: TemporalThresholds, fraction: float = 1.0, unchecked=None
) -> list[TemporalReport]:
    """Temporal reports of ``(T, H, W)`` masks with taus times ``fraction``: at the masks' own resolution, then at
    the thresholds' grid when it differs (a second measurement of the same attributes); ``unchecked`` ``(T,)`` bool
    frames are not held to tau."""
    reports = [own_check(masks, spacing, thresholds, fraction, unchecked)]
    if thresholds.grid is not None and tuple(thresholds.grid) != tuple(masks.shape[1:]):
        strict = with_margin(thresholds, fraction) if fraction < 1 else thresholds
        reports.append(temporal_check(masks, spacing, strict, unchecked))
    return reports


def merge_reports(reports: list[TemporalReport]) -> TemporalReport:
    """One report flagging a frame wherever any of ``reports`` (same attributes and frames) does; d is the one
    of largest magnitude."""
    first = reports[0]
    if len(reports) == 1:
        return first
    d, flags = {}, {}
    for name in first.d:
        stack = np.stack([r.d[name] for r in reports])
        pick = np.nanargmax(np.where(np.isnan(stack), -1.0, np.abs(stack)), axis=0)
        d[name] = np.take_along_axis(stack, pick[None], 0)[0]
        flags[name] = np.logical_or.reduce([r.inconsistent[name] for r in reports])
    frame_ok = ~np.logical_or.reduce(list(flags.values()))
    return TemporalReport(d, flags, frame_ok, bool(frame_ok.all()), unchecked=first.unchecked)


def margin_used(report: TemporalReport, tau: dict[str, float]) -> float:
    """Largest ``|d(t)| / tau`` over the attributes and the frames held to tau of ``report`` (0.0 when nothing is
    measured)."""
    held = slice(None) if report.unchecked is None else ~report.unchecked
    d = {name: report.d[name][held] for name in report.d}
    worst = [np.nanmax(np.abs(d[name])) / tau[name] for name in d if np.isfinite(d[name]).any()]
    return float(max(worst, default=0.0))

