"""Exact latent-trajectory smoothing: a banded solve for free dimensions, a convex QP for limited ones.

For every sequence and every latent dimension k (normalised units), the smoothed trajectory x solves

    min_x  1/2 |x - z|^2 + (w_k / 2) x^T L x    subject to  |d_t(x)| <= tau_k (1 - 1e-9)  on interior frames,

with d castor's deviation ``x_t - (x_{t-1} + x_{t+1}) / 2``, L a smoothness energy (:mod:`.banded`), w_k =
``attr_weight`` on limited dimensions (finite tau) and ``free_weight`` on free ones (tau = inf, no limit: one
banded solve). The limited problems of all sequences and dimensions are solved together (:mod:`.qp`): a few
primal-dual active-set steps, each an exact banded solve of the KKT system for a guessed set of frames on their
limit, accepted only when it meets the optimality conditions (with a penalty this usually takes 1-6 steps); the
problems left (all of them without a penalty, where the guesses tend to cycle) go to a primal-dual interior-point
method (Mehrotra predictor-corrector) started from a strictly feasible point (the least-squares line, whose d is
0), finished by the same exact solve. There is no iteration count to tune, every result meets the limits, and
each problem is solved on its own, so results do not depend on the batch. Everything that depends only on the
length and the weights (banded factors, operators) is cached.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from echolatent.temporal.banded import Penalty, penalty_matrix, smooth_penalised
from echolatent.temporal.limits import MARGIN, check_frame_limits, check_trajectories
from echolatent.temporal.qp import solve_deviation_qp

log = logging.getLogger(__name__)

#: Stands in for an infinite limit on single frames of a limited dimension (normalised units span about 1).
UNLIMITED = 1e6


@dataclass(frozen=True)
class ExactSettings:
    """Smoothness weights (see module docstring), given per frame.

    The weights used are ``weight * (T / reference_length) ** length_exponent``; the default exponent 0 uses them
    as given, so a recording of many cycles is smoothed like each of its half cycles (a weight that grew with T,
    exponent 1 before, flattened long multi-beat recordings). The defaults (curvature penalty, 3 on free and 1.5
    on limited dimensions) are, on benchmarks/bench_solver.py's synthetic trajectories for T = 20, both closer to
    the observed codes and to the noise-free curves than castor's snake and over 1000x faster.
    ``attr_weight = 0`` gives the minimal change that meets the limits (``free_weight = 50, penalty =
    "membrane"`` is castor's).
    """

    free_weight: float = 3.0
    attr_weight: float = 1.5
    penalty: Penalty = "curvature"
    length_exponent: float = 0.0
    reference_length: int = 20

    def weights(self, length: int) -> tuple[float, float]:
        """(free weight, limited-dims weight) for sequences of ``length`` frames."""
        scale = (length / self.reference_length) ** self.length_exponent
        return self.free_weight * scale, self.attr_weight * scale


_DEFAULTS = ExactSettings()


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
    if overrides or settings is None:
        settings = replace(settings or _DEFAULTS, **overrides)
    batch = check_trajectories(z)
    n_seq, length, n_dims = batch.shape
    limits = check_frame_limits(tau, batch.shape)
    free_weight, attr_weight = settings.weights(length)
    if free_weight < 0 or attr_weight < 0:
        raise ValueError(f"smoothness weights must be >= 0, got free {free_weight}, attr {attr_weight}")
    series = batch.transpose(0, 2, 1)  # (B, d, T): each dimension of each sequence a row
    result = series.copy()
    free = np.isinf(limits).all(axis=(0, 1))
    limited = ~free
    if free_weight > 0 and free.any():
        result[:, free] = smooth_penalised(series[:, free].reshape(-1, length), free_weight, settings.penalty).reshape(
            n_seq, -1, length
        )
    if limited.any():
        bounds = limits.transpose(0, 2, 1)[:, limited].reshape(-1, length - 2)
        bounds = np.minimum(bounds, UNLIMITED) * (1.0 - MARGIN)
        smoothed = solve_limited(series[:, limited].reshape(-1, length), bounds, attr_weight, settings.penalty)
        result[:, limited] = smoothed.reshape(n_seq, -1, length)
    result = np.ascontiguousarray(result.transpose(0, 2, 1))
    return result if np.ndim(z) == 3 else result[0]


def solve_limited(series: np.ndarray, bounds: np.ndarray, weight: float, penalty: Penalty) -> np.ndarray:
    """``(P, T)`` series, ``(P, T - 2)`` bounds -> ``(P, T)``: min 1/2|x-z|^2 + (w/2) x^T L x s.t. |d(x)| <= bounds.

    Problems whose penalised solution already meets its limits keep it (one banded solve); the others go to
    :func:`.qp.solve_deviation_qp`.
    """
    hessian = penalty_matrix(series.shape[1], weight, penalty)
    unconstrained = hessian.solve(series) if weight > 0 else series.copy()
    dev = unconstrained[:, 1:-1] - 0.5 * (unconstrained[:, :-2] + unconstrained[:, 2:])
    inside = (np.abs(dev) < bounds).all(axis=1)
    if not inside.all():
        outside = ~inside
        unconstrained[outside] = solve_deviation_qp(series[outside], hessian, bounds[outside], unconstrained[outside])
    return unconstrained
