"""The exact smoother and the limit helpers against dense NumPy and clarabel: weights at several lengths
(``length_exponent`` 0, 0.5, 1), free and limited dimensions, limited dimensions with some unlimited frames, and
d(t), violations and normalisation by hand."""

from __future__ import annotations

import clarabel
import numpy as np
import pytest
import scipy.sparse as sp

from echolatent.temporal.exact import UNLIMITED, ExactSettings, solve_exact
from echolatent.temporal.limits import (
    MARGIN,
    check_frame_limits,
    check_limits,
    check_trajectories,
    denormalise,
    deviation,
    max_violation,
    normalise,
    violation,
)


def _dev_matrix(length: int) -> np.ndarray:
    """``(T - 2, T)``: d(t) = x_t - (x_{t-1} + x_{t+1}) / 2."""
    matrix = np.zeros((length - 2, length))
    for t in range(length - 2):
        matrix[t, t : t + 3] = (-0.5, 1.0, -0.5)
    return matrix


def _hessian(length: int, weight: float) -> np.ndarray:
    """``I + w D^T D`` (the curvature penalty)."""
    dev = _dev_matrix(length)
    return np.eye(length) + weight * dev.T @ dev


def _clarabel(z: np.ndarray, bounds: np.ndarray, weight: float) -> np.ndarray:
    """min 1/2 x^T H x - z^T x s.t. |d(x)_t| <= bounds_t on the frames with a finite bound."""
    length = len(z)
    rows = np.flatnonzero(np.isfinite(bounds))
    dev = sp.csc_matrix(_dev_matrix(length)[rows])
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = 1e-12
    solver = clarabel.DefaultSolver(sp.csc_matrix(_hessian(length, weight)), -z, sp.vstack([dev, -dev]).tocsc(),
                                    np.concatenate([bounds[rows], bounds[rows]]),
                                    [clarabel.NonnegativeConeT(2 * len(rows))], settings)
    return np.asarray(solver.solve().x)


def _noisy(length: int, n_dims: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    time = np.linspace(0, 1, length)[:, None]
    return 0.5 + 0.3 * np.sin(2 * np.pi * time + rng.uniform(0, 6, n_dims)) + rng.normal(0, 0.04, (length, n_dims))


@pytest.mark.parametrize(("length", "exponent", "scale"), [(20, 1.0, 1.0), (40, 1.0, 2.0), (80, 0.5, 2.0),
                                                            (40, 0.0, 1.0), (10, 1.0, 0.5)])
def test_weights_follow_the_length(length, exponent, scale):
    settings = ExactSettings(free_weight=3.0, attr_weight=1.5, length_exponent=exponent, reference_length=20)
    assert settings.weights(length) == pytest.approx((3.0 * scale, 1.5 * scale))
    z = _noisy(length, 2, seed=length)
    tau = np.array([np.inf, 0.004])  # dim 0 free, dim 1 limited
    smoothed = solve_exact(z, tau, settings)
    np.testing.assert_allclose(smoothed[:, 0], np.linalg.solve(_hessian(length, 3.0 * scale), z[:, 0]), atol=1e-9)
    bound = np.full(length - 2, 0.004 * (1 - MARGIN))
    np.testing.assert_allclose(smoothed[:, 1], _clarabel(z[:, 1], bound, 1.5 * scale), atol=1e-7)


def test_limited_dimension_with_unlimited_frames():
    length = 24
    z = _noisy(length, 2, seed=3)
    tau = np.full((length - 2, 2), 0.003)
    tau[5:12, 0] = np.inf  # dim 0: frames 6..12 free, the others limited
    tau[:, 1] = np.inf  # dim 1 free everywhere: one banded solve
    smoothed = solve_exact(z, tau, attr_weight=1.0, free_weight=2.0)
    bound = np.where(np.isinf(tau[:, 0]), np.inf, 0.003 * (1 - MARGIN))
    np.testing.assert_allclose(smoothed[:, 0], _clarabel(z[:, 0], bound, 1.0), atol=1e-7)
    np.testing.assert_allclose(smoothed[:, 1], np.linalg.solve(_hessian(length, 2.0), z[:, 1]), atol=1e-9)
    d = deviation(smoothed)[:, 0]
    assert (np.abs(d[np.isfinite(tau[:, 0])]) <= 0.003).all()
    assert np.abs(d[5:12]).max() > 0.003  # the free frames use their freedom
    assert UNLIMITED >= 1e6  # an unlimited frame's stand-in is far above any normalised deviation


def test_batch_and_single_sequence_agree_and_zero_weights_keep_free_dims():
    z = np.stack([_noisy(15, 2, seed=s) for s in (1, 2)])
    tau = np.array([0.01, np.inf])
    batch = solve_exact(z, tau)
    np.testing.assert_allclose(np.stack([solve_exact(z[i], tau) for i in range(2)]), batch, atol=1e-12)
    raw = solve_exact(z, tau, free_weight=0.0)
    np.testing.assert_array_equal(raw[:, :, 1], z[:, :, 1])  # free and no penalty: untouched


def test_deviation_violation_by_hand():
    z = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 4.0], [3.0, 1.0]])
    np.testing.assert_allclose(deviation(z), [[1.0, -1.5], [-2.0, 3.0]])
    tau = np.array([1.0, 2.0])
    np.testing.assert_allclose(violation(z, tau), [[0.0, 0.0], [1.0, 1.0]])  # |d| at the limit: no violation
    assert max_violation(z, tau) == 1.0
    assert max_violation(z, np.array([2.0, np.inf])) == 0.0
    assert max_violation(z[None], tau) == 1.0


