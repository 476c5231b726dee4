"""2D projections of codes: PCA against a table built with known axes and variances; UMAP's plumbing and its
missing-package message."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from echolatent.latent import projection
from echolatent.latent.projection import fit_pca, fit_projection


def constructed_codes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes ``mean + a u + b v`` in 3-D with orthogonal unit ``u``, ``v`` and uncorrelated, centred a, b."""
    mean = np.array([1.0, -2.0, 0.5])
    u, v = np.array([0.6, 0.8, 0.0]), np.array([-0.8, 0.6, 0.0])
    a, b = np.array([-3.0, -1.0, 1.0, 3.0]), np.array([1.0, -1.0, -1.0, 1.0])
    return mean + a[:, None] * u + b[:, None] * v, a, b


def test_pca_of_a_constructed_table() -> None:
    codes, a, b = constructed_codes()
    pca = fit_pca(codes)
    assert np.allclose(pca.mean, [1.0, -2.0, 0.5])
    # u's largest loading (0.8) is positive; v's (-0.8) is not, so the second axis is -v
    assert np.allclose(pca.components, [[0.6, 0.8, 0.0], [0.8, -0.6, 0.0]])
    assert np.allclose(pca.explained, [20 / 24, 4 / 24])  # sum a^2 = 20, sum b^2 = 4, nothing else
    assert np.allclose(pca.transform(codes), np.stack([a, -b], 1))
    assert pca.axis_labels == ("PC1 (83% of the variance)", "PC2 (17% of the variance)")


def test_pca_places_new_codes_and_is_deterministic() -> None:
    codes, _, _ = constructed_codes()
    pca = fit_pca(codes)
    assert np.allclose(pca.transform(np.array([[1.0, -2.0, 0.5], [1.0, -2.0, 7.0]])), 0.0)  # off-plane: at the mean
    flipped = fit_pca(codes[::-1] * 1.0)
    assert np.allclose(flipped.components, pca.components)


def test_pca_of_one_dimensional_codes_has_a_zero_second_axis() -> None:
    pca = fit_pca(np.array([[0.0], [2.0], [4.0]]))
    assert np.allclose(pca.transform(np.array([[4.0]])), [[2.0, 0.0]])
    assert np.allclose(pca.explained, [1.0, 0.0])


@pytest.mark.parametrize(("codes", "match"), [
    (np.zeros((1, 3)), "at least 2"),
    (np.zeros(3), "shape"),
    (np.full((3, 2), np.nan), "NaN"),
])
def test_bad_codes_raise(codes, match) -> None:
    with pytest.raises(ValueError, match=match):
        fit_pca(codes)


def test_transform_checks_the_width() -> None:
    pca = fit_pca(constructed_codes()[0])
    with pytest.raises(ValueError, match="3 dimensions"):
        pca.transform(np.zeros((2, 4)))


def test_unknown_method_raises() -> None:
    with pytest.raises(ValueError, match="pca"):
        fit_projection(np.zeros((4, 2)), "tsne")


def test_umap_without_the_package_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setattr(projection, "umap_available", lambda: False)
    with pytest.raises(ValueError, match=r"echolatent\[map\]"):
        fit_projection(constructed_codes()[0], "umap")


def test_umap_is_fitted_and_used_through_its_reducer(monkeypatch) -> None:
    """A stand-in ``umap`` module: the projection passes the settings and the codes through unchanged."""
    calls = {}

    class FakeUMAP:
        def __init__(self, **kwargs) -> None:
            calls["init"] = kwargs

        def fit(self, codes):
            calls["fit"] = codes.copy()
            return self

        def transform(self, codes):
            return codes[:, :2] * 2

    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=FakeUMAP))
    monkeypatch.setattr(projection, "umap_available", lambda: True)
    codes = constructed_codes()[0]
    fitted = fit_projection(codes, "umap", seed=3)
    assert calls["init"] == {"n_components": 2, "n_neighbors": 3, "random_state": 3}
    assert np.array_equal(calls["fit"], codes)
    assert np.allclose(fitted.transform(codes), codes[:, :2] * 2)
    assert fitted.method == "umap"
