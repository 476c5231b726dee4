"""The cohort path of ``echolatent run`` and ``echolatent report OUT``.

``run_cohort`` writes straight into ``OUT`` (no staging folder: parts and reruns share it): ``config.json`` first
(the settings every part and rerun must share), then each sequence's masks, result and record
(:mod:`echolatent.cohort.resume`), then, for a whole run (not one part of several), the tables, ``summary.json``
and the report, which ``build_report`` (``echolatent report OUT``) also (re)builds from the records of all parts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from echolatent.cohort.engine import Progress, run_tasks
from echolatent.cohort.resume import find_records, is_complete, load_result, read_record
from echolatent.cohort.shards import check_part, select_part
from echolatent.cohort.task import Settings
from echolatent.device import resolve_device
from echolatent.errors import InputError
from echolatent.files import write_json_atomic
from echolatent.io.discovery import pair_truth, select_refs
from echolatent.jobs.output import file_log, versions
from echolatent.jobs.run import Pair, RunJob
from echolatent.outdir import guarded_output

log = logging.getLogger(__name__)

#: config.json entries a rerun (``--resume``) or another part must share with the run already in OUT.
SHARED = ("input", "model", "vae", "method", "gt", "spacing", "batch_size", "seed", "figures", "max_figures",
          "sequences")


@dataclass(frozen=True)
class CohortOptions:
    """How to run: ``workers`` local Dask processes (0: this process) or a ``scheduler`` address; part
    ``part_id`` of ``num_parts``; ``resume`` skips complete sequences; ``retries`` per failing task."""

    workers: int = 0
    scheduler: str | None = None
    num_parts: int = 1
    part_id: int = 0
    resume: bool = False
    retries: int = 2


def sequence_id(pair: Pair) -> str:
    """The stable id shards are cut by: ``<patient>/<name>``."""
    return f"{pair[0].patient}/{pair[0].name}"


def run_cohort(source: str | Path, out: str | Path, settings: Settings, options: CohortOptions, *,
               gt: str | Path | None = None, overwrite: bool = False, progress: Progress | None = None,
               title: str = "echolatent report", command: str = "run") -> dict:
    """Run ``settings`` over the sequences under ``source`` (this part of them) into ``out``.

    Returns:
        The summary (a whole run), or this part's counts ``{"part", "processed", "failed", "skipped", ...}``.

    Raises:
        InputError: bad options, no sequence, ``out`` holding something else or a run with other settings.
    """
    out = Path(out)
    check_part(options.num_parts, options.part_id)
    if options.scheduler is None:
        resolve_device(settings.device)  # a clear error now; on a remote cluster each worker resolves its own
    pairs = pair_truth(select_refs(source), Path(gt) if gt is not None else None)  # what RunJob.find finds
    config = _config(source, out, settings, gt, len(pairs), title, command)
    with guarded_output(out, [source, gt], run_id=run_id(config), command=command):
        _prepare(out, config, options, overwrite)
        settings = replace(settings, source=config["source"], out=str(out.resolve()), gt=config["gt_root"])
        items = select_part(list(enumerate(pairs)), options.num_parts, options.part_id,
                            key=lambda it: sequence_id(it[1]))
        todo = [(i, pair) for i, pair in items
                if not (options.resume and is_complete(out, pair[0].patient, pair[0].name))]
        whole = options.num_parts == 1
        with file_log(out / ("run.log" if whole else f"run-part-{options.part_id}-of-{options.num_parts}.log")):
            log.info("%s: %d sequence(s) in this part, %d complete, %d to process", command, len(items),
                     len(items) - len(todo), len(todo))
            records, stats = run_tasks(todo, settings, workers=options.workers, scheduler=options.scheduler,
                                       retries=options.retries, progress=progress)
            part = _part(options, len(items), len(items) - len(todo), records, stats)
            write_json_atomic(part, out / "parts" / f"part-{options.part_id}-of-{options.num_parts}.json")
            return {**build_report(out), "run": part} if whole else part


def run_id(config: dict) -> str:
    """The lock id every part (and rerun) of one cohort run shares: a hash of its output folder and settings
    (:func:`echolatent.outdir.output_lock`: processes with the same id share ``OUT``)."""
    shared = json.dumps([config["output"], *(config[key] for key in SHARED)], default=str)
    return "cohort-" + hashlib.sha1(shared.encode()).hexdigest()[:12]


def _part(options: CohortOptions, count: int, skipped: int, records: list[dict], stats) -> dict:
    """This part's counts for ``parts/part-I-of-K.json`` (and the log)."""
    part = {"part": options.part_id, "parts": options.num_parts, "sequences": count, "skipped": skipped,
            "processed": sum(r["status"] == "done" for r in records),
            "failed": [_failed(r) for r in records if r["status"] != "done"],
            "seconds": round(stats.seconds, 2), "workers": stats.workers,
            "memory_mb": {k: round(v, 1) for k, v in stats.memory_mb.items()}}
    log.info("part %d/%d: %d processed, %d failed, %d skipped in %.1f s", options.part_id, options.num_parts,
             part["processed"], len(part["failed"]), skipped, stats.seconds)
    return part


