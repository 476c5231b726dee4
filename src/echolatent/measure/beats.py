"""ED and ES of every beat from the LV area curve, and EDV / ESV / EF per beat with their mean and SD.

ED is the largest LV cavity (end of filling), ES the smallest (end of ejection): on the LV area curve ``(T,)``,
smoothed by a running median (about 100 ms: outlier frames) and a Gaussian, they are the maxima and minima that
stand out by at least ``prominence`` of the curve's range. With a frame rate, a plausible heart rate (40-180 bpm)
bounds the distance between successive EDs; without, the beat period comes from the curve's autocorrelation. The
first and last frames count as ED or ES when the curve falls (rises) from them by the same prominence: a CAMUS half
sequence (ED -> ES) is one ED at frame 0 and one ES at its last frame. Between two EDs the ES is the smallest frame,
between two ESs the ED the largest. Per beat (ED, then its ES), volumes by Simpson's method of discs
(:func:`echolatent.measure.clinical.clinical_indices`): single plane with one view, biplane with both views of a
patient (k-th beat of one view with the k-th of the other).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter
from scipy.signal import find_peaks

from echolatent.labels import Label, View
from echolatent.measure.clinical import clinical_indices

log = logging.getLogger(__name__)

HEART_RATE_BPM = (40.0, 180.0)
PROMINENCE = 0.25  # fraction of the curve's range an ED / ES must stand out by
#: seconds of the running median taken before the Gaussian: removes segmentation failures of a frame or two (a
#: spike of the LV area, the dip of open-valve frames just after ES) that would otherwise pass for an ED or ES
MEDIAN_SECONDS = 0.1


@dataclass(frozen=True)
class Beat:
    """One beat: ED frame, its ES frame, and the next ED frame (None when the sequence ends before it)."""

    ed: int
    es: int
    next_ed: int | None = None


@dataclass
class BeatDetection:
    """ED and ES frames found on a curve.

    Attributes:
        ed, es: every ED / ES frame (0-based, increasing); an ES before the first ED has no beat.
        beats: each ED followed by its ES.
        curve: ``(T,)`` the smoothed curve the extremes were found on.
        period: frames per beat (median ED spacing, else the autocorrelation's), None when unknown.
        heart_rate: beats per minute from ``period`` and the frame rate, None without either.
        note: plain-words remarks (implausible heart rate, flat curve), "" when none.
    """

    ed: list[int]
    es: list[int]
    beats: list[Beat]
    curve: np.ndarray
    period: float | None = None
    heart_rate: float | None = None
    note: str = ""

    def instants(self) -> list[str]:
        """``(T,)`` "ED" / "ES" / "" per frame."""
        labels = [""] * len(self.curve)
        for frame in self.ed:
            labels[frame] = "ED"
        for frame in self.es:
            labels[frame] = "ES"
        return labels


def lv_area_curve(masks: np.ndarray, spacing: tuple[float, float] | None = None) -> np.ndarray:
    """``(T, H, W)`` labels -> ``(T,)`` LV area (mm^2 with a spacing, else pixels)."""
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f"expected masks (T, H, W), got shape {masks.shape}")
    scale = float(spacing[0] * spacing[1]) if spacing is not None else 1.0
    return (masks == Label.LV).sum(axis=(1, 2)).astype(np.float64) * scale


def autocorrelation_period(curve: np.ndarray, min_lag: int = 3) -> float | None:
    """Frames per beat: the first autocorrelation peak (lag >= ``min_lag``, correlation > 0.2), None when none."""
    x = np.asarray(curve, np.float64) - np.mean(curve)
    if len(x) < 2 * min_lag or not np.any(x):
        return None
    acf = np.correlate(x, x, mode="full")[len(x) - 1:] / np.dot(x, x)
    peaks, _ = find_peaks(acf[: len(x) - min_lag], height=0.2)
    peaks = peaks[peaks >= min_lag]
    return float(peaks[0]) if len(peaks) else None


def median_window(fps: float | None, period: float | None) -> int:
    """Odd number of frames of the running median: about :data:`MEDIAN_SECONDS` with a frame rate, else 3; at most a
    sixth of the beat period (``period`` frames; without a period and a frame rate: 1, no median), at least 1."""
    size = 2 * int(round(0.5 * MEDIAN_SECONDS * fps)) + 1 if fps else 3
    cap = int(period / 6.0) if period else (size if fps else 1)
    cap = cap if cap % 2 else cap - 1
    return max(1, min(size, cap))


def _extremes(s: np.ndarray, distance: float, prominence: float, strict: tuple[bool, bool]) -> list[int]:
    """Maxima of ``s`` that stand out by ``prominence``: interior ones by scipy; an end when the curve falls from it by
    ``prominence`` and, for a ``strict`` end (start, end) when interior maxima exist, it is about as high as they are
    (not a beat cut in the middle)."""
    found, _ = find_peaks(s, distance=max(1.0, distance), prominence=prominence)
    out = [int(i) for i in found]
    level = float(np.median(s[out])) - 0.4 * prominence if out else -np.inf
    end = len(s) - 1
    first, last = (out[0], out[-1]) if out else (end, 0)
    if (s[0] >= s[1] and (s[0] >= level or not strict[0]) and s[0] - s[: first + 1].min() >= prominence
            and (not out or first >= distance)):
        out.insert(0, 0)
    if (s[end] >= s[end - 1] and (s[end] >= level or not strict[1]) and s[end] - s[last:].min() >= prominence
            and (not out or end - out[-1] >= distance)):
        out.append(end)
    return out


def _alternate(s: np.ndarray, maxima: list[int], minima: list[int]) -> tuple[list[int], list[int]]:
    """ED and ES frames alternating: of two EDs in a row the higher stays, of two ESs the lower; then each ES is the
    lowest frame between its neighbouring EDs and each ED the highest between its ESs."""
    merged: list[tuple[int, str]] = []
    for frame, kind in sorted([(f, "ED") for f in maxima] + [(f, "ES") for f in minima]):
        if merged and merged[-1][1] == kind:
            better = s[frame] > s[merged[-1][0]] if kind == "ED" else s[frame] < s[merged[-1][0]]
            if better:
                merged[-1] = (frame, kind)
            continue
        merged.append((frame, kind))
    ed, es = [], []
    for k, (_, kind) in enumerate(merged):
        low = merged[k - 1][0] + 1 if k > 0 else 0
        high = merged[k + 1][0] - 1 if k + 1 < len(merged) else len(s) - 1
        window = s[low: high + 1]
        (ed if kind == "ED" else es).append(low + int(np.argmax(window) if kind == "ED" else np.argmin(window)))
    return ed, es


def _beats(ed: list[int], es: list[int]) -> list[Beat]:
    beats = []
    for k, start in enumerate(ed):
        after = [f for f in es if f > start]
        if not after:
            break
        nxt = ed[k + 1] if k + 1 < len(ed) else None
        if nxt is not None and after[0] > nxt:
            continue
        beats.append(Beat(start, after[0], nxt))
    return beats


def find_beats(
    curve: np.ndarray,
    fps: float | None = None,
    *,
    heart_rate: tuple[float, float] = HEART_RATE_BPM,
    prominence: float = PROMINENCE,
    sigma: float | None = None,
    median: int | None = None,
) -> BeatDetection:
    """ED / ES frames of an LV area (or volume) curve ``(T,)``; see the module docstring.

    Args:
        fps: frames per second (None: unknown; the beat period then comes from the autocorrelation).
        heart_rate: plausible (lowest, highest) bpm; the highest sets the shortest ED spacing.
        prominence: fraction of the curve's range an ED / ES must stand out by.
        sigma: Gaussian smoothing in frames (default: 20 ms with a frame rate, at least 0.5 frame, else 1 frame;
            at most a fifteenth of the autocorrelation period).
        median: frames of the running median taken first (odd; default :func:`median_window`; 1: none). A running
            median keeps a monotone stretch exactly and removes an outlier run shorter than half its window.

    Raises:
        ValueError: not a 1-D finite curve, or ``median`` not a positive odd number of frames.
    """
    values = np.asarray(curve, np.float64)
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ValueError(f"expected a finite 1-D curve, got shape {values.shape}")
    if median is not None and (median < 1 or median % 2 == 0):
        raise ValueError(f"the running median needs a positive odd number of frames, got {median}")
    if len(values) < 2 or np.ptp(values) <= 1e-9 * max(1.0, float(np.abs(values).max())):
        return BeatDetection([], [], [], values.copy(), note="the LV area does not change: no ED / ES found")
    period = autocorrelation_period(values)
    if sigma is None:
        sigma = max(0.5, 0.02 * fps) if fps else 1.0
        sigma = min(sigma, period / 15.0) if period else sigma
    size = median_window(fps, period) if median is None else median
    robust = median_filter(values, size, mode="nearest") if size > 1 and len(values) >= size else values
    s = gaussian_filter1d(robust, sigma, mode="nearest") if len(values) >= 3 and sigma > 0 else robust.copy()
    span = float(s.max() - s.min())
    notes = []
    distance = 0.5 * period if period else 1.0
    if fps:
        distance = fps * 60.0 / heart_rate[1]
        if period is not None and period < 0.9 * distance:
            notes.append(f"the LV area repeats every {period:.1f} frames, {60.0 * fps / period:.0f} bpm at "
                         f"{fps:.1f} fps: check the frame rate")
            distance = 0.5 * period
    # an ED at the start and an ES at the end open or close a beat: they must look like the others (strict);
    # an ES at the start or an ED at the end only bound a partial beat
    maxima = _extremes(s, distance, prominence * span, (True, False))
    minima = _extremes(-s, distance, prominence * span, (False, True))
    ed, es = _alternate(s, maxima, minima)
    if len(ed) > 1:
        period = float(np.median(np.diff(ed)))
    rate = 60.0 * fps / period if fps and period else None
    if rate is not None and not heart_rate[0] <= rate <= heart_rate[1] and not notes:
        notes.append(f"ED every {period:.1f} frames at {fps:.1f} fps is {rate:.0f} bpm, outside {heart_rate[0]:.0f}-"
                     f"{heart_rate[1]:.0f} bpm: check the frame rate or the detected beats")
    note = "; ".join(notes)
    if note:
        log.warning(note)
    return BeatDetection(ed, es, _beats(ed, es), s, period, rate, note)


@dataclass
class BeatIndices:
    """EDV, ESV, EF per beat and their mean and SD over beats.

    Attributes:
        rows: one dict per beat: beat (1-based), ED, ES (frames; biplane: ``ED_2CH``...), EDV, ESV, EF, method, units.
        mean, sd: over beats with a number, keys EDV, ESV, EF (SD 0 for a single beat; NaN without beats).
        method: "biplane", "single-plane 4CH" ...; units "mL" or "px^3".
    """

    rows: list[dict] = field(default_factory=list)
    mean: dict[str, float] = field(default_factory=dict)
    sd: dict[str, float] = field(default_factory=dict)
    method: str = ""
    units: str = ""


def beat_indices(
    masks: dict[View, np.ndarray],
    beats: dict[View, list[Beat]],
    spacing: dict[View, tuple[float, float] | None],
) -> BeatIndices:
    """EDV / ESV / EF of each beat from labels ``{View: (T, H, W)}`` and their beats (see the module docstring).

    Views without beats are left out; with two views, the beats are paired in order (the shorter list sets the count).
    A beat whose masks hold no measurable LV gets NaN values and a ``note``.
    """
    views = [v for v in sorted(masks, key=lambda v: View(v).value) if beats.get(v)]
    out = BeatIndices()
    if not views:
        return _summarise(out)
    count = min(len(beats[v]) for v in views)
    for k in range(count):
        pairs = {v: beats[v][k] for v in views}
        row: dict = {"beat": k + 1}
        for v, beat in pairs.items():
            suffix = "" if len(views) == 1 else f"_{View(v).value}"
            row[f"ED{suffix}"], row[f"ES{suffix}"] = beat.ed, beat.es
        try:
            result = clinical_indices({v: masks[v][b.ed] for v, b in pairs.items()},
                                      {v: masks[v][b.es] for v, b in pairs.items()}, spacing)
        except ValueError as err:
            row.update({"EDV": float("nan"), "ESV": float("nan"), "EF": float("nan"), "note": str(err)})
        else:
            row.update({"EDV": result.edv, "ESV": result.esv, "EF": result.ef})
            out.method, out.units = result.method, result.units
        out.rows.append(row)
    return _summarise(out)


def _summarise(out: BeatIndices) -> BeatIndices:
    for key in ("EDV", "ESV", "EF"):
        values = np.array([row[key] for row in out.rows if np.isfinite(row[key])], np.float64)
        out.mean[key] = float(values.mean()) if len(values) else float("nan")
        out.sd[key] = float(values.std(ddof=1)) if len(values) > 1 else (0.0 if len(values) else float("nan"))
    return out
