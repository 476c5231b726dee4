"""Segmentation-like corruption of label masks, to test post-processing apart from any U-Net.

Each frame gets its own errors, drawn independently (so sequences flicker like per-frame U-Net output):
boundary jitter (a smooth random warp), erosion or dilation of one structure, holes inside a structure,
islands of a label in the background, and (rarely, at high severity) a structure missing from the frame.
Their frequency and size grow with ``severity`` in [0, 1]; sizes scale with the heart's size in pixels, so
a severity means about the same damage at any image size.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import ndimage

from echolatent.errors import InputError
from echolatent.io.camus import find_sequences, load_sequence, output_path, write_mask
from echolatent.labels import Label, check_labels

log = logging.getLogger(__name__)

SEVERITIES = {"low": 0.15, "medium": 0.5, "high": 0.85}


def severity_value(severity: float | str) -> float:
    """``"low"``/``"medium"``/``"high"`` or a number in [0, 1] -> a float in [0, 1]; ValueError otherwise."""
    if isinstance(severity, str):
        key = severity.strip().lower()
        if key in SEVERITIES:
            return SEVERITIES[key]
        try:
            severity = float(key)
        except ValueError:
            raise ValueError(f"severity must be low, medium, high or a number in [0, 1], got {severity!r}") from None
    value = float(severity)
    if not np.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"severity must lie in [0, 1], got {severity!r}")
    return value


def _heart_scale(mask: np.ndarray) -> float:
    """Size of the heart in pixels (square root of the foreground area), at least 8."""
    return max(8.0, float(np.sqrt(np.count_nonzero(mask))))


def _jitter(mask: np.ndarray, amplitude: float, smoothness: float, rng: np.random.Generator) -> np.ndarray:
    """Warp the labels by a smooth random displacement field of about ``amplitude`` px."""
    if amplitude <= 0:
        return mask
    fields = []
    for _ in range(2):
        field = ndimage.gaussian_filter(rng.standard_normal(mask.shape), smoothness, mode="wrap")
        fields.append(field * amplitude / (np.abs(field).max() + 1e-12))
    rows, cols = np.indices(mask.shape, dtype=np.float64)
    return ndimage.map_coordinates(mask, [rows + fields[0], cols + fields[1]], order=0, mode="nearest")


def _fill_from_neighbours(mask: np.ndarray, freed: np.ndarray) -> np.ndarray:
    """Give the pixels in ``freed`` the label of the nearest pixel outside it."""
    if not freed.any() or freed.all():
        return mask
    _, (rows, cols) = ndimage.distance_transform_edt(freed, return_indices=True)
    out = mask.copy()
    out[freed] = mask[rows[freed], cols[freed]]
    return out


def _grow_or_shrink(mask: np.ndarray, label: int, radius: int, grow: bool) -> np.ndarray:
    structure = mask == label
    if radius < 1 or not structure.any():
        return mask
    disk = _disk(radius)
    if grow:
        out = mask.copy()
        out[ndimage.binary_dilation(structure, disk)] = label
        return out
    kept = ndimage.binary_erosion(structure, disk, border_value=1)
    return _fill_from_neighbours(np.where(structure & ~kept, 0, mask).astype(mask.dtype), structure & ~kept)


def _disk(radius: int) -> np.ndarray:
    r = np.arange(-radius, radius + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2) <= radius**2


def _blob(shape: tuple[int, int], centre: tuple[int, int], radius: float, rng: np.random.Generator) -> np.ndarray:
    """A random ellipse of mean radius ``radius`` px around ``centre``."""
    rows, cols = np.indices(shape, dtype=np.float64)
    angle = rng.uniform(0, np.pi)
    a, b = radius * rng.uniform(0.6, 1.4), radius * rng.uniform(0.6, 1.4)
    dr, dc = rows - centre[0], cols - centre[1]
    u = dr * np.cos(angle) + dc * np.sin(angle)
    v = -dr * np.sin(angle) + dc * np.cos(angle)
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _random_pixel(where: np.ndarray, rng: np.random.Generator) -> tuple[int, int] | None:
    rows, cols = np.nonzero(where)
    if len(rows) == 0:
        return None
    k = rng.integers(len(rows))
    return int(rows[k]), int(cols[k])


def _hole(mask: np.ndarray, radius: float, rng: np.random.Generator) -> np.ndarray:
    """Punch a blob inside one of LV/LA/MYO, filled with background or a neighbouring label."""
    label = int(rng.choice([Label.LV, Label.LA, Label.MYO]))
    centre = _random_pixel(mask == label, rng)
    if centre is None:
        return mask
    blob = _blob(mask.shape, centre, radius, rng) & (mask == label)
    out = mask.copy()
    out[blob] = int(rng.choice([Label.BG, Label.MYO if label != Label.MYO else Label.LV]))
    return out


def _island(mask: np.ndarray, radius: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Add a blob of a foreground label in the background near the heart."""
    near = ndimage.binary_dilation(mask > 0, iterations=max(1, int(0.25 * scale))) & (mask == 0)
    centre = _random_pixel(near, rng)
    if centre is None:
        return mask
    blob = _blob(mask.shape, centre, radius, rng) & (mask == 0)
    out = mask.copy()
    out[blob] = int(rng.choice(Label.foreground()))
    return out


