"""Fixtures of the pipeline tests: tiny randomly initialised models on disk and a tiny synthetic dataset."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from echolatent.models.shape import ShapeModel, ShapeModelConfig, save_model
from echolatent.models.unet import UNetConfig, build_unet, save_unet


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """``{"model": U-Net file, "vae": AR-VAE file}``: random weights, 16 px inputs, latent range [-1, 1]."""
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    unet = UNetConfig(input_size=16, channels=(4, 8), strides=(2,), num_res_units=0)
    shape = ShapeModel(ShapeModelConfig(input_size=16, channels=(4,), bottleneck_channels=2, latent_dim=8,
                                        batch_size=2))
    shape.set_latent_range(-torch.ones(8), torch.ones(8))
    return {"model": save_unet(build_unet(unet), unet, folder / "unet.pt"),
            "vae": save_model(shape, folder / "vae.pt")}


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """A synthetic CAMUS-layout root: 1 patient, both views, 5 frames of 64 x 64 px, with truth.json."""
    from echolatent.synth import write_synthetic_dataset

    return write_synthetic_dataset(tmp_path_factory.mktemp("data") / "camus", patients=1, frames=5, size=64,
                                   previews=0)
