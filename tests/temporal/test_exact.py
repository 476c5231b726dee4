"""The exact solver: limits met, optimality against a packaged QP solver, no change where none is needed."""

from __future__ import annotations

import clarabel
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from echolatent.temporal.banded import smooth_penalised
from echolatent.temporal.exact import solve_exact
from echolatent.temporal.limits import MARGIN, deviation, max_violation
from echolatent.temporal.snake import snake


@st.composite
def trajectories(draw):
    """Random noisy trajectories ``(B, T, d)`` with limits ``(d,)`` (some free)."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_seq, length, n_dims = draw(st.integers(1, 3)), draw(st.integers(3, 40)), draw(st.integers(1, 4))
    time = np.linspace(0.0, 1.0, length)[None, :, None]
    curves = 0.5 + rng.uniform(0.05, 0.5, (n_seq, 1, n_dims)) * np.sin(rng.uniform(1, 9) * time + rng.uniform(0, 6))
    z = curves + rng.normal(0.0, draw(st.sampled_from([0.0, 0.01, 0.1, 0.5])), (n_seq, length, n_dims))
    tau = rng.choice([0.001, 0.005, 0.02, 0.1, np.inf], n_dims)
    return z, tau


@settings(max_examples=40, deadline=None)
@given(trajectories(), st.sampled_from([0.0, 1.0, 20.0]))
def test_limits_met(data, attr_weight):
    z, tau = data
    smoothed = solve_exact(z, tau, attr_weight=attr_weight)
    assert smoothed.shape == z.shape
    assert max_violation(smoothed, tau) == 0.0  # strictly inside: a '> tau' check passes


@settings(max_examples=25, deadline=None)
@given(trajectories())
def test_order_of_sequences_does_not_matter(data):
    z, tau = data
    order = np.random.default_rng(0).permutation(len(z))
    together = solve_exact(z, tau)
    # equal up to the solver's accuracy (LAPACK's blocked Cholesky may sum in another order)
    np.testing.assert_allclose(solve_exact(z[order], tau), together[order], rtol=0, atol=1e-8)
    one_by_one = np.stack([solve_exact(seq, tau) for seq in z])
    np.testing.assert_allclose(one_by_one, together, rtol=0, atol=1e-8)


def test_consistent_trajectory_unchanged_without_penalty():
    rng = np.random.default_rng(1)
    time = np.linspace(0, 1, 30)[:, None]
    z = 0.3 + 0.4 * time + 0.02 * np.sin(3 * time + rng.uniform(0, 3, (1, 3)))
    tau = np.array([0.01, 0.01, np.inf])
    assert np.abs(deviation(z)).max() < 0.01
    np.testing.assert_array_equal(solve_exact(z, tau, attr_weight=0.0, free_weight=0.0), z)


def test_straight_line_unchanged_with_curvature_penalty():
    time = np.linspace(0, 1, 25)[:, None]
    z = 0.2 + np.array([[0.5, -0.3, 0.1]]) * time
    np.testing.assert_allclose(solve_exact(z, np.array([0.001, 0.05, np.inf])), z, atol=1e-12)


def _clarabel_reference(z: np.ndarray, tau: float, weight: float) -> np.ndarray:
    """min 1/2|x - z|^2 + (w/2)|D x|^2 s.t. |D x| <= tau, solved by clarabel (a different QP method)."""
    length = len(z)
    dev = sp.diags([-0.5, 1.0, -0.5], [0, 1, 2], shape=(length - 2, length), format="csc")
    hessian = (sp.identity(length) + weight * dev.T @ dev).tocsc()
    constraints = sp.vstack([dev, -dev]).tocsc()
    solver_settings = clarabel.DefaultSettings()
    solver_settings.verbose = False
    solver_settings.tol_gap_abs = solver_settings.tol_gap_rel = solver_settings.tol_feas = 1e-12
    cones = [clarabel.NonnegativeConeT(2 * (length - 2))]
    solver = clarabel.DefaultSolver(hessian, -z, constraints, np.full(2 * (length - 2), tau), cones, solver_settings)
    return np.asarray(solver.solve().x)


@pytest.mark.parametrize("weight", [0.0, 2.0])
def test_matches_a_packaged_qp_solver(weight):
    rng = np.random.default_rng(3)
    z = np.cumsum(rng.normal(0, 0.05, 30))
    tau = 0.004
    expected = _clarabel_reference(z, tau * (1 - MARGIN), weight)
    np.testing.assert_allclose(
        solve_exact(z[:, None], np.array([tau]), attr_weight=weight, length_exponent=0.0)[:, 0], expected, atol=1e-8
    )


def test_free_dims_reach_the_snake_fixed_point():
    z = np.random.default_rng(4).normal(0, 0.1, (20, 1))
    exact = solve_exact(z, np.array([np.inf]), free_weight=50.0, penalty="membrane", length_exponent=0.0)
    np.testing.assert_allclose(exact, smooth_penalised(z.T, 50.0, "membrane").T, atol=1e-12)
    np.testing.assert_allclose(exact[:, 0], snake(z[:, 0], 50.0)[0], atol=1e-4)


@pytest.mark.parametrize(
    ("z", "tau", "message"),
    [
        (np.zeros((2, 3)), np.array([0.1, 0.1, 0.1]), "at least 3"),
        (np.full((5, 1), np.nan), np.array([0.1]), "NaN"),
        (np.zeros((5, 1)), np.array([0.0]), "positive"),
        (np.zeros((5,)), np.array([0.1]), "shape"),
    ],
)
def test_bad_arguments(z, tau, message):
    with pytest.raises(ValueError, match=message):
        solve_exact(z, tau)


def test_negative_weight_rejected():
    with pytest.raises(ValueError, match=">= 0"):
        solve_exact(np.zeros((5, 1)), np.array([0.1]), attr_weight=-1.0)


def test_per_frame_limits():
    rng = np.random.default_rng(5)
    z = np.cumsum(rng.normal(0, 0.05, (2, 15, 2)), axis=1)
    tau = np.full((2, 13, 2), 0.02)
    tau[:, 4] = 0.001  # one tight interior frame (t = 5)
    tau[:, :, 1] = np.inf  # a free dimension
    smoothed = solve_exact(z, tau, attr_weight=0.0, free_weight=0.0)
    deviations = np.abs(deviation(smoothed))
    assert (deviations[..., 0] <= tau[..., 0]).all()
    assert deviations[:, 4, 0].max() <= 0.001
    np.testing.assert_array_equal(smoothed[..., 1], z[..., 1])


def test_limits_of_the_wrong_shape():
    with pytest.raises(ValueError, match="do not fit"):
        solve_exact(np.zeros((6, 2)), np.ones((3, 2)))
