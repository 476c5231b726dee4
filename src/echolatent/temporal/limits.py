"""Temporal limits on latent trajectories: normalisation, castor's deviation d(t), violations.

A latent trajectory is an array ``(T, d)`` (one sequence) or ``(B, T, d)`` (a batch of sequences of equal
length): time on the second-to-last axis, latent dimensions on the last. Limits ``tau`` are ``(d,)`` in
normalised latent units (each dimension mapped by the model's training range to about [0, 1]); ``inf`` marks
a free dimension without a limit.
"""

from __future__ import annotations

import numpy as np

#: Solutions are aimed this fraction inside the limit, so that a solution lying on its bound still passes a
#: strict ``|d| > tau`` check after round-off.
MARGIN = 1e-9


def check_trajectories(z: np.ndarray, name: str = "z") -> np.ndarray:
    """``(T, d)`` or ``(B, T, d)`` finite trajectories with T >= 3, as float64 ``(B, T, d)``.

    Raises:
        ValueError: wrong number of axes, fewer than 3 frames, NaN or infinite values.
    """
    array = np.asarray(z, dtype=np.float64)
    if array.ndim not in (2, 3):
        raise ValueError(f"{name} must be (T, d) or (B, T, d), got shape {array.shape}")
    if array.shape[-2] < 3:
        raise ValueError(f"{name} has {array.shape[-2]} frames: temporal smoothing needs at least 3")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return array if array.ndim == 3 else array[None]


def check_limits(tau: np.ndarray | float, n_dims: int) -> np.ndarray:
    """``(d,)`` limits (a scalar is broadcast): positive, ``inf`` for free dimensions.

    Raises:
        ValueError: wrong length, NaN, zero or negative limits.
    """
    limits = np.broadcast_to(np.asarray(tau, dtype=np.float64), (n_dims,)).copy()
    if np.isnan(limits).any() or (limits <= 0).any():
        raise ValueError(f"limits tau must be positive (inf for free dims), got {limits}")
    return limits


def check_frame_limits(tau: np.ndarray | float, shape: tuple[int, int, int]) -> np.ndarray:
    """Limits ``(d,)``, ``(T - 2, d)`` or ``(B, T - 2, d)`` -> ``(B, T - 2, d)`` for trajectories ``(B, T, d)``.

    Per-frame limits bound d(t) on each interior frame t (row t - 1); ``inf`` leaves it free.

    Raises:
        ValueError: a shape that does not broadcast, NaN, zero or negative limits.
    """
    n_seq, length, n_dims = shape
    array = np.asarray(tau, dtype=np.float64)
    limits = np.empty((n_seq, length - 2, n_dims))
    try:
        if array.ndim > 3:
            raise ValueError
        limits[...] = array
    except ValueError:
        raise ValueError(
            f"limits of shape {array.shape} do not fit trajectories {shape}: give (d,), (T-2, d) or (B, T-2, d)"
        ) from None
    if np.isnan(array).any() or (array <= 0).any():
        raise ValueError("limits tau must be positive (inf for free dims)")
    return limits


def normalise(z: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``(..., d)`` latent codes -> ``(..., d)`` codes mapped by ``(z - low) / (high - low)`` per dimension.

    Raises:
        ValueError: a dimension whose range is empty or not finite.
    """
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    span = high - low
    if not (np.isfinite(span).all() and (span > 0).all()):
        raise ValueError(f"latent range must be finite and non-empty per dimension, got {low} .. {high}")
    return (np.asarray(z, dtype=np.float64) - low) / span


def denormalise(z: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Inverse of :func:`normalise`."""
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    return np.asarray(z, dtype=np.float64) * (high - low) + low


def deviation(z: np.ndarray) -> np.ndarray:
    """``(..., T, d)`` -> ``(..., T - 2, d)``: castor's d(t) = z(t) - (z(t-1) + z(t+1)) / 2 on interior frames."""
    z = np.asarray(z, dtype=np.float64)
    return z[..., 1:-1, :] - 0.5 * (z[..., :-2, :] + z[..., 2:, :])


def violation(z: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``(..., T, d)``, ``(d,)`` -> ``(..., T - 2, d)``: by how much ``|d(t)|`` exceeds ``tau`` (0 when within)."""
    return np.maximum(np.abs(deviation(z)) - np.asarray(tau, dtype=np.float64), 0.0)


def max_violation(z: np.ndarray, tau: np.ndarray) -> float:
    """Largest excess of ``|d(t)|`` over ``tau`` over all frames and dimensions (0.0 when all limits hold)."""
    return float(violation(z, tau).max(initial=0.0))
