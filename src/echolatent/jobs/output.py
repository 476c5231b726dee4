"""The output folder of a job: staged beside ``OUT`` and renamed at the end, a copy of the log, the versions.

Everything is written into ``OUT.partial-<pid>`` beside ``OUT`` and renamed to ``OUT`` at the end; a failed run
leaves no ``OUT``. An existing non-empty ``OUT`` is refused unless ``overwrite``; then it is moved aside, replaced,
and deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import shutil
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from echolatent.errors import InputError
from echolatent.outdir import guarded_output


def check_output(out: Path, overwrite: bool, source: Path | None = None) -> None:
    """Raise InputError when ``out`` is a file, a non-empty folder without ``overwrite``, or holds ``source``."""
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise InputError(out, "output folder exists and is not empty (pass --overwrite to replace it)")
    if source is not None and source.resolve().is_relative_to(out.resolve()):
        raise InputError(out, f"the output folder holds the input {source}: choose another output folder")


@contextlib.contextmanager
def staged_output(out: str | Path, overwrite: bool = False, source: str | Path | None = None) -> Iterator[Path]:
    """Yield an empty staging folder ``OUT.partial-<pid>`` beside ``out``; rename it to ``out`` on success.

    On error the staging folder is deleted and ``out`` is left as it was. The whole block holds ``out``'s lock
    (:func:`echolatent.outdir.guarded_output`: a second run into ``out`` fails at once).
    """
    out = Path(out)
    check_output(out, overwrite, Path(source) if source is not None else None)
    with guarded_output(out, [source], command="run"):
        yield from _staged(out)


def _staged(out: Path) -> Iterator[Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.parent / f"{out.name}.partial-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    aside = None
    if out.exists():
        aside = out.parent / f"{out.name}.old-{os.getpid()}"
        os.replace(out, aside)
    os.replace(stage, out)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def file_log(path: Path) -> Iterator[None]:
    """Copy echolatent's log records (INFO and above) into ``path`` while the block runs; the handlers above the
    package (the CLI's stderr, e.g. at WARNING under ``--quiet``) still get only what their level asked for."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    package = logging.getLogger("echolatent")
    old_level, effective = package.level, package.getEffectiveLevel()
    above = _AtLeast(effective)
    shared = list(logging.getLogger().handlers) if effective > logging.INFO else []
    if effective > logging.INFO:
        package.setLevel(logging.INFO)
    for other in shared:
        other.addFilter(above)
    package.addHandler(handler)
    try:
        yield
    finally:
        package.removeHandler(handler)
        for other in shared:
            other.removeFilter(above)
        package.setLevel(old_level)
        handler.close()


class _AtLeast(logging.Filter):
    """Drops echolatent's records below ``level`` (the level the package had before :func:`file_log` lowered it)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.startswith("echolatent") and record.levelno < self.level)


def versions() -> dict[str, str]:
    """The keys of :func:`echolatent.train.runner.versions` from package metadata (no Lightning import)."""
    found = {"python": platform.python_version()}
    for name in ("echolatent", "torch", "lightning", "monai", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found
