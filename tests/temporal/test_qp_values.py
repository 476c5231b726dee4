"""The deviation QP's parts by hand: the least-squares line, the strictly feasible start, the answer at the limits of
a tiny problem, and the two ways the interior point ends early (step limit, lost definiteness)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from echolatent.temporal import qp
from echolatent.temporal.banded import NotPositiveDefiniteError, penalty_matrix
from echolatent.temporal.qp_system import QPSystem, qp_system


def _deviation(x: np.ndarray) -> np.ndarray:
    """``(P, T)`` -> ``(P, T - 2)``: ``x_{t+1} - (x_t + x_{t+2}) / 2``."""
    return x[:, 1:-1] - 0.5 * (x[:, :-2] + x[:, 2:])


def _problems(length: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    time = np.linspace(0.0, 1.0, length)
    z = 0.5 + 0.2 * np.sin(2 * np.pi * time + rng.uniform(0, 6, (n, 1))) + rng.normal(0.0, 0.03, (n, length))
    return z, np.full((n, length - 2), 0.004)


def test_line_fit_by_hand():
    series = np.array([[0.0, 1.0, 0.0, 1.0], [1.0, 3.0, 5.0, 7.0]])
    # centred times -1.5, -0.5, 0.5, 1.5: slope (-0.5 + 1.5) / 5 = 0.2 about the mean 0.5
    np.testing.assert_allclose(qp._line_fit(series), [[0.2, 0.4, 0.6, 0.8], [1.0, 3.0, 5.0, 7.0]], atol=1e-12)
    noisy = np.random.default_rng(0).normal(size=(3, 9))
    for row, fitted in zip(noisy, qp._line_fit(noisy), strict=True):
        np.testing.assert_allclose(fitted, np.polyval(np.polyfit(np.arange(9), row, 1), np.arange(9)), atol=1e-12)


def test_feasible_start_is_the_free_minimiser_shrunk_towards_the_line():
    z, bounds = _problems(12, 3, seed=4)
    bounds[2] = 1.0  # problem 2: the free minimiser is well inside its limits
    hessian = penalty_matrix(12, 2.0, "curvature")
    free = hessian.solve(z)
    start = qp._feasible_start(qp_system(12, 2.0, "curvature"), z, bounds, free)
    time = np.arange(12)
    for p in range(3):
        line = np.polyval(np.polyfit(time, z[p], 1), time)
        ratio = np.abs(_deviation(free[p : p + 1])) / bounds[p]
        shrink = min(1.0, qp.START_FRACTION / ratio.max())
        np.testing.assert_allclose(start[p], line + shrink * (free[p] - line), atol=1e-12)
    assert np.abs(_deviation(start[:2]) / bounds[:2]).max(axis=1) == pytest.approx([qp.START_FRACTION] * 2)
    np.testing.assert_allclose(start[2], free[2], atol=1e-12)


def test_one_active_limit_by_hand():
    """T = 3, H = I: min 1/2 |x - z|^2 with |x1 - (x0 + x2) / 2| <= b. With z = (0, 1, 0) and b = 0.25 the
    projection along D = (-1/2, 1, -1/2) (|D|^2 = 3/2) takes d from 1 to 0.25: x = z - 0.75 / 1.5 D."""
    z, bounds = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.1, 0.0]]), np.full((3, 1), 0.25)
    expected = np.array([[0.25, 0.5, 0.25], [-0.25, -0.5, -0.25], [0.0, 0.1, 0.0]])
    for weight in (0.0, 1e-9):  # the interior point alone, and the active-set steps first
        solved = qp.solve_deviation_qp(z, penalty_matrix(3, weight, "curvature"), bounds)
        np.testing.assert_allclose(solved, expected, atol=1e-7)


def test_free_minimiser_given_or_computed():
    z, bounds = _problems(15, 2, seed=5)
    hessian = penalty_matrix(15, 4.0, "membrane")
    np.testing.assert_allclose(qp.solve_deviation_qp(z, hessian, bounds, free=hessian.solve(z)),
                               qp.solve_deviation_qp(z, hessian, bounds), atol=1e-12)


def test_step_limit_keeps_feasible_iterates_and_says_so(monkeypatch, caplog):
    z, bounds = _problems(20, 3, seed=6)
    hessian = penalty_matrix(20, 0.0, "curvature")  # no penalty: interior point only
    exact = qp.solve_deviation_qp(z, hessian, bounds)
    monkeypatch.setattr(qp, "MAX_NEWTON_STEPS", 2)
    with caplog.at_level(logging.WARNING, logger="echolatent.temporal.qp"):
        rough = qp.solve_deviation_qp(z, hessian, bounds)
    assert caplog.messages == ["deviation QP: 3 of 3 problems did not reach full accuracy"]
    assert (np.abs(_deviation(rough)) <= bounds).all()  # interior iterates are strictly feasible
    assert np.abs(rough - exact).max() > 1e-4


def test_lost_definiteness_stops_that_problem_only(monkeypatch, caplog):
    z, bounds = _problems(20, 3, seed=7)
    hessian = penalty_matrix(20, 0.0, "curvature")
    exact = qp.solve_deviation_qp(z, hessian, bounds)
    step, calls = QPSystem.mehrotra_step, []

    def failing(self, state, target, limits):
        calls.append(len(target))
        if len(calls) == 3:
            raise NotPositiveDefiniteError(row=1 * 20 + 7)  # in problem 1 of the batch
        return step(self, state, target, limits)

    monkeypatch.setattr(QPSystem, "mehrotra_step", failing)
    with caplog.at_level(logging.WARNING, logger="echolatent.temporal.qp"):
        solved = qp.solve_deviation_qp(z, hessian, bounds)
    assert caplog.messages == ["deviation QP: Newton matrix of one problem lost definiteness; it stops early"]
    assert (np.abs(_deviation(solved)) <= bounds * (1 + qp.BOUND_SLACK)).all()
    np.testing.assert_allclose(solved[[0, 2]], exact[[0, 2]], atol=1e-8)
    assert np.abs(solved[1] - exact[1]).max() > 1e-6


def test_problems_finished_after_convergence_reach_the_same_optimum(monkeypatch, caplog):
    """Without the early exact solves (gap never small enough) every problem runs until the interior point
    converges, then is finished from its estimated active set: the same optimum as the usual route."""
    z, bounds = _problems(16, 4, seed=8)
    hessian = penalty_matrix(16, 0.0, "curvature")
    usual = qp.solve_deviation_qp(z, hessian, bounds)
    finished = []
    finish = qp._finish

    def counted(system, iterate, *args):
        finished.append(len(iterate))
        return finish(system, iterate, *args)

    monkeypatch.setattr(qp, "POLISH_GAP", -1.0)
    monkeypatch.setattr(qp, "_finish", counted)
    with caplog.at_level(logging.WARNING, logger="echolatent.temporal.qp"):
        late = qp.solve_deviation_qp(z, hessian, bounds)
    assert caplog.messages == []  # every problem reached full accuracy
    assert sum(finished) == 4
    np.testing.assert_allclose(late, usual, atol=1e-8)
    assert (np.abs(_deviation(late)) <= bounds * (1 + qp.BOUND_SLACK)).all()
