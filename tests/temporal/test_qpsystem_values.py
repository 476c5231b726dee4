"""The QP's linear algebra against dense NumPy matrices built here: D, C, C^T and H on both sides of the dense/stencil
switch, the active-set KKT system and its optimality test at its tolerances, the Newton matrix and direction (the
three Newton equations), the step length by hand and the convergence test of a Mehrotra step at its limits."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest
from scipy.linalg import LinAlgError

from echolatent.temporal import qp_system as qs
from echolatent.temporal.banded import NotPositiveDefiniteError, penalty_matrix


def _dense_d(length: int) -> np.ndarray:
    d = np.zeros((length - 2, length))
    for t in range(length - 2):
        d[t, t], d[t, t + 1], d[t, t + 2] = -0.5, 1.0, -0.5
    return d


def _dense_h(length: int, weight: float) -> np.ndarray:
    d = _dense_d(length)
    return np.eye(length) + weight * d.T @ d


def _system(length: int, weight: float = 2.0) -> qs.QPSystem:
    return qs.QPSystem(penalty_matrix(length, weight, "curvature"))


def test_deviation_matrix_by_hand():
    np.testing.assert_array_equal(qs.deviation_matrix(4), [[-0.5, 1.0, -0.5, 0.0], [0.0, -0.5, 1.0, -0.5]])


def test_dense_operator_up_to_its_length_only():
    qs._deviation_operator.cache_clear()
    transposed, dev = qs._deviation_operator(qs.DENSE_MAX_LENGTH)
    np.testing.assert_array_equal(dev, _dense_d(qs.DENSE_MAX_LENGTH))
    np.testing.assert_array_equal(transposed, _dense_d(qs.DENSE_MAX_LENGTH).T)
    assert not dev.flags.writeable
    assert qs._deviation_operator(qs.DENSE_MAX_LENGTH + 1) is None
    assert _system(qs.DENSE_MAX_LENGTH).dev_dense is not None and _system(qs.DENSE_MAX_LENGTH).hessian_dense is not None
    assert _system(qs.DENSE_MAX_LENGTH + 1).hessian_dense is None


@pytest.mark.parametrize("length", [5, 64, 65, 100])  # dense products, then stencils
def test_operators_are_the_dense_products(length):
    system = _system(length, 3.0)
    assert (system.length, system.n_limits) == (length, length - 2)
    rng = np.random.default_rng(length)
    x, v = rng.normal(size=(3, length)), rng.normal(size=(3, 2 * (length - 2)))
    d, h = _dense_d(length), _dense_h(length, 3.0)
    np.testing.assert_allclose(system.deviation(x), x @ d.T, atol=1e-12)
    np.testing.assert_allclose(system.constraints(x), x @ np.vstack([d, -d]).T, atol=1e-12)
    np.testing.assert_allclose(system.constraints_transpose(v), v @ np.vstack([d, -d]), atol=1e-12)
    np.testing.assert_allclose(system.hessian_times(x), x @ h, atol=1e-12)


def _kkt_dense(h: np.ndarray, signs: np.ndarray, z: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H x + D_A^T mu_A = z, D_A x = sigma_A b_A, solved densely; mu zero off the active set."""
    length = len(z)
    active = np.flatnonzero(signs)
    d = _dense_d(length)[active]
    matrix = np.block([[h, d.T], [d, np.zeros((len(active), len(active)))]])
    solution = np.linalg.solve(matrix, np.concatenate([z, signs[active] * b[active]]))
    mu = np.zeros(length - 2)
    mu[active] = solution[length:]
    return solution[:length], mu


