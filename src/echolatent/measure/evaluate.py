"""Folder-level evaluation: predicted masks vs ground truth -> ``metrics.csv``, ``frames.csv``, ``summary.json``.

Predictions are found with :func:`echolatent.io.camus.find_sequences` (mask suffix ``_pred`` by default, in the
layout the commands write: ``PRED/<patient>/<name>_pred.nii.gz``) and paired with the ground truth of the same
patient and name (``_gt`` masks under ``GT``). Clinical indices use the ED/ES frames of each patient's views,
compared with ``GT/truth.json`` (synthetic data), else the cfg's LVedv/LVesv/LVef or EF, else the indices
measured the same way on the ground-truth masks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.files import write_csv_atomic, write_json_atomic
from echolatent.labels import View
from echolatent.measure.clinical import clinical_indices
from echolatent.measure.summary import summarise
from echolatent.measure.tables import SequenceMeasures, measure_sequence, temporal_check
from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import ValidityThresholds, check_validity

log = logging.getLogger(__name__)


def evaluate(
    pred_root: str | Path,
    gt_root: str | Path | None,
    out: str | Path,
    *,
    pred_suffix: str = "_pred",
    gt_suffix: str = "_gt",
    thresholds: TemporalThresholds | None = None,
    validity_thresholds: ValidityThresholds | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Measure every predicted sequence under ``pred_root`` (against ``gt_root`` when given); write tables.

    Args:
        thresholds: temporal bounds/taus; default: bounds from all ground-truth masks (when they share a grid)
            with the published taus; without ground truth, no temporal check.
        progress: called with ``(done, total)`` after each sequence.

    Returns:
        The summary dict written to ``out/summary.json``.

    Raises:
        InputError: no prediction found, a prediction without ground truth, or of another shape, spacing or
            orientation.
    """
    from echolatent.io.camus import find_sequences, load_sequence, require_same_grid

    out = Path(out)
    refs = [r for r in find_sequences(pred_root, mask_suffix=pred_suffix) if r.mask is not None]
    if not refs:
        raise InputError(Path(pred_root), f"no '{pred_suffix}' masks found")
    gt_refs = {}
    if gt_root is not None:
        gt_refs = {(r.patient, r.name): r for r in find_sequences(gt_root, mask_suffix=gt_suffix) if r.mask}
    pairs = []
    for ref in refs:
        gt_ref = gt_refs.get((ref.patient, ref.name))
        if gt_root is not None and gt_ref is None:
            raise InputError(ref.mask, f"no ground truth '{ref.name}{gt_suffix}' under {gt_root}")
        pred = load_sequence(ref, image=False)
        gt = load_sequence(gt_ref, image=False) if gt_ref is not None else None
        if gt is not None:
            require_same_grid(pred, gt, "ground truth")
            pred = _align_to_truth(pred, gt)
            if not gt.mask.any():
                log.warning("%s: the ground truth is empty in every frame (no LV, MYO or LA): its scores mean "
                            "nothing", gt_ref.mask)
        pairs.append((pred, gt))
    if thresholds is None and gt_refs:
        thresholds = reference_thresholds([gt.mask for _, gt in pairs])
    measures, structure_rows, frame_rows = [], [], []
    for done, (pred, gt) in enumerate(pairs, 1):
        ids = {
            "sequence": pred.ref.name,
            "patient": pred.ref.patient,
            "view": pred.ref.view.value if pred.ref.view else "",
            "kind": pred.ref.kind,
        }
        m = measure_sequence(
            pred.mask,
            pred.spacing,
            gt=gt.mask if gt else None,
            thresholds=thresholds,
            validity_thresholds=validity_thresholds,
            instants=_instants(pred),
        )
        measures.append((ids, m))
        structure_rows += m.structure_rows(**ids)
        frame_rows += m.frame_rows(**ids)
        if progress is not None:
            progress(done, len(pairs))
    gt_valid = _gt_validity([gt for _, gt in pairs if gt is not None], validity_thresholds)
    clinical = clinical_table(pairs, gt_root)
    summary = summarise(measures, clinical, gt_valid, thresholds)
    summary["temporal_ground_truth"] = _gt_temporal([gt for _, gt in pairs if gt is not None], thresholds)
    write_csv_atomic(structure_rows, out / "metrics.csv")
    write_csv_atomic(frame_rows, out / "frames.csv")
    write_json_atomic(summary, out / "summary.json")
    return summary


def _align_to_truth(pred, gt):
    """Predictions usually sit without a cfg: take ED/ES (and the ED -> ES frame order) from the ground truth."""
    mask = pred.mask[::-1].copy() if pred.reversed != gt.reversed else pred.mask
    return replace(pred, mask=mask, ed=gt.ed, es=gt.es, reversed=gt.reversed, info=pred.info or gt.info)


def reference_thresholds(reference: list[np.ndarray]) -> TemporalThresholds | None:
    """Temporal bounds from reference masks when they share one grid (published taus), else None."""
    grids = {m.shape[1:] for m in reference}
    if len(grids) != 1:
        log.info("ground-truth masks on %d grids: no temporal check without given thresholds", len(grids))
        return None
    thresholds = TemporalThresholds.from_reference(reference)
    thresholds.note = f"bounds from the {len(reference)} ground-truth mask arrays, published taus"
    return thresholds


def _instants(seq) -> list[str]:
    labels = [""] * seq.mask.shape[0]
    if seq.ed is not None:
        labels[seq.ed] = "ED"
    if seq.es is not None:
        labels[seq.es] = "ES"
    return labels


def _gt_validity(gts, validity_thresholds) -> dict | None:
    if not gts:
        return None
    reports = [check_validity(g.mask, validity_thresholds) for g in gts]  # one by one: frame sizes may differ
    valid = np.concatenate([r.valid for r in reports])
    return {
        "rate": float(valid.mean()),
        "frames": int(valid.size),
        "per_criterion": {k: float(np.concatenate([r.passed[k] for r in reports]).mean()) for k in reports[0].passed},
    }


def _gt_temporal(gts, thresholds) -> dict | None:
    """The ground truth's own temporal verdicts under the same thresholds (the level to compare with)."""
    if thresholds is None or not thresholds.bounds:
        return None
    reports = [temporal_check(g.mask, g.spacing, thresholds) for g in gts if g.mask.shape[0] >= 3]
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


__all__ = ["evaluate", "SequenceMeasures", "write_csv_atomic", "clinical_table", "reference_thresholds"]
