"""Shared fixtures: tiny synthetic hearts, tiny random models and datasets, the optional real CAMUS-224 data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from echolatent.models.shape import ShapeModel, ShapeModelConfig, save_model
from echolatent.models.unet import UNetConfig, build_unet, save_unet

CAMUS224 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "camus224"


@pytest.fixture(scope="session")
def camus224() -> Path:
    """Root of ../shared/data/camus224; skips the test when it is absent (a user's fresh clone)."""
    if not (CAMUS224 / "database_nifti").is_dir():
        pytest.skip("../shared/data/camus224 is not available")
    return CAMUS224


def make_hearts(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """``(n, size, size)`` uint8 masks: LV ellipse in a MYO ring, LA disc below, random sizes and shifts."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size].astype(float)
    masks = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        ry, rx = rng.uniform(0.18, 0.28) * size, rng.uniform(0.09, 0.14) * size
        wall, la = rng.uniform(0.05, 0.08) * size, rng.uniform(0.08, 0.12) * size
        cy, cx = 0.38 * size, size / 2 + rng.uniform(-0.06, 0.06) * size
        epi = ((yy - cy) / (ry + wall)) ** 2 + ((xx - cx) / (rx + wall)) ** 2 <= 1
        lv = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        base = cy + 0.75 * ry  # the mitral plane cuts the ellipses
        atrium = ((yy - (base + la)) / la) ** 2 + ((xx - cx) / la) ** 2 <= 1
        masks[i][epi & (yy < base)] = 2
        masks[i][lv & (yy < base)] = 1
        masks[i][atrium & (yy >= base)] = 3
    return masks


@pytest.fixture
def heart_maker():
    """:func:`make_hearts` itself, for tests that need other sizes (test modules cannot import this conftest by
    name: other folders have their own)."""
    return make_hearts


@pytest.fixture
def hearts() -> np.ndarray:
    """24 tiny synthetic hearts (32 x 32)."""
    return make_hearts(24)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """``{"model": U-Net file, "vae": AR-VAE file}``: random weights, 16 px inputs, latent range [-1, 1]."""
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    unet = UNetConfig(input_size=16, channels=(4, 8), strides=(2,), num_res_units=0)
    shape = ShapeModel(
        ShapeModelConfig(input_size=16, channels=(4,), bottleneck_channels=2, latent_dim=8)
    )
    shape.set_latent_range(-torch.ones(8), torch.ones(8))
    return {"model": save_unet(build_unet(unet), unet, folder / "unet.pt"), "vae": save_model(shape, folder / "vae.pt")}


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """A synthetic CAMUS-layout root: 1 patient, both views, 5 frames of 64 x 64 px, with truth.json."""
    from echolatent.synth import write_synthetic_dataset

    return write_synthetic_dataset(tmp_path_factory.mktemp("data") / "camus", patients=1, frames=5, size=64, previews=0)