@pytest.mark.parametrize("length", [3, 4, 9])
def test_active_set_solve_is_the_dense_kkt_solve(length):
    rng = np.random.default_rng(10 + length)
    signs = np.array([s for s in itertools.product([-1.0, 0.0, 1.0], repeat=min(length - 2, 3))])
    signs = np.hstack([signs, rng.integers(-1, 2, (len(signs), length - 2 - signs.shape[1]))]).astype(float)
    z = rng.normal(size=(len(signs), length))
    b = rng.uniform(0.01, 0.2, signs.shape)
    x, mu = _system(length, 1.5).kkt.solve(signs, z, b)
    for p in range(len(signs)):
        expected_x, expected_mu = _kkt_dense(_dense_h(length, 1.5), signs[p], z[p], b[p])
        np.testing.assert_allclose(x[p], expected_x, atol=1e-10)
        np.testing.assert_allclose(mu[p], expected_mu, atol=1e-10)


def test_one_active_frame_by_hand():
    """T = 3, H = I, z = (0, 1, 0), b = 1/4: D x = 1 - (3/2) mu. Upper limit active: mu = 1/2 >= 0, optimal; lower
    limit active: D x = -1/4, mu = 5/6 with the wrong sign, not optimal; none active: D x = 1 > b, not optimal."""
    system = _system(3, 0.0)
    z = np.tile([0.0, 1.0, 0.0], (3, 1))
    x, mu, dev, optimal = system.solve_active(np.array([[1.0], [-1.0], [0.0]]), z, np.full((3, 1), 0.25))
    np.testing.assert_allclose(mu, [[0.5], [5 / 6], [0.0]], atol=1e-14)
    np.testing.assert_allclose(x, [[0.25, 0.5, 0.25], [5 / 12, 1 / 6, 5 / 12], [0.0, 1.0, 0.0]], atol=1e-14)
    np.testing.assert_allclose(dev, [[0.25], [-0.25], [1.0]], atol=1e-14)
    np.testing.assert_array_equal(optimal, [True, False, False])


def test_bound_slack_at_its_limit():
    """No active frame, H = I: x = z and D x = z_1 exactly; optimal while |D x| <= b (1 + BOUND_SLACK)."""
    limit = 0.25 * (1.0 + qs.BOUND_SLACK)
    above = np.nextafter(limit, 1.0)
    z = np.array([[0.0, limit, 0.0], [0.0, -limit, 0.0], [0.0, above, 0.0], [0.0, -above, 0.0], [0.0, 0.25, 0.0]])
    _, mu, dev, optimal = _system(3, 0.0).solve_active(np.zeros((5, 1)), z, np.full((5, 1), 0.25))
    np.testing.assert_array_equal(dev[:, 0], z[:, 1])
    np.testing.assert_array_equal(mu, 0.0)
    np.testing.assert_array_equal(optimal, [True, True, False, False, True])
    assert qs.BOUND_SLACK == 0.5 * qs.MARGIN


def test_multiplier_tolerance():
    """H = I, T = 3, upper limit active: mu = (z_1 - b) / (3/2). z_1 = b gives mu = 0 (optimal); a slightly
    smaller z_1 a multiplier below -MULTIPLIER_TOL (not optimal), one within the tolerance (optimal)."""
    b = 0.25
    z = np.array([[0.0, b, 0.0], [0.0, b - 3e-12, 0.0], [0.0, b - 1e-13, 0.0]])
    _, mu, _, optimal = _system(3, 0.0).solve_active(np.ones((3, 1)), z, np.full((3, 1), b))
    np.testing.assert_allclose(mu[:, 0], [0.0, -2e-12, -1e-13 / 1.5], rtol=1e-3, atol=1e-16)
    np.testing.assert_array_equal(optimal, [True, False, True])


def test_multiplier_tolerance_at_its_limit(monkeypatch):
    """z = (0, -1/2, 0), b = 1/4, upper limit active: mu = (-1/2 - 1/4) / (3/2) = -1/2 exactly; optimal while
    -1/2 >= -MULTIPLIER_TOL."""
    system = _system(3, 0.0)
    z, b = np.array([[0.0, -0.5, 0.0]]), np.full((1, 1), 0.25)
    for tol, optimal in ((0.5, True), (np.nextafter(0.5, 0.0), False), (np.nextafter(0.5, 1.0), True)):
        monkeypatch.setattr(qs, "MULTIPLIER_TOL", tol)
        _, mu, _, got = system.solve_active(np.ones((1, 1)), z, b)
        assert mu[0, 0] == -0.5
        assert got.tolist() == [optimal]


