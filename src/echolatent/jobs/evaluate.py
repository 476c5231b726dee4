"""``echolatent evaluate``: predicted masks vs ground truth -> ``metrics.csv``, ``frames.csv``, ``summary.json``.

Predictions are the ``<name><suffix>`` masks under ``PRED`` (``_pred`` by default, the layout the commands write),
paired with the ground truth of the same patient and name (``_gt`` masks under ``GT``). Without thresholds, the
temporal bounds come from all ground-truth masks (when they share a grid) with the published taus.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from echolatent.errors import InputError
from echolatent.io.camus import EchoSequence, SequenceRef, load_sequence, require_same_grid
from echolatent.io.discovery import masks_with_suffix, truth_refs
from echolatent.jobs import loop
from echolatent.measure.cohort import clinical_table, truth_temporal, truth_thresholds, truth_validity
from echolatent.measure.sequence import SequenceMeasures, measure_sequence
from echolatent.measure.summary import summarise
from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import ValidityThresholds
from echolatent.outdir import guarded_output

log = logging.getLogger(__name__)


def align_to_truth(pred: EchoSequence, gt: EchoSequence) -> EchoSequence:
    """Predictions usually sit without a cfg: take ED/ES (and the ED -> ES frame order) from the ground truth."""
    mask = pred.mask[::-1].copy() if pred.reversed != gt.reversed else pred.mask
    return replace(pred, mask=mask, ed=gt.ed, es=gt.es, reversed=gt.reversed, info=pred.info or gt.info)


@dataclass
class Evaluated:
    """One evaluated sequence: ids, measures, the loaded prediction and ground truth (None without)."""

    ids: dict
    measures: SequenceMeasures
    pred: EchoSequence
    gt: EchoSequence | None


@dataclass
class EvaluateJob:
    """The :class:`~echolatent.jobs.loop.FolderJob` of ``evaluate``; ``find`` loads the ground truth (the temporal
    bounds need all of it before the first sequence is measured)."""

    pred_root: Path
    gt_root: Path | None
    out: Path
    pred_suffix: str = "_pred"
    gt_suffix: str = "_gt"
    thresholds: TemporalThresholds | None = None
    validity_thresholds: ValidityThresholds | None = None
    name: str = "evaluate"
    skip_bad: bool = False

    def find(self) -> list[tuple[SequenceRef, EchoSequence | None]]:
        refs = masks_with_suffix(self.pred_root, self.pred_suffix)
        if not refs:
            raise InputError(self.pred_root, f"no '{self.pred_suffix}' masks found")
        truth = truth_refs(self.gt_root, self.gt_suffix) if self.gt_root is not None else {}
        items = []
        for ref in refs:
            gt_ref = truth.get((ref.patient, ref.name))
            if self.gt_root is not None and gt_ref is None:
                raise InputError(ref.mask, f"no ground truth '{ref.name}{self.gt_suffix}' under {self.gt_root}")
            items.append((ref, loop.with_spacing_rule(load_sequence(gt_ref, image=False)) if gt_ref else None))
        if self.thresholds is None and truth:
            self.thresholds = truth_thresholds([gt.mask for _, gt in items])
        return items

    def process(self, index: int, item: tuple[SequenceRef, EchoSequence | None]) -> Evaluated:
        ref, gt = item
        pred = loop.with_spacing_rule(load_sequence(ref, image=False))
        if gt is not None:
            require_same_grid(pred, gt, "ground truth")
            pred = align_to_truth(pred, gt)
            if not gt.mask.any():
                log.warning("%s: the ground truth is empty in every frame (no LV, MYO or LA): its scores mean "
                            "nothing", gt.ref.mask)
        measures = measure_sequence(pred.mask, pred.spacing, gt=gt.mask if gt else None, thresholds=self.thresholds,
                                    validity_thresholds=self.validity_thresholds, instants=pred.instants)
        return Evaluated(loop.sequence_ids(ref), measures, pred, gt)

    def summarise(self, done: list[Evaluated], skipped: dict[str, str]) -> dict:
        gts = [d.gt for d in done if d.gt is not None]
        clinical = clinical_table([(d.pred, d.gt) for d in done], self.gt_root)
        summary = summarise([(d.ids, d.measures) for d in done], clinical,
                            truth_validity(gts, self.validity_thresholds), self.thresholds)
        summary["temporal_ground_truth"] = truth_temporal(gts, self.thresholds)
        summary["units"] = loop.units([d.pred.spacing for d in done])
        loop.write_tables(self.out, *loop.table_rows([(d.ids, None, d.measures) for d in done]), summary)
        return summary


def evaluate(
    pred_root: str | Path,
    gt_root: str | Path | None,
    out: str | Path,
    *,
    pred_suffix: str = "_pred",
    gt_suffix: str = "_gt",
    thresholds: TemporalThresholds | None = None,
    validity_thresholds: ValidityThresholds | None = None,
    progress: loop.Progress | None = None,
) -> dict:
    """Measure every predicted sequence under ``pred_root`` (against ``gt_root`` when given); write the tables.

    Returns:
        The summary dict written to ``out/summary.json``.

    Raises:
        InputError: no prediction found, a prediction without ground truth, or of another shape, spacing or
            orientation.
    """
    job = EvaluateJob(Path(pred_root), Path(gt_root) if gt_root is not None else None, Path(out), pred_suffix,
                      gt_suffix, thresholds, validity_thresholds)
    with guarded_output(out, [pred_root, gt_root], command="evaluate"):
        return loop.run_folder_job(job, progress)
