"""Disentanglement and controllability scores on codes with known relations to the attributes."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.latent.metrics import controllability, disentanglement, entropy, mutual_information, r2_linear


def test_mutual_information_and_entropy_of_known_variables():
    a = np.repeat(np.arange(4), 4)
    assert entropy(a) == pytest.approx(np.log(4))
    assert mutual_information(a, a) == pytest.approx(np.log(4))
    b = np.tile(np.arange(4), 4)  # independent of a: uniform joint
    assert mutual_information(a, b) == pytest.approx(0.0, abs=1e-12)


def _histogram_mi(x, y, bins=20):
    """Independent mutual information (nats) of two variables binned by numpy's 2-D histogram (equal widths)."""
    joint = np.histogram2d(x, y, bins=bins)[0] / len(x)
    outer = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / outer[nz])).sum())


def test_a_linear_dim_is_perfectly_interpretable():
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((400, 4))
    attrs = np.stack([3 * codes[:, 1] + 2, np.exp(codes[:, 2])], 1)  # linear in dim 1, monotone in dim 2
    attrs[::10, 0] = np.nan  # undefined values are dropped
    scores = disentanglement(codes, attrs, ["a", "b"], regularised={"a": 1})
    a, b = scores["a"], scores["b"]
    assert a["interpretability_dim"] == 1 and a["interpretability"] == pytest.approx(1.0)
    assert a["scc"] == pytest.approx(1.0) and a["scc_dim"] == 1 and a["samples"] == 360
    defined = np.isfinite(attrs[:, 0])
    mi = [_histogram_mi(codes[defined, j], attrs[defined, 0]) for j in range(4)]
    h = _histogram_mi(attrs[defined, 0], attrs[defined, 0])  # the entropy of the binned attribute
    assert mi[1] == pytest.approx(h, rel=1e-9)  # 3 z + 2 bins exactly like z
    assert a["mig"] == pytest.approx((h - max(mi[0], mi[2], mi[3])) / h, rel=1e-9)
    r2 = sorted(np.corrcoef(codes[defined].T, attrs[defined, 0])[-1, :4] ** 2)
    assert a["sap"] == pytest.approx(r2[-1] - r2[-2], rel=1e-9)
    assert b["scc_dim"] == 2 and b["scc"] == pytest.approx(1.0)  # monotone: Spearman 1
    assert b["interpretability"] < 1.0  # but not linear


def test_an_entangled_attribute_scores_low():
    rng = np.random.default_rng(1)
    codes = rng.standard_normal((500, 3))
    attrs = (codes[:, 0] + codes[:, 1] + codes[:, 2])[:, None]
    scores = disentanglement(codes, attrs, ["sum"])["sum"]
    assert scores["interpretability"] < 0.5 and scores["sap"] < 0.2 and scores["scc"] < 0.7


def test_controllability_of_monotone_and_flat_traversals():
    values = np.linspace(-1, 1, 7)
    up, down, flat = values**3, -values, np.ones(7)
    assert controllability(values, np.stack([up, up])) == pytest.approx(1.0)
    assert controllability(values, np.stack([up, down])) == pytest.approx(0.0)
    assert controllability(values, flat[None]) == 0.0
    with pytest.raises(ValueError, match="expected measured"):
        controllability(values, up[None, :5])


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="expected codes"):
        disentanglement(np.zeros((5, 2)), np.zeros((4, 1)), ["a"])
    with pytest.raises(ValueError, match="NaN"):
        disentanglement(np.full((5, 2), np.nan), np.zeros((5, 1)), ["a"])
    with pytest.raises(ValueError, match="fewer than 3"):
        disentanglement(np.zeros((5, 2)), np.full((5, 1), np.nan), ["a"])
    assert r2_linear(np.ones(4), np.arange(4.0)) == 0.0
