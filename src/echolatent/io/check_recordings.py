"""``data check`` for recordings: DICOM files and series folders, videos, an EchoNet-Dynamic layout.

Each recording is read as ``run`` would read it; the problems listed: unreadable or undecodable files, zero frames,
no pixel size (no ultrasound region calibration nor PixelSpacing; a video never has one), no frame rate, a single
frame (no beat to find); for EchoNet-Dynamic, videos that ``FileList.csv`` names but ``Videos/`` lacks. Reads only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from echolatent.errors import InputError
from echolatent.io.dicom import DICOM_READER, is_dicom_file, without_images
from echolatent.io.echonet import FILE_LIST, is_echonet_root, read_file_list
from echolatent.io.recordings import is_one_series
from echolatent.io.video import VIDEO_READER, is_video_file

log = logging.getLogger(__name__)


def is_recording_file(path: Path) -> bool:
    """A DICOM (by suffix or content) or video file."""
    return path.is_file() and (is_video_file(path) or is_dicom_file(path))


def recording_items(files: Iterable[Path]) -> list[Path]:
    """What to check among ``files``: each video and DICOM file, except that the DICOM files of a folder holding one
    single-frame series are one item, the folder."""
    by_folder: dict[Path, list[Path]] = {}
    items = []
    for path in files:
        if is_video_file(path):
            items.append(path)
        else:
            by_folder.setdefault(path.parent, []).append(path)
    for folder, group in by_folder.items():
        images, skipped = without_images(group)  # DICOMDIR, reports: not recordings
        if skipped:
            log.warning("%s: %s not checked", folder, skipped)
        items += [folder] if len(images) > 1 and is_one_series(images) else images
    return sorted(items)


def recording_problems(path: Path) -> list[tuple[Path, str]]:
    """``[(path, message)]`` for one recording (file or series folder); empty when it is fine."""
    reader = VIDEO_READER if is_video_file(path) else DICOM_READER
    try:
        rec = reader.read(path)
    except InputError as err:
        return [(err.path or path, err.problem)]
    problems = []
    if rec.spacing is None:
        where = ("a video holds no pixel size" if reader is VIDEO_READER
                 else "no ultrasound region calibration and no PixelSpacing")
        problems.append((path, f"no pixel size ({where}): volumes in pixels unless --spacing is given"))
    if rec.fps is None:
        problems.append((path, "no frame rate (FrameTime, CineRate...): ED spacing unchecked unless --fps is given"))
    if rec.num_frames < 2:
        problems.append((path, "a single frame: no beat, no ED/ES to find"))
    return problems


def echonet_problems(root: Path) -> list[tuple[Path, str]]:
    """Problems of an EchoNet-Dynamic root: a malformed FileList.csv, listed videos missing under Videos/."""
    if not is_echonet_root(root):
        return []
    try:
        cases = read_file_list(root)
    except InputError as err:
        return [(err.path or root / FILE_LIST, err.problem)]
    missing = [case.name for case in cases if not case.video.is_file()]
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
    return [(root / FILE_LIST, f"{len(missing)} listed video(s) missing under Videos/ ({shown})")]
