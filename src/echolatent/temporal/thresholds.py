"""Where temporal thresholds come from: a shape model file's metadata (:func:`stored_thresholds`) or the expert
masks of a dataset (:func:`reference_thresholds`); both in :meth:`TemporalThresholds.to_dict`'s format."""

from __future__ import annotations

from pathlib import Path

from echolatent.errors import InputError
from echolatent.io.frames import load_frames
from echolatent.latent.codec import model_metadata
from echolatent.measure.temporal import TemporalThresholds

#: Key of the temporal thresholds (TemporalThresholds.to_dict format) in a shape model's metadata.
THRESHOLDS_KEY = "temporal_thresholds"


def reference_thresholds(root: str | Path, grid: int, subset: str | None = "training") -> TemporalThresholds:
    """Temporal bounds of the expert masks of a CAMUS-layout dataset resampled to ``grid x grid`` (the shape
    model's grid, pixel units), with the published taus."""
    _, masks, ids = load_frames(root, subset, size=(grid, grid))
    thresholds = TemporalThresholds.from_reference([masks])
    thresholds.note = f"bounds from {len(ids)} expert masks of {root} ({subset or 'all'}) at {grid}x{grid}"
    return thresholds


def stored_thresholds(path: str | Path | None, *, required: bool = True) -> TemporalThresholds | None:
    """Temporal thresholds stored in a shape model file's metadata (None when absent, or no file and not
    ``required``)."""
    try:
        stored = model_metadata(path).get(THRESHOLDS_KEY)
    except InputError:
        if required:
            raise
        return None
    if not stored:
        return None
    return TemporalThresholds.from_dict(stored, note="stored with the shape model")
