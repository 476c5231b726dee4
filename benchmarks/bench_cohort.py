"""Seconds per sequence of the cohort path (``run --workers N --figures none``) against the serial ``run`` with
figures; writes benchmarks/results/cohort.json.

Data: ``echolatent data synth`` at 20 frames, 256 x 256 px (2 half sequences per patient), shipped weights, the
default exact smoothing, one torch thread per worker. For each worker count a fresh local Dask cluster runs the
whole job (cluster start, models loaded once per worker, every sequence, tables and report); the steady rate is
taken between the first and the last sequence finished (start-up excluded), the wall time includes everything.
Memory: resident set of each worker at the end. The serial ``run`` (one process, figures of every sequence) runs
on the first ``--serial-sequences`` sequences in the same run, for the ratio. The projection divides the measured
single-worker cost by the cores of the target cluster, and by the measured 2-worker efficiency.

    python benchmarks/bench_cohort.py [--sequences 200] [--workers 1 2] [--serial-sequences 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

from echolatent.cohort.resume import find_records
from echolatent.cohort.run import CohortOptions, run_cohort
from echolatent.cohort.task import Settings
from echolatent.files import write_json_atomic
from echolatent.jobs.run import run_job
from echolatent.synth.dataset import write_synthetic_dataset

HERE = Path(__file__).resolve().parent
TARGET = {"sequences": 100_000, "machines": 10, "cores_per_machine": 16}


def timed_cohort(data: Path, out: Path, workers: int) -> dict:
    """One cohort run with ``workers`` Dask workers and no figures: wall, steady seconds per sequence, memory."""
    stamps = []
    start = time.perf_counter()
    summary = run_cohort(data, out, Settings(figures="none"), CohortOptions(workers=workers),
                         progress=lambda done, total, rate: stamps.append(time.perf_counter()))
    wall = time.perf_counter() - start
    count = len(stamps)
    steady = (stamps[-1] - stamps[0]) / (count - 1) if count > 1 else wall
    memory = summary["run"]["memory_mb"]
    records = [r for r in find_records(out) if r["status"] == "done"]
    stages = {key: round(statistics.mean(r["seconds"].get(key, 0.0) for r in records), 3)
              for key in ("segment", "smooth", "measure", "total")}
    return {"workers": workers, "sequences": count, "failed": len(summary["failed"]), "wall_seconds": round(wall, 2),
            "seconds_per_sequence_wall": round(wall / count, 3), "seconds_per_sequence_steady": round(steady, 3),
            "first_sequence_after_seconds": round(stamps[0] - start, 2),
            "mean_task_seconds": stages, "memory_mb_per_worker": memory,
            "memory_mb_max": round(max(memory.values()), 1)}


def timed_serial(data: Path, out: Path, count: int) -> dict:
    """The serial ``run`` (figures of every sequence) on ``data``: wall and seconds per sequence."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    summary = run_job(data, out, max_figures=count)
    wall = time.perf_counter() - start
    seconds = [sum(s["seconds"].values()) for s in summary["sequences"]]
    return {"sequences": len(seconds), "wall_seconds": round(wall, 2),
            "seconds_per_sequence_wall": round(wall / len(seconds), 3), "figures": "all"}


def projection(one_worker: dict, scaled: dict | None) -> dict:
    """Wall time of :data:`TARGET` from the measured steady cost of one worker (one core)."""
    cost = one_worker["seconds_per_sequence_steady"]
    cores = TARGET["machines"] * TARGET["cores_per_machine"]
    ideal = TARGET["sequences"] * cost / cores
    efficiency = None
    if scaled is not None and scaled["workers"] > 0 and scaled is not one_worker:  # 0 workers: in-process, no scaling
        efficiency = cost / (scaled["seconds_per_sequence_steady"] * scaled["workers"])
    result = {**TARGET, "cores": cores, "core_seconds_per_sequence": cost, "hours_linear": round(ideal / 3600, 2)}
    if efficiency:
        result.update({"parallel_efficiency_measured": round(efficiency, 3),
                       "hours_at_measured_efficiency": round(ideal / min(efficiency, 1.0) / 3600, 2)})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=200)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--serial-sequences", type=int, default=20)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "cohort.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_cohort_"))
    try:
        load = [os.getloadavg()[0]]
        data = write_synthetic_dataset(root / "data", patients=(args.sequences + 1) // 2, frames=args.frames,
                                       size=args.size, previews=0)
        runs = [timed_cohort(data, root / f"workers{n}", n) for n in args.workers]
        small = write_synthetic_dataset(root / "small", patients=(args.serial_sequences + 1) // 2,
                                        frames=args.frames, size=args.size, previews=0)
        serial = timed_serial(small, root / "serial", args.serial_sequences)
        load.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    by_workers = {r["workers"]: r for r in runs}
    result = {"data": {"sequences": runs[0]["sequences"], "frames": args.frames, "size": args.size,
                       "figures": "none", "models": "shipped U-Net + AR-VAE, exact smoothing"},
              "cohort": runs, "serial_with_figures": serial,
              "serial_over_cohort": {n: round(serial["seconds_per_sequence_wall"] / r["seconds_per_sequence_steady"], 2)
                                     for n, r in by_workers.items()},
              "projection": projection(by_workers[min(by_workers)], by_workers.get(max(by_workers))),
              "machine": {"cpus": os.cpu_count(), "load_average_1min": load, "python": platform.python_version(),
                          "torch": torch.__version__, "cuda": "not measured (no GPU in this session)"}}
    write_json_atomic(result, args.out)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
