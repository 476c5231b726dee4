"""The U-Net wrapper: config checks, input normalisation, one-file save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echolatent.errors import InputError
from echolatent.models.unet import UNetConfig, build_unet, load_unet, normalise_frames, save_unet, save_unet_ensemble
from echolatent.resample import resize_probs
from echolatent.segment import load_segmenter

from .conftest import TINY


def test_normalise_frames_zero_mean_unit_std_and_gain_invariant():
    frames = torch.rand(3, 20, 24) * 200 + 10
    norm = normalise_frames(frames)
    assert norm.shape == (3, 1, 20, 24)
    assert torch.allclose(norm.mean(dim=(1, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(norm.std(dim=(1, 2, 3)), torch.ones(3), atol=1e-4)
    assert torch.allclose(normalise_frames(frames * 0.25 + 3.0), norm, atol=1e-4)


def test_normalise_constant_frame_is_zero():
    assert torch.equal(normalise_frames(torch.full((1, 8, 8), 7.0)), torch.zeros(1, 1, 8, 8))


@pytest.mark.parametrize("shape", [(8, 8), (2, 2, 8, 8), (2, 3, 8, 8, 1)])
def test_normalise_rejects_wrong_shape(shape):
    with pytest.raises(ValueError, match="expected frames"):
        normalise_frames(torch.zeros(shape))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strides": (2, 2)}, "len\\(strides\\)"),
        ({"input_size": 100}, "multiple of 16"),
        ({"normalisation": "minmax"}, "unknown normalisation"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        UNetConfig(**kwargs)


def test_save_load_roundtrip_gives_identical_outputs(tmp_path):
    torch.manual_seed(1)
    model = build_unet(TINY).eval()
    path = save_unet(model, TINY, tmp_path / "m.pt", {"data": "unit test"})
    loaded, config, meta = load_unet(path)
    assert config == TINY
    assert meta == {"data": "unit test"}
    x = torch.randn(2, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model(x), loaded(x))
    assert not loaded.training


def test_load_unet_bad_files(tmp_path):
    with pytest.raises(InputError, match="model file not found"):
        load_unet(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="cannot read model file"):
        load_unet(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": np.zeros(3).tolist()}, foreign)
    with pytest.raises(InputError, match="not an echolatent U-Net file"):
        load_unet(foreign)


def test_an_ensemble_file_averages_its_members_probabilities(tmp_path):
    """Two networks of different input sizes in one file: the segmenter's probabilities are their mean."""
    torch.manual_seed(0)
    small, large = UNetConfig(input_size=32), UNetConfig(input_size=48)
    nets = [(build_unet(small).eval(), small), (build_unet(large).eval(), large)]
    path = save_unet_ensemble(nets, tmp_path / "ens.pt", {"name": "two"})
    for net, config in nets:
        save_unet_ensemble([(net, config)], tmp_path / f"one{config.input_size}.pt")
    frames = np.random.default_rng(0).integers(0, 255, (3, 40, 44)).astype(np.uint8)
    ensemble = load_segmenter(path)
    assert ensemble.config.input_size == 48 and len(ensemble.members) == 1  # the larger grid is the main one
    p_small = load_segmenter(tmp_path / "one32.pt").probabilities(frames)
    p_large = load_segmenter(tmp_path / "one48.pt").probabilities(frames)
    expected = (p_large + resize_probs(p_small, (48, 48))) / 2
    assert torch.allclose(ensemble.probabilities(frames), expected, atol=1e-6)
    assert not torch.allclose(p_large, expected, atol=1e-3)
