"""EchoNet-Dynamic's layout read as a dataset: ``Videos/<FileName>.avi``, ``FileList.csv``, ``VolumeTracings.csv``.

``FileList.csv`` columns: FileName, EF, ESV, EDV, FrameHeight, FrameWidth, FPS, NumberOfFrames, Split (FileName with or
without ``.avi``). ``VolumeTracings.csv``: FileName, X1, Y1, X2, Y2, Frame: per traced frame, the first row is the
long axis and the others the disc chords of the expert LV tracing, at one ED and one ES frame. The videos are read
with :mod:`echolatent.io.video`; nothing here copies or ships the set (its licence forbids redistribution).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echolatent.errors import InputError

log = logging.getLogger(__name__)

FILE_LIST = "FileList.csv"
TRACINGS = "VolumeTracings.csv"
VIDEOS = "Videos"


@dataclass(frozen=True)
class EchoNetCase:
    """One row of ``FileList.csv`` with its video path and expert tracings.

    Attributes:
        name: file stem (``0X1A0A263B22CCD966``).
        ef, edv, esv: the reference EF (%) and volumes (mL), NaN when blank.
        fps: frame rate from the list (NaN when blank).
        split: TRAIN / VAL / TEST ("" when absent).
        tracings: ``{frame (0-based): (N, 4) X1, Y1, X2, Y2}`` expert LV tracing lines.
    """

    name: str
    video: Path
    ef: float
    edv: float
    esv: float
    fps: float
    split: str
    tracings: dict[int, np.ndarray] = field(default_factory=dict)

    def traced_instants(self) -> tuple[int | None, int | None]:
        """``(ED, ES)`` 0-based frames of the tracings: the larger traced LV (sum of chord lengths) is ED."""
        if len(self.tracings) < 2:
            return None, None
        sizes = {frame: float(np.hypot(lines[1:, 2] - lines[1:, 0], lines[1:, 3] - lines[1:, 1]).sum())
                 for frame, lines in self.tracings.items()}
        ordered = sorted(sizes, key=sizes.get)
        return ordered[-1], ordered[0]


def is_echonet_root(path: str | Path) -> bool:
    """True for a folder holding ``FileList.csv`` and ``Videos/``."""
    path = Path(path)
    return (path / FILE_LIST).is_file() and (path / VIDEOS).is_dir()


def _stem(file_name: str) -> str:
    name = Path(file_name.strip()).name
    return name[:-4] if name.lower().endswith(".avi") else name


def _number(row: dict, key: str, path: Path) -> float:
    value = (row.get(key) or "").strip()
    if not value:
        return float("nan")
    try:
        return float(value)
    except ValueError:
        raise InputError(path, f"{key} {value!r} of {row.get('FileName')} is not a number") from None


def _rows(path: Path, required: tuple[str, ...]) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [key for key in required if key not in (reader.fieldnames or [])]
            if missing:
                raise InputError(path, f"missing column(s) {', '.join(missing)}")
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(path, f"unreadable CSV ({err})") from None


def read_tracings(root: Path) -> dict[str, dict[int, np.ndarray]]:
    """``{stem: {frame: (N, 4) lines}}`` from ``VolumeTracings.csv`` ({} when the file is absent)."""
    path = Path(root) / TRACINGS
    if not path.is_file():
        return {}
    lines: dict[str, dict[int, list]] = {}
    for row in _rows(path, ("FileName", "X1", "Y1", "X2", "Y2", "Frame")):
        frame = int(float(row["Frame"]))
        coords = [_number(row, key, path) for key in ("X1", "Y1", "X2", "Y2")]
        lines.setdefault(_stem(row["FileName"]), {}).setdefault(frame, []).append(coords)
    return {name: {f: np.asarray(v, np.float64) for f, v in frames.items()} for name, frames in lines.items()}


def read_file_list(root: str | Path, split: str | None = None) -> list[EchoNetCase]:
    """The cases of an EchoNet-Dynamic root (optionally one ``split``), with their tracings.

    Raises:
        InputError: not an EchoNet root, a malformed CSV.
    """
    root = Path(root)
    if not is_echonet_root(root):
        raise InputError(root, f"not an EchoNet-Dynamic folder (needs {FILE_LIST} and {VIDEOS}/)")
    path = root / FILE_LIST
    tracings = read_tracings(root)
    cases = []
    for row in _rows(path, ("FileName", "EF")):
        name = _stem(row["FileName"])
        case_split = (row.get("Split") or "").strip().upper()
        if split is not None and case_split != split.upper():
            continue
        numbers = [_number(row, key, path) for key in ("EF", "EDV", "ESV", "FPS")]
        cases.append(EchoNetCase(name, root / VIDEOS / f"{name}.avi", *numbers, case_split, tracings.get(name, {})))
    return cases


def reference_ef(root: str | Path) -> dict[str, float]:
    """``{video stem: EF %}`` of ``FileList.csv`` (rows with a number only)."""
    return {case.name: case.ef for case in read_file_list(root) if np.isfinite(case.ef)}


def echonet_videos(root: str | Path, split: str | None = None) -> list[Path]:
    """The videos of ``FileList.csv`` (optionally one split) that exist under ``Videos/``; missing ones are logged."""
    cases = read_file_list(root, split)
    present = [case.video for case in cases if case.video.is_file()]
    if len(present) < len(cases):
        log.warning("%s: %d video(s) of %s are missing", root, len(cases) - len(present), FILE_LIST)
    return present
