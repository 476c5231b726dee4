"""The measuring step shared by the commands: one sequence of masks -> attributes, validity, temporal
consistency, scores against ground truth, as tidy rows.

Two row kinds, both lists of flat dicts (CSV-ready):

* structure rows (``metrics.csv``): one per frame and structure (LV, MYO, EPI, LA): area and, with a ground
  truth, dice / hd_mm / assd_mm; plus the frame's validity and temporal verdicts;
* frame rows (``frames.csv``): one per frame: the attributes and why any is not measured (``not_measured``),
  the endocardial length and longitudinal strain (``endo_length``, ``strain_pct``), the value of every validity
  criterion, the failed criteria and the temporal deviations d(t).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from echolatent.labels import NUM_LABELS
from echolatent.measure.attributes import ATTRIBUTES, check_masks, check_spacing, compute_attributes, measure_attributes
from echolatent.measure.framecache import resize_labels_cached
from echolatent.measure.landmarks import Landmarks
from echolatent.measure.scores import SCORES, STRUCTURES, segmentation_scores
from echolatent.measure.strain import StrainResult, global_longitudinal_strain
from echolatent.measure.temporal import TemporalReport, TemporalThresholds, temporal_consistency, turning_frames
from echolatent.measure.validity import CRITERIA, ValidityReport, ValidityThresholds, check_validity

log = logging.getLogger(__name__)


@dataclass
class SequenceMeasures:
    """Everything measured on one sequence ``(T, H, W)``.

    Attributes:
        attributes: ``{attribute: (T,)}`` at the masks' own grid and spacing.
        areas: ``{structure: (T,)}`` mm^2 (px without spacing).
        validity: per-frame anatomical validity.
        temporal: temporal consistency (None for fewer than 3 frames, or without thresholds holding bounds).
        scores: ``{structure: {score: (T,)}}`` against the ground truth (None without one).
        instants: ``(T,)`` "ED" / "ES" / "" labels of the frames.
        reasons: ``{attribute: {frame: reason}}`` for every attribute not measured on a frame (NaN).
        strain: endocardial length and longitudinal strain (None for a single frame).
    """

    attributes: dict[str, np.ndarray]
    areas: dict[str, np.ndarray]
    validity: ValidityReport
    temporal: TemporalReport | None
    scores: dict[str, dict[str, np.ndarray]] | None
    instants: list[str]
    reasons: dict[str, dict[int, str]] = field(default_factory=dict)
    strain: StrainResult | None = None

    @property
    def frames(self) -> int:
        return len(self.instants)

    def structure_rows(self, **ids) -> list[dict]:
        """One row per frame and structure; ``ids`` (sequence, patient, view...) lead each row."""
        rows = []
        for t in range(self.frames):
            for name in STRUCTURES:
                row = {**ids, "frame": t, "instant": self.instants[t], "structure": name, "area": self.areas[name][t]}
                for score in SCORES:
                    row[score] = self.scores[name][score][t] if self.scores else float("nan")
                row["valid"] = bool(self.validity.valid[t])
                row["temporal_ok"] = bool(self.temporal.frame_ok[t]) if self.temporal else ""
                rows.append(row)
        return rows

    def frame_rows(self, **ids) -> list[dict]:
        """One row per frame: attributes, validity criteria values, failed criteria, temporal d(t)."""
        rows = []
        for t in range(self.frames):
            row = {**ids, "frame": t, "instant": self.instants[t]}
            row.update({name: self.attributes[name][t] for name in ATTRIBUTES})
            row["not_measured"] = "; ".join(f"{name}: {why[t]}" for name, why in self.reasons.items() if t in why)
            row["endo_length"] = self.strain.length[t] if self.strain else float("nan")
            row["strain_pct"] = self.strain.strain[t] if self.strain else float("nan")
            row["valid"] = bool(self.validity.valid[t])
            row["failed"] = " ".join(self.validity.failures(t))
            row.update({name: self.validity.criteria[name][t] for name in CRITERIA})
            if self.temporal:
                row["temporal_ok"] = bool(self.temporal.frame_ok[t])
                row.update({f"d_{name}": d[t] for name, d in self.temporal.d.items()})
            rows.append(row)
        return rows


def measure_sequence(
    masks: np.ndarray,
    spacing: tuple[float, float] | None,
    *,
    gt: np.ndarray | None = None,
    thresholds: TemporalThresholds | None = None,
    validity_thresholds: ValidityThresholds | None = None,
    instants: list[str] | None = None,
    validity: ValidityReport | None = None,
    temporal: TemporalReport | None = None,
    unchecked: np.ndarray | None = None,
) -> SequenceMeasures:
    """Measure a sequence of masks ``(T, H, W)`` with spacing ``(sy, sx)`` mm (None: pixels).

    Args:
        gt: ground truth ``(T, H, W)`` on the same grid, for Dice / HD / ASSD.
        thresholds: temporal bounds and taus; when they carry a grid that differs from the masks', the masks
            are resampled to it (and measured in the thresholds' units) for the temporal check only.
        validity_thresholds: anatomical limits (default: CAMUS-224 calibrated).
        instants: ``(T,)`` "ED"/"ES"/"" labels for the rows (default: all "").
        validity, temporal: reports already computed on these very masks with these limits (e.g. by the smoother
            on its output): used as they are instead of checking again.
        unchecked: ``(T,)`` bool frames not held to tau (default: the turns among ``instants``,
            :func:`~echolatent.measure.temporal.turning_frames`).

    Raises:
        InputError: unusable masks; ValueError: gt of another shape, instants of another length.
    """
    masks = check_masks(masks)
    check_spacing(spacing)
    T = masks.shape[0]
    instants = list(instants) if instants is not None else [""] * T
    if len(instants) != T:
        raise ValueError(f"{len(instants)} instant labels for {T} frames")
    measured = measure_attributes(masks, spacing)
    attributes = measured.values
    strain = sequence_strain(masks, spacing, instants, measured.landmarks) if T >= 2 else None
    sy, sx = check_spacing(spacing)
    counts = label_counts(masks)
    areas = {name: counts[:, list(labels)].sum(1) * sy * sx for name, labels in STRUCTURES.items()}
    scores = segmentation_scores(masks, gt, spacing) if gt is not None else None
    if validity is None:
        validity = check_validity(masks, validity_thresholds)
    elif len(validity.valid) != T:
        raise ValueError(f"a validity report of {len(validity.valid)} frames for {T} frames")
    checkable = thresholds is not None and bool(thresholds.bounds) and T >= 3
    if temporal is None or not checkable:
        unchecked = turning_frames(instants) if unchecked is None else unchecked
        temporal = temporal_check(masks, spacing, thresholds, unchecked) if checkable else None
    return SequenceMeasures(attributes, areas, validity, temporal, scores, instants, measured.reasons, strain)


def sequence_strain(masks: np.ndarray, spacing: tuple[float, float] | None, instants: list[str],
                    landmarks: Landmarks | None = None) -> StrainResult:
    """Longitudinal strain of a sequence from its ED frame (the first one labelled "ED", else frame 0) to its ES
    frame (the first "ES" after it, else the frame of the smallest LV); ``landmarks``: the masks' LV landmarks when
    already measured."""
    ed = instants.index("ED") if "ED" in instants else 0
    es = instants.index("ES", ed) if "ES" in instants[ed:] else None
    return global_longitudinal_strain(masks, spacing, ed=ed, es=es, landmarks=landmarks)


def label_counts(masks: np.ndarray, chunk: int = 64) -> np.ndarray:
    """``(T, H, W)`` labels 0..3 -> ``(T, 4)`` int64 pixel count of each label per frame (``chunk`` frames at a time:
    no full-sequence temporaries)."""
    counts = np.empty((len(masks), NUM_LABELS), dtype=np.int64)
    for start in range(0, len(masks), chunk):
        block = masks[start:start + chunk]
        for label in range(NUM_LABELS):
            counts[start:start + chunk, label] = (block == label).sum((1, 2))
    return counts


def temporal_check(
    masks: np.ndarray,
    spacing: tuple[float, float] | None,
    thresholds: TemporalThresholds,
    unchecked: np.ndarray | None = None,
) -> TemporalReport:
    """Temporal consistency of ``(T, H, W)`` masks, measured in the units of ``thresholds`` (``unchecked`` ``(T,)``
    bool frames not held to tau: :func:`~echolatent.measure.temporal.temporal_consistency`).

    Masks are first resampled to ``thresholds.grid`` when it is set and differs; attributes are in pixels of
    that grid when ``thresholds.spacing`` is None, else in mm (the masks' spacing, rescaled by the resampling).
    """
    grid = tuple(thresholds.grid) if thresholds.grid is not None else masks.shape[1:]
    sy, sx = check_spacing(spacing)
    if grid != masks.shape[1:]:
        sy, sx = sy * masks.shape[1] / grid[0], sx * masks.shape[2] / grid[1]
        masks = resize_labels_cached(masks, grid)
    attributes = compute_attributes(masks, None if thresholds.spacing is None else (sy, sx))
    return temporal_consistency(attributes, thresholds, unchecked)
