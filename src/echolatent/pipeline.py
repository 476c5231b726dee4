"""The whole job as plain functions: segment -> smooth -> measure, on arrays and on paths.

On arrays (one sequence ``(T, H, W)`` uint8, apex at the top, spacing ``(sy, sx)`` mm or None)::

    from echolatent.pipeline import process_sequence
    from echolatent.segment import load_segmenter
    from echolatent.temporal.smooth import Smoother

    result = process_sequence(images, (0.3, 0.3), load_segmenter(), Smoother(method="exact"))
    result.pred, result.post                    # (T, H, W) U-Net masks, smoothed masks
    result.before.validity.valid                # (T,) anatomical validity of the U-Net masks
    result.after.temporal.frame_ok              # (T,) temporal consistency after smoothing

On paths (what ``echolatent run`` does)::

    from echolatent.pipeline import run
    summary = run("CAMUS_ROOT", "OUT")          # OUT/report.html, metrics.csv, summary.json, masks...

Sequences of fewer than 3 frames (e.g. CAMUS ED/ES files) are segmented and measured; temporal smoothing
needs 3 frames, so they are left unsmoothed (``post`` is None) with a note. The output folder is built in a
staging folder beside it (``OUT.partial-<pid>``) and renamed at the end (:mod:`echolatent.report.job`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.measure.framecache import resize_labels_cached
from echolatent.measure.tables import SequenceMeasures, measure_sequence
from echolatent.measure.temporal import TemporalThresholds

log = logging.getLogger(__name__)

MIN_SMOOTH_FRAMES = 3
SPACING_MODES = ("auto", "header", "none")


@dataclass
class SequenceResult:
    """Everything the job computed on one sequence.

    Attributes:
        ids: ``{"sequence", "patient", "view", "kind"}`` naming the sequence in tables.
        images: ``(T, H, W)`` uint8 frames (None when only masks were given).
        pred: ``(T, H, W)`` uint8 U-Net labels.
        post: ``(T, H, W)`` uint8 smoothed labels, None when not smoothed (see ``note``).
        gt: ``(T, H, W)`` uint8 ground truth or None.
        spacing: ``(sy, sx)`` mm, None when unknown (areas in pixels).
        instants: ``(T,)`` "ED" / "ES" / "" per frame.
        thresholds: temporal bounds and taus used for the temporal check (None: not checked).
        before, after: measures of ``pred`` and of ``post`` (``after`` None when not smoothed).
        smooth: the smoother's report as a dict (None when not smoothed).
        note: plain-words remark for the report ("" when none).
        seconds: wall time per stage.
    """

    ids: dict
    images: np.ndarray | None
    pred: np.ndarray
    post: np.ndarray | None
    gt: np.ndarray | None
    spacing: tuple[float, float] | None
    instants: list[str]
    thresholds: TemporalThresholds | None
    before: SequenceMeasures
    after: SequenceMeasures | None
    smooth: dict | None = None
    note: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.ids.get("sequence", "sequence")

    @property
    def frames(self) -> int:
        return len(self.instants)


def segment_sequence(images: np.ndarray, segmenter, batch_size: int = 16) -> np.ndarray:
    """``(T, H, W)`` frames -> ``(T, H, W)`` uint8 U-Net labels (any frame size), streamed batch by batch: the
    class probabilities are never held for the whole sequence."""
    from echolatent.segment import segment_masks

    return segment_masks(segmenter, images, batch_size=batch_size)


def smooth_sequence(masks: np.ndarray, spacing, smoother) -> tuple[np.ndarray | None, dict | None, str]:
    """``(T, H, W)`` labels -> ``(smoothed labels or None, smoother report dict or None, note)``.

    Fewer than :data:`MIN_SMOOTH_FRAMES` frames are not smoothed (a note says so); ``smoother`` None skips too.
    """
    result, note = _smooth(masks, spacing, smoother)
    if result is None:
        return None, None, note
    return result.masks, result.report.as_dict(), note


def _smooth(masks: np.ndarray, spacing, smoother):
    """``(SmoothResult or None, note)``: the smoother's output with its report objects (see :func:`smooth_sequence`)."""
    if smoother is None:
        return None, "no smoothing requested"
    if masks.shape[0] < MIN_SMOOTH_FRAMES:
        return None, (f"{masks.shape[0]} frame(s): temporal smoothing needs a sequence of at least "
                      f"{MIN_SMOOTH_FRAMES} frames, so the U-Net masks are reported unsmoothed")
    if not np.asarray(masks).any():
        return None, "no heart (LV, MYO or LA) in any frame: nothing to smooth, the empty masks are reported"
    return smoother(masks, spacing), ""


