"""Many small QPs with limits on castor's deviation d(x), solved exactly and all at once.

Each problem p (a row of ``(P, T)`` arrays) is

    min_x  1/2 x^T H x - z_p^T x    subject to  -b_p <= D x <= b_p,

with H = I + w L the same symmetric banded matrix for all problems, D the ``(T - 2, T)`` deviation operator
(``(D x)_t = x_{t+1} - (x_t + x_{t+2}) / 2``) and b_p ``(T - 2,)`` positive bounds.

1. Active-set steps (a primal-dual active-set / semismooth Newton method) from the unconstrained minimiser: each
   guess of the frames whose limit is reached is solved exactly as an equality-constrained QP (one banded LU of
   the interleaved KKT system for all problems) and accepted when it meets the KKT conditions, which makes it
   the optimum. With a smoothness penalty this usually ends in 1-6 steps; it can cycle, so a problem stops after
   a few guesses that do not improve on its best (as in Judice and Pires' block principal pivoting) or after
   ACTIVE_SET_STEPS. Without a penalty (H = I) it cycles on most noisy problems and is skipped.
2. The problems left: Mehrotra's primal-dual predictor-corrector method, started from a strictly feasible point
   (the unconstrained minimiser shrunk towards the least-squares line of z, whose d is 0), so every iterate
   meets the limits. Both limits are one constraint ``C x + s = [b, b]`` with ``C = [D; -D]`` and slacks
   ``s >= 0``; each Newton step reduces to the pentadiagonal system ``H + D^T W D``, stacked block-diagonally
   for all problems and factorised by LAPACK (``dpbtrf``) in one call. Once a problem's estimated active set
   (multiplier above slack) is stable and its gap small, it is tried as an exact active-set solve as in 1.; a
   problem that reaches the interior point's fixed accuracy is finished the same way (with a few active-set
   steps from its estimate), or keeps its last iterate if that fails.

Problems are solved, and frozen, independently: a problem's result does not depend on the batch. The problems are
tiny (T = 20..200), so the cost is NumPy's per-call overhead: each interior-point iterate is one ``(P, T + 4m)``
array ``[x, s, lambda]`` (m = T - 2); the operators, Newton steps and active-set solves are in
:mod:`.qp_system`, built once per size.
"""

from __future__ import annotations

import logging

import numpy as np

from echolatent.temporal.banded import NotPositiveDefiniteError, PenaltyMatrix
from echolatent.temporal.qp_system import BOUND_SLACK, QPSystem, deviation_matrix, qp_system

__all__ = ["BOUND_SLACK", "deviation_matrix", "solve_deviation_qp"]

log = logging.getLogger(__name__)

#: A safeguard only: the method converges in 8-15 iterations on these problems.
MAX_NEWTON_STEPS = 200
#: The start point's |d| as a fraction of the bounds, and the multipliers' starting value.
START_FRACTION = 0.9
START_DUAL = 0.1
#: At most this many active-set steps per problem before the interior-point method; the scale c of their update
#: rule (c = 1..1000 behave alike on the benchmark trajectories); and how many guesses in a row a problem may try
#: that do not change fewer frames than its best so far (progress as Judice and Pires' block pivoting counts it).
ACTIVE_SET_STEPS = 8
ACTIVE_SET_SCALE = 100.0
ACTIVE_SET_PATIENCE = 2
#: The interior-point method tries an exact active-set solve once the mean complementarity is below this, and
#: at most this many active-set steps from its final iterate when that fails.
POLISH_GAP = 1e-8
CROSSOVER_STEPS = 3


