"""Fixtures for the U-Net tests: a tiny randomly initialised U-Net file and tiny image files on disk."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813
import torch

from echolatent.models.unet import UNetConfig, build_unet, save_unet

TINY = UNetConfig(input_size=16, channels=(4, 8), strides=(2,), num_res_units=0)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def tiny_unet_file(tmp_path: Path) -> Path:
    """A randomly initialised, very small U-Net saved with :func:`save_unet`."""
    torch.manual_seed(0)
    return save_unet(build_unet(TINY), TINY, tmp_path / "tiny_unet.pt", {"note": "test"})


def write_sitk(array: np.ndarray, path: Path, spacing, origin, direction) -> Path:
    """Write ``array`` (SimpleITK order (T,) H, W) with the given geometry; returns the path."""
    image = sitk.GetImageFromArray(array, isVector=False)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))
    return path


def echo_like(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """uint8 noise with a bright band: a stand-in for echo frames of any shape."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def run_cli(argv: list[str], monkeypatch) -> int:
    """Run the ``echolatent`` console entry point with ``argv``; returns its exit code (0 on success)."""
    from echolatent.cli.app import main

    monkeypatch.setattr(sys, "argv", ["echolatent", *argv])
    try:
        main()
    except SystemExit as exit_info:
        return int(exit_info.code or 0)
    return 0
