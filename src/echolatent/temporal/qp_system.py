"""The linear algebra of the deviation QPs of :mod:`.qp`, for one problem size and penalty: the operators
``D x``, ``C x = [D x, -D x]``, ``C^T v`` and ``H x`` for ``(P, .)`` rows of problems, the banded Newton matrix
``H + D^T W D`` of the interior-point method and its steps, and the exact solve of a guessed active set with its
optimality check (:class:`ActiveSetKKT`). D and H are dense matrices (one BLAS call each) for short sequences and
stencils for long ones; everything that depends only on T and H is built once (:func:`qp_system`, cached).
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
#: Fraction of the distance to the boundary taken by a step.
STEP_FRACTION = 0.99
#: Up to this length D and H are applied as dense matrices (one BLAS call), beyond it as stencils (a few slices).
DENSE_MAX_LENGTH = 64
#: Half-bandwidths of the interleaved KKT matrix of :class:`ActiveSetKKT`.
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


class ActiveSetKKT:
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


class QPSystem:
    """The operators of one problem size: ``C x``, ``C^T v``, ``H x`` and the Newton matrix, for ``(P, .)`` rows."""

    def __init__(self, hessian: PenaltyMatrix) -> None:
        self.length, self.n_limits = hessian.length, hessian.length - 2
        self.hessian = hessian
        self.dev_dense = _deviation_operator(self.length)
        self.hessian_dense = hessian.dense() if self.dev_dense is not None else None

    @cached_property
    def kkt(self) -> ActiveSetKKT:
        return ActiveSetKKT(self.hessian)

    def deviation(self, x: np.ndarray) -> np.ndarray:
        """``(P, T)`` -> ``(P, m)``: ``D x``."""
        if self.dev_dense is not None:
            return x @ self.dev_dense[0]
        return apply_stencil(x, DEVIATION_STENCIL)

    def solve_active(self, signs, target, bounds) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Candidates for guessed active sets (:class:`ActiveSetKKT`) -> x ``(P, T)``, signed multipliers and
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


@lru_cache(maxsize=64)
def qp_system(length: int, weight: float, kind: str) -> QPSystem:
    """The cached :class:`QPSystem` of sequences of ``length`` frames with this penalty."""
    return QPSystem(penalty_matrix(length, weight, kind))