def _rows(keep: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The rows ``keep`` (bool or indices) of each array: the problems still being solved."""
    return tuple(array[keep] for array in arrays)


def _line_fit(series: np.ndarray) -> np.ndarray:
    """``(P, T)`` -> ``(P, T)`` least-squares straight lines (d = 0 everywhere: strictly feasible)."""
    time = np.arange(series.shape[1], dtype=np.float64)
    time -= time.mean()
    slope = series @ (time / (time @ time))
    return series.mean(axis=1, keepdims=True) + slope[:, None] * time


def _feasible_start(system: QPSystem, target: np.ndarray, bounds: np.ndarray, free: np.ndarray) -> np.ndarray:
    """A strictly feasible point near the solution: the unconstrained minimiser ``free = H^{-1} z`` shrunk towards
    the least-squares line (d = 0) until every |d| is at most START_FRACTION of its bound."""
    line = _line_fit(target)
    offset = free - line
    ratio = np.abs(system.constraints(offset)[:, : system.n_limits]) / bounds
    shrink = np.minimum(1.0, START_FRACTION / np.maximum(ratio.max(axis=1), np.finfo(float).tiny))
    offset *= shrink[:, None]
    return line + offset


def _active_set_steps(
    system: QPSystem,
    target: np.ndarray,
    bounds: np.ndarray,
    dev: np.ndarray,
    multipliers: np.ndarray,
    signs: np.ndarray,
    steps: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Primal-dual active-set (semismooth Newton) steps from a point ``D x`` with multipliers and active-set guess
    ``signs`` (all ``(P, m)``).

    Each new guess, ``d_t + mu_t / c > b_t`` (upper limit) or ``d_t + mu_t / c < -b_t`` (lower limit), is
    solved exactly (:class:`ActiveSetKKT`) and kept if it is optimal. This usually ends in a few steps but can
    cycle, so a problem stops after ``steps`` or when its guesses stop converging (each problem on its own, so
    that the result does not depend on the batch).
    -> ``(P, T)`` solutions (rows not solved are undefined) and ``(P,)`` which ones are solved.
    """
    result, solved = np.empty_like(target), np.zeros(len(target), dtype=bool)
    index = np.arange(len(target))
    best, patience = np.full(len(target), dev.shape[1] + 1), np.full(len(target), ACTIVE_SET_PATIENCE)
    for _ in range(steps):
        probe = dev + multipliers * (1.0 / ACTIVE_SET_SCALE)
        new_signs = np.sign(probe) * (np.abs(probe) > bounds)
        # progress: the number of frames whose guess changes (those where the last candidate broke a condition); a
        # problem leaves (to the interior point) rather than try more than ACTIVE_SET_PATIENCE in a row without a
        # new fewest, or a repeated guess
        changes = np.count_nonzero(new_signs != signs, axis=1)
        fewer = changes < best
        best = np.where(fewer, changes, best)
        patience = np.where(fewer, ACTIVE_SET_PATIENCE, patience - 1)
        moving = (changes > 0) & (patience >= 0)
        if not moving.all():
            index, target, bounds, new_signs, best, patience = _rows(
                moving, index, target, bounds, new_signs, best, patience
            )
            if index.size == 0:
                break
        x, multipliers, dev, optimal = system.solve_active(new_signs, target, bounds)
        signs = new_signs
        if optimal.any():
            result[index[optimal]] = x[optimal]
            solved[index[optimal]] = True
            if optimal.all():
                break
            keep = ~optimal
            index, target, bounds, multipliers, dev, signs, best, patience = _rows(
                keep, index, target, bounds, multipliers, dev, signs, best, patience
            )
    return result, solved


def solve_deviation_qp(
    target: np.ndarray, hessian: PenaltyMatrix, bounds: np.ndarray, free: np.ndarray | None = None
) -> np.ndarray:
    """``target`` ``(P, T)``, H (shared), ``bounds`` ``(P, T - 2)`` -> ``(P, T)`` solutions meeting ``|D x| <= bounds``.

    ``free``: ``(P, T)`` the unconstrained minimisers ``H^{-1} target`` when already known. A few active-set steps
    solve most problems exactly; the rest go to the interior-point method.
    """
    system = qp_system(hessian.length, hessian.weight, hessian.kind)
    if free is None:
        free = hessian.solve(target)
    dev = system.deviation(free)
    # without a penalty (the minimal change, H = I) the guesses cycle on most noisy problems (on the benchmark
    # trajectories more than half never settle): the interior point is then cheaper on its own
    steps = ACTIVE_SET_STEPS if hessian.weight > 0 else 0
    result, solved = _active_set_steps(system, target, bounds, dev, np.zeros_like(dev), np.zeros_like(dev), steps)
    if not solved.all():
        rest = ~solved
        result[rest] = _interior_point(system, target[rest], bounds[rest], free[rest])
    return result


def _interior_point(system: QPSystem, target: np.ndarray, bounds: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Mehrotra's method for ``(P, T)`` problems, finished exactly where possible.

    Before each step, a problem whose estimated active set (multiplier above slack) is unchanged since its last
    step and whose gap is small is tried as an exact active-set solve, and stops if that is optimal. A problem that
    converges is tried the same way, then with a few active-set steps from there, and otherwise keeps its last
    iterate (accurate to about 1e-7).
    """
    n_problems, length = target.shape
    m = system.n_limits
    x = _feasible_start(system, target, bounds, free)
    limits = np.concatenate([bounds, bounds], axis=1)
    state = np.empty((n_problems, length + 4 * m))
    state[:, :length] = x
    state[:, length : length + 2 * m] = limits - system.constraints(x)
    state[:, length + 2 * m :] = START_DUAL
    result, active = x.copy(), np.arange(n_problems)
    previous = np.zeros((n_problems, m))
    for _ in range(MAX_NEWTON_STEPS):
        slack, dual = state[:, length : length + 2 * m], state[:, length + 2 * m :]
        pressed = dual > slack
        signs = pressed[:, :m].astype(np.float64) - pressed[:, m:]
        trial = np.flatnonzero((signs == previous).all(axis=1) & ((slack * dual).mean(axis=1) <= POLISH_GAP))
        if trial.size:
            polished, _, _, optimal = system.solve_active(signs[trial], target[trial], limits[trial, :m])
            if optimal.any():
                result[active[trial[optimal]]] = polished[optimal]
                keep = np.ones(active.size, dtype=bool)
                keep[trial[optimal]] = False
                active, state, target, limits, signs = _rows(keep, active, state, target, limits, signs)
                if active.size == 0:
                    return result
        try:
            new_state, converged = system.mehrotra_step(state, target, limits)
        except NotPositiveDefiniteError as err:  # round-off at extreme barrier weights in one problem: its current
            new_state = state  # iterate is feasible and nearly optimal: it stops there
            converged = np.zeros(active.size, dtype=bool)
            converged[err.row // length] = True
            log.warning("deviation QP: Newton matrix of one problem lost definiteness; it stops early")
        if converged.any():
            rows = np.flatnonzero(converged)
            result[active[rows]] = _finish(system, state[rows, :length], target[rows], limits[rows, :m], signs[rows])
            keep = ~converged
            active, new_state, target, limits, signs = _rows(keep, active, new_state, target, limits, signs)
            if active.size == 0:
                return result
        state, previous = new_state, signs
    log.warning("deviation QP: %d of %d problems did not reach full accuracy", active.size, n_problems)
    result[active] = state[:, :length]
    return result


def _finish(system: QPSystem, iterate: np.ndarray, target: np.ndarray, limits: np.ndarray, signs: np.ndarray):
    """``(P, T)`` solutions of converged problems: exact from the estimated active set ``signs (P, M)``, else a few
    active-set steps from there, else the interior-point ``iterate``."""
    result = iterate.copy()
    polished, multipliers, dev, optimal = system.solve_active(signs, target, limits)
    result[optimal] = polished[optimal]
    if not optimal.all():
        rest = ~optimal
        refined, solved = _active_set_steps(
            system, target[rest], limits[rest], dev[rest], multipliers[rest], signs[rest], CROSSOVER_STEPS
        )
        result[np.flatnonzero(rest)[solved]] = refined[solved]
    return result
