"""A latent map (``latent_map.json`` of ``echolatent latent map``) behind the explorer's map panel.

The page draws the map's points; the server places the slider's code on it with the map's PCA (mean and axes),
so only PCA maps made with a model of the same kind and latent size can be shown.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.latent.map_data import MAP_JSON
from echolatent.latent.projection import PCA
from echolatent.models.shape import ShapeModel

log = logging.getLogger(__name__)


@dataclass
class MapView:
    """The map's JSON payload and its PCA.

    Attributes:
        payload: what ``latent map`` wrote (points, attributes with unit labels, optional trajectory).
        pca: the projection that placed the points, used to place the slider's code.
    """

    payload: dict
    pca: PCA

    @classmethod
    def from_file(cls, path: str | Path, model: ShapeModel) -> MapView:
        """Read ``path`` (a ``latent_map.json`` or the folder holding one) for ``model``.

        Raises:
            InputError: missing or unreadable file, not a PCA map, or a map of another model kind or size.
        """
        path = Path(path)
        path = path / MAP_JSON if path.is_dir() else path
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            mean = np.asarray(payload["pca"]["mean"], dtype=np.float64) if "pca" in payload else None
            components = np.asarray(payload["pca"]["components"], dtype=np.float64) if mean is not None else None
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise InputError(path, f"not a readable latent map ({err}); make one with `echolatent latent map`") \
                from None
        if mean is None:
            raise InputError(path, f"a {payload.get('method')} map cannot place new codes; "
                                   "make it with --projection pca")
        cfg = model.config
        if payload.get("model_kind") != cfg.kind or mean.shape != (cfg.latent_dim,) or components.shape != (
                2, cfg.latent_dim):
            raise InputError(path, f"map of a {payload.get('model_kind')} model with {len(mean)} latent dimensions; "
                                   f"the explorer's model is a {cfg.kind} with {cfg.latent_dim}")
        log.info("latent map of %d points from %s", len(payload.get("x", [])), path)
        return cls(payload, PCA(mean, components, np.zeros(2)))

    def describe(self) -> dict:
        """The payload for the page, without the projection's parameters."""
        return {key: value for key, value in self.payload.items() if key != "pca"}

    def place(self, code: np.ndarray) -> list[float]:
        """``(d,)`` code -> ``[x, y]`` on the map."""
        return [float(v) for v in self.pca.transform(np.asarray(code)[None])[0]]
