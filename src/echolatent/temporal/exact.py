"""Exact latent-trajectory smoothing: a banded solve for free dimensions, a convex QP for limited ones.

For every sequence and every latent dimension k (normalised units), the smoothed trajectory x solves

    min_x  1/2 |x - z|^2 + (w_k / 2) x^T L x    subject to  |d_t(x)| <= tau_k (1 - 1e-9)  on interior frames,

with d castor's deviation ``x_t - (x_{t-1} + x_{t+1}) / 2``, L a smoothness energy (:mod:`.banded`), w_k =
``attr_weight`` on limited dimensions (finite tau) and ``free_weight`` on free ones (tau = inf, no limit: one
banded solve). The limited problems of all sequences and dimensions are solved together by a primal-dual
interior-point method (Mehrotra predictor-corrector) started from a strictly feasible point (the least-squares
line, whose d is 0), so every iterate meets the limits; each Newton step is one banded Cholesky solve of the
stacked pentadiagonal system. It stops at a fixed accuracy, not after a tuned number of iterations. Each
problem is updated with its own step and frozen once converged, so results do not depend on the batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import LinAlgError

from echolatent.temporal.banded import (
    DEVIATION_STENCIL,
    Penalty,
    add_bands,
    apply_stencil,
    apply_stencil_transpose,
    factor_spd_banded,
    gram_bands,
    smooth_penalised,
    smoothing_bands,
    solve_factored,
    solve_spd_banded,
)
from echolatent.temporal.limits import MARGIN, check_frame_limits, check_trajectories

log = logging.getLogger(__name__)

#: Converged when the KKT residual and the mean complementarity are below these (normalised units, O(1)).
RESIDUAL_TOL = 1e-9
GAP_TOL = 1e-12
#: Caps the barrier weights multiplier/slack so the Newton matrix stays well conditioned near the solution.
MAX_BARRIER_WEIGHT = 1e15
#: A safeguard only: the method converges in 10-40 iterations on these problems.
MAX_NEWTON_STEPS = 200
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
    """``(P, T)`` series, ``(P, T - 2)`` bounds -> ``(P, T)``: min 1/2|x-z|^2 + (w/2) x^T L x s.t. |d(x)| <= bounds."""
    hessian = smoothing_bands(series.shape[0], series.shape[1], weight, penalty)
    unconstrained = solve_spd_banded(hessian, series) if weight > 0 else series.copy()
    inside = (np.abs(apply_stencil(unconstrained, DEVIATION_STENCIL)) < bounds).all(axis=1)
    result = unconstrained
    if not inside.all():
        result[~inside] = _interior_point(series[~inside], [b[~inside] for b in hessian], bounds[~inside])
    return result


def _line_fit(series: np.ndarray) -> np.ndarray:
    """``(P, T)`` -> ``(P, T)`` least-squares straight lines (d = 0 everywhere: strictly feasible)."""
    time = np.arange(series.shape[1], dtype=np.float64)
    time -= time.mean()
    slope = series @ time / (time @ time)
    return series.mean(axis=1, keepdims=True) + slope[:, None] * time


def _step_to_boundary(values: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``(P, n)`` positive values and directions -> ``(P,)`` largest alpha keeping values + alpha*steps >= 0."""
    ratios = np.full(values.shape, np.inf)
    np.divide(values, -steps, out=ratios, where=steps < 0)
    return ratios.min(axis=1)


def _hessian_times(bands: list[np.ndarray], vec: np.ndarray) -> np.ndarray:
    """Symmetric banded ``(P, T)`` bands times ``(P, T)`` vectors."""
    out = bands[0] * vec
    for offset, band in enumerate(bands[1:], start=1):
        out[:, offset:] += band[:, :-offset] * vec[:, :-offset]
        out[:, :-offset] += band[:, :-offset] * vec[:, offset:]
    return out


@dataclass
class _Iterate:
    """Primal-dual state, one row per problem: x ``(P, T)``; slacks and multipliers ``(P, 2m)`` (m = T - 2),
    the first m for ``D x <= b``, the last m for ``-D x <= b``."""

    x: np.ndarray
    slack: np.ndarray
    dual: np.ndarray


def _constraints(vec: np.ndarray) -> np.ndarray:
    """G x with G = [D; -D]: ``(P, T)`` -> ``(P, 2m)``."""
    rows = apply_stencil(vec, DEVIATION_STENCIL)
    return np.concatenate([rows, -rows], axis=1)


