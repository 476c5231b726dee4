"""The sequences of a results folder (``echolatent run``/``smooth`` output) for the explorer's sequence viewer.

A results folder holds ``OUT/<patient>/<name>_pred.nii.gz`` (U-Net masks) and ``<name>_post.nii.gz`` (smoothed
masks), and ``OUT/config.json`` naming the input, where the echo images are looked up (by ``name``) to draw the
overlays on; without them the masks are drawn on black. Sequences are addressed by ``name`` only, and only names
found by the listing are served: a request never builds a path.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.io.readers import resolve_spacing
from echolatent.io.volume import read_image
from echolatent.measure.attribute_info import attribute_unit
from echolatent.measure.attributes import ATTRIBUTES, check_masks, compute_attributes

log = logging.getLogger(__name__)

STAGES = {"pred": "_pred", "post": "_post"}
SUFFIX = ".nii.gz"


@dataclass
class LoadedSequence:
    """Masks of one sequence, file order.

    Attributes:
        masks: ``{stage: (T, H, W) uint8}`` for the stages present ("pred", "post").
        image: ``(T, H, W)`` uint8 echo frames, or None when not found.
        spacing: ``(sy, sx)`` mm from the mask header.
        attributes: ``{stage: {attribute: (T,) float64}}`` re-measured on the masks, in mm (pixels when the header
            says 1 x 1 mm, i.e. the pixel size is unknown).
    """

    masks: dict[str, np.ndarray]
    image: np.ndarray | None
    spacing: tuple[float, float]
    attributes: dict[str, dict[str, np.ndarray]]

    @property
    def frames(self) -> int:
        return len(next(iter(self.masks.values())))


def list_sequences(root: str | Path) -> dict[str, dict[str, Path]]:
    """``{name: {stage: path}}`` for every ``<patient>/<name>_pred|_post.nii.gz`` inside ``root``, sorted by name.

    Files whose resolved path leaves ``root`` (links) are ignored.

    Raises:
        InputError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "results folder not found (expected the output folder of `echolatent run`)")
    top = root.resolve()
    found: dict[str, dict[str, Path]] = {}
    for stage, suffix in STAGES.items():
        for path in root.glob(f"*/*{suffix}{SUFFIX}"):
            if not path.is_file() or not path.resolve().is_relative_to(top):
                continue
            name = path.name[: -len(suffix + SUFFIX)]
            found.setdefault(name, {})[stage] = path
    return dict(sorted(found.items()))


class ResultsView:
    """A results folder: its listing (made once) and the sequences, loaded on demand and cached."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.sequences = list_sequences(self.root)
        self.input = _input_folder(self.root)
        self._load = lru_cache(maxsize=8)(self._read)
        log.info("%d sequence(s) in %s", len(self.sequences), self.root)

    def names(self) -> list[str]:
        return list(self.sequences)

    def load(self, name: str) -> LoadedSequence:
        """The sequence called ``name`` (one of :meth:`names`).

        Raises:
            KeyError: an unknown name.
            InputError: unreadable or mismatched files.
        """
        if name not in self.sequences:
            raise KeyError(name)
        return self._load(name)

    def summary(self, name: str) -> dict:
        """JSON: frame count, stages, whether images were found, spacing, the attribute curves per stage and their
        units."""
        seq = self.load(name)
        curves = {stage: {attr: [None if not np.isfinite(v) else float(v) for v in values]
                          for attr, values in attrs.items()} for stage, attrs in seq.attributes.items()}
        return {"name": name, "frames": seq.frames, "stages": list(seq.masks), "image": seq.image is not None,
                "spacing": list(seq.spacing), "attributes": curves,
                "units": {name: attribute_unit(name, resolve_spacing(seq.spacing) is not None) for name in ATTRIBUTES}}

    def _read(self, name: str) -> LoadedSequence:
        masks, spacing = {}, None
        for stage, path in self.sequences[name].items():
            array, geometry = read_image(path)
            masks[stage] = check_masks(array, str(path))
            spacing = spacing or tuple(float(s) for s in geometry.spacing)
            shapes = {m.shape for m in masks.values()}
            if len(shapes) > 1:
                raise InputError(path, f"mask shape {array.shape} differs from the other stage's {shapes}")
        attributes = {stage: compute_attributes(m, resolve_spacing(spacing)) for stage, m in masks.items()}
        image = self._image(name, next(iter(masks.values())).shape)
        return LoadedSequence(masks, image, spacing, attributes)

    def _image(self, name: str, shape: tuple[int, ...]) -> np.ndarray | None:
        """The echo frames of ``name`` from the run's input folder, when found with the masks' shape."""
        if self.input is None:
            return None
        from echolatent.io.camus import find_sequences

        patient = self.sequences[name][next(iter(self.sequences[name]))].parent.name
        try:
            refs = find_sequences(self.input, patients=[patient], require_image=True)
        except (InputError, ValueError) as err:
            log.debug("no images for %s: %s", name, err)
            return None
        for ref in refs:
            if ref.name == name and ref.image is not None:
                image, _ = read_image(ref.image)
                if image.shape == shape:
                    return np.clip(image, 0, 255).astype(np.uint8)
                log.warning("%s: image shape %s differs from the masks' %s", ref.image, image.shape, shape)
        return None


def _input_folder(root: Path) -> Path | None:
    """The ``input`` named by ``root/config.json`` when it is an existing folder, else None."""
    try:
        config = json.loads((root / "config.json").read_text())
        source = Path(config["input"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return source if source.is_dir() else None
