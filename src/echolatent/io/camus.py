"""The CAMUS layout: find image/mask sequences on disk, load them ED -> ES, write masks back.

Layouts read:

* the official NIfTI release: ``ROOT/database_nifti/patientXXXX/patientXXXX_{2CH,4CH}_{ED,ES}[_gt].nii.gz``,
  ``..._half_sequence[_gt].nii.gz``, ``Info_{2CH,4CH}.cfg``, ``ROOT/database_split/subgroup_<subset>.txt``;
* the 2019 release: ``ROOT/{training,testing}/patientXXXX/patientXXXX_{2CH,4CH}_{ED,ES,sequence}[_gt].mhd``;
* one patient folder, a folder of patient folders (e.g. an output folder), or single image/mask files.

Arrays follow echolatent's convention ``(T, H, W)``, apex at the top, frames ordered ED -> ES: a cfg whose
ED comes after ES makes the loader flip the frame axis (``reversed=True``) and :func:`write_mask` flip it back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk  # noqa: N813

from echolatent.errors import InputError
from echolatent.io.cfg import SUBSETS, frame_number, read_cfg, read_split_file
from echolatent.io.readers import read_recording
from echolatent.io.volume import SUPPORTED_SUFFIXES, Geometry, axis_order_problem, image_stem, read_image, write_like
from echolatent.labels import View, check_labels

log = logging.getLogger(__name__)

KINDS = ("half_sequence", "sequence", "ED", "ES", "file")
SEQUENCE_KINDS = ("half_sequence", "sequence")
MASK_SUFFIXES = ("_gt", "_pred", "_post")
_CAMUS_NAME = re.compile(r"^(?P<patient>patient\d+)_(?P<view>2CH|4CH)_(?P<kind>half_sequence|sequence|ED|ES)$")


@dataclass(frozen=True)
class SequenceRef:
    """One image sequence (or frame) found on disk, with its mask and cfg when present."""

    patient: str
    view: View | None
    kind: str
    image: Path | None
    mask: Path | None
    cfg: Path | None
    name: str


@dataclass
class EchoSequence:
    """A loaded sequence: arrays ``(T, H, W)`` ordered ED -> ES, spacing ``(sy, sx)`` mm, cfg values."""

    ref: SequenceRef
    image: np.ndarray | None
    mask: np.ndarray | None
    geometry: Geometry
    spacing: tuple[float, float]
    info: dict[str, str]
    ed: int | None
    es: int | None
    reversed: bool

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return self.geometry.shape[0]

    @property
    def instants(self) -> list[str]:
        """``(T,)`` "ED" / "ES" / "" label of each frame (ordered ED -> ES)."""
        labels = [""] * self.num_frames
        for name, index in (("ED", self.ed), ("ES", self.es)):
            if index is not None and index < len(labels):
                labels[index] = name
        return labels


# ---------------------------------------------------------------------------------------------- discovery


def _suffix_of(path: Path) -> str | None:
    name = path.name.lower()
    return next((s for s in SUPPORTED_SUFFIXES if name.endswith(s)), None)


def split_mask_suffix(stem: str, mask_suffix: str = "_gt") -> tuple[str, str]:
    """``"x_4CH_ED_gt"`` -> ``("x_4CH_ED", "_gt")``; an image stem gives ``(stem, "")``."""
    for suffix in sorted({mask_suffix, *MASK_SUFFIXES}, key=len, reverse=True):
        if suffix and stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)], suffix
    return stem, ""


def _image_files(folder: Path) -> dict[str, Path]:
    """``{stem: path}`` of the image files directly in ``folder`` (NIfTI preferred over MHD for one stem)."""
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        suffix = _suffix_of(path)
        if suffix is None or path.name.startswith(".") or not path.is_file():
            continue
        stem = image_stem(path)
        if stem not in files or SUPPORTED_SUFFIXES.index(suffix) < SUPPORTED_SUFFIXES.index(_suffix_of(files[stem])):
            files[stem] = path
    return files


def _make_ref(base: str, folder: Path, image: Path | None, mask: Path | None) -> SequenceRef:
    match = _CAMUS_NAME.match(base)
    if match is None:
        return SequenceRef(base, None, "file", image, mask, None, base)
    view = View(match["view"])
    cfg = folder / f"Info_{view.value}.cfg"
    return SequenceRef(match["patient"], view, match["kind"], image, mask, cfg if cfg.is_file() else None, base)


def _refs_in_folder(folder: Path, mask_suffix: str) -> list[SequenceRef]:
    images: dict[str, Path] = {}
    masks: dict[str, Path] = {}
    for stem, path in _image_files(folder).items():
        base, suffix = split_mask_suffix(stem, mask_suffix)
        if not suffix:
            images[base] = path
        elif suffix == mask_suffix:
            masks[base] = path
    return [_make_ref(base, folder, images.get(base), masks.get(base)) for base in sorted({*images, *masks})]


def _sibling(folder: Path, stem: str) -> Path | None:
    return next((folder / f"{stem}{s}" for s in SUPPORTED_SUFFIXES if (folder / f"{stem}{s}").is_file()), None)


def _ref_for_file(path: Path, mask_suffix: str) -> SequenceRef:
    if _suffix_of(path) is None:
        raise InputError(path, f"unsupported file type (expected one of {', '.join(SUPPORTED_SUFFIXES)})")
    base, suffix = split_mask_suffix(image_stem(path), mask_suffix)
    if suffix:
        return _make_ref(base, path.parent, _sibling(path.parent, base), path)
    return _make_ref(base, path.parent, path, _sibling(path.parent, base + mask_suffix))


def patient_folders(root: Path) -> list[Path]:
    """Folders holding a patient's files under ``root`` (a CAMUS root, a folder of patient folders, or one)."""
    if (root / "database_nifti").is_dir():
        parents = [root / "database_nifti"]
    elif (root / "training").is_dir() or (root / "testing").is_dir():
        parents = [root / sub for sub in ("training", "testing") if (root / sub).is_dir()]
    elif _image_files(root):
        return [root]
    else:
        parents = [root]
    return [d for p in parents for d in sorted(p.iterdir()) if d.is_dir() and not d.name.startswith(".")]


