"""The exact method's margin below the published taus, checked at the output's own resolution, and its
behaviour on a sequence that is already smooth and valid (the shipped shape model on synthetic hearts)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echolatent.measure.sequence import temporal_check
from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import check_validity
from echolatent.synth.corrupt_drift import corrupt_drift
from echolatent.synth.patient import synthesize_patient
from echolatent.temporal.checks import TARGET, margin_used, thresholds_at, with_margin
from echolatent.temporal.smooth import Smoother


@pytest.fixture(scope="module")
def smoother() -> Smoother:
    torch.set_num_threads(1)
    return Smoother(None, "exact")


@pytest.fixture(scope="module")
def hearts() -> list[np.ndarray]:
    """Both views of a synthetic patient, 12 frames ED -> ES at 96 x 96 (the shipped model's grid), whose truth
    deviates by less than ``keep_below`` tau there (patient 1 did before the generator tied long-axis shortening to
    EF: 0.57 tau now)."""
    patient = synthesize_patient(2, frames=12, size=96, seed=0, images=False)
    return [view.masks for view in patient.views.values()]


def test_bounds_carried_to_a_finer_grid_give_the_same_deviation(hearts):
    masks = hearts[0]
    thresholds = TemporalThresholds.from_reference([masks])
    fine = np.repeat(np.repeat(masks, 2, axis=1), 2, axis=2)  # each pixel becomes 2 x 2: areas x4, centres 2x + 0.5
    coarse = temporal_check(masks, None, thresholds)
    carried = temporal_check(fine, None, thresholds_at(thresholds, fine.shape[1:]))
    for name in ("lv_area", "myo_area", "la_area", "epi_center_x", "epi_center_y", "lv_orientation"):
        np.testing.assert_allclose(carried.d[name], coarse.d[name], atol=1e-9, err_msg=name)
    assert thresholds_at(thresholds, masks.shape[1:]) is thresholds
    assert with_margin(thresholds, 0.5).tau["lv_area"] == pytest.approx(0.5 * thresholds.tau["lv_area"])


@pytest.mark.parametrize("seed", range(4))
def test_margin_holds_on_random_sequences(smoother, hearts, seed):
    """Random drift corruption of random severity: the output is valid and every attribute stays below TARGET
    times its tau, measured again here at the output's own resolution with the published taus."""
    rng = np.random.default_rng(seed)
    masks = hearts[seed % 2][rng.integers(0, 3) :]
    corrupted = corrupt_drift(masks, float(rng.uniform(0.1, 0.9)), rng)
    result = smoother(corrupted)
    assert result.report.residual() == [], result.report.residual()
    own = temporal_check(result.masks, None, thresholds_at(smoother.thresholds, result.masks.shape[1:]))
    margin = margin_used(own, smoother.thresholds.tau)
    assert margin <= TARGET * (1 + 1e-9)
    assert result.report.margin == pytest.approx(margin)
    assert check_validity(result.masks).valid.all()


def test_smooth_valid_sequence_comes_out_unchanged(smoother, hearts):
    for masks in hearts:
        assert check_validity(masks).valid.all()
        result = smoother(masks)
        np.testing.assert_array_equal(result.masks, masks)
        assert result.report.decoded == "unchanged" and result.report.margin < smoother.keep_below


def test_estimate_of_a_smooth_sequence_stays_on_it(hearts):
    """Without the shortcut, the estimator itself moves almost no pixel of a smooth, valid sequence."""
    result = Smoother(None, "exact", keep_below=0.0)(hearts[0])
    assert result.report.decoded == "residual"
    assert (result.masks != hearts[0]).mean() < 1e-3
