"""Latent-space figures (matplotlib, PNG): traversal grid, interpolation strip, grid of prior samples."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from echolatent.latent.codec import decode_latents, encode_masks
from echolatent.latent.tools import interpolate, measure_decoded, sample_prior, traverse
from echolatent.models.shape import ShapeModel

log = logging.getLogger(__name__)

# background, LV, MYO, LA
LABEL_COLOURS = ListedColormap(["#000000", "#e8413c", "#3cb44b", "#4a7bd8"])


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    tmp.replace(path)
    return path


def _show(ax: Axes, mask: np.ndarray, title: str | None = None) -> None:
    ax.imshow(mask, cmap=LABEL_COLOURS, vmin=0, vmax=3, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_xlabel(title, fontsize=7)


def traversal_grid(model: ShapeModel, mask: np.ndarray, path: str | Path, steps: int = 7) -> Path:
    """Row per regularised attribute: ``mask`` ``(H, W)``'s code with that dim swept over its training range.

    The attribute re-measured on each decoded mask (pixels of the model's grid) is written under it.
    """
    names = model.config.attributes
    if not names:
        raise ValueError(f"a {model.config.kind} model has no regularised attribute to traverse")
    z = encode_masks(model, np.asarray(mask)[None])[0]
    fig = Figure(figsize=(1.3 * steps, 1.45 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), steps, squeeze=False)
    for dim, name in enumerate(names):
        codes = traverse(model, z, dim, steps)
        decoded, measured = decode_latents(model, codes), measure_decoded(model, codes, name)
        for col in range(steps):
            _show(axes[dim, col], decoded[col], f"{measured[col]:.1f}")
        axes[dim, 0].set_ylabel(f"z{dim}: {name}", fontsize=7)
    size = model.config.input_size
    fig.suptitle(f"{model.config.kind}: each regularised dimension swept over its training range "
                 f"(attribute re-measured on the {size}x{size} decoded mask, pixels/degrees)", fontsize=9)
    return _save(fig, path)


def interpolation_strip(models: dict[str, ShapeModel], mask_a: np.ndarray, mask_b: np.ndarray, path: str | Path,
                        steps: int = 9, method: str = "linear") -> Path:
    """Row per model (e.g. AE, VAE, AR-VAE): decodings interpolated between two real masks ``(H, W)``."""
    if not models:
        raise ValueError("no model to draw")
    fig = Figure(figsize=(1.3 * steps, 1.5 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), steps, squeeze=False)
    for row, (label, model) in enumerate(models.items()):
        z = encode_masks(model, np.stack([mask_a, mask_b]))
        decoded = decode_latents(model, interpolate(z[0], z[1], steps, method), tuple(np.shape(mask_a)))
        for col in range(steps):
            _show(axes[row, col], decoded[col], f"t={col / (steps - 1):.2f}" if row == len(models) - 1 else None)
        axes[row, 0].set_ylabel(label, fontsize=8)
    fig.suptitle(f"{method} interpolation between two real hearts", fontsize=9)
    return _save(fig, path)


def sample_grid(model: ShapeModel, path: str | Path, rows: int = 4, cols: int = 6, seed: int = 0) -> Path:
    """``rows x cols`` masks decoded from prior samples."""
    decoded = decode_latents(model, sample_prior(model, rows * cols, seed))
    fig = Figure(figsize=(1.3 * cols, 1.3 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        _show(ax, decoded[i])
    fig.suptitle(f"{model.config.kind}: prior samples", fontsize=9)
    return _save(fig, path)
