"""Exact latent-trajectory smoothing: a banded solve for free dimensions, a convex QP for limited ones.

For every sequence and every latent dimension k (normalised units), the smoothed trajectory x solves

    min_x  1/2 |x - z|^2 + (w_k / 2) x^T L x    subject to  |d_t(x)| <= tau_k (1 - 1e-9)  on interior frames,

with d castor's deviation ``x_t - (x_{t-1} + x_{t+1}) / 2``, L a smoothness energy (:mod:`.banded`), w_k =
``attr_weight`` on limited dimensions (finite tau) and ``free_weight`` on free ones (tau = inf, no limit: one
banded solve). The limited problems of all sequences and dimensions are solved together by a primal-dual
interior-point method (Mehrotra predictor-corrector) started from a strictly feasible point (the least-squares
line, whose d is 0), so every iterate meets the limits; each Newton step is one banded Cholesky solve of the
stacked pentadiagonal system (:mod:`.qp`). It stops at a fixed accuracy, not after a tuned number of iterations. Each
problem is updated with its own step and frozen once converged, so results do not depend on the batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from echolatent.temporal.banded import Penalty, smooth_penalised, smoothing_bands, solve_spd_banded
from echolatent.temporal.limits import MARGIN, check_frame_limits, check_trajectories, deviation
from echolatent.temporal.qp import solve_deviation_qp

log = logging.getLogger(__name__)

#: Stands in for an infinite limit on single frames of a limited dimension (normalised units span about 1).
UNLIMITED = 1e6


@dataclass(frozen=True)
class ExactSettings:
    """Smoothness weights (see module docstring), given for a sequence of ``reference_length`` frames.

    A weight in frames means a different smoothing for 10 or 200 frames of the same cycle: the weights used
    are ``weight * (T / reference_length) ** length_exponent``. The defaults (curvature penalty, 3 at 20 frames,
    exponent 3) were the most accurate against the noise-free curves of benchmarks/bench_solver.py's synthetic
    trajectories for T = 10..200; ``attr_weight = 0`` gives the minimal change that meets the limits, and
    ``length_exponent = 0`` uses the weights as given (``free_weight = 50, penalty = "membrane"`` is castor's).
    """

    free_weight: float = 3.0
    attr_weight: float = 3.0
    penalty: Penalty = "curvature"
    length_exponent: float = 3.0
    reference_length: int = 20

    def weights(self, length: int) -> tuple[float, float]:
        """(free weight, limited-dims weight) for sequences of ``length`` frames."""
        scale = (length / self.reference_length) ** self.length_exponent
        return self.free_weight * scale, self.attr_weight * scale


def solve_exact(
    z: np.ndarray, tau: np.ndarray | float, settings: ExactSettings | None = None, **overrides
) -> np.ndarray:
    """``(T, d)`` or ``(B, T, d)`` normalised trajectories, limits -> smoothed trajectories of the same shape.

    ``tau``: ``(d,)`` per dimension (inf: a free dimension), or per interior frame ``(T - 2, d)`` /
    ``(B, T - 2, d)`` (row t - 1 bounds d(t)); a dimension whose limits are all inf is free.

    ``overrides``: fields of :class:`ExactSettings` (e.g. ``attr_weight=0.0``) replacing those of ``settings``.

    Raises:
        ValueError: fewer than 3 frames, NaN, non-positive limits or negative weights.
    """
    settings = replace(settings or ExactSettings(), **overrides)
    batch = check_trajectories(z)
    n_seq, length, n_dims = batch.shape
    limits = check_frame_limits(tau, batch.shape)
    free_weight, attr_weight = settings.weights(length)
    if free_weight < 0 or attr_weight < 0:
        raise ValueError(f"smoothness weights must be >= 0, got free {free_weight}, attr {attr_weight}")
    result = batch.copy()
    free = np.isinf(limits).all(axis=(0, 1))
    if free.any() and free_weight > 0:
        series = batch[:, :, free].transpose(0, 2, 1).reshape(-1, length)
        smoothed = smooth_penalised(series, free_weight, settings.penalty)
        result[:, :, free] = smoothed.reshape(n_seq, int(free.sum()), length).transpose(0, 2, 1)
    if (~free).any():
        series = batch[:, :, ~free].transpose(0, 2, 1).reshape(-1, length)
        bounds = limits[:, :, ~free].transpose(0, 2, 1).reshape(-1, length - 2)
        bounds = np.minimum(bounds, UNLIMITED) * (1.0 - MARGIN)
        smoothed = solve_limited(series, bounds, attr_weight, settings.penalty)
        result[:, :, ~free] = smoothed.reshape(n_seq, int((~free).sum()), length).transpose(0, 2, 1)
    return result if np.ndim(z) == 3 else result[0]


def solve_limited(series: np.ndarray, bounds: np.ndarray, weight: float, penalty: Penalty) -> np.ndarray:
    """``(P, T)`` series, ``(P, T - 2)`` bounds -> ``(P, T)``: min 1/2|x-z|^2 + (w/2) x^T L x s.t. |d(x)| <= bounds.

    Problems whose penalised solution already meets its limits keep it (one banded solve); the others go to the
    interior-point solver.
    """
    n_problems, length = series.shape
    hessian = smoothing_bands(n_problems, length, weight, penalty)
    unconstrained = solve_spd_banded(hessian, series) if weight > 0 else series.copy()
    inside = (np.abs(deviation(unconstrained[:, :, None])[:, :, 0]) < bounds).all(axis=1)
    if not inside.all():
        unconstrained[~inside] = solve_deviation_qp(series[~inside], [b[0] for b in hessian], bounds[~inside])
    return unconstrained
