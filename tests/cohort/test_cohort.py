"""The cohort path against the serial run: Dask workers, shards + report, a killed worker, an interrupted run."""

from __future__ import annotations

import json
import os
import signal

import pytest
from distributed import LocalCluster, default_client

from echolatent.cohort.resume import find_records
from echolatent.cohort.run import CohortOptions, build_report, run_cohort
from echolatent.cohort.task import Settings
from echolatent.errors import InputError


def settings(models: dict, **changes) -> Settings:
    return Settings(model=str(models["model"]), vae=str(models["vae"]), method="exact", figures="none", **changes)


def mask_files(out) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.glob("*/*.nii.gz"))}


def untimed(value):
    """``value`` without its "seconds" entries, at any depth."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k != "seconds"}
    return [untimed(v) for v in value] if isinstance(value, list) else value


def numbers(summary: dict) -> dict:
    """The summary's numbers: without timings and paths."""
    return untimed({key: summary[key] for key in ("before", "after", "units", "sequences")})


def assert_same_as_serial(out, summary, serial_run) -> None:
    serial_out, serial_summary = serial_run
    expected = mask_files(serial_out)
    assert len(expected) == 12  # 6 sequences, _pred and _post
    assert mask_files(out) == expected
    assert numbers(summary) == numbers(serial_summary)
    assert numbers(json.loads((out / "summary.json").read_text())) == numbers(
        json.loads((serial_out / "summary.json").read_text()))
    assert (out / "metrics.csv").read_bytes() == (serial_out / "metrics.csv").read_bytes()


def test_two_dask_workers_match_the_serial_run(cohort_data, tiny_models, serial_run, tmp_path):
    seen = []
    summary = run_cohort(cohort_data, tmp_path / "out", settings(tiny_models), CohortOptions(workers=2),
                         progress=lambda done, total, rate: seen.append((done, total, rate)))
    assert [s[:2] for s in seen] == [(i, 6) for i in range(1, 7)] and all(rate > 0 for *_, rate in seen)
    assert summary["run"]["workers"] == 2 and summary["run"]["processed"] == 6 and summary["failed"] == []
    assert len({r["worker"] for r in find_records(tmp_path / "out")}) == 2  # both processes took sequences
    assert_same_as_serial(tmp_path / "out", summary, serial_run)


def test_two_parts_then_report_match_the_serial_run(cohort_data, tiny_models, serial_run, tmp_path):
    out = tmp_path / "out"
    parts = [run_cohort(cohort_data, out, settings(tiny_models), CohortOptions(num_parts=2, part_id=i))
             for i in (1, 0)]
    assert [p["processed"] for p in parts] == [3, 3] and not (out / "summary.json").exists()
    assert sorted(r["index"] for r in find_records(out)) == list(range(6))
    summary = build_report(out)
    assert summary["processed"] == 6 and summary["missing"] == 0
    assert_same_as_serial(out, summary, serial_run)


def test_a_killed_worker_does_not_stop_the_cohort(cohort_data, tiny_models, serial_run, tmp_path):
    killed = []

    def kill_one(done, total, rate):
        if not killed:
            pid = next(iter(default_client().run(os.getpid).values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    # a cluster started apart (as dask-jobqueue does), reached through --scheduler
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        summary = run_cohort(cohort_data, tmp_path / "out", settings(tiny_models),
                             CohortOptions(scheduler=cluster.scheduler_address), progress=kill_one)
    assert killed and summary["processed"] == 6 and summary["failed"] == []
    assert_same_as_serial(tmp_path / "out", summary, serial_run)


def test_an_interrupted_run_resumes(cohort_data, tiny_models, serial_run, tmp_path):
    out = tmp_path / "out"

    def interrupt(done, total, rate):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_cohort(cohort_data, out, settings(tiny_models), CohortOptions(), progress=interrupt)
    assert [r["status"] for r in find_records(out)] == ["done", "done"]
    with pytest.raises(InputError, match="--resume"):  # no silent restart over a run in progress
        run_cohort(cohort_data, out, settings(tiny_models), CohortOptions())
    summary = run_cohort(cohort_data, out, settings(tiny_models), CohortOptions(resume=True))
    assert (summary["run"]["skipped"], summary["run"]["processed"]) == (2, 4)
    assert_same_as_serial(out, summary, serial_run)
    again = run_cohort(cohort_data, out, settings(tiny_models), CohortOptions(resume=True))
    assert (again["run"]["skipped"], again["run"]["processed"]) == (6, 0)


_ENV_KEYS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_")


def _worker_environment() -> dict:
    return {key: os.environ.get(key) for key in _ENV_KEYS}


def test_local_workers_get_one_thread_and_no_malloc_trim(monkeypatch):
    """Dask's default MALLOC_TRIM_THRESHOLD_ (64 KiB) is left out of local workers (it cost 16 % of a task); the thread
    limits are kept."""
    from echolatent.cohort.engine import WORKER_ENVIRON, connect

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)  # an earlier cluster in this process may have set it
    with connect(1) as client:
        seen = list(client.run(_worker_environment).values())
    assert seen == [{"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                     "MALLOC_TRIM_THRESHOLD_": None}]
    assert {key: "1" for key in _ENV_KEYS[:3]} == WORKER_ENVIRON
