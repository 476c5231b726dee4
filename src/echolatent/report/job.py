"""The ``run`` and ``demo`` jobs on folders: a staged output folder, a log file, the configuration, the loop over
sequences (:func:`echolatent.pipeline.process_job`), the tables and the HTML report.

Output folder ``OUT``::

    OUT/config.json            settings, seed, versions
    OUT/run.log                the log of the run
    OUT/<patient>/<name>_pred.nii.gz, <name>_post.nii.gz   masks with the input's geometry
    OUT/metrics.csv            one row per frame, structure and stage (pred: U-Net, post: smoothed)
    OUT/frames.csv             one row per frame and stage: attributes, validity criteria, temporal d(t)
    OUT/summary.json           summaries before ("before") and after ("after") smoothing, per-sequence notes
    OUT/report.html, OUT/report_files/

Everything is written into ``OUT.partial-<pid>`` beside ``OUT`` and renamed to ``OUT`` at the end; a failed
run leaves no ``OUT``. An existing non-empty ``OUT`` is refused unless ``overwrite``; then it is moved aside,
replaced, and deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from echolatent.device import resolve_device
from echolatent.errors import InputError
from echolatent.files import write_csv_atomic, write_json_atomic
from echolatent.measure.attributes import compute_attributes
from echolatent.measure.summary import summarise
from echolatent.measure.validity import check_validity
from echolatent.pipeline import SequenceResult, find_jobs, load_models, process_job
from echolatent.report import figures as fig
from echolatent.report.html import write_report

log = logging.getLogger(__name__)

FILES = "report_files"
STAGES = ("segment", "smooth", "measure", "report")
Progress = Callable[[str, int, int], None]


# ------------------------------------------------------------------------------------------------ output folder


def check_output(out: Path, overwrite: bool, source: Path | None = None) -> None:
    """Raise InputError when ``out`` is a file, a non-empty folder without ``overwrite``, or holds ``source``."""
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise InputError(out, "output folder exists and is not empty (pass --overwrite to replace it)")
    if source is not None and source.resolve().is_relative_to(out.resolve()):
        raise InputError(out, f"the output folder holds the input {source}: choose another output folder")


@contextlib.contextmanager
def staged_output(out: str | Path, overwrite: bool = False, source: str | Path | None = None) -> Iterator[Path]:
    """Yield an empty staging folder ``OUT.partial-<pid>`` beside ``out``; rename it to ``out`` on success.

    On error the staging folder is deleted and ``out`` is left as it was.
    """
    out = Path(out)
    check_output(out, overwrite, Path(source) if source is not None else None)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.parent / f"{out.name}.partial-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    aside = None
    if out.exists():
        aside = out.parent / f"{out.name}.old-{os.getpid()}"
        os.replace(out, aside)
    os.replace(stage, out)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def file_log(path: Path) -> Iterator[None]:
    """Copy echolatent's log records (INFO and above) into ``path`` while the block runs."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    package = logging.getLogger("echolatent")
    old_level = package.level
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)
    package.addHandler(handler)
    try:
        yield
    finally:
        package.removeHandler(handler)
        package.setLevel(old_level)
        handler.close()


# ------------------------------------------------------------------------------------------------ jobs


