"""Codec (encode/decode at any size), interpolation, traversal, sampling, set_attribute and figures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echolatent.errors import InputError
from echolatent.latent.codec import DEFAULT_MODEL, decode_latents, encode_masks, load_model, reconstruct
from echolatent.latent.figures import interpolation_strip, sample_grid, traversal_grid
from echolatent.latent.tools import (
    dim_range,
    interpolate,
    regularised_dim,
    sample_prior,
    set_attribute,
    traverse,
)
from echolatent.measure.attributes import compute_attributes
from echolatent.models.shape import ShapeModel, ShapeModelConfig

torch.set_num_threads(1)


def tiny_model(kind: str = "ar-vae") -> ShapeModel:
    torch.manual_seed(0)
    model = ShapeModel(ShapeModelConfig(kind=kind, input_size=32, channels=(4, 8), bottleneck_channels=4,
                                        latent_dim=10)).eval()
    model.set_latent_range(-torch.ones(10) * 2, torch.ones(10) * 3)
    return model


def test_encode_decode_any_size(hearts):
    model = tiny_model()
    big = np.kron(hearts[:3], np.ones((1, 2, 3), np.uint8))  # 64 x 96: resampled to the 32 x 32 grid
    codes = encode_masks(model, big)
    assert codes.shape == (3, 10) and codes.dtype == np.float32
    assert np.allclose(codes, encode_masks(model, hearts[:3]), atol=1e-5)  # same heart at another size
    decoded = decode_latents(model, codes, (64, 96))
    assert decoded.shape == (3, 64, 96) and decoded.dtype == np.uint8 and decoded.max() <= 3
    assert decode_latents(model, codes).shape == (3, 32, 32)
    assert reconstruct(model, big).shape == big.shape


def test_codec_rejects_bad_input(hearts):
    model = tiny_model()
    with pytest.raises(InputError, match="outside 0..3"):
        encode_masks(model, hearts + 4)
    with pytest.raises(InputError, match=r"\(T, H, W\)"):
        encode_masks(model, hearts[0])
    with pytest.raises(ValueError, match="shape \\(T, 10\\)"):
        decode_latents(model, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        decode_latents(model, np.full((2, 10), np.nan))


def test_linear_and_spherical_interpolation():
    z0, z1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    line = interpolate(z0, z1, 3)
    assert np.allclose(line, [[1, 0], [0.5, 0.5], [0, 1]])
    arc = interpolate(z0, z1, 5, "slerp")
    assert np.allclose(arc[[0, -1]], [z0, z1])
    assert np.allclose(np.linalg.norm(arc, axis=1), 1.0)  # stays on the circle
    assert np.allclose(arc[2], [np.sqrt(0.5), np.sqrt(0.5)])
    scaled = interpolate(2 * z0, 4 * z1, 3, "slerp")
    assert np.linalg.norm(scaled[1]) == pytest.approx(3.0)  # norms interpolate linearly
    assert np.allclose(interpolate(z0, 2 * z0, 3, "slerp"), interpolate(z0, 2 * z0, 3))  # parallel: linear
    with pytest.raises(ValueError, match="method"):
        interpolate(z0, z1, 3, "cubic")
    with pytest.raises(ValueError, match="steps"):
        interpolate(z0, z1, 1)


def test_traverse_sweeps_one_dim_over_its_training_range():
    model = tiny_model()
    z = np.arange(10, dtype=np.float32)
    codes = traverse(model, z, 3, steps=6)
    assert codes.shape == (6, 10)
    assert np.allclose(codes[:, 3], np.linspace(-2, 3, 6))
    assert np.array_equal(np.delete(codes, 3, 1), np.repeat(np.delete(z, 3)[None], 6, 0))
    assert dim_range(model, 0, margin=0.5) == (-4.5, 5.5)
    with pytest.raises(ValueError, match="dim must be"):
        traverse(model, z, 10)
    assert regularised_dim(model, "la_area") == 7
    with pytest.raises(ValueError, match="not regularised"):
        regularised_dim(tiny_model("vae"), "la_area")


def test_prior_samples():
    vae, ae = tiny_model("vae"), tiny_model("ae")
    z = sample_prior(vae, 2000, seed=1)
    assert z.shape == (2000, 10) and abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
    assert np.array_equal(z, sample_prior(vae, 2000, seed=1))
    za = sample_prior(ae, 2000, seed=1)  # AE: Gaussian over the training range (-2..3)
    assert abs(za.mean() - 0.5) < 0.1 and abs(za.std() - 1.25) < 0.1


def test_figures_are_written(hearts, tmp_path):
    model, ae = tiny_model(), tiny_model("ae")
    for path in (
        traversal_grid(model, hearts[0], tmp_path / "t.png", steps=3),
        interpolation_strip({"AE": ae, "AR-VAE": model}, hearts[0], hearts[1], tmp_path / "i.png", steps=3),
        sample_grid(model, tmp_path / "s.png", 2, 2),
    ):
        assert path.is_file() and path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="no regularised attribute"):
        traversal_grid(ae, hearts[0], tmp_path / "x.png")


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="shipped AR-VAE not present")
def test_shipped_model_sets_an_attribute(hearts):
    model = load_model(None)
    assert model.config.kind == "ar-vae" and float((model.latent_max - model.latent_min).min()) > 0
    size = (model.config.input_size,) * 2
    z = encode_masks(model, np.kron(hearts[:2], np.ones((1, 4, 4), np.uint8)))
    area = compute_attributes(decode_latents(model, z))["lv_area"]
    target = area * 1.15
    new_z, measured = set_attribute(model, z, "lv_area", target)
    assert np.allclose(measured, target, rtol=0.03)
    assert np.array_equal(np.delete(new_z, 0, 1), np.delete(z, 0, 1))  # only the lv_area dim moved
    assert decode_latents(model, new_z, size).shape == (2, *size)
