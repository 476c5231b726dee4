"""Temporal consistency of attribute curves (castor's criterion).

Each attribute curve ``a(t)`` is normalised by fixed bounds, ``a~ = (a - min) / (max - min)``; on interior
frames ``d(t) = a~(t) - (a~(t-1) + a~(t+1)) / 2``; a frame is inconsistent for an attribute when
``|d(t)| > tau``. Bounds and taus are data (:class:`TemporalThresholds`): taus default to the published
values, bounds are measured on reference masks at a stated grid size, since areas and lengths in pixels
depend on the resolution.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from echolatent.files import write_json_atomic
from echolatent.labels import MIN_FRAMES
from echolatent.measure.attribute_info import PUBLISHED_TAU
from echolatent.measure.attributes import ATTRIBUTES, compute_attributes

#: Frames on either side of a turn (an ED or ES inside a sequence) that are not held to tau either: a turn found
#: on a noisy curve may be a frame off (measured: benchmarks/bench_recordings.py).
TURN_RADIUS = 1


@dataclass
class TemporalThresholds:
    """Per-attribute bounds ``(min, max)`` and thresholds ``tau``, with the units they hold.

    Attributes:
        bounds: ``{attribute: (min, max)}`` in the attribute's units; attributes without bounds are skipped.
        tau: ``{attribute: tau}`` in normalised units.
        grid: ``(H, W)`` of the masks the bounds were measured on (None: unknown).
        spacing: ``(sy, sx)`` mm of those masks (None: pixel units).
        note: where the values come from.
    """

    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    tau: dict[str, float] = field(default_factory=lambda: dict(PUBLISHED_TAU))
    grid: tuple[int, int] | None = None
    spacing: tuple[float, float] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        for name, (low, high) in self.bounds.items():
            if not (np.isfinite(low) and np.isfinite(high) and high > low):
                raise ValueError(f"bounds of {name} must be finite with max > min, got ({low}, {high})")
        for name, tau in self.tau.items():
            if not (np.isfinite(tau) and tau > 0):
                raise ValueError(f"tau of {name} must be positive, got {tau}")

    @classmethod
    def published(cls, bounds: dict[str, tuple[float, float]] | None = None, **kwargs) -> TemporalThresholds:
        """Published taus (castor), with the given bounds (none by default: give them or use from_reference)."""
        return cls(bounds=dict(bounds or {}), tau=dict(PUBLISHED_TAU), note="published taus", **kwargs)

    @classmethod
    def from_reference(
        cls,
        reference: list[np.ndarray],
        spacing: tuple[float, float] | None = None,
        *,
        tau: dict[str, float] | None = None,
        fit_tau: bool = False,
    ) -> TemporalThresholds:
        """Bounds = min/max of each attribute over reference masks; taus published unless ``fit_tau``.

        Args:
            reference: label arrays ``(T, H, W)`` on one grid (frames or sequences of expert masks).
            spacing: their ``(sy, sx)`` mm, or None for pixel units.
            tau: taus to use (default: published).
            fit_tau: set each tau to the largest |d(t)| over the reference sequences (T >= 3 only), keeping
                the published value when it is larger.
        """
        if not reference:
            raise ValueError("from_reference needs at least one reference mask array")
        grids = {tuple(np.shape(m)[-2:]) for m in reference}
        if len(grids) != 1:
            raise ValueError(f"reference masks must share one grid, got {sorted(grids)}")
        curves = [compute_attributes(m, spacing) for m in reference]
        bounds = {}
        for name in ATTRIBUTES:
            values = np.concatenate([c[name] for c in curves])
            values = values[np.isfinite(values)]
            if values.size and values.max() > values.min():
                bounds[name] = (float(values.min()), float(values.max()))
        thresholds = cls(bounds, dict(tau or PUBLISHED_TAU), grids.pop(), spacing, f"{len(reference)} references")
        if fit_tau:
            thresholds.tau = _fitted_tau(curves, thresholds)
            thresholds.note += ", fitted taus"
        return thresholds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, the one format of thresholds files and of shape-model metadata."""
        return {
            "bounds": {k: list(v) for k, v in self.bounds.items()},
            "tau": dict(self.tau),
            "grid": list(self.grid) if self.grid else None,
            "spacing": list(self.spacing) if self.spacing else None,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], note: str = "") -> TemporalThresholds:
        """Thresholds from :meth:`to_dict`'s format (``note`` when the dict has none)."""
        return cls(
            bounds={k: (float(v[0]), float(v[1])) for k, v in data["bounds"].items()},
            tau={k: float(v) for k, v in data["tau"].items()},
            grid=tuple(data["grid"]) if data.get("grid") else None,
            spacing=tuple(data["spacing"]) if data.get("spacing") else None,
            note=data.get("note", note),
        )

    def save(self, path: str | Path) -> Path:
        """Write as JSON (atomically)."""
        return write_json_atomic(self.to_dict(), Path(path))

    @classmethod
    def load(cls, path: str | Path) -> TemporalThresholds:
        """Read thresholds written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))


@dataclass
class TemporalReport:
    """Temporal consistency of one sequence.

    Attributes:
        d: ``{attribute: (T,)}`` second-difference deviation in normalised units; NaN on the first and last
            frames and where the attribute is undefined.
        inconsistent: ``{attribute: (T,) bool}`` ``|d| > tau``.
        frame_ok: ``(T,)`` bool, no attribute found inconsistent on the frame.
        sequence_ok: no inconsistent frame and every attribute verified: a sequence with an attribute that is not
            measured on some frame (NaN) is "not verified" for it, never counted as consistent.
        unmeasured: ``{attribute: (T,) bool}`` frames where the attribute is not measured (NaN).
        unchecked: ``(T,)`` bool frames whose d is not held to tau (the turns of a sequence of several half cycles,
            :func:`turning_frames`), None when every interior frame is checked.
    """

    d: dict[str, np.ndarray]
    inconsistent: dict[str, np.ndarray]
    frame_ok: np.ndarray
    sequence_ok: bool
    unmeasured: dict[str, np.ndarray] = field(default_factory=dict)
    unchecked: np.ndarray | None = None

    @property
    def not_verified(self) -> list[str]:
        """Attributes not measured on at least one frame: their consistency is not verified."""
        return [name for name, flags in self.unmeasured.items() if flags.any()]

    def unmeasured_counts(self) -> dict[str, int]:
        """Frames where each checked attribute is not measured."""
        return {name: int(flags.sum()) for name, flags in self.unmeasured.items()}

    def counts(self) -> dict[str, int]:
        """Inconsistent frames per attribute, plus ``"any"`` (frames inconsistent for at least one)."""
        counts = {name: int(flags.sum()) for name, flags in self.inconsistent.items()}
        counts["any"] = int((~self.frame_ok).sum())
        return counts


def temporal_consistency(
    attrs: dict[str, np.ndarray], thresholds: TemporalThresholds, unchecked: np.ndarray | None = None
) -> TemporalReport:
    """``{attribute: (T,)}`` curves -> :class:`TemporalReport`, for the attributes that have bounds and tau.

    ``unchecked`` ``(T,)`` bool: frames where the curve may turn (a sequence of several half cycles: the ED and ES
    frames inside it and their neighbours), not held to tau, as the two ends of every sequence are not: the
    published taus come from half cycles (ED -> ES), whose turns are their ends.

    Raises:
        ValueError: fewer than 3 frames, curves of different lengths, or no attribute with bounds and tau.
    """
    names = [n for n in attrs if n in thresholds.bounds and n in thresholds.tau]
    if not names:
        have = sorted(thresholds.bounds)
        raise ValueError(f"no attribute has both bounds and tau; the thresholds have bounds for {have}")
    lengths = {len(np.asarray(attrs[n])) for n in names}
    if len(lengths) != 1:
        raise ValueError(f"attribute curves have different lengths: {sorted(lengths)}")
    T = lengths.pop()
    if T < MIN_FRAMES:
        raise ValueError(f"temporal consistency needs a sequence of at least {MIN_FRAMES} frames, got {T}")
    held = np.ones(T, dtype=bool) if unchecked is None else ~check_frame_flags(unchecked, T)
    unchecked = None if held.all() else ~held  # no frame left free: reported as None, as when none is given
    d, inconsistent = {}, {}
    for name in names:
        d[name] = second_difference(np.asarray(attrs[name], dtype=np.float64), thresholds.bounds[name])
        with np.errstate(invalid="ignore"):
            inconsistent[name] = (np.abs(d[name]) > thresholds.tau[name]) & held
    frame_ok = ~np.logical_or.reduce([inconsistent[n] for n in names])
    unmeasured = {name: ~np.isfinite(np.asarray(attrs[name], dtype=np.float64)) for name in names}
    verified = not any(flags.any() for flags in unmeasured.values())
    return TemporalReport(d, inconsistent, frame_ok, bool(frame_ok.all()) and verified, unmeasured,
                          unchecked)


def turning_frames(instants: list[str], radius: int = TURN_RADIUS) -> np.ndarray:
    """``(T,)`` "ED"/"ES"/"" labels -> ``(T,)`` bool frames within ``radius`` of an ED or ES strictly inside the
    sequence (where its curves turn); all False for a single half cycle (its turns are its ends)."""
    length = len(instants)
    flags = np.zeros(length, dtype=bool)
    for t, label in enumerate(instants):
        if label in ("ED", "ES") and 0 < t < length - 1:
            flags[max(t - radius, 0):t + radius + 1] = True
    return flags


def check_frame_flags(flags: np.ndarray, length: int) -> np.ndarray:
    """``(T,)`` bool per-frame flags (e.g. unchecked frames), checked against the sequence length ``length``.

    Raises:
        ValueError: flags of another shape.
    """
    flags = np.asarray(flags, dtype=bool)
    if flags.shape != (length,):
        raise ValueError(f"unchecked frames must be a ({length},) bool array, got shape {flags.shape}")
    return flags


def second_difference(curve: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """``(T,)`` curve -> ``(T,)`` d(t) of the bounds-normalised curve, NaN at both ends."""
    low, high = bounds
    normalised = (curve - low) / (high - low)
    d = np.full_like(normalised, np.nan)
    d[1:-1] = normalised[1:-1] - (normalised[:-2] + normalised[2:]) / 2
    return d


def _fitted_tau(curves: list[dict[str, np.ndarray]], thresholds: TemporalThresholds) -> dict[str, float]:
    tau = dict(thresholds.tau)
    for name, bounds in thresholds.bounds.items():
        worst = [np.nanmax(np.abs(second_difference(c[name], bounds))) for c in curves if len(c[name]) >= MIN_FRAMES]
        worst = [w for w in worst if np.isfinite(w)]
        if worst:
            tau[name] = max(tau.get(name, 0.0), float(max(worst)))
    return tau
