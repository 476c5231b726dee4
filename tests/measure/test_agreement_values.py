"""EF agreement by hand and by an independent bootstrap: limits (3 patients, an error of exactly 5 points, constant
EFs), patients on either side only, a tilted LV with unequal spacing against the ellipsoid's EF, skipped patients."""

from __future__ import annotations

import logging
import warnings

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
    # r: 2CH only; s: no 2CH ES; q: an empty 4CH ED; p: complete (last, after the patients left out)
    named = [("junk", ed), ("p_3CH_ED", ed), ("r_2CH_ED", ed), ("r_2CH_ES", es), ("s_2CH_ED", ed), ("s_4CH_ED", ed),
             ("s_4CH_ES", es), ("q_2CH_ED", ed), ("q_2CH_ES", es), ("q_4CH_ED", empty), ("q_4CH_ES", es),
             *zip(IDS, (ed, es, ed, es), strict=True)]
    ids, masks = [name for name, _ in named], np.stack([mask for _, mask in named])
    with caplog.at_level(logging.INFO, logger="echolatent.measure.agreement"):
        ef = biplane_ef_by_patient(masks, ids)
    assert list(ef) == ["p"]
    assert ef["p"] == pytest.approx(100 * (1 - 34 * 144 / (40 * 400)), abs=1.5)
    assert [r.getMessage() for r in caplog.records] == [
        "q: EF not measured (no LV in the mask (fewer than 3 LV pixels))"]
    with pytest.raises(ValueError, match="3 ids for 2 masks"):
        biplane_ef_by_patient(masks[:2], ids[:3])


def test_correlation_of_a_small_spread_and_silence_for_a_constant_ef():
    pred, ref = {"a": 50.0, "b": 50.5, "c": 51.0}, {"a": 50.0, "b": 51.0, "c": 50.5}  # SDs below 1 point
    result = ef_agreement(pred, ref, resamples=0)
    assert result["r"] == pytest.approx(0.5)  # deviations (-.5, 0, .5) and (-.5, .5, 0): 0.25 / 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no correlation computed (0 / 0) for a constant EF on either side
        flat = ef_agreement({"a": 50.0, "b": 50.0, "c": 50.0}, {"a": 40.0, "b": 50.0, "c": 60.0}, resamples=0)
        flat_ref = ef_agreement({"a": 40.0, "b": 50.0, "c": 60.0}, {"a": 50.0, "b": 50.0, "c": 50.0}, resamples=0)
    assert np.isnan(flat["r"]) and np.isnan(flat_ref["r"])


def test_one_resample_is_an_interval_of_one_draw():
    pred, ref = {"a": 52.0, "b": 54.0, "c": 41.0}, {"a": 50.0, "b": 60.0, "c": 40.0}
    result = ef_agreement(pred, ref, resamples=1, seed=3)
    assert set(result["ci95"]) == {"mae", "bias", "r", "within_5"}
    assert all(lo == hi for lo, hi in result["ci95"].values())


def test_default_bootstrap_is_2000_draws_seeded_0():
    rng = np.random.default_rng(4)
    ref = {f"p{i}": float(v) for i, v in enumerate(rng.uniform(30, 70, 8))}
    pred = {k: v + rng.normal(0.0, 6.0) for k, v in ref.items()}
    names = sorted(ref)
    error = np.array([pred[k] - ref[k] for k in names])
    draws = np.random.default_rng(0).integers(0, 8, (2000, 8))
    bias = np.percentile(error[draws].mean(1), [2.5, 97.5])
    np.testing.assert_allclose(ef_agreement(pred, ref)["ci95"]["bias"], bias, rtol=1e-12)
