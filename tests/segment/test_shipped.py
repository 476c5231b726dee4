"""The shipped U-Net: small, loadable with torch alone, and accurate on real CAMUS frames it never saw."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echolatent.labels import Label
from echolatent.segment import DEFAULT_WEIGHTS, load_segmenter, segment_frames

EPI = (Label.LV, Label.MYO)


def test_shipped_file_is_small_and_plain():
    assert DEFAULT_WEIGHTS.is_file()
    assert DEFAULT_WEIGHTS.stat().st_size <= 20 * 2**20
    payload = torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=True)
    assert payload["format"] == "echolatent-unet"
    assert {"input_size", "channels", "normalisation"} <= set(payload["config"])


def _dice(pred: np.ndarray, truth: np.ndarray) -> float:
    return 2 * np.logical_and(pred, truth).sum() / max(pred.sum() + truth.sum(), 1)


@pytest.mark.camus
def test_shipped_unet_on_validation_frames(camus224):
    from echolatent.io.camus import find_sequences, load_sequence, read_split

    patients = read_split(camus224, "validation")[:2]
    refs = find_sequences(camus224, kinds=("ED", "ES"), patients=patients, require_image=True)
    sequences = [load_sequence(ref) for ref in refs]
    images = np.concatenate([s.image for s in sequences])
    truth = np.concatenate([s.mask for s in sequences])
    pred, _ = segment_frames(load_segmenter(), images)
    lv = np.mean([_dice(p == Label.LV, t == Label.LV) for p, t in zip(pred, truth, strict=True)])
    epi = np.mean([_dice(np.isin(p, EPI), np.isin(t, EPI)) for p, t in zip(pred, truth, strict=True)])
    assert len(images) == 8
    assert lv > 0.88 and epi > 0.9