def test_normalise_by_hand():
    low, high = np.array([-1.0, 2.0]), np.array([1.0, 6.0])
    z = np.array([[0.0, 2.0], [1.0, 5.0]])
    np.testing.assert_allclose(normalise(z, low, high), [[0.5, 0.0], [1.0, 0.75]])
    np.testing.assert_allclose(denormalise(normalise(z, low, high), low, high), z)
    for bad_high in (np.array([1.0, 2.0]), np.array([1.0, np.inf]), np.array([-2.0, 6.0])):
        with pytest.raises(ValueError, match="latent range must be finite and non-empty per dimension"):
            normalise(z, low, bad_high)


def test_limit_checks():
    np.testing.assert_array_equal(check_limits(0.5, 3), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(check_limits([1.0, np.inf], 2), [1.0, np.inf])
    for bad in (0.0, -1.0, np.nan, [1.0, 0.0]):
        with pytest.raises(ValueError, match="limits tau must be positive"):
            check_limits(bad, 2)
    assert check_frame_limits(0.2, (2, 5, 3)).shape == (2, 3, 3)
    per_frame = np.arange(1, 7, dtype=float).reshape(3, 2)
    np.testing.assert_array_equal(check_frame_limits(per_frame, (2, 5, 2)), [per_frame, per_frame])
    with pytest.raises(ValueError, match=r"limits of shape \(4, 2\) do not fit trajectories \(2, 5, 2\)"):
        check_frame_limits(np.ones((4, 2)), (2, 5, 2))
    with pytest.raises(ValueError, match=r"limits of shape \(1, 2, 3, 2\) do not fit"):
        check_frame_limits(np.ones((1, 2, 3, 2)), (2, 5, 2))
    for bad in (np.array([1.0, 0.0]), np.array([np.nan, 1.0])):
        with pytest.raises(ValueError, match="limits tau must be positive"):
            check_frame_limits(bad, (1, 5, 2))


def test_trajectory_checks():
    assert check_trajectories(np.zeros((4, 2))).shape == (1, 4, 2)
    assert check_trajectories(np.zeros((3, 4, 2))).shape == (3, 4, 2)
    cases = [(np.zeros(4), "z must be (T, d) or (B, T, d), got shape (4,)"),
             (np.zeros((2, 3)), "z has 2 frames: temporal smoothing needs at least 3"),
             (np.full((3, 1), np.nan), "z holds NaN or infinite values")]
    for array, message in cases:
        with pytest.raises(ValueError) as err:
            check_trajectories(array)
        assert str(err.value) == message
    with pytest.raises(ValueError, match="^codes holds NaN"):
        check_trajectories(np.full((3, 1), np.inf), "codes")


def test_integer_inputs_come_back_as_float64():
    assert check_trajectories(np.zeros((3, 2), np.int64)).dtype == np.float64
    limits = check_limits(2, 3)
    assert limits.dtype == np.float64 and limits.tolist() == [2.0, 2.0, 2.0]
    back = denormalise(np.array([[0, 1]]), np.array([1, 2]), np.array([3, 6]))
    assert back.dtype == np.float64 and back.tolist() == [[1.0, 6.0]]
    np.testing.assert_allclose(normalise(np.array([1, 2]), np.array([0.5, 1.5]), np.array([1.0, 2.0])), [1.0, 1.0])
    with pytest.raises(ValueError) as err:
        check_frame_limits(np.array([1.0, -2.0]), (1, 5, 2))
    assert str(err.value) == "limits tau must be positive (inf for free dims)"
    assert max_violation(np.zeros((2, 3)), np.ones(3)) == 0.0  # two frames: no interior frame to violate


def test_three_frames_projected_by_hand():
    """attr_weight 0, T = 3: x = z - (d - tau) / |D|^2 D with D = (-1/2, 1, -1/2), |D|^2 = 3/2."""
    z = np.array([[0.1, -0.1], [0.1, 0.1], [-0.1, -0.1]])  # d = 0.1 and 0.2
    smoothed = solve_exact(z, 0.05, attr_weight=0.0)
    direction = np.array([-0.5, 1.0, -0.5])
    expected = np.stack([z[:, 0] - (0.1 - 0.05) / 1.5 * direction, z[:, 1] - (0.2 - 0.05) / 1.5 * direction], 1)
    np.testing.assert_allclose(smoothed, expected, atol=1e-8)


def test_small_weights_still_smooth():
    z = _noisy(12, 3, seed=9)
    tau = np.array([np.inf, np.inf, 10.0])  # two free dims and one whose limit never binds
    smoothed = solve_exact(z, tau, free_weight=0.5, attr_weight=0.5)
    hessian = _hessian(12, 0.5)
    np.testing.assert_allclose(smoothed, np.linalg.solve(hessian, z), atol=1e-9)