def _kind_order(ref: SequenceRef) -> tuple:
    return (ref.patient, ref.view.value if ref.view else "", KINDS.index(ref.kind), ref.name)


def find_sequences(
    path: str | Path,
    *,
    kinds: Sequence[str] = ("half_sequence", "sequence", "ED", "ES"),
    mask_suffix: str = "_gt",
    patients: Sequence[str] | None = None,
    require_image: bool = False,
) -> list[SequenceRef]:
    """Sequences under ``path`` (CAMUS root, patient folder(s) or one image/mask file), sorted.

    ``kinds`` filters CAMUS-named files; loose files (kind ``"file"``) are always kept. A single file given
    explicitly is never filtered. Without ``require_image``, masks whose image is absent are kept (``image=None``);
    with it they are skipped with a warning (a single mask file without image raises).

    Raises:
        InputError: ``path`` missing, an unsupported single file, unknown kinds.
    """
    path = Path(path)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown kinds {unknown} (expected some of {KINDS})")
    if not mask_suffix.startswith("_"):
        raise ValueError(f"mask_suffix must start with '_', got {mask_suffix!r}")
    if not path.exists():
        raise InputError(path, "not found")
    if path.is_file():
        ref = _ref_for_file(path, mask_suffix)
        if require_image and ref.image is None:
            raise InputError(path, "mask without image (no image file of the same name without the mask suffix)")
        return [ref]
    wanted = set(patients) if patients is not None else None
    refs = []
    for folder in patient_folders(path):
        for ref in _refs_in_folder(folder, mask_suffix):
            if (ref.kind != "file" and ref.kind not in kinds) or (wanted is not None and ref.patient not in wanted):
                continue
            if require_image and ref.image is None:
                log.warning("%s: mask without image, skipped", ref.mask)
                continue
            refs.append(ref)
    if not refs:
        log.warning("%s: no image or mask files found", path)
    names = [(ref.patient, ref.name) for ref in refs]
    if len(set(names)) < len(names):
        log.warning("%s: the same patient id in several folders (2019 training/ and testing/?)", path)
    return sorted(refs, key=_kind_order)


