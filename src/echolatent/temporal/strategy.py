"""Smoothers as strategies: the :class:`SequenceSmoother` protocol every method implements and the one factory.

Methods: ``exact`` and ``snake`` (latent-space solvers, :class:`~echolatent.temporal.smooth.Smoother`), ``gaussian``
and ``none`` (image-space baselines, :mod:`.baselines`). Adding a method: a class with the protocol's attributes and
``__call__``, and one entry in :data:`FACTORIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import ValidityThresholds
from echolatent.temporal.baselines import FilterSmoother
from echolatent.temporal.result import SmoothResult
from echolatent.temporal.smooth import Smoother


@runtime_checkable
class SequenceSmoother(Protocol):
    """What the pipeline needs of a smoother.

    Attributes:
        method: the method's name (in reports).
        thresholds: temporal bounds and taus given or stored with the shape model; None: measured on each input.
        validity_thresholds: anatomical limits of its checks (None: the measure package's default).
        grid: ``(H, W)`` grid of its shape model, where per-sequence bounds are measured (None: the masks' own).
    """

    method: str
    thresholds: TemporalThresholds | None
    validity_thresholds: ValidityThresholds | None

    @property
    def grid(self) -> tuple[int, int] | None: ...

    def thresholds_for(self, masks: np.ndarray) -> TemporalThresholds | None:
        """The thresholds used on ``(T, H, W)`` masks (the given ones, else measured on them)."""
        ...

    def __call__(
        self, masks: np.ndarray, spacing: tuple[float, float] | None = None, unchecked: np.ndarray | None = None
    ) -> SmoothResult:
        """``(T, H, W)`` labels (T >= 3) -> output masks and a report whose temporal/validity checks used
        :meth:`thresholds_for` and ``validity_thresholds``; ``unchecked`` ``(T,)`` bool frames (the turns of a
        sequence of several half cycles) are left free of the temporal limits."""
        ...


def _latent(method: str) -> Callable[..., SequenceSmoother]:
    return lambda model=None, **options: Smoother(model, method, **options)


def _filter(method: str) -> Callable[..., SequenceSmoother]:
    def build(model=None, *, thresholds=None, validity_thresholds=None, **_unused) -> SequenceSmoother:
        return FilterSmoother(method, model, thresholds=thresholds, validity_thresholds=validity_thresholds)

    return build


#: ``{method: factory(model=None, **options)}``; latent methods take :class:`Smoother`'s options, the baselines
#: ``thresholds`` and ``validity_thresholds`` (the others are ignored).
FACTORIES: dict[str, Callable[..., SequenceSmoother]] = {
    "exact": _latent("exact"),
    "snake": _latent("snake"),
    "gaussian": _filter("gaussian"),
    "none": _filter("none"),
}
METHODS = tuple(FACTORIES)


def make_smoother(method: str = "exact", model=None, **options) -> SequenceSmoother:
    """Build the smoother of ``method`` (``model``: a loaded shape model, a model file or None for the shipped
    AR-VAE; the baselines only read its stored temporal thresholds).

    Raises:
        ValueError: unknown method or options; InputError: unreadable model file.
    """
    if method not in FACTORIES:
        raise ValueError(f"unknown smoothing method {method!r}; expected one of {METHODS}")
    return FACTORIES[method](model, **options)
