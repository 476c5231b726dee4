"""What a smoothing run returns (the output masks and a report of rounds, tightening and residual failures), and the
steps every smoother shares: checking its input, choosing the temporal thresholds, measuring its output."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.labels import MIN_FRAMES, check_labels
from echolatent.measure.framecache import resize_labels_cached
from echolatent.measure.temporal import TemporalReport, TemporalThresholds
from echolatent.measure.validity import ValidityReport, ValidityThresholds, check_validity
from echolatent.temporal.checks import margin_used, own_check


@dataclass
class SmoothReport:
    """What the smoother did to one sequence and how its output measures.

    Attributes:
        method: the method used.
        rounds: solves done (exact: 1 + tightening rounds; 1 for snake; 0 otherwise).
        tightened: ``{"round", "frame", "dims", "reason"}`` for every tightening.
        temporal: image-space temporal report of the output (None when not checked).
        validity: validity report of the output.
        seconds: wall time of the call.
        decoded: how the exact method's output was decoded: "residual", "blend" (per-frame ``weights``), "full", or
            "unchanged" (the input already smooth and valid; None for the other methods).
        weights: per frame, the exact method's blend weight: 0 the residual output, 1 the full decode.
        input_sigma: temporal Gaussian width (frames) of the input one-hot under the residual and blended outputs
            (None: not the residual decode).
        target: fraction of tau the exact method aimed below (None for the other methods).
        margin: largest |d(t)| / tau of the output at its own resolution (None: not checked); 1 is the limit.
        turns_kept: turn frames whose LV the exact method kept as it came in (on their own LV curves).
    """

    method: str
    rounds: int = 0
    tightened: list[dict] = field(default_factory=list)
    temporal: TemporalReport | None = None
    validity: ValidityReport | None = None
    seconds: float = 0.0
    decoded: str | None = None
    weights: list[float] = field(default_factory=list)
    input_sigma: float | None = None
    target: float | None = None
    margin: float | None = None
    turns_kept: list[int] = field(default_factory=list)

    @property
    def temporal_ok(self) -> bool | None:
        return None if self.temporal is None else self.temporal.sequence_ok

    @property
    def valid_frames(self) -> int:
        return int(self.validity.valid.sum()) if self.validity is not None else 0

    def residual(self) -> list[str]:
        """One message per remaining failure (empty when the output passes both checks)."""
        messages = []
        if self.temporal is not None:
            for name, flags in self.temporal.inconsistent.items():
                if flags.any():
                    messages.append(f"{name} inconsistent at frames {np.flatnonzero(flags).tolist()}")
        if self.validity is not None:
            for t in np.flatnonzero(~self.validity.valid):
                messages.append(f"frame {t} invalid: {', '.join(self.validity.failures(int(t)))}")
        return messages

    def as_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "method": self.method,
            "rounds": self.rounds,
            "tightened": self.tightened,
            "temporal_ok": self.temporal_ok,
            "inconsistent_frames": self.temporal.counts() if self.temporal is not None else None,
            "frames_not_held_to_tau": (None if self.temporal is None or self.temporal.unchecked is None
                                       else np.flatnonzero(self.temporal.unchecked).tolist()),
            "valid_frames": self.valid_frames,
            "frames": int(self.validity.valid.size) if self.validity is not None else 0,
            "residual": self.residual(),
            "decoded": self.decoded,
            "weights": self.weights,
            "input_sigma": self.input_sigma,
            "target": self.target,
            "margin": None if self.margin is None else round(self.margin, 4),
            "turns_kept": self.turns_kept,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class SmoothResult:
    """Output masks ``(T, H, W)`` uint8 and the :class:`SmoothReport`."""

    masks: np.ndarray
    report: SmoothReport


def check_sequence(masks: np.ndarray, path: str | Path | None = None) -> np.ndarray:
    """``(T, H, W)`` integer labels 0..3 with T >= MIN_FRAMES (3), frames of at least 8 x 8 pixels and some heart in
    some frame, else an :class:`InputError` naming ``path``."""
    masks = check_labels(masks, path, integer_dtype=True, allow_2d=False)
    if masks.shape[0] < MIN_FRAMES:
        raise InputError(
            path, f"{masks.shape[0]} frame(s): temporal smoothing needs a sequence of at least {MIN_FRAMES}"
        )
    if min(masks.shape[1:]) < 8:
        raise InputError(path, f"frames of {masks.shape[1]} x {masks.shape[2]} pixels are too small to smooth")
    if not masks.any():
        raise InputError(path, "empty masks: no LV, MYO or LA in any frame, nothing to smooth")
    return masks


def measured_thresholds(masks: np.ndarray, grid: tuple[int, int] | None, note: str) -> TemporalThresholds | None:
    """Temporal bounds measured on ``(T, H, W)`` masks resampled to ``grid`` (None: their own), published taus,
    with ``note``; None when no attribute has a range."""
    grid = tuple(grid) if grid is not None else masks.shape[1:]
    try:
        thresholds = TemporalThresholds.from_reference([resize_labels_cached(masks, grid)])
    except ValueError:
        return None
    if not thresholds.bounds:  # no attribute changes over the sequence: nothing to normalise by
        return None
    thresholds.note = note
    return thresholds


def measure_output(
    masks: np.ndarray,
    spacing: tuple[float, float] | None,
    thresholds: TemporalThresholds | None,
    validity_thresholds: ValidityThresholds | None,
    fraction: float = 1.0,
    unchecked: np.ndarray | None = None,
) -> tuple[TemporalReport | None, ValidityReport]:
    """The temporal report (None without bounds) and the validity report of a smoother's output ``(T, H, W)``,
    both on the masks as written: the temporal check at their own resolution (the thresholds' bounds carried to
    it, :func:`.checks.own_check`), taus times ``fraction``, ``unchecked`` ``(T,)`` bool frames not held to tau."""
    temporal = None
    if thresholds is not None and thresholds.bounds:
        temporal = own_check(masks, spacing, thresholds, fraction, unchecked)
    return temporal, check_validity(masks, validity_thresholds)


class Closest:
    """The failing candidate output nearest to passing seen in one call: fewest invalid frames, then the smallest
    largest ``|d(t)| / tau`` over the frames held to tau (:func:`.checks.margin_used`), the first on ties."""

    def __init__(self) -> None:
        self.key: tuple[int, float] | None = None
        self.masks: np.ndarray | None = None
        self.state: dict = {}

    def offer(self, masks: np.ndarray, report: SmoothReport, tau: dict[str, float]) -> None:
        """Keep ``masks`` ``(T, H, W)`` (and what ``report`` says of them) when nearer to passing than the kept one."""
        margin = margin_used(report.temporal, tau) if report.temporal is not None else 0.0
        key = (int((~report.validity.valid).sum()), margin)
        if self.key is None or key < self.key:
            self.key, self.masks = key, masks.copy()
            self.state = {name: getattr(report, name) for name in ("temporal", "validity", "weights", "decoded",
                                                                   "input_sigma")}

    def restore(self, report: SmoothReport) -> np.ndarray:
        """The kept masks, their measures and decode put back in ``report``."""
        if self.masks is None:
            raise RuntimeError("no candidate output was measured")
        for name, value in self.state.items():
            setattr(report, name, value)
        return self.masks
