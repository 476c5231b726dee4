"""2D projections of latent codes ``(N, d)`` for the latent map: PCA (NumPy only) and UMAP (optional extra).

A projection is fitted once on a dataset's codes and then places any code, e.g. a processed sequence's
trajectory, in the same plane. PCA axes are unitless latent coordinates; each axis is signed so that its
largest loading is positive (the same codes always give the same picture). UMAP needs ``umap-learn``
(``pip install echolatent[map]``); without it :func:`fit_projection` raises a ValueError that says so.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class Projection(Protocol):
    """A fitted 2D projection: ``transform`` maps ``(n, d)`` codes to ``(n, 2)`` points."""

    method: str
    axis_labels: tuple[str, str]

    def transform(self, codes: np.ndarray) -> np.ndarray: ...


def check_codes(codes: np.ndarray, dim: int | None = None) -> np.ndarray:
    """``(N, d)`` finite codes as float64.

    Raises:
        ValueError: not 2-D, empty, a width other than ``dim``, NaN or infinite values.
    """
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or codes.shape[0] == 0 or codes.shape[1] == 0:
        raise ValueError(f"expected codes of shape (N, d) with N, d >= 1, got {codes.shape}")
    if dim is not None and codes.shape[1] != dim:
        raise ValueError(f"expected codes with {dim} dimensions (the fitted ones), got {codes.shape[1]}")
    if not np.isfinite(codes).all():
        raise ValueError("codes contain NaN or infinite values")
    return codes


@dataclass(frozen=True)
class PCA:
    """Principal component projection of codes onto their first two components.

    Attributes:
        mean: ``(d,)`` mean code of the fitted set.
        components: ``(2, d)`` orthonormal axes, by decreasing variance.
        explained: ``(2,)`` fraction of the total variance along each axis (0..1).
    """

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray
    method: str = "pca"

    @property
    def axis_labels(self) -> tuple[str, str]:
        return (f"PC1 ({self.explained[0]:.0%} of the variance)", f"PC2 ({self.explained[1]:.0%} of the variance)")

    def transform(self, codes: np.ndarray) -> np.ndarray:
        """``(n, d)`` codes -> ``(n, 2)`` coordinates along the two components."""
        return (check_codes(codes, len(self.mean)) - self.mean) @ self.components.T


def fit_pca(codes: np.ndarray, seed: int = 0) -> PCA:
    """Fit :class:`PCA` on ``(N, d)`` codes (N >= 2; ``seed`` unused, for the common signature).

    With d = 1 the second axis is zero. Each axis is signed so that its largest-magnitude loading is positive.
    """
    codes = check_codes(codes)
    if len(codes) < 2:
        raise ValueError(f"PCA needs at least 2 codes, got {len(codes)}")
    mean = codes.mean(0)
    _, singular, vt = np.linalg.svd(codes - mean, full_matrices=False)
    variance = singular**2
    total = variance.sum()
    components = np.zeros((2, codes.shape[1]))
    explained = np.zeros(2)
    for k in range(min(2, len(vt))):
        axis = vt[k]
        components[k] = axis if axis[np.argmax(np.abs(axis))] >= 0 else -axis
        explained[k] = variance[k] / total if total > 0 else 0.0
    return PCA(mean, components, explained)


@dataclass(frozen=True)
class UMAPProjection:
    """A fitted ``umap.UMAP`` (2 components) behind the :class:`Projection` interface."""

    reducer: object
    dim: int
    method: str = "umap"
    axis_labels: tuple[str, str] = ("UMAP 1", "UMAP 2")

    def transform(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray(self.reducer.transform(check_codes(codes, self.dim)), dtype=np.float64)


def umap_available() -> bool:
    """Whether ``umap-learn`` can be imported."""
    return importlib.util.find_spec("umap") is not None


def fit_umap(codes: np.ndarray, seed: int = 0) -> UMAPProjection:
    """Fit UMAP (2 components, ``random_state=seed``, at most 15 neighbours) on ``(N, d)`` codes, N >= 3.

    Raises:
        ValueError: ``umap-learn`` is not installed, or too few codes.
    """
    codes = check_codes(codes)
    if len(codes) < 3:
        raise ValueError(f"UMAP needs at least 3 codes, got {len(codes)}")
    if not umap_available():
        raise ValueError("UMAP needs the optional package umap-learn: pip install 'echolatent[map]' (or use pca)")
    umap = importlib.import_module("umap")
    reducer = umap.UMAP(n_components=2, n_neighbors=min(15, len(codes) - 1), random_state=seed)
    reducer.fit(codes)
    return UMAPProjection(reducer, codes.shape[1])


PROJECTIONS: dict[str, Callable[[np.ndarray, int], Projection]] = {"pca": fit_pca, "umap": fit_umap}


def fit_projection(codes: np.ndarray, method: str = "pca", seed: int = 0) -> Projection:
    """Fit the ``method`` projection (a key of :data:`PROJECTIONS`) on ``(N, d)`` codes.

    Raises:
        ValueError: unknown method, bad codes, or a method whose optional package is missing.
    """
    if method not in PROJECTIONS:
        raise ValueError(f"projection must be one of {sorted(PROJECTIONS)}, got {method!r}")
    projection = PROJECTIONS[method](codes, seed)
    log.debug("fitted a %s projection on %d codes", method, len(codes))
    return projection
