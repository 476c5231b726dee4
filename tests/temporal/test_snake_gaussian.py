"""castor's snake on hand-worked cases, and the Gaussian baseline."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.temporal.gaussian import gaussian_smooth
from echolatent.temporal.snake import SnakeSettings, snake, snake_search, solve_snake


def test_snake_first_update_by_hand():
    # g = 0 + 2 * ([0,1,0] - edge-padded neighbour mean [0.5, 0, 0.5]) = [-1, 2, -1]; v = 0.1 g; x -= 0.01 v
    result, updates = snake(np.array([0.0, 1.0, 0.0]), 2.0, SnakeSettings(max_iterations=1))
    assert updates == 1
    np.testing.assert_allclose(result, [0.001, 0.998, 0.001])


def test_snake_converges_to_the_membrane_solution_by_hand():
    # Fixed point of (x - z) + w (x - neighbour mean) = 0 for z = [0, 1, 0]: a = w / (2 + 3w), b = (2 + w) / (2 + 3w)
    result, _ = snake(np.array([0.0, 1.0, 0.0]), 2.0)
    np.testing.assert_allclose(result, [0.25, 0.5, 0.25], atol=1e-4)


def test_snake_search_lands_on_a_multiple_of_four():
    # d(1) = b - a = 2 / (2 + 3w) <= 0.2 needs w >= 8/3; depth 5 over [0, 128] brackets it to (0, 4]: w = 4
    result, weight = snake_search(np.array([0.0, 1.0, 0.0]), 0.2)
    assert weight == 4.0
    np.testing.assert_allclose(result, [4 / 14, 6 / 14, 4 / 14], atol=1e-4)  # castor stops on a step norm


def test_solve_snake_free_and_limited_dims():
    z = np.stack([np.array([0.0, 1.0, 0.0]), np.array([0.0, 1.0, 0.0])], axis=1)
    result = solve_snake(z, np.array([0.2, np.inf]))
    np.testing.assert_allclose(result[:, 0], [4 / 14, 6 / 14, 4 / 14], atol=1e-4)
    np.testing.assert_allclose(result[:, 1], [50 / 152, 52 / 152, 50 / 152], atol=1e-5)  # w = 50


def test_gaussian_removes_a_one_frame_flicker():
    masks = np.zeros((20, 8, 8), dtype=np.uint8)
    masks[:, 2:6, 2:6] = 1
    flicker = masks.copy()
    flicker[10, 0, 0] = 3
    flicker[10, 3, 3] = 0
    np.testing.assert_array_equal(gaussian_smooth(flicker), masks)
    np.testing.assert_array_equal(gaussian_smooth(masks), masks)


def test_gaussian_bad_labels():
    with pytest.raises(InputError, match="outside 0..3"):
        gaussian_smooth(np.full((3, 4, 4), 7, dtype=np.uint8))


def test_gaussian_equals_the_argmax_of_the_filtered_one_hot_stack():
    from scipy.ndimage import gaussian_filter1d

    rng = np.random.default_rng(0)
    masks = rng.integers(0, 4, (30, 12, 12)).astype(np.uint8)
    stack = (masks[None] == np.arange(4)[:, None, None, None]).astype(np.float32)
    expected = gaussian_filter1d(stack, sigma=0.05 * 30, axis=1).argmax(0)
    np.testing.assert_array_equal(gaussian_smooth(masks), expected)