def _smoother_checks(result, smoother, thresholds: TemporalThresholds | None) -> dict:
    """The validity and temporal reports the smoother already computed on its output, as keyword arguments of
    :func:`~echolatent.measure.tables.measure_sequence`, when they used the limits the measure step uses (default
    validity limits, the same temporal thresholds object); else ``{}`` (the measure step checks again)."""
    validity, temporal = getattr(result.report, "validity", None), getattr(result.report, "temporal", None)
    same_limits = getattr(smoother, "validity_thresholds", False) is None
    same_thresholds = thresholds is not None and getattr(smoother, "thresholds", None) is thresholds
    if validity is None or temporal is None or not same_limits or not same_thresholds:
        return {}
    return {"validity": validity, "temporal": temporal}


def run_thresholds(smoother, vae=None) -> TemporalThresholds | None:
    """Temporal thresholds for a whole run: the smoother's, else those stored in the shape-model file ``vae``
    (None: the shipped AR-VAE) even when the method does not use the model; None when there are none."""
    from echolatent.temporal.smooth import stored_thresholds

    own = getattr(smoother, "thresholds", None)
    if own is not None and own.bounds:
        return own
    stored = stored_thresholds(vae, required=False)
    return stored if stored is not None and stored.bounds else None


def load_models(model=None, vae=None, method: str = "exact", device: str = "cpu") -> tuple:
    """``(segmenter, smoother, run thresholds)``: the U-Net file ``model`` and shape-model file ``vae`` (None: the
    shipped weights) with their networks on ``device`` ("cpu" or "cuda"), and :func:`run_thresholds`."""
    from echolatent.segment import load_segmenter
    from echolatent.temporal.smooth import Smoother

    segmenter = load_segmenter(model, device=device)
    smoother = Smoother(vae, method)
    if smoother.model is not None:
        smoother.model.to(segmenter.device)
    return segmenter, smoother, run_thresholds(smoother, vae)


def sequence_thresholds(masks: np.ndarray, smoother) -> TemporalThresholds | None:
    """Temporal thresholds to measure ``(T, H, W)`` masks with: the smoother's (stored with the shape model), else
    bounds measured on these masks at the shape model's grid with the published taus, as the smoother does.

    None for fewer than 3 frames or when no attribute has a range.
    """
    if masks.shape[0] < MIN_SMOOTH_FRAMES:
        return None
    stored = getattr(smoother, "thresholds", None)
    if stored is not None and stored.bounds:
        return stored
    model = getattr(smoother, "model", None)
    grid = (model.config.input_size,) * 2 if model is not None else masks.shape[1:]
    try:
        thresholds = TemporalThresholds.from_reference([resize_labels_cached(masks, grid)])
    except ValueError:
        return None
    thresholds.note = ("bounds measured on the U-Net masks of this sequence alone (no thresholds stored with the shape "
                       "model), published taus: a strict check")
    return thresholds if thresholds.bounds else None


