"""The cohort options of ``echolatent run`` (``--workers``, ``--scheduler``, ``--num-parts/--part-id``,
``--resume``) and ``echolatent report OUT``: thin shells over :mod:`echolatent.cohort.run`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from echolatent.cli.app import app
from echolatent.errors import EcholatentError

FIGURES_HELP = ("all: per-sequence strips, GIFs and curves (the first 40 sequences) and the summary figures; "
                "summary: only the cohort figures; none: no figure (the fastest).")
DEVICE_HELP = "Where the networks run: cpu, cuda (an error when there is no GPU) or auto (cuda when there is one)."


@contextlib.contextmanager
def sequence_bar():
    """A ``progress(done, total, rate)`` callback drawing one tqdm bar (done / total, sequences per second)."""
    bar: list[tqdm] = []

    def progress(done: int, total: int, rate: float) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc="sequences", unit="seq", leave=True))
        bar[0].update(done - bar[0].n)

    try:
        with logging_redirect_tqdm():
            yield progress
    finally:
        for item in bar:
            item.close()


def check_figures(figures: str) -> None:
    from echolatent.cohort.task import FIGURES

    if figures not in FIGURES:
        raise EcholatentError(f"--figures: unknown choice {figures!r}; choose from {', '.join(FIGURES)}")


def run_cohort_command(source: Path, out: Path, *, workers: int, scheduler: str | None, num_parts: int,
                       part_id: int, resume: bool, overwrite: bool, gt: Path | None, **settings) -> None:
    """``echolatent run`` with a cohort option: prints the summary line, or this part's counts."""
    from echolatent.cohort.run import CohortOptions, run_cohort
    from echolatent.cohort.task import Settings

    values = Settings(**{k: (str(v) if isinstance(v, Path) else v) for k, v in settings.items()})
    options = CohortOptions(workers=workers, scheduler=scheduler, num_parts=num_parts, part_id=part_id,
                            resume=resume)
    with sequence_bar() as progress:
        result = run_cohort(source, out, values, options, gt=gt, overwrite=overwrite, progress=progress)
    if num_parts > 1:
        typer.echo(f"part {part_id} of {num_parts}: {result['processed']} processed, {len(result['failed'])} "
                   f"failed, {result['skipped']} already complete ({result['seconds']:.0f} s); once every part "
                   f"is done: echolatent report {out}")
        return
    _summary_line(result, out)


def _summary_line(summary: dict, out: Path) -> None:
    before, after = summary["before"], summary.get("after")
    line = f"{summary['processed']} sequence(s); valid frames {100 * before['validity']['rate']:.1f} %"
    if after:
        line += f" -> {100 * after['validity']['rate']:.1f} % after smoothing"
    if summary["failed"] or summary["missing"]:
        line += f"; {len(summary['failed'])} failed, {summary['missing']} not processed yet"
    typer.echo(line)
    typer.echo(f"report: {out / 'report.html'}")


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Output folder of a cohort run (all its parts).")],
) -> None:
    """(Re)build summary.json, the tables and report.html from the per-sequence results of every part."""
    from echolatent.cohort.run import build_report

    with sequence_bar() as progress:
        summary = build_report(out, progress=progress)
    _summary_line(summary, out)
