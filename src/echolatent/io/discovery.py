"""What a command works on, found under an input path: image sequences to segment, mask sequences to smooth or
evaluate, and the ground truth that goes with them (CAMUS layouts, patient folders, plain files).

Every function returns :class:`~echolatent.io.camus.SequenceRef` items in a stable order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from echolatent.errors import InputError
from echolatent.io.camus import SEQUENCE_KINDS, SequenceRef, find_sequences
from echolatent.io.echonet import is_echonet_root
from echolatent.io.recordings import is_recording, recording_refs

log = logging.getLogger(__name__)

#: CAMUS kinds a command may ask for (loose files are always taken).
IMAGE_KINDS = ("half_sequence", "sequence", "ED", "ES")


def default_refs(refs: Sequence[SequenceRef]) -> list[SequenceRef]:
    """Per patient and view, the (half) sequences when present, else the ED/ES frames; loose files always.

    The order is kept.
    """
    with_sequence = {(r.patient, r.view) for r in refs if r.kind in SEQUENCE_KINDS}
    keep = (*SEQUENCE_KINDS, "file")
    return [r for r in refs if r.kind in keep or (r.patient, r.view) not in with_sequence]


def select_refs(source: str | Path, kinds: Sequence[str] | None = None) -> list[SequenceRef]:
    """Images to segment under ``source`` (CAMUS root, patient folder(s), image files, DICOM files and series folders,
    videos, an EchoNet-Dynamic root).

    ``kinds=None`` picks :func:`default_refs`; otherwise only those CAMUS kinds (plus loose files and recordings).

    Raises:
        InputError: missing source, unsupported file, or no image found.
    """
    source = Path(source)
    if (source.is_file() and is_recording(source)) or is_echonet_root(source):
        refs = recording_refs(source)
    else:
        refs = find_sequences(source, kinds=kinds or IMAGE_KINDS, require_image=True)
        refs = default_refs(refs) if kinds is None else list(refs)
        refs += recording_refs(source) if source.is_dir() else []
    if not refs:
        raise InputError(source, "no image files found")
    return refs


def mask_sequences(source: str | Path) -> tuple[list[SequenceRef], str]:
    """Mask sequences under ``source`` and the suffix they were found by: ``_pred`` masks, else ``_gt`` masks, else
    plain label files (suffix ``""``, the refs' ``image``)."""
    for suffix in ("_pred", "_gt"):
        refs = [r for r in find_sequences(source, kinds=SEQUENCE_KINDS, mask_suffix=suffix) if r.mask is not None]
        if refs:
            return refs, suffix
    return [r for r in find_sequences(source, kinds=SEQUENCE_KINDS) if r.image is not None], ""


def masks_with_suffix(source: str | Path, suffix: str) -> list[SequenceRef]:
    """Every mask ``<name><suffix>`` under ``source`` (all kinds), sorted."""
    return [r for r in find_sequences(source, mask_suffix=suffix) if r.mask is not None]


def truth_refs(root: str | Path, suffix: str = "_gt") -> dict[tuple[str, str], SequenceRef]:
    """``{(patient, name): ref}`` of the ground-truth masks under ``root``."""
    return {(r.patient, r.name): r for r in masks_with_suffix(root, suffix)}


def pair_truth(refs: Sequence[SequenceRef], gt: str | Path | None) -> list[tuple[SequenceRef, SequenceRef | None]]:
    """Each ref with its ground truth: the ``_gt`` mask of the same patient and name under ``gt`` when given (a
    warning lists those without), else the ``_gt`` file beside the image (None when absent).

    Raises:
        InputError: ``gt`` given but holds no ``_gt`` mask.
    """
    if gt is None:
        return [(ref, ref if ref.mask is not None else None) for ref in refs]
    truth = truth_refs(gt)
    if not truth:
        raise InputError(Path(gt), "no ground-truth masks (_gt files) found")
    pairs = [(ref, truth.get((ref.patient, ref.name))) for ref in refs]
    missing = [ref.name for ref, found in pairs if found is None]
    if missing:
        log.warning("no ground truth under %s for %d sequence(s): %s", gt, len(missing), ", ".join(missing[:5]))
    return pairs