def corrupt_frame(mask: np.ndarray, severity: float | str, rng: np.random.Generator) -> np.ndarray:
    """One ``(H, W)`` label mask -> a corrupted copy (uint8); the input is left unchanged."""
    s = severity_value(severity)
    out = np.asarray(mask, dtype=np.uint8).copy()
    if s == 0 or not out.any():
        return out
    scale = _heart_scale(out)
    out = _jitter(out, amplitude=s * 0.06 * scale, smoothness=0.08 * scale, rng=rng)
    if rng.random() < 0.2 + 0.6 * s:
        radius = int(round(s * rng.uniform(0.5, 1.5) * 0.06 * scale))
        out = _grow_or_shrink(out, int(rng.choice(Label.foreground())), radius, grow=bool(rng.random() < 0.5))
    for _ in range(rng.poisson(2.0 * s**2)):
        out = _hole(out, s * rng.uniform(0.04, 0.1) * scale, rng)
    for _ in range(rng.poisson(2.0 * s**2)):
        out = _island(out, s * rng.uniform(0.04, 0.1) * scale, scale, rng)
    if rng.random() < 0.12 * s**3:
        out[out == int(rng.choice(Label.foreground()))] = Label.BG
    return out


def _check_masks(masks: np.ndarray) -> np.ndarray:
    return check_labels(masks, allow_2d=False)


def corrupt_sequence(masks: np.ndarray, severity: float | str, rng: np.random.Generator) -> np.ndarray:
    """Label masks ``(T, H, W)`` -> corrupted copy ``(T, H, W)`` uint8, errors drawn independently per frame.

    Args:
        masks: labels 0..3 (any integer dtype); not modified.
        severity: ``"low"`` (mild: most frames keep Dice > 0.93), ``"medium"``, ``"high"`` or a float in [0, 1].
        rng: NumPy generator (the same state gives the same result).
    """
    masks = _check_masks(masks)
    value = severity_value(severity)
    return np.stack([corrupt_frame(frame, value, rng) for frame in masks.astype(np.uint8)])


def _sequence_rng(seed: int, name: str) -> np.random.Generator:
    """A random stream per sequence name: results do not depend on the order files are found in."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def corrupt_dataset(
    masks_root: str | Path,
    out: str | Path,
    severity: float | str,
    seed: int = 0,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Corrupt every ``_gt`` mask found under ``masks_root`` and write ``OUT/<patient>/<name>_pred.nii.gz``.

    Args:
        masks_root: a CAMUS root, a patient folder or one mask file (read with ``echolatent.io.camus``).
        out: output root; written files keep the source file's geometry (and frame order).
        severity: see :func:`corrupt_sequence`.
        seed: the same seed gives identical files.
        progress: called with ``(done, total)`` after each file.

    Returns:
        The written paths, in the order of the sequences found.

    Raises:
        InputError: nothing with a ``_gt`` mask under ``masks_root``, or an unreadable/invalid mask file.
    """
    value = severity_value(severity)
    refs = [ref for ref in find_sequences(masks_root, mask_suffix="_gt") if ref.mask is not None]
    if not refs:
        raise InputError(masks_root, "no ground-truth masks (*_gt) found")
    written = []
    for done, ref in enumerate(refs, start=1):
        sequence = load_sequence(ref, image=False, mask=True)
        corrupted = corrupt_sequence(sequence.mask, value, _sequence_rng(seed, ref.name))
        written.append(write_mask(sequence, corrupted, output_path(ref, out, "_pred")))
        if progress is not None:
            progress(done, len(refs))
    log.info("corrupted %d mask files (severity %.2f) into %s", len(written), value, out)
    return written
