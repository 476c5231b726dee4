"""Write frames ``(T, H, W)`` uint8 as the files scanners and public sets hold: ultrasound DICOM and AVI/MP4 video.

Used to build test recordings from synthetic sequences (the readers in :mod:`echolatent.io.dicom` and
:mod:`echolatent.io.video` read them back). DICOM: multi-frame or one file per frame, MONOCHROME2 / RGB / YBR_FULL,
uncompressed or JPEG baseline (frames encoded with Pillow), optional ``SequenceOfUltrasoundRegions`` calibration,
``PixelSpacing``, frame-rate tags. Video: lossless by default (FFV1 in AVI, H.264 at qp 0 in MP4) or any PyAV codec.
Every file is written to a temporary name and renamed.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import convert_color_space
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    UltrasoundImageStorage,
    UltrasoundMultiFrameImageStorage,
    generate_uid,
)

PHOTOMETRICS = ("MONOCHROME2", "RGB", "YBR_FULL")
VIDEO_CODECS = {".avi": ("ffv1", "gray", {}), ".mp4": ("libx264", "yuv444p", {"qp": "0"})}


@dataclass(frozen=True)
class UltrasoundRegion:
    """One ``SequenceOfUltrasoundRegions`` item: pixel box ``(x0, y0, x1, y1)`` (inclusive) and ``(sy, sx)`` mm."""

    box: tuple[int, int, int, int]
    spacing: tuple[float, float]
    spatial_format: int = 1  # 1 = 2D
    data_type: int = 1  # 1 = tissue
    units: int = 3  # 3 = cm

    def item(self) -> Dataset:
        """The DICOM sequence item (deltas in cm when ``units`` is 3)."""
        scale = 0.1 if self.units == 3 else 1.0
        item = Dataset()
        item.RegionSpatialFormat = self.spatial_format
        item.RegionDataType = self.data_type
        item.RegionFlags = 0
        item.RegionLocationMinX0, item.RegionLocationMinY0 = self.box[0], self.box[1]
        item.RegionLocationMaxX1, item.RegionLocationMaxY1 = self.box[2], self.box[3]
        item.PhysicalUnitsXDirection = self.units
        item.PhysicalUnitsYDirection = self.units
        item.PhysicalDeltaX = self.spacing[1] * scale
        item.PhysicalDeltaY = self.spacing[0] * scale
        return item


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _base_dataset(multi_frame: bool, patient_id: str, series_uid: str, description: str) -> Dataset:
    sop_class = UltrasoundMultiFrameImageStorage if multi_frame else UltrasoundImageStorage
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.PatientID = patient_id
    ds.PatientName = "Synthetic^Heart"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = 1
    ds.SeriesDescription = description
    return ds


def _colour(frames: np.ndarray, photometric: str) -> np.ndarray:
    """Grey ``(T, H, W)`` -> the array to store: grey, RGB ``(T, H, W, 3)`` (R = G = B) or YBR_FULL of it."""
    if photometric == "MONOCHROME2":
        return frames
    rgb = np.repeat(frames[..., None], 3, axis=-1)
    return rgb if photometric == "RGB" else convert_color_space(rgb, "RGB", "YBR_FULL")


def _jpeg(frame: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(frame if frame.ndim == 2 else frame, "L" if frame.ndim == 2 else "RGB")
    image.save(buffer, format="JPEG", quality=quality, subsampling=1)  # 4:2:2 for colour
    return buffer.getvalue()


def _set_pixels(ds: Dataset, frames: np.ndarray, photometric: str, jpeg: bool, quality: int) -> None:
    if photometric not in PHOTOMETRICS:
        raise ValueError(f"photometric must be one of {PHOTOMETRICS}, got {photometric!r}")
    if not jpeg:
        ds.set_pixel_data(_colour(frames, photometric), photometric, 8, generate_instance_uid=False)
        return
    colour = photometric != "MONOCHROME2"
    stored = np.repeat(frames[..., None], 3, axis=-1) if colour else frames  # Pillow converts RGB to YCbCr
    ds.set_pixel_data(stored, "RGB" if colour else "MONOCHROME2", 8, generate_instance_uid=False)
    ds.PixelData = encapsulate([_jpeg(f, quality) for f in stored])
    ds["PixelData"].VR = "OB"
    ds.PhotometricInterpretation = "YBR_FULL_422" if colour else "MONOCHROME2"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    if len(frames) == 1:
        ds.NumberOfFrames = 1


def dicom_dataset(
    frames: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    jpeg: bool = False,
    quality: int = 95,
    regions: tuple[UltrasoundRegion, ...] = (),
    pixel_spacing: tuple[float, float] | None = None,
    fps: float | None = None,
    fps_tag: str = "FrameTime",
    patient_id: str = "SYNTH0001",
    series_uid: str | None = None,
    description: str = "",
) -> Dataset:
    """An ultrasound DICOM dataset of grey frames ``(T, H, W)`` uint8 (see :func:`write_dicom`)."""
    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected (T, H, W) uint8 frames, got {frames.dtype} {frames.shape}")
    ds = _base_dataset(len(frames) > 1, patient_id, series_uid or generate_uid(), description)
    _set_pixels(ds, frames, photometric, jpeg, quality)
    if regions:
        ds.SequenceOfUltrasoundRegions = [region.item() for region in regions]
    if pixel_spacing is not None:
        ds.PixelSpacing = [float(pixel_spacing[0]), float(pixel_spacing[1])]
    if fps is not None:
        if fps_tag == "FrameTime":
            ds.FrameTime = f"{1000.0 / fps:.12g}"
        elif fps_tag in ("CineRate", "RecommendedDisplayFrameRate"):
            setattr(ds, fps_tag, int(round(fps)))
        else:
            raise ValueError(f"fps_tag must be FrameTime, CineRate or RecommendedDisplayFrameRate, got {fps_tag!r}")
    return ds


def write_dicom(frames: np.ndarray, path: str | Path, **options) -> Path:
    """Write one multi-frame (or single-frame) DICOM file; ``options`` as :func:`dicom_dataset`."""
    ds = dicom_dataset(frames, **options)
    return _atomic(Path(path), lambda tmp: ds.save_as(tmp, enforce_file_format=True))


def write_dicom_series(frames: np.ndarray, folder: str | Path, **options) -> Path:
    """Write one single-frame DICOM file per frame (``IM_0001.dcm`` ...), one series, InstanceNumber = t + 1."""
    folder = Path(folder)
    series_uid = options.pop("series_uid", None) or generate_uid()
    for t, frame in enumerate(np.asarray(frames)):
        ds = dicom_dataset(frame[None], series_uid=series_uid, **options)
        ds.InstanceNumber = t + 1
        _atomic(folder / f"IM_{t + 1:04d}.dcm", lambda tmp, ds=ds: ds.save_as(tmp, enforce_file_format=True))
    return folder


def write_video(
    frames: np.ndarray,
    path: str | Path,
    fps: float = 50.0,
    *,
    codec: str | None = None,
    pix_fmt: str | None = None,
    options: dict[str, str] | None = None,
    rgb: bool = False,
) -> Path:
    """Write grey frames ``(T, H, W)`` uint8 as a video (``.avi`` or ``.mp4``); lossless unless ``codec`` says.

    ``rgb`` stores them as RGB frames (R = G = B), as EchoNet-Dynamic's AVIs do.
    """
    path = Path(path)
    frames = np.asarray(frames)
    default = VIDEO_CODECS.get(path.suffix.lower())
    if default is None and codec is None:
        raise ValueError(f"no default codec for {path.suffix!r}: give codec=")
    name, fmt, opts = default if codec is None else (codec, pix_fmt or "yuv420p", options or {})
    rate = Fraction(fps).limit_denominator(1001)

    def write(tmp: Path) -> None:
        with av.open(str(tmp), "w", format=path.suffix.lstrip(".").lower()) as container:
            stream = container.add_stream(name, rate=rate)
            stream.width, stream.height = frames.shape[2], frames.shape[1]
            stream.pix_fmt = pix_fmt or fmt
            stream.options = dict(opts)
            for frame in frames:
                array = np.repeat(frame[..., None], 3, axis=-1) if rgb else frame
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24" if rgb else "gray")
                container.mux(stream.encode(video_frame))
            container.mux(stream.encode())

    return _atomic(path, write)
