"""Shape models and thresholds for the smoother: loading a model with its latent range, the temporal thresholds
stored in its metadata, and bounds measured on a CAMUS-layout dataset's expert masks."""

from __future__ import annotations

from pathlib import Path

import torch

from echolatent.errors import InputError
from echolatent.measure.temporal import TemporalThresholds

#: Key of the temporal thresholds (TemporalThresholds.save format) in a shape model's metadata.
THRESHOLDS_KEY = "temporal_thresholds"


def reference_thresholds(root: str | Path, grid: int, subset: str | None = "training") -> TemporalThresholds:
    """Temporal bounds of the expert masks of a CAMUS-layout dataset resampled to ``grid x grid`` (the shape
    model's grid, pixel units), with the published taus."""
    from echolatent.io.frames import load_frames

    _, masks, ids = load_frames(root, subset, size=(grid, grid))
    thresholds = TemporalThresholds.from_reference([masks])
    thresholds.note = f"bounds from {len(ids)} expert masks of {root} ({subset or 'all'}) at {grid}x{grid}"
    return thresholds


def load_shape_model(model):
    """A ShapeModel with a latent range, from a loaded model, a model file or None (the shipped AR-VAE)."""
    from echolatent.latent.codec import load_model

    loaded = model if isinstance(model, torch.nn.Module) else load_model(model)
    low, high = loaded.latent_min.numpy(), loaded.latent_max.numpy()
    if not (high > low).all():
        raise InputError(model, "the shape model has no latent range (latent_max <= latent_min on some dims)")
    return loaded


def stored_thresholds(path: str | Path | None, *, required: bool = True) -> TemporalThresholds | None:
    """Temporal thresholds stored in a shape model file's metadata (None when absent, or no file and not
    ``required``)."""
    from echolatent.latent.codec import model_metadata

    try:
        stored = model_metadata(path).get(THRESHOLDS_KEY)
    except InputError:
        if required:
            raise
        return None
    if not stored:
        return None
    return TemporalThresholds(
        bounds={k: (float(v[0]), float(v[1])) for k, v in stored["bounds"].items()},
        tau={k: float(v) for k, v in stored["tau"].items()},
        grid=tuple(stored["grid"]) if stored.get("grid") else None,
        spacing=tuple(stored["spacing"]) if stored.get("spacing") else None,
        note=stored.get("note", "stored with the shape model"),
    )
