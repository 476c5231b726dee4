"""The deviation QP: exact active-set solves, the interior-point fallback, dense and stencil operators agree."""

from __future__ import annotations

import clarabel
import numpy as np
import pytest
import scipy.sparse as sp

from echolatent.temporal import qp, qp_system
from echolatent.temporal.banded import penalty_matrix, smooth_penalised, smoothing_bands, solve_spd_banded


def _clarabel(z: np.ndarray, bounds: np.ndarray, hessian: np.ndarray) -> np.ndarray:
    """min 1/2 x^T H x - z^T x s.t. |D x| <= bounds, by clarabel (a different QP method)."""
    length = len(z)
    dev = sp.diags([-0.5, 1.0, -0.5], [0, 1, 2], shape=(length - 2, length), format="csc")
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = 1e-12
    cones = [clarabel.NonnegativeConeT(2 * (length - 2))]
    solver = clarabel.DefaultSolver(
        sp.csc_matrix(hessian), -z, sp.vstack([dev, -dev]).tocsc(), np.concatenate([bounds, bounds]), cones, settings
    )
    return np.asarray(solver.solve().x)


def _problems(length: int, n_problems: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy cycles ``(P, T)`` and bounds ``(P, T - 2)`` (one tight frame per problem), most limits active."""
    rng = np.random.default_rng(seed)
    time = np.linspace(0.0, 1.0, length)
    z = 0.5 + 0.2 * np.sin(2 * np.pi * time + rng.uniform(0, 6, (n_problems, 1)))
    z += rng.normal(0.0, 0.03, z.shape)
    bounds = np.repeat(rng.choice([0.002, 0.01, 0.03], (n_problems, 1)), length - 2, axis=1)
    bounds[np.arange(n_problems), rng.integers(0, length - 2, n_problems)] = 1e-3
    return z, bounds


@pytest.mark.parametrize("active_set_steps", [0, qp.ACTIVE_SET_STEPS])  # 0: interior point only
@pytest.mark.parametrize(
    ("length", "weight", "kind"),
    [(12, 0.0, "curvature"), (20, 3.0, "curvature"), (50, 50.0, "membrane"), (90, 30.0, "curvature")],
)
def test_matches_clarabel(monkeypatch, active_set_steps, length, weight, kind):
    monkeypatch.setattr(qp, "ACTIVE_SET_STEPS", active_set_steps)
    z, bounds = _problems(length, 4, seed=length)
    hessian = penalty_matrix(length, weight, kind)
    solved = qp.solve_deviation_qp(z, hessian, bounds)
    assert (np.abs(solved[:, 1:-1] - 0.5 * (solved[:, :-2] + solved[:, 2:])) <= bounds * (1 + qp.BOUND_SLACK)).all()
    for row, b, x in zip(z, bounds, solved, strict=True):
        np.testing.assert_allclose(x, _clarabel(row, b, hessian.dense()), atol=1e-8)


def test_active_set_kkt_solves_its_equations():
    length, rng = 15, np.random.default_rng(0)
    hessian = penalty_matrix(length, 2.0, "curvature")
    signs = rng.integers(-1, 2, (3, length - 2)).astype(np.float64)
    z, bounds = rng.normal(size=(3, length)), rng.uniform(0.01, 0.1, (3, length - 2))
    x, mu = qp_system.ActiveSetKKT(hessian).solve(signs, z, bounds)
    dev = qp.deviation_matrix(length)
    np.testing.assert_allclose(x @ hessian.dense() + mu @ dev, z, atol=1e-12)
    active = signs != 0
    np.testing.assert_allclose((x @ dev.T)[active], (signs * bounds)[active], atol=1e-12)
    assert (mu[~active] == 0).all()


def test_dense_and_stencil_operators_agree(monkeypatch):
    z, bounds = _problems(40, 3, seed=1)
    hessian = penalty_matrix(40, 5.0, "membrane")
    dense = qp.solve_deviation_qp(z, hessian, bounds)
    monkeypatch.setattr(qp_system, "DENSE_MAX_LENGTH", 10)
    qp_system._deviation_operator.cache_clear()
    qp_system.qp_system.cache_clear()
    try:
        stencil = qp.solve_deviation_qp(z, hessian, bounds)
    finally:
        qp_system._deviation_operator.cache_clear()
        qp_system.qp_system.cache_clear()
    np.testing.assert_allclose(stencil, dense, atol=1e-9)


def test_each_problem_on_its_own(monkeypatch):
    """Problems solved by the active-set steps and by the interior point, together or alone: the same results."""
    z, bounds = _problems(30, 6, seed=2)
    hessian = penalty_matrix(30, 1.0, "curvature")
    interior_point, sizes = qp._interior_point, []

    def counted(system, target, *args):
        sizes.append(len(target))
        return interior_point(system, target, *args)

    monkeypatch.setattr(qp, "_interior_point", counted)
    together = qp.solve_deviation_qp(z, hessian, bounds)
    assert 0 < sizes[0] < 6  # both methods at work in this batch
    alone = np.concatenate([qp.solve_deviation_qp(z[i : i + 1], hessian, bounds[i : i + 1]) for i in range(6)])
    np.testing.assert_allclose(alone, together, rtol=0, atol=1e-12)


def test_penalty_matrix_is_cached_and_read_only():
    first = penalty_matrix(25, 3.0, "curvature")
    assert penalty_matrix(25, 3.0, "curvature") is first
    with pytest.raises(ValueError, match="read-only"):
        first.upper[0, 0] = 1.0
    x = np.random.default_rng(3).normal(size=(4, 25))
    np.testing.assert_allclose(
        smooth_penalised(x, 3.0, "curvature"),
        solve_spd_banded(smoothing_bands(4, 25, 3.0, "curvature"), x),
        atol=1e-12,
    )
