"""Segment echocardiography frames and sequences with the U-Net.

Frames of any size are resampled to the network's square input, normalised, segmented in batches;
the class PROBABILITIES are resampled back to each frame's own size and only then turned into labels,
so outputs have exactly the input's shape (folders of files: :mod:`echolatent.jobs.segment`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from echolatent.arrays import argmax_labels
from echolatent.errors import InputError
from echolatent.models.onnx_runtime import ort_network, resolve_backend, weights_key
from echolatent.models.unet import UNetConfig, load_unet_members, normalise_frames
from echolatent.resample import resize_frames, resize_probs

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "unet.pt"
MIN_FRAME_SIZE = 8


@dataclass
class Segmenter:
    """A U-Net ready for inference: network (eval mode), its config, free-form metadata, source file.

    ``members`` are further networks of an ensemble (each with its own input size): their softmax
    probabilities, resampled to the main network's grid, are averaged with the main network's. ``backend`` says
    what runs the networks: "torch" modules, or "onnxruntime" sessions called the same way
    (:mod:`echolatent.models.onnx_runtime`).
    """

    model: nn.Module
    config: UNetConfig
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    members: tuple[tuple[nn.Module, UNetConfig], ...] = ()
    backend: str = "torch"

    @torch.inference_mode()
    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        """``(N, 1, S, S)`` normalised frames on the main network's grid -> ``(N, C, S, S)`` float32 logits."""
        return self.model(grid.to(self.device)).float()

    def _softmax(self, model: nn.Module, config: UNetConfig, frames: np.ndarray) -> torch.Tensor:
        size = (config.input_size, config.input_size)
        grid = torch.from_numpy(resize_frames(frames, size)).to(self.device)
        return torch.softmax(model(normalise_frames(grid, config.normalisation)).float(), dim=1).cpu()

    @torch.inference_mode()
    def probabilities(self, frames: np.ndarray) -> torch.Tensor:
        """``(N, H, W)`` raw intensities -> ``(N, C, S, S)`` float32 softmax on the main network's grid
        (S = its input size), averaged over the ensemble's members."""
        probs = self._softmax(self.model, self.config, frames)
        size = (self.config.input_size, self.config.input_size)
        for model, config in self.members:
            probs += resize_probs(self._softmax(model, config, frames), size)
        return probs / (1 + len(self.members)) if self.members else probs


def load_segmenter(path: str | Path | None = None, device: str | torch.device = "cpu",
                   backend: str = "auto") -> Segmenter:
    """Load a U-Net ``.pt`` file, one network or an ensemble (``None``: the shipped ``weights/unet.pt``), for
    inference on ``device``. The member with the largest input size is the main network. ``backend``: "torch",
    "onnxruntime" (CPU), or "auto" (:func:`echolatent.models.onnx_runtime.resolve_backend`: ONNX Runtime on the CPU
    when installed; it gives the same masks, faster).

    Raises:
        InputError: missing, unreadable or foreign model file.
        ValueError: an unknown backend, or ONNX Runtime asked where it cannot run.
    """
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    networks, meta = load_unet_members(path)
    device = torch.device(device)
    asked, backend = backend, resolve_backend(backend, device)
    networks = sorted(networks, key=lambda member: -member[1].input_size)
    networks = [(model.to(device).eval(), config) for model, config in networks]
    if backend == "onnxruntime":
        try:
            networks = _on_onnxruntime(networks, path)
        except Exception as err:  # an optimisation only: "auto" falls back to PyTorch, which gives the same masks
            if asked == "onnxruntime":
                raise
            log.warning("ONNX Runtime unavailable for %s (%s); running PyTorch", path.name, err)
            backend = "torch"
    log.info("U-Net %s: %d network(s) on %s (%s)", path.name, len(networks), device, backend)
    (model, config), others = networks[0], tuple(networks[1:])
    return Segmenter(model, config, meta, path, device, others, backend)


def _on_onnxruntime(networks: list, path: Path) -> list:
    """The ``(network, config)`` pairs as ONNX Runtime sessions (exported once per weights file, cached)."""
    key = weights_key(path)
    return [(ort_network(model, config.input_size, f"{key}-{i}"), config) for i, (model, config) in enumerate(networks)]


