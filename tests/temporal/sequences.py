"""Toy sequences shared by the temporal tests."""

from __future__ import annotations

import numpy as np
import torch

from echolatent.labels import Label
from echolatent.measure.validity import CRITERIA, ValidityReport, ValidityThresholds
from echolatent.models.shape import ShapeModel, ShapeModelConfig


def ring_sequence(frames: int = 6, size: int = 24) -> np.ndarray:
    """A beating toy heart ``(frames, size, size)``: LV disc in a MYO ring above an LA disc, the LV radius changing
    over time (``clean_masks`` leaves it as it is)."""
    rows, cols = np.mgrid[:size, :size]
    masks = np.zeros((frames, size, size), dtype=np.uint8)
    for t in range(frames):
        radius = 4 + 2 * np.sin(np.pi * t / frames)
        distance = np.hypot(rows - 9, cols - 12)
        masks[t][distance < radius + 2] = Label.MYO
        masks[t][distance < radius] = Label.LV
        masks[t][(np.hypot(rows - 19, cols - 12) < 3) & (masks[t] == 0)] = Label.LA
    return masks


def tiny_shape_model(high: torch.Tensor | None = None) -> ShapeModel:
    """An untrained, seeded 16 px shape model with 10 latent dimensions, latent range -2 to ``high`` ``(10,)``
    (default 2 on every dimension)."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = ShapeModel(ShapeModelConfig(input_size=16, channels=(4,), bottleneck_channels=2, latent_dim=10)).eval()
    model.set_latent_range(torch.full((10,), -2.0), torch.full((10,), 2.0) if high is None else high)
    return model


def fail_frames(report, frames: list[int], length: int) -> None:
    """Set ``report.validity`` (a SmoothReport's) so that exactly ``frames`` of ``length`` fail every criterion."""
    valid = np.ones(length, bool)
    valid[frames] = False
    report.validity = ValidityReport(valid, {name: np.zeros(length) for name in CRITERIA},
                                     {name: valid.copy() for name in CRITERIA}, ValidityThresholds())