def process_sequence(
    images: np.ndarray,
    spacing: tuple[float, float] | None,
    segmenter,
    smoother,
    *,
    gt: np.ndarray | None = None,
    instants: list[str] | None = None,
    thresholds: TemporalThresholds | None = None,
    batch_size: int = 16,
    ids: dict | None = None,
    on_stage=None,
) -> SequenceResult:
    """Segment, smooth and measure one sequence of frames ``(T, H, W)`` (spacing ``(sy, sx)`` mm or None).

    Args:
        segmenter: a :class:`echolatent.segment.Segmenter`.
        smoother: a :class:`echolatent.temporal.smooth.Smoother` (or None: no smoothing).
        gt: ground-truth labels ``(T, H, W)`` for Dice / Hausdorff scores.
        instants: ``(T,)`` "ED"/"ES"/"" labels (default: first frame ED, last ES for T >= 2).
        thresholds: temporal thresholds (default: :func:`sequence_thresholds`).
        on_stage: called with "segment", "smooth", "measure" as each stage ends (progress bars).

    Raises:
        InputError: bad frames (not (T, H, W), NaN...), ground truth of another shape.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise InputError(None, f"expected frames (T, H, W), got an array of shape {images.shape}")
    if gt is not None and np.shape(gt) != images.shape:
        raise InputError(None, f"ground truth of shape {np.shape(gt)} does not match the frames' {images.shape}")
    instants = list(instants) if instants is not None else default_instants(images.shape[0])
    seconds = {}
    start = time.perf_counter()
    pred = segment_sequence(images, segmenter, batch_size)
    seconds["segment"] = time.perf_counter() - start
    if on_stage is not None:
        on_stage("segment")
    result = smooth_and_measure(pred, spacing, smoother, gt=gt, instants=instants, thresholds=thresholds, ids=ids,
                                on_stage=on_stage)
    result.images = images
    result.seconds = {**seconds, **result.seconds}
    return result


def smooth_and_measure(
    pred: np.ndarray,
    spacing: tuple[float, float] | None,
    smoother,
    *,
    gt: np.ndarray | None = None,
    instants: list[str] | None = None,
    thresholds: TemporalThresholds | None = None,
    ids: dict | None = None,
    on_stage=None,
) -> SequenceResult:
    """Smooth and measure given U-Net labels ``(T, H, W)``; the second half of :func:`process_sequence`."""
    instants = list(instants) if instants is not None else default_instants(pred.shape[0])
    start = time.perf_counter()
    smoothed_result, note = _smooth(pred, spacing, smoother)
    post = report = None
    if smoothed_result is not None:
        post, report = smoothed_result.masks, smoothed_result.report.as_dict()
    smoothed = time.perf_counter()
    if on_stage is not None:
        on_stage("smooth")
    thresholds = thresholds or sequence_thresholds(pred, smoother)
    measure = {"gt": gt, "thresholds": thresholds, "instants": instants}
    before = measure_sequence(pred, spacing, **measure)
    after = None
    if post is not None:
        known = _smoother_checks(smoothed_result, smoother, thresholds)
        after = measure_sequence(post, spacing, **measure, **known)
    seconds = {"smooth": smoothed - start, "measure": time.perf_counter() - smoothed}
    if on_stage is not None:
        on_stage("measure")
    ids = dict(ids or {"sequence": "sequence", "patient": "", "view": "", "kind": ""})
    return SequenceResult(ids, None, pred, post, gt, spacing, instants, thresholds, before, after, report, note,
                          seconds)


def default_instants(frames: int) -> list[str]:
    """``(T,)`` labels: ED first and ES last for a sequence, "" for a single frame."""
    labels = [""] * frames
    if frames >= 2:
        labels[0], labels[-1] = "ED", "ES"
    return labels


def sequence_instants(seq) -> list[str]:
    """``(T,)`` "ED"/"ES"/"" labels of a loaded :class:`~echolatent.io.camus.EchoSequence`."""
    labels = [""] * seq.num_frames
    if seq.ed is not None:
        labels[seq.ed] = "ED"
    if seq.es is not None:
        labels[seq.es] = "ES"
    return labels


def resolve_spacing(spacing: tuple[float, float], mode: str = "auto") -> tuple[float, float] | None:
    """The spacing to measure with: the header's (``"header"``), none (``"none"``: pixel units), or ``"auto"``:
    the header's unless it is exactly 1 x 1 mm, the value written by tools that know no spacing (as in camus224).
    """
    if mode not in SPACING_MODES:
        raise ValueError(f"spacing mode must be one of {SPACING_MODES}, got {mode!r}")
    if mode == "none" or (mode == "auto" and tuple(float(s) for s in spacing) == (1.0, 1.0)):
        return None
    return (float(spacing[0]), float(spacing[1]))


# ------------------------------------------------------------------------------------------------ on paths


@dataclass
class Job:
    """One input sequence on disk: its ref, the matching ground-truth ref (or None)."""

    ref: object
    gt_ref: object | None


def find_jobs(source: str | Path, gt: str | Path | None = None) -> list[Job]:
    """Image sequences under ``source`` (CAMUS root, patient folder(s), image files) with their ground truth.

    Sequences are taken when a patient/view has them, else the ED/ES frames. Ground truth: ``_gt`` masks of the
    same patient and name under ``gt`` when given, else the ``_gt`` file beside each image (when present).

    Raises:
        InputError: missing source, no image found.
    """
    from echolatent.io.camus import find_sequences
    from echolatent.segment import select_refs

    refs = select_refs(source)
    if gt is None:
        return [Job(ref, ref if ref.mask is not None else None) for ref in refs]
    truth = {(r.patient, r.name): r for r in find_sequences(gt) if r.mask is not None}
    if not truth:
        raise InputError(Path(gt), "no ground-truth masks (_gt files) found")
    jobs = [Job(ref, truth.get((ref.patient, ref.name))) for ref in refs]
    missing = [job.ref.name for job in jobs if job.gt_ref is None]
    if missing:
        log.warning("no ground truth under %s for %d sequence(s): %s", gt, len(missing), ", ".join(missing[:5]))
    return jobs


def process_job(job: Job, out: Path, segmenter, smoother, *, thresholds=None, spacing_mode="auto", batch_size=16,
                on_stage=None):
    """Load, segment, smooth and measure one :class:`Job`; write ``_pred`` (and ``_post``) masks under ``out``.

    ``thresholds``: temporal thresholds to measure with (default: :func:`sequence_thresholds`).

    Returns:
        ``(SequenceResult, the loaded EchoSequence without arrays, with the spacing used)``.

    Raises:
        InputError: unreadable image or ground truth, ground truth of another shape.
    """
    from echolatent.io.camus import load_sequence, output_path, write_mask

    seq = load_sequence(job.ref, mask=False)
    gt = None
    if job.gt_ref is not None:
        gt_seq = load_sequence(job.gt_ref, image=False)
        if gt_seq.mask.shape != seq.image.shape:
            raise InputError(job.gt_ref.mask, f"shape {gt_seq.mask.shape} differs from image {seq.image.shape}")
        gt = gt_seq.mask
    ref = job.ref
    ids = {"sequence": ref.name, "patient": ref.patient, "view": ref.view.value if ref.view else "",
           "kind": ref.kind}
    spacing = resolve_spacing(seq.spacing, spacing_mode)
    result = process_sequence(seq.image, spacing, segmenter, smoother, gt=gt, instants=sequence_instants(seq),
                              thresholds=thresholds, batch_size=batch_size, ids=ids, on_stage=on_stage)
    write_mask(seq, result.pred, output_path(ref, out, "_pred"))
    if result.post is not None:
        write_mask(seq, result.post, output_path(ref, out, "_post"))
    return result, replace(seq, spacing=spacing, image=None)


def run(source: str | Path, out: str | Path, **options) -> dict:
    """``echolatent run``: segment, smooth, measure and report every sequence under ``source`` into ``out``.

    Keyword options (see :func:`echolatent.report.job.run_job`): ``model`` (U-Net file, None: shipped),
    ``vae`` (shape model file, None: shipped AR-VAE), ``method`` (exact|snake|gaussian|none), ``gt`` (ground-
    truth root), ``overwrite``, ``batch_size``, ``spacing`` (auto|header|none), ``progress``.

    Returns:
        The ``summary.json`` dict. Raises InputError on bad input or a non-empty ``out`` without overwrite.
    """
    from echolatent.report.job import run_job

    return run_job(source, out, **options)
