"""castor's snake by hand with settings other than the defaults (two momentum updates, the stop on the step norm at
its limit, the iteration limit), its weight search on a short bracket, and solve_snake's shapes and free weight."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from echolatent.temporal.snake import SnakeSettings, snake, snake_search, solve_snake

PEAK = np.array([0.0, 1.0, 0.0])


def test_defaults_are_castors():
    settings = SnakeSettings()
    assert (settings.step, settings.momentum, settings.max_iterations) == (0.01, 0.9, 10_000)
    assert settings.tolerance == float(np.finfo(np.float32).eps)
    assert (settings.free_weight, settings.weight_bounds, settings.search_depth) == (50.0, (0.0, 128.0), 5)


def test_two_updates_by_hand(caplog):
    """w = 2, momentum 1/2, step 1/10. Update 1: g = [-1, 2, -1], v = g / 2, x = [0.05, 0.9, 0.05]. Update 2:
    x - z = [0.05, -0.1, 0.05], x - neighbour mean = [-0.425, 0.85, -0.425], g = [-0.8, 1.6, -0.8],
    v = [-0.25, 0.5, -0.25] + [-0.4, 0.8, -0.4] = [-0.65, 1.3, -0.65], x = [0.115, 0.77, 0.115]."""
    settings = SnakeSettings(step=0.1, momentum=0.5, max_iterations=2)
    with caplog.at_level(logging.DEBUG, logger="echolatent.temporal.snake"):
        result, updates = snake(PEAK, 2.0, settings)
    np.testing.assert_allclose(result, [0.115, 0.77, 0.115], rtol=1e-13)
    assert updates == 2
    assert caplog.messages == ["snake stopped at the iteration limit (2)"]
    one, updates = snake(PEAK, 2.0, SnakeSettings(step=0.1, momentum=0.5, max_iterations=1))
    np.testing.assert_allclose(one, [0.05, 0.9, 0.05], rtol=1e-13)
    assert updates == 1


def test_stop_on_the_step_norm_at_its_limit(caplog):
    """A constant signal is its own fixed point: the first step has norm 0, which stops the run at tolerance 0."""
    flat = np.full(5, 0.3)
    with caplog.at_level(logging.DEBUG, logger="echolatent.temporal.snake"):
        result, updates = snake(flat, 7.0, SnakeSettings(tolerance=0.0, max_iterations=40))
    assert updates == 0 and caplog.messages == []
    np.testing.assert_array_equal(result, flat)
    assert result is not flat


def test_stop_on_the_step_norm_by_hand():
    """w = 2, momentum 0, step 1/10: update 0 is 0.1 g0 = 0.1 [-1, 2, -1] (norm 0.1 sqrt 6 ~ 0.245) to
    x1 = [0.1, 0.8, 0.1]; then g1 = [0.1, -0.2, 0.1] + 2 [-0.35, 0.7, -0.35] = [-0.6, 1.2, -0.6] (step norm
    0.06 sqrt 6 ~ 0.147). Tolerance 0.2 lies between: x1 is returned, after 1 update."""
    result, updates = snake(PEAK, 2.0, SnakeSettings(step=0.1, momentum=0.0, tolerance=0.2))
    assert updates == 1
    np.testing.assert_allclose(result, [0.1, 0.8, 0.1], rtol=1e-14)
    result, updates = snake(PEAK, 2.0, SnakeSettings(step=0.1, momentum=0.0, tolerance=0.25))
    assert updates == 0
    np.testing.assert_array_equal(result, PEAK)


@pytest.mark.parametrize(("tau", "weight", "warned"), [(0.2, 4.0, False), (0.1, 8.0, False), (0.05, 8.0, True)])
def test_search_on_a_short_bracket(caplog, tau, weight, warned):
    """Bracket [0, 8], depth 1: w = 4 gives d(1) = 2 / 14 ~ 0.143 at the fixed point, w = 8 gives 2 / 26 ~ 0.077."""
    settings = SnakeSettings(weight_bounds=(0.0, 8.0), search_depth=1)
    with caplog.at_level(logging.WARNING, logger="echolatent.temporal.snake"):
        result, got = snake_search(PEAK, tau, settings)
    assert got == weight
    a = weight / (2 + 3 * weight)
    np.testing.assert_allclose(result, [a, 1 - 2 * a, a], atol=1e-4)
    expected = [f"snake could not enforce the limit {tau:.4g} with weight {weight:.4g}"] if warned else []
    assert caplog.messages == expected


@pytest.mark.parametrize(("tau", "weight", "warned"), [(1.0, 4.0, False), (np.nextafter(1.0, 0.0), 8.0, True)])
def test_search_at_the_limit(caplog, tau, weight, warned):
    """No update allowed: every run returns the signal itself, whose d(1) = 1 exactly. A limit of 1 is met (|d| > tau
    fails only above it), one just below is not, even at the largest weight."""
    settings = SnakeSettings(max_iterations=0, weight_bounds=(0.0, 8.0), search_depth=1)
    with caplog.at_level(logging.WARNING, logger="echolatent.temporal.snake"):
        result, got = snake_search(PEAK, tau, settings)
    assert got == weight
    np.testing.assert_array_equal(result, PEAK)
    assert bool(caplog.messages) is warned


def test_search_moves_the_lower_end_up():
    """Bracket [0, 8], depth 2, tau 0.12: 4 fails (2/14 ~ 0.143), 6 meets it (2/20 = 0.1): the weight is 6."""
    _, weight = snake_search(PEAK, 0.12, SnakeSettings(weight_bounds=(0.0, 8.0), search_depth=2))
    assert weight == 6.0


def test_integer_signal_gives_floats():
    result, updates = snake(np.array([2, 2, 2, 2]), 3.0)
    assert updates == 0 and result.dtype == np.float64
    np.testing.assert_array_equal(result, [2.0, 2.0, 2.0, 2.0])


def test_search_of_depth_zero_takes_the_upper_end():
    result, weight = snake_search(PEAK, 1.0, SnakeSettings(weight_bounds=(1.0, 2.0), search_depth=0))
    assert weight == 2.0
    np.testing.assert_allclose(result, [0.25, 0.5, 0.25], atol=1e-4)


def test_search_brackets_from_the_lower_end():
    """Bracket [6, 10], depth 2: 8 meets tau = 0.1 (2/26), so does 7 (2/23 ~ 0.087): the weight settles on 7."""
    _, weight = snake_search(PEAK, 0.1, SnakeSettings(weight_bounds=(6.0, 10.0), search_depth=2))
    assert weight == 7.0


def test_solve_snake_shapes_and_free_weight():
    settings = SnakeSettings(free_weight=2.0)
    z = np.stack([PEAK, 2 * PEAK], axis=1)  # (T, d)
    single = solve_snake(z, np.array([np.inf, np.inf]), settings)
    assert single.shape == (3, 2)
    np.testing.assert_allclose(single[:, 0], [0.25, 0.5, 0.25], atol=1e-4)  # w = 2: a = 2/8, b = 4/8
    np.testing.assert_allclose(single[:, 1], [0.5, 1.0, 0.5], atol=1e-4)
    batch = solve_snake(np.stack([z, -z]), np.array([np.inf, 0.2]), settings)
    assert batch.shape == (2, 3, 2)
    np.testing.assert_allclose(batch[0, :, 0], [0.25, 0.5, 0.25], atol=1e-4)
    np.testing.assert_allclose(batch[1, :, 0], [-0.25, -0.5, -0.25], atol=1e-4)
    a = 8 / 26  # limited, 2 PEAK: d(1) = 4 / (2 + 3w) <= 0.2 needs w >= 6, the search (steps of 4) settles on 8
    np.testing.assert_allclose(batch[0, :, 1], 2 * np.array([a, 1 - 2 * a, a]), atol=1e-3)
    np.testing.assert_allclose(np.abs(np.diff(batch[0, :, 1])), np.abs(np.diff(batch[1, :, 1])), atol=1e-12)
    np.testing.assert_allclose(solve_snake(z, 0.2, settings)[:, 1], batch[0, :, 1], atol=1e-12)  # scalar: all dims
    frozen = SnakeSettings(max_iterations=0)  # the settings reach every run: no update, the input comes back
    np.testing.assert_array_equal(solve_snake(z, np.array([np.inf, 0.2]), frozen), z)
    with pytest.raises(ValueError, match="limits tau must be positive"):
        solve_snake(z, np.array([0.2, 0.0]))
