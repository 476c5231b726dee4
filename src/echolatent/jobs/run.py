"""``echolatent run`` and ``echolatent demo``: segment, smooth, measure and report every sequence under an input.

Output folder ``OUT`` (built in a staging folder, :mod:`.output`)::

    OUT/config.json            settings, seed, versions
    OUT/run.log                the log of the run
    OUT/<patient>/<name>_pred.nii.gz, <name>_post.nii.gz   masks with the input's geometry
    OUT/metrics.csv            one row per frame, structure and stage (pred: U-Net, post: smoothed)
    OUT/frames.csv             one row per frame and stage: attributes, validity criteria, temporal d(t)
    OUT/summary.json           summaries before ("before") and after ("after") smoothing, per-sequence notes
    OUT/report.html, OUT/report_files/   the report (:mod:`echolatent.report.build`)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from echolatent.device import resolve_device
from echolatent.errors import InputError
from echolatent.files import write_json_atomic
from echolatent.io.camus import EchoSequence, SequenceRef, load_sequence, output_path, require_same_grid, write_mask
from echolatent.io.discovery import pair_truth, select_refs
from echolatent.io.recordings import RecordingOptions, load_any
from echolatent.io.sector import outline_sector
from echolatent.jobs import loop
from echolatent.jobs import recording_steps as steps
from echolatent.jobs.output import file_log, staged_output, versions
from echolatent.labels import MIN_FRAMES
from echolatent.measure.attributes import compute_attributes
from echolatent.measure.cohort import clinical_table
from echolatent.measure.summary import summarise
from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import check_validity
from echolatent.pipeline import SequenceResult, process_sequence, run_thresholds
from echolatent.report.build import FILES, draw_sequence, sequence_entry, write_run_report
from echolatent.segment import Segmenter, load_segmenter
from echolatent.synth.dataset import write_synthetic_dataset
from echolatent.temporal.smooth import Smoother
from echolatent.temporal.strategy import SequenceSmoother, make_smoother

log = logging.getLogger(__name__)

STAGES = ("segment", "smooth", "measure", "report")
Pair = tuple[SequenceRef, SequenceRef | None]


def process_pair(pair: Pair, out: Path, segmenter: Segmenter, smoother: SequenceSmoother | None, *,
                 thresholds: TemporalThresholds | None = None, spacing_mode: str = "auto", batch_size: int = 16,
                 on_stage=None, options: RecordingOptions | None = None) -> tuple[SequenceResult, EchoSequence]:
    """Load, segment, smooth and measure one image (with its ground truth ref or None); write ``_pred`` (and
    ``_post``) masks under ``out``.

    Returns:
        ``(SequenceResult, the loaded sequence without arrays, with the spacing used)``.

    Raises:
        InputError: unreadable image or ground truth, ground truth of another shape, spacing or orientation.
    """
    ref, gt_ref = pair
    options = options or RecordingOptions()
    loaded = load_any(ref, options, spacing_mode)
    sector = steps.sector_of(loaded, options.sector)
    seq = loaded.seq
    gt = None
    if gt_ref is not None:
        gt_seq = load_sequence(gt_ref, image=False)
        require_same_grid(gt_seq, seq)
        gt = gt_seq.mask
        if not gt.any():
            log.warning("%s: the ground truth is empty in every frame (no LV, MYO or LA): its scores mean nothing",
                        gt_ref.mask)
    result = process_sequence(seq.image, seq.spacing, segmenter, smoother, gt=gt, instants=seq.instants,
                              thresholds=thresholds, batch_size=batch_size, ids=loop.sequence_ids(seq.ref),
                              on_stage=on_stage, sector=sector, fps=loaded.fps,
                              find_instants=loaded.find_instants)
    seq = steps.settle_instants(seq, result, loaded.facts)
    result.recording = loaded.facts
    write_mask(seq, result.pred, output_path(ref, out, "_pred"))
    if result.post is not None:
        write_mask(seq, result.post, output_path(ref, out, "_post"))
    return result, replace(seq, image=None)


def instants_source(seq: EchoSequence, facts: dict | None = None) -> str:
    """Where a sequence's ED/ES frames come from: ``"cfg"`` (Info_*.cfg), ``"file"`` (a single ED or ES frame named
    so), ``"found"`` (on the LV area curve), ``"given"`` (``--ed/--es``), ``"assumed"`` (a half sequence without cfg:
    first frame ED, last ES), ``"not found"`` (searched on the LV area curve, no beat there) or ``"none"``;
    ``facts``: the recording's (``instants_source``), when read so."""
    told = (facts or {}).get("instants_source")
    if seq.ed is None and seq.es is None:
        return "not found" if told == "found on the smoothed LV area curve" else "none"
    if told in ("found on the smoothed LV area curve", "--ed/--es"):
        return "found" if told.startswith("found") else "given"
    if seq.ref.kind in ("ED", "ES"):
        return "file"
    return "cfg" if "ED" in seq.info and "ES" in seq.info else "assumed"


