"""The explorer's latent map: the map file is checked against the model and the slider's code is placed with the
map's PCA (the HTTP routes: test_server_http.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.explore.map_view import MapView
from echolatent.latent.codec import encode_masks
from echolatent.latent.projection import fit_pca


def test_the_code_is_placed_with_the_maps_pca(map_file: Path, shipped_view, make_hearts) -> None:
    view = MapView.from_file(map_file.parent, shipped_view.model)  # the folder works as well as the file
    payload = json.loads(map_file.read_text())
    points = np.c_[payload["x"], payload["y"]]
    mean, axes = np.array(payload["pca"]["mean"]), np.array(payload["pca"]["components"])
    code = shipped_view.reference
    assert np.allclose(view.place(code), (code - mean) @ axes.T, atol=1e-6)
    # the points themselves: projecting the encoded hearts again gives the stored coordinates
    masks = np.concatenate([make_hearts(6), make_hearts(6, size=56)[:, 4:52, 4:52]])
    codes = encode_masks(shipped_view.model, masks)
    assert np.allclose([view.place(c) for c in codes], points, atol=1e-3)
    assert np.allclose(fit_pca(codes).transform(codes), points, atol=1e-3)
    assert "pca" not in view.describe() and view.describe()["labels"]["lv_area"] == "LV area (mm²)"


def rewrite(map_file: Path, tmp_path: Path, change) -> Path:
    payload = json.loads(map_file.read_text())
    change(payload)
    path = tmp_path / "latent_map.json"
    path.write_text(json.dumps(payload))
    return path


@pytest.mark.parametrize(("change", "match"), [
    (lambda p: p.pop("pca"), "--projection pca"),
    (lambda p: p.update(model_kind="ae"), "ae model"),
    (lambda p: p["pca"].update(mean=[0.0, 1.0]), "2 latent dimensions"),
    (lambda p: p.pop("x") and p.pop("pca") and p.update(pca="x"), "not a readable latent map"),
])
def test_maps_that_cannot_place_the_code_are_refused(map_file, shipped_view, tmp_path, change, match) -> None:
    with pytest.raises(InputError, match=match):
        MapView.from_file(rewrite(map_file, tmp_path, change), shipped_view.model)
    with pytest.raises(InputError, match="not a readable"):
        MapView.from_file(tmp_path / "missing.json", shipped_view.model)
