"""The output-folder guard every writing command shares: where ``--out`` may be, and one run at a time in it.

* :func:`check_output_folder`: ``--out`` must not be a file, must not lie inside an input folder (a later scan
  of the input would pick the outputs up as inputs), and must not hold an input.
* :func:`output_lock`: a lock folder ``.<OUT>.lock/`` beside ``OUT`` holding one ``<host>-<pid>.json`` per
  process. A second, unrelated run into the same ``OUT`` fails fast; the parts of one sharded run pass the same
  ``run_id`` and share ``OUT``. Holders whose process is gone (a killed run) are named and removed.
* :func:`leftovers`: what a killed run leaves (``OUT.partial-<pid>``, ``OUT.old-<pid>``, hidden temporary
  files ``.<name>.<random>`` inside ``OUT``); :func:`guarded_output` names them and removes the disposable ones.

No heavy imports: the CLI calls this before loading torch.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import re
import shutil
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from echolatent.errors import InputError

log = logging.getLogger(__name__)

_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}(\.png|\.gif)?$")  # tempfile.mkstemp/mkdtemp(prefix=".<name>.")


def check_output_folder(out: str | Path, inputs: Sequence[str | Path | None] = ()) -> Path:
    """``out`` as a Path after refusing an existing file, a folder inside an input folder or holding an input
    (an input file's own folder included: the outputs would land beside it).

    Raises:
        InputError: on ``out`` (one line naming the input concerned).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out exists and is not a folder")
    target = out.resolve()
    for source in (Path(s) for s in inputs if s is not None):
        if not source.exists():
            continue
        if source.resolve().is_relative_to(target):
            raise InputError(out, f"the output folder holds the input {source}: choose another output folder")
        if source.is_dir() and target.is_relative_to(source.resolve()):
            raise InputError(out, f"the output folder is inside the input folder {source}: outputs would be read "
                                  "back as inputs; choose a folder outside it")
    return out


def lock_folder(out: str | Path) -> Path:
    """The lock folder of ``out``: ``.<name>.lock`` beside it."""
    out = Path(out).resolve()
    return out.parent / f".{out.name}.lock"


@dataclass(frozen=True)
class Holder:
    """One process holding an output folder's lock."""

    path: Path
    host: str
    pid: int
    run_id: str
    command: str
    started: str

    def alive(self) -> bool:
        """Whether the process still runs (always True for another host: it cannot be asked)."""
        return self.host != socket.gethostname() or _pid_alive(self.pid)


def _holders(folder: Path) -> list[Holder]:
    holders = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            holders.append(Holder(path, str(data["host"]), int(data["pid"]), str(data["run_id"]),
                                  str(data.get("command", "")), str(data.get("started", ""))))
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("%s: unreadable lock entry, ignored", path)
    return holders


def _default_run_id() -> str:
    return os.environ.get("ECHOLATENT_RUN_ID") or f"{socket.gethostname()}-{os.getpid()}"


@contextlib.contextmanager
def output_lock(out: str | Path, *, run_id: str | None = None, command: str = "") -> Iterator[list[Holder]]:
    """Hold the lock of ``out`` while the block runs; yields the other live holders (shards of the same run).

    ``run_id`` (default: ``$ECHOLATENT_RUN_ID``, else this process) names the run: processes with the same id
    (the shards of one run) share ``out``; any live holder with another id makes this raise at once.

    Raises:
        InputError: ``out`` is in use by another run (its pid, command and start time named).
    """
    folder = lock_folder(out)
    run_id = run_id or _default_run_id()
    mine = folder / f"{socket.gethostname()}-{os.getpid()}.json"
    entry = {"host": socket.gethostname(), "pid": os.getpid(), "run_id": run_id, "command": command,
             "started": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        mine.write_text(json.dumps(entry), encoding="utf-8")
    except OSError as err:
        raise InputError(out, f"cannot write the lock {folder} ({err.strerror or type(err).__name__})") from None
    sharing = []
    try:
        for holder in _holders(folder):
            if holder.path == mine:
                continue
            if not holder.alive():
                log.warning("%s: removed the stale lock of a killed run (pid %d, %s, started %s)", out, holder.pid,
                            holder.command or "unknown command", holder.started or "?")
                holder.path.unlink(missing_ok=True)
            elif holder.run_id != run_id:
                raise InputError(out, f"in use by another echolatent run (pid {holder.pid} on {holder.host}, "
                                      f"{holder.command or 'unknown command'}, started {holder.started}); wait for "
                                      "it to finish or choose another --out")
            else:
                sharing.append(holder)
        yield sharing
    finally:
        mine.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()  # fails while a shard of the same run still holds it


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers(out: str | Path) -> dict[str, list[Path]]:
    """What killed runs left around ``out``: ``{"partial": [...], "aside": [...], "temporary": [...]}``.

    partial: ``OUT.partial-<pid>`` staging folders of dead processes; aside: ``OUT.old-<pid>`` (a previous
    result moved aside by a run killed while replacing it); temporary: hidden ``.<name>.<random>`` files and
    folders of interrupted atomic writes inside ``OUT``.
    """
    out = Path(out)
    found: dict[str, list[Path]] = {"partial": [], "aside": [], "temporary": []}
    if out.parent.is_dir():
        for path in sorted(out.parent.glob(f"{glob.escape(out.name)}.*-*")):
            kind, _, pid = path.name[len(out.name) + 1:].partition("-")
            if kind in ("partial", "old") and pid.isdigit() and not _pid_alive(int(pid)):
                found["partial" if kind == "partial" else "aside"].append(path)
    if out.is_dir():
        found["temporary"] = sorted(p for p in out.rglob(".*") if _TEMP_NAME.match(p.name))
    return found


def clean_leftovers(out: str | Path) -> dict[str, list[Path]]:
    """Name (log warnings) and remove what killed runs left (partial staging folders and temporary files);
    folders moved aside (``OUT.old-<pid>``) are named, never removed: they may hold the only copy of a result."""
    found = leftovers(out)
    for path in found["partial"] + found["temporary"]:
        log.warning("%s: removed what a killed run left (%s)", path, "unfinished output" if path in
                    found["partial"] else "temporary file of an interrupted write")
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    for path in found["aside"]:
        log.warning("%s: previous results moved aside by a run killed while replacing them; kept", path)
    return found


@contextlib.contextmanager
def guarded_output(out: str | Path, inputs: Sequence[str | Path | None] = (), *, run_id: str | None = None,
                   command: str = "") -> Iterator[Path]:
    """:func:`check_output_folder`, then :func:`output_lock` around the block, after naming and removing what a
    killed run left (when no shard of the same run holds ``out``). Yields ``out`` as a Path (not created: the
    command makes it when it writes)."""
    out = check_output_folder(out, inputs)
    with output_lock(out, run_id=run_id, command=command) as sharing:
        if not sharing:  # a shard of the same run may be writing its temporary files right now
            clean_leftovers(out)
        yield out
