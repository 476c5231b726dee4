"""DICOM ultrasound recordings: multi-frame files, single-frame series folders, grey frames, calibrated geometry.

A file gives frames ``(T, H, W)`` uint8 grey (MONOCHROME1/2, RGB, YBR_FULL(_422), PALETTE COLOR; compressed
pixel data through pydicom and its plugins: JPEG and JPEG-LS by pylibjpeg-libjpeg or Pillow, JPEG 2000 by
pylibjpeg-openjpeg, RLE by pydicom), the pixel size ``(sy, sx)`` mm and the frame rate:

* pixel size: the 2D region of ``SequenceOfUltrasoundRegions`` that holds the image (``RegionSpatialFormat`` 1, the
  largest when several; ``PhysicalUnitsX/YDirection`` 3 = cm, so ``PhysicalDeltaX/Y`` x 10 mm; a warning when other
  2D regions disagree), else ``PixelSpacing``, else unknown (None);
* frame rate: ``FrameTime`` (ms per frame), else ``FrameTimeVector``, ``CineRate``, ``RecommendedDisplayFrameRate``.

The source is only read. Nothing is sent anywhere.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from echolatent.errors import InputError
from echolatent.io.readers import Recording
from echolatent.io.volume import Geometry, as_uint8_image
from echolatent.labels import View

log = logging.getLogger(__name__)

DICOM_SUFFIXES = (".dcm", ".dicom")
MAGIC_OFFSET = 128
UNITS_CM = 3  # PhysicalUnitsX/YDirection code for centimetres
SPATIAL_2D = 1  # RegionSpatialFormat code for a 2D (tissue or colour flow) region
LUMA = np.array([0.299, 0.587, 0.114])
_VIEW_PATTERNS = (
    (View.A4C, re.compile(r"(\bA4C\b|\b4 ?CH\b|four[- ]chamber|apical 4)", re.IGNORECASE)),
    (View.A2C, re.compile(r"(\bA2C\b|\b2 ?CH\b|two[- ]chamber|apical 2)", re.IGNORECASE)),
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def has_dicom_magic(path: Path) -> bool:
    """True when ``path`` is a file with the DICOM preamble's ``DICM`` at byte 128."""
    try:
        with open(path, "rb") as handle:
            handle.seek(MAGIC_OFFSET)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def is_dicom_file(path: Path) -> bool:
    """A DICOM file by suffix (``.dcm``, ``.dicom``) or by content (``DICM`` at byte 128)."""
    path = Path(path)
    return path.name.lower().endswith(DICOM_SUFFIXES) or (path.is_file() and has_dicom_magic(path))


def dicom_name(path: Path) -> str:
    """The name of a recording: a folder's name, a file's name without ``.dcm`` / ``.dicom``."""
    path = Path(path)
    return path.name[: -len(path.suffix)] if path.is_file() and path.suffix.lower() in DICOM_SUFFIXES else path.name


