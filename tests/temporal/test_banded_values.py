"""Banded linear algebra against dense NumPy matrices built here (the independent route) and a 3 x 3 case by hand:
stencils and their transposes, the Gram bands, SciPy's upper banded layout, the banded Cholesky factor, the block
solves, the smoothing matrix I + w L for both penalties and the cached penalty matrix."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.temporal import banded
from echolatent.temporal.banded import NotPositiveDefiniteError

STENCILS = [np.array([-1.0, 1.0]), np.array([-0.5, 1.0, -0.5]), np.array([1.0, 2.0, -3.0]), np.array([2.0])]


def _dense_operator(stencil: np.ndarray, length: int) -> np.ndarray:
    """``(m, T)`` S with ``(S x)_r = sum_k c_k x_{r+k}``, written entry by entry."""
    m = length - len(stencil) + 1
    matrix = np.zeros((m, length))
    for row in range(m):
        for k, c in enumerate(stencil):
            matrix[row, row + k] = c
    return matrix


def _dense_penalty(kind: str, length: int) -> np.ndarray:
    """L by its definition: membrane G^T G / 2 (G the first difference), curvature D^T D (D castor's d(t))."""
    if kind == "membrane":
        g = np.diff(np.eye(length), axis=0)  # rows e_{t+1} - e_t
        return g.T @ g / 2
    d = np.zeros((length - 2, length))
    for t in range(length - 2):
        d[t, t : t + 3] = -0.5, 1.0, -0.5
    return d.T @ d


def _from_bands(bands: list[np.ndarray], p: int) -> np.ndarray:
    """Block p of a symmetric banded matrix given as ``[diag, super_1, ...]`` -> dense ``(T, T)``."""
    matrix = np.diag(bands[0][p])
    for offset, band in enumerate(bands[1:], start=1):
        matrix += np.diag(band[p, :-offset], offset) + np.diag(band[p, :-offset], -offset)
    return matrix


def test_penalty_stencils():
    stencil, scale = banded.penalty_stencil("membrane")
    np.testing.assert_array_equal(stencil, [-1.0, 1.0])
    assert scale == 0.5
    stencil, scale = banded.penalty_stencil("curvature")
    np.testing.assert_array_equal(stencil, [-0.5, 1.0, -0.5])
    assert scale == 1.0
    with pytest.raises(ValueError, match="unknown smoothness penalty 'bending'"):
        banded.penalty_stencil("bending")


@pytest.mark.parametrize("stencil", STENCILS, ids=["first", "deviation", "asymmetric", "single"])
def test_stencil_and_its_transpose_are_the_dense_products(stencil):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 7))
    matrix = _dense_operator(stencil, 7)
    np.testing.assert_allclose(banded.apply_stencil(x, stencil), x @ matrix.T, atol=1e-12)
    v = rng.normal(size=(3, matrix.shape[0]))
    transposed = banded.apply_stencil_transpose(v, stencil)
    assert transposed.shape == (3, 7)
    np.testing.assert_allclose(transposed, v @ matrix, atol=1e-12)


def test_stencil_by_hand():
    x = np.array([[1.0, 4.0, 9.0, 16.0]])
    np.testing.assert_array_equal(banded.apply_stencil(x, np.array([-1.0, 1.0])), [[3.0, 5.0, 7.0]])
    np.testing.assert_array_equal(banded.apply_stencil(x, banded.DEVIATION_STENCIL), [[-1.0, -1.0]])
    np.testing.assert_array_equal(banded.apply_stencil_transpose(np.array([[1.0, 2.0]]), np.array([-1.0, 1.0])),
                                  [[-1.0, -1.0, 2.0]])


@pytest.mark.parametrize("shape", [(7,), (2, 3, 7)])
def test_stencils_act_along_the_last_axis_whatever_the_leading_axes(shape):
    stencil = np.array([1.0, 2.0, -3.0])
    rng = np.random.default_rng(8)
    matrix = _dense_operator(stencil, 7)
    x, v = rng.normal(size=shape), rng.normal(size=(*shape[:-1], 5))
    np.testing.assert_allclose(banded.apply_stencil(x, stencil), x @ matrix.T, atol=1e-12)
    np.testing.assert_allclose(banded.apply_stencil_transpose(v, stencil), v @ matrix, atol=1e-12)


