"""`echolatent smooth INPUT --out OUT`: temporally consistent masks ``<stem>_post.nii.gz`` plus before/after tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from echolatent.cli import smoothing
from echolatent.cli.app import app, bar_progress
from echolatent.cli.cohort_cmds import DEVICE_HELP
from echolatent.cli.progress import progress_bar
from echolatent.cli.recording_opts import EdOption, EsOption, FpsOption, SpacingOption, ViewOption, recording_options
from echolatent.errors import EcholatentError, InputError
from echolatent.outdir import check_output_folder


@app.command("smooth")
@smoothing.with_smoothing_options
def smooth(
    source: Annotated[Path, typer.Argument(metavar="INPUT", help="CAMUS root, patient folder or mask file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder: OUT/<patient>/<stem>_post.nii.gz.")],
    vae: Annotated[Path | None, typer.Option("--vae", help="Shape model file (default: shipped AR-VAE).")] = None,
    device: Annotated[str, typer.Option("--device", help=DEVICE_HELP)] = "cpu",
    view: ViewOption = None,
    spacing: SpacingOption = "auto",
    fps: FpsOption = None,
    ed: EdOption = None,
    es: EsOption = None,
    smoothing_options: dict | None = None,
) -> None:
    """Make mask sequences temporally consistent and anatomically plausible in the shape model's latent space."""
    from echolatent.device import resolve_device
    from echolatent.jobs.smooth import smooth_folder
    from echolatent.temporal.smooth import Smoother

    mode, options = recording_options(view, spacing, fps, ed, es)
    if mode != "auto":
        raise EcholatentError("--spacing: smooth takes a pixel size (MM or MMxMM) for files without one")
    check_output_folder(out, [source, smoothing_options["reference"]])  # a bad --out fails before the model loads
    smoother = smoothing.build_smoother(vae, **smoothing_options)
    if isinstance(smoother, Smoother):  # a latent method: its shape model runs on --device
        smoother.model.to(resolve_device(device))
    with progress_bar(f"smooth ({smoothing_options['method']})", "seq") as bar:
        summary = smooth_folder(source, out, smoother, progress=bar_progress(bar), options=options)
    for name, problem in summary["skipped"].items():
        typer.secho(f"skipped {name}: {problem}", fg=typer.colors.YELLOW, err=True)
    if not summary["smoothed"]:
        first = next(iter(summary["skipped"].values()))
        raise InputError(source, f"no sequence could be smoothed ({len(summary['skipped'])} skipped; {first})")
    typer.echo(
        f"{summary['smoothed']} sequence(s) smoothed, {len(summary['skipped'])} skipped; temporally consistent "
        f"{_count(summary, 'before')} -> {_count(summary, 'after')}; valid frames "
        f"{_rate(summary, 'before')} -> {_rate(summary, 'after')}"
    )
    typer.echo(f"wrote *_post.nii.gz, {out / 'metrics.csv'}, {out / 'frames.csv'}, {out / 'summary.json'}")


def _count(summary: dict, stage: str) -> str:
    part = summary.get(stage) or {}
    temporal = part.get("temporal", {})
    return f"{temporal.get('sequences_ok', 0)}/{temporal.get('checked', 0)}" if temporal.get("checked") else "-"


def _rate(summary: dict, stage: str) -> str:
    part = summary.get(stage) or {}
    return f"{100 * part['validity']['rate']:.1f} %" if part else "-"
