"""Read and write single image/mask files (NIfTI, MHD) keeping their on-disk geometry.

Arrays are returned in echolatent's convention ``(T, H, W)`` with the apex at the top (SimpleITK's
array order), and a :class:`Geometry` that holds everything needed to write an array back with the
same shape, orientation, origin and spacing as the source file.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import SimpleITK as sitk  # noqa: N813

from echolatent.errors import InputError
from echolatent.io.payload import payload_problem

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".nii.gz", ".nii", ".mhd")
MIN_FRAME_SIDE = 16  # pixels: a thinner frame is a sequence whose axes were saved in the wrong order


@dataclass(frozen=True)
class Geometry:
    """On-disk geometry of an image file (SimpleITK order: x, y[, t]).

    ``spacing`` and ``shape`` give it in echolatent's convention: ``(sy, sx)`` mm and ``(T, H, W)``.
    """

    size_xyz: tuple[int, ...]
    spacing_xyz: tuple[float, ...]
    origin: tuple[float, ...]
    direction: tuple[float, ...]

    @property
    def ndim(self) -> int:
        """Number of axes on disk: 2 for a single frame, 3 for a sequence."""
        return len(self.size_xyz)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(T, H, W)``; T is 1 for a 2D file."""
        t = self.size_xyz[2] if self.ndim == 3 else 1
        return (t, self.size_xyz[1], self.size_xyz[0])

    @property
    def spacing(self) -> tuple[float, float]:
        """Pixel spacing ``(sy, sx)`` in mm."""
        return (float(self.spacing_xyz[1]), float(self.spacing_xyz[0]))

    def with_frames(self, n_frames: int) -> Geometry:
        """The same geometry holding ``n_frames`` frames (3D on disk when more than one)."""
        if self.ndim == 3:
            return Geometry((*self.size_xyz[:2], n_frames), self.spacing_xyz, self.origin, self.direction)
        if n_frames == 1:
            return self
        return Geometry(
            (*self.size_xyz, n_frames),
            (*self.spacing_xyz, 1.0),
            (*self.origin, 0.0),
            (self.direction[0], self.direction[1], 0.0, self.direction[2], self.direction[3], 0.0, 0.0, 0.0, 1.0),
        )

    def mismatch(self, other: Geometry, other_name: str = "its image's") -> str | None:
        """Why a mask of this geometry does not fit ``other`` (shape, spacing, orientation), else None.

        ``other_name`` names ``other`` in the message (``"... does not match <other_name> <value>"``).
        """
        if self.shape != other.shape:
            return f"shape {self.shape} (T, H, W) does not match {other_name} {other.shape}"
        if not np.allclose(self.spacing_xyz, other.spacing_xyz, rtol=1e-3, atol=1e-6):
            return f"spacing {self.spacing} mm does not match {other_name} {other.spacing}"
        if not np.allclose(self.direction, other.direction, atol=1e-4):
            return f"orientation {self.direction} does not match {other_name} {other.direction}"
        return None

    @classmethod
    def from_image(cls, image: sitk.Image) -> Geometry:
        """The geometry of a SimpleITK image."""
        return cls(
            tuple(int(s) for s in image.GetSize()),
            tuple(float(s) for s in image.GetSpacing()),
            tuple(float(o) for o in image.GetOrigin()),
            tuple(float(d) for d in image.GetDirection()),
        )

    @classmethod
    def default(cls, shape: tuple[int, int, int], spacing: tuple[float, float] = (1.0, 1.0)) -> Geometry:
        """Identity-oriented geometry for an array ``(T, H, W)`` with spacing ``(sy, sx)`` mm."""
        t, h, w = shape
        sy, sx = spacing
        if t == 1:
            return cls((w, h), (sx, sy), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
        return cls((w, h, t), (sx, sy, 1.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))


def axis_order_problem(shape: tuple[int, int, int], nb_frame: int | None = None) -> str | None:
    """Why a sequence of ``shape`` (T, H, W) looks saved with its axes in the wrong order, else None.

    Flagged: a frame side of fewer than :data:`MIN_FRAME_SIDE` pixels with more frames than that side (a W x H x T
    file read as T x H x W), or a cfg ``NbFrame`` that the frame axis misses but a pixel axis matches.
    """
    frames, height, width = shape
    side = min(height, width)
    hint = "the axes look swapped (expected frames x height x width: W x H x T on disk)"
    if side < MIN_FRAME_SIDE and frames > side:
        return f"{frames} frames of {height} x {width} pixels: {hint}"
    if nb_frame is not None and frames != nb_frame and nb_frame in (height, width):
        return f"{frames} frames of {height} x {width} pixels while the cfg's NbFrame is {nb_frame}: {hint}"
    return None


def image_suffix(path: str | Path) -> str:
    """The recognised suffix of ``path`` (``.nii.gz``, ``.nii`` or ``.mhd``), else raise InputError."""
    name = Path(path).name.lower()
    for suffix in SUPPORTED_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    raise InputError(path, f"unsupported file type (expected one of {', '.join(SUPPORTED_SUFFIXES)})")


def image_stem(path: str | Path) -> str:
    """File name without its image suffix: ``patient0001_4CH_ED.nii.gz`` -> ``patient0001_4CH_ED``."""
    name = Path(path).name
    return name[: len(name) - len(image_suffix(path))]


def _count_non_finite(path: Path, array: np.ndarray) -> int:
    """NaN/inf voxels of a float image. SimpleITK's NIfTI reader turns them into 0, so NIfTI files are
    counted on nibabel's raw data instead."""
    if image_suffix(path) in (".nii.gz", ".nii"):
        try:
            array = np.asanyarray(nib.load(str(path)).dataobj)
        except Exception as err:  # nibabel raises several types on odd files; SimpleITK already read it
            log.debug("%s: nibabel cannot read it for the NaN check (%s)", path, err)
    return int((~np.isfinite(array)).sum())


def _require_readable(path: Path) -> None:
    """InputError naming the reason when ``path`` cannot be opened for reading (permissions, I/O error)."""
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except PermissionError:
        raise InputError(path, "unreadable (permission denied)") from None
    except OSError as err:
        raise InputError(path, f"unreadable ({err.strerror or type(err).__name__})") from None


def read_image(path: str | Path) -> tuple[np.ndarray, Geometry]:
    """Read a NIfTI or MHD file.

    Returns:
        array: ``(T, H, W)`` in the file's dtype (a 2D file gives T = 1), apex at the top.
        geometry: the file's on-disk geometry, for :func:`write_like`.

    Raises:
        InputError: missing, unreadable, truncated or non-image file, wrong dimensionality, NaN/inf voxels.
    """
    path = Path(path)
    image_suffix(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file")
    _require_readable(path)
    problem = payload_problem(path)
    if problem:
        raise InputError(path, problem)
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else "unknown reader error"
        raise InputError(path, f"cannot read image ({reason[:160]})") from None
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(path, f"expected a scalar image, got {image.GetNumberOfComponentsPerPixel()} components")
    if image.GetDimension() not in (2, 3):
        raise InputError(path, f"expected a 2D frame or a 2D+time sequence, got {image.GetDimension()} dimensions")
    array = sitk.GetArrayFromImage(image)
    if array.ndim == 2:
        array = array[None]
    if np.issubdtype(array.dtype, np.floating):
        bad = _count_non_finite(path, array)
        if bad:
            raise InputError(path, f"{bad} NaN or infinite voxels")
    if min(array.shape) == 0:
        raise InputError(path, f"empty array of shape {array.shape}")
    return array, Geometry.from_image(image)


def as_uint8_image(array: np.ndarray, path: Path | None) -> np.ndarray:
    """``(T, H, W)`` intensities -> uint8: kept when already uint8 or within 0..255, else min-max rescaled."""
    if array.dtype == np.uint8:
        return array
    low, high = float(array.min()), float(array.max())
    if low >= 0 and high <= 255:
        return np.round(array).astype(np.uint8)
    log.warning("%s: intensities %.3g..%.3g outside 0..255, rescaled to uint8", path, low, high)
    scale = 255.0 / (high - low) if high > low else 0.0
    return np.round((array.astype(np.float64) - low) * scale).astype(np.uint8)


def _to_sitk(array: np.ndarray, geometry: Geometry) -> sitk.Image:
    if array.ndim != 3:
        raise ValueError(f"expected a (T, H, W) array, got shape {array.shape}")
    geometry = geometry.with_frames(array.shape[0])
    if tuple(array.shape) != geometry.shape:
        raise ValueError(f"array shape {array.shape} does not match the geometry's {geometry.shape}")
    image = sitk.GetImageFromArray(array[0] if geometry.ndim == 2 else array)
    image.SetSpacing(geometry.spacing_xyz)
    image.SetOrigin(geometry.origin)
    image.SetDirection(geometry.direction)
    return image


def write_like(array: np.ndarray, geometry: Geometry, path: str | Path) -> Path:
    """Write ``array`` ``(T, H, W)`` atomically to ``path`` with ``geometry``.

    The file appears complete or not at all: it is written to a temporary name in the same folder and
    renamed (for MHD the ``.raw`` is moved first, the ``.mhd`` header last).
    """
    path = Path(path)
    suffix = image_suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = _to_sitk(np.ascontiguousarray(array), geometry)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp_path = tmp_dir / path.name
        sitk.WriteImage(image, str(tmp_path), useCompression=suffix != ".nii")
        if suffix == ".mhd":
            for raw in tmp_dir.iterdir():
                if raw.name != path.name:
                    os.replace(raw, path.parent / raw.name)
        os.replace(tmp_path, path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    log.debug("wrote %s %s", path, array.shape)
    return path
