"""Fixtures for the explorer: the shipped shape model, a tiny results folder, a running server."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from echolatent.explore.latent_view import LatentView
from echolatent.explore.map_view import MapView
from echolatent.explore.results_view import ResultsView
from echolatent.explore.server import Explorer, ExplorerServer, make_server
from echolatent.io.volume import Geometry, write_like
from echolatent.labels import Label
from echolatent.latent.codec import encode_masks, load_model
from echolatent.latent.map_data import MapData, Trajectory, map_payload, write_map_json
from echolatent.latent.projection import fit_pca
from echolatent.measure.attributes import compute_attributes

NAME = "patient0001_4CH_half_sequence"


@pytest.fixture(scope="session")
def shipped_view() -> LatentView:
    torch.set_num_threads(1)
    return LatentView.from_model(load_model())


def heart_masks(frames: int, size: int = 48) -> np.ndarray:
    """``(frames, size, size)`` ellipse hearts (MYO ring around the LV, LA below) whose LV shrinks over time."""
    rows, cols = np.mgrid[:size, :size]
    masks = np.zeros((frames, size, size), np.uint8)
    for t in range(frames):
        ry, rx = 0.30 * size - t, 0.16 * size - 0.5 * t
        cy, cx = 0.40 * size, 0.5 * size
        inner = ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 <= 1
        outer = ((rows - cy) / (ry + 3)) ** 2 + ((cols - cx) / (rx + 3)) ** 2 <= 1
        atrium = ((rows - 0.82 * size) / (0.1 * size)) ** 2 + ((cols - cx) / (0.12 * size)) ** 2 <= 1
        masks[t][outer] = Label.MYO
        masks[t][inner] = Label.LV
        masks[t][atrium & ~outer] = Label.LA
    return masks


@pytest.fixture
def sequence_name() -> str:
    return NAME


@pytest.fixture
def make_hearts():
    return heart_masks


def write_results(root: Path) -> Path:
    """``root/patient0001/<NAME>_pred.nii.gz`` and ``_post.nii.gz`` (4 frames, 48 x 48, 0.5 mm), a stray file."""
    (root / "patient0001").mkdir(parents=True)
    masks = heart_masks(4)
    geometry = Geometry.default(masks.shape, (0.5, 0.5))
    write_like(masks, geometry, root / "patient0001" / f"{NAME}_pred.nii.gz")
    write_like(masks, geometry, root / "patient0001" / f"{NAME}_post.nii.gz")
    (root / "secret.txt").write_text("not to be served")
    return root


@pytest.fixture
def results_folder(tmp_path: Path) -> Path:
    return write_results(tmp_path / "results")


@contextlib.contextmanager
def serving(explorer: Explorer) -> Iterator[ExplorerServer]:
    """Run ``explorer`` on a free local port in a thread for the duration of the block."""
    server = make_server(explorer, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def server(shipped_view: LatentView, map_file: Path, tmp_path_factory: pytest.TempPathFactory) \
        -> Iterator[ExplorerServer]:
    """The shipped model, a tiny results folder and a latent map, served on a free port (one per test module)."""
    results = write_results(tmp_path_factory.mktemp("served") / "results")
    with serving(Explorer(shipped_view, ResultsView(results), MapView.from_file(map_file, shipped_view.model))) \
            as running:
        yield running


@pytest.fixture
def serve():
    """The :func:`serving` context manager, for tests that build their own :class:`Explorer`."""
    return serving


def write_map(view: LatentView, folder: Path) -> Path:
    """``folder/latent_map.json``: a PCA map of 12 synthetic hearts encoded by ``view``'s model, with a trajectory."""
    masks = np.concatenate([heart_masks(6), heart_masks(6, size=56)[:, 4:52, 4:52]])
    data = MapData([f"heart{i}" for i in range(12)], encode_masks(view.model, masks),
                   compute_attributes(masks, (0.5, 0.5)))
    track = Trajectory(NAME, {"pred": data.codes[:4], "post": data.codes[1:5]})
    return write_map_json(map_payload(data, fit_pca(data.codes), view.model.config.kind, "hearts", track), folder)


@pytest.fixture(scope="session")
def map_file(shipped_view: LatentView, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_map(shipped_view, tmp_path_factory.mktemp("map"))
