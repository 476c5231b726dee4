"""One interface for every recording format: a :class:`Reader` per format, chosen from the file.

A reader turns one file (or series folder) into a :class:`Recording`: frames ``(T, H, W)`` uint8 grey with the apex
at the top, pixel spacing ``(sy, sx)`` mm or None when unknown, frame rate and view when the file says, and the
source :class:`~echolatent.io.volume.Geometry` that masks are written like. Adding a format is adding a class with
``name``, ``can_read`` and ``read`` and one :func:`register_reader` call; nothing else moves.

Unit rule shared by every command: a header spacing of exactly 1 x 1 mm is what tools write when they know no pixel
size (as in camus224), so it reads as unknown (``spacing=None``; the geometry keeps the header's values).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from echolatent.errors import InputError
from echolatent.io.volume import Geometry, as_uint8_image, image_stem, read_image, write_like
from echolatent.labels import View, check_labels

log = logging.getLogger(__name__)

UNKNOWN_SPACING_HEADER = (1.0, 1.0)
_CAMUS_STEM = re.compile(r"^(?P<patient>patient\d+)_(?P<view>2CH|4CH)_")


@dataclass(frozen=True)
class Recording:
    """One recording: ``frames (T, H, W)`` uint8 grey, apex at the top.

    Attributes:
        frames: ``(T, H, W)`` uint8.
        spacing: ``(sy, sx)`` mm; None = unknown.
        fps: frames per second; None = unknown.
        view: apical view; None = unknown.
        geometry: on-disk geometry masks are written like (:func:`write_masks`).
        source: the file (or series folder) read.
        patient: id used for the output folder (e.g. ``patient0001``).
        name: sequence stem used for output names (``<name>_pred.nii.gz``).
        meta: what the reader found (``format``, ``spacing_source``, ...), as strings.
    """

    frames: np.ndarray
    spacing: tuple[float, float] | None
    fps: float | None
    view: View | None
    geometry: Geometry
    source: Path
    patient: str
    name: str
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.frames.shape[0])


@runtime_checkable
class Reader(Protocol):
    """A recording format: ``name`` ("nifti", "mhd", "dicom", "video"), a cheap ``can_read`` test, ``read``."""

    name: str

    def can_read(self, path: Path) -> bool:
        """True when ``path`` is in this reader's format (by suffix or by content)."""
        ...

    def read(self, path: Path) -> Recording:
        """Read ``path``. Raises InputError(path, reason) on bad input."""
        ...


_REGISTRY: list[Reader] = []


def register_reader(reader: Reader) -> None:
    """Append ``reader`` to the registry (:func:`reader_for` asks readers in registration order)."""
    if not isinstance(reader, Reader):
        raise TypeError(f"{reader!r} does not implement the Reader protocol (name, can_read, read)")
    _REGISTRY.append(reader)


def registered_readers() -> tuple[Reader, ...]:
    """The registered readers, in the order :func:`reader_for` tries them."""
    return tuple(_REGISTRY)


def reader_for(path: str | Path) -> Reader:
    """The first registered reader whose ``can_read(path)`` is True.

    Raises:
        InputError: no reader for this file.
    """
    path = Path(path)
    for reader in _REGISTRY:
        if reader.can_read(path):
            return reader
    names = ", ".join(r.name for r in _REGISTRY)
    raise InputError(path, f"unsupported file type (readers: {names})")


def read_recording(path: str | Path) -> Recording:
    """Read one recording with the reader chosen by :func:`reader_for`.

    Raises:
        InputError: unsupported, missing or unreadable file.
    """
    path = Path(path)
    return reader_for(path).read(path)


def header_spacing(geometry: Geometry) -> tuple[float, float] | None:
    """``(sy, sx)`` mm of a header, None when it is exactly 1 x 1 mm (the value of tools that know no spacing)."""
    return resolve_spacing(geometry.spacing, "auto")


#: How commands take a header's spacing: the unit rule (``auto``), always (``header``), never (``none``: pixels).
SPACING_MODES = ("auto", "header", "none")


def resolve_spacing(spacing: tuple[float, float] | None, mode: str = "auto") -> tuple[float, float] | None:
    """The spacing to measure with, from a header's ``(sy, sx)`` mm: the header's (``"header"``), none (``"none"``:
    pixel units), or ``"auto"``: the header's unless it is exactly 1 x 1 mm (the unit rule of every command).

    Raises:
        ValueError: unknown mode.
    """
    if mode not in SPACING_MODES:
        raise ValueError(f"spacing mode must be one of {SPACING_MODES}, got {mode!r}")
    if spacing is None or mode == "none":
        return None
    values = (float(spacing[0]), float(spacing[1]))
    return None if mode == "auto" and values == UNKNOWN_SPACING_HEADER else values


def camus_ids(stem: str) -> tuple[str, View | None]:
    """``(patient, view)`` of a file stem: CAMUS names give both (``patient0001_4CH_...``), others ``(stem, None)``."""
    match = _CAMUS_STEM.match(stem)
    if match is None:
        return stem, None
    return match["patient"], View(match["view"])


def write_masks(recording: Recording, masks: np.ndarray, path: str | Path) -> Path:
    """Write labels ``(T, H, W)`` (0..3) atomically to ``path`` with the recording's geometry.

    Raises:
        ValueError: masks of another shape than the frames, or ``path`` is the recording's own file.
        InputError: labels outside 0..3.
    """
    path = Path(path)
    masks = np.asarray(masks)
    if masks.shape != recording.frames.shape:
        raise ValueError(f"mask shape {masks.shape} does not match the recording's {recording.frames.shape}")
    if path.resolve() == recording.source.resolve():
        raise ValueError(f"{path}: refusing to overwrite an input file")
    return write_like(np.ascontiguousarray(check_labels(masks, allow_2d=False)), recording.geometry, path)


class _ImageFileReader:
    """NIfTI / MHD files through :func:`echolatent.io.volume.read_image` (intensities made uint8)."""

    def __init__(self, name: str, suffixes: tuple[str, ...]) -> None:
        self.name = name
        self.suffixes = suffixes

    def can_read(self, path: Path) -> bool:
        """True for a name ending with one of this reader's suffixes (case-insensitive)."""
        return Path(path).name.lower().endswith(self.suffixes)

    def read(self, path: Path) -> Recording:
        """Read the file; spacing from the header (1 x 1 mm: unknown), view from a CAMUS name, no frame rate."""
        path = Path(path)
        raw, geometry = read_image(path)
        frames = as_uint8_image(raw, path)
        stem = image_stem(path)
        patient, view = camus_ids(stem)
        spacing = header_spacing(geometry)
        meta = {"format": self.name, "spacing_source": "header" if spacing is not None else "unknown (1 x 1 mm header)"}
        return Recording(frames, spacing, None, view, geometry, path, patient, stem, meta)

    def __repr__(self) -> str:
        return f"<reader {self.name} {self.suffixes}>"


NIFTI_READER = _ImageFileReader("nifti", (".nii.gz", ".nii"))
MHD_READER = _ImageFileReader("mhd", (".mhd",))
register_reader(NIFTI_READER)
register_reader(MHD_READER)
