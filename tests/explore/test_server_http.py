"""The explorer's HTTP API without a browser: good requests answer 200, bad ones 4xx with a JSON error."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from echolatent.explore.server import MAX_BODY, ExplorerServer


def call(server: ExplorerServer, path: str, body: bytes | None = None) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET (or a POST of ``body``) to ``path``."""
    request = urllib.request.Request(server.url.rstrip("/") + path, data=body,
                                     headers={"Content-Type": "application/json"} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def decode(server: ExplorerServer, z) -> tuple[int, dict]:
    status, _, body = call(server, "/api/decode", json.dumps({"z": z}).encode())
    return status, json.loads(body)


def test_page_and_model(server: ExplorerServer) -> None:
    status, kind, body = call(server, "/")
    assert status == 200 and kind.startswith("text/html") and b"/api/decode" in body
    status, _, body = call(server, "/api/model")
    model = json.loads(body)
    assert status == 200 and model["latent_dim"] == len(model["dims"]) and model["results"]


def test_decode_good_code(server: ExplorerServer) -> None:
    model = json.loads(call(server, "/api/model")[2])
    status, result = decode(server, [dim["reference"] for dim in model["dims"]])
    assert status == 200 and result["valid"] and result["attributes"]["lv_area"] > 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"z": [0, 0, 0]}', 422),                         # wrong length
        (b'{"z": [' + b"0, " * 16 + b"0]}", 422),          # 17 values
        (b'{"z": [NaN' + b", 0" * 15 + b"]}", 400),         # NaN is not JSON
        (b'{"z": [1e400' + b", 0" * 15 + b"]}", 422),       # overflows to infinity
        (b'{"z": [11' + b", 0" * 15 + b"]}", 422),          # out of range
        (b'{"z": ["a"' + b", 0" * 15 + b"]}", 422),         # not a number
        (b'{"y": 1}', 422),                                   # no z
        (b"[1, 2]", 400),                                     # not an object
        (b"not json", 400),
        (b"\xff\xfe", 400),
    ],
)
def test_decode_bad_requests(server: ExplorerServer, body: bytes, status: int) -> None:
    got, kind, answer = call(server, "/api/decode", body)
    assert got == status and kind == "application/json"
    assert "error" in json.loads(answer) and b"Traceback" not in answer


def test_oversized_body_is_refused(server: ExplorerServer) -> None:
    assert call(server, "/api/decode", b" " * (MAX_BODY + 1))[0] == 413


def test_sample(server: ExplorerServer) -> None:
    status, _, body = call(server, "/api/sample?kind=range&seed=7")
    assert status == 200 and len(json.loads(body)["z"]) == 16
    for query in ("kind=posterior", "seed=abc", "seed=-1", "kind=prior&kind=range"):
        assert call(server, f"/api/sample?{query}")[0] == 400


def test_sequence_routes(server: ExplorerServer, sequence_name: str) -> None:
    status, _, body = call(server, "/api/sequences")
    assert status == 200 and json.loads(body) == {"sequences": [sequence_name]}
    status, _, body = call(server, f"/api/sequence?name={sequence_name}")
    assert status == 200 and json.loads(body)["frames"] == 4
    status, kind, body = call(server, f"/api/frame?name={sequence_name}&stage=pred&t=3")
    assert status == 200 and kind == "image/png" and body.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "path",
    [
        "/api/sequence?name=../secret.txt",
        "/api/sequence?name=..%2Fsecret.txt",
        "/api/sequence?name=%2Fetc%2Fpasswd",
        "/api/frame?name=..%2F..%2Fetc%2Fpasswd&stage=pred&t=0",
        "/api/frame?name=patient0001%2Fpatient0001_4CH_half_sequence&stage=pred&t=0",
        "/api/sequence",
        "/../../etc/passwd",
        "/api/nothing",
    ],
)
def test_path_traversal_and_unknown_names_get_404(server: ExplorerServer, path: str) -> None:
    status, kind, body = call(server, path)
    assert status == 404 and kind == "application/json" and b"not to be served" not in body


@pytest.mark.parametrize("query", ["stage=gt&t=0", "stage=pred&t=4", "stage=pred&t=-1", "stage=pred&t=x",
                                   "stage=pred"])
def test_frame_bad_parameters_get_400(server: ExplorerServer, sequence_name: str, query: str) -> None:
    assert call(server, f"/api/frame?name={sequence_name}&{query}")[0] == 400


def test_without_results_folder(shipped_view, serve) -> None:
    from echolatent.explore.server import Explorer

    with serve(Explorer(shipped_view)) as running:
        assert json.loads(call(running, "/api/sequences")[2]) == {"sequences": []}
        assert call(running, "/api/sequence?name=x")[0] == 404


def test_http_map_route_and_decode_position(server, map_file: Path) -> None:
    status, kind, body = call(server, "/api/map")
    assert status == 200 and kind == "application/json"
    served = json.loads(body)
    assert served["x"] == json.loads(map_file.read_text())["x"] and "pca" not in served
    assert json.loads(call(server, "/api/model")[2])["map"] is True
    z = [0.0] * server.explorer.latent.latent_dim
    status, answer = decode(server, z)
    assert status == 200 and np.allclose(answer["map"], server.explorer.map.place(np.zeros(len(z))))


def test_without_a_map(shipped_view, serve) -> None:
    from echolatent.explore.server import Explorer

    with serve(Explorer(shipped_view)) as running:
        assert call(running, "/api/map")[0] == 404
        status, answer = decode(running, [0.0] * shipped_view.latent_dim)
        assert status == 200 and "map" not in answer
