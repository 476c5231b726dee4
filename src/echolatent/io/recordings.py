"""Recordings of any format as sequences the jobs run on: discovery of DICOM / video files (and EchoNet-Dynamic's
``Videos/``), loading them like CAMUS files, and the user's settings for what a file does not say.

:class:`RecordingOptions` holds ``--view``, ``--spacing MM[xMM]``, ``--fps``, ``--ed N --es N`` (1-based frame
numbers, as in CAMUS cfg files) and ``--sector auto|cut|off``; :func:`load_any` reads one sequence (NIfTI/MHD through
the CAMUS loader, others through :func:`echolatent.io.readers.read_recording`) and :func:`resolve` settles every value
with where it came from: the file first, then the option, else unknown (ED/ES: the cfg, then ``--ed/--es``, else
found on the smoothed LV curve).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.io.camus import EchoSequence, SequenceRef, load_sequence
from echolatent.io.dicom import DICOM_READER, dicom_name, read_dataset, safe_id, series_files, without_images
from echolatent.io.echonet import VIDEOS, is_echonet_root
from echolatent.io.readers import read_recording, resolve_spacing
from echolatent.io.sector import SECTOR_MODES
from echolatent.io.video import VIDEO_READER, is_video_file
from echolatent.io.volume import SUPPORTED_SUFFIXES
from echolatent.labels import View

log = logging.getLogger(__name__)

_SPACING = re.compile(r"^\s*(?P<sy>\d+(\.\d*)?|\.\d+)\s*(?:[xX*]\s*(?P<sx>\d+(\.\d*)?|\.\d+))?\s*$")


def parse_spacing(text: str) -> tuple[float, float]:
    """``"0.3"`` -> ``(0.3, 0.3)``; ``"0.3x0.25"`` -> ``(0.3, 0.25)`` (rows x columns, mm). ValueError otherwise."""
    match = _SPACING.match(str(text))
    if match is None:
        raise ValueError(f"pixel size {text!r}: expected MM or MMxMM (rows x columns), e.g. 0.3 or 0.3x0.25")
    sy = float(match["sy"])
    sx = float(match["sx"]) if match["sx"] else sy
    if sy <= 0 or sx <= 0:
        raise ValueError(f"pixel size {text!r} must be positive")
    return sy, sx


@dataclass(frozen=True)
class RecordingOptions:
    """What the user says about recordings, applied when a file does not say it (None: not given)."""

    view: View | None = None
    spacing: tuple[float, float] | None = None
    fps: float | None = None
    ed: int | None = None  # 1-based frame numbers, as in CAMUS cfg files
    es: int | None = None
    sector: str = "auto"  # auto|cut|off (:func:`echolatent.io.sector.cut_masks`)

    def __post_init__(self) -> None:
        if (self.ed is None) != (self.es is None):
            raise ValueError("--ed and --es go together")
        for key in ("ed", "es"):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise ValueError(f"--{key} {value}: frame numbers start at 1")
        if self.fps is not None and not self.fps > 0:
            raise ValueError(f"--fps {self.fps}: must be positive")
        if self.sector not in SECTOR_MODES:
            raise ValueError(f"--sector {self.sector!r}: choose from {', '.join(SECTOR_MODES)}")

    def as_config(self) -> dict:
        """JSON-friendly: what was given (None: not given)."""
        return {"view": self.view.value if self.view else None, "spacing": list(self.spacing) if self.spacing else None,
                "fps": self.fps, "ed": self.ed, "es": self.es, "sector": self.sector}


@dataclass
class Loaded:
    """A loaded sequence and everything settled about it: the sequence (ED/ES, spacing and view as used), the frame
    rate, whether ED/ES are still to be found, and ``facts``: each value with its source, for config/summary."""

    seq: EchoSequence
    fps: float | None
    find_instants: bool
    facts: dict


def is_recording(path: Path) -> bool:
    """A file or folder that only the DICOM or video reader reads (not NIfTI/MHD)."""
    path = Path(path)
    if path.is_file() and path.name.lower().endswith(SUPPORTED_SUFFIXES):
        return False
    return VIDEO_READER.can_read(path) or DICOM_READER.can_read(path)


def _dicom_patient(path: Path) -> str:
    first = series_files(path)[0] if path.is_dir() else path
    try:
        ds = read_dataset(first, pixels=False)
    except InputError:
        return safe_id(path.stem, "dicom")
    return safe_id(ds.get("PatientID", ""), safe_id(path.stem, "dicom"))


def recording_ref(path: Path) -> SequenceRef:
    """A :class:`SequenceRef` (kind ``"file"``) for a DICOM file, series folder or video: patient from the DICOM's
    PatientID (else the name), name the file stem."""
    path = Path(path)
    if is_video_file(path):
        name = safe_id(path.name[: -len(path.suffix)], "video")
        return SequenceRef(name, None, "file", path, None, None, name)
    return SequenceRef(_dicom_patient(path), None, "file", path, None, None, safe_id(dicom_name(path), "dicom"))


def recording_refs(source: str | Path) -> list[SequenceRef]:
    """Recordings under ``source``: the file itself, a series folder, EchoNet-Dynamic's ``Videos/``, or every DICOM /
    video file and series folder below a folder (sorted; names made unique within a patient)."""
    source = Path(source)
    if not source.exists():
        raise InputError(source, "not found")
    if is_echonet_root(source):
        source = source / VIDEOS
    if source.is_file() or (DICOM_READER.can_read(source) and _single_series(source)):
        return [recording_ref(source)] if is_recording(source) else []
    paths = []
    for folder in sorted({source, *(p for p in source.rglob("*") if p.is_dir() and not p.name.startswith("."))}):
        files = [p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")]
        if len(files) > 1 and DICOM_READER.can_read(folder) and _single_series(folder):
            paths.append(folder)
            continue
        images, skipped = without_images([p for p in files if is_recording(p)])
        if skipped:
            log.warning("%s: %s skipped", folder, skipped)
        paths += images
    return _unique([recording_ref(p) for p in paths])


def _single_series(folder: Path) -> bool:
    """A folder whose DICOM files are single frames of one series."""
    return is_one_series(series_files(folder))


def is_one_series(files: list[Path]) -> bool:
    """True when ``files`` are single-frame DICOMs of one series (read as one recording)."""
    series = set()
    for path in files:
        try:
            ds = read_dataset(path, pixels=False)
        except InputError:
            return False
        if int(ds.get("NumberOfFrames", 1) or 1) > 1:
            return False
        series.add(str(ds.get("SeriesInstanceUID", "")))
    return len(series) == 1


def _unique(refs: list[SequenceRef]) -> list[SequenceRef]:
    seen: dict[tuple[str, str], int] = {}
    out = []
    for ref in refs:
        key = (ref.patient, ref.name)
        seen[key] = seen.get(key, 0) + 1
        out.append(ref if seen[key] == 1 else replace(ref, name=f"{ref.name}_{seen[key]}"))
    return out


def _recording_sequence(ref: SequenceRef) -> tuple[EchoSequence, float | None, View | None, dict]:
    rec = read_recording(ref.image)
    seq = EchoSequence(ref, rec.frames, None, rec.geometry, rec.spacing or rec.geometry.spacing, {}, None, None, False)
    return seq, rec.fps, rec.view, dict(rec.meta)


def cfg_fps(info: dict[str, str]) -> float | None:
    """The cfg's ``FrameRate`` (frames per second), None when absent or not a positive number."""
    try:
        value = float(info.get("FrameRate", ""))
    except ValueError:
        return None
    return value if np.isfinite(value) and value > 0 else None