def keep_small(result: SequenceResult, seq: EchoSequence, figures: dict) -> dict:
    """What the tables and the report need of a sequence, without its full arrays (ED/ES frames kept)."""
    frames = [t for t in (seq.ed, seq.es) if t is not None]
    picked = {"ed": 0 if seq.ed is not None else None, "es": frames.index(seq.es) if seq.es is not None else None}

    def at_instants(masks):
        return None if masks is None else replace(seq, mask=masks[frames], image=None, **picked)

    return {"result": replace(result, images=None, pred=result.pred[:0], post=None, gt=None),
            "smoothed": result.post is not None, "figures": figures, "has_gt": result.gt is not None,
            "instants_source": instants_source(seq, result.recording),
            "view_source": result.recording.get("view_source", "file name"),
            "beats": steps.beats_of(result), "beat_masks": steps.beat_masks(result),
            "beat_masks_pred": steps.beat_masks(result, "pred"),
            "seq_pred": at_instants(result.pred), "seq_post": at_instants(result.post),
            "seq_gt": at_instants(result.gt)}


@dataclass
class RunJob:
    """The :class:`~echolatent.jobs.loop.FolderJob` of ``run``: per sequence the pipeline, masks and figures; then
    the tables, the summary and the report. ``progress`` is called per stage (:data:`STAGES`)."""

    source: Path
    stage: Path
    segmenter: Segmenter
    smoother: SequenceSmoother
    config: dict
    thresholds: TemporalThresholds | None = None
    gt: Path | None = None
    batch_size: int = 16
    max_figures: int = 40
    title: str = "echolatent report"
    progress: loop.Progress | None = None
    options: RecordingOptions = field(default_factory=RecordingOptions)
    name: str = "run"
    skip_bad: bool = False
    done: dict = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    total: int = 0

    def advance(self, name: str) -> None:
        self.done[name] += 1
        if self.progress is not None:
            self.progress(name, self.done[name], self.total)

    @property
    def reference(self) -> str:
        """What the ground truth is called in the report: ``"truth"`` for synthetic data (a truth.json near the
        ground truth or the input), else ``"expert"``."""
        return "truth" if find_truth_root(self.gt if self.gt is not None else self.source) is not None else "expert"

    def find(self) -> list[Pair]:
        pairs = pair_truth(select_refs(self.source), self.gt)
        self.total = len(pairs)
        log.info("%d sequence(s) to process", len(pairs))
        return pairs

    def process(self, index: int, item: Pair) -> dict:
        result, seq = process_pair(item, self.stage, self.segmenter, self.smoother, thresholds=self.thresholds,
                                   spacing_mode=self.config["spacing"], batch_size=self.batch_size,
                                   on_stage=self.advance, options=self.options)
        figures = {}
        if index < self.max_figures:
            truth = (compute_attributes(result.gt, result.spacing)
                     if result.gt is not None and result.frames >= MIN_FRAMES else None)
            shown = result if result.sector is None else replace(
                result, images=outline_sector(result.images, result.sector))
            figures = draw_sequence(shown, self.stage / FILES, index, truth, self.reference)
        self.advance("report")
        log.info("%s: %d frames, valid %d -> %s", result.name, result.frames, int(result.before.validity.valid.sum()),
                 "-" if result.after is None else int(result.after.validity.valid.sum()))
        return keep_small(result, seq, figures)

    def summarise(self, done: list[dict], skipped: dict[str, str]) -> dict:
        if not done:
            raise InputError(self.source, "no sequence processed")
        results = [item["result"] for item in done]
        measured = [(r.ids, stage, m) for r in results for stage, m in (("pred", r.before), ("post", r.after))
                    if m is not None]
        loop.write_tables(self.stage, *loop.table_rows(measured))
        truth_root = self.gt if self.gt is not None else find_truth_root(self.source)
        gts = [item["seq_gt"] for item in done]
        clinical = {label: clinical_table([(item[key], item["seq_gt"]) for item in done if item[key] is not None],
                                          truth_root)
                    for label, key in (("before", "seq_pred"), ("after", "seq_post"))}
        summary = {"input": self.config["input"], "output": self.config["output"], "method": self.config["method"],
                   "units": loop.units([r.spacing for r in results]),
                   "before": _summarise(results, "before", clinical["before"], gts),
                   "after": _summarise(results, "after", clinical["after"], gts),
                   "sequences": [{**r.ids, "frames": r.frames, "note": r.note, "smoothing": r.smooth,
                                  "recording": r.recording,
                                  "beats": [vars(b) for b in steps.beats_of(r)],
                                  "seconds": {k: round(v, 3) for k, v in r.seconds.items()}} for r in results],
                   "beats": steps.beat_table(done)}
        entries = [sequence_entry(item, i) for i, item in enumerate(done)]
        write_run_report(entries, summary, clinical, self.config, self.title, self.stage, self.reference)
        return summary


