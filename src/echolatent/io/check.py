"""Verify a dataset on disk and list every problem with its file; never writes anything.

Checked: every image and mask file is readable (not truncated, not garbage), finite, 2D or 2D+time;
masks hold labels 0..3 and every frame holds LV, MYO and LA; each mask has an image of the same shape,
spacing and orientation; sequences have at least 2 frames, no fewer than their cfg's NbFrame, and their
axes in the order frames x height x width; cfg files parse, their ED/ES differ and fall inside the
sequence; split files list existing patients. The rules are the loaders' (:mod:`echolatent.io.camus`,
:func:`echolatent.io.volume.read_image`), so what ``run`` would refuse is listed here. DICOM files, series
folders and videos are read as ``run`` reads them (:mod:`echolatent.io.check_recordings`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.io.camus import as_labels, split_mask_suffix
from echolatent.io.cfg import frame_number, read_cfg, read_split_file
from echolatent.io.check_recordings import echonet_problems, is_recording_file, recording_items, recording_problems
from echolatent.io.volume import SUPPORTED_SUFFIXES, Geometry, axis_order_problem, image_stem, read_image
from echolatent.labels import Label

log = logging.getLogger(__name__)

_SEQUENCE_NAME = re.compile(r"_(?P<view>2CH|4CH)_(?P<kind>half_sequence|sequence)$")


@dataclass(frozen=True)
class Problem:
    """One problem found in a dataset: the file and what is wrong with it."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _sequence_view(path: Path) -> str | None:
    """``"2CH"``/``"4CH"`` for a (half) sequence image or mask file, else None."""
    match = _SEQUENCE_NAME.search(split_mask_suffix(image_stem(path))[0])
    return match["view"] if match else None


def _is_image_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(SUPPORTED_SUFFIXES)


def dataset_files(path: str | Path) -> list[Path]:
    """Image/mask files, ``Info_*.cfg`` and split ``*.txt`` files under ``path`` (recursive, sorted)."""
    path = Path(path)
    if path.is_file():
        return [path]
    files = []
    for file in sorted(path.rglob("*")):
        if any(part.startswith(".") for part in file.relative_to(path).parts):
            continue
        is_cfg = file.name.startswith("Info_") and file.suffix == ".cfg"
        is_split = file.parent.name == "database_split" and file.suffix == ".txt"
        if _is_image_file(file) or (file.is_file() and (is_cfg or is_split)) or is_recording_file(file):
            files.append(file)
    return files


def _frames_text(frames: list[int]) -> str:
    shown = ", ".join(str(f) for f in frames[:10]) + (", ..." if len(frames) > 10 else "")
    return f"frame {shown}" if len(frames) == 1 else f"frames {shown}"


def structure_problems(labels: np.ndarray) -> list[str]:
    """Messages for ``(T, H, W)`` labels with frames that miss a structure (grouped by what is missing)."""
    present = np.stack([(labels == label).any(axis=(1, 2)) for label in Label.foreground()], axis=1)
    by_message: dict[str, list[int]] = {}
    for frame, row in enumerate(present):
        if not row.any():
            message = "empty mask (no LV, MYO or LA)"
        elif not row.all():
            missing = [label.name for label, ok in zip(Label.foreground(), row, strict=True) if not ok]
            message = f"{' and '.join(missing)} missing"
        else:
            continue
        by_message.setdefault(message, []).append(frame)
    if len(labels) == 1:
        return list(by_message)
    return [f"{_frames_text(frames)}: {message}" for message, frames in by_message.items()]


