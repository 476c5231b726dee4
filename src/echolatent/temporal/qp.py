"""Interior-point solver for many small QPs with limits on castor's deviation d(x), all at once.

Each problem p (a row of ``(P, T)`` arrays) is

    min_x  1/2 x^T H x - z_p^T x    subject to  -b_p <= D x <= b_p,

with H = I + w L the same symmetric banded matrix for all problems, D the ``(T - 2, T)`` deviation operator
(``(D x)_t = x_{t+1} - (x_t + x_{t+2}) / 2``) and b_p ``(T - 2,)`` positive bounds. Mehrotra's primal-dual
predictor-corrector method, started from a strictly feasible point (the unconstrained minimiser shrunk towards
the least-squares line of z, whose d is 0), so every iterate meets the limits. Each Newton step reduces to the
pentadiagonal system ``H + D^T W D``; the systems of all problems are stacked block-diagonally into one banded
matrix and factorised by LAPACK (``dpbtrf``) in one call. Problems converge, and are frozen, independently:
a problem's result does not depend on the batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from echolatent.temporal.banded import NotPositiveDefiniteError, factor_spd_banded, solve_factored

log = logging.getLogger(__name__)

#: Converged when the KKT residual and the mean complementarity are below these (normalised units, O(1)).
RESIDUAL_TOL = 1e-8
GAP_TOL = 1e-12
#: A safeguard only: the method converges in 8-15 iterations on these problems.
MAX_NEWTON_STEPS = 200
#: Fraction of the distance to the boundary taken by a step.
STEP_FRACTION = 0.99
#: The start point's |d| as a fraction of the bounds, and the multipliers' starting value.
START_FRACTION = 0.9
START_DUAL = 0.1


def deviation_matrix(length: int) -> np.ndarray:
    """``(T - 2, T)`` dense D: ``D @ x`` is castor's d(t) on the interior frames."""
    rows = np.arange(length - 2)
    matrix = np.zeros((length - 2, length))
    matrix[rows, rows], matrix[rows, rows + 1], matrix[rows, rows + 2] = -0.5, 1.0, -0.5
    return matrix


@dataclass
class _Problem:
    """Data shared by the iterations: H dense ``(T, T)`` and its bands ``[diag, sup1, sup2]`` ``(T,)``, D."""

    hessian: np.ndarray
    hessian_bands: list[np.ndarray]
    dev: np.ndarray

    def newton_factor(self, weights: np.ndarray) -> np.ndarray:
        """Banded Cholesky factor of the stacked ``H + D^T diag(w) D`` for weights ``(P, T - 2)``."""
        n_problems, m = weights.shape
        length = m + 2
        diag = np.tile(self.hessian_bands[0], (n_problems, 1))
        sup1 = np.tile(self.hessian_bands[1], (n_problems, 1))
        sup2 = np.tile(self.hessian_bands[2], (n_problems, 1))
        quarter = 0.25 * weights
        diag[:, :m] += quarter
        diag[:, 1 : m + 1] += weights
        diag[:, 2:] += quarter
        sup1[:, :m] -= 0.5 * weights
        sup1[:, 1 : m + 1] -= 0.5 * weights
        sup2[:, :m] += quarter
        sup1[:, length - 1] = 0.0
        sup2[:, length - 2 :] = 0.0
        return factor_spd_banded([diag, sup1, sup2])