def versions() -> dict[str, str]:
    """The keys of :func:`echolatent.train.runner.versions` from package metadata (no Lightning import)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("echolatent", "torch", "lightning", "monai", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def run_job(source: str | Path, out: str | Path, *, overwrite: bool = False, **options) -> dict:
    """Run the whole job on ``source`` into ``out`` (see :func:`run_into` for the options); returns the summary."""
    with staged_output(out, overwrite, source) as stage:
        return run_into(source, stage, final=Path(out), **options)


def run_demo(out: str | Path, *, overwrite: bool = False, patients: int = 2, frames: int = 20, size: int = 256,
             seed: int = 0, progress: Progress | None = None, **options) -> dict:
    """Write a synthetic dataset into ``out/data`` and run the job on it, scored against its truth, into ``out``."""
    from echolatent.synth.dataset import write_synthetic_dataset

    with staged_output(out, overwrite) as stage:
        if progress is not None:
            progress("synth", 0, patients)
        write_synthetic_dataset(stage / "data", patients=patients, frames=frames, size=size, seed=seed, previews=0,
                                progress=(lambda done: progress("synth", done, patients)) if progress else None)
        return run_into(stage / "data", stage, final=Path(out), gt=stage / "data", progress=progress, seed=seed,
                        title="echolatent demo: synthetic hearts with known truth", command="demo", **options)


def run_into(
    source: str | Path,
    stage: Path,
    *,
    final: Path | None = None,
    model: str | Path | None = None,
    vae: str | Path | None = None,
    method: str = "exact",
    gt: str | Path | None = None,
    batch_size: int = 16,
    spacing: str = "auto",
    seed: int = 0,
    max_figures: int = 40,
    figures: str = "all",
    device: str = "cpu",
    progress: Progress | None = None,
    title: str = "echolatent report",
    command: str = "run",
) -> dict:
    """Segment, smooth, measure and report every sequence under ``source`` into the folder ``stage``.

    Args:
        final: the folder ``stage`` will be renamed to (paths in the report and config name it).
        model, vae: U-Net and shape-model files (None: the shipped weights).
        method: smoothing method (exact, snake, gaussian, none).
        gt: ground-truth root (default: ``_gt`` files beside the images).
        spacing: auto (header spacing unless exactly 1 x 1 mm), header, or none (pixel units).
        max_figures: sequences with figures in the report (all are in the tables).
        figures: all (per-sequence figures too), summary, none; device: cpu, cuda or auto (for the networks).
        progress: called with ``(stage, done, total)``; stages "segment", "smooth", "measure", "report".
        title, command: the report's title and the command named in config.json.
    """
    import torch

    started = time.perf_counter()
    final = Path(final or stage)
    progress = progress or (lambda *_: None)
    with file_log(stage / "run.log"):
        torch.manual_seed(seed)
        config = {"command": command, "input": str(_shown(source, stage, final)), "output": str(final.resolve()),
                  "model": str(model or "shipped U-Net"), "vae": str(vae or "shipped AR-VAE"), "method": method,
                  "gt": str(_shown(gt, stage, final)) if gt is not None else "beside the images",
                  "batch_size": batch_size, "spacing": spacing, "seed": seed, "max_figures": max_figures,
                  "started": datetime.now(UTC).isoformat(timespec="seconds"), "versions": versions()}
        write_json_atomic(config, stage / "config.json")
        log.info("%s %s -> %s (method %s)", command, config["input"], final, method)
        segmenter, smoother, thresholds = load_models(model, vae, method, resolve_device(device))
        if thresholds is None:
            log.warning("no temporal thresholds stored with the shape model: each sequence is checked against "
                        "bounds measured on its own U-Net masks")
        jobs = find_jobs(source, gt)
        log.info("%d sequence(s) to process", len(jobs))
        done = dict.fromkeys(STAGES, 0)

        def advance(name: str) -> None:
            done[name] += 1
            progress(name, done[name], len(jobs))

        collected = []
        for index, job in enumerate(jobs):
            result, seq = process_job(job, stage, segmenter, smoother, thresholds=thresholds, spacing_mode=spacing,
                                      batch_size=batch_size, on_stage=advance)
            drawn = draw_sequence(result, stage / FILES, index) if index < max_figures and figures == "all" else {}
            advance("report")
            collected.append(keep_small(result, seq, drawn))
            log.info("%s: %d frames, valid %d -> %s", result.name, result.frames,
                     int(result.before.validity.valid.sum()),
                     "-" if result.after is None else int(result.after.validity.valid.sum()))
        summary = write_outputs(collected, stage, final, config, title, gt, source, figures=figures)
        summary["seconds"] = round(time.perf_counter() - started, 2)
        write_json_atomic(summary, stage / "summary.json")
        log.info("done in %.1f s: %s", summary["seconds"], final / "report.html")
    return summary


def _shown(path: str | Path, stage: Path, final: Path) -> Path:
    """``path`` as it will read once ``stage`` is renamed to ``final``."""
    path = Path(path).resolve()
    return final.resolve() / path.relative_to(stage.resolve()) if path.is_relative_to(stage.resolve()) else path


# ------------------------------------------------------------------------------------------------ per sequence


def draw_sequence(result: SequenceResult, folder: Path, index: int) -> dict:
    """Figures of one sequence into ``folder``; returns ``{kind: path relative to the report}``."""
    stem = f"{index:03d}_{result.name}"
    rows = {"U-Net": result.pred}
    if result.post is not None:
        rows["smoothed"] = result.post
    if result.gt is not None:
        rows["expert"] = result.gt
    figures = {"strip": fig.strip_figure(result.images, rows, result.instants, folder / f"{stem}_strip.png")}
    if result.frames >= 2:
        figures["gif"] = fig.comparison_gif(result.images, list(rows.values()), folder / f"{stem}.gif")
        figures["gif_caption"] = "Animation, left to right: " + ", ".join(rows) + "."
    if result.frames >= 3:
        units = fig.unit_names(result.spacing is not None)
        curves = {"U-Net": result.before.attributes}
        if result.after is not None:
            curves["smoothed"] = result.after.attributes
        if result.gt is not None:
            curves["expert"] = compute_attributes(result.gt, result.spacing)
        figures["attributes"] = fig.attribute_figure(curves, result.instants, units, folder / f"{stem}_attributes.png")
        deviations = {label: m.temporal.d for label, m in (("U-Net", result.before), ("smoothed", result.after))
                      if m is not None and m.temporal is not None}
        if deviations and result.thresholds is not None:
            figures["temporal"] = fig.temporal_figure(deviations, result.thresholds.tau,
                                                      folder / f"{stem}_temporal.png")
    return {k: f"{FILES}/{Path(v).name}" if isinstance(v, Path) else v for k, v in figures.items()}


def keep_small(result: SequenceResult, seq, figures: dict) -> dict:
    """What the tables and the report need of a sequence, without its full arrays (ED/ES frames kept)."""
    frames = [t for t in (seq.ed, seq.es) if t is not None]
    picked = {"ed": 0 if seq.ed is not None else None, "es": frames.index(seq.es) if seq.es is not None else None}

    def at_instants(masks):
        return None if masks is None else replace(seq, mask=masks[frames], image=None, **picked)

    return {"result": replace(result, images=None, pred=result.pred[:0], post=None, gt=None),
            "smoothed": result.post is not None, "figures": figures,
            "seq_pred": at_instants(result.pred), "seq_post": at_instants(result.post),
            "seq_gt": at_instants(result.gt)}


def sequence_entry(item: dict, index: int) -> dict:
    """The report's view of one sequence (plain values)."""
    result: SequenceResult = item["result"]
    before, after = result.before, result.after

    def failures(measures):
        if measures is None:
            return {}
        return {str(t): measures.validity.failures(t) for t in range(measures.frames) if not measures.validity.valid[t]}

    def inconsistent(measures):
        return None if measures is None or measures.temporal is None else int((~measures.temporal.frame_ok).sum())

    scores = {}
    for label, measures in (("before", before), ("after", after)):
        if measures is not None and measures.scores:
            for structure, values in measures.scores.items():
                scores.setdefault(structure, {})[label] = {k: _nanmean(v) for k, v in values.items()}
    spacing = result.spacing
    return {
        "ids": result.ids, "anchor": f"seq{index}", "frames": result.frames, "instants": result.instants,
        "note": result.note, "smoothed": item["smoothed"], "figures": item["figures"],
        "remark": "" if item["smoothed"] else f"not smoothed ({result.frames} frame{'s' * (result.frames > 1)})",
        "spacing_text": f"{spacing[0]:.3g} x {spacing[1]:.3g} mm" if spacing else "unknown (measured in pixels)",
        "valid": {"before": int(before.validity.valid.sum()),
                  "after": None if after is None else int(after.validity.valid.sum())},
        "inconsistent": {"before": inconsistent(before), "after": inconsistent(after)},
        "validity": {"before": before.validity.valid.tolist(),
                     "after": None if after is None else after.validity.valid.tolist(),
                     "failures_before": failures(before), "failures_after": failures(after)},
        "scores": scores, "smooth": result.smooth,
        "thresholds_note": result.thresholds.note if result.thresholds is not None else "",
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


def _nanmean(values) -> float | None:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else None


# ------------------------------------------------------------------------------------------------ tables


def write_outputs(collected: list[dict], stage: Path, final: Path, config: dict, title: str, gt, source,
                  figures: str = "all") -> dict:
    """metrics.csv, frames.csv, the summary dict (returned; written by the caller), figures and report.html."""
    from echolatent.measure.evaluate import clinical_table

    if not collected:
        raise InputError(Path(source), "no sequence processed")
    metrics, frames = [], []
    for item in collected:
        result = item["result"]
        for stage_name, measures in (("pred", result.before), ("post", result.after)):
            if measures is not None:
                metrics += measures.structure_rows(stage=stage_name, **result.ids)
                frames += measures.frame_rows(stage=stage_name, **result.ids)
    write_csv_atomic(metrics, stage / "metrics.csv")
    write_csv_atomic(frames, stage / "frames.csv")
    truth_root = Path(gt) if gt is not None else find_truth_root(Path(source))
    gts = [item["seq_gt"] for item in collected]
    clinical = {label: clinical_table([(item[key], item["seq_gt"]) for item in collected if item[key] is not None],
                                      truth_root)
                for label, key in (("before", "seq_pred"), ("after", "seq_post"))}
    spacing_known = all(item["result"].spacing is not None for item in collected)
    units = fig.unit_names(spacing_known)
    units["note"] = "" if spacing_known else (" (pixel size unknown: areas in px², volumes in px³, not comparable "
                                              "with clinical values)")
    summary = {"input": config["input"], "output": config["output"], "method": config["method"], "units": units,
               "before": _summarise(collected, "before", clinical["before"], gts),
               "after": _summarise(collected, "after", clinical["after"], gts),
               "sequences": [{**item["result"].ids, "frames": item["result"].frames, "note": item["result"].note,
                              "smoothing": item["result"].smooth,
                              "seconds": {k: round(v, 3) for k, v in item["result"].seconds.items()}}
                             for item in collected]}
    entries = [sequence_entry(item, i) for i, item in enumerate(collected)]
    drawn = {"bland_altman": _bland_altman(clinical, stage / FILES) if figures != "none" else None}
    notes = [f"{sum(not e['smoothed'] for e in entries)} sequence(s) were not smoothed (fewer than 3 frames); "
             "their U-Net masks are measured as they are."] if not all(e["smoothed"] for e in entries) else []
    context = {"title": title, "entries": entries, "summary": summary, "clinical": clinical, "units": units,
               "figures": drawn, "config": config, "notes": notes,
               "subtitle": f"{len(entries)} sequence(s) from {config['input']}; smoothing method {config['method']}; "
                           f"made {config['started']}."}
    write_report(context, stage / "report.html")
    return summary


def _summarise(collected: list[dict], label: str, clinical: dict, gts: list) -> dict | None:
    key = "before" if label == "before" else "after"
    measures = [(item["result"].ids, getattr(item["result"], key)) for item in collected]
    measures = [(ids, m) for ids, m in measures if m is not None]
    if not measures:
        return None
    thresholds = next((item["result"].thresholds for item in collected if item["result"].thresholds), None)
    gt_validity = None
    present = [g.mask for g in gts if g is not None]
    if present:
        valid = np.concatenate([check_validity(m).valid for m in present])
        gt_validity = {"rate": float(valid.mean()), "frames": int(valid.size), "note": "ED/ES frames of the truth"}
    return summarise(measures, clinical, gt_validity, thresholds)


def _bland_altman(clinical: dict, folder: Path) -> str | None:
    truth, measured = {}, {}
    for label, name in (("before", "U-Net"), ("after", "smoothed")):
        for patient, row in clinical[label].items():
            if row.get("truth", {}).get("EF") is not None:
                truth[patient] = row["truth"]["EF"]
                measured.setdefault(name, {})[patient] = row["pred"]["ef"]
    if not truth:
        return None
    path = fig.bland_altman_figure(measured, truth, folder / "bland_altman_ef.png")
    return f"{FILES}/{path.name}"


def find_truth_root(source: Path) -> Path | None:
    """The nearest folder holding ``truth.json`` among ``source`` and its three parents (synthetic data)."""
    source = source.resolve()
    folder = source if source.is_dir() else source.parent
    for candidate in [folder, *list(folder.parents)[:3]]:
        if (candidate / "truth.json").is_file():
            return candidate
    return None


__all__ = ["run_job", "run_demo", "run_into", "staged_output", "check_output"]
