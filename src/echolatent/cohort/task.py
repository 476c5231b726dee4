"""One task of a cohort: the run job's ``process`` (:class:`echolatent.jobs.run.RunJob`: load, segment, smooth,
measure one sequence, write its masks and figures) then its result and record (runs on a Dask worker, or in the
calling process). The job, with its models, is built once per process and cached."""

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
from echolatent.io.camus import output_path
from echolatent.jobs.loop import sequence_ids
from echolatent.jobs.run import Pair, RunJob, load_networks

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
        source, out, gt: the input, the output folder and the ground-truth root (set by the cohort run).
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
    source: str = ""
    out: str = ""
    gt: str | None = None


_JOBS: dict[Settings, RunJob] = {}


def cached_job(settings: Settings) -> RunJob:
    """The run job of ``settings`` with its models loaded, built once per process (the cached loader)."""
    if settings not in _JOBS:
        device = resolve_device(settings.device)
        torch.manual_seed(settings.seed)
        segmenter, smoother, thresholds = load_networks(settings.model, settings.vae, settings.method, device)
        _JOBS[settings] = RunJob(Path(settings.source), Path(settings.out), segmenter, smoother,
                                 {"spacing": settings.spacing}, thresholds,
                                 Path(settings.gt) if settings.gt is not None else None, settings.batch_size,
                                 settings.max_figures if settings.figures == "all" else 0)
        log.info("models loaded on %s (pid %d, %s)", device, os.getpid(), settings.method)
    return _JOBS[settings]


class CohortWorker(WorkerPlugin):
    """Dask worker plugin: one torch thread (or ``settings.threads``) per worker, models loaded at start."""

    name = "echolatent-cohort"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def setup(self, worker) -> None:
        torch.set_num_threads(max(self.settings.threads, 1))
        cached_job(self.settings)


def process_one(index: int, pair: Pair, settings: Settings) -> dict:
    """Process sequence number ``index`` of the cohort into ``settings.out``; returns its record (written last).

    A bad sequence (an :class:`~echolatent.errors.EcholatentError` or ValueError: unreadable file, wrong shape)
    gets a ``failed`` record and does not raise; other errors raise, so that Dask retries the task.
    """
    out = Path(settings.out)
    ref = pair[0]
    ids = {**sequence_ids(ref), "index": index}
    start = time.perf_counter()
    job = cached_job(settings)
    try:
        item = job.process(index, pair)
    except (EcholatentError, ValueError) as err:
        log.warning("%s: %s", ref.name, err)
        return write_failure(out, ids, f"{type(err).__name__}: {err}")
    result = item["result"]
    record_file = record_path(out, ref.patient, ref.name)
    outputs = [write_pickle_atomic({**item, "index": index}, record_file.with_name(f"{ref.name}{DATA}")),
               output_path(ref, out, "_pred")]
    if item["smoothed"]:
        outputs.append(output_path(ref, out, "_post"))
    record = {**ids, "status": "done", "frames": result.frames,
              "outputs": [str(p.relative_to(out)) for p in outputs],
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
