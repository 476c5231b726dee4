"""Disentanglement metrics on constructed latent/attribute tables whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from echolatent.latent.metrics import _discretise, controllability, disentanglement, entropy, r2_linear

A = np.tile(np.arange(20.0), 2)  # 40 samples, 20 equally spaced values: one per bin
PERM = (7 * A) % 20  # a bijection of 0..19: as informative as A, nearly uncorrelated with it
HALF = -(A // 2)  # 10 values, a function of A, decreasing


def _r2(x, y):
    """Independent R^2: 1 - residual / total sum of squares of numpy's least-squares line."""
    fit = np.polyval(np.polyfit(x, y, 1), x)
    return 1 - ((y - fit) ** 2).sum() / ((y - y.mean()) ** 2).sum()


def _spearman(x, y):
    """Independent |Spearman rho|: Pearson correlation of average ranks."""
    return abs(np.corrcoef(rankdata(x), rankdata(y))[0, 1])


def test_discretise_puts_each_of_20_equally_spaced_values_in_its_own_bin():
    np.testing.assert_array_equal(_discretise(np.arange(20.0)), np.arange(20))
    np.testing.assert_array_equal(_discretise(np.array([0.0, 0.5, 1.0]), bins=2), [0, 1, 1])  # edge goes up
    np.testing.assert_array_equal(_discretise(np.full(5, 3.0)), np.full(5, 10))  # numpy's +-0.5 range


def test_discretise_matches_numpy_histogram_counts():
    x = np.random.default_rng(3).standard_normal(500)
    np.testing.assert_array_equal(np.bincount(_discretise(x), minlength=20), np.histogram(x, bins=20)[0])


def test_scores_on_a_constructed_table():
    codes = np.stack([PERM, HALF, np.full(40, 0.3)], 1)
    attrs = np.concatenate([A, [np.nan, np.nan]])[:, None]
    codes = np.concatenate([codes, [[5.0, 5.0, 5.0], [-9.0, 9.0, 0.0]]])  # rows dropped with the NaN attribute
    s = disentanglement(codes, attrs, ["a"])["a"]
    # MI: PERM and A determine each other (log 20); HALF is a 10-valued function of A (log 10); a constant 0
    assert entropy(_discretise(A)) == pytest.approx(np.log(20), rel=1e-12)
    assert s["mig"] == pytest.approx((np.log(20) - np.log(10)) / np.log(20), rel=1e-9)
    assert s["interpretability_dim"] == 0
    assert s["interpretability"] == pytest.approx(_r2(PERM, A), rel=1e-9)  # the best-MI dim, not the best R^2
    assert s["sap"] == pytest.approx(_r2(HALF, A) - _r2(PERM, A), rel=1e-9)
    assert s["scc_dim"] == 1 and s["scc"] == pytest.approx(_spearman(HALF, A), rel=1e-9)
    assert s["samples"] == 40
    assert 0.9 < _r2(HALF, A) < 1 and _r2(PERM, A) < 0.2  # the construction does what it says


def test_scc_uses_the_regularised_dim_even_when_another_is_better():
    codes = np.stack([PERM, HALF, np.full(40, 0.3)], 1)
    s = disentanglement(codes, A[:, None], ["a"], regularised={"a": 0, "other": 1})["a"]
    assert s["scc_dim"] == 0 and s["scc"] == pytest.approx(_spearman(PERM, A), rel=1e-9)
    constant = disentanglement(codes, A[:, None], ["a"], regularised={"a": 2})["a"]
    assert constant["scc_dim"] == 2 and constant["scc"] == 0.0


def test_one_dim_has_no_gap():
    s = disentanglement(HALF[:, None], A[:, None], ["a"])["a"]
    assert s["mig"] == 0.0
    assert s["sap"] == pytest.approx(_r2(HALF, A), rel=1e-9)


def test_each_attribute_is_scored_on_its_own_column_and_samples():
    rng = np.random.default_rng(4)
    codes = np.stack([rng.standard_normal(40), 2 * A + 1, PERM], 1)
    attrs = np.stack([A, -2 * PERM], 1)
    attrs[:5, 1] = np.nan
    scores = disentanglement(codes, attrs, ["a", "p"])
    assert scores["a"]["scc_dim"] == 1 and scores["a"]["interpretability"] == pytest.approx(1.0)
    assert scores["a"]["samples"] == 40 and scores["p"]["samples"] == 35
    assert scores["p"]["scc_dim"] == 2 and scores["p"]["scc"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 attribute columns but 1 names"):
        disentanglement(codes, attrs, ["a"])


def test_r2_linear_by_hand():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([0.0, 2.0, 1.0, 3.0])  # r = 0.8 by hand (cov 1.0 / sqrt(1.25 * 1.25))
    assert r2_linear(x, y) == pytest.approx(0.64, rel=1e-12)
    assert r2_linear(x, np.full(4, 2.0)) == 0.0


def test_controllability_drops_undefined_and_averages_rho():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    partial = np.array([1.0, np.nan, 3.0, 2.0, np.nan])  # ranks (1, 2, 3) vs (1, 3, 2): rho = 1 - 6*2/24 = 0.5
    too_few = np.array([1.0, np.nan, np.nan, 2.0, np.nan])  # 2 defined: counts as 0
    assert controllability(values, partial[None]) == pytest.approx(0.5)
    assert controllability(values, np.stack([partial, too_few])) == pytest.approx(0.25)
    assert controllability(values, np.stack([too_few, partial])) == pytest.approx(0.25)  # order does not matter
    assert controllability(values, -values[None]) == pytest.approx(-1.0)


def test_three_defined_samples_are_enough_two_are_not():
    codes = np.stack([np.arange(5.0), np.array([0.0, 2.0, 1.0, 4.0, 3.0])], 1)
    attrs = np.array([[0.0], [1.0], [2.0], [np.nan], [np.nan]])
    assert disentanglement(codes, attrs, ["a"])["a"]["samples"] == 3
    attrs[2] = np.nan
    with pytest.raises(ValueError, match="^attribute 'a' is defined on fewer than 3 samples$"):
        disentanglement(codes, attrs, ["a"])


def test_bad_shapes_and_values_are_named():
    with pytest.raises(ValueError, match="expected codes"):
        disentanglement(np.zeros(5), np.zeros((5, 1)), ["a"])  # 1-D codes, same length
    with pytest.raises(ValueError, match="expected codes"):
        disentanglement(np.zeros((5, 2)), np.zeros(5), ["a"])
    with pytest.raises(ValueError, match="^codes contain NaN or infinite values$"):
        disentanglement(np.full((5, 2), np.inf), np.zeros((5, 1)), ["a"])


def test_mig_of_a_binary_attribute_and_of_a_constant_one():
    binary = np.tile([0.0, 1.0], 20)  # entropy log 2 = 0.69 nats (< 1)
    codes = np.stack([binary * 3, np.full(40, 0.3)], 1)
    assert disentanglement(codes, binary[:, None], ["b"])["b"]["mig"] == pytest.approx(1.0)
    with np.errstate(all="ignore"), pytest.warns(Warning):
        constant = disentanglement(codes, np.ones((40, 1)), ["c"])["c"]
    assert constant["mig"] == 0.0  # no entropy: no gap


def test_sap_with_two_dims_is_their_gap():
    s = disentanglement(np.stack([HALF, PERM], 1), A[:, None], ["a"])["a"]
    assert s["sap"] == pytest.approx(_r2(HALF, A) - _r2(PERM, A), rel=1e-9)
