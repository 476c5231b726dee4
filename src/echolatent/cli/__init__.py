"""The ``echolatent`` command line: one verb per stage, each a thin shell over a library function.

Command modules register themselves on the typer apps of :mod:`echolatent.cli.app`; importing them
here assembles the whole program.
"""

from __future__ import annotations

from echolatent.cli.app import app, main

__all__ = ["app", "main"]
