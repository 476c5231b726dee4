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
array ``[x, s, lambda]`` (m = T - 2), D and H are dense matrices (one BLAS call each) for short sequences and
stencils for long ones, and everything that depends only on T and H is built once (cached).
"""

from __future__ import annotations

import logging
from functools import cached_property, lru_cache

import numpy as np
from scipy.linalg import LinAlgError, lapack

from echolatent.temporal.banded import (
    DEVIATION_STENCIL,
    NotPositiveDefiniteError,
    PenaltyMatrix,
    apply_stencil,
    apply_stencil_transpose,
    penalty_matrix,
)
from echolatent.temporal.limits import MARGIN

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
#: Up to this length D and H are applied as dense matrices (one BLAS call), beyond it as stencils (a few slices).
DENSE_MAX_LENGTH = 64
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
#: Half-bandwidths of the interleaved KKT matrix of :class:`_ActiveSetKKT`.
KKT_BANDS = 4
#: A candidate active set is accepted when its multipliers have the right sign to this tolerance and |D x| is
#: within the bounds to this fraction of the safety margin (bounds are already MARGIN inside the limits).
MULTIPLIER_TOL = 1e-12
BOUND_SLACK = 0.5 * MARGIN


def deviation_matrix(length: int) -> np.ndarray:
    """``(T - 2, T)`` dense D: ``D @ x`` is castor's d(t) on the interior frames."""
    rows = np.arange(length - 2)
    matrix = np.zeros((length - 2, length))
    matrix[rows, rows], matrix[rows, rows + 1], matrix[rows, rows + 2] = -0.5, 1.0, -0.5
    return matrix


