"""Measures over a cohort of loaded sequences: per-patient clinical indices against the truth, the ground truth's own
validity and temporal verdicts, temporal bounds from ground-truth masks.

Clinical indices use the ED/ES frames of each patient's views, compared with ``GT/truth.json`` (synthetic data),
else the cfg's LVedv/LVesv/LVef or EF, else the indices measured the same way on the ground-truth masks.
Sequences are :class:`~echolatent.io.camus.EchoSequence` items (``mask``, ``ed``, ``es``, ``spacing``, ``info``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.labels import MIN_FRAMES, View
from echolatent.measure.clinical import clinical_indices
from echolatent.measure.sequence import temporal_check
from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import check_validity

log = logging.getLogger(__name__)


def truth_thresholds(reference: list[np.ndarray]) -> TemporalThresholds | None:
    """Temporal bounds from reference masks when they share one grid (published taus), else None."""
    grids = {m.shape[1:] for m in reference}
    if len(grids) != 1:
        log.info("ground-truth masks on %d grids: no temporal check without given thresholds", len(grids))
        return None
    thresholds = TemporalThresholds.from_reference(reference)
    thresholds.note = f"bounds from the {len(reference)} ground-truth mask arrays, published taus"
    return thresholds


def truth_validity(gts, validity_thresholds) -> dict | None:
    """Validity rates of loaded ground-truth sequences (None without any)."""
    if not gts:
        return None
    reports = [check_validity(g.mask, validity_thresholds) for g in gts]  # one by one: frame sizes may differ
    valid = np.concatenate([r.valid for r in reports])
    return {
        "rate": float(valid.mean()),
        "frames": int(valid.size),
        "per_criterion": {k: float(np.concatenate([r.passed[k] for r in reports]).mean()) for k in reports[0].passed},
    }


def truth_temporal(gts, thresholds) -> dict | None:
    """The ground truth's own temporal verdicts under the same thresholds (the level to compare with)."""
    if thresholds is None or not thresholds.bounds:
        return None
    reports = [temporal_check(g.mask, g.spacing, thresholds) for g in gts if g.mask.shape[0] >= MIN_FRAMES]
    if not reports:
        return None
    counts: dict[str, int] = {}
    for report in reports:
        for name, count in report.counts().items():
            counts[name] = counts.get(name, 0) + count
    return {"checked": len(reports), "sequences_ok": sum(r.sequence_ok for r in reports), "inconsistent_frames": counts}


def instant_masks(seqs) -> dict[str, dict[str, dict[View, tuple[np.ndarray, tuple[float, float]]]]]:
    """``{patient: {"ED"/"ES": {view: (mask (H, W), spacing)}}}`` from loaded sequences (sequences first)."""
    found: dict = {}
    for seq in seqs:
        if seq.ref.view is None:
            continue
        for instant, index in (("ED", seq.ed), ("ES", seq.es)):
            if index is not None:
                slot = found.setdefault(seq.ref.patient, {}).setdefault(instant, {})
                slot.setdefault(seq.ref.view, (seq.mask[index], seq.spacing))
    return found


def clinical_table(pairs, gt_root) -> dict:
    """Per patient EDV/ESV/EF of the predictions and of the truth, and their errors."""
    preds = instant_masks([p for p, _ in pairs])
    gts = instant_masks([g for _, g in pairs if g is not None])
    truth_json = _truth_json(gt_root)
    patients = {}
    for patient, masks in preds.items():
        pred = _indices(masks, patient)
        if pred is None:
            continue
        row = {"pred": asdict(pred)}
        truth, source = _truth(patient, truth_json, pairs, gts.get(patient))
        if truth is not None:
            row["truth"], row["truth_source"] = truth, source
            row["error"] = {k: row["pred"][k.lower()] - truth[k] for k in ("EDV", "ESV", "EF") if k in truth}
        patients[patient] = row
    return patients


def _indices(masks, patient):
    ed, es = masks.get("ED", {}), masks.get("ES", {})
    views = sorted(set(ed) & set(es), key=lambda v: v.value)
    if not views:
        return None
    try:
        return clinical_indices(
            {v: ed[v][0] for v in views}, {v: es[v][0] for v in views}, {v: ed[v][1] for v in views}
        )
    except ValueError as err:
        log.warning("%s: no clinical indices (%s)", patient, err)
        return None


def _truth_json(gt_root) -> dict:
    path = Path(gt_root) / "truth.json" if gt_root is not None else None
    if path is None or not path.is_file():
        return {}
    try:
        return json.loads(path.read_text()).get("patients", {})
    except (json.JSONDecodeError, AttributeError) as err:
        raise InputError(path, f"unreadable truth file ({err})") from None


def _truth(patient, truth_json, pairs, gt_masks):
    if patient in truth_json:
        t = truth_json[patient]
        return {k: float(t[k]) for k in ("EDV", "ESV", "EF") if k in t}, "truth.json"
    for _, gt in pairs:
        if gt is not None and gt.ref.patient == patient and gt.info:
            info = gt.info
            values = {"EDV": info.get("LVedv"), "ESV": info.get("LVesv"), "EF": info.get("LVef") or info.get("EF")}
            values = {k: float(v) for k, v in values.items() if v not in (None, "")}
            if values:
                return values, "cfg"
    if gt_masks:
        indices = _indices(gt_masks, patient)
        if indices is not None:
            return {"EDV": indices.edv, "ESV": indices.esv, "EF": indices.ef}, "ground-truth masks"
    return None, None