def load_any(ref: SequenceRef, options: RecordingOptions | None = None, spacing_mode: str = "auto") -> Loaded:
    """Load ``ref``'s image (any format) and settle spacing, frame rate, view and ED/ES (see the module docstring).

    Raises:
        InputError: unreadable file, ``--ed/--es`` past the last frame.
    """
    options = options or RecordingOptions()
    if ref.image is not None and ref.image.name.lower().endswith(SUPPORTED_SUFFIXES):
        seq = load_sequence(ref, mask=False)
        fps, view, meta = cfg_fps(seq.info), None, {"format": "nifti/mhd"}
        meta["fps_source"] = "cfg FrameRate" if fps else "unknown"
    else:
        seq, fps, view, meta = _recording_sequence(ref)
    return resolve(seq, fps, view, meta, options, spacing_mode)


def resolve(seq: EchoSequence, fps: float | None, view: View | None, meta: dict, options: RecordingOptions,
            spacing_mode: str = "auto") -> Loaded:
    """Settle spacing, frame rate, view and ED/ES of a loaded sequence: the file's, else the option's."""
    facts = {"format": meta.get("format", "")}
    spacing = resolve_spacing(seq.spacing, spacing_mode)
    facts["spacing_source"] = meta.get("spacing_source", "header") if spacing is not None else "unknown"
    if spacing is None and options.spacing is not None and spacing_mode != "none":
        spacing, facts["spacing_source"] = options.spacing, "--spacing"
    fps_source = meta.get("fps_source", "unknown") if fps else "unknown"
    if fps is None and options.fps is not None:
        fps, fps_source = options.fps, "--fps"
    view = seq.ref.view or view
    view_source = ("file name" if seq.ref.view else meta.get("view_source", "")) if view else "unknown"
    if view is None and options.view is not None:
        view, view_source = options.view, "--view"
    ref = replace(seq.ref, view=view)
    ed, es, find, instants_source = _instants(seq, options)
    seq = replace(seq, ref=ref, spacing=spacing, ed=ed, es=es)
    facts.update({"spacing": list(spacing) if spacing else None, "fps": fps, "fps_source": fps_source,
                  "view": view.value if view else None, "view_source": view_source,
                  "instants_source": instants_source})
    return Loaded(seq, fps, find, facts)


def _instants(seq: EchoSequence, options: RecordingOptions) -> tuple[int | None, int | None, bool, str]:
    """``(ed, es, find them?, source)``: the cfg's, else ``--ed/--es`` (1-based), else found (sequences only)."""
    frames = seq.num_frames
    if seq.ref.kind in ("ED", "ES"):
        return seq.ed, seq.es, False, "file name"
    if seq.ref.cfg is not None and seq.ed is not None and seq.es is not None:
        return seq.ed, seq.es, False, "cfg"
    if options.ed is not None and options.es is not None:
        for key, number in (("--ed", options.ed), ("--es", options.es)):
            if number > frames:
                raise InputError(seq.ref.image, f"{key} {number} is past the last frame ({frames})")
        return options.ed - 1, options.es - 1, False, "--ed/--es"
    if frames < 2:
        return None, None, False, "single frame"
    return None, None, True, "found on the smoothed LV area curve"
