"""Typer apps (root and sub-command groups), error handling and the console entry point."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from echolatent import __version__
from echolatent.cli.progress import set_quiet
from echolatent.errors import EcholatentError

# Plain help (rich_markup_mode=None): flags shown as flags, no box drawing or colour codes in redirected output.
PLAIN = {"no_args_is_help": True, "rich_markup_mode": None}
app = typer.Typer(
    help="echolatent: anatomically plausible, temporally consistent echocardiography segmentation.",
    add_completion=False,
    pretty_exceptions_enable=False,
    **PLAIN,
)
data_app = typer.Typer(help="Synthetic data, corruption and dataset checks.", **PLAIN)
train_app = typer.Typer(help="Train the segmentation U-Net or a shape model.", **PLAIN)
latent_app = typer.Typer(help="Explore a shape model's latent space.", **PLAIN)
app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")
app.add_typer(latent_app, name="latent")

#: ``--validity``: the anatomical limits of the commands that check validity.
ValidityOption = Annotated[
    Path | None, typer.Option("--validity", help="Validity thresholds JSON (default: CAMUS-224 calibrated).")
]

# Each module registers its commands on the apps above when imported.
COMMAND_MODULES = (
    "echolatent.cli.data_cmds",
    "echolatent.cli.check_cmd",
    "echolatent.cli.evaluate_cmd",
    "echolatent.cli.train_cmds",
    "echolatent.cli.train_seg_cmd",
    "echolatent.cli.latent_cmds",
    "echolatent.cli.segment_cmd",
    "echolatent.cli.smooth_cmd",
    "echolatent.cli.run_cmds",
    "echolatent.cli.cohort_cmds",
    "echolatent.cli.explore_cmd",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"echolatent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars, warnings and errors only."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    set_quiet(quiet)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def bar_progress(bar) -> Callable[[str, int, int], None]:
    """A jobs ``progress(stage, done, total)`` callback that moves the tqdm ``bar``."""

    def progress(_stage: str, done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return progress


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise


def main() -> None:
    """Console entry point: usage errors are typer's; expected errors become one line and exit code 2."""
    _register_commands()
    try:
        app()  # standalone mode: typer/click print usage errors and call sys.exit themselves
    except EcholatentError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(2)
