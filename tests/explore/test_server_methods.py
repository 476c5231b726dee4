"""The explorer answers a wrong method on a known route with 405 and takes clients that hang up quietly."""

from __future__ import annotations

import json
import logging
import socket
import struct
import time
import urllib.error
import urllib.request

import pytest

from echolatent.explore.server import ExplorerServer


def _ask(server: ExplorerServer, path: str, method: str, body: bytes | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(server.url.rstrip("/") + path, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), {}
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


@pytest.mark.parametrize(
    ("path", "method", "allow"),
    [("/api/decode", "GET", "POST"), ("/api/model", "POST", "GET"), ("/", "POST", "GET"),
     ("/api/model", "PUT", "GET"), ("/api/decode", "DELETE", "POST")],
)
def test_wrong_method_on_a_known_route_is_405_with_allow(server, path, method, allow):
    status, headers, body = _ask(server, path, method, b"{}" if method in ("POST", "PUT") else None)
    assert status == 405 and headers["Allow"] == allow
    assert f"answers {allow}, not {method}" in body["error"]


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_unknown_route_stays_404_for_every_method(server, method):
    status, _, body = _ask(server, "/api/nothing", method, b"{}")
    assert status == 404 and "no such route" in body["error"]


def _hang_up(server: ExplorerServer, request: bytes) -> None:
    """Send ``request`` then reset the connection (SO_LINGER 0) without reading the answer."""
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=5) as client:
        client.sendall(request)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_client_hanging_up_leaves_no_traceback(server, caplog, capfd):
    caplog.set_level(logging.DEBUG, logger="echolatent.explore.server")
    body_cut = b"POST /api/decode HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{\"z\": ["
    for _ in range(3):
        _hang_up(server, body_cut)
        _hang_up(server, b"GET /api/model HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)  # the server threads handle the resets
    assert _ask(server, "/api/model", "GET")[0] == 200  # still serving
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "ConnectionReset" not in err
