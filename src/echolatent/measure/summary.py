"""Summaries of measured sequences for ``summary.json``: score means per structure and instant, validity rates,
temporal verdicts, unmeasured attributes, longitudinal strain, clinical errors."""

from __future__ import annotations

import numpy as np

from echolatent.measure.scores import SCORES, STRUCTURES
from echolatent.measure.sequence import SequenceMeasures
from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import CRITERIA


def _mean(values) -> float | None:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else None


def score_means(measures: list[tuple[dict, SequenceMeasures]]) -> dict:
    """``{structure: {"all"/"ED"/"ES": {score: mean, "frames": n}}}`` over frames with scores (NaNs skipped)."""
    table: dict = {}
    for name in STRUCTURES:
        for instant in ("all", "ED", "ES"):
            picked = {score: [] for score in SCORES}
            for _, m in measures:
                if m.scores is None:
                    continue
                keep = [t for t in range(m.frames) if instant == "all" or m.instants[t] == instant]
                for score in SCORES:
                    picked[score] += list(m.scores[name][score][keep])
            frames = len(picked["dice"])
            if frames:
                entry = {score: _mean(values) for score, values in picked.items()}
                entry["frames"] = frames
                table.setdefault(name, {})[instant] = entry
    return table


def validity_summary(measures: list[tuple[dict, SequenceMeasures]]) -> dict:
    """Valid frame rate overall and pass rate per criterion."""
    valid = np.concatenate([m.validity.valid for _, m in measures])
    passed = {name: np.concatenate([m.validity.passed[name] for _, m in measures]) for name in CRITERIA}
    return {
        "rate": float(valid.mean()),
        "frames": int(valid.size),
        "per_criterion": {name: float(flags.mean()) for name, flags in passed.items()},
        "thresholds": measures[0][1].validity.thresholds.note,
    }


def temporal_summary(measures: list[tuple[dict, SequenceMeasures]], thresholds: TemporalThresholds | None) -> dict:
    """Inconsistent frames per attribute and overall, sequences with any inconsistency, and per sequence of several
    half cycles the frames at its turns that were not held to tau."""
    checked = [(ids, m.temporal) for ids, m in measures if m.temporal is not None]
    if not checked:
        return {"checked": 0, "note": "no temporal check (no thresholds, or sequences shorter than 3 frames)"}
    counts: dict[str, int] = {}
    for _, report in checked:
        for name, count in report.counts().items():
            counts[name] = counts.get(name, 0) + count
    interior = sum(max(len(r.frame_ok) - 2, 0) for _, r in checked)
    turns = {ids["sequence"]: int(r.unchecked.sum()) for ids, r in checked if r.unchecked is not None}
    not_verified: dict[str, list[str]] = {}
    for ids, report in checked:
        for name in report.not_verified:
            not_verified.setdefault(name, []).append(ids["sequence"])
    return {
        "checked": len(checked),
        "sequences_ok": sum(r.sequence_ok for _, r in checked),
        "inconsistent_sequences": [ids["sequence"] for ids, r in checked if r.counts()["any"]],
        "not_verified": not_verified,
        "interior_frames": interior,
        "frames_at_turns_not_held_to_tau": turns,
        "inconsistent_frames": counts,
        "thresholds": {"note": thresholds.note if thresholds else "", "grid": thresholds.grid if thresholds else None},
    }


def not_measured_summary(measures: list[tuple[dict, SequenceMeasures]]) -> dict:
    """``{attribute: {"frames": n, "sequences": m, "reasons": {reason: frames}}}`` over the attributes not measured
    on at least one frame (an empty dict when every attribute was measured everywhere)."""
    table: dict = {}
    for _, m in measures:
        for name, why in m.reasons.items():
            if not why:
                continue
            entry = table.setdefault(name, {"frames": 0, "sequences": 0, "reasons": {}})
            entry["frames"] += len(why)
            entry["sequences"] += 1
            for text in why.values():
                entry["reasons"][text] = entry["reasons"].get(text, 0) + 1
    return table


def strain_summary(measures: list[tuple[dict, SequenceMeasures]]) -> dict:
    """GLS at ES and peak (%) per sequence, their means, and the sequences where it is not measured."""
    per_sequence = {}
    for ids, m in measures:
        if m.strain is not None:
            per_sequence[ids.get("sequence", str(len(per_sequence)))] = {
                "gls_es": _finite(m.strain.gls_es), "gls_peak": _finite(m.strain.gls_peak), "ed": m.strain.ed,
                "es": m.strain.es, "frames_not_measured": len(m.strain.reasons)}
    gls = [v["gls_es"] for v in per_sequence.values() if v["gls_es"] is not None]
    return {
        "sequences": per_sequence,
        "mean_gls_es": _mean(gls),
        "mean_gls_peak": _mean([v["gls_peak"] for v in per_sequence.values() if v["gls_peak"] is not None]),
        "not_measured": [name for name, v in per_sequence.items() if v["gls_es"] is None],
    }


def _finite(value: float) -> float | None:
    """``value`` as a float, None when not finite (JSON has no NaN; "not measured")."""
    return float(value) if np.isfinite(value) else None


def clinical_summary(clinical: dict) -> dict:
    """Mean absolute and signed errors of EDV, ESV, EF over patients with a truth."""
    errors: dict[str, list[float]] = {}
    for row in clinical.values():
        for key, value in row.get("error", {}).items():
            errors.setdefault(key, []).append(value)
    return {
        "patients": clinical,
        "mae": {k: _mean(np.abs(v)) for k, v in errors.items()},
        "bias": {k: _mean(v) for k, v in errors.items()},
        "count": {k: len(v) for k, v in errors.items()},
    }


def summarise(measures, clinical: dict, gt_validity: dict | None, thresholds: TemporalThresholds | None) -> dict:
    """The whole ``summary.json`` dict."""
    return {
        "sequences": len(measures),
        "frames": int(sum(m.frames for _, m in measures)),
        "scores": score_means(measures),
        "validity": validity_summary(measures),
        "validity_ground_truth": gt_validity,
        "temporal": temporal_summary(measures, thresholds),
        "not_measured": not_measured_summary(measures),
        "strain": strain_summary(measures),
        "clinical": clinical_summary(clinical),
    }
