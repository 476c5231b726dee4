"""The data of a latent map: the codes of a dataset's masks with their attributes, and a sequence's trajectory.

Dataset codes are the ``mu`` of every expert-annotated ED/ES mask (``_gt``) of a CAMUS root, patient folder or
mask file; attributes are measured on the masks at their own size and spacing (mm, mm², degrees). A trajectory is
the codes of one processed sequence's masks before (``_pred``) and after smoothing (``_post``), frame by frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.files import write_json_atomic
from echolatent.io.camus import SequenceRef, find_sequences, load_sequence, read_split
from echolatent.io.readers import resolve_spacing
from echolatent.io.splits import ALL, resolve_subset
from echolatent.io.volume import read_image
from echolatent.latent.codec import encode_masks
from echolatent.latent.projection import PCA, Projection
from echolatent.measure.attribute_info import attribute_label
from echolatent.measure.attributes import ATTRIBUTES, check_masks, compute_attributes
from echolatent.models.shape import ShapeModel

log = logging.getLogger(__name__)

STAGES = {"pred": "_pred", "post": "_post"}
MASK_SUFFIX = ".nii.gz"
MAP_JSON = "latent_map.json"


@dataclass
class MapData:
    """Codes of a dataset's masks and their attributes.

    Attributes:
        ids: ``N`` frame names, e.g. ``patient0001_4CH_ED``.
        codes: ``(N, d)`` float32 ``mu``.
        attributes: ``{name: (N,) float64}`` in mm, mm², degrees (each file's own spacing), or in pixels when
            some file's pixel size is unknown (a 1 x 1 mm header, see :func:`echolatent.io.readers.header_spacing`).
        spacing_known: whether the values are in mm.
    """

    ids: list[str]
    codes: np.ndarray
    attributes: dict[str, np.ndarray]
    spacing_known: bool = True


@dataclass
class Trajectory:
    """One sequence's codes ``{stage: (T, d)}`` for the stages found (``pred``, ``post``)."""

    name: str
    codes: dict[str, np.ndarray] = field(default_factory=dict)


def _annotated(data: Path, subset: str) -> list[SequenceRef]:
    resolved = resolve_subset(data, subset)
    patients = read_split(data, resolved) if resolved is not None else None
    refs = [ref for ref in find_sequences(data, kinds=("ED", "ES"), patients=patients) if ref.mask is not None]
    if not refs:
        raise InputError(data, f"no expert masks (*_gt) found{'' if subset == ALL else f' in split {subset!r}'}")
    return refs


def dataset_codes(model: ShapeModel, data: str | Path, subset: str = "validation") -> MapData:
    """Codes and attributes of every expert mask frame under ``data`` (``subset`` of a CAMUS root, or ``all``).

    Masks are encoded in groups of equal shape; every frame of a multi-frame mask file is taken. Attributes are in
    mm when every file's pixel size is known, else all in pixels.

    Raises:
        InputError: no expert masks, unknown split (the message lists the splits found), unreadable files.
    """
    data = Path(data)
    ids, masks, spacings = [], [], []
    for ref in _annotated(data, subset):
        seq = load_sequence(ref, image=False)
        frames = seq.mask
        ids += [ref.name] if len(frames) == 1 else [f"{ref.name}[{t}]" for t in range(len(frames))]
        masks += list(frames)
        spacings += [resolve_spacing(seq.spacing)] * len(frames)
    spacing_known = all(s is not None for s in spacings)
    spacings = spacings if spacing_known else [None] * len(spacings)
    codes = np.zeros((len(masks), model.config.latent_dim), np.float32)
    values = {name: np.full(len(masks), np.nan) for name in ATTRIBUTES}
    groups: dict[tuple, list[int]] = {}
    for index, (mask, spacing) in enumerate(zip(masks, spacings, strict=True)):
        groups.setdefault((mask.shape, spacing), []).append(index)
    for (_, spacing), members in groups.items():
        stack = np.stack([masks[i] for i in members])
        codes[members] = encode_masks(model, stack)
        for name, column in compute_attributes(stack, spacing).items():
            values[name][members] = column
    log.info("encoded %d mask frames from %s (%d shape/spacing groups)", len(ids), data, len(groups))
    return MapData(ids, codes, values, spacing_known)


def find_pairs(path: str | Path) -> dict[str, dict[str, Path]]:
    """``{name: {stage: file}}`` of the ``_pred``/``_post`` masks in a results folder (``OUT/<patient>/``), or of
    one ``_pred`` or ``_post`` file and its partner beside it.

    Raises:
        InputError: ``path`` missing, or nothing found.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "not found")
    if path.is_file():
        stem = path.name[: -len(MASK_SUFFIX)] if path.name.endswith(MASK_SUFFIX) else ""
        stage = next((s for s, suffix in STAGES.items() if stem.endswith(suffix)), None)
        if stage is None:
            raise InputError(path, "expected a <name>_pred.nii.gz or <name>_post.nii.gz mask file")
        name = stem[: -len(STAGES[stage])]
        files = {s: path.with_name(f"{name}{suffix}{MASK_SUFFIX}") for s, suffix in STAGES.items()}
        return {name: {s: f for s, f in files.items() if f.is_file()}}
    found: dict[str, dict[str, Path]] = {}
    for stage, suffix in STAGES.items():
        for file in sorted([*path.glob(f"*{suffix}{MASK_SUFFIX}"), *path.glob(f"*/*{suffix}{MASK_SUFFIX}")]):
            found.setdefault(file.name[: -len(suffix + MASK_SUFFIX)], {})[stage] = file
    if not found:
        raise InputError(path, "no *_pred.nii.gz or *_post.nii.gz masks (expected the output folder of a run)")
    return dict(sorted(found.items()))


def trajectory(model: ShapeModel, path: str | Path, name: str | None = None) -> Trajectory:
    """Codes of the sequence ``name`` (default: the first found) of :func:`find_pairs` ``(path)``, per stage.

    Raises:
        InputError: unknown name (the message lists a few), unreadable files.
    """
    pairs = find_pairs(path)
    name = name or next(iter(pairs))
    if name not in pairs:
        raise InputError(Path(path), f"no sequence {name!r} here; found: {', '.join(list(pairs)[:5])}")
    codes = {}
    for stage, file in pairs[name].items():
        masks, _ = read_image(file)
        codes[stage] = encode_masks(model, check_masks(masks, str(file)))
    return Trajectory(name, codes)


def map_payload(data: MapData, projection: Projection, model_kind: str, source: str,
                track: Trajectory | None = None) -> dict:
    """JSON-ready map: projected points, attributes with units, the projection (PCA: mean and axes), trajectory."""
    points = projection.transform(data.codes)
    payload = {
        "method": projection.method, "axis_labels": list(projection.axis_labels), "model_kind": model_kind,
        "latent_dim": int(data.codes.shape[1]), "source": source, "ids": data.ids,
        "x": _floats(points[:, 0]), "y": _floats(points[:, 1]),
        "attributes": {name: _floats(v) for name, v in data.attributes.items()},
        "labels": {name: attribute_label(name, data.spacing_known) for name in data.attributes},
    }
    if isinstance(projection, PCA):
        payload["pca"] = {"mean": _floats(projection.mean), "components": [_floats(c) for c in projection.components]}
    if track is not None:
        payload["trajectory"] = {"name": track.name, **{stage: projection.transform(codes).round(5).tolist()
                                                        for stage, codes in track.codes.items()}}
    return payload


def _floats(values: np.ndarray) -> list[float | None]:
    return [round(float(v), 5) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def write_map_json(payload: dict, out: str | Path) -> Path:
    """Write ``payload`` as ``OUT/latent_map.json`` (atomically)."""
    return write_json_atomic(payload, Path(out) / MAP_JSON)
