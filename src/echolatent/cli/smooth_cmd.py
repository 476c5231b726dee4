"""`echolatent smooth INPUT --out OUT`: temporally consistent masks ``<stem>_post.nii.gz`` plus before/after tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from echolatent.cli.app import ValidityOption, app, bar_progress
from echolatent.errors import InputError
from echolatent.options import load_option_file
from echolatent.outdir import check_output_folder

METHOD_HELP = (
    "exact (default): exact latent solver with image-space check; snake: castor's solver; "
    "gaussian: castor's baseline; none: measure only."
)
DECODE_HELP = (
    "exact method's output: residual (default): the input changed by the decoded latent correction, falling back "
    "to the full decode where that fails the checks; full: the shape model's decode of the smoothed codes."
)


@app.command("smooth")
def smooth(
    source: Annotated[Path, typer.Argument(metavar="INPUT", help="CAMUS root, patient folder or mask file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder: OUT/<patient>/<stem>_post.nii.gz.")],
    vae: Annotated[Path | None, typer.Option("--vae", help="Shape model file (default: shipped AR-VAE).")] = None,
    method: Annotated[str, typer.Option("--method", help=METHOD_HELP)] = "exact",
    thresholds: Annotated[
        Path | None, typer.Option("--thresholds", help="Temporal thresholds JSON (default: stored with the model).")
    ] = None,
    validity: ValidityOption = None,
    reference: Annotated[
        Path | None,
        typer.Option("--reference", help="CAMUS root whose expert masks (training split) give the temporal bounds."),
    ] = None,
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="Tightening rounds of the exact method.")] = 6,
    decode: Annotated[str, typer.Option("--decode", help=DECODE_HELP)] = "residual",
    input_sigmas: Annotated[
        str,
        typer.Option("--input-sigmas", help="Residual decode: temporal Gaussian widths (frames) of the input tried "
                     "in turn, comma-separated and increasing; 0 is the input as it is."),
    ] = "0,1.2",
) -> None:
    """Make mask sequences temporally consistent and anatomically plausible in the shape model's latent space."""
    from echolatent.jobs.smooth import smooth_folder

    check_output_folder(out, [source, reference])  # before the model loads: a bad --out fails at once
    smoother = _build_smoother(vae, method, thresholds, validity, reference, rounds, decode, input_sigmas)
    with tqdm(desc=f"smooth ({method})", unit="seq") as bar:
        summary = smooth_folder(source, out, smoother, progress=bar_progress(bar))
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


def _build_smoother(vae, method, thresholds, validity, reference, rounds, decode, input_sigmas):
    """The smoother the options ask for; typer.BadParameter on bad options."""
    from echolatent.measure.temporal import TemporalThresholds
    from echolatent.measure.validity import ValidityThresholds
    from echolatent.temporal.smooth import DECODES
    from echolatent.temporal.strategy import METHODS, make_smoother
    from echolatent.temporal.thresholds import reference_thresholds

    if method not in METHODS:
        raise typer.BadParameter(f"unknown method {method!r}; choose from {', '.join(METHODS)}", param_hint="--method")
    if decode not in DECODES:
        raise typer.BadParameter(f"unknown decode {decode!r}; choose from {', '.join(DECODES)}", param_hint="--decode")
    if thresholds and reference:
        raise typer.BadParameter("give --thresholds or --reference, not both", param_hint="--reference")
    try:
        sigmas = tuple(float(v) for v in input_sigmas.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated numbers, got {input_sigmas!r}",
                                 param_hint="--input-sigmas") from None
    temporal = load_option_file(thresholds, TemporalThresholds.load, "temporal thresholds") if thresholds else None
    limits = load_option_file(validity, ValidityThresholds.load, "validity thresholds") if validity else None
    if reference is not None:
        from echolatent.latent.codec import load_model

        temporal = reference_thresholds(reference, load_model(vae).config.input_size)
    try:
        return make_smoother(method, vae, thresholds=temporal, validity_thresholds=limits, max_rounds=rounds,
                             decode=decode, input_sigmas=sigmas)
    except InputError:
        raise
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


def _count(summary: dict, stage: str) -> str:
    part = summary.get(stage) or {}
    temporal = part.get("temporal", {})
    return f"{temporal.get('sequences_ok', 0)}/{temporal.get('checked', 0)}" if temporal.get("checked") else "-"


def _rate(summary: dict, stage: str) -> str:
    part = summary.get(stage) or {}
    return f"{100 * part['validity']['rate']:.1f} %" if part else "-"
