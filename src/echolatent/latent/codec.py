"""Encode label masks into latent codes and decode codes into masks, at any image size.

Masks of any size are resampled to the model's ``S x S`` grid through their one-hot encoding (labels by
:func:`echolatent.resample.resize_labels`, or area fractions for models trained on ``soft_masks``), encoded to
``mu``; codes are decoded to logits on the grid,
resampled as probabilities to the requested size and turned into labels by argmax.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from echolatent.arrays import argmax_labels
from echolatent.labels import check_labels
from echolatent.measure.framecache import resize_labels_cached
from echolatent.models.shape import ShapeModel, model_from_payload, read_model_file
from echolatent.resample import grid_onehot, one_hot, resize_probs

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
DEFAULT_MODEL = WEIGHTS_DIR / "arvae.pt"
BATCH = 64


def load_model(path: str | Path | None = None) -> ShapeModel:
    """Rebuild a shape model of any kind from its file (CPU, eval mode); ``None``: the shipped AR-VAE.

    Raises:
        InputError: missing, corrupt or foreign file.
    """
    path = Path(path) if path is not None else DEFAULT_MODEL
    model = model_from_payload(read_model_file(path), path)
    log.debug("loaded %s shape model from %s", model.config.kind, path)
    return model


def model_metadata(path: str | Path | None = None) -> dict:
    """The ``metadata`` dict stored in a model file (training data, command, attribute statistics...)."""
    return dict(read_model_file(Path(path) if path is not None else DEFAULT_MODEL).get("metadata", {}))


def _check_masks(masks: np.ndarray) -> np.ndarray:
    return check_labels(masks, integer_dtype=True, allow_2d=False)


def model_input(model: ShapeModel, masks: np.ndarray) -> torch.Tensor:
    """``(n, H, W)`` labels -> ``(n, 4, S, S)`` float32 encoder input: area fractions for a ``soft_masks`` model,
    else the one-hot of the labels on the grid (from :func:`echolatent.measure.framecache.resize_labels_cached`,
    the same labels as ``resize_labels``: the temporal check resamples the same frames to the same grid)."""
    size = (model.config.input_size,) * 2
    if model.config.soft_masks:
        return grid_onehot(masks, size, soft=True)
    return one_hot(resize_labels_cached(masks, size))


@torch.inference_mode()
def encode_masks(model: ShapeModel, masks: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` uint8 labels of any size -> ``(T, d)`` float32 codes (``mu``), masks resampled to ``S x S``.

    :data:`BATCH` frames at a time, resampling included (:func:`model_input`): memory does not grow with T beyond
    the codes. Runs on the model's device; the codes come back on the CPU.
    """
    masks = _check_masks(masks)
    model.eval()
    device = _device(model)
    mus = [model.encode(model_input(model, masks[i:i + BATCH]).to(device))[0].cpu()
           for i in range(0, len(masks), BATCH)]
    return torch.cat(mus).numpy().astype(np.float32)


def _device(model: ShapeModel) -> torch.device:
    return next(model.parameters()).device


def _check_codes(model: ShapeModel, z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float32)
    d = model.config.latent_dim
    if z.ndim != 2 or z.shape[1] != d:
        raise ValueError(f"expected latent codes of shape (T, {d}), got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("latent codes contain NaN or infinite values")
    return z


def _decoded_batches(model: ShapeModel, z: np.ndarray, size: tuple[int, int] | None):
    """Yield ``(start, (n, 4, h, w) float32 softmax probabilities at size)`` for :data:`BATCH` codes at a time,
    decoded on the model's device, resampled on the CPU."""
    model.eval()
    device = _device(model)
    with torch.inference_mode():
        for i in range(0, len(z), BATCH):
            probs = model.decode(torch.from_numpy(z[i:i + BATCH]).to(device)).softmax(1).cpu()
            yield i, resize_probs(probs, tuple(size)) if size is not None else probs


def decode_probs(model: ShapeModel, z: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """``(T, d)`` codes -> ``(T, 4, h, w)`` float32 class probabilities (softmax), resampled to ``size``."""
    z = _check_codes(model, z)
    return torch.cat([probs for _, probs in _decoded_batches(model, z, size)]).numpy()


def decode_latents(model: ShapeModel, z: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """``(T, d)`` codes -> ``(T, h, w)`` uint8 labels (argmax), at ``size`` (default the model's ``S x S``).

    The argmax of :func:`decode_probs`, taken :data:`BATCH` frames at a time: the probabilities of the whole
    sequence are never held.
    """
    z = _check_codes(model, z)
    side = model.config.input_size
    h, w = tuple(size) if size is not None else (side, side)
    out = np.empty((len(z), h, w), dtype=np.uint8)
    for start, probs in _decoded_batches(model, z, size):
        out[start:start + len(probs)] = argmax_labels(probs.numpy())
    return out


def reconstruct(model: ShapeModel, masks: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` labels -> their reconstruction through ``mu``, ``(T, H, W)`` uint8 at the input size."""
    return decode_latents(model, encode_masks(model, masks), tuple(np.asarray(masks).shape[1:]))