def _step_to_boundary(values: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``(P, n)`` positive values and directions -> ``(P,)`` largest alpha keeping values + alpha*steps >= 0."""
    ratios = np.full(values.shape, np.inf)
    np.divide(values, -steps, out=ratios, where=steps < 0)
    return ratios.min(axis=1)


@dataclass
class _Iterate:
    """Primal-dual state: x ``(P, T)``; slacks and multipliers ``(P, T - 2)`` of the upper (``D x <= b``) and
    lower (``-D x <= b``) limits."""

    x: np.ndarray
    slack_up: np.ndarray
    slack_low: np.ndarray
    dual_up: np.ndarray
    dual_low: np.ndarray

    def take(self, keep: np.ndarray) -> _Iterate:
        return _Iterate(*(a[keep] for a in (self.x, self.slack_up, self.slack_low, self.dual_up, self.dual_low)))


def _direction(problem, factor, state, r_dual, r_up, r_low, comp_up, comp_low):
    """Newton direction for the residuals (dual, primal up/low, complementarity up/low), via the factor."""
    v_up = (comp_up - state.dual_up * r_up) / state.slack_up
    v_low = (comp_low - state.dual_low * r_low) / state.slack_low
    dx = solve_factored(factor, (v_up - v_low) @ problem.dev - r_dual)
    ddev = dx @ problem.dev.T
    ds_up, ds_low = -r_up - ddev, -r_low + ddev
    dl_up = -(comp_up + state.dual_up * ds_up) / state.slack_up
    dl_low = -(comp_low + state.dual_low * ds_low) / state.slack_low
    return dx, ds_up, ds_low, dl_up, dl_low


def _largest_step(state: _Iterate, ds_up, ds_low, dl_up, dl_low) -> np.ndarray:
    values = np.concatenate([state.slack_up, state.slack_low, state.dual_up, state.dual_low], axis=1)
    return _step_to_boundary(values, np.concatenate([ds_up, ds_low, dl_up, dl_low], axis=1))


def _mehrotra_step(problem: _Problem, state: _Iterate, target, bounds) -> tuple[_Iterate, np.ndarray]:
    """One predictor-corrector step for every problem -> (new state, converged flags ``(P,)``)."""
    dev_x = state.x @ problem.dev.T
    r_dual = state.x @ problem.hessian - target + (state.dual_up - state.dual_low) @ problem.dev
    r_up, r_low = dev_x + state.slack_up - bounds, -dev_x + state.slack_low - bounds
    comp_up, comp_low = state.slack_up * state.dual_up, state.slack_low * state.dual_low
    gap = (comp_up.sum(axis=1) + comp_low.sum(axis=1)) / (2 * comp_up.shape[1])
    converged = (np.abs(r_dual).max(axis=1) <= RESIDUAL_TOL) & (gap <= GAP_TOL)
    factor = problem.newton_factor(state.dual_up / state.slack_up + state.dual_low / state.slack_low)

    affine = _direction(problem, factor, state, r_dual, r_up, r_low, comp_up, comp_low)
    alpha = np.minimum(1.0, _largest_step(state, *affine[1:]))[:, None]
    _, ds_up, ds_low, dl_up, dl_low = affine
    gap_affine = ((state.slack_up + alpha * ds_up) * (state.dual_up + alpha * dl_up)).sum(axis=1) + (
        (state.slack_low + alpha * ds_low) * (state.dual_low + alpha * dl_low)
    ).sum(axis=1)
    gap_affine /= 2 * comp_up.shape[1]
    target_gap = ((gap_affine / np.maximum(gap, np.finfo(float).tiny)) ** 3 * gap)[:, None]
    steps = _direction(
        problem,
        factor,
        state,
        r_dual,
        r_up,
        r_low,
        comp_up + ds_up * dl_up - target_gap,
        comp_low + ds_low * dl_low - target_gap,
    )
    alpha = np.minimum(1.0, STEP_FRACTION * _largest_step(state, *steps[1:]))
    alpha[converged] = 0.0
    alpha = alpha[:, None]
    parts = (state.x, state.slack_up, state.slack_low, state.dual_up, state.dual_low)
    return _Iterate(*(value + alpha * step for value, step in zip(parts, steps, strict=True))), converged


def _line_fit(series: np.ndarray) -> np.ndarray:
    """``(P, T)`` -> ``(P, T)`` least-squares straight lines (d = 0 everywhere: strictly feasible)."""
    time = np.arange(series.shape[1], dtype=np.float64)
    time -= time.mean()
    slope = series @ time / (time @ time)
    return series.mean(axis=1, keepdims=True) + slope[:, None] * time


def _feasible_start(problem: _Problem, target: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """A strictly feasible point near the solution: the unconstrained minimiser shrunk towards the
    least-squares line (d = 0) until every |d| is at most START_FRACTION of its bound."""
    line = _line_fit(target)
    free = np.linalg.solve(problem.hessian, target.T).T
    ratio = np.abs((free - line) @ problem.dev.T) / bounds
    shrink = np.minimum(1.0, START_FRACTION / np.maximum(ratio.max(axis=1), np.finfo(float).tiny))
    return line + shrink[:, None] * (free - line)


def solve_deviation_qp(target: np.ndarray, hessian_bands: list[np.ndarray], bounds: np.ndarray) -> np.ndarray:
    """``target`` ``(P, T)``, H's bands ``[diag, sup1, sup2]`` each ``(T,)`` (shared), ``bounds`` ``(P, T - 2)``
    -> ``(P, T)`` solutions meeting ``|D x| <= bounds``."""
    length = target.shape[1]
    bands = [np.asarray(b, dtype=np.float64) for b in hessian_bands] + [np.zeros(length)] * (3 - len(hessian_bands))
    hessian = np.diag(bands[0]) + np.diag(bands[1][:-1], 1) + np.diag(bands[1][:-1], -1)
    hessian += np.diag(bands[2][:-2], 2) + np.diag(bands[2][:-2], -2)
    problem = _Problem(hessian, bands, deviation_matrix(length))
    x = _feasible_start(problem, target, bounds)
    dev_x = x @ problem.dev.T
    slack_up, slack_low = bounds - dev_x, bounds + dev_x
    state = _Iterate(x, slack_up, slack_low, np.full_like(bounds, START_DUAL), np.full_like(bounds, START_DUAL))
    result, active = x.copy(), np.arange(len(x))
    for _ in range(MAX_NEWTON_STEPS):
        try:
            new_state, converged = _mehrotra_step(problem, state, target[active], bounds[active])
        except NotPositiveDefiniteError as err:  # round-off at extreme barrier weights in one problem: its current
            stuck = np.zeros(active.size, dtype=bool)  # iterate is feasible and nearly optimal; keep it
            stuck[err.row // length] = True
            log.warning("deviation QP: Newton matrix of one problem lost definiteness; it stops early")
            result[active[stuck]] = state.x[stuck]
            active, state = active[~stuck], state.take(~stuck)
            if active.size == 0:
                return result
            continue
        if converged.any():
            result[active[converged]] = state.x[converged]
            active, new_state = active[~converged], new_state.take(~converged)
        state = new_state
        if active.size == 0:
            return result
    log.warning("deviation QP: %d of %d problems did not reach full accuracy", active.size, len(x))
    result[active] = state.x
    return result