def _summarise(results: list[SequenceResult], key: str, clinical: dict, gts: list) -> dict | None:
    """The summary of the U-Net masks (``"before"``) or of the smoothed ones (``"after"``); None when there are none."""
    measures = [(r.ids, getattr(r, key)) for r in results if getattr(r, key) is not None]
    if not measures:
        return None
    thresholds = next((r.thresholds for r in results if r.thresholds), None)
    gt_validity = None
    present = [g.mask for g in gts if g is not None]
    if present:
        valid = np.concatenate([check_validity(m).valid for m in present])
        gt_validity = {"rate": float(valid.mean()), "frames": int(valid.size), "note": "ED/ES frames of the truth"}
    return summarise(measures, clinical, gt_validity, thresholds)


def find_truth_root(source: Path) -> Path | None:
    """The nearest folder holding ``truth.json`` among ``source`` and its three parents (synthetic data)."""
    source = source.resolve()
    folder = source if source.is_dir() else source.parent
    for candidate in [folder, *list(folder.parents)[:3]]:
        if (candidate / "truth.json").is_file():
            return candidate
    return None


def run_job(source: str | Path, out: str | Path, *, overwrite: bool = False, **options) -> dict:
    """Run the whole job on ``source`` into ``out`` (see :func:`run_into` for the options); returns the summary.

    Raises:
        InputError: bad input, or a non-empty ``out`` without ``overwrite``.
    """
    if not Path(source).exists():  # before anything is staged or any model loaded
        raise InputError(source, "not found")
    with staged_output(out, overwrite, source) as stage:
        return run_into(source, stage, final=Path(out), **options)


def run_demo(out: str | Path, *, overwrite: bool = False, patients: int = 2, frames: int = 20, size: int = 256,
             seed: int = 0, progress: loop.Progress | None = None, **options) -> dict:
    """Write a synthetic dataset into ``out/data`` and run the job on it, scored against its truth, into ``out``."""
    with staged_output(out, overwrite) as stage:
        if progress is not None:
            progress("synth", 0, patients)
        write_synthetic_dataset(stage / "data", patients=patients, frames=frames, size=size, seed=seed, previews=0,
                                progress=(lambda done: progress("synth", done, patients)) if progress else None)
        return run_into(stage / "data", stage, final=Path(out), gt=stage / "data", progress=progress, seed=seed,
                        title="echolatent demo: synthetic hearts with known truth", command="demo", **options)


NO_GT = "none given (_gt files beside the images, where present)"


def run_config(source, stage: Path, final: Path, **settings) -> dict:
    """The ``config.json`` dict of a run: command, paths as they will read in ``final``, settings, versions."""
    gt = settings.pop("gt")
    return {"command": settings.pop("command"), "input": str(_shown(source, stage, final)),
            "output": str(final.resolve()), "model": str(settings.pop("model") or "shipped U-Net"),
            "vae": str(settings.pop("vae") or "shipped AR-VAE"), "method": settings.pop("method"),
            "gt": str(_shown(gt, stage, final)) if gt is not None else NO_GT, **settings,
            "started": datetime.now(UTC).isoformat(timespec="seconds"), "versions": versions()}