def test_singular_kkt_is_left_to_the_interior_point(monkeypatch, caplog):
    system = _system(5)

    def singular(*args):
        raise LinAlgError("singular")

    monkeypatch.setattr(system.kkt, "solve", singular)
    z, b = np.ones((2, 5)), np.full((2, 3), 0.1)
    with caplog.at_level(logging.DEBUG, logger="echolatent.temporal.qp_system"):
        x, mu, dev, optimal = system.solve_active(np.zeros((2, 3)), z, b)
    assert caplog.messages == ["active-set KKT system singular; left to the interior-point method"]
    assert x is z
    assert mu.shape == dev.shape == (2, 3)
    np.testing.assert_array_equal(mu, np.zeros((2, 3)))
    np.testing.assert_array_equal(dev, np.zeros((2, 3)))
    assert optimal.dtype == bool and optimal.tolist() == [False, False]


def _blocks_of(factor: np.ndarray, length: int, p: int) -> np.ndarray:
    """Upper Cholesky factor of block p from LAPACK's upper banded storage (two superdiagonals)."""
    upper = np.zeros((length, length))
    for offset in range(3):
        upper += np.diag(factor[2 - offset, p * length + offset : (p + 1) * length], offset)
    return upper


@pytest.mark.parametrize("length", [3, 4, 8])
def test_newton_factor_is_the_dense_cholesky_factor(length):
    rng = np.random.default_rng(length)
    weights = rng.uniform(0.1, 5.0, (3, length - 2))
    factor = _system(length, 0.7).newton_factor(weights)
    d = _dense_d(length)
    for p in range(3):
        matrix = _dense_h(length, 0.7) + d.T @ np.diag(weights[p]) @ d
        np.testing.assert_allclose(_blocks_of(factor, length, p), np.linalg.cholesky(matrix).T, atol=1e-12)


def test_newton_factor_names_the_row_that_lost_definiteness():
    """H = I, T = 3, one weight w: the matrix I + w D^T D has eigenvalue 1 + 3w/2 < 0 for w = -10; its first
    pivot 1 + w/4 < 0, so block 1 (rows 3..5) fails at its first row, 3."""
    with pytest.raises(NotPositiveDefiniteError) as caught:
        _system(3, 0.0).newton_factor(np.array([[1.0], [-10.0]]))
    assert caught.value.row == 3
    with pytest.raises(NotPositiveDefiniteError) as caught:
        _system(3, 0.0).newton_factor(np.array([[-10.0], [1.0]]))
    assert caught.value.row == 0


def _state(system: qs.QPSystem, rng: np.random.Generator, n: int) -> np.ndarray:
    width = 2 * system.n_limits
    return np.hstack([rng.normal(size=(n, system.length)), rng.uniform(0.1, 2.0, (n, 2 * width))])


