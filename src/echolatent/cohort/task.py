"""One task of a cohort: load, segment, smooth, measure one sequence and write its outputs and record (runs on a
Dask worker, or in the calling process). The models are loaded once per process and cached."""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from distributed import WorkerPlugin

from echolatent.cohort.resume import DATA, record_path, write_pickle_atomic
from echolatent.device import resolve_device
from echolatent.errors import EcholatentError
from echolatent.files import write_json_atomic
from echolatent.pipeline import Job, process_job
from echolatent.pipeline import load_models as pipeline_models
from echolatent.report.job import FILES, draw_sequence, keep_small

log = logging.getLogger(__name__)

FIGURES = ("all", "summary", "none")


@dataclass(frozen=True)
class Settings:
    """What every task needs (plain values, sent to the workers).

    Attributes:
        model, vae: U-Net and shape-model files (None: the shipped weights); method: smoothing method.
        spacing: spacing mode (auto, header, none); batch_size: frames per U-Net pass; seed: torch seed.
        figures: all (per-sequence figures for the first ``max_figures`` sequences), summary or none.
        device: cpu, cuda or auto (resolved on each worker); threads: torch threads per worker.
    """

    model: str | None = None
    vae: str | None = None
    method: str = "exact"
    spacing: str = "auto"
    batch_size: int = 16
    seed: int = 0
    figures: str = "all"
    max_figures: int = 40
    device: str = "cpu"
    threads: int = 1


_MODELS: dict[tuple, tuple] = {}


def load_models(settings: Settings) -> tuple:
    """``(segmenter, smoother, thresholds)`` for ``settings``, loaded once per process (the cached loader)."""
    key = (settings.model, settings.vae, settings.method, settings.device, settings.seed)
    if key not in _MODELS:
        device = resolve_device(settings.device)
        torch.manual_seed(settings.seed)
        _MODELS[key] = pipeline_models(settings.model, settings.vae, settings.method, device)
        log.info("models loaded on %s (pid %d, %s)", device, os.getpid(), settings.method)
    return _MODELS[key]


class CohortWorker(WorkerPlugin):
    """Dask worker plugin: one torch thread (or ``settings.threads``) per worker, models loaded at start."""

    name = "echolatent-cohort"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def setup(self, worker) -> None:
        torch.set_num_threads(max(self.settings.threads, 1))
        load_models(self.settings)


def process_one(index: int, job: Job, out: str, settings: Settings) -> dict:
    """Process sequence number ``index`` of the cohort into ``out``; returns its record (also written last).

    A bad sequence (an :class:`~echolatent.errors.EcholatentError` or ValueError: unreadable file, wrong shape)
    gets a ``failed`` record and does not raise; other errors raise, so that Dask retries the task.
    """
    out_path = Path(out)
    ref = job.ref
    ids = {"sequence": ref.name, "patient": ref.patient, "view": ref.view.value if ref.view else "",
           "kind": ref.kind, "index": index}
    start = time.perf_counter()
    segmenter, smoother, thresholds = load_models(settings)
    try:
        result, seq = process_job(job, out_path, segmenter, smoother, thresholds=thresholds,
                                  spacing_mode=settings.spacing, batch_size=settings.batch_size)
    except (EcholatentError, ValueError) as err:
        log.warning("%s: %s", ref.name, err)
        return write_failure(out_path, ids, f"{type(err).__name__}: {err}")
    drawn = settings.figures == "all" and index < settings.max_figures
    figures = draw_sequence(result, out_path / FILES, index) if drawn else {}
    record_file = record_path(out_path, ref.patient, ref.name)
    pickle_file = write_pickle_atomic({**keep_small(result, seq, figures), "index": index},
                                      record_file.with_name(f"{ref.name}{DATA}"))
    outputs = [pickle_file, out_path / ref.patient / f"{ref.name}_pred.nii.gz"]
    if result.post is not None:
        outputs.append(out_path / ref.patient / f"{ref.name}_post.nii.gz")
    record = {**ids, "status": "done", "frames": result.frames,
              "outputs": [str(p.relative_to(out_path)) for p in outputs],
              "valid": {"before": int(result.before.validity.valid.sum()),
                        "after": None if result.after is None else int(result.after.validity.valid.sum())},
              "seconds": {**{k: round(v, 3) for k, v in result.seconds.items()},
                          "total": round(time.perf_counter() - start, 3)},
              "worker": f"{socket.gethostname()}:{os.getpid()}"}
    write_json_atomic(record, record_file)
    return record


def write_failure(out: Path, ids: dict, error: str) -> dict:
    """Write and return the ``failed`` record of the sequence ``ids`` (``--resume`` retries it)."""
    record = {**ids, "status": "failed", "error": error, "outputs": []}
    write_json_atomic(record, record_path(Path(out), ids["patient"], ids["sequence"]))
    return record
