"""Image-space smoothers: castor's temporal Gaussian baseline (``gaussian``) and the identity (``none``), with the
same checks of their output as the latent methods (:class:`~echolatent.temporal.strategy.SequenceSmoother`)."""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import ValidityThresholds
from echolatent.temporal.gaussian import gaussian_smooth
from echolatent.temporal.result import (
    SmoothReport,
    SmoothResult,
    check_sequence,
    measure_output,
    measured_thresholds,
)
from echolatent.temporal.thresholds import stored_thresholds

log = logging.getLogger(__name__)


def _identity(masks: np.ndarray) -> np.ndarray:
    return masks.astype(np.uint8, copy=True)


FILTERS = {"gaussian": gaussian_smooth, "none": _identity}


class FilterSmoother:
    """``(masks (T, H, W), spacing) -> SmoothResult`` by a filter of the masks (no shape model)."""

    grid = None

    def __init__(
        self,
        method: str,
        model=None,
        *,
        thresholds: TemporalThresholds | None = None,
        validity_thresholds: ValidityThresholds | None = None,
    ) -> None:
        """``model``: a shape model file (None: the shipped AR-VAE) whose stored temporal thresholds are used when
        ``thresholds`` is None and it has some; else bounds are measured on each input."""
        if method not in FILTERS:
            raise ValueError(f"unknown filter method {method!r}; expected one of {tuple(FILTERS)}")
        self.method = method
        self.validity_thresholds = validity_thresholds
        if thresholds is None and not isinstance(model, torch.nn.Module):  # a file given must be readable
            thresholds = stored_thresholds(model, required=model is not None)
        self.thresholds = thresholds
        self._warned = False

    def thresholds_for(self, masks: np.ndarray) -> TemporalThresholds | None:
        """The given or stored thresholds, else bounds measured on ``masks`` (logged once)."""
        if self.thresholds is not None:
            return self.thresholds
        thresholds = measured_thresholds(masks, None, "bounds measured on the input sequence itself")
        if thresholds is not None and not self._warned:
            log.warning("no temporal thresholds given or stored with the model: bounds measured on each input")
            self._warned = True
        return thresholds

    def __call__(
        self, masks: np.ndarray, spacing: tuple[float, float] | None = None, unchecked: np.ndarray | None = None
    ) -> SmoothResult:
        start = time.perf_counter()
        masks = check_sequence(masks)
        thresholds = self.thresholds_for(masks)
        out = FILTERS[self.method](masks)
        report = SmoothReport(self.method)
        report.temporal, report.validity = measure_output(
            out, spacing, thresholds, self.validity_thresholds, unchecked=unchecked
        )
        report.seconds = time.perf_counter() - start
        return SmoothResult(out, report)
