"""`echolatent run INPUT --out OUT` and `echolatent demo --out OUT`: thin shells over :mod:`echolatent.jobs.run`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from echolatent.cli import smoothing
from echolatent.cli.app import app
from echolatent.cli.cohort_cmds import DEVICE_HELP, FIGURES_HELP, check_figures, run_cohort_command
from echolatent.cli.progress import progress_bar
from echolatent.cli.recording_opts import (
    EdOption,
    EsOption,
    FpsOption,
    SectorOption,
    SpacingOption,
    ViewOption,
    recording_options,
)
from echolatent.errors import EcholatentError
from echolatent.options import check_threads
from echolatent.outdir import check_output_folder

INPUT_HELP = ("CAMUS root, patient folder(s), NIfTI/MHD files, DICOM files or series folders, videos "
              "(AVI/MP4), an EchoNet-Dynamic root.")


@contextlib.contextmanager
def stage_bars():
    """A ``progress(stage, done, total)`` callback showing one tqdm bar per stage on stderr."""
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        unit = "patient" if stage == "synth" else "seq"
        if stage not in bars:
            bars[stage] = progress_bar(f"{stage:>8}", unit, total, position=len(bars), leave=True)
        bar = bars[stage]
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    try:
        with logging_redirect_tqdm():
            yield progress
    finally:
        for bar in bars.values():
            bar.close()


def _report_line(summary: dict, out: Path) -> None:
    before, after = summary["before"], summary.get("after")
    line = f"{len(summary['sequences'])} sequence(s); valid frames {100 * before['validity']['rate']:.1f} %"
    if after:
        line += f" -> {100 * after['validity']['rate']:.1f} % after smoothing"
    typer.echo(line)
    typer.echo(f"report: {out / 'report.html'} ({summary['seconds']:.0f} s)")


@app.command("run")
@smoothing.with_smoothing_options
def run_command(
    source: Annotated[Path, typer.Argument(metavar="INPUT", help=INPUT_HELP)],
    out: Annotated[Path, typer.Option("--out", help="Output folder (report.html, masks, tables).")],
    model: Annotated[Path | None, typer.Option("--model", help="U-Net .pt file (default: shipped weights).")] = None,
    vae: Annotated[Path | None, typer.Option("--vae", help="Shape model file (default: shipped AR-VAE).")] = None,
    gt: Annotated[Path | None, typer.Option("--gt", help="Ground truth root (default: _gt files beside the images).")]
    = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty OUT.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Frames per U-Net forward pass.")] = 16,
    spacing: SpacingOption = "auto",
    view: ViewOption = None,
    fps: FpsOption = None,
    ed: EdOption = None,
    es: EsOption = None,
    sector: SectorOption = "auto",
    threads: Annotated[int, typer.Option("--threads", help="Torch CPU threads (0: torch's default; "
                                                          "1 per Dask worker).")] = 0,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Local Dask worker processes (0: none).")] = 0,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Address of a running Dask scheduler.")]
    = None,
    num_parts: Annotated[int, typer.Option("--num-parts", min=1, help="Split the sequences into K parts.")] = 1,
    part_id: Annotated[int, typer.Option("--part-id", min=0, help="The part this run processes (0..K-1).")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Skip the sequences already complete in OUT.")] = False,
    figures: Annotated[str, typer.Option("--figures", help=FIGURES_HELP)] = "all",
    device: Annotated[str, typer.Option("--device", help=DEVICE_HELP)] = "cpu",
    smoothing_options: dict | None = None,
) -> None:
    """Segment, smooth, measure and report: the whole job in one command (one process, or a cohort)."""
    from echolatent.jobs.run import run_job

    spacing, recording = recording_options(view, spacing, fps, ed, es, sector)
    check_figures(figures)
    _set_threads(threads)
    check_output_folder(out, [source, smoothing_options["reference"]])  # a bad --out fails before the models load
    options = dict(smoothing_options)
    method = options.pop("method")
    smoother = smoothing.build_smoother(vae, method, **options)
    if workers or scheduler or num_parts > 1 or resume:
        changed = ", ".join("--" + k.replace("_", "-") for k in smoothing.given(**options))
        changed = changed or ("--view/--spacing MM/--fps/--ed/--es/--sector" if recording != type(recording)() else "")
        if changed:
            raise EcholatentError(f"--workers/--scheduler/--num-parts/--resume run the default smoothing and "
                                  f"recording options only; drop {changed}")
        run_cohort_command(source, out, workers=workers, scheduler=scheduler, num_parts=num_parts, part_id=part_id,
                           resume=resume, overwrite=overwrite, gt=gt, model=model, vae=vae, method=method,
                           spacing=spacing, batch_size=batch_size, figures=figures, device=device,
                           threads=threads or 1)
        return
    with stage_bars() as progress:
        summary = run_job(source, out, model=model, vae=vae, method=method, gt=gt, overwrite=overwrite,
                          batch_size=batch_size, spacing=spacing, progress=progress, smoother=smoother,
                          smoothing=smoothing.given(**options), figures=figures, device=device, recording=recording)
    _report_line(summary, out)


@app.command("demo")
@smoothing.with_smoothing_options
def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Output folder: OUT/data (synthetic set) and the report.")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty OUT.")] = False,
    model: Annotated[Path | None, typer.Option("--model", help="U-Net .pt file (default: shipped weights).")] = None,
    vae: Annotated[Path | None, typer.Option("--vae", help="Shape model file (default: shipped AR-VAE).")] = None,
    patients: Annotated[int, typer.Option("--patients", min=1, help="Synthetic patients.")] = 2,
    frames: Annotated[int, typer.Option("--frames", min=3, help="Frames per half sequence (ED -> ES).")] = 20,
    size: Annotated[int, typer.Option("--size", min=32, help="Image size in pixels.")] = 256,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the synthetic data.")] = 0,
    threads: Annotated[int, typer.Option("--threads", help="Torch CPU threads (0: torch's default).")] = 0,
    smoothing_options: dict | None = None,
) -> None:
    """Write a small synthetic dataset with known truth and run the whole job on it."""
    from echolatent.jobs.run import run_demo

    _set_threads(threads)
    check_output_folder(out, [smoothing_options["reference"]])
    options = dict(smoothing_options)
    method = options.pop("method")
    smoother = smoothing.build_smoother(vae, method, **options)
    with stage_bars() as progress:
        summary = run_demo(out, overwrite=overwrite, model=model, vae=vae, method=method, patients=patients,
                           frames=frames, size=size, seed=seed, progress=progress, smoother=smoother,
                           smoothing=smoothing.given(**options))
    _report_line(summary, out)


def _set_threads(threads: int) -> None:
    if check_threads(threads) > 0:
        import torch

        torch.set_num_threads(threads)
