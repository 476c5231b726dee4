"""What the exact smoother reads off its input before smoothing: whether it is already smooth (then returned as it
is) and which of its turns lie on their own LV curves (their LV kept as segmented), from one measurement of it."""

from __future__ import annotations

import numpy as np

from echolatent.measure.temporal import TemporalReport, TemporalThresholds
from echolatent.measure.validity import ValidityReport, ValidityThresholds
from echolatent.temporal.result import measure_output

Measured = tuple[TemporalReport, ValidityReport]


def measure_input(masks: np.ndarray, spacing, thresholds: TemporalThresholds | None,
                  validity_thresholds: ValidityThresholds | None, keep_below: float,
                  unchecked: np.ndarray | None) -> Measured | None:
    """The temporal report (taus times ``keep_below``, at the masks' own resolution; ``unchecked`` ``(T,)`` frames
    not held to tau) and the validity report of input masks ``(T, H, W)``; None when ``keep_below`` is 0 or there
    are no bounds."""
    if keep_below <= 0 or thresholds is None or not thresholds.bounds:
        return None
    return measure_output(masks, spacing, thresholds, validity_thresholds, keep_below, unchecked)


def already_smooth(measured: Measured | None) -> bool:
    """True when the input is valid and every |d(t)| stays below ``keep_below`` times its tau (no flicker to
    remove: returned as it is)."""
    return measured is not None and bool(measured[1].valid.all() and measured[0].sequence_ok)


def turns_kept(measured: Measured | None, thresholds: TemporalThresholds, unchecked: np.ndarray | None,
               keep_below: float) -> np.ndarray | None:
    """``(T,)`` bool turns whose LV is kept as it is (:func:`turns_on_curve` on the LV's area and length, within
    ``keep_below`` of their taus), None without turns or input measures."""
    if measured is None or unchecked is None or not unchecked.any():
        return None
    temporal, validity = measured
    return turns_on_curve(temporal, validity.valid, unchecked, thresholds.tau, keep_below)


#: The attributes whose curves say whether a turn's LV is kept as it is (EDV and ESV are read from them).
TURN_ATTRIBUTES = ("lv_area", "lv_length")


def turns_on_curve(report: TemporalReport, valid: np.ndarray, unchecked: np.ndarray, tau: dict[str, float],
                   fraction: float, names: tuple[str, ...] = TURN_ATTRIBUTES) -> np.ndarray:
    """``(T,)`` bool: the ``unchecked`` frames (turns) of an input that lie on their own curves, whose LV is kept as
    it is rather than filtered along time (a symmetric filter lowers every maximum and raises every minimum: the
    turns are where EDV and ESV are read).

    A turn frame t is on its curves when it is ``valid`` and, for each attribute in ``names`` (those ``report``
    measures), the distance of its normalised value to the quadratic fitted through frames t - 2, t - 1, t + 1,
    t + 2 stays below ``fraction`` times the attribute's ``tau``. That distance is
    ``(2/3) (d(t) - (d(t-1) + d(t+1)) / 2)`` in terms of the report's deviations d: a one-frame error of size e at
    t gives e, a turn sampled from a smooth curve close to 0. Frames where a d is missing (the first two and last
    two, an unmeasured attribute) are not on their curve.
    """
    kept = np.asarray(unchecked, dtype=bool) & np.asarray(valid, dtype=bool)
    for name in (name for name in names if name in report.d):
        d = report.d[name]
        residual = np.full(len(d), np.nan)
        residual[1:-1] = (2.0 / 3.0) * (d[1:-1] - 0.5 * (d[:-2] + d[2:]))
        with np.errstate(invalid="ignore"):
            kept &= np.abs(residual) < fraction * tau[name]
    return kept
