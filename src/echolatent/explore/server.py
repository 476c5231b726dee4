"""The explorer's HTTP server: the static page and a small JSON API, on the standard library's ThreadingHTTPServer.

Routes (all answers JSON unless noted; a bad request gets a 4xx with ``{"error": "..."}``, never a traceback):

* ``GET /``: the page (``explorer.html``, shipped in the package; nothing is downloaded).
* ``GET /api/model``: the model's kind, latent size and one entry per dimension (name, slider range, reset value).
* ``POST /api/decode`` with ``{"z": [d numbers]}``: the decoded heart (base64 PNG), its attributes and validity.
* ``GET /api/sample?kind=prior|range[&seed=N]``: a random code, decoded.
* ``GET /api/sequences``: names of the results folder's sequences (empty without ``--results``).
* ``GET /api/sequence?name=NAME``: frame count, stages and attribute curves of one listed sequence.
* ``GET /api/frame?name=NAME&stage=pred|post&t=N``: the frame's overlay as ``image/png``.
* ``GET /api/map``: the latent map's points, attributes and unit labels (404 without ``--map``); with a map, each
  decode answer also holds ``"map": [x, y]``, the code's place on it.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from echolatent.errors import EcholatentError
from echolatent.explore.latent_view import LatentView, mask_png, parse_code
from echolatent.explore.map_view import MapView
from echolatent.explore.results_view import STAGES, ResultsView

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_SEED = 2**32 - 1


class RequestError(Exception):
    """A bad request: answered with ``status``, ``{"error": message}`` and the extra ``headers``."""

    def __init__(self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def page_html() -> bytes:
    """The shipped single-file page."""
    return resources.files("echolatent.explore").joinpath("explorer.html").read_bytes()


class Explorer:
    """What the handler serves: a :class:`LatentView`, an optional :class:`ResultsView` and :class:`MapView`, and
    one decode lock."""

    def __init__(self, latent: LatentView, results: ResultsView | None = None, latent_map: MapView | None = None) \
            -> None:
        self.latent = latent
        self.results = results
        self.map = latent_map
        self.lock = threading.Lock()  # torch calls one at a time: concurrent ones only fight for the 2 cores

    # --- latent routes
    def model(self, _query: dict) -> dict:
        return self.latent.describe() | {"results": self.results is not None, "map": self.map is not None}

    def latent_map(self, _query: dict) -> dict:
        if self.map is None:
            raise RequestError(HTTPStatus.NOT_FOUND, "no latent map: start with --map OUT/latent_map.json")
        return self.map.describe()

    def _decoded(self, code) -> dict:
        with self.lock:
            answer = self.latent.decode(code)
        if self.map is not None:
            answer["map"] = self.map.place(code)
        return answer

    def decode(self, body: dict) -> dict:
        try:
            code = parse_code(body.get("z"), self.latent.latent_dim)
        except ValueError as err:
            raise RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, str(err)) from None
        return self._decoded(code)

    def sample(self, query: dict) -> dict:
        kind = _one(query, "kind", "prior")
        seed_text = _one(query, "seed", None)
        seed = _integer(seed_text, "seed", 0, MAX_SEED) if seed_text is not None else None
        try:
            code = self.latent.sample(kind, seed)
        except ValueError as err:
            raise RequestError(HTTPStatus.BAD_REQUEST, str(err)) from None
        return self._decoded(code)

    # --- results routes
    def sequences(self, _query: dict) -> dict:
        return {"sequences": self.results.names() if self.results is not None else []}

    def sequence(self, query: dict) -> dict:
        return self._results_call(lambda results, name: results.summary(name), query)

    def frame(self, query: dict) -> bytes:
        stage = _one(query, "stage", "post")
        if stage not in STAGES:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"stage must be one of {list(STAGES)}, got {stage!r}")

        def draw(results: ResultsView, name: str) -> bytes:
            seq = results.load(name)
            if stage not in seq.masks:
                raise RequestError(HTTPStatus.NOT_FOUND, f"{name} has no {stage} masks")
            t = _integer(_one(query, "t", None), "t", 0, seq.frames - 1)
            return mask_png(seq.masks[stage][t], None if seq.image is None else seq.image[t])

        return self._results_call(draw, query)

    def _results_call(self, call, query: dict):
        if self.results is None:
            raise RequestError(HTTPStatus.NOT_FOUND, "no results folder: start with --results OUT")
        name = _one(query, "name", None)
        if name is None or name not in self.results.sequences:
            raise RequestError(HTTPStatus.NOT_FOUND, f"unknown sequence {name!r}: see /api/sequences")
        try:
            return call(self.results, name)
        except EcholatentError as err:
            raise RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, str(err)) from None


def _one(query: dict, key: str, default: str | None) -> str | None:
    values = query.get(key)
    if not values:
        return default
    if len(values) > 1:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"parameter {key!r} given {len(values)} times")
    return values[0]


def _integer(text: str | None, key: str, low: int, high: int) -> int:
    if text is None:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"missing parameter {key!r}")
    if not text.strip().lstrip("-").isdigit() or len(text) > 12:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{key} must be an integer, got {text[:20]!r}")
    value = int(text)
    if not low <= value <= high:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{key} must lie within {low}..{high}, got {value}")
    return value


GET_ROUTES = {"/api/model": "model", "/api/sample": "sample", "/api/sequences": "sequences",
              "/api/sequence": "sequence", "/api/frame": "frame", "/api/map": "latent_map"}
POST_ROUTES = {"/api/decode": "decode"}
PAGES = ("/", "/index.html")


def _route_error(path: str, method: str) -> RequestError:
    """404 for an unknown path, 405 (with ``Allow``) for a known path asked with another method."""
    allowed = "GET" if path in GET_ROUTES or path in PAGES else "POST" if path in POST_ROUTES else None
    if allowed is None:
        return RequestError(HTTPStatus.NOT_FOUND, f"no such route: {path}")
    return RequestError(HTTPStatus.METHOD_NOT_ALLOWED, f"{path} answers {allowed}, not {method}", {"Allow": allowed})


class Handler(BaseHTTPRequestHandler):
    """Routes requests to the server's :class:`Explorer`; every failure becomes a JSON error answer."""

    server: ExplorerServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(self._post)

    def _other_method(self) -> None:
        def refuse():
            raise _route_error(urlsplit(self.path).path, self.command)

        self._answer(refuse)

    do_PUT = do_DELETE = do_PATCH = _other_method  # noqa: N815

    def _get(self):
        url = urlsplit(self.path)
        if url.path in PAGES:
            return page_html(), "text/html; charset=utf-8"
        if url.path not in GET_ROUTES:
            raise _route_error(url.path, "GET")
        query = parse_qs(url.query, keep_blank_values=True)
        return getattr(self.server.explorer, GET_ROUTES[url.path])(query), None

    def _post(self):
        url = urlsplit(self.path)
        if url.path not in POST_ROUTES:
            raise _route_error(url.path, "POST")
        return getattr(self.server.explorer, POST_ROUTES[url.path])(self._json_body()), None

    def _json_body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "missing or bad Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY} bytes")
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as err:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"body is not valid JSON: {err}") from None
        if not isinstance(body, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
        return body

    def _answer(self, route) -> None:
        headers: dict[str, str] = {}
        try:
            payload, content_type = route()
            status = HTTPStatus.OK
        except RequestError as err:
            payload, content_type, status, headers = {"error": str(err)}, None, err.status, err.headers
        except ConnectionError:  # the client hung up while its body was read: nobody to answer
            log.debug("explorer: client %s hung up during %s", self.address_string(), self.path)
            self.close_connection = True
            return
        except Exception:  # a bug must not leak a traceback to the client
            log.exception("explorer request %s failed", self.path)
            payload, content_type, status = {"error": "internal error (see the server log)"}, None, 500
        if isinstance(payload, dict):
            payload, content_type = json.dumps(payload, allow_nan=False).encode(), "application/json"
        elif content_type is None:
            content_type = "image/png"
        try:
            self._send(status, content_type, payload, headers)
        except ConnectionError:  # BrokenPipe / reset: the client left before the answer; not a server error
            log.debug("explorer: client %s hung up before the answer to %s", self.address_string(), self.path)
            self.close_connection = True

    def _send(self, status: int, content_type: str, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        log.debug("%s " + format, self.address_string(), *args)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed")


class ExplorerServer(ThreadingHTTPServer):
    """A threading HTTP server holding the :class:`Explorer` it serves."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], explorer: Explorer) -> None:
        super().__init__(address, Handler)
        self.explorer = explorer

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up is logged at debug level; anything else with its traceback in the log (not
        printed on stderr by socketserver)."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log.debug("explorer: client %s hung up (%s)", client_address, type(error).__name__)
        else:
            log.error("explorer: request from %s failed", client_address, exc_info=error)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def make_server(explorer: Explorer, host: str = "127.0.0.1", port: int = 8765) -> ExplorerServer:
    """Bind (port 0: a free port) without serving yet; call ``serve_forever`` (and ``shutdown``) on it."""
    return ExplorerServer((host, port), explorer)