class _Checker:
    """Holds what was read so far (geometries, cfgs) while files are checked one by one."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.geometries: dict[Path, Geometry] = {}

    def add(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path, message))

    def read(self, path: Path) -> np.ndarray | None:
        try:
            array, geometry = read_image(path)
        except InputError as err:
            self.add(path, err.problem)
            return None
        swapped = axis_order_problem(array.shape) if _sequence_view(path) and len(array) > 1 else None
        if swapped:
            self.add(path, swapped)
            return None
        self.geometries[path] = geometry
        if _sequence_view(path) and len(array) < 2:
            self.add(path, "one-frame sequence (a sequence needs at least 2 frames)")
        return array

    def check_image(self, path: Path) -> None:
        self.read(path)

    def _read_quietly(self, path: Path) -> bool:
        """Read the geometry of an image outside the checked files (a mask checked alone); False if unreadable."""
        try:
            self.geometries[path] = read_image(path)[1]
        except InputError:
            return False
        return True

    def check_mask(self, path: Path) -> None:
        array = self.read(path)
        if array is not None:
            try:
                labels = as_labels(array, path)
            except InputError as err:
                self.add(path, err.problem)
            else:
                for message in structure_problems(labels):
                    self.add(path, message)
        base, _ = split_mask_suffix(image_stem(path))
        candidates = (path.parent / f"{base}{suffix}" for suffix in SUPPORTED_SUFFIXES)
        image = next((candidate for candidate in candidates if candidate.exists()), None)
        if image is None:
            self.add(path, f"mask without image (no {base}.nii.gz / .nii / .mhd beside it)")
        elif array is not None and (image in self.geometries or self._read_quietly(image)):
            mismatch = self.geometries[path].mismatch(self.geometries[image])
            if mismatch:
                self.add(path, f"{mismatch} ({image.name})")

    def parsed(self, path: Path, parse):
        """``parse(path)``, or None with the problem listed when it raises InputError."""
        try:
            return parse(path)
        except InputError as err:
            self.add(path, err.problem)
            return None

    def check_cfg(self, path: Path) -> None:
        info = self.parsed(path, read_cfg)
        if info is None:
            return
        view = path.stem.removeprefix("Info_")
        ed, es, nb = (frame_number(info, key, path) for key in ("ED", "ES", "NbFrame"))
        for key, number in (("ED", ed), ("ES", es)):
            if number is not None and nb is not None and number > nb:
                self.add(path, f"{key} {number} is past NbFrame {nb}")
        if ed is not None and ed == es:
            self.add(path, f"ED and ES are the same frame ({ed})")
        for seq_path, geometry in self.geometries.items():
            if seq_path.parent != path.parent or _sequence_view(seq_path) != view:
                continue
            frames = geometry.shape[0]
            swapped = axis_order_problem(geometry.shape, nb) if frames > 1 else None
            if swapped:
                self.add(seq_path, swapped)
                continue
            if nb is not None and frames < nb:
                self.add(seq_path, f"{frames} frames, fewer than NbFrame {nb} in {path.name}")
                continue
            for key, number in (("ED", ed), ("ES", es)):
                if number is not None and number > frames:
                    self.add(seq_path, f"{frames} frames, but {path.name} puts {key} at frame {number}")

    def check_split(self, path: Path) -> None:
        patients = self.parsed(path, read_split_file)
        if patients is None:
            return
        root = path.parent.parent
        folders = [root / "database_nifti", root / "training", root / "testing"]
        missing = [p for p in patients if not any((folder / p).is_dir() for folder in folders)]
        if missing:
            shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
            self.add(path, f"{len(missing)} listed patients have no folder ({shown})")


def check_dataset(path: str | Path, *, on_file: Callable[[Path], None] | None = None) -> list[Problem]:
    """Every problem of the dataset at ``path`` (CAMUS root, patient folder or one file), sorted by file.

    ``on_file(path)`` is called after each file is checked (for a progress bar). Reads only.
    """
    path = Path(path)
    if not path.exists():
        return [Problem(path, "not found")]
    files = dataset_files(path)
    if not files:
        return [Problem(path, "no image, mask, cfg, split, DICOM or video files found")]
    checker = _Checker()
    recordings = [f for f in files if is_recording_file(f) and not _is_image_file(f)]
    for item in recording_items(recordings):
        for problem_path, message in recording_problems(item):
            checker.add(problem_path, message)
    for problem_path, message in echonet_problems(path):
        checker.add(problem_path, message)
    for file in recordings if on_file is not None else ():
        on_file(file)
    files = [f for f in files if f not in set(recordings)]
    images = [f for f in files if _is_image_file(f) and not split_mask_suffix(image_stem(f))[1]]
    masks = [f for f in files if _is_image_file(f) and split_mask_suffix(image_stem(f))[1]]
    others = [f for f in files if not _is_image_file(f)]
    image_set = set(images)
    for file in images + masks + others:
        if file in image_set:
            checker.check_image(file)
        elif _is_image_file(file):
            checker.check_mask(file)
        elif file.suffix == ".cfg":
            checker.check_cfg(file)
        else:
            checker.check_split(file)
        if on_file is not None:
            on_file(file)
    log.debug("checked %d files (%d DICOM or video), %d problems", len(files) + len(recordings), len(recordings),
              len(checker.problems))
    return sorted(checker.problems, key=lambda p: (str(p.path), p.message))
