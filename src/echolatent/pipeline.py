"""One sequence through the whole job as plain functions: segment -> smooth -> measure, on arrays.

One sequence ``(T, H, W)`` uint8, apex at the top, spacing ``(sy, sx)`` mm or None::

    from echolatent.pipeline import process_sequence
    from echolatent.segment import load_segmenter
    from echolatent.temporal.strategy import make_smoother

    result = process_sequence(images, (0.3, 0.3), load_segmenter(), make_smoother("exact"))
    result.pred, result.post                    # (T, H, W) U-Net masks, smoothed masks
    result.before.validity.valid                # (T,) anatomical validity of the U-Net masks
    result.after.temporal.frame_ok              # (T,) temporal consistency after smoothing

Folders of sequences (``echolatent run`` and the other commands) are :mod:`echolatent.jobs`.

Sequences of fewer than :data:`~echolatent.labels.MIN_FRAMES` (3) frames (e.g. CAMUS ED/ES files) are segmented and
measured; temporal smoothing needs 3 frames, so they are left unsmoothed (``post`` is None) with a note.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from echolatent.errors import InputError
from echolatent.io.sector import apply_sector
from echolatent.labels import MIN_FRAMES
from echolatent.measure.beats import BeatDetection, find_beats, lv_area_curve
from echolatent.measure.sequence import SequenceMeasures, measure_sequence
from echolatent.measure.temporal import TemporalThresholds, turning_frames
from echolatent.segment import Segmenter, segment_masks
from echolatent.temporal.result import SmoothResult, measured_thresholds
from echolatent.temporal.strategy import SequenceSmoother
from echolatent.temporal.thresholds import stored_thresholds

log = logging.getLogger(__name__)


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
        beats: ED/ES found on the LV area curve of ``post`` (else ``pred``) when asked for, else None.
        sector: ``(H, W)`` bool ultrasound fan the frames and masks were cut to, None when not cut.
        recording: what was read, given or assumed about the recording (format, spacing, fps, view, ED/ES sources).
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
    beats: BeatDetection | None = None
    sector: np.ndarray | None = None
    recording: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.ids.get("sequence", "sequence")

    @property
    def frames(self) -> int:
        return len(self.instants)


def segment_sequence(images: np.ndarray, segmenter: Segmenter, batch_size: int = 16) -> np.ndarray:
    """``(T, H, W)`` frames -> ``(T, H, W)`` uint8 U-Net labels (any frame size), streamed batch by batch: the
    class probabilities are never held for the whole sequence."""
    return segment_masks(segmenter, images, batch_size=batch_size)


def smooth_sequence(
    masks: np.ndarray, spacing: tuple[float, float] | None, smoother: SequenceSmoother | None
) -> tuple[np.ndarray | None, dict | None, str]:
    """``(T, H, W)`` labels -> ``(smoothed labels or None, smoother report dict or None, note)``.

    Fewer than :data:`~echolatent.labels.MIN_FRAMES` frames are not smoothed (a note says so); no ``smoother`` skips.
    """
    result, note = _smooth(masks, spacing, smoother)
    if result is None:
        return None, None, note
    return result.masks, result.report.as_dict(), note


def _smooth(
    masks: np.ndarray, spacing, smoother: SequenceSmoother | None, unchecked: np.ndarray | None = None
) -> tuple[SmoothResult | None, str]:
    """``(SmoothResult or None, note)``: the smoother's output with its report objects (see :func:`smooth_sequence`);
    ``unchecked`` ``(T,)`` bool frames free of the temporal limits (the turns, when there are any)."""
    if smoother is None:
        return None, "no smoothing requested"
    if masks.shape[0] < MIN_FRAMES:
        return None, (f"{masks.shape[0]} frame(s): temporal smoothing needs a sequence of at least "
                      f"{MIN_FRAMES} frames, so the U-Net masks are reported unsmoothed")
    if not np.asarray(masks).any():
        return None, "no heart (LV, MYO or LA) in any frame: nothing to smooth, the empty masks are reported"
    return smoother(masks, spacing, unchecked=unchecked), ""


def _smoother_checks(result: SmoothResult, smoother: SequenceSmoother, thresholds: TemporalThresholds | None) -> dict:
    """The validity and temporal reports the smoother already computed on its output, as keyword arguments of
    :func:`~echolatent.measure.sequence.measure_sequence`, when they used the limits the measure step uses (default
    validity limits, equal temporal thresholds); else ``{}`` (the measure step checks again)."""
    validity, temporal = result.report.validity, result.report.temporal
    same_limits = smoother.validity_thresholds is None
    same_thresholds = thresholds is not None and smoother.thresholds == thresholds
    if validity is None or temporal is None or not same_limits or not same_thresholds:
        return {}
    return {"validity": validity, "temporal": temporal}


def run_thresholds(smoother: SequenceSmoother | None, vae=None) -> TemporalThresholds | None:
    """Temporal thresholds for a whole run: the smoother's, else those stored in the shape-model file ``vae``
    (None: the shipped AR-VAE) even when the method does not use the model; None when there are none."""
    own = smoother.thresholds if smoother is not None else None
    if own is not None and own.bounds:
        return own
    stored = stored_thresholds(vae, required=False)
    return stored if stored is not None and stored.bounds else None


def sequence_thresholds(masks: np.ndarray, smoother: SequenceSmoother | None) -> TemporalThresholds | None:
    """Temporal thresholds to measure ``(T, H, W)`` masks with: the smoother's (stored with the shape model), else
    bounds measured on these masks at the shape model's grid with the published taus, as the smoother does.

    None for fewer than 3 frames or when no attribute has a range.
    """
    if masks.shape[0] < MIN_FRAMES:
        return None
    stored = smoother.thresholds if smoother is not None else None
    if stored is not None and stored.bounds:
        return stored
    thresholds = measured_thresholds(masks, smoother.grid if smoother is not None else None,
                                     "bounds measured on the U-Net masks of this sequence alone (no thresholds stored "
                                     "with the shape model), published taus: a strict check")
    return thresholds if thresholds is not None and thresholds.bounds else None


def process_sequence(
    images: np.ndarray,
    spacing: tuple[float, float] | None,
    segmenter: Segmenter,
    smoother: SequenceSmoother | None,
    *,
    batch_size: int = 16,
    sector: np.ndarray | None = None,
    **measure_options,
) -> SequenceResult:
    """Segment, smooth and measure one sequence of frames ``(T, H, W)`` (spacing ``(sy, sx)`` mm or None).

    Args:
        segmenter: the U-Net (:func:`echolatent.segment.load_segmenter`).
        smoother: a :class:`~echolatent.temporal.strategy.SequenceSmoother` (None: no smoothing).
        batch_size: frames per U-Net forward pass.
        sector: ``(H, W)`` bool fan (:func:`echolatent.io.sector.detect_sector`): frames and every mask are cut to it.
        measure_options: ``gt``, ``instants``, ``thresholds``, ``ids``, ``on_stage``, ``fps``, ``find_instants``,
            as in :func:`smooth_and_measure`.

    Raises:
        InputError: bad frames (not (T, H, W), NaN...), ground truth of another shape.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise InputError(None, f"expected frames (T, H, W), got an array of shape {images.shape}")
    gt = measure_options.get("gt")
    if gt is not None and np.shape(gt) != images.shape:
        raise InputError(None, f"ground truth of shape {np.shape(gt)} does not match the frames' {images.shape}")
    start = time.perf_counter()
    shown = apply_sector(images, sector) if sector is not None else images
    pred = segment_sequence(shown, segmenter, batch_size)
    pred = apply_sector(pred, sector) if sector is not None else pred
    seconds = {"segment": time.perf_counter() - start}
    if measure_options.get("on_stage") is not None:
        measure_options["on_stage"]("segment")
    result = smooth_and_measure(pred, spacing, smoother, sector=sector, **measure_options)
    result.images = images
    result.seconds = {**seconds, **result.seconds}
    return result


