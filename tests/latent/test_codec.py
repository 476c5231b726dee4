"""Shape-model codec: batch by batch (resampling included) gives what one batch gives, up to the network's float
rounding; labels are the argmax of the probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echolatent.latent import codec


@pytest.fixture(scope="module")
def model(tiny_models):
    torch.set_num_threads(1)
    return codec.load_model(tiny_models["vae"])


@pytest.mark.parametrize("size", [None, (32, 32), (40, 24)])
def test_batches_give_the_single_batch_result(model, hearts, size, monkeypatch):
    masks = hearts[:7]
    z = codec.encode_masks(model, masks)
    labels = codec.decode_latents(model, z, size)
    probs = codec.decode_probs(model, z, size)
    monkeypatch.setattr(codec, "BATCH", 3)  # the network's batch changes float rounding only
    assert np.allclose(codec.encode_masks(model, masks), z, atol=1e-5)
    assert (codec.decode_latents(model, z, size) == labels).mean() >= 0.999
    assert np.allclose(codec.decode_probs(model, z, size), probs, atol=1e-5)
    assert np.array_equal(labels, probs.argmax(1))
    assert labels.dtype == np.uint8 and labels.shape == (7, *(size or (16, 16)))


def test_bad_codes_raise(model):
    with pytest.raises(ValueError, match="shape"):
        codec.decode_latents(model, np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        codec.decode_latents(model, np.full((2, 8), np.nan, np.float32))