def _check_frames(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3:
        raise InputError(None, f"expected frames (T, H, W), got an array of shape {images.shape}")
    if images.shape[0] == 0:
        raise InputError(None, "no frames to segment (T = 0)")
    if min(images.shape[1:]) < MIN_FRAME_SIZE:
        raise InputError(None, f"frames of {images.shape[1:]} pixels are too small (at least {MIN_FRAME_SIZE})")
    if not (np.issubdtype(images.dtype, np.number) or images.dtype == bool):
        raise InputError(None, f"expected numeric frames, got dtype {images.dtype}")
    if np.issubdtype(images.dtype, np.floating) and not np.isfinite(images).all():
        raise InputError(None, f"{int((~np.isfinite(images)).sum())} NaN or infinite pixels in the frames")
    return images


def _check_batch(images: np.ndarray, batch_size: int) -> np.ndarray:
    images = _check_frames(images)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return images


def _segment_batches(segmenter: Segmenter, images: np.ndarray, batch_size: int, progress):
    """Yield ``(start, stop, (stop - start, C, H, W) float32 probabilities at the input size)`` batch by batch,
    for frames checked by :func:`_check_batch`.

    At most one batch of probabilities at the frames' size is held at a time (``batch_size x C x H x W`` floats).
    """
    n_frames, height, width = images.shape
    bar = tqdm(total=n_frames, desc="segment", unit="frame", leave=False, disable=progress is not True)
    try:
        for start in range(0, n_frames, batch_size):
            stop = min(start + batch_size, n_frames)
            with torch.inference_mode():
                probs = resize_probs(segmenter.probabilities(images[start:stop]), (height, width))
            yield start, stop, probs
            bar.update(stop - start)
            if callable(progress):
                progress(stop)
    finally:
        bar.close()


def segment_frames(
    segmenter: Segmenter,
    images: np.ndarray,
    batch_size: int = 16,
    progress: bool | Callable[[int], None] = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Segment frames ``(T, H, W)`` (uint8 or any intensity scale; apex at the top) of any size.

    Holds all ``(T, 4, H, W)`` probabilities (16 bytes per pixel): for labels only, :func:`segment_masks` streams.

    Args:
        progress: ``True`` shows a tqdm bar (stderr); a callable is called with the number of frames done
            after each batch.

    Returns:
        masks: ``(T, H, W)`` uint8 labels 0..3 (argmax of the probabilities at the input size).
        probs: ``(T, 4, H, W)`` float32 class probabilities at the input size.

    Raises:
        InputError: not ``(T, H, W)``, no frames, frames smaller than 8 px, non-numeric, NaN/inf.
        ValueError: ``batch_size < 1``.
    """
    images = _check_batch(images, batch_size)
    n_frames, height, width = images.shape
    probs = np.empty((n_frames, segmenter.config.num_classes, height, width), dtype=np.float32)
    masks = np.empty((n_frames, height, width), dtype=np.uint8)
    for start, stop, batch in _segment_batches(segmenter, images, batch_size, progress):
        probs[start:stop] = batch.numpy()
        masks[start:stop] = argmax_labels(batch.numpy())
    return masks, probs


def segment_masks(
    segmenter: Segmenter,
    images: np.ndarray,
    batch_size: int = 16,
    progress: bool | Callable[[int], None] = False,
) -> np.ndarray:
    """``(T, H, W)`` frames -> ``(T, H, W)`` uint8 labels, the masks of :func:`segment_frames` without keeping the
    probabilities: memory is the labels plus one batch (``batch_size x 4 x H x W`` floats), whatever T.

    Raises:
        InputError, ValueError: as :func:`segment_frames`.
    """
    images = _check_batch(images, batch_size)
    masks = np.empty(images.shape, dtype=np.uint8)
    for start, stop, batch in _segment_batches(segmenter, images, batch_size, progress):
        masks[start:stop] = argmax_labels(batch.numpy())
    return masks