@pytest.mark.parametrize("length", [4, 70])
def test_direction_solves_the_newton_equations(length):
    """H dx + C^T dl = -r_d, C dx + ds = -r_p, lambda ds + s dl = -c (C = [D; -D])."""
    system = _system(length, 1.3)
    rng = np.random.default_rng(3)
    state = _state(system, rng, 2)
    width = 2 * system.n_limits
    slack, dual = state[:, length : length + width], state[:, length + width :]
    ratio = dual / slack
    r_primal, r_dual, compl = rng.normal(size=(2, width)), rng.normal(size=(2, length)), rng.normal(size=(2, width))
    factor = system.newton_factor(ratio[:, : width // 2] + ratio[:, width // 2 :])
    step = system.direction(factor, state, ratio, r_primal, r_dual, compl)
    dx, ds, dl = step[:, :length], step[:, length : length + width], step[:, length + width :]
    c = np.vstack([_dense_d(length), -_dense_d(length)])
    h = _dense_h(length, 1.3)
    np.testing.assert_allclose(dx @ h + dl @ c, -r_dual, atol=1e-9)
    np.testing.assert_allclose(dx @ c.T + ds, -r_primal, atol=1e-9)
    np.testing.assert_allclose(dual * ds + slack * dl, -compl, atol=1e-9)


def test_largest_step_by_hand():
    """Length 3 (m = 1): state entries after x are (s_up, s_low, l_up, l_low)."""
    system = _system(3)
    state = np.array([[0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 1.0]] * 3)
    step = np.zeros_like(state)
    step[0, 3:] = [-2.0, 1.0, 0.0, 0.0]  # s_up reaches 0 at alpha = 1/2
    step[1, 3:] = [0.0, 1.0, -1.0, -0.5]  # l_up at 4, l_low at 2: alpha_max = 2
    step[2, 3:] = [0.5, 0.5, 0.5, 0.5]  # nothing shrinks
    np.testing.assert_allclose(system.largest_step(state, step, 0.9), [0.45, 1.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(system.largest_step(state, step, 1.0), [0.5, 1.0, 1.0], atol=1e-15)
    step[1, 3:] = [0.0, 0.0, -8.0, 0.0]  # l_up hits 0 at 1/2
    np.testing.assert_allclose(system.largest_step(state, step, 0.99), [0.495, 0.495, 1.0], atol=1e-15)


def test_convergence_test_at_its_limits():
    """H = I, T = 4 (2m = 4 slacks), x = 0, s = 1 = b, equal duals g on both sides (C^T lambda = 0): r_d = -z and
    the gap is g exactly. Converged iff max |z| <= RESIDUAL_TOL and g <= GAP_TOL; converged rows keep their state."""
    system = _system(4, 0.0)
    tol, gap = qs.RESIDUAL_TOL, qs.GAP_TOL
    cases = [(tol, gap, True), (-tol, gap, True), (np.nextafter(tol, 1), gap, False),
             (tol, np.nextafter(gap, 1), False), (0.0, 0.0, True)]
    target = np.array([[0.0, z, 0.0, 0.0] for z, _, _ in cases])
    state = np.hstack([np.zeros((5, 4)), np.ones((5, 4)), np.array([[g] * 4 for _, g, _ in cases])])
    state[4, 8:] = 1e-300  # a tiny positive gap: the step is still well defined
    new, converged = system.mehrotra_step(state, target, np.ones((5, 4)))
    np.testing.assert_array_equal(converged, [c for _, _, c in cases])
    np.testing.assert_array_equal(new[converged], state[converged])
    assert (new[~converged] != state[~converged]).any(axis=1).all()
    done = state[[0, 1]]
    same, all_converged = system.mehrotra_step(done, target[[0, 1]], np.ones((2, 4)))
    assert same is done  # nothing left to do: the state itself comes back
    assert all_converged.all()


def _dense_mehrotra(h, z, b, x, s, lam, fraction):
    """One Mehrotra predictor-corrector step from its definition, with the full Newton system solved densely:
    [[H, 0, C^T], [C, I, 0], [0, Lambda, S]] (dx, ds, dl) = -(r_d, r_p, r_c)."""
    d = _dense_d(len(z))
    c = np.vstack([d, -d])
    n, w = len(x), len(s)
    r_p, r_d = c @ x + s - np.concatenate([b, b]), h @ x - z + c.T @ lam
    matrix = np.block([[h, np.zeros((n, w)), c.T], [c, np.eye(w), np.zeros((w, w))],
                       [np.zeros((w, n)), np.diag(lam), np.diag(s)]])

    def solve(r_c):
        step = np.linalg.solve(matrix, -np.concatenate([r_d, r_p, r_c]))
        return step[:n], step[n : n + w], step[n + w :]

    def alpha_max(ds, dl):
        ratios = np.concatenate([ds / s, dl / lam])
        return 1.0 / -ratios.min() if ratios.min() < 0 else np.inf

    _, ds, dl = solve(s * lam)
    a = min(1.0, alpha_max(ds, dl))
    mu, mu_affine = np.mean(s * lam), np.mean((s + a * ds) * (lam + a * dl))
    step = solve(s * lam + ds * dl - (mu_affine / mu) ** 3 * mu)
    a = min(1.0, fraction * alpha_max(*step[1:]))
    return np.concatenate([x, s, lam]) + a * np.concatenate(step)


@pytest.mark.parametrize(("length", "weight"), [(5, 0.0), (6, 2.0), (70, 1.0)])
def test_mehrotra_step_is_the_textbook_step(length, weight):
    """Two problems far apart (gaps differ by orders of magnitude): each takes its own predictor-corrector step."""
    system = _system(length, weight)
    rng = np.random.default_rng(length)
    m = length - 2
    z = rng.normal(size=(2, length))
    b = np.vstack([np.full(m, 0.1), np.full(m, 2.0)])
    state = np.hstack([rng.normal(0, 0.05, (2, length)), rng.uniform(0.05, 1.0, (2, 2 * m)),
                       np.vstack([rng.uniform(0.5, 2.0, 2 * m), rng.uniform(1e-4, 1e-3, 2 * m)])])
    new, converged = system.mehrotra_step(state, z, np.hstack([b, b]))
    assert converged.tolist() == [False, False]
    h = _dense_h(length, weight)
    for p in range(2):
        x, s, lam = state[p, :length], state[p, length : length + 2 * m], state[p, length + 2 * m :]
        expected = _dense_mehrotra(h, z[p], b[p], x, s, lam, qs.STEP_FRACTION)
        np.testing.assert_allclose(new[p], expected, rtol=1e-9, atol=1e-11)


def _brute_force(z: np.ndarray, b: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The QP's optimum by trying every active set (3^m of them) and keeping the one that meets the KKT conditions."""
    m = len(b)
    for signs in itertools.product([-1.0, 0.0, 1.0], repeat=m):
        signs = np.array(signs)
        x, mu = _kkt_dense(h, signs, z, b)
        if (signs * mu >= -1e-12).all() and (np.abs(_dense_d(len(z)) @ x) <= b + 1e-12).all():
            return x
    raise AssertionError("no active set meets the KKT conditions")


@pytest.mark.parametrize("weight", [0.0, 2.0])
def test_mehrotra_steps_reach_the_brute_force_optimum(weight):
    """Iterated predictor-corrector steps from a strictly feasible start converge to the optimum found by trying all
    active sets of a 6-frame problem."""
    length = 6
    system = _system(length, weight)
    z = np.array([[0.0, 1.0, -0.5, 0.8, 0.1, 0.3], [0.2, 0.1, 0.3, 0.2, 0.25, 0.3]])
    b = np.array([[0.1, 0.05, 0.2, 0.1], [0.3, 0.3, 0.3, 0.3]])
    width = 2 * (length - 2)
    x0 = np.zeros((2, length))
    state = np.hstack([x0, np.hstack([b, b]), np.ones((2, width))])
    bounds = np.hstack([b, b])
    converged = np.zeros(2, dtype=bool)
    for _ in range(60):
        state, converged = system.mehrotra_step(state, z, bounds)
        if converged.all():
            break
    assert converged.all()
    for p in range(2):
        np.testing.assert_allclose(state[p, :length], _brute_force(z[p], b[p], _dense_h(length, weight)), atol=1e-7)
    assert qs.qp_system(length, weight, "curvature") is qs.qp_system(length, weight, "curvature")
    assert qs.qp_system(length, weight, "curvature").hessian is penalty_matrix(length, weight, "curvature")