@pytest.mark.parametrize("stencil", STENCILS[:3], ids=["first", "deviation", "asymmetric"])
def test_gram_bands_are_the_dense_gram_matrix(stencil):
    rng = np.random.default_rng(2)
    length, n = 8, 3
    matrix = _dense_operator(stencil, length)
    weights = rng.uniform(0.5, 2.0, (n, matrix.shape[0]))
    bands = banded.gram_bands(stencil, weights, length)
    assert len(bands) == len(stencil)
    for p in range(n):
        gram = matrix.T @ np.diag(weights[p]) @ matrix
        for offset, band in enumerate(bands):
            assert band.shape == (n, length)
            np.testing.assert_allclose(band[p, : length - offset], np.diag(gram, offset), atol=1e-12)
            np.testing.assert_array_equal(band[p, length - offset :], 0.0)  # the documented zero tail


def test_gram_bands_by_hand():
    """First difference, T = 3, weights (1, 2): G^T diag(w) G = [[1, -1, 0], [-1, 3, -2], [0, -2, 2]]."""
    diag, upper = banded.gram_bands(np.array([-1.0, 1.0]), np.array([[1.0, 2.0]]), 3)
    np.testing.assert_array_equal(diag, [[1.0, 3.0, 2.0]])
    np.testing.assert_array_equal(upper, [[-1.0, -2.0, 0.0]])


def test_upper_banded_layout():
    """SciPy's upper form: ab[u + i - j, j] = A[i, j]; blocks follow each other without coupling."""
    bands = [np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([[7.0, 8.0, 0.0], [9.0, 10.0, 0.0]]),
             np.array([[11.0, 0.0, 0.0], [12.0, 0.0, 0.0]])]
    expected = np.array([
        [0.0, 0.0, 11.0, 0.0, 0.0, 12.0],
        [0.0, 7.0, 8.0, 0.0, 9.0, 10.0],
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    ])
    np.testing.assert_array_equal(banded.to_upper_banded(bands), expected)
    np.testing.assert_array_equal(banded.to_upper_banded(bands[:1]), [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])


def _spd_bands(n: int, length: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.5, 3.0, (n, length - 2))
    bands = banded.gram_bands(banded.DEVIATION_STENCIL, weights, length)
    bands[0] = bands[0] + rng.uniform(0.5, 1.5, (n, length))
    return bands


def test_factor_is_the_dense_cholesky_factor():
    bands = _spd_bands(2, 6, seed=3)
    factor = banded.factor_spd_banded(bands)
    assert factor.shape == (3, 12)
    for p in range(2):
        dense = _from_bands(bands, p)
        expected = np.linalg.cholesky(dense).T  # upper U with A = U^T U
        got = np.zeros((6, 6))
        for offset in range(3):  # U[i, i + offset] = factor[2 - offset, p*T + i + offset]
            got += np.diag(factor[2 - offset, p * 6 + offset : (p + 1) * 6], offset)
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_block_solves_are_the_dense_solves():
    bands = _spd_bands(3, 7, seed=5)
    rhs = np.random.default_rng(6).normal(size=(3, 7))
    solved = banded.solve_spd_banded(bands, rhs)
    assert solved.shape == (3, 7)
    for p in range(3):
        np.testing.assert_allclose(solved[p], np.linalg.solve(_from_bands(bands, p), rhs[p]), atol=1e-12)
    np.testing.assert_allclose(banded.solve_factored(banded.factor_spd_banded(bands), rhs), solved, atol=1e-14)


@pytest.mark.parametrize(("bad", "row"), [(0, 0), (4, 4), (9, 9)])
def test_not_positive_definite_names_the_row(bad, row):
    """Two blocks of T = 5; a negative diagonal entry at flat row ``bad`` (first pivot, interior, second block)."""
    diag = np.ones((2, 5))
    diag.ravel()[bad] = -1.0
    with pytest.raises(NotPositiveDefiniteError, match=f"not positive definite at row {row}$") as caught:
        banded.factor_spd_banded([diag, np.zeros((2, 5))])
    assert caught.value.row == row
    assert row // 5 == bad // 5


