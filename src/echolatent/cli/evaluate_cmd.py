"""`echolatent evaluate PRED --gt DATA --out OUT`: scores, validity, temporal consistency, clinical errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from echolatent.cli.app import ValidityOption, app, bar_progress
from echolatent.cli.progress import progress_bar
from echolatent.options import check_mask_suffix, load_option_file

PRED_HELP = "Folder of predicted masks (<stem>_pred.nii.gz); with an EchoNet-Dynamic --gt, the output folder of a run."


@app.command("evaluate")
def evaluate_command(
    pred: Annotated[Path, typer.Argument(metavar="PRED", help=PRED_HELP)],
    out: Annotated[Path, typer.Option("--out", help="Output folder: metrics.csv, frames.csv, summary.json.")],
    gt: Annotated[Path | None, typer.Option("--gt", help=("Ground truth: CAMUS root or patient folder(s); or an "
                                                          "EchoNet-Dynamic root (EF against FileList.csv)."))] = None,
    suffix: Annotated[str, typer.Option("--suffix", help="Suffix of the predicted masks.")] = "_pred",
    thresholds: Annotated[
        Path | None, typer.Option("--thresholds", help="Temporal thresholds JSON (default: bounds from --gt).")
    ] = None,
    validity: ValidityOption = None,
) -> None:
    """Measure predicted masks and score them against the ground truth."""
    from echolatent.io.echonet import is_echonet_root
    from echolatent.jobs.echonet_eval import echonet_agreement
    from echolatent.jobs.evaluate import evaluate

    if gt is not None and is_echonet_root(gt):
        agreement = echonet_agreement(pred, gt, out)["agreement"]
        typer.echo(f"EF of {agreement['n']} video(s) against FileList.csv: MAE {_fmt(agreement['mae'])}, "
                   f"bias {_fmt(agreement['bias'])}, r {_fmt(agreement['r'])}")
        typer.echo(f"wrote {out / 'echonet_ef.csv'}, {out / 'summary.json'}")
        return
    from echolatent.measure.temporal import TemporalThresholds
    from echolatent.measure.validity import ValidityThresholds

    check_mask_suffix(suffix)
    temporal = load_option_file(thresholds, TemporalThresholds.load, "temporal thresholds") if thresholds else None
    limits = load_option_file(validity, ValidityThresholds.load, "validity thresholds") if validity else None
    with progress_bar("evaluate", "seq") as bar:
        summary = evaluate(pred, gt, out, pred_suffix=suffix, thresholds=temporal, validity_thresholds=limits,
                           progress=bar_progress(bar))
    print_summary(summary)
    typer.echo(f"wrote {out / 'metrics.csv'}, {out / 'frames.csv'}, {out / 'summary.json'}")


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_summary(summary: dict) -> None:
    """A short table of the summary: scores per structure, validity, temporal and clinical lines."""
    console = Console()
    if summary["scores"]:
        table = Table(title=f"{summary['sequences']} sequences, {summary['frames']} frames")
        for column in ("structure", "Dice", "HD (mm)", "ASSD (mm)", "Dice ED", "Dice ES"):
            table.add_column(column, justify="right")
        for name, by_instant in summary["scores"].items():
            every = by_instant["all"]
            ed, es = by_instant.get("ED", {}), by_instant.get("ES", {})
            table.add_row(
                name,
                _fmt(every["dice"]),
                _fmt(every["hd_mm"]),
                _fmt(every["assd_mm"]),
                _fmt(ed.get("dice")),
                _fmt(es.get("dice")),
            )
        console.print(table)
    validity = summary["validity"]
    line = f"anatomically valid frames: {100 * validity['rate']:.1f} %"
    if summary.get("validity_ground_truth"):
        line += f" (ground truth: {100 * summary['validity_ground_truth']['rate']:.1f} %)"
    console.print(line)
    temporal = summary["temporal"]
    if temporal.get("checked"):
        line = (
            f"temporally consistent sequences: {temporal['sequences_ok']}/{temporal['checked']}, "
            f"inconsistent frames: {temporal['inconsistent_frames'].get('any', 0)}"
        )
        reference = summary.get("temporal_ground_truth")
        if reference:
            line += (
                f" (ground truth: {reference['sequences_ok']}/{reference['checked']}, "
                f"{reference['inconsistent_frames'].get('any', 0)})"
            )
        console.print(line)
    mae = summary["clinical"]["mae"]
    if mae:
        console.print("clinical MAE: " + ", ".join(f"{k} {_fmt(v)}" for k, v in mae.items()))
