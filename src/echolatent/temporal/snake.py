"""castor's latent smoothing ("snake"), reproduced as the reference method.

Per latent dimension, gradient descent with momentum on the membrane energy
``1/2 |x - z|^2 + (w/4) sum_t (x_{t+1} - x_t)^2``: gradient ``g = (x - z) + w (x_t - (x_{t-1} + x_{t+1}) / 2)``
with edge padding, ``v = 0.9 v + 0.1 g``, ``x = x - 0.01 v``, until the L2 norm of an update is at most float32's
epsilon or after 10,000 updates. Limited dimensions: a binary search of depth 5 over w in [0, 128] for the
smallest w whose result meets ``|d(t)| <= tau`` (then one last run at that w); free dimensions: w = 50. It is slow
(thousands of NumPy iterations per dimension) and kept for side-by-side comparisons with :mod:`.exact`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from echolatent.temporal.limits import check_limits, check_trajectories, deviation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnakeSettings:
    """castor's settings."""

    step: float = 0.01
    momentum: float = 0.9
    max_iterations: int = 10_000
    tolerance: float = float(np.finfo(np.float32).eps)
    free_weight: float = 50.0
    weight_bounds: tuple[float, float] = (0.0, 128.0)
    search_depth: int = 5


def snake(signal: np.ndarray, weight: float, settings: SnakeSettings = SnakeSettings()) -> tuple[np.ndarray, int]:
    """``(T,)`` signal, membrane weight -> ``(T,)`` smoothed signal and the number of updates applied."""
    reference = np.asarray(signal, dtype=np.float64)
    current = reference.copy()
    velocity = np.zeros_like(current)
    for iteration in range(settings.max_iterations):
        padded = np.pad(current, 1, mode="edge")
        gradient = (current - reference) + weight * (current - 0.5 * (padded[:-2] + padded[2:]))
        velocity = settings.momentum * velocity + (1.0 - settings.momentum) * gradient
        following = current - settings.step * velocity
        if np.linalg.norm(following - current) <= settings.tolerance:
            return current, iteration
        current = following
    log.debug("snake stopped at the iteration limit (%d)", settings.max_iterations)
    return current, settings.max_iterations


def snake_search(signal: np.ndarray, tau: float, settings: SnakeSettings = SnakeSettings()) -> tuple[np.ndarray, float]:
    """``(T,)`` signal, limit -> ``(T,)`` result and the weight castor's binary search settles on.

    The search keeps the upper end of the bracket, so it returns a feasible weight when one exists in the
    bounds (the limit may still be violated when even the largest weight is not enough).
    """
    low, high = settings.weight_bounds
    for _ in range(settings.search_depth):
        middle = (low + high) / 2
        smoothed, _ = snake(signal, middle, settings)
        if (np.abs(deviation(smoothed[:, None])) > tau).any():
            low = middle
        else:
            high = middle
    smoothed, _ = snake(signal, high, settings)
    if (np.abs(deviation(smoothed[:, None])) > tau).any():
        log.warning("snake could not enforce the limit %.4g with weight %.4g", tau, high)
    return smoothed, high


def solve_snake(z: np.ndarray, tau: np.ndarray | float, settings: SnakeSettings = SnakeSettings()) -> np.ndarray:
    """``(T, d)`` or ``(B, T, d)`` normalised trajectories, ``(d,)`` limits (inf: free) -> smoothed, same shape.

    One dimension of one sequence at a time, as castor does.
    """
    batch = check_trajectories(z)
    limits = check_limits(tau, batch.shape[2])
    result = np.empty_like(batch)
    for seq in range(batch.shape[0]):
        for dim, limit in enumerate(limits):
            signal = batch[seq, :, dim]
            if np.isinf(limit):
                result[seq, :, dim] = snake(signal, settings.free_weight, settings)[0]
            else:
                result[seq, :, dim] = snake_search(signal, float(limit), settings)[0]
    return result if np.ndim(z) == 3 else result[0]
