"""Is an image file whole? Data bytes on disk (decompressed for ``.nii.gz`` / ``.zraw``) against the header.

SimpleITK fills a truncated NIfTI or MHD payload with zeros (at most a warning on stderr), so a half-copied
file would be read as a sequence whose last frames are empty. :func:`payload_problem` compares, before the
pixels are read, the data bytes present with the bytes the header announces.
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import SimpleITK as sitk  # noqa: N813

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_NIFTI_HEADER = 348  # bytes of a NIfTI-1 header


def _gzip_size(path: Path) -> tuple[int, bool]:
    """``(decompressed bytes, complete)`` of a (multi-member) gzip file; incomplete when it ends early or is corrupt."""
    return _zlib_size(path, 0, wbits=16 + zlib.MAX_WBITS)


def _zlib_size(path: Path, offset: int = 0, wbits: int = zlib.MAX_WBITS) -> tuple[int, bool]:
    """``(decompressed bytes, complete)`` of zlib/gzip streams in ``path`` from ``offset`` (members back to back)."""
    inflater = zlib.decompressobj(wbits)
    total = 0
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            while chunk := handle.read(_CHUNK):
                while chunk:
                    total += len(inflater.decompress(chunk))
                    chunk = inflater.unused_data if inflater.eof else b""
                    if chunk:
                        inflater = zlib.decompressobj(wbits)
    except zlib.error:
        return total, False
    return total + len(inflater.flush()), inflater.eof


def _nifti_problem(path: Path) -> str | None:
    try:
        proxy = nib.load(str(path)).dataobj  # the header only; .offset is the file's vox_offset
        expected = int(proxy.offset) + int(np.prod(proxy.shape)) * np.dtype(proxy.dtype).itemsize
    except Exception as err:  # nibabel raises several types on a damaged header
        gzipped = path.name.lower().endswith(".gz")
        present, complete = _gzip_size(path) if gzipped else (path.stat().st_size, True)
        if not complete or present < _NIFTI_HEADER:
            return f"cannot read image header (truncated after {present} bytes)"
        return f"cannot read image header ({type(err).__name__})"
    if path.name.lower().endswith(".gz"):
        present, complete = _gzip_size(path)
        if not complete and present >= expected:
            return "damaged gzip stream"
    else:
        present = path.stat().st_size
    return _size_problem(present, expected)


def _size_problem(present: int, expected: int) -> str | None:
    if present < expected:
        return f"truncated: {present} of {expected} bytes"
    if present > expected:  # a damaged header (e.g. a smaller size) would read part of the data as all of it
        return f"{present} data bytes where the header needs {expected}: header and data disagree"
    return None


def _mhd_fields(path: Path) -> tuple[dict[str, str], int]:
    """``(header fields, byte offset just after the header)`` of an MHD file."""
    fields: dict[str, str] = {}
    offset = 0
    with path.open("rb") as handle:
        for raw in handle:
            offset += len(raw)
            key, _, value = raw.decode("latin-1").partition("=")
            fields[key.strip()] = value.strip()
            if key.strip() == "ElementDataFile":
                break
    return fields, offset


def _mhd_problem(path: Path) -> str | None:
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        return "cannot read image header"
    fields, header_end = _mhd_fields(path)
    name = fields.get("ElementDataFile", "")
    if fields.get("BinaryData", "True").lower() == "false" or name.upper() == "LIST" or "%" in name or not name:
        log.debug("%s: payload size not checked (data file %r)", path, name)
        return None
    component = sitk.Image([1] * reader.GetDimension(), reader.GetPixelID(), reader.GetNumberOfComponents())
    expected = int(np.prod(reader.GetSize())) * reader.GetNumberOfComponents() * component.GetSizeOfPixelComponent()
    data = path if name.upper() == "LOCAL" else path.parent / name
    if not data.is_file():
        return f"cannot read image (data file {name} not found)"
    try:
        header_size = int(fields.get("HeaderSize", "0") or 0)
    except ValueError:
        return f"cannot read image header (HeaderSize {fields['HeaderSize'][:20]!r})"
    skip = header_end if data == path else max(header_size, 0)
    if fields.get("CompressedData", "False").lower() == "true":
        present, complete = _zlib_size(data, skip)
        if not complete and present >= expected:
            return f"damaged compressed data in {data.name}"
    else:
        present = data.stat().st_size - skip
        if header_size < 0:  # -1: the data are the file's last bytes, after a header of any size
            present = min(present, expected)
    return _size_problem(present, expected)


def payload_problem(path: str | Path) -> str | None:
    """Why the pixel data of the NIfTI/MHD file ``path`` is incomplete (``"truncated: N of M bytes"``), else None.

    N is the data bytes present (decompressed for ``.nii.gz`` and ``.zraw``), M what the header's size and pixel
    type need (plus the NIfTI data offset).
    """
    path = Path(path)
    if path.name.lower().endswith(".mhd"):
        return _mhd_problem(path)
    return _nifti_problem(path)
