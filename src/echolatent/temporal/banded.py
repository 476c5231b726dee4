"""Banded linear algebra for many short time series at once.

A difference operator ``S`` applied along time is given by its row stencil ``c`` (``(S x)_r = sum_k c_k
x_{r+k}``). Matrices ``I + S^T diag(w) S`` are symmetric and banded (half-bandwidth ``len(c) - 1``); a batch of
P independent systems of length T is solved as ONE block-diagonal banded system of size P*T (the blocks do not
couple, so each problem's result does not depend on the others), with SciPy's banded Cholesky. When all P
problems share one matrix ``I + w L`` (:func:`penalty_matrix`, cached per length and weight), it is factorised
once and the P right-hand sides are solved in one LAPACK call.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy.linalg import LinAlgError, lapack

#: castor's d(t) = x_t - (x_{t-1} + x_{t+1}) / 2 on interior frames.
DEVIATION_STENCIL = np.array([-0.5, 1.0, -0.5])
#: First difference x_{t+1} - x_t.
FIRST_DIFFERENCE_STENCIL = np.array([-1.0, 1.0])

Penalty = Literal["membrane", "curvature"]


def penalty_stencil(kind: Penalty) -> tuple[np.ndarray, float]:
    """Stencil and scale of a smoothness energy ``(w/2) x^T L x`` with ``L = scale * S^T S``.

    ``membrane``: castor's energy, ``L = G^T G / 2`` with G the first difference (its snake converges to
    ``(I + w L)^{-1} z``). ``curvature``: ``L = D^T D`` with D castor's deviation d(t), which leaves straight
    lines untouched.
    """
    if kind == "membrane":
        return FIRST_DIFFERENCE_STENCIL, 0.5
    if kind == "curvature":
        return DEVIATION_STENCIL, 1.0
    raise ValueError(f"unknown smoothness penalty {kind!r} (expected 'membrane' or 'curvature')")


def apply_stencil(x: np.ndarray, stencil: np.ndarray) -> np.ndarray:
    """``(P, T)`` -> ``(P, T - len(stencil) + 1)``: ``S x`` along the last axis."""
    n_out = x.shape[-1] - len(stencil) + 1
    out = stencil[0] * x[..., :n_out]
    for k in range(1, len(stencil)):
        out += stencil[k] * x[..., k : k + n_out]
    return out


def apply_stencil_transpose(v: np.ndarray, stencil: np.ndarray) -> np.ndarray:
    """``(P, m)`` -> ``(P, m + len(stencil) - 1)``: ``S^T v`` along the last axis."""
    m = v.shape[-1]
    out = np.zeros((*v.shape[:-1], m + len(stencil) - 1))
    for k, c in enumerate(stencil):
        out[..., k : k + m] += c * v
    return out


def gram_bands(stencil: np.ndarray, weights: np.ndarray, length: int) -> list[np.ndarray]:
    """Bands of ``S^T diag(w) S`` for P problems: ``[diag, super_1, ...]``, each ``(P, T)``.

    ``weights``: ``(P, m)`` row weights with ``m = T - len(stencil) + 1``. ``super_j[:, i]`` holds entry
    ``(i, i + j)``; its last j entries are zero.
    """
    width = len(stencil) - 1
    n_problems = weights.shape[0]
    padded = np.zeros((n_problems, length + width))
    padded[:, width : width + weights.shape[1]] = weights
    bands = []
    for offset in range(width + 1):
        band = np.zeros((n_problems, length))
        for k in range(width + 1 - offset):
            band += padded[:, width - k : width - k + length] * (stencil[k] * stencil[k + offset])
        if offset:
            band[:, length - offset :] = 0.0
        bands.append(band)
    return bands


def to_upper_banded(bands: list[np.ndarray]) -> np.ndarray:
    """``[diag, super_1, ..., super_u]`` of P blocks ``(P, T)`` -> SciPy upper banded form ``(u + 1, P*T)``."""
    upper = len(bands) - 1
    size = bands[0].size
    ab = np.zeros((upper + 1, size))
    ab[upper] = bands[0].ravel()
    for offset in range(1, upper + 1):
        ab[upper - offset, offset:] = bands[offset].ravel()[: size - offset]
    return ab


class NotPositiveDefiniteError(LinAlgError):
    """A banded factorisation failed; ``row`` (0-based) is where, so the failing block is ``row // T``."""

    def __init__(self, row: int) -> None:
        super().__init__(f"banded matrix not positive definite at row {row}")
        self.row = row


