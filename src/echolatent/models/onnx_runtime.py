"""The U-Net on ONNX Runtime (CPU): the same network, exported once per weights file, run where it is faster.

``benchmarks/bench_models.py`` times ONNX Runtime beside PyTorch on the same model and frames: on this project's
CPU machine it is 1.2-1.3x faster with 100 % of the mask pixels identical, so CPU inference uses it by default
(:func:`echolatent.segment.load_segmenter`, ``backend="auto"``). ``ECHOLATENT_BACKEND=torch`` (or
``backend="torch"``) keeps PyTorch; CUDA always runs PyTorch.

The export (legacy TorchScript exporter, opset chosen by torch, batch axis dynamic) takes a few seconds, so each
exported network is kept in a cache folder (``ECHOLATENT_CACHE``, else ``$XDG_CACHE_HOME/echolatent``, else
``~/.cache/echolatent``) under the SHA-256 of the weights file, the member index and the torch version; a cache
that cannot be written is skipped (the export then lives in memory for this process).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import io
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from echolatent.errors import EcholatentError
from echolatent.files import atomic_path

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnxruntime")


class BackendError(EcholatentError, ValueError):
    """An inference backend that does not exist or cannot run here (the CLI prints it as one line, exit 2)."""


def onnxruntime_installed() -> bool:
    """True when ``onnxruntime`` and ``onnx`` (torch's exporter needs it) can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def resolve_backend(backend: str, device: torch.device) -> str:
    """"torch" or "onnxruntime" for ``backend`` ("auto": ``ECHOLATENT_BACKEND`` if set, else ONNX Runtime on CPU when
    installed, PyTorch otherwise). :class:`BackendError` for an unknown name or ONNX Runtime asked on a GPU or not
    installed."""
    source = "backend"
    if backend == "auto" and os.environ.get("ECHOLATENT_BACKEND"):
        backend, source = os.environ["ECHOLATENT_BACKEND"], "ECHOLATENT_BACKEND"
    if backend not in BACKENDS:
        raise BackendError(f"{source}: unknown inference backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "auto":
        return "onnxruntime" if device.type == "cpu" and onnxruntime_installed() else "torch"
    if backend == "onnxruntime" and (device.type != "cpu" or not onnxruntime_installed()):
        why = "runs on the CPU only" if device.type != "cpu" else "is not installed (pip install onnx onnxruntime)"
        raise BackendError(f"{source}: the onnxruntime backend {why}")
    return backend


class OrtNetwork:
    """A U-Net on an ONNX Runtime session, called like the torch module: ``(N, 1, S, S)`` float32 tensor ->
    ``(N, C, S, S)`` float32 logits tensor (CPU)."""

    def __init__(self, session) -> None:
        self.session = session

    def __call__(self, grid: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(grid.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.session.run(None, {"x": array})[0])


def cache_folder() -> Path:
    """Where exported networks are kept (see the module's docstring)."""
    if os.environ.get("ECHOLATENT_CACHE"):
        return Path(os.environ["ECHOLATENT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "echolatent"


def weights_key(path: Path) -> str:
    """SHA-256 of the weights file's bytes and the torch version (the exporter's): the cache key of its networks."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update(torch.__version__.encode())
    return digest.hexdigest()[:32]


def export_onnx(model: nn.Module, input_size: int) -> bytes:
    """The ONNX bytes of ``model`` (eval mode, NCHW weights) for inputs ``(n, 1, input_size, input_size)``."""
    plain = copy.deepcopy(model).to(memory_format=torch.contiguous_format).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(plain, (torch.zeros(2, 1, input_size, input_size),), buffer, input_names=["x"],
                          output_names=["logits"], dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}}, dynamo=False)
    return buffer.getvalue()


def cached_onnx(model: nn.Module, input_size: int, key: str) -> bytes:
    """ONNX bytes of ``model`` from the cache under ``key``, exported (and stored, when the cache is writable) on a
    miss."""
    path = cache_folder() / "onnx" / f"{key}.onnx"
    if path.is_file():
        return path.read_bytes()
    data = export_onnx(model, input_size)
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        log.info("exported the U-Net to ONNX: %s", path)
    except OSError as err:
        log.info("ONNX cache not writable (%s); the export is kept in memory", err)
    return data


def ort_network(model: nn.Module, input_size: int, key: str) -> OrtNetwork:
    """``model`` on ONNX Runtime with as many intra-op threads as torch has now (``--threads``, one per worker)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    data = cached_onnx(model, input_size, key)
    return OrtNetwork(ort.InferenceSession(data, options, providers=["CPUExecutionProvider"]))
