"""What a smoothing run returns: the output masks and a report of rounds, tightening and residual failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.labels import NUM_LABELS
from echolatent.measure.temporal import TemporalReport
from echolatent.measure.validity import ValidityReport


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
            "valid_frames": self.valid_frames,
            "frames": int(self.validity.valid.size) if self.validity is not None else 0,
            "residual": self.residual(),
            "decoded": self.decoded,
            "weights": self.weights,
            "input_sigma": self.input_sigma,
            "target": self.target,
            "margin": None if self.margin is None else round(self.margin, 4),
            "seconds": round(self.seconds, 4),
        }


@dataclass
class SmoothResult:
    """Output masks ``(T, H, W)`` uint8 and the :class:`SmoothReport`."""

    masks: np.ndarray
    report: SmoothReport


def check_sequence(masks: np.ndarray, path: str | Path | None = None) -> np.ndarray:
    """``(T, H, W)`` integer labels 0..3 with T >= 3, frames of at least 8 x 8 pixels and some heart in some
    frame, else an :class:`InputError` naming ``path``."""
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise InputError(path, f"expected a mask sequence (T, H, W), got shape {masks.shape}")
    if masks.shape[0] < 3:
        raise InputError(path, f"{masks.shape[0]} frame(s): temporal smoothing needs a sequence of at least 3")
    if not np.issubdtype(masks.dtype, np.integer):
        raise InputError(path, f"expected integer labels, got dtype {masks.dtype}")
    if masks.min() < 0 or masks.max() >= NUM_LABELS:
        unknown = sorted(int(v) for v in np.unique(masks) if v < 0 or v >= NUM_LABELS)
        raise InputError(path, f"unknown labels {unknown} (expected 0..{NUM_LABELS - 1})")
    if min(masks.shape[1:]) < 8:
        raise InputError(path, f"frames of {masks.shape[1]} x {masks.shape[2]} pixels are too small to smooth")
    if not masks.any():
        raise InputError(path, "empty masks: no LV, MYO or LA in any frame, nothing to smooth")
    return masks