def series_files(folder: Path) -> list[Path]:
    """The DICOM files directly inside ``folder`` (by suffix or content) that may hold an image
    (:func:`holds_image`), sorted by name."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and not p.name.startswith(".") and is_dicom_file(p) and holds_image(p))


def holds_image(path: Path) -> bool:
    """False for a DICOM object that is not an image (a DICOMDIR, a structured report, a key object selection, as
    every CD or PACS export holds beside the images): its SOP class named, not an image or volume class, and no
    image attributes (Rows, pixel data). True otherwise: an unreadable or unrecognisable file, or an image cut short,
    is left to the reader, which names its problem. Values over 1 KB are not read (the pixel data stays on disk)."""
    path = Path(path)
    try:
        ds = pydicom.dcmread(path, force=path.name.lower().endswith(DICOM_SUFFIXES), defer_size=1024)
    except Exception:  # damaged: the reader will say how
        return True
    sop_class = ds.get("SOPClassUID", None) or ds.file_meta.get("MediaStorageSOPClassUID", None)
    if sop_class is None:  # not recognisably DICOM
        return True
    name = UID(str(sop_class)).name
    return "PixelData" in ds or "Rows" in ds or "Image" in name or "Volume" in name


def without_images(paths: list[Path]) -> tuple[list[Path], str]:
    """``paths`` less the DICOM objects without an image (:func:`holds_image`; videos and other files kept), and a
    text naming those left out ("" when none; at most three names, then "...")."""
    image = [not is_dicom_file(p) or holds_image(p) for p in paths]
    kept = [p for p, keep in zip(paths, image, strict=True) if keep]
    left = [p.name for p, keep in zip(paths, image, strict=True) if not keep]
    text = f"{len(left)} DICOM file(s) without an image ({', '.join(left[:3])}{', ...' if len(left) > 3 else ''})"
    return kept, text if left else ""


def read_dataset(path: Path, pixels: bool = True) -> Dataset:
    """``pydicom.dcmread`` with every failure as InputError (``pixels`` False stops before the pixel data)."""
    if not path.is_file():
        raise InputError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file")
    try:
        ds = pydicom.dcmread(path, force=path.name.lower().endswith(DICOM_SUFFIXES), stop_before_pixels=not pixels)
        return _with_transfer_syntax(ds, path)
    except InvalidDicomError:
        raise InputError(path, "not a DICOM file (no DICM marker at byte 128)") from None
    except Exception as err:  # pydicom raises many types on damaged files
        raise InputError(path, f"unreadable DICOM ({type(err).__name__}: {str(err)[:160]})") from None


def _with_transfer_syntax(ds: Dataset, path: Path) -> Dataset:
    """``ds`` with a transfer syntax in its file meta: a file written without one (no file meta, as old exports
    are) gets the uncompressed syntax it was parsed with, so its pixel data decodes; encapsulated (compressed) pixel
    data without one cannot be decoded and stays as it is (the decoding error names it)."""
    if "TransferSyntaxUID" in ds.file_meta:  # dcmread gives every dataset a file meta, empty when the file has none
        return ds
    implicit, little = ds.original_encoding
    if implicit is None or little is None:
        return ds
    syntax = ImplicitVRLittleEndian if implicit else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    if "PixelData" in ds and ds["PixelData"].is_undefined_length:  # encapsulated: a codec nobody named
        return ds
    ds.ensure_file_meta()
    ds.file_meta.TransferSyntaxUID = syntax
    log.info("%s: no transfer syntax in the file meta; read as %s", path, syntax.name)
    return ds


def region_spacing(ds: Dataset, path: Path | None = None) -> tuple[tuple[float, float] | None, str]:
    """``((sy, sx) mm or None, where it came from)`` from the ultrasound regions, else ``PixelSpacing``."""
    regions = []
    for item in ds.get("SequenceOfUltrasoundRegions", None) or []:
        if item.get("RegionSpatialFormat", None) != SPATIAL_2D:
            continue
        units = (item.get("PhysicalUnitsXDirection", None), item.get("PhysicalUnitsYDirection", None))
        dx, dy = item.get("PhysicalDeltaX", None), item.get("PhysicalDeltaY", None)
        if units != (UNITS_CM, UNITS_CM) or not dx or not dy:
            log.info("%s: a 2D ultrasound region without a calibration in cm (units %s) is ignored", path, units)
            continue
        width = int(item.get("RegionLocationMaxX1", 0)) - int(item.get("RegionLocationMinX0", 0)) + 1
        height = int(item.get("RegionLocationMaxY1", 0)) - int(item.get("RegionLocationMinY0", 0)) + 1
        regions.append((width * height, abs(float(dy)) * 10.0, abs(float(dx)) * 10.0))
    if regions:
        area, sy, sx = max(regions)
        source = "SequenceOfUltrasoundRegions (2D region, cm x 10)"
        if any(not np.allclose((y, x), (sy, sx), rtol=1e-6, atol=0) for _, y, x in regions):
            deltas = ", ".join(f"{y:.4g} x {x:.4g}" for _, y, x in regions)
            log.warning("%s: 2D ultrasound regions disagree on the pixel size (%s mm); the largest region's is used",
                        path, deltas)
            source += f"; {len(regions)} 2D regions disagree ({deltas} mm), the largest used"
        return (sy, sx), source
    spacing = ds.get("PixelSpacing", None)
    spacing = list(spacing) if isinstance(spacing, MultiValue) else []  # one value (VM 1) or none: no pixel size
    if len(spacing) == 2 and float(spacing[0]) > 0 and float(spacing[1]) > 0:
        return (float(spacing[0]), float(spacing[1])), "PixelSpacing"
    return None, "unknown (no ultrasound region calibration, no PixelSpacing)"


def frame_rate(ds: Dataset) -> tuple[float | None, str]:
    """``(frames per second or None, the tag it came from)``."""
    frame_time = _positive(ds.get("FrameTime", None))
    if frame_time is not None:
        return 1000.0 / frame_time, "FrameTime"
    vector = ds.get("FrameTimeVector", None)
    if isinstance(vector, MultiValue) and len(vector) > 1:  # one value (VM 1) gives no step
        steps = [float(v) for v in list(vector)[1:]]
        if min(steps) > 0:
            return 1000.0 / float(np.mean(steps)), "FrameTimeVector"
    for key in ("CineRate", "RecommendedDisplayFrameRate"):
        rate = _positive(ds.get(key, None))
        if rate is not None:
            return rate, key
    return None, "unknown"


def _positive(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) and number > 0 else None


def grey_frames(ds: Dataset, path: Path) -> np.ndarray:
    """Decoded pixel data -> ``(T, H, W)`` uint8 grey (luminance of colour data, MONOCHROME1 inverted)."""
    if "PixelData" not in ds:
        raise InputError(path, "no pixel data (not an image)")
    frames = int(ds.get("NumberOfFrames", 1) or 0)
    if frames < 1:
        raise InputError(path, "zero frames (NumberOfFrames is 0)")
    try:
        pixels = ds.pixel_array
    except Exception as err:  # missing decoder plugin, truncated pixel data...
        syntax = ds.file_meta.get("TransferSyntaxUID", "?") if hasattr(ds, "file_meta") else "?"
        raise InputError(path, f"cannot decode the pixel data ({syntax}: {str(err).splitlines()[0][:160]})") from None
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    samples = int(ds.get("SamplesPerPixel", 1))
    bits = int(ds.get("BitsStored", 8))
    if photometric == "PALETTE COLOR":  # RGB of the LUT's nominal depth (8 or 16 bits), not the indices' depth
        pixels, samples = apply_color_lut(pixels, ds), 3
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2])  # 8-bit entries may be stored in 16-bit words
    if (samples == 1 and pixels.ndim == 2) or (samples == 3 and pixels.ndim == 3):
        pixels = pixels[None]
    if samples == 3:
        pixels = np.asarray(pixels, np.float64) @ LUMA  # pydicom gives YBR data as RGB
    elif photometric == "MONOCHROME1":
        pixels = (2**bits - 1) - np.asarray(pixels, np.int64)
    if pixels.ndim != 3 or min(pixels.shape) == 0:
        raise InputError(path, f"unexpected pixel array of shape {pixels.shape}")
    if bits > 8:  # grey or colour of more than 8 bits: scaled by its full range, not stretched by the frames'
        pixels = np.asarray(pixels, np.float64) * (255.0 / (2**bits - 1))
    return as_uint8_image(np.clip(np.round(pixels), 0, None) if pixels.dtype.kind == "f" else pixels, path)


def view_hint(ds: Dataset) -> View | None:
    """The apical view when a description tag names it (``A4C``, ``4CH``, ``apical 4 chamber``...), else None."""
    texts = [str(ds.get(key, "")) for key in ("SeriesDescription", "ProtocolName", "ImageComments", "StudyDescription")]
    for item in ds.get("ViewCodeSequence", None) or []:
        texts.append(str(item.get("CodeMeaning", "")))
    text = " ".join(texts)
    for view, pattern in _VIEW_PATTERNS:
        if pattern.search(text):
            return view
    return None


def safe_id(text: str, fallback: str) -> str:
    """A folder-safe id: runs of other characters than letters, digits, ``._-`` become ``_``; ``fallback`` if empty."""
    cleaned = _UNSAFE.sub("_", str(text or "").strip()).strip("._")
    return cleaned or fallback


def _recording(ds: Dataset, frames: np.ndarray, source: Path, name: str, extra: dict[str, str]) -> Recording:
    spacing, spacing_source = region_spacing(ds, source)
    fps, fps_source = frame_rate(ds)
    view = view_hint(ds)
    syntax = ds.file_meta.get("TransferSyntaxUID", None) if hasattr(ds, "file_meta") else None
    meta = {
        "format": "dicom",
        "spacing_source": spacing_source,
        "fps_source": fps_source,
        "view_source": "DICOM description" if view is not None else "unknown",
        "photometric": str(ds.get("PhotometricInterpretation", "")),
        "transfer_syntax": str(getattr(syntax, "name", syntax or "")),
        "patient_id": str(ds.get("PatientID", "")),
        "series_uid": str(ds.get("SeriesInstanceUID", "")),
        "series_number": str(ds.get("SeriesNumber", "")),
        **extra,
    }
    geometry = Geometry.default(frames.shape, spacing or (1.0, 1.0))
    patient = safe_id(ds.get("PatientID", ""), safe_id(name, "dicom"))
    return Recording(frames, spacing, fps, view, geometry, source, patient, safe_id(name, "dicom"), meta)


def read_dicom_file(path: Path) -> Recording:
    """One DICOM file (multi-frame or a single frame) -> :class:`Recording`; InputError on bad input."""
    path = Path(path)
    ds = read_dataset(path)
    return _recording(ds, grey_frames(ds, path), path, dicom_name(path), {"files": "1"})


def read_dicom_series(folder: Path) -> Recording:
    """A folder of single-frame DICOM files of one series -> frames ordered by InstanceNumber (then file name)."""
    folder = Path(folder)
    files = series_files(folder)
    if not files:
        raise InputError(folder, "no DICOM file in the folder")
    if len(files) == 1:
        return read_dicom_file(files[0])
    datasets = [(read_dataset(p), p) for p in files]
    series = {str(ds.get("SeriesInstanceUID", "")) for ds, _ in datasets}
    if len(series) > 1:
        raise InputError(folder, f"{len(series)} DICOM series in one folder: give one folder per series")
    multi = [p.name for ds, p in datasets if int(ds.get("NumberOfFrames", 1) or 1) > 1]
    if multi:
        raise InputError(folder, f"multi-frame files in a series folder ({', '.join(multi[:3])}): give them one by one")
    datasets.sort(key=lambda item: (int(item[0].get("InstanceNumber", 0) or 0), item[1].name))
    frames = [grey_frames(ds, p) for ds, p in datasets]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise InputError(folder, f"frames of different sizes in one series: {sorted(shapes)}")
    first = datasets[0][0]
    return _recording(first, np.concatenate(frames), folder, folder.name, {"files": str(len(files))})


class DicomReader:
    """DICOM files (``.dcm``/``.dicom`` or ``DICM`` at byte 128) and folders holding one single-frame series."""

    name = "dicom"

    def can_read(self, path: Path) -> bool:
        """A DICOM file, or a folder whose files include DICOM files and no NIfTI/MHD image."""
        path = Path(path)
        if path.is_dir():
            names = [p.name.lower() for p in path.iterdir()]
            if any(n.endswith((".nii", ".nii.gz", ".mhd")) for n in names):
                return False
            return bool(series_files(path))
        return is_dicom_file(path)

    def read(self, path: Path) -> Recording:
        """Read a file or a series folder. Raises InputError on bad input."""
        path = Path(path)
        if path.is_dir():
            return read_dicom_series(path)
        return read_dicom_file(path)

    def __repr__(self) -> str:
        return "<reader dicom (.dcm, DICM magic, series folders)>"


DICOM_READER = DicomReader()
