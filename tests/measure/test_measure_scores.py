"""Segmentation scores: agreement with MONAI, known distances, explicit empty-structure values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.metrics import compute_average_surface_distance, compute_dice, compute_hausdorff_distance
from scipy import ndimage

from echolatent.measure.scores import STRUCTURES, segmentation_scores


def _blobby(rng, shape=(3, 40, 48)):
    """Random smooth label maps where every structure is present."""
    noise = ndimage.gaussian_filter(rng.random((shape[0], 4, *shape[1:])), sigma=(0, 0, 3, 3))
    labels = noise.argmax(1).astype(np.uint8)
    labels[:, :2, :2] = [[0, 1], [2, 3]]
    return labels


def test_scores_agree_with_monai_on_random_masks():
    rng = np.random.default_rng(3)
    pred, truth = _blobby(rng), _blobby(rng)
    spacing = (0.4, 0.7)
    scores = segmentation_scores(pred, truth, spacing)
    assert list(scores) == list(STRUCTURES)  # every structure scored, in order
    for name, labels in STRUCTURES.items():
        p = torch.from_numpy(np.isin(pred, labels)[:, None].astype(np.float32))
        t = torch.from_numpy(np.isin(truth, labels)[:, None].astype(np.float32))
        np.testing.assert_allclose(scores[name]["dice"], compute_dice(p, t).numpy()[:, 0], rtol=1e-6)
        hd = compute_hausdorff_distance(p, t, include_background=True, spacing=spacing).numpy()[:, 0]
        np.testing.assert_allclose(scores[name]["hd_mm"], hd, rtol=1e-6)
        assd = compute_average_surface_distance(p, t, include_background=True, symmetric=True, spacing=spacing)
        np.testing.assert_allclose(scores[name]["assd_mm"], assd.numpy()[:, 0], rtol=1e-6)
        inter = (np.isin(pred, labels) & np.isin(truth, labels)).sum((1, 2))
        sizes = np.isin(pred, labels).sum((1, 2)) + np.isin(truth, labels).sum((1, 2))
        np.testing.assert_allclose(scores[name]["dice"], 2 * inter / sizes, rtol=1e-6)


def test_identical_masks_score_one_and_zero():
    truth = _blobby(np.random.default_rng(0))
    scores = segmentation_scores(truth, truth, (0.3, 0.3))
    for values in scores.values():
        np.testing.assert_array_equal(values["dice"], 1.0)
        np.testing.assert_array_equal(values["hd_mm"], 0.0)
        np.testing.assert_array_equal(values["assd_mm"], 0.0)


def test_shifted_square_has_known_hausdorff_in_mm():
    truth = np.zeros((1, 40, 40), np.uint8)
    truth[0, 10:20, 10:20] = 1
    pred = np.roll(truth, 3, axis=1)
    scores = segmentation_scores(pred, truth, (0.5, 2.0))
    assert scores["LV"]["hd_mm"][0] == pytest.approx(1.5)
    assert scores["LV"]["dice"][0] == pytest.approx(0.7)


def test_empty_structures_have_documented_values():
    truth = np.zeros((2, 20, 20), np.uint8)
    truth[:, 5:10, 5:10] = 1
    pred = truth.copy()
    pred[1] = 0
    scores = segmentation_scores(pred, truth)
    assert scores["LA"]["dice"][0] == 1 and scores["LA"]["hd_mm"][0] == 0  # both empty
    assert scores["LV"]["dice"][1] == 0 and np.isnan(scores["LV"]["hd_mm"][1])  # one empty
    assert np.isnan(scores["LV"]["assd_mm"][1])


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="same shape"):
        segmentation_scores(np.zeros((1, 4, 4), np.uint8), np.zeros((1, 4, 5), np.uint8))