def smooth_and_measure(
    pred: np.ndarray,
    spacing: tuple[float, float] | None,
    smoother: SequenceSmoother | None,
    *,
    gt: np.ndarray | None = None,
    instants: list[str] | None = None,
    thresholds: TemporalThresholds | None = None,
    ids: dict | None = None,
    on_stage=None,
    sector: np.ndarray | None = None,
    fps: float | None = None,
    find_instants: bool = False,
) -> SequenceResult:
    """Smooth and measure given U-Net labels ``(T, H, W)``; the second half of :func:`process_sequence`.

    Args:
        gt: ground-truth labels ``(T, H, W)`` for Dice / Hausdorff scores.
        instants: ``(T,)`` "ED"/"ES"/"" labels (default: first frame ED, last ES for T >= 2).
        thresholds: temporal thresholds (default: :func:`sequence_thresholds`).
        on_stage: called with "smooth", "measure" as each stage ends (progress bars).
        sector: ``(H, W)`` bool fan: every mask is cut to it.
        fps, find_instants: find ED/ES of every beat on the smoothed LV area curve instead of using ``instants``
            (:func:`echolatent.measure.beats.find_beats`; ``fps`` bounds the heart rate).

    A sequence of several half cycles (ED or ES frames inside it: ``instants``, else found on the U-Net's LV area
    curve) is smoothed and checked with its turns and their neighbours free of the temporal limits
    (:func:`echolatent.measure.temporal.turning_frames`), as the ends of a single half cycle are.
    """
    instants = list(instants) if instants is not None else default_instants(pred.shape[0])
    start = time.perf_counter()
    pred_beats = find_beats(lv_area_curve(pred, spacing), fps) if find_instants else None
    # the same frames are free in the smoother and in the checks (none for a single half cycle)
    unchecked = turning_frames(pred_beats.instants() if pred_beats is not None else instants)
    smoothed_result, note = _smooth(pred, spacing, smoother, unchecked)
    post = report = None
    if smoothed_result is not None:
        post, report = smoothed_result.masks, smoothed_result.report.as_dict()
        post = apply_sector(post, sector) if sector is not None else post
    smoothed = time.perf_counter()
    if on_stage is not None:
        on_stage("smooth")
    beats = pred_beats  # ED/ES of the reported masks: the smoothed ones when there are any
    if find_instants and post is not None:
        beats = find_beats(lv_area_curve(post, spacing), fps)
    instants = beats.instants() if beats is not None else instants
    thresholds = thresholds or sequence_thresholds(pred, smoother)
    measure = {"gt": gt, "thresholds": thresholds, "instants": instants, "unchecked": unchecked}
    before = measure_sequence(pred, spacing, **measure)
    after = None
    if post is not None:
        known = _smoother_checks(smoothed_result, smoother, thresholds) if sector is None else {}
        after = measure_sequence(post, spacing, **measure, **known)
    seconds = {"smooth": smoothed - start, "measure": time.perf_counter() - smoothed}
    if on_stage is not None:
        on_stage("measure")
    ids = dict(ids or {"sequence": "sequence", "patient": "", "view": "", "kind": ""})
    return SequenceResult(ids, None, pred, post, gt, spacing, instants, thresholds, before, after, report, note,
                          seconds, beats, sector)


def default_instants(frames: int) -> list[str]:
    """``(T,)`` labels: ED first and ES last for a sequence, "" for a single frame."""
    labels = [""] * frames
    if frames >= 2:
        labels[0], labels[-1] = "ED", "ES"
    return labels
