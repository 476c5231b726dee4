"""Segmentation scores against a brute force: surface distances from every edge pixel to every other (no KD-tree,
edges found by their 4-neighbours), Dice in float32 exactly, EPI as the LV + MYO union, empty structures by kind."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.labels import Label
from echolatent.measure.scores import STRUCTURES, segmentation_scores


def edges(region: np.ndarray) -> np.ndarray:
    """``(N, 2)`` (row, col) of the region's pixels with a 4-neighbour outside it (outside the image counts)."""
    padded = np.pad(region, 1)
    inside = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return np.argwhere(region & ~inside).astype(np.float64)


def brute_force(pred: np.ndarray, truth: np.ndarray, spacing) -> tuple[float, float]:
    a, b = edges(pred) * spacing, edges(truth) * spacing
    distances = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    to_b, to_a = distances.min(1), distances.min(0)
    return max(to_b.max(), to_a.max()), np.concatenate([to_b, to_a]).mean()


def blobs(rng, shape=(2, 30, 34)) -> np.ndarray:
    labels = rng.integers(0, 4, shape).astype(np.uint8)
    for _ in range(2):  # a majority vote over 3 x 3 turns noise into blobs
        votes = np.stack([sum(np.roll(np.roll(labels == k, dy, 1), dx, 2) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
                          for k in range(4)])
        labels = votes.argmax(0).astype(np.uint8)
    return labels


@pytest.mark.parametrize("spacing", [(1.0, 1.0), (0.4, 0.7), (2.0, 0.5)])
def test_distances_equal_a_brute_force_with_unequal_spacing(spacing):
    rng = np.random.default_rng(5)
    pred, truth = blobs(rng), blobs(rng)
    pred[:, 0, 0], truth[:, -1, -1] = Label.LA, Label.LV  # pieces touching the image border
    scores = segmentation_scores(pred, truth, spacing)
    for name, labels in STRUCTURES.items():
        for t in range(len(pred)):
            p, g = np.isin(pred[t], labels), np.isin(truth[t], labels)
            hd, assd = brute_force(p, g, np.array(spacing))
            assert scores[name]["hd_mm"][t] == float(np.float32(hd)), (name, t)  # float32 distances
            assert scores[name]["assd_mm"][t] == pytest.approx(assd, rel=1e-6), (name, t)


def test_dice_is_float32_exactly():
    truth = np.zeros((1, 9, 9), np.uint8)
    pred = truth.copy()
    truth[0, 1, 1:3] = Label.LV  # 2 pixels
    pred[0, 1, 2:3] = Label.LV  # 1 pixel, shared: Dice 2 / 3
    pred[0, 5:8, 5:8] = Label.MYO  # 9 pixels
    truth[0, 5:8, 5:7] = Label.MYO  # 6 pixels, shared: Dice 12 / 15
    scores = segmentation_scores(pred, truth)
    assert scores["LV"]["dice"][0] == float(np.float32(2) / np.float32(3)) != 2 / 3
    assert scores["MYO"]["dice"][0] == float(np.float32(12) / np.float32(15))
    # EPI is the union: 1 + 9 = 10 predicted, 2 + 6 = 8 true, 1 + 6 = 7 shared
    assert scores["EPI"]["dice"][0] == float(np.float32(14) / np.float32(18))
    assert scores["LA"]["dice"][0] == 1.0 and scores["LA"]["hd_mm"][0] == 0.0 and scores["LA"]["assd_mm"][0] == 0.0


@pytest.mark.parametrize("empty", ["pred", "truth"])
def test_one_empty_structure_scores_zero_and_undefined_distances(empty):
    full = np.zeros((2, 12, 12), np.uint8)
    full[:, 2:6, 2:6] = Label.LV
    full[:, 6:9, 2:6] = Label.LA
    missing = full.copy()
    missing[1][missing[1] == Label.LA] = 0
    pred, truth = (missing, full) if empty == "pred" else (full, missing)
    scores = segmentation_scores(pred, truth, (0.5, 0.5))
    assert scores["LA"]["dice"].tolist() == [1.0, 0.0]
    assert scores["LA"]["hd_mm"][0] == 0.0 and np.isnan(scores["LA"]["hd_mm"][1])
    assert scores["LA"]["assd_mm"][0] == 0.0 and np.isnan(scores["LA"]["assd_mm"][1])
    assert scores["LV"]["dice"].tolist() == [1.0, 1.0] and scores["MYO"]["dice"].tolist() == [1.0, 1.0]
    assert scores["MYO"]["hd_mm"].tolist() == [0.0, 0.0] and scores["MYO"]["assd_mm"].tolist() == [0.0, 0.0]
    assert set(scores) == {"LV", "MYO", "EPI", "LA"} and set(scores["LV"]) == {"dice", "hd_mm", "assd_mm"}


def test_an_empty_structure_leaves_the_next_ones_scored():
    truth = np.zeros((1, 12, 12), np.uint8)
    truth[0, 2:6, 2:6] = Label.LV
    truth[0, 6:9, 2:6] = Label.MYO
    truth[0, 9:11, 2:6] = Label.LA
    pred = np.where(truth == Label.LV, 0, truth).astype(np.uint8)  # no LV predicted
    scores = segmentation_scores(pred, truth)
    assert scores["LV"]["dice"][0] == 0.0 and np.isnan(scores["LV"]["hd_mm"][0])
    assert scores["MYO"]["dice"][0] == 1.0 and scores["LA"]["dice"][0] == 1.0 and scores["LA"]["hd_mm"][0] == 0.0
    assert scores["EPI"]["dice"][0] == pytest.approx(2 * 12 / (12 + 28))


def test_a_frame_empty_in_both_scores_as_nothing_to_find():
    """A frame with no label in either mask (a blank frame between two segmented ones): every structure Dice 1,
    distances 0, and the frames beside it scored as alone."""
    truth = np.zeros((3, 12, 12), np.uint8)
    truth[[0, 2], 2:6, 2:6] = Label.LV
    pred = truth.copy()
    pred[2, 2:6, 6] = Label.LV  # one column more on the last frame
    scores = segmentation_scores(pred, truth)
    for name in STRUCTURES:
        assert scores[name]["dice"][1] == 1.0 and scores[name]["hd_mm"][1] == 0.0 and scores[name]["assd_mm"][1] == 0.0
    assert scores["LV"]["dice"][0] == 1.0 and scores["LV"]["dice"][2] == float(np.float32(32) / np.float32(36))
    assert scores["LV"]["hd_mm"][2] == 1.0


@pytest.mark.parametrize("bad", ["prediction", "ground truth"])
def test_bad_labels_name_the_array(bad):
    good, wrong = np.zeros((1, 4, 4), np.uint8), np.full((1, 4, 4), 7, np.uint8)
    pred, truth = (wrong, good) if bad == "prediction" else (good, wrong)
    with pytest.raises(InputError) as error:
        segmentation_scores(pred, truth)
    assert str(error.value) == f"{bad}: labels {{7}} outside 0..3"