@lru_cache(maxsize=64)
def _deviation_operator(length: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(D^T, D)`` for short sequences (dense products are cheapest there), None for long ones."""
    if length > DENSE_MAX_LENGTH:
        return None
    dev = deviation_matrix(length)
    dev.flags.writeable = False
    return np.ascontiguousarray(dev.T), dev


class _ActiveSetKKT:
    """Exact solution of the QP with a guessed active set, and the check that it is the QP's optimum.

    For signs ``sigma_t`` in {-1, 0, 1} (lower limit, no limit, upper limit active on frame t) the candidate is
    the solution of ``H x + D^T mu = z``, ``D_t x = sigma_t b_t`` where ``sigma_t != 0``, ``mu_t = 0`` elsewhere:
    a symmetric indefinite system that is banded (half-bandwidth 4) when x and mu are interleaved
    (``x_0, x_1, mu_0, x_2, mu_1, x_3, ...``), solved for all problems at once by LAPACK's banded LU
    (``dgbsv``; pivots stay inside each block, so problems do not interact). It is the QP's optimum (KKT) when
    ``sigma_t mu_t >= 0`` and ``|D x| <= b``.
    """

    def __init__(self, hessian: PenaltyMatrix) -> None:
        length = hessian.length
        m = length - 2
        self.size = 2 * length - 2
        self.pos_x = np.concatenate([[0], 2 * np.arange(1, length) - 1])
        self.pos_mu = 2 * np.arange(m) + 2
        diagonal = 2 * KKT_BANDS  # LAPACK's row for A[i, i] (kl rows of fill-in on top)
        base = np.zeros((3 * KKT_BANDS + 1, self.size))
        for offset in range(3):
            band = hessian.upper[2 - offset, offset:]  # entries (i, i + offset); |rows - cols| <= 4 by the interleaving
            rows, cols = self.pos_x[: length - offset], self.pos_x[offset:]
            base[diagonal + rows - cols, cols] = band
            base[diagonal + cols - rows, rows] = band
        frames = np.arange(m)
        x_pos = np.stack([self.pos_x[frames + k] for k in range(3)])  # (3, m): x_t, x_{t+1}, x_{t+2} of row t
        mu_pos = np.broadcast_to(self.pos_mu, (3, m))
        values = np.broadcast_to(DEVIATION_STENCIL[:, None], (3, m))
        # D in the mu rows and D^T in the mu columns, each entry switched on by its row's activity
        # stored transposed, one row of LAPACK's band per column of the matrix: entry (k, i) at flat i * rows + k
        con_rows = np.concatenate([diagonal + mu_pos - x_pos, diagonal + x_pos - mu_pos]).ravel()
        con_cols = np.concatenate([x_pos, mu_pos]).ravel()
        # the interleaving keeps every entry within KKT_BANDS of the diagonal (rows kl..2kl+ku of LAPACK's storage)
        if not (con_rows.min() >= KKT_BANDS and con_rows.max() <= 3 * KKT_BANDS):
            raise RuntimeError("KKT matrix wider than KKT_BANDS")
        self.band_rows = base.shape[0]
        self.con_flat = con_cols * self.band_rows + con_rows
        self.con_values = np.concatenate([values, values]).ravel()
        self.con_frame = np.concatenate([np.broadcast_to(frames, (3, m))] * 2).ravel()
        self.mu_diagonal_flat = self.pos_mu * self.band_rows + diagonal
        self.base = np.ascontiguousarray(base.T)  # (N, rows)

    def solve(self, signs: np.ndarray, target: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``signs`` ``(P, m)``, ``target`` ``(P, T)``, ``bounds`` ``(P, m)`` -> candidate x ``(P, T)`` and its
        signed multipliers mu ``(P, m)`` (``H x - z + D^T mu = 0``).

        Raises:
            LinAlgError: a singular KKT matrix (not expected: D has full row rank).
        """
        n_problems = len(signs)
        active = signs != 0
        band = np.empty((n_problems, self.size, self.band_rows))  # block p, column i: band[p, i] (C order)
        band[...] = self.base
        flat = band.reshape(n_problems, -1)
        flat[:, self.con_flat] = self.con_values * active[:, self.con_frame]
        flat[:, self.mu_diagonal_flat] = active - 1.0
        rhs = np.zeros((n_problems, self.size))
        rhs[:, self.pos_x] = target
        rhs[:, self.pos_mu] = signs * bounds
        _, _, solution, info = lapack.dgbsv(
            KKT_BANDS, KKT_BANDS, band.reshape(-1, self.band_rows).T, rhs.reshape(-1, 1), overwrite_ab=1, overwrite_b=1
        )
        if info > 0:
            raise LinAlgError(f"singular KKT matrix at row {info - 1}")
        if info < 0:
            raise ValueError(f"dgbsv: illegal argument {-info}")
        solution = solution.reshape(n_problems, self.size)
        return solution[:, self.pos_x], solution[:, self.pos_mu]


class _System:
    """The operators of one problem size: ``C x``, ``C^T v``, ``H x`` and the Newton matrix, for ``(P, .)`` rows."""

    def __init__(self, hessian: PenaltyMatrix) -> None:
        self.length, self.n_limits = hessian.length, hessian.length - 2
        self.hessian = hessian
        self.dev_dense = _deviation_operator(self.length)
        self.hessian_dense = hessian.dense() if self.dev_dense is not None else None

    @cached_property
    def kkt(self) -> _ActiveSetKKT:
        return _ActiveSetKKT(self.hessian)

    def deviation(self, x: np.ndarray) -> np.ndarray:
        """``(P, T)`` -> ``(P, m)``: ``D x``."""
        if self.dev_dense is not None:
            return x @ self.dev_dense[0]
        return apply_stencil(x, DEVIATION_STENCIL)

    def solve_active(self, signs, target, bounds) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Candidates for guessed active sets (:class:`_ActiveSetKKT`) -> x ``(P, T)``, signed multipliers and
        ``D x`` ``(P, m)``, and which candidates are optimal ``(P,)``."""
        try:
            x, multipliers = self.kkt.solve(signs, target, bounds)
        except LinAlgError:  # not expected (D has full row rank), but then the interior point takes over
            log.debug("active-set KKT system singular; left to the interior-point method")
            return target, np.zeros_like(bounds), np.zeros_like(bounds), np.zeros(len(target), dtype=bool)
        dev = self.deviation(x)
        optimal = ((signs * multipliers).min(axis=1, initial=0.0) >= -MULTIPLIER_TOL) & (
            (np.abs(dev) - bounds * (1.0 + BOUND_SLACK)).max(axis=1, initial=-1.0) <= 0.0
        )
        return x, multipliers, dev, optimal

    def constraints(self, x: np.ndarray) -> np.ndarray:
        """``(P, T)`` -> ``(P, 2m)``: ``C x = [D x, -D x]``."""
        m = self.n_limits
        out = np.empty((x.shape[0], 2 * m))
        if self.dev_dense is not None:
            np.matmul(x, self.dev_dense[0], out=out[:, :m])
        else:
            out[:, :m] = apply_stencil(x, DEVIATION_STENCIL)
        np.negative(out[:, :m], out=out[:, m:])
        return out

    def constraints_transpose(self, v: np.ndarray) -> np.ndarray:
        """``(P, 2m)`` -> ``(P, T)``: ``C^T v = D^T (v_up - v_low)``."""
        m = self.n_limits
        difference = v[:, :m] - v[:, m:]
        if self.dev_dense is not None:
            return difference @ self.dev_dense[1]
        return apply_stencil_transpose(difference, DEVIATION_STENCIL)

    def hessian_times(self, x: np.ndarray) -> np.ndarray:
        """``(P, T)`` -> ``(P, T)``: ``H x`` (H symmetric)."""
        if self.dev_dense is not None:
            return x @ self.hessian_dense
        upper = self.hessian.upper
        out = upper[2] * x
        for offset in (1, 2):
            band = upper[2 - offset, offset:]  # entries (i, i + offset), i < T - offset
            out[:, :-offset] += band * x[:, offset:]
            out[:, offset:] += band * x[:, :-offset]
        return out

    def newton_factor(self, weights: np.ndarray) -> np.ndarray:
        """Banded Cholesky factor of the stacked ``H + D^T diag(w) D`` for weights ``(P, m)``.

        Raises:
            NotPositiveDefiniteError: a block lost definiteness (its row is ``error.row // T``).
        """
        n_problems, m = weights.shape
        length = self.length
        stacked = np.empty((3, n_problems * length), order="F")
        blocks = stacked.reshape((3, length, n_problems), order="F")  # a view: blocks[k, t, p] = stacked[k, p*T + t]
        blocks[...] = self.hessian.upper[:, :, None]
        weights = weights.T
        quarter, half = 0.25 * weights, 0.5 * weights
        blocks[2, :m] += quarter  # diagonal: w_{t} / 4 + w_{t-1} + w_{t-2} / 4
        blocks[2, 1 : m + 1] += weights
        blocks[2, 2:] += quarter
        blocks[1, 1 : m + 1] -= half  # entry (t - 1, t): -(w_{t-1} + w_{t-2}) / 2
        blocks[1, 2:] -= half
        blocks[0, 2:] += quarter  # entry (t - 2, t): w_{t-2} / 4
        factor, info = lapack.dpbtrf(stacked, lower=0, overwrite_ab=1)
        if info > 0:
            raise NotPositiveDefiniteError(info - 1)
        if info < 0:
            raise ValueError(f"dpbtrf: illegal argument {-info}")
        return factor

    def direction(self, factor, state, ratio, r_primal, r_dual, complementarity) -> np.ndarray:
        """Newton direction ``(P, T + 4m)`` = ``[dx, ds, dlambda]`` for the residuals, via the Newton factor."""
        length, width = self.length, 2 * self.n_limits
        slack, dual = state[:, length : length + width], state[:, length + width :]
        v = complementarity / slack - ratio * r_primal
        rhs = self.constraints_transpose(v)
        rhs -= r_dual
        dx, info = lapack.dpbtrs(factor, rhs.reshape(-1, 1), lower=0)
        if info != 0:
            raise ValueError(f"dpbtrs: illegal argument {-info}")
        step = np.empty_like(state)
        step[:, :length] = dx.reshape(rhs.shape)
        d_slack = step[:, length : length + width]
        np.negative(r_primal, out=d_slack)
        d_slack -= self.constraints(step[:, :length])
        d_dual = step[:, length + width :]
        np.multiply(dual, d_slack, out=d_dual)
        d_dual += complementarity
        d_dual /= slack
        np.negative(d_dual, out=d_dual)
        return step

    def largest_step(self, state: np.ndarray, step: np.ndarray, fraction: float) -> np.ndarray:
        """``(P,)`` ``min(1, fraction * alpha_max)``, alpha_max the largest step keeping slacks and multipliers >= 0."""
        shrink = (step[:, self.length :] / state[:, self.length :]).min(axis=1)  # most negative relative change
        return fraction / np.maximum(-shrink, fraction)

    def mehrotra_step(self, state: np.ndarray, target: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One predictor-corrector step for every problem ``(P, T + 4m)`` -> (new state, converged flags ``(P,)``).

        ``bounds``: ``(P, 2m)`` ``[b, b]``.
        """
        length, width = self.length, 2 * self.n_limits
        x, slack, dual = state[:, :length], state[:, length : length + width], state[:, length + width :]
        r_primal = self.constraints(x)
        r_primal += slack
        r_primal -= bounds
        r_dual = self.hessian_times(x)
        r_dual -= target
        r_dual += self.constraints_transpose(dual)
        complementarity = slack * dual
        gap = complementarity.mean(axis=1)
        converged = (np.abs(r_dual).max(axis=1) <= RESIDUAL_TOL) & (gap <= GAP_TOL)
        if converged.all():
            return state, converged
        ratio = dual / slack
        factor = self.newton_factor(ratio[:, : self.n_limits] + ratio[:, self.n_limits :])

        affine = self.direction(factor, state, ratio, r_primal, r_dual, complementarity)
        alpha = self.largest_step(state, affine, 1.0)[:, None]
        d_slack, d_dual = affine[:, length : length + width], affine[:, length + width :]
        gap_affine = ((slack + alpha * d_slack) * (dual + alpha * d_dual)).mean(axis=1)
        target_gap = (gap_affine / np.maximum(gap, np.finfo(float).tiny)) ** 3 * gap
        corrector = d_slack * d_dual
        corrector += complementarity
        corrector -= target_gap[:, None]
        step = self.direction(factor, state, ratio, r_primal, r_dual, corrector)
        alpha = self.largest_step(state, step, STEP_FRACTION)
        alpha[converged] = 0.0
        step *= alpha[:, None]
        step += state
        return step, converged


def _line_fit(series: np.ndarray) -> np.ndarray:
    """``(P, T)`` -> ``(P, T)`` least-squares straight lines (d = 0 everywhere: strictly feasible)."""
    time = np.arange(series.shape[1], dtype=np.float64)
    time -= time.mean()
    slope = series @ (time / (time @ time))
    return series.mean(axis=1, keepdims=True) + slope[:, None] * time


def _feasible_start(system: _System, target: np.ndarray, bounds: np.ndarray, free: np.ndarray) -> np.ndarray:
    """A strictly feasible point near the solution: the unconstrained minimiser ``free = H^{-1} z`` shrunk towards
    the least-squares line (d = 0) until every |d| is at most START_FRACTION of its bound."""
    line = _line_fit(target)
    offset = free - line
    ratio = np.abs(system.constraints(offset)[:, : system.n_limits]) / bounds
    shrink = np.minimum(1.0, START_FRACTION / np.maximum(ratio.max(axis=1), np.finfo(float).tiny))
    offset *= shrink[:, None]
    return line + offset


@lru_cache(maxsize=64)
def _system(length: int, weight: float, kind: str) -> _System:
    return _System(penalty_matrix(length, weight, kind))


def _active_set_steps(
    system: _System,
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
    solved exactly (:class:`_ActiveSetKKT`) and kept if it is optimal. This usually ends in a few steps but can
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
            index, target, bounds, new_signs, best, patience = (
                index[moving],
                target[moving],
                bounds[moving],
                new_signs[moving],
                best[moving],
                patience[moving],
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
            index, target, bounds, multipliers, dev, signs, best, patience = (
                index[keep],
                target[keep],
                bounds[keep],
                multipliers[keep],
                dev[keep],
                signs[keep],
                best[keep],
                patience[keep],
            )
    return result, solved


def solve_deviation_qp(
    target: np.ndarray, hessian: PenaltyMatrix, bounds: np.ndarray, free: np.ndarray | None = None
) -> np.ndarray:
    """``target`` ``(P, T)``, H (shared), ``bounds`` ``(P, T - 2)`` -> ``(P, T)`` solutions meeting ``|D x| <= bounds``.

    ``free``: ``(P, T)`` the unconstrained minimisers ``H^{-1} target`` when already known. A few active-set steps
    solve most problems exactly; the rest go to the interior-point method.
    """
    system = _system(hessian.length, hessian.weight, hessian.kind)
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


def _interior_point(system: _System, target: np.ndarray, bounds: np.ndarray, free: np.ndarray) -> np.ndarray:
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
                active, state, target, limits, signs = (
                    active[keep],
                    state[keep],
                    target[keep],
                    limits[keep],
                    signs[keep],
                )
                if active.size == 0:
                    return result
        try:
            new_state, converged = system.mehrotra_step(state, target, limits)
        except NotPositiveDefiniteError as err:  # round-off at extreme barrier weights in one problem: its current
            new_state = state  # iterate is feasible and nearly optimal: it stops there
            converged = np.zeros(active.size, dtype=bool)
            converged[err.row // length] = True
            log.warning("deviation QP: Newton matrix of one problem lost definiteness; it stops early")
        if converged.any():  # exact from the estimated active set, or a few active-set steps from there
            rows = np.flatnonzero(converged)
            result[active[rows]] = state[rows, :length]
            polished, multipliers, dev, optimal = system.solve_active(signs[rows], target[rows], limits[rows, :m])
            result[active[rows[optimal]]] = polished[optimal]
            if not optimal.all():
                rest = ~optimal
                refined, solved = _active_set_steps(
                    system,
                    target[rows[rest]],
                    limits[rows[rest], :m],
                    dev[rest],
                    multipliers[rest],
                    signs[rows[rest]],
                    CROSSOVER_STEPS,
                )
                result[active[rows[rest][solved]]] = refined[solved]
            keep = ~converged
            active, new_state, target, limits, signs = (
                active[keep],
                new_state[keep],
                target[keep],
                limits[keep],
                signs[keep],
            )
            if active.size == 0:
                return result
        state, previous = new_state, signs
    log.warning("deviation QP: %d of %d problems did not reach full accuracy", active.size, n_problems)
    result[active] = state[:, :length]
    return result
