"""Latent-space operations: prior samples, linear/spherical interpolation, traversals, setting an attribute.

Codes are ``(N, d)`` float32 arrays (``mu`` of :func:`echolatent.latent.codec.encode_masks`). Functions that
re-measure decoded masks use :func:`echolatent.measure.attributes.compute_attributes` on the model's grid.
"""

from __future__ import annotations

import logging

import numpy as np

from echolatent.latent.codec import decode_latents
from echolatent.models.shape import ShapeModel

log = logging.getLogger(__name__)

INTERPOLATIONS = ("linear", "slerp")


def sample_prior(model: ShapeModel, n: int, seed: int = 0) -> np.ndarray:
    """``n`` codes ``(n, d)`` from the prior: N(0, I) for VAE kinds.

    An autoencoder has no prior: its codes are drawn from the Gaussian that spans the training range of each
    dimension (mean at the middle, standard deviation a quarter of the range), the usual stand-in.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((n, model.config.latent_dim)).astype(np.float32)
    if model.variational:
        return eps
    low, high = model.latent_min.numpy(), model.latent_max.numpy()
    return ((low + high) / 2 + eps * (high - low) / 4).astype(np.float32)


def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int, method: str = "linear") -> np.ndarray:
    """Codes ``(steps, d)`` from ``z0`` to ``z1`` (both ``(d,)``), ends included; ``method`` linear or slerp.

    Slerp follows the great circle between the two directions while interpolating the norms linearly
    (falls back to linear when the codes are (anti)parallel).
    """
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(f"expected two codes of the same shape (d,), got {z0.shape} and {z1.shape}")
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if method not in INTERPOLATIONS:
        raise ValueError(f"method must be one of {INTERPOLATIONS}, got {method!r}")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    linear = (1 - t) * z0 + t * z1
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if method == "linear" or n0 == 0 or n1 == 0:
        return linear.astype(np.float32)
    cos = np.clip(z0 @ z1 / (n0 * n1), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return linear.astype(np.float32)
    u0, u1 = z0 / n0, z1 / n1
    direction = (np.sin((1 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)
    return (direction * ((1 - t) * n0 + t * n1)).astype(np.float32)


def dim_range(model: ShapeModel, dim: int, margin: float = 0.0) -> tuple[float, float]:
    """Training range of ``mu[dim]``, widened by ``margin`` times its width on each side."""
    if not 0 <= dim < model.config.latent_dim:
        raise ValueError(f"dim must be in 0..{model.config.latent_dim - 1}, got {dim}")
    low, high = float(model.latent_min[dim]), float(model.latent_max[dim])
    if high <= low:
        raise ValueError(f"the model has no latent range for dim {dim} (min {low}, max {high}); was it exported?")
    width = high - low
    return low - margin * width, high + margin * width


def traverse(model: ShapeModel, z: np.ndarray, dim: int, steps: int = 9,
             values: np.ndarray | None = None) -> np.ndarray:
    """Codes ``(steps, d)``: ``z`` ``(d,)`` with ``dim`` swept over ``values`` (default its training range)."""
    z = np.asarray(z, dtype=np.float32)
    if z.shape != (model.config.latent_dim,):
        raise ValueError(f"expected one code of shape ({model.config.latent_dim},), got {z.shape}")
    if values is None:
        values = np.linspace(*dim_range(model, dim), steps)
    codes = np.repeat(z[None], len(values), 0)
    codes[:, dim] = values
    return codes


def regularised_dim(model: ShapeModel, attribute: str) -> int:
    """The latent dimension regularised on ``attribute`` (its index in the config's attribute list)."""
    if attribute not in model.config.attributes:
        raise ValueError(f"{attribute!r} is not regularised by this {model.config.kind} model "
                         f"(regularised: {list(model.config.attributes)})")
    return model.config.attributes.index(attribute)


def measure_decoded(model: ShapeModel, z: np.ndarray, attribute: str) -> np.ndarray:
    """``(N, d)`` codes -> ``(N,)`` ``attribute`` of the decoded masks on the model's grid (pixels; NaN undefined)."""
    from echolatent.measure.attributes import compute_attributes

    return compute_attributes(decode_latents(model, z), None)[attribute]


def set_attribute(model: ShapeModel, z: np.ndarray, attribute: str, target: float | np.ndarray,
                  iterations: int = 20, margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Move each code of ``z`` ``(N, d)`` along ``attribute``'s dim until its decoded mask measures ``target``.

    Bisection on the regularised dimension within its training range widened by ``margin``, assuming the
    attribute grows (or shrinks) monotonically along it, which the AR-VAE loss enforces. ``target`` is in
    the units of :func:`measure_decoded` (pixels of the model's grid), a scalar or ``(N,)``. Targets out of
    reach end at the nearest end of the range.

    Returns:
        new codes ``(N, d)`` and the attribute measured on their decoded masks ``(N,)``.
    """
    z = np.array(z, dtype=np.float32, ndmin=2)
    dim = regularised_dim(model, attribute)
    target = np.broadcast_to(np.asarray(target, dtype=np.float64), (len(z),))
    if not np.isfinite(target).all():
        raise ValueError("target attribute values must be finite")
    low, high = dim_range(model, dim, margin)
    lo, hi = np.full(len(z), low), np.full(len(z), high)
    at_low = measure_decoded(model, traverse_each(z, dim, lo), attribute)
    at_high = measure_decoded(model, traverse_each(z, dim, hi), attribute)
    increasing = np.where(np.isfinite(at_low) & np.isfinite(at_high), at_high >= at_low, True)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        value = measure_decoded(model, traverse_each(z, dim, mid), attribute)
        below = np.where(np.isfinite(value), value < target, True)
        go_up = below == increasing
        lo, hi = np.where(go_up, mid, lo), np.where(go_up, hi, mid)
    result = traverse_each(z, dim, (lo + hi) / 2)
    return result, measure_decoded(model, result, attribute)


def traverse_each(z: np.ndarray, dim: int, values: np.ndarray) -> np.ndarray:
    """``(N, d)`` codes with ``dim`` set to ``values`` ``(N,)`` (a copy)."""
    out = np.array(z, dtype=np.float32, copy=True)
    out[:, dim] = values
    return out
