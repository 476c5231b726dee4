"""``echolatent data check DATA``: list every problem of a dataset, one line each; exit 1 when any."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from echolatent.cli.app import data_app
from echolatent.cli.progress import progress_bar
from echolatent.io.check import check_dataset, dataset_files


@data_app.command("check")
def check(
    data: Annotated[Path, typer.Argument(
        metavar="DATA", help="CAMUS root (database_nifti/ or training/), patient folder or a file.")],
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")] = True,
) -> None:
    """Verify a dataset: files readable, shapes, spacing, labels 0-3, structures present, cfg and splits.

    Prints one line per problem, ``<file>: <problem>``, then a summary; exit code 1 when any problem, else 0.
    """
    total = len(dataset_files(data)) if data.exists() else 0
    bar = progress_bar("checking", "file", total, leave=False) if progress and total else tqdm(disable=True)
    with bar:
        problems = check_dataset(data, on_file=lambda _path: bar.update())
    for problem in problems:
        typer.echo(str(problem))
    files = f"{total} file{'s' if total != 1 else ''}"
    typer.echo(f"{files} checked, {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    # sys.exit rather than typer.Exit: the entry point runs the app with standalone_mode=False,
    # where click returns typer.Exit's code instead of exiting with it.
    sys.exit(1 if problems else 0)
