"""The second corruption model: slow structure-wise drift, elastic noise, wrong frames, MYO/LA swaps."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.labels import Label
from echolatent.synth.corrupt_drift import corrupt_drift, drift_offsets, labels_from_distances, signed_distances
from echolatent.synth.patient import synthesize_patient


@pytest.fixture(scope="module")
def sequence() -> np.ndarray:
    """One view of a synthetic patient, 12 frames at 64 x 64."""
    patient = synthesize_patient(1, frames=12, size=64, seed=0, images=False)
    return next(iter(patient.views.values())).masks


def test_signed_distances_give_the_labels_back(sequence):
    frame = sequence[0]
    np.testing.assert_array_equal(labels_from_distances(signed_distances(frame)), frame)


def test_same_seed_same_output_and_input_untouched(sequence):
    before = sequence.copy()
    first = corrupt_drift(sequence, "medium", np.random.default_rng(3))
    second = corrupt_drift(sequence, "medium", np.random.default_rng(3))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(sequence, before)
    assert first.shape == sequence.shape and first.dtype == np.uint8 and first.max() <= Label.LA


def test_damage_grows_with_severity(sequence):
    np.testing.assert_array_equal(corrupt_drift(sequence, 0.0, np.random.default_rng(0)), sequence)
    changed = []
    for severity in ("low", "medium", "high"):
        out = [corrupt_drift(sequence, severity, np.random.default_rng(seed)) for seed in range(3)]
        changed.append(np.mean([(o != sequence).mean() for o in out]))
    assert 0 < changed[0] < changed[1] < changed[2]


def test_drift_is_slow():
    """Boundary offsets wander over a few frames: neighbouring frames' offsets are strongly correlated."""
    offsets = drift_offsets(400, 2.0, np.random.default_rng(0))
    assert offsets.shape == (400, 3)
    np.testing.assert_allclose(offsets.std(), 2.0, rtol=1e-6)
    lag1 = [np.corrcoef(offsets[:-1, k], offsets[1:, k])[0, 1] for k in range(3)]
    lag8 = [np.corrcoef(offsets[:-8, k], offsets[8:, k])[0, 1] for k in range(3)]
    assert min(lag1) > 0.8 and max(np.abs(lag8)) < 0.3  # exp(-1 / (4 sigma^2)) = 0.89 at 1.5 frames