def load_networks(model=None, vae=None, method: str = "exact", device: str = "cpu",
                  smoother: SequenceSmoother | None = None) -> tuple:
    """``(segmenter, smoother, run thresholds)``: the U-Net ``model`` and the shape model ``vae`` (files; None: the
    shipped weights) with their networks on ``device`` ("cpu" or "cuda"), and :func:`run_thresholds`.
    A ``smoother`` already built (non-default options) is used as it is, its networks moved to ``device``."""
    segmenter = load_segmenter(model, device=device)
    smoother = smoother if smoother is not None else make_smoother(method, vae)
    if isinstance(smoother, Smoother):  # a latent method: its shape model runs beside the U-Net
        smoother.model.to(segmenter.device)
    return segmenter, smoother, run_thresholds(smoother, vae)


def run_into(source: str | Path, stage: Path, *, final: Path | None = None, model: str | Path | None = None,
             vae: str | Path | None = None, method: str = "exact", gt: str | Path | None = None, batch_size: int = 16,
             spacing: str = "auto", seed: int = 0, max_figures: int = 40, progress: loop.Progress | None = None,
             title: str = "echolatent report", command: str = "run", smoother: SequenceSmoother | None = None,
             smoothing: dict | None = None, figures: str = "all", device: str = "cpu",
             recording: RecordingOptions | None = None) -> dict:
    """Segment, smooth, measure and report every sequence under ``source`` into the folder ``stage``.

    Args:
        final: the folder ``stage`` will be renamed to (paths in the report and config name it).
        model, vae: U-Net and shape-model files (None: the shipped weights).
        method: smoothing method (exact, snake, gaussian, none).
        gt: ground-truth root (default: ``_gt`` files beside the images).
        spacing: auto (header spacing unless exactly 1 x 1 mm), header, or none (pixel loop.units).
        max_figures: sequences with figures in the report (all are in the tables).
        progress: called with ``(stage, done, total)``; stages "segment", "smooth", "measure", "report".
        title, command: the report's title and the command named in config.json.
        smoother: a smoother built with non-default options (default: ``make_smoother(method, vae)``);
        smoothing: those options, for config.json.
        figures: all (per-sequence figures), summary (the cohort figures only), none; device: cpu, cuda or auto.
        recording: ``--view``, ``--spacing MM``, ``--fps``, ``--ed/--es``, ``--sector`` for what files do not say.
    """
    started = time.perf_counter()
    recording = recording or RecordingOptions()
    final = Path(final or stage)
    with file_log(stage / "run.log"):
        torch.manual_seed(seed)
        config = run_config(source, stage, final, command=command, model=model, vae=vae, method=method, gt=gt,
                            batch_size=batch_size, spacing=spacing, seed=seed, max_figures=max_figures,
                            smoothing=smoothing or {}, figures=figures, device=device,
                            recording=recording.as_config())
        write_json_atomic(config, stage / "config.json")
        log.info("%s %s -> %s (method %s)", command, config["input"], final, method)
        segmenter, smoother, thresholds = load_networks(model, vae, method, resolve_device(device), smoother)
        config["backend"] = segmenter.backend
        write_json_atomic(config, stage / "config.json")
        if thresholds is None:
            log.warning("no temporal thresholds stored with the shape model: each sequence is checked against "
                        "bounds measured on its own U-Net masks")
        job = RunJob(Path(source), stage, segmenter, smoother, config, thresholds, Path(gt) if gt is not None else None,
                     batch_size, max_figures if figures == "all" else 0, title, progress, options=recording)
        summary = loop.run_folder_job(job)
        summary["seconds"] = round(time.perf_counter() - started, 2)
        write_json_atomic(summary, stage / "summary.json")
        log.info("done in %.1f s: %s", summary["seconds"], final / "report.html")
    return summary


def _shown(path: str | Path, stage: Path, final: Path) -> Path:
    """``path`` as it will read once ``stage`` is renamed to ``final``."""
    path = Path(path).resolve()
    return final.resolve() / path.relative_to(stage.resolve()) if path.is_relative_to(stage.resolve()) else path
