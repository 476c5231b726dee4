"""EF agreement: hand-computed errors on constructed EF tables; biplane EF per patient from ellipse masks."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import ellipse

from echolatent.measure.agreement import biplane_ef_by_patient, ef_agreement


def test_errors_match_a_hand_computed_table():
    ref = {"a": 50.0, "b": 60.0, "c": 40.0, "d": 30.0}
    pred = {"a": 52.0, "b": 54.0, "c": 41.0, "d": 30.0, "e": 99.0}  # e has no reference: skipped
    result = ef_agreement(pred, ref, resamples=0)
    # errors +2, -6, +1, 0
    assert result["n"] == 4 and result["skipped"] == 1
    assert result["mae"] == pytest.approx(9 / 4)
    assert result["bias"] == pytest.approx(-3 / 4)
    assert result["within_5"] == pytest.approx(3 / 4)
    p, r = np.array([52, 54, 41, 30.0]), np.array([50, 60, 40, 30.0])
    dp, dr = p - p.mean(), r - r.mean()
    expected_r = np.sum(dp * dr) / np.sqrt(np.sum(dp**2) * np.sum(dr**2))
    assert result["r"] == pytest.approx(expected_r)
    assert result["ci95"] == {}


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded():
    rng = np.random.default_rng(1)
    ref = {str(i): float(v) for i, v in enumerate(rng.uniform(30, 70, 40))}
    pred = {k: v + 3.0 + rng.normal(0, 2) for k, v in ref.items()}
    first, again = ef_agreement(pred, ref, resamples=300, seed=4), ef_agreement(pred, ref, resamples=300, seed=4)
    assert first == again
    lo, hi = first["ci95"]["bias"]
    assert lo < first["bias"] < hi and 2.0 < first["bias"] < 4.0


def test_too_few_patients_gives_no_numbers():
    result = ef_agreement({"a": 50.0, "b": 40.0}, {"a": 55.0, "b": 40.0})
    assert result["n"] == 2 and result["mae"] is None and result["r"] is None


def _lv(height: float, width: float, size: int = 96) -> np.ndarray:
    """A mask with an LV ellipse (label 1) of semi-axes ``height`` (rows) and ``width`` (cols)."""
    mask = np.zeros((size, size), np.uint8)
    mask[ellipse(size / 2, size / 2, height, width, (size, size))] = 1
    return mask


def test_biplane_ef_shrinks_with_the_es_cavity_and_needs_all_four_masks():
    ed, es = _lv(30, 15), _lv(26, 10)
    masks = np.stack([ed, es, ed, es, ed])
    ids = ["p1_2CH_ED", "p1_2CH_ES", "p1_4CH_ED", "p1_4CH_ES", "p2_4CH_ED"]  # p2 is incomplete
    ef = biplane_ef_by_patient(masks, ids)
    assert set(ef) == {"p1"}
    # prolate ellipsoids: V ~ L * D^2, so EF ~ 1 - (26 * 10^2) / (30 * 15^2)
    assert ef["p1"] == pytest.approx(100 * (1 - 26 * 100 / (30 * 225)), abs=3.0)


def test_ids_must_match_masks():
    with pytest.raises(ValueError, match="ids"):
        biplane_ef_by_patient(np.zeros((2, 8, 8), np.uint8), ["p_2CH_ED"])