def build_report(out: str | Path, progress: Progress | None = None) -> dict:
    """(Re)build ``metrics.csv``, ``frames.csv``, ``summary.json`` and ``report.html`` in ``out`` from the
    per-sequence results of every part; returns the summary.

    Raises:
        InputError: ``out`` holds no cohort run, or no processed sequence.
    """
    out = Path(out)
    started = time.perf_counter()
    config = read_record(out / "config.json")
    if config is None or "sequences" not in config:
        raise InputError(out, "no config.json of a cohort run (echolatent run with --workers, --scheduler, "
                              "--num-parts or --resume) in this folder")
    records = find_records(out)
    done = [r for r in records if r.get("status") == "done"]
    failed = [r for r in records if r.get("status") != "done"]
    if not done:
        raise InputError(out, "no processed sequence in this folder: run the parts first")
    collected = []
    for number, record in enumerate(done, start=1):
        collected.append(load_result(record))
        if progress is not None:
            progress(number, len(done), 0.0)
    missing = config["sequences"] - len(done) - len(failed)
    if missing > 0:
        log.warning("%d of %d sequence(s) have no result yet (a part not run, or still running)", missing,
                    config["sequences"])
    gt = Path(config["gt_root"]) if config["gt_root"] is not None else None
    summariser = RunJob(Path(config["source"]), out, None, None, config, gt=gt, title=config["title"])  # no models
    summary = summariser.summarise(collected, {r["sequence"]: r.get("error", "") for r in failed})
    summary.update({"expected": config["sequences"], "processed": len(done), "missing": max(missing, 0),
                    "failed": [_failed(r) for r in failed], "seconds": round(time.perf_counter() - started, 2)})
    write_json_atomic(summary, out / "summary.json")
    log.info("report of %d sequence(s) (%d failed, %d missing): %s", len(done), len(failed), max(missing, 0),
             out / "report.html")
    return summary


def _failed(record: dict) -> dict:
    return {key: record.get(key) for key in ("sequence", "patient", "error")}


def _config(source, out: Path, settings: Settings, gt, count: int, title: str, command: str) -> dict:
    values = asdict(settings)
    return {"command": command, "input": str(Path(source).resolve()), "source": str(Path(source).resolve()),
            "output": str(out.resolve()), "model": str(values["model"] or "shipped U-Net"),
            "vae": str(values["vae"] or "shipped AR-VAE"), "method": settings.method,
            "gt": str(Path(gt).resolve()) if gt is not None else "beside the images",
            "gt_root": str(Path(gt).resolve()) if gt is not None else None,
            "batch_size": settings.batch_size, "spacing": settings.spacing, "seed": settings.seed,
            "max_figures": settings.max_figures, "figures": settings.figures, "device": settings.device,
            "sequences": count, "title": title,
            "started": datetime.now(UTC).isoformat(timespec="seconds"), "versions": versions()}


def _prepare(out: Path, config: dict, options: CohortOptions, overwrite: bool) -> None:
    """Check ``out`` against ``config`` (see the module); write ``config.json`` when absent."""
    existing = read_record(out / "config.json") if out.is_dir() else None
    if out.is_dir() and any(out.iterdir()):
        differs = [k for k in SHARED if existing is not None and existing.get(k) != config[k]]
        if existing is None or "sequences" not in existing or differs:
            what = f"a run with other settings ({', '.join(differs)})" if differs else "something else"
            if not overwrite or options.num_parts > 1:
                raise InputError(out, f"output folder holds {what}: choose another folder"
                                      + ("" if options.num_parts > 1 else " or pass --overwrite"))
            shutil.rmtree(out)
        elif not (options.resume or options.num_parts > 1):
            if not overwrite:
                raise InputError(out, "output folder holds a run of these settings: pass --resume to finish it "
                                      "or --overwrite to start again")
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "config.json").is_file():
        write_json_atomic(config, out / "config.json")
