"""Training frames: every expert-annotated frame of a CAMUS split as stacked arrays, with an on-disk cache.

:func:`load_frames` reads through :mod:`echolatent.io.camus` and keeps an ``.npz`` per request in
``$ECHOLATENT_CACHE`` or ``~/.cache/echolatent`` (keyed by the request and every file's path, size and mtime).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.io.camus import SequenceRef, find_sequences, load_sequence, read_split, subset_folder
from echolatent.labels import Instant, View
from echolatent.resample import resize_frames, resize_labels

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$ECHOLATENT_CACHE`` or ``$XDG_CACHE_HOME/echolatent`` (``~/.cache/echolatent``)."""
    if os.environ.get("ECHOLATENT_CACHE"):
        return Path(os.environ["ECHOLATENT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "echolatent"


def _cache_file(refs: list[SequenceRef], key: tuple, cache_dir: Path) -> Path:
    """A file name that changes with the request and with any file's path, size or mtime."""
    digest = hashlib.sha256(repr(key).encode())
    for ref in refs:
        for path in (ref.image, ref.mask):
            stat = path.stat()
            digest.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return cache_dir / f"frames-{digest.hexdigest()[:24]}.npz"


def _resize_pairs(images: np.ndarray, masks: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Resample ``(N, H, W)`` images and masks to ``size`` in batches (one call per 256 frames)."""
    out_images, out_masks = [], []
    for start in range(0, len(images), 256):
        chunk = slice(start, start + 256)
        out_images.append(np.round(np.clip(resize_frames(images[chunk], size), 0, 255)).astype(np.uint8))
        out_masks.append(resize_labels(masks[chunk], size))
    return np.concatenate(out_images), np.concatenate(out_masks)


def _read_frames(refs: list[SequenceRef], size: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    by_shape: dict[tuple[int, int], list[int]] = {}
    pairs = []
    for index, ref in enumerate(refs):
        seq = load_sequence(ref)
        if seq.num_frames != 1:
            raise InputError(ref.image, f"an {ref.kind} file must hold one frame, got {seq.num_frames}")
        by_shape.setdefault(seq.image.shape[1:], []).append(index)
        pairs.append((seq.image, seq.mask))
    if size is None and len(by_shape) > 1:
        (first, _), (other, indices) = list(by_shape.items())[:2]
        raise InputError(
            refs[indices[0]].image, f"frame size {other} differs from {first} of {refs[0].image.name}: pass size=(h, w)"
        )
    images = np.empty((len(refs), *(size or next(iter(by_shape)))), np.uint8)
    masks = np.empty_like(images)
    for indices in by_shape.values():
        group_images = np.concatenate([pairs[i][0] for i in indices])
        group_masks = np.concatenate([pairs[i][1] for i in indices])
        if size is not None:
            group_images, group_masks = _resize_pairs(group_images, group_masks, size)
        images[indices], masks[indices] = group_images, group_masks
    return images, masks


def load_frames(
    root: str | Path,
    subset: str | None = "training",
    *,
    views: Sequence[View] = (View.A2C, View.A4C),
    instants: Sequence[Instant] = (Instant.ED, Instant.ES),
    size: tuple[int, int] | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every ED/ES frame with an expert mask (``_gt``) of a CAMUS split, for training.

    Returns:
        images ``(N, H, W)`` uint8, masks ``(N, H, W)`` uint8 labels, ids such as ``"patient0001_2CH_ED"``,
        sorted by patient, view, instant. With ``size=(h, w)`` every frame is resampled to it; without it,
        frames of differing sizes raise InputError. ``subset=None`` takes every patient.

    A copy is kept as an ``.npz`` in :func:`default_cache_dir` (keyed by the request and every file's
    path, size and mtime), so a second call is fast; ``cache=False`` skips it.
    """
    views, instants = [View(v) for v in views], [Instant(i) for i in instants]
    root = Path(root)
    patients = read_split(root, subset) if subset is not None else None
    search = subset_folder(root, subset) or root
    refs = [
        ref
        for ref in find_sequences(search, kinds=[i.value for i in instants], patients=patients, require_image=True)
        if ref.view in views and ref.mask is not None
    ]
    if not refs:
        raise InputError(
            Path(root), f"no {'/'.join(i.value for i in instants)} frames with an expert mask in subset {subset!r}"
        )
    ids = [ref.name for ref in refs]
    size = tuple(int(s) for s in size) if size is not None else None
    folder = Path(cache_dir or default_cache_dir())
    target = _cache_file(refs, ("v1", ids, size), folder) if cache else None
    stored = _load_cache(target)
    if stored is not None:
        return (*stored, ids)
    native = _load_cache(_cache_file(refs, ("v1", ids, None), folder)) if cache and size is not None else None
    images, masks = _resize_pairs(*native, size) if native is not None else _read_frames(refs, size)
    if target is not None:
        _save_cache(target, images, masks)
    return images, masks, ids


def _load_cache(path: Path | None) -> tuple[np.ndarray, np.ndarray] | None:
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path) as stored:
            log.debug("frames from cache %s", path)
            return stored["images"], stored["masks"]
    except (OSError, ValueError, KeyError):
        log.warning("%s: unreadable cache, rebuilding", path)
        return None


def _save_cache(target: Path, images: np.ndarray, masks: np.ndarray) -> None:
    tmp_name = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".npz", delete=False) as tmp:
            tmp_name = tmp.name
            np.savez(tmp, images=images, masks=masks)
        os.replace(tmp_name, target)
    except OSError as err:
        log.warning("cannot write frame cache %s (%s)", target, err)
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
