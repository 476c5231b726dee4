"""The smoothing step: mask sequences in, temporally consistent and anatomically cleaned masks out.

A :class:`Smoother` is built once from a shape model (file path or loaded model) and a method, then called on
sequences ``(T, H, W)``:

* ``exact`` (default): an estimate of the true sequence that keeps a margin below the published limits. A
  sequence that is already valid and whose attributes deviate less than ``keep_below`` (0.5) of each tau is
  returned unchanged. Otherwise the input's one-hot is filtered along time by a Gaussian of ``input_sigmas[0]``
  frames (per-frame errors average out over neighbouring frames, true motion does not at that width) and the
  cleaned arg-max is encoded (``mu``; at a turn of a multi-beat sequence whose LV area and length lie on their own
  curves the LV is kept as it came in: :func:`~echolatent.temporal.input_checks.turns_on_curve`), each latent
  dimension normalised by the model's training range; then
  :func:`~echolatent.temporal.exact.solve_exact` smooths the codes (curvature penalty, weights per frame, not
  scaled with the length) under limits ``target * tau`` on the attribute dimensions. The output is the residual
  decode ``argmax(filtered onehot + P(z') - P(z))`` (decoder softmax probabilities resampled to the input size),
  cleaned (:mod:`.cleanup`), and it is done when it passes the validity check and the temporal check with taus
  ``target * tau`` (0.85 by default) on the masks as written, at their own resolution (:mod:`.checks`: the
  thresholds' bounds carried to that grid). Frames that fail, with their neighbours, get the next wider filter of
  ``input_sigmas``; then the latent limits around them are tightened below the deviation the last solution had
  there and the problem solved again (``max_rounds`` times); in the last round, frames that still fail move
  step by step along ``blends`` towards the full decode of ``z'`` (``argmax((1 - w) onehot + w P(z'))``), and
  last the full decode of every frame is tried. When no candidate passes, the one nearest to passing is returned
  (fewest invalid frames, then the smallest largest ``|d(t)| / tau``: :class:`.result.Closest`). What was tightened, the
  margin kept and any residual failure are reported, never hidden. ``decode="full"`` decodes the smoothed codes
  of the input only. Decoding runs a chunk of frames at a time.
* ``snake``: castor's pipeline (its solver, decode, clean-up), limits checked in latent space only.
* ``gaussian`` and ``none``: see :mod:`.baselines`; every method is built by
  :func:`~echolatent.temporal.strategy.make_smoother`.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from echolatent.arrays import argmax_labels
from echolatent.cleanup import clean_masks
from echolatent.measure.temporal import TemporalReport, TemporalThresholds, check_frame_flags
from echolatent.measure.validity import ValidityReport, ValidityThresholds
from echolatent.temporal.checks import TARGET, margin_used
from echolatent.temporal.exact import ExactSettings, solve_exact
from echolatent.temporal.input_checks import already_smooth, measure_input, turns_kept
from echolatent.temporal.limits import denormalise, deviation, normalise
from echolatent.temporal.residual import Once, OneHotCache, blend, chunks, onehot_per_frame, prefiltered, widen
from echolatent.temporal.result import (
    Closest,
    SmoothReport,
    SmoothResult,
    check_sequence,
    measure_output,
    measured_thresholds,
)
from echolatent.temporal.smooth_setup import check_arguments, load_shape_model
from echolatent.temporal.snake import solve_snake
from echolatent.temporal.thresholds import stored_thresholds

log = logging.getLogger(__name__)

#: Smallest latent limit the tightening sets (normalised units): near-straight, still strictly feasible.
MIN_LIMIT = 1e-6
#: Frames around a failing one that move towards the full decode with it (a temporal deviation spans 3 frames).
WINDOW = 1
#: A frame whose normalised code moved less than this between two rounds keeps its decoded mask.
REUSE_TOLERANCE = 1e-6
#: Temporal Gaussian widths (frames) of the input one-hot under the residual decode: the first on every frame (it
#: also makes the masks that are encoded), the next ones step by step on frames that still fail the checks
#: (docs/smoothing.md has the measurements).
INPUT_SIGMAS = (1.5, 3.0)
#: Decoder probabilities kept during one call, at most (bytes): codes decoded again are looked up.
PROBS_CACHE_BYTES = 256 * 2**20
#: A sequence that is valid and whose |d(t)| stays below this fraction of every tau is returned unchanged.
KEEP_BELOW = 0.5
#: Tightening rounds by default (``max_rounds=None``): on a sequence with no turn inside it (a half cycle, ED -> ES),
#: and on one whose turns (ED, ES inside it) are left free: there each tightening near a turn flattens it (measured on
#: multi-beat recordings: per-beat EF error 4.5 -> 7.6 points with 4 rounds; docs/smoothing.md).
ROUNDS, ROUNDS_WITH_TURNS = 4, 2


class Smoother:
    """Callable ``(masks (T, H, W), spacing) -> SmoothResult`` built from a shape model and a method."""

    def __init__(
        self,
        model=None,
        method: str = "exact",
        *,
        thresholds: TemporalThresholds | None = None,
        validity_thresholds: ValidityThresholds | None = None,
        settings: ExactSettings | None = None,
        max_rounds: int | None = None,
        tighten: float = 0.25,
        decode: str = "residual",
        blends: tuple[float, ...] = (0.6, 0.75, 0.9),
        input_sigmas: tuple[float, ...] = INPUT_SIGMAS,
        target: float = TARGET,
        keep_below: float = KEEP_BELOW,
    ) -> None:
        """Args:
        model: a loaded ShapeModel, a model file, or None for the shipped AR-VAE.
        thresholds: image-space temporal bounds and taus; None: the model file's metadata, else bounds measured
            on each input sequence at the model's grid (logged; a narrower range than the training data's).
        validity_thresholds: anatomical limits (None: the measure package's default).
        settings: exact solver weights; tighten: limit factor per round.
        max_rounds: tightening rounds; None: :data:`ROUNDS` on a sequence without turns inside it,
            :data:`ROUNDS_WITH_TURNS` on one with (``unchecked`` frames inside it).
        decode: exact method's output, "residual" (the input changed by the decoded correction, falling back to
            the full decode where that fails the checks) or "full" (the decoded codes only).
        blends: residual decode's steps towards the full decode for failing frames, increasing weights w in
            (0.5, 1) of ``(1 - w) onehot(input) + w P(z')`` (a pixel takes the decoder's label where the decoder's
            margin over the input's label exceeds (1 - w) / w).
        input_sigmas: residual decode's temporal Gaussian widths (frames, increasing, >= 0) of the input one-hot:
            the first on every frame (and on the masks that are encoded), the next ones in turn on frames that
            still fail (and their neighbours); the last one is the base of the blends.
        target: fraction of each tau the exact method aims below (its margin), at the output's own resolution;
            the published taus hold at the thresholds' grid.
        keep_below: a valid input whose |d(t)| stays below this fraction of tau is returned as it is (0: never).
        """
        check_arguments(method, decode, blends, input_sigmas, target, keep_below, tighten, max_rounds)
        self.method, self.decode, self.blends = method, decode, tuple(blends)
        self.input_sigmas = tuple(float(v) for v in input_sigmas)
        self.settings = settings or ExactSettings()
        self.max_rounds, self.tighten = max_rounds, tighten
        self.target, self.keep_below = float(target), float(keep_below)
        self.validity_thresholds = validity_thresholds
        self.model = load_shape_model(model)
        if thresholds is None and not isinstance(model, torch.nn.Module):
            thresholds = stored_thresholds(model, required=True)
        self.thresholds = thresholds
        self._warned = False
        self._unchecked: np.ndarray | None = None
        self._kept: np.ndarray | None = None
        self._forget()

    def thresholds_for(self, masks: np.ndarray) -> TemporalThresholds | None:
        """The temporal thresholds used on ``masks``: the given or stored ones, else measured on ``masks``.

        The fallback takes the bounds from the sequence itself at the model's grid (logged): a narrower range
        than the training data's, so a stricter check.
        """
        if self.thresholds is not None:
            return self.thresholds
        thresholds = measured_thresholds(masks, self.grid, "bounds measured on the input sequence itself")
        if thresholds is not None and not self._warned:
            log.warning("no temporal thresholds given or stored with the model: bounds measured on each input")
            self._warned = True
        return thresholds

    @property
    def grid(self) -> tuple[int, int]:
        """``(S, S)``: the shape model's grid."""
        return (self.model.config.input_size,) * 2

    def __call__(
        self, masks: np.ndarray, spacing: tuple[float, float] | None = None, unchecked: np.ndarray | None = None
    ) -> SmoothResult:
        """``unchecked`` ``(T,)`` bool: frames free of the temporal limits (the turns of several half cycles)."""
        start = time.perf_counter()
        masks = check_sequence(masks)
        thresholds = self.thresholds_for(masks)
        report = SmoothReport(self.method)
        self._unchecked = None if unchecked is None else check_frame_flags(unchecked, len(masks))
        self._kept = None
        try:
            if self.method == "exact":
                out = self._exact(masks, spacing, thresholds, report)
            else:
                out = self._decode(solve_snake(self._encode(masks), self._latent_tau()), masks.shape)
                report.rounds = 1
        finally:
            self._forget()
        report.temporal, report.validity = self._measure(out, spacing, thresholds)
        if report.temporal is not None:
            report.margin = margin_used(report.temporal, thresholds.tau)
        report.seconds = time.perf_counter() - start
        return SmoothResult(out, report)

    def _forget(self) -> None:
        """Empty the per-call caches (decoder probabilities, filtered input frames): they hold one sequence's."""
        self._cache: dict = {}
        self._cache_bytes = 0
        self._onehot = OneHotCache()
        self._closest = Closest()

    # -- exact method -----------------------------------------------------------------------------------
    def _exact(self, masks, spacing, thresholds, report: SmoothReport) -> np.ndarray:
        report.target = self.target
        measured = measure_input(masks, spacing, thresholds, self.validity_thresholds, self.keep_below,
                                 self._unchecked)
        if already_smooth(measured):
            report.decoded, report.weights = "unchanged", [0.0] * len(masks)
            return masks.astype(np.uint8, copy=True)
        self._kept = turns_kept(measured, thresholds, self._unchecked, self.keep_below)
        report.turns_kept = [] if self._kept is None else np.flatnonzero(self._kept).tolist()
        base = masks
        if self.decode == "residual" and self.input_sigmas[0] > 0:
            base = prefiltered(masks, self.input_sigmas[0], turns=self._unchecked, cache=self._onehot,
                               lv_kept=self._kept)
        codes = self._encode(base)
        inputs = (masks, codes) if self.decode == "residual" else None
        limits = np.tile(self._latent_tau() * self.target, (masks.shape[0] - 2, 1))
        if self._unchecked is not None:
            limits[self._unchecked[1:-1]] = np.inf
        previous, full = None, None
        rounds = self.rounds_for(self._unchecked)
        for round_index in range(rounds + 1):
            smoothed = solve_exact(codes, limits, self.settings)
            last = round_index == rounds
            if inputs is None:
                full, previous = self._decode(smoothed, masks.shape, previous, full), smoothed
            elif last:  # the residual decode falls back on the full decode in the last round only, when reached
                full = Once(lambda z=smoothed: self._decode(z, masks.shape))
            report.rounds = round_index + 1
            out = self._choose(inputs, smoothed, full, spacing, thresholds, report)
            if out is not None or last or not self._tighten(limits, smoothed, report, round_index + 1):
                break
        if out is None:  # nothing passed: the candidate nearest to passing, never a farther one
            out = self._closest.restore(report)
        residual = report.residual()
        if residual:
            log.info("exact smoothing left %d failure(s) at %.2f tau after %d rounds: %s", len(residual), self.target,
                     report.rounds, "; ".join(residual[:3]) + (" ..." if len(residual) > 3 else ""))
        return out

    def rounds_for(self, unchecked: np.ndarray | None) -> int:
        """Tightening rounds on a sequence whose ``(T,)`` bool ``unchecked`` frames (or None) are free of the limits:
        ``max_rounds`` when set, else :data:`ROUNDS_WITH_TURNS` when a frame inside the sequence is free (a turn),
        else :data:`ROUNDS`."""
        if self.max_rounds is not None:
            return self.max_rounds
        return ROUNDS_WITH_TURNS if unchecked is not None and unchecked[1:-1].any() else ROUNDS

    def _choose(self, inputs, smoothed, full, spacing, thresholds, report: SmoothReport) -> np.ndarray | None:
        """The first of this round's candidate outputs that passes both checks, its measures left in ``report``;
        None when none passes (``report`` then measures the last one; each is offered to ``self._closest``)."""
        for weights, candidate in self._candidates(inputs, smoothed, full, report):
            report.temporal, report.validity = self._measure(candidate, spacing, thresholds, self.target)
            report.weights = weights.tolist()
            report.decoded = "residual" if not weights.any() else "full" if (weights == 1).all() else "blend"
            if not report.residual():
                return candidate
            self._closest.offer(candidate, report, thresholds.tau if thresholds is not None else {})
        return None

    def _candidates(self, inputs, smoothed, full, report: SmoothReport):
        """Yield ``(per-frame weights (T,), masks (T, H, W))`` in order of closeness to the input: the residual
        output with the first input sigma on every frame; while frames fail (read from the measures
        :meth:`_choose` left in ``report``), the same with those frames and their neighbours one step further along
        ``input_sigmas`` (weights 0); when ``full`` (the full decode) is given, then the failing frames one step
        further along ``blends`` (then 1, the full decode), and finally the full decode; only the full decode
        without ``inputs`` (``(masks (T, H, W), normalised codes (T, d))`` of the encoded masks)."""
        if inputs is not None:
            masks, codes = inputs
            level = np.zeros(len(masks), dtype=int)
            residual = np.empty(masks.shape, dtype=np.uint8)
            frames = np.arange(len(masks))
            for _ in range(len(self.input_sigmas)):
                self._residual_frames(residual, masks, codes, smoothed, level, frames)
                report.input_sigma = self.input_sigmas[level.max()]
                yield np.zeros(len(masks)), residual.copy()
                failing = widen(self._failing_frames(report), WINDOW) & (level < len(self.input_sigmas) - 1)
                if not failing.any():
                    break
                level[failing] += 1
                frames = np.flatnonzero(failing)
            if full is None:
                return
            full = full()
            yield from self._blends(masks, smoothed, full, residual, report)
        report.input_sigma = None
        yield np.ones(len(full)), full

    def _blends(self, masks, smoothed, full, residual, report: SmoothReport):
        """The blend candidates of :meth:`_candidates`: failing frames one step further along ``blends``."""
        steps = np.array([0.0, *self.blends, 1.0])
        level = np.zeros(len(full), dtype=int)
        out = residual.copy()
        for _ in range(2 * len(steps)):
            failing = widen(self._failing_frames(report), WINDOW) & (level < len(steps) - 1)
            if not failing.any():
                break
            level[failing] += 1
            if (level == len(steps) - 1).all():
                break
            self._blend_frames(out, masks, smoothed, full, residual, steps[level], np.flatnonzero(failing))
            yield steps[level], out.copy()

    def _residual_frames(self, out, masks, codes, smoothed, level: np.ndarray, frames: np.ndarray) -> None:
        """Set ``out[frames]`` (in place) to the cleaned residual output: the argmax of the input's one-hot filtered
        along time by ``input_sigmas[level[t]]`` (:data:`.residual.TURN_SIGMA` at the turns, the input's LV kept at a
        turn on its own LV curve at level 0: :func:`.residual.keep_lv`) plus the decoded correction
        ``P(z') - P(z)``, a chunk at a time."""
        size = masks.shape[1:]
        for block in chunks(frames, size):
            total = self._probs(smoothed[block], size) - self._probs(codes[block], size)
            sigmas = np.asarray(self.input_sigmas)[level[block]]
            lv_kept = None if self._kept is None else self._kept & (level == 0)
            total += onehot_per_frame(masks, block, sigmas, self._unchecked, self._onehot, lv_kept)
            out[block] = clean_masks(argmax_labels(total))

    def _blend_frames(self, out, masks, smoothed, full, residual, weights: np.ndarray, frames: np.ndarray) -> None:
        """Set ``out[frames]`` (in place) to :func:`.residual.blend` of those frames, a chunk at a time, with the
        input's one-hot filtered by the largest input sigma."""
        for block in chunks(frames, masks.shape[1:]):
            onehot = onehot_per_frame(masks, block, np.full(len(block), self.input_sigmas[-1]), cache=self._onehot)
            probs = self._probs(smoothed[block], masks.shape[1:])
            out[block] = blend(residual[block], onehot, probs, full[block], weights[block])

    def _probs(self, codes: np.ndarray, size) -> np.ndarray:
        """Normalised codes ``(T, d)`` -> ``(T, 4, h, w)`` float32 decoder probabilities at ``size``; codes decoded
        before during this call are looked up (up to :data:`PROBS_CACHE_BYTES`)."""
        from echolatent.latent.codec import decode_probs

        keys = [(tuple(size), row.tobytes()) for row in codes]
        missing = [i for i, key in enumerate(keys) if key not in self._cache]
        decoded = {}
        if missing:
            latents = denormalise(codes[missing], *self._latent_range()).astype(np.float32)
            decoded = dict(zip(missing, decode_probs(self.model, latents, tuple(size)), strict=True))
            for i, probs in decoded.items():
                if self._cache_bytes + probs.nbytes <= PROBS_CACHE_BYTES:
                    self._cache[keys[i]] = probs
                    self._cache_bytes += probs.nbytes
        return np.stack([decoded[i] if i in decoded else self._cache[key] for i, key in enumerate(keys)])

    @staticmethod
    def _failing_frames(report: SmoothReport) -> np.ndarray:
        """``(T,)`` bool: frames failing the validity or the temporal check."""
        failing = ~report.validity.valid
        if report.temporal is not None:
            failing = failing | ~report.temporal.frame_ok
        return failing

    def failing_dims(self, report: SmoothReport) -> dict[int, list[int]]:
        """``{frame: latent dims}`` to tighten: every dimension around a frame that fails either check (an
        attribute measured on a decoded mask depends on all the dimensions, not only on its own)."""
        failing = self._failing_frames(report)
        every = list(range(self.model.config.latent_dim))
        return {int(t): every for t in np.flatnonzero(failing)}

    def _tighten(self, limits: np.ndarray, smoothed: np.ndarray, report: SmoothReport, round_index: int) -> bool:
        """Lower the limits ``(T - 2, d)`` in place, around each failing frame (its d and its neighbours' within
        ``round_index`` frames), to ``tighten`` times the deviation the last solution has there, so the next
        solve must change; False when nothing fails."""
        failures = self.failing_dims(report)
        current = np.abs(deviation(smoothed))
        for frame, dims in failures.items():  # rows r hold d at frame r + 1; the window widens every round
            rows = np.arange(max(frame - 1 - round_index, 0), min(frame + round_index, len(limits)))
            block = np.ix_(rows, dims)
            limits[block] = np.maximum(np.minimum(limits[block], self.tighten * current[block]), MIN_LIMIT)
        if self._unchecked is not None:  # the turns stay free
            limits[self._unchecked[1:-1]] = np.inf
        if failures:
            entry = {"round": round_index, "frames": list(failures), "dims": sorted(set().union(*failures.values()))}
            report.tightened.append(entry)
            log.debug("round %d: tightened the latent limits of dims %s around frames %s", round_index, entry["dims"],
                      entry["frames"])
        return bool(failures)

    # -- shared steps -----------------------------------------------------------------------------------
    def _latent_tau(self) -> np.ndarray:
        """``(d,)`` latent limits: each attribute's tau on its dimension, inf on free dimensions."""
        tau = np.full(self.model.config.latent_dim, np.inf)
        taus = self.thresholds.tau if self.thresholds is not None else TemporalThresholds().tau
        for dim, name in enumerate(self.model.config.attributes):
            tau[dim] = taus.get(name, np.inf)
        return tau

    def _latent_range(self) -> tuple[np.ndarray, np.ndarray]:
        return self.model.latent_min.numpy().astype(np.float64), self.model.latent_max.numpy().astype(np.float64)

    def _encode(self, masks: np.ndarray) -> np.ndarray:
        from echolatent.latent.codec import encode_masks

        return normalise(encode_masks(self.model, masks), *self._latent_range())

    def _decode(self, codes: np.ndarray, shape, previous: np.ndarray | None = None, masks=None) -> np.ndarray:
        """Normalised codes ``(T, d)`` -> cleaned masks ``(T, H, W)``; frames whose code moved less than
        ``REUSE_TOLERANCE`` since ``previous`` keep their mask from ``masks``."""
        from echolatent.latent.codec import decode_latents

        changed = np.ones(len(codes), dtype=bool)
        if previous is not None and masks is not None:
            changed = np.abs(codes - previous).max(axis=1) > REUSE_TOLERANCE
        out = masks.copy() if masks is not None and not changed.all() else np.empty(shape, dtype=np.uint8)
        for frames in chunks(np.flatnonzero(changed), shape[1:]):
            latents = denormalise(codes[frames], *self._latent_range()).astype(np.float32)
            out[frames] = clean_masks(decode_latents(self.model, latents, tuple(shape[1:])))
        return out

    def _measure(
        self, masks, spacing, thresholds, fraction: float = 1.0
    ) -> tuple[TemporalReport | None, ValidityReport]:
        """Temporal report at the masks' own resolution with taus times ``fraction`` and validity report of
        ``(T, H, W)`` masks (:func:`.result.measure_output`)."""
        return measure_output(masks, spacing, thresholds, self.validity_thresholds, fraction, self._unchecked)

