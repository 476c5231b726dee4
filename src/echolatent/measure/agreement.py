"""Agreement of an ejection fraction with a reference: per-patient biplane EF from ED/ES frames, and the
errors users publish (mean absolute error, bias, correlation, share within 5 points) with 95 % intervals.

Frames are identified CAMUS-style, ``patientXXXX_{2CH,4CH}_{ED,ES}``; a patient counts when all four of its
masks have a measurable LV (else it is left out and counted in ``skipped``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import numpy as np

from echolatent.labels import View
from echolatent.measure.clinical import clinical_indices

log = logging.getLogger(__name__)

_FRAME_ID = re.compile(r"^(?P<patient>.+)_(?P<view>2CH|4CH)_(?P<instant>ED|ES)$")
WITHIN_POINTS = 5.0


def _group_frames(ids: Sequence[str]) -> dict[str, dict[tuple[View, str], int]]:
    """``{patient: {(view, instant): index}}`` from frame ids; ids that do not parse are ignored."""
    groups: dict[str, dict[tuple[View, str], int]] = {}
    for index, frame_id in enumerate(ids):
        match = _FRAME_ID.match(frame_id)
        if match is None:
            continue
        key = (View(match["view"]), match["instant"])
        groups.setdefault(match["patient"], {})[key] = index
    return groups


def biplane_ef_by_patient(
    masks: np.ndarray, ids: Sequence[str], spacing: tuple[float, float] | None = None
) -> dict[str, float]:
    """Biplane Simpson EF (%) per patient from ``masks (N, H, W)`` labels named by ``ids`` (length N).

    Patients without all four of 2CH/4CH x ED/ES, or whose LV cannot be measured, are left out (logged).
    ``spacing (sy, sx)`` mm applies to every frame (None: pixels; EF is scale-free).
    """
    if len(ids) != len(masks):
        raise ValueError(f"{len(ids)} ids for {len(masks)} masks")
    result = {}
    for patient, frames in _group_frames(ids).items():
        views = [v for v in (View.A2C, View.A4C) if (v, "ED") in frames and (v, "ES") in frames]
        if len(views) != 2:
            continue
        ed = {v: masks[frames[(v, "ED")]] for v in views}
        es = {v: masks[frames[(v, "ES")]] for v in views}
        try:
            indices = clinical_indices(ed, es, {v: spacing for v in views})
        except ValueError as error:
            log.info("%s: EF not measured (%s)", patient, error)
            continue
        if np.isfinite(indices.ef):
            result[patient] = indices.ef
    return result


def _scores(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``[mae, bias, r, within]`` of ``pred - ref`` (both ``(n,)`` EF in %)."""
    error = pred - ref
    r = float(np.corrcoef(pred, ref)[0, 1]) if len(pred) > 2 and np.std(pred) > 0 and np.std(ref) > 0 else np.nan
    return np.array([np.mean(np.abs(error)), np.mean(error), r, np.mean(np.abs(error) <= WITHIN_POINTS)])


def ef_agreement(pred: dict[str, float], ref: dict[str, float], *, resamples: int = 2000, seed: int = 0) -> dict:
    """Errors of ``pred`` EF against ``ref`` EF (``{patient: EF %}``) on the patients both hold.

    Returns ``{"n", "skipped", "mae", "bias", "r", "within_5", "ci95": {name: [lo, hi]}}``; intervals are
    percentile bootstraps over patients (``resamples`` draws, seeded; none when 0). EF errors are in EF points
    (%); ``within_5`` is the share of patients with ``|error| <= 5``. Fewer than 3 patients: values are None.
    """
    common = sorted(set(pred) & set(ref))
    skipped = len(set(pred) ^ set(ref))
    names = ("mae", "bias", "r", "within_5")
    if len(common) < 3:
        return {"n": len(common), "skipped": skipped, **dict.fromkeys(names), "ci95": {}}
    p = np.array([pred[k] for k in common])
    r = np.array([ref[k] for k in common])
    point = _scores(p, r)
    values = {name: float(v) for name, v in zip(names, point, strict=True)}
    result = {"n": len(common), "skipped": skipped, **values, "ci95": {}}
    if resamples <= 0:
        return result
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(common), (resamples, len(common)))
    boot = np.array([_scores(p[d], r[d]) for d in draws])
    result["ci95"] = {name: [float(np.nanpercentile(boot[:, i], 2.5)), float(np.nanpercentile(boot[:, i], 97.5))]
                      for i, name in enumerate(names)}
    return result
