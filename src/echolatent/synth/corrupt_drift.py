"""A second corruption model of label-mask sequences, written apart from :mod:`.corrupt`: slow errors as well
as per-frame ones.

Masks are ``(T, H, W)`` uint8 labels 0..3; sizes in pixels scale with the heart (square root of its area), so
a severity means about the same damage at any image size. Every label is represented by its signed distance
(pixels, negative inside) and a frame's labels are the arg-min over the four, so shapes move sub-pixel and stay
one piece. Four errors, their sizes and rates growing with ``severity`` in [0, 1]:

* drift: each structure (LV, MYO, LA) is over- or under-segmented by an offset of its boundary that wanders
  slowly over frames (white noise filtered by a Gaussian of :data:`DRIFT_FRAMES` frames);
* elastic boundary noise: a smooth random displacement field of the label maps, new in every frame;
* wrong frames: a few frames replaced by the (noisy) mask of a frame 2 or 3 frames away (a dropped or
  repeated frame of the segmenter);
* label swaps at the MYO/LA junction: a band of MYO next to the LA becomes LA, or the reverse.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from echolatent.labels import NUM_LABELS, Label
from echolatent.synth.corrupt import severity_value

#: Temporal width (frames, Gaussian sigma) of the structure-wise boundary drift.
DRIFT_FRAMES = 1.5
_STRUCTURES = (Label.LV, Label.MYO, Label.LA)


def signed_distances(frame: np.ndarray) -> np.ndarray:
    """``(H, W)`` labels -> ``(4, H, W)`` float32 signed distance (px) to each label's region, negative inside;
    an absent label gets a large positive distance."""
    out = np.empty((NUM_LABELS, *frame.shape), dtype=np.float32)
    for label in range(NUM_LABELS):
        region = frame == label
        if not region.any():
            out[label] = 1e3
            continue
        out[label] = ndimage.distance_transform_edt(~region) - ndimage.distance_transform_edt(region)
    return out


def labels_from_distances(distances: np.ndarray) -> np.ndarray:
    """``(..., 4, H, W)`` signed distances -> ``(..., H, W)`` uint8 labels (arg-min)."""
    return np.argmin(distances, axis=-3).astype(np.uint8)


def heart_scale(masks: np.ndarray) -> float:
    """Square root of the mean heart area (px) of ``(T, H, W)`` masks, at least 8."""
    return max(8.0, float(np.sqrt(np.count_nonzero(masks) / len(masks))))


def drift_offsets(length: int, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """``(T, 3)`` slowly wandering boundary offsets (px) of LV, MYO, LA, standard deviation ``amplitude``."""
    noise = ndimage.gaussian_filter1d(rng.standard_normal((length + 20, 3)), DRIFT_FRAMES, axis=0)[10:-10]
    return noise * amplitude / max(float(noise.std()), 1e-9)


def _warp(distances: np.ndarray, amplitude: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Displace ``(4, H, W)`` distance maps by a smooth random field of peak ``amplitude`` px."""
    if amplitude <= 0:
        return distances
    shape = distances.shape[1:]
    coarse = (max(2, int(shape[0] / (0.3 * scale))), max(2, int(shape[1] / (0.3 * scale))))
    rows, cols = np.indices(shape, dtype=np.float64)
    fields = []
    for _ in range(2):
        field = ndimage.zoom(rng.standard_normal(coarse), (shape[0] / coarse[0], shape[1] / coarse[1]), order=3)
        field = field[: shape[0], : shape[1]]
        fields.append(field * amplitude / max(float(np.abs(field).max()), 1e-9))
    grid = [rows + fields[0], cols + fields[1]]
    return np.stack([ndimage.map_coordinates(d, grid, order=1, mode="nearest") for d in distances])


def _swap_junction(frame: np.ndarray, width: float, rng: np.random.Generator) -> np.ndarray:
    """A band of ``width`` px of MYO next to the LA becomes LA, or of LA next to the MYO becomes MYO."""
    source, target = (Label.MYO, Label.LA) if rng.random() < 0.5 else (Label.LA, Label.MYO)
    near = ndimage.distance_transform_edt(frame != target) <= width
    out = frame.copy()
    out[near & (frame == source)] = target
    return out


def corrupt_drift(masks: np.ndarray, severity: float | str, rng: np.random.Generator) -> np.ndarray:
    """Label masks ``(T, H, W)`` -> corrupted copy ``(T, H, W)`` uint8 (module docstring); input unchanged.

    Args:
        masks: labels 0..3, T >= 1.
        severity: ``"low"``, ``"medium"``, ``"high"`` or a float in [0, 1] (0: unchanged).
        rng: NumPy generator (the same state gives the same result).
    """
    masks = np.asarray(masks, dtype=np.uint8)
    s = severity_value(severity)
    if s == 0 or not masks.any():
        return masks.copy()
    scale = heart_scale(masks)
    offsets = drift_offsets(len(masks), s * 0.035 * scale, rng)
    out = np.empty_like(masks)
    for t, frame in enumerate(masks):
        distances = signed_distances(frame)
        for k, label in enumerate(_STRUCTURES):
            distances[label] -= offsets[t, k]
        out[t] = labels_from_distances(_warp(distances, s * 0.03 * scale, scale, rng))
    wrong = np.flatnonzero(rng.random(len(masks)) < 0.02 + 0.1 * s)
    source = out.copy()
    for t in wrong:
        shift = int(rng.choice([-3, -2, 2, 3]))
        out[t] = source[int(np.clip(t + shift, 0, len(masks) - 1))]
    for t in np.flatnonzero(rng.random(len(masks)) < 0.1 + 0.4 * s):
        out[t] = _swap_junction(out[t], 1.0 + s * 0.03 * scale, rng)
    return out
