"""Errors raised on bad input: each names the file (when there is one) and the problem."""

from __future__ import annotations

from pathlib import Path


class EcholatentError(Exception):
    """Base class of the errors echolatent raises on purpose."""


class InputError(EcholatentError, ValueError):
    """A file or array that cannot be used, with the file's path and what is wrong with it.

    ``str(err)`` is a one-line message ``"<path>: <problem>"`` fit for the command line.
    """

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)