def factor_spd_banded(bands: list[np.ndarray]) -> np.ndarray:
    """Banded Cholesky factor (LAPACK ``dpbtrf``, upper form) of the block-diagonal SPD matrix in ``bands``.

    Raises:
        NotPositiveDefiniteError: the matrix is not numerically positive definite.
    """
    factor, info = lapack.dpbtrf(to_upper_banded(bands), lower=0, overwrite_ab=1)
    if info > 0:
        raise NotPositiveDefiniteError(info - 1)
    if info < 0:
        raise ValueError(f"dpbtrf: illegal argument {-info}")
    return factor


def solve_factored(factor: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve with a :func:`factor_spd_banded` factor for ``(P, T)`` right-hand sides -> ``(P, T)``."""
    solution, info = lapack.dpbtrs(factor, rhs.reshape(-1, 1), lower=0)
    if info != 0:
        raise ValueError(f"dpbtrs: illegal argument {-info}")
    return solution.reshape(rhs.shape)


def solve_spd_banded(bands: list[np.ndarray], rhs: np.ndarray) -> np.ndarray:
    """Solve the block-diagonal SPD system given by ``bands`` (each ``(P, T)``) for a ``(P, T)`` rhs."""
    return solve_factored(factor_spd_banded(bands), rhs)


def smoothing_bands(n_problems: int, length: int, weight: float | np.ndarray, kind: Penalty) -> list[np.ndarray]:
    """Bands of ``I + w L`` (``L`` from :func:`penalty_stencil`) for P problems; ``weight`` scalar or ``(P,)``."""
    stencil, scale = penalty_stencil(kind)
    row_weight = np.broadcast_to(np.asarray(weight, dtype=np.float64), (n_problems,))[:, None] * scale
    bands = gram_bands(stencil, np.broadcast_to(row_weight, (n_problems, length - len(stencil) + 1)), length)
    bands[0] = bands[0] + 1.0
    return bands


@dataclass(frozen=True)
class PenaltyMatrix:
    """``H = I + w L`` for sequences of T frames, with what the solvers reuse (read-only arrays).

    ``upper``: ``(3, T)`` one block in LAPACK upper banded form with two superdiagonals (``upper[2]`` the
    diagonal, ``upper[2 - j, i]`` entry ``(i - j, i)``; entries above row 0 are 0, so blocks stack without
    coupling); ``factor``: its banded Cholesky factor.
    """

    length: int
    weight: float
    kind: Penalty
    upper: np.ndarray
    factor: np.ndarray

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``(P, T)`` right-hand sides -> ``(P, T)`` ``H^{-1}`` applied to each row (one LAPACK call, each row
        solved on its own: results do not depend on the other rows)."""
        solution, info = lapack.dpbtrs(self.factor, rhs.T, lower=0)
        if info != 0:
            raise ValueError(f"dpbtrs: illegal argument {-info}")
        return solution.T

    def dense(self) -> np.ndarray:
        """``(T, T)`` H as a dense matrix."""
        matrix = np.diag(self.upper[2])
        for offset in (1, 2):
            band = self.upper[2 - offset, offset:]
            matrix += np.diag(band, offset) + np.diag(band, -offset)
        return matrix


@lru_cache(maxsize=64)
def penalty_matrix(length: int, weight: float, kind: Penalty) -> PenaltyMatrix:
    """The :class:`PenaltyMatrix` of ``I + w L`` (``L`` from :func:`penalty_stencil`), cached per arguments."""
    bands = smoothing_bands(1, length, float(weight), kind)
    bands += [np.zeros((1, length))] * (3 - len(bands))
    upper = to_upper_banded(bands)
    factor = factor_spd_banded(bands)
    upper.flags.writeable = factor.flags.writeable = False
    return PenaltyMatrix(length, float(weight), kind, upper, factor)


def smooth_penalised(x: np.ndarray, weight: float | np.ndarray, kind: Penalty = "membrane") -> np.ndarray:
    """``(P, T)`` series -> ``(P, T)``: ``(I + w L)^{-1} x``, the minimiser of ``|y - x|^2/2 + (w/2) y^T L y``."""
    x = np.asarray(x, dtype=np.float64)
    if np.ndim(weight) == 0:
        return penalty_matrix(x.shape[1], float(weight), kind).solve(x)
    return solve_spd_banded(smoothing_bands(x.shape[0], x.shape[1], weight, kind), x)
