"""The corruption model: errors grow with severity, inputs untouched, reproducible, bad input refused."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.io.volume import read_image
from echolatent.labels import View
from echolatent.synth.corrupt import corrupt_dataset, corrupt_sequence, severity_value
from echolatent.synth.dataset import write_synthetic_dataset
from echolatent.synth.patient import synthesize_patient


@pytest.fixture(scope="module")
def masks():
    patient = synthesize_patient(1, frames=8, size=96, seed=0, images=False)
    return np.concatenate([patient.views[View.A4C].masks, patient.views[View.A2C].masks])


def _dice(a, b):
    scores = []
    for label in (1, 2, 3):
        x, y = a == label, b == label
        total = x.sum() + y.sum()
        scores.append(2 * (x & y).sum() / total if total else 1.0)
    return float(np.mean(scores))


def _mean_dice(masks, severity, seed=0):
    out = corrupt_sequence(masks, severity, np.random.default_rng(seed))
    return np.array([_dice(c, m) for c, m in zip(out, masks, strict=True)])


def test_severity_monotone(masks):
    means = [np.mean([_mean_dice(masks, s, seed).mean() for seed in range(2)]) for s in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert means[0] == 1.0
    assert all(a > b for a, b in zip(means, means[1:], strict=False)), means


def test_low_mild_high_broken(masks):
    low = _mean_dice(masks, "low")
    high = _mean_dice(masks, "high")
    assert np.mean(low > 0.93) >= 0.8
    assert high.mean() < 0.9 and high.mean() < low.mean() - 0.05


def test_input_unchanged_and_reproducible(masks):
    before = masks.copy()
    a = corrupt_sequence(masks, "medium", np.random.default_rng(3))
    b = corrupt_sequence(masks, "medium", np.random.default_rng(3))
    np.testing.assert_array_equal(masks, before)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.uint8 and a.shape == masks.shape and set(np.unique(a)) <= {0, 1, 2, 3}
    assert not np.array_equal(a, masks)


def test_errors_differ_between_frames(masks):
    still = np.repeat(masks[:1], 4, axis=0)
    out = corrupt_sequence(still, "high", np.random.default_rng(0))
    assert not np.array_equal(out[0], out[1])


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.full((2, 8, 8), 5), np.full((2, 8, 8), np.nan)])
def test_bad_masks(bad):
    with pytest.raises(InputError):
        corrupt_sequence(bad, 0.5, np.random.default_rng(0))


@pytest.mark.parametrize("bad", [-0.1, 1.5, "extreme", float("nan")])
def test_bad_severity(bad):
    with pytest.raises(ValueError, match="severity"):
        severity_value(bad)


def test_corrupt_dataset(tmp_path):
    root = write_synthetic_dataset(tmp_path / "data", patients=1, frames=3, size=48, seed=1, previews=0)
    first = corrupt_dataset(root, tmp_path / "a", "high", seed=2)
    second = corrupt_dataset(root, tmp_path / "b", "high", seed=2)
    names = sorted(p.name for p in first)
    assert "patient0001_4CH_half_sequence_pred.nii.gz" in names and len(names) == 6
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    pred, geometry = read_image(tmp_path / "a" / "patient0001" / "patient0001_2CH_half_sequence_pred.nii.gz")
    gt, gt_geometry = read_image(root / "database_nifti" / "patient0001" / "patient0001_2CH_half_sequence_gt.nii.gz")
    assert pred.shape == gt.shape and geometry.spacing == gt_geometry.spacing


def test_corrupt_dataset_without_masks(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError):
        corrupt_dataset(tmp_path / "empty", tmp_path / "out", "low")