def subset_folder(root: Path, subset: str | None) -> Path | None:
    """``root/<subset>`` of the 2019 release (whose training and testing folders reuse patient ids), else None."""
    if subset is None or (root / "database_nifti").is_dir() or (root / "database_split").is_dir():
        return None
    return root / subset if (root / subset).is_dir() else None


def read_split(root: str | Path, subset: str) -> list[str]:
    """Patient ids of ``subset`` (training, validation, testing) under a CAMUS root.

    Uses ``database_split/subgroup_<subset>.txt``; for the 2019 release (no split folder) the patient
    folders under ``training/`` or ``testing/``.
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    root = Path(root)
    split = root / "database_split" / f"subgroup_{subset}.txt"
    if split.is_file() or not (root / subset).is_dir():
        return read_split_file(split)
    return sorted(d.name for d in (root / subset).iterdir() if d.is_dir() and not d.name.startswith("."))


# ---------------------------------------------------------------------------------------------- loading


def _read_geometry(path: Path) -> Geometry:
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        raise InputError(path, "cannot read image header") from None
    return Geometry(
        tuple(int(v) for v in reader.GetSize()),
        tuple(float(v) for v in reader.GetSpacing()),
        tuple(float(v) for v in reader.GetOrigin()),
        tuple(float(v) for v in reader.GetDirection()),
    )


def as_labels(array: np.ndarray, path: Path | None) -> np.ndarray:
    """``(T, H, W)`` mask of any numeric dtype -> uint8 labels; InputError naming ``path`` on non-integers or labels
    outside 0..3 (:func:`echolatent.labels.check_labels`)."""
    return check_labels(array, path)


def require_same_grid(mask: EchoSequence, other: EchoSequence, what: str = "image") -> None:
    """InputError on ``mask``'s file when its shape, spacing or orientation differs from ``other``'s (its image,
    or the ground truth a prediction is scored against): areas and volumes would be measured on the wrong grid."""
    source = other.ref.image if what == "image" else other.ref.mask
    mismatch = mask.geometry.mismatch(other.geometry, f"{what} {source.name if source else other.ref.name}:")
    if mismatch:
        raise InputError(mask.ref.mask, mismatch)


def _instants(ref: SequenceRef, info: dict[str, str], frames: int) -> tuple[int | None, int | None, bool]:
    """0-based ``(ed, es, reversed)`` of a sequence of ``frames`` frames, from the cfg (1-based) or the kind."""
    if ref.kind == "ED":
        return 0, None, False
    if ref.kind == "ES":
        return None, 0, False
    if ref.kind not in SEQUENCE_KINDS:
        return None, None, False
    ed, es = frame_number(info, "ED", ref.cfg), frame_number(info, "ES", ref.cfg)
    if ed is None or es is None:
        return (0, frames - 1, False) if ref.kind == "half_sequence" else (None, None, False)
    for key, number in (("ED", ed), ("ES", es)):
        if number > frames:
            raise InputError(ref.cfg, f"{key} {number} is past the last frame of {ref.image or ref.mask} ({frames})")
    if ed == es:
        raise InputError(ref.cfg, f"ED and ES are the same frame ({ed})")
    if ed > es:
        log.warning("%s: ED (%d) comes after ES (%d): frames reversed to run ED -> ES", ref.cfg, ed, es)
        return frames - ed, frames - es, True
    return ed - 1, es - 1, False


def _check_frames(ref: SequenceRef, info: dict[str, str], shape: tuple[int, int, int]) -> None:
    source = ref.image or ref.mask
    frames = shape[0]
    if ref.kind in SEQUENCE_KINDS and frames < 2:
        raise InputError(source, "one-frame sequence (a sequence needs at least 2 frames)")
    # NbFrame counts the half sequence's frames (CAMUS); a full-cycle sequence is longer by design
    expected = frame_number(info, "NbFrame", ref.cfg) if ref.kind == "half_sequence" else None
    swapped = axis_order_problem(shape, expected) if frames > 1 else None
    if swapped:
        raise InputError(source, swapped)
    if expected is not None and frames < expected:
        raise InputError(source, f"{frames} frames, fewer than NbFrame {expected} in {ref.cfg.name}")
    if expected is not None and frames > expected:
        log.warning("%s: %d frames, more than NbFrame %d in %s", source, frames, expected, ref.cfg.name)


def _companion_geometry(image: Path | None) -> Geometry | None:
    """The header geometry of a mask's image file when it has a readable one (a mask loaded alone is still
    checked against it), else None."""
    if image is None:
        return None
    try:
        return _read_geometry(image)
    except InputError as err:
        log.debug("%s: no header to check its mask against (%s)", image, err.problem)
        return None


def load_sequence(ref: SequenceRef, *, image: bool = True, mask: bool = True) -> EchoSequence:
    """Load the image and/or mask of ``ref`` as ``(T, H, W)`` uint8 arrays ordered ED -> ES.

    The geometry is the image file's when there is one, else the mask's. A mask is checked against its image's
    geometry even when only the mask is loaded (the image's header is read).

    Raises:
        InputError: unreadable file, NaN/inf voxels, labels outside 0..3, image/mask shape or spacing
        mismatch, malformed cfg, sequence shorter than its cfg NbFrame or of one frame.
    """
    image_array = mask_array = None
    geometry = None
    if image and ref.image is not None:
        recording = read_recording(ref.image)
        image_array, geometry = recording.frames, recording.geometry
    if mask and ref.mask is not None:
        raw, mask_geometry = read_image(ref.mask)
        mask_array = as_labels(raw, ref.mask)
        companion = geometry if geometry is not None else _companion_geometry(ref.image)
        mismatch = mask_geometry.mismatch(companion, f"image {ref.image.name}:") if companion is not None else None
        if mismatch:
            raise InputError(ref.mask, mismatch)
        geometry = geometry or mask_geometry
    if geometry is None:
        source = ref.image or ref.mask
        if source is None:
            raise InputError(None, f"{ref.name}: neither image nor mask")
        geometry = _read_geometry(source)
    info = read_cfg(ref.cfg) if ref.cfg is not None else {}
    frames = geometry.shape[0]
    _check_frames(ref, info, geometry.shape)
    ed, es, flipped = _instants(ref, info, frames)
    if flipped:
        image_array = image_array[::-1].copy() if image_array is not None else None
        mask_array = mask_array[::-1].copy() if mask_array is not None else None
    return EchoSequence(ref, image_array, mask_array, geometry, geometry.spacing, info, ed, es, flipped)


# ---------------------------------------------------------------------------------------------- writing


def output_path(ref: SequenceRef, out_root: str | Path, suffix: str) -> Path:
    """``OUT/<patient>/<name><suffix>.nii.gz``, e.g. ``OUT/patient0001/patient0001_4CH_ED_pred.nii.gz``."""
    return Path(out_root) / ref.patient / f"{ref.name}{suffix}.nii.gz"


def write_mask(seq: EchoSequence, mask: np.ndarray, path: str | Path) -> Path:
    """Write ``mask`` ``(T, H, W)`` (ordered ED -> ES like ``seq``'s arrays) with the source file's geometry.

    Undoes ``seq.reversed`` so the file's frames line up with the source file's. Atomic; refuses to
    overwrite the sequence's own input files.
    """
    path = Path(path)
    mask = np.asarray(mask)
    if mask.shape != seq.geometry.shape:
        raise ValueError(f"mask shape {mask.shape} does not match the sequence's {seq.geometry.shape}")
    sources = [p.resolve() for p in (seq.ref.image, seq.ref.mask) if p is not None]
    if path.resolve() in sources:
        raise ValueError(f"{path}: refusing to overwrite an input file")
    labels = as_labels(mask, None)
    if seq.reversed:
        labels = labels[::-1]
    return write_like(np.ascontiguousarray(labels), seq.geometry, path)


# ---------------------------------------------------------------------------------------------- training frames