def _constraints_t(values: np.ndarray) -> np.ndarray:
    """G^T v: ``(P, 2m)`` -> ``(P, T)``."""
    m = values.shape[1] // 2
    return apply_stencil_transpose(values[:, :m] - values[:, m:], DEVIATION_STENCIL)


def _newton_direction(newton, state, r_dual, r_primal, r_comp):
    """Solve the reduced KKT system (the factorised banded matrix) -> (dx, dslack, ddual)."""
    rhs = -r_dual + _constraints_t((r_comp - state.dual * r_primal) / state.slack)
    dx = solve_factored(newton, rhs)
    dslack = -r_primal - _constraints(dx)
    ddual = -(r_comp + state.dual * dslack) / state.slack
    return dx, dslack, ddual


def _max_alpha(state: _Iterate, dslack: np.ndarray, ddual: np.ndarray) -> np.ndarray:
    return np.minimum(_step_to_boundary(state.slack, dslack), _step_to_boundary(state.dual, ddual))


def _mehrotra_step(state: _Iterate, target, hessian, limit) -> tuple[_Iterate, np.ndarray]:
    """One predictor-corrector step for every problem -> (new state, converged flags ``(P,)``)."""
    n_rows = state.slack.shape[1]
    r_dual = _hessian_times(hessian, state.x) - target + _constraints_t(state.dual)
    r_primal = _constraints(state.x) + state.slack - limit
    complementarity = state.slack * state.dual
    gap = complementarity.mean(axis=1)
    converged = (np.abs(r_dual).max(axis=1) <= RESIDUAL_TOL) & (gap <= GAP_TOL)
    weights = np.minimum(state.dual / state.slack, MAX_BARRIER_WEIGHT)
    extra = gram_bands(DEVIATION_STENCIL, weights[:, : n_rows // 2] + weights[:, n_rows // 2 :], state.x.shape[1])
    newton = factor_spd_banded(add_bands(hessian, extra))
    dx, ds, dl = _newton_direction(newton, state, r_dual, r_primal, complementarity)
    alpha = np.minimum(1.0, _max_alpha(state, ds, dl))[:, None]
    gap_affine = ((state.slack + alpha * ds) * (state.dual + alpha * dl)).mean(axis=1)
    centring = (gap_affine / np.maximum(gap, np.finfo(float).tiny)) ** 3
    r_comp = complementarity + ds * dl - (centring * gap)[:, None]
    dx, ds, dl = _newton_direction(newton, state, r_dual, r_primal, r_comp)
    alpha = np.minimum(1.0, 0.99 * _max_alpha(state, ds, dl))
    alpha[converged] = 0.0
    alpha = alpha[:, None]
    return _Iterate(state.x + alpha * dx, state.slack + alpha * ds, state.dual + alpha * dl), converged


def _interior_point(target: np.ndarray, hessian: list[np.ndarray], bounds: np.ndarray) -> np.ndarray:
    """Primal-dual interior point for min 1/2 x^T H x - target^T x s.t. -b <= D x <= b, P problems at once.

    ``target`` ``(P, T)``, ``hessian`` bands of H (each ``(P, T)``), ``bounds`` ``(P, T - 2)`` -> ``(P, T)``.
    """
    limit = np.concatenate([bounds, bounds], axis=1)
    x = _line_fit(target)
    state = _Iterate(x, limit - _constraints(x), np.ones((len(x), 2 * (x.shape[1] - 2))))
    result = x.copy()
    active = np.arange(len(x))
    for _ in range(MAX_NEWTON_STEPS):
        if active.size < len(x):
            sub_hessian, sub_target, sub_limit = [b[active] for b in hessian], target[active], limit[active]
        else:
            sub_hessian, sub_target, sub_limit = hessian, target, limit
        try:
            new_state, converged = _mehrotra_step(state, sub_target, sub_hessian, sub_limit)
        except LinAlgError:  # round-off at extreme barrier weights: the current iterate is feasible; keep it
            log.warning("exact solver: Newton matrix lost definiteness; %d problems stop early", active.size)
            break
        if converged.any():
            result[active[converged]] = state.x[converged]
            keep = ~converged
            active = active[keep]
            new_state = _Iterate(new_state.x[keep], new_state.slack[keep], new_state.dual[keep])
        state = new_state
        if active.size == 0:
            return result
    log.warning("exact solver: %d of %d limited problems did not reach full accuracy", active.size, len(x))
    result[active] = state.x
    return result
