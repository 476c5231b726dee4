"""Latent evaluation: Dice per structure by hand, validity rates on drawn masks, and the report of a tiny model
against its parts computed independently."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echolatent.labels import Label
from echolatent.latent.codec import decode_latents, encode_masks
from echolatent.latent.evaluate import dice_per_structure, evaluate_model, validity_rate, wilson_interval
from echolatent.measure.validity import check_validity
from echolatent.models.shape import ShapeModel, ShapeModelConfig

torch.set_num_threads(1)


def test_dice_per_structure_by_hand():
    truth = np.zeros((2, 4, 4), np.uint8)
    truth[0, :2] = Label.LV  # 8 LV pixels
    truth[0, 3, :2] = Label.MYO  # 2 MYO pixels
    pred = truth.copy()
    pred[0, 1] = Label.LA  # 4 LV pixels lost to the LA
    dice = dice_per_structure(pred, truth)
    np.testing.assert_allclose(dice["lv"], [2 * 4 / (4 + 8), 1.0])  # frame 1: no LV in either -> 1
    np.testing.assert_allclose(dice["myo"], [1.0, 1.0])
    np.testing.assert_allclose(dice["la"], [0.0, 1.0])  # 4 predicted, none true
    with pytest.raises(ValueError, match="shapes differ"):
        dice_per_structure(pred, truth[:1])


def test_validity_rate_of_drawn_masks(hearts):
    good = hearts[check_validity(hearts).valid][:6]
    assert len(good) == 6
    broken = good[:4].copy()
    broken[:, 0, 0] = Label.LV  # an island: disconnected LV
    masks = np.concatenate([good, broken])
    rate = validity_rate(masks)
    assert rate["valid_fraction"] == 0.6 and rate["n"] == 10
    assert rate["failures"] == {"disconnected_lv": 4}
    assert rate["ci95"] == wilson_interval(6, 10)


def test_wilson_interval_matches_the_formula():
    n, k, z = 50, 30, 1.959963984540054
    p = k / n
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (
        1 + z * z / n)
    assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half), rel=1e-9)


def test_evaluate_model_reports_its_parts(hearts):
    torch.manual_seed(0)
    model = ShapeModel(ShapeModelConfig(kind="ar-vae", input_size=32, channels=(4, 8), bottleneck_channels=4,
                                        latent_dim=10)).eval()
    model.set_latent_range(-torch.ones(10) * 2, torch.ones(10) * 3)
    masks = hearts[:12]
    out = evaluate_model(model, masks, n_samples=6, n_pairs=5, n_traversals=3, seed=1)
    recon = decode_latents(model, encode_masks(model, masks), masks.shape[1:])
    dice = dice_per_structure(recon, masks)
    for name, values in dice.items():
        summary = out["reconstruction_dice"][name]
        assert summary == pytest.approx({"mean": values.mean(), "median": np.median(values), "min": values.min()})
    assert out["n_masks"] == 12 and out["mask_size"] == [32, 32]
    assert out["validity"]["expert_masks"]["valid_fraction"] == check_validity(masks).valid.mean()
    assert out["validity"]["reconstructions"]["valid_fraction"] == check_validity(recon).valid.mean()
    assert out["validity"]["prior_samples"]["n"] == 6
    assert out["mig_mean"] == pytest.approx(np.mean([s["mig"] for s in out["attributes"].values()]))
    assert out["sap_mean"] == pytest.approx(np.mean([s["sap"] for s in out["attributes"].values()]))
    for k, name in enumerate(model.config.attributes):
        assert out["attributes"][name]["scc_dim"] == k  # the regularised dim
        assert -1.0 <= out["attributes"][name]["controllability"] <= 1.0
    assert out["model"] == {"kind": "ar-vae", "input_size": 32, "latent_dim": 10,
                            "attributes": list(model.config.attributes)}
