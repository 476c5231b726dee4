"""EF agreement by hand and by an independent bootstrap: limits (3 patients, an error of exactly 5 points, constant
EFs), patients on either side only, a tilted LV with unequal spacing against the ellipsoid's EF, skipped patients."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from measure_helpers import ellipse

from echolatent.measure.agreement import biplane_ef_by_patient, ef_agreement

IDS = ["p_2CH_ED", "p_2CH_ES", "p_4CH_ED", "p_4CH_ES"]


def test_three_patients_are_enough_and_an_error_of_five_points_is_within():
    result = ef_agreement({"a": 55.0, "b": 40.0, "c": 30.0}, {"a": 50.0, "b": 40.0, "c": 36.0}, resamples=0)
    # errors +5, 0, -6: within 5 points: a and b
    assert result["n"] == 3 and result["skipped"] == 0
    assert result["mae"] == pytest.approx(11 / 3) and result["bias"] == pytest.approx(-1 / 3)
    assert result["within_5"] == pytest.approx(2 / 3)
    p, r = np.array([55.0, 40.0, 30.0]), np.array([50.0, 40.0, 36.0])
    expected_r = np.sum((p - p.mean()) * (r - r.mean())) / np.sqrt(np.sum((p - p.mean()) ** 2) * np.sum((r - 42) ** 2))
    assert r.mean() == 42 and result["r"] == pytest.approx(expected_r)
    assert result["ci95"] == {}


def test_patients_on_one_side_only_are_skipped_from_both_sides():
    pred = {"a": 50.0, "b": 60.0, "c": 40.0, "only_pred": 10.0}
    ref = {"a": 50.0, "b": 60.0, "c": 41.0, "only_ref": 20.0, "also_ref": 30.0}
    result = ef_agreement(pred, ref, resamples=0)
    assert result["n"] == 3 and result["skipped"] == 3
    assert result["mae"] == pytest.approx(1 / 3) and result["within_5"] == 1.0
    two = ef_agreement({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 2.0, "c": 3.0})
    assert two == {"n": 2, "skipped": 1, "mae": None, "bias": None, "r": None, "within_5": None, "ci95": {}}


def test_no_correlation_for_a_constant_ef():
    flat_pred = ef_agreement({"a": 50.0, "b": 50.0, "c": 50.0}, {"a": 40.0, "b": 50.0, "c": 60.0}, resamples=0)
    flat_ref = ef_agreement({"a": 40.0, "b": 50.0, "c": 60.0}, {"a": 50.0, "b": 50.0, "c": 50.0}, resamples=0)
    assert np.isnan(flat_pred["r"]) and np.isnan(flat_ref["r"])
    assert flat_pred["mae"] == pytest.approx(20 / 3) and flat_pred["bias"] == 0.0


def test_bootstrap_is_the_percentile_interval_of_resampled_patients():
    rng = np.random.default_rng(2)
    ref = {f"p{i}": float(v) for i, v in enumerate(rng.uniform(30, 70, 12))}
    pred = {k: v + rng.normal(1.0, 4.0) for k, v in ref.items()}
    result = ef_agreement(pred, ref, resamples=500, seed=9)
    names = sorted(ref)
    p, r = np.array([pred[k] for k in names]), np.array([ref[k] for k in names])
    draws = np.random.default_rng(9).integers(0, 12, (500, 12))  # patients drawn with replacement, seeded
    boot = {"mae": [], "bias": [], "r": [], "within_5": []}
    for d in draws:
        error = p[d] - r[d]
        boot["mae"].append(np.abs(error).mean())
        boot["bias"].append(error.mean())
        boot["r"].append(np.corrcoef(p[d], r[d])[0, 1])
        boot["within_5"].append((np.abs(error) <= 5).mean())
    assert set(result["ci95"]) == set(boot)
    for name, values in boot.items():
        np.testing.assert_allclose(result["ci95"][name], np.percentile(values, [2.5, 97.5]), rtol=1e-12)
    assert result["ci95"] != ef_agreement(pred, ref, resamples=500, seed=10)["ci95"]


def tilted_lv(long: float, short: float, spacing: tuple[float, float]) -> np.ndarray:
    """``(140, 280)`` labels: an LV ellipse of semi-axes ``long`` x ``short`` mm tilted by 30 degrees, drawn in mm."""
    mask = np.zeros((140, 280), np.uint8)
    mask[ellipse(mask.shape, (70.0, 70.0), (long, short), 30.0, spacing)] = 1
    return mask


def test_biplane_ef_of_a_tilted_lv_with_unequal_spacing_is_the_ellipsoids():
    # prolate ellipsoids 40 x 20 x 20 mm (ED) and 34 x 12 x 12 mm (ES) in both views: EF = 1 - 34 * 144 / (40 * 400)
    spacing = (1.0, 0.5)
    ed, es = tilted_lv(40, 20, spacing), tilted_lv(34, 12, spacing)
    ef = biplane_ef_by_patient(np.stack([ed, es, ed, es]), IDS, spacing)
    assert ef["p"] == pytest.approx(100 * (1 - 34 * 144 / (40 * 400)), abs=1.5)


def test_unparsed_ids_are_ignored_and_unmeasurable_patients_are_logged(caplog):
    ed, es = tilted_lv(40, 20, (1.0, 1.0)), tilted_lv(34, 12, (1.0, 1.0))
    empty = np.zeros_like(ed)
    masks = np.stack([ed, ed, ed, es, ed, es, ed, es, empty, es, ed, es])
    ids = ["junk", "p_3CH_ED", *IDS, *(name.replace("p_", "q_") for name in IDS), "r_2CH_ED", "r_2CH_ES"]
    with caplog.at_level(logging.INFO, logger="echolatent.measure.agreement"):
        ef = biplane_ef_by_patient(masks, ids)
    assert list(ef) == ["p"]  # q has an empty 4CH ED, r no 4CH
    assert ef["p"] == pytest.approx(100 * (1 - 34 * 144 / (40 * 400)), abs=1.5)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["q: EF not measured"]
    with pytest.raises(ValueError, match="3 ids for 2 masks"):
        biplane_ef_by_patient(masks[:2], ids[:3])