@pytest.mark.parametrize("kind", ["membrane", "curvature"])
def test_smoothing_bands_are_identity_plus_weighted_penalty(kind):
    weights = np.array([0.5, 3.0])
    bands = banded.smoothing_bands(2, 9, weights, kind)
    for p, w in enumerate(weights):
        np.testing.assert_allclose(_from_bands(bands, p), np.eye(9) + w * _dense_penalty(kind, 9), atol=1e-12)
    scalar = banded.smoothing_bands(2, 9, 3.0, kind)
    for p in range(2):
        np.testing.assert_allclose(_from_bands(scalar, p), np.eye(9) + 3.0 * _dense_penalty(kind, 9), atol=1e-12)


def test_membrane_by_hand():
    """T = 3, w = 2: I + w G^T G / 2 = [[2, -1, 0], [-1, 3, -1], [0, -1, 2]] (det 8); its inverse's first column is
    the cofactors (5, 2, 1) / 8."""
    matrix = banded.penalty_matrix(3, 2.0, "membrane")
    np.testing.assert_array_equal(matrix.dense(), [[2.0, -1.0, 0.0], [-1.0, 3.0, -1.0], [0.0, -1.0, 2.0]])
    np.testing.assert_allclose(matrix.solve(np.array([[1.0, 0.0, 0.0]])), [[5 / 8, 2 / 8, 1 / 8]], atol=1e-15)
    np.testing.assert_allclose(banded.smooth_penalised([[1.0, 0.0, 0.0]], 2.0), [[5 / 8, 2 / 8, 1 / 8]], atol=1e-15)
    np.testing.assert_allclose(banded.smooth_penalised([[1.0, 0.0, 0.0]], np.array([2.0])), [[5 / 8, 2 / 8, 1 / 8]],
                               atol=1e-15)


def test_curvature_by_hand():
    """T = 3, w = 1: I + D^T D with D = (-1/2, 1, -1/2): [[5/4, -1/2, 1/4], [-1/2, 2, -1/2], [1/4, -1/2, 5/4]]; a
    straight line has D x = 0 and is left as it is."""
    matrix = banded.penalty_matrix(3, 1.0, "curvature")
    expected = np.array([[1.25, -0.5, 0.25], [-0.5, 2.0, -0.5], [0.25, -0.5, 1.25]])
    np.testing.assert_array_equal(matrix.dense(), expected)
    np.testing.assert_array_equal(matrix.upper, [[0.0, 0.0, 0.25], [0.0, -0.5, -0.5], [1.25, 2.0, 1.25]])
    line = np.array([[1.0, 3.0, 5.0]])
    np.testing.assert_allclose(matrix.solve(line), line, atol=1e-14)
    np.testing.assert_allclose(banded.smooth_penalised(line, 1.0, "curvature"), line, atol=1e-14)


@pytest.mark.parametrize(("kind", "length"), [("membrane", 2), ("membrane", 3), ("membrane", 11), ("curvature", 3),
                                               ("curvature", 4), ("curvature", 11)])
def test_penalty_matrix_against_dense(kind, length):
    matrix = banded.penalty_matrix(length, 1.5, kind)
    dense = np.eye(length) + 1.5 * _dense_penalty(kind, length)
    assert (matrix.length, matrix.weight, matrix.kind) == (length, 1.5, kind)
    assert matrix.upper.shape == (3, length)
    np.testing.assert_allclose(matrix.dense(), dense, atol=1e-12)
    rhs = np.random.default_rng(length).normal(size=(4, length))
    expected = np.linalg.solve(dense, rhs.T).T
    np.testing.assert_allclose(matrix.solve(rhs), expected, atol=1e-12)
    np.testing.assert_allclose(banded.smooth_penalised(rhs, 1.5, kind), expected, atol=1e-12)
    np.testing.assert_allclose(banded.smooth_penalised(rhs, np.full(4, 1.5), kind), expected, atol=1e-12)
    assert not matrix.upper.flags.writeable and not matrix.factor.flags.writeable
    assert banded.penalty_matrix(length, 1.5, kind) is matrix


def test_per_problem_weights_solve_each_problem_with_its_own():
    rhs = np.random.default_rng(7).normal(size=(3, 10))
    weights = np.array([0.0, 1.0, 20.0])
    solved = banded.smooth_penalised(rhs, weights, "curvature")
    for p, w in enumerate(weights):
        expected = np.linalg.solve(np.eye(10) + w * _dense_penalty("curvature", 10), rhs[p])
        np.testing.assert_allclose(solved[p], expected, atol=1e-12)
    np.testing.assert_array_equal(solved[0], rhs[0])
