"""The engine: Dask distributed maps :func:`~echolatent.cohort.task.process_one` over sequences.

``workers=N`` starts a :class:`distributed.LocalCluster` of N worker processes, one thread each (one torch
thread each by default); ``scheduler=ADDRESS`` connects to a running cluster (dask-jobqueue, dask-kubernetes,
``dask scheduler`` + ``dask worker``). Each task is one sequence; the models are loaded once per worker by a
worker plugin. A task that raises is retried ``retries`` times; a task whose worker dies is moved to another
worker by the scheduler (up to ``distributed.scheduler.allowed-failures`` deaths). A sequence that still fails
gets a ``failed`` record and the cohort goes on. ``workers=0`` without a scheduler runs the tasks in this process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dask
import psutil
from distributed import Client, LocalCluster, as_completed

from echolatent.cohort.task import CohortWorker, Settings, process_one, write_failure
from echolatent.jobs.loop import sequence_ids
from echolatent.jobs.run import Pair

log = logging.getLogger(__name__)

#: ``progress(done, total, rate)``: sequences finished (done or failed), to do, sequences per second so far.
Progress = Callable[[int, int, float], None]
#: Environment of local workers: one OpenMP / BLAS thread each, as Dask's default, but without its
#: ``MALLOC_TRIM_THRESHOLD_=65536``: with it glibc hands every freed large array back to the system and each
#: sequence faults its pages in again (measured, 24 sequences, 1 worker: 1.73 -> 1.45 s per sequence without it, the
#: in-process speed; resident memory 0.89 -> 1.01 GB).
WORKER_ENVIRON = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@dataclass
class EngineStats:
    """What a run of the engine measured: wall seconds, workers, resident memory per worker (MB, at the end)."""

    seconds: float = 0.0
    workers: int = 0
    memory_mb: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def connect(workers: int, scheduler: str | None = None) -> Iterator[Client]:
    """A Dask client: on ``scheduler`` when given, else on a local cluster of ``workers`` processes (1 thread,
    :data:`WORKER_ENVIRON`, also for workers the nannies restart)."""
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_ENVIRON}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def run_tasks(items: list[tuple[int, Pair]], settings: Settings, *, workers: int = 0, scheduler: str | None = None,
              retries: int = 2, progress: Progress | None = None) -> tuple[list[dict], EngineStats]:
    """Process ``items`` (``(index, (image ref, truth ref or None))``) into ``settings.out``; returns their records
    (in completion order) and what the run measured."""
    progress = progress or (lambda *_: None)
    start = time.perf_counter()
    if workers <= 0 and scheduler is None:
        records = []
        for index, pair in items:
            records.append(_guarded(index, pair, settings))
            progress(len(records), len(items), len(records) / max(time.perf_counter() - start, 1e-9))
        memory = {f"local:{os.getpid()}": psutil.Process().memory_info().rss / 2**20}
        return records, EngineStats(time.perf_counter() - start, 0, memory)
    with connect(workers, scheduler) as client:
        client.register_plugin(CohortWorker(settings), name=CohortWorker.name)
        records = _map(client, items, settings, retries, progress, start)
        memory = {address: rss / 2**20 for address, rss in client.run(_rss).items()}
        stats = EngineStats(time.perf_counter() - start, len(memory), memory)
    return records, stats


def _map(client: Client, items, settings: Settings, retries: int, progress: Progress, start: float) -> list[dict]:
    """Submit at most a window of tasks ahead of the finished ones (bounded scheduler state for huge cohorts)."""
    window = max(64, 4 * sum(client.nthreads().values()))
    pending = iter(items)
    names = {}

    def submit(item):
        index, pair = item
        future = client.submit(process_one, index, pair, settings, retries=retries, pure=False,
                               key=f"echolatent-seq-{index}-{pair[0].name}")
        names[future.key] = item
        return future

    futures = as_completed([submit(item) for _, item in zip(range(window), pending, strict=False)])
    records = []
    for future in futures:
        index, pair = names.pop(future.key)
        try:
            records.append(future.result())
        except Exception as err:  # a worker died too often, or the task kept raising: record it, go on
            log.warning("%s failed after retries: %s", pair[0].name, err)
            records.append(_failure(index, pair, settings, err))
        future.release()
        following = next(pending, None)
        if following is not None:
            futures.add(submit(following))
        progress(len(records), len(items), len(records) / max(time.perf_counter() - start, 1e-9))
    return records


def _guarded(index: int, pair: Pair, settings: Settings) -> dict:
    """:func:`process_one` in this process; an unexpected error becomes a failed record too."""
    try:
        return process_one(index, pair, settings)
    except Exception as err:
        log.warning("%s failed: %s", pair[0].name, err)
        return _failure(index, pair, settings, err)


def _failure(index: int, pair: Pair, settings: Settings, err: BaseException) -> dict:
    ids = {**sequence_ids(pair[0]), "index": index}
    return write_failure(Path(settings.out), ids, f"{type(err).__name__}: {err}")


def _rss() -> int:
    return psutil.Process().memory_info().rss
