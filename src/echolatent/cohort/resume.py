"""Per-sequence records: what makes a sequence complete, so that a rerun with ``--resume`` skips it and
``echolatent report OUT`` can gather every part's results.

A processed sequence leaves, beside its masks::

    OUT/<patient>/<name>_result.pkl    what the tables and the report need (measures, ED/ES masks; no frames)
    OUT/<patient>/<name>_result.json   the record: status, index, outputs, headline numbers. Written LAST

Every file is written atomically (temporary file, then rename), and the record only after the masks and the
pickle: a sequence is complete exactly when its record says ``done`` and every output it lists exists. A run
killed at any moment leaves complete sequences and, at most, orphan files of the sequences in flight, which a
rerun overwrites. A failed sequence has a record with ``status: failed`` and the error; ``--resume`` retries it.

The pickle is read back by ``echolatent report``; like any pickle, only read output folders you trust.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import tempfile
from pathlib import Path

from echolatent.errors import InputError

log = logging.getLogger(__name__)

RECORD = "_result.json"
DATA = "_result.pkl"


def record_path(out: Path, patient: str, name: str) -> Path:
    """``OUT/<patient>/<name>_result.json``."""
    return Path(out) / patient / f"{name}{RECORD}"


def data_path(record: Path) -> Path:
    """The pickle beside a record."""
    return record.with_name(record.name[: -len(RECORD)] + DATA)


def write_pickle_atomic(data, path: Path) -> Path:
    """Pickle ``data`` into ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_record(path: Path) -> dict | None:
    """The record at ``path``; None when it is missing or unreadable (a sequence to process again)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_complete(out: Path, patient: str, name: str) -> bool:
    """True when the record of ``patient``/``name`` says done and every output it lists exists under ``out``."""
    record = read_record(record_path(out, patient, name))
    if record is None or record.get("status") != "done":
        return False
    return all((Path(out) / rel).is_file() for rel in record.get("outputs", []))


def find_records(out: Path) -> list[dict]:
    """Every record under ``out`` (patient folders, one level deep, and ``out`` itself), sorted by index."""
    out = Path(out)
    paths = sorted([*out.glob(f"*{RECORD}"), *out.glob(f"*/*{RECORD}")])
    records = []
    for path in paths:
        record = read_record(path)
        if record is None:
            log.warning("%s: unreadable record, ignored", path)
            continue
        records.append({**record, "path": str(path)})
    return sorted(records, key=lambda r: (r.get("index", 0), r.get("sequence", "")))


def load_result(record: dict):
    """The pickled per-sequence result of a done record.

    Raises:
        InputError: the pickle is missing or unreadable.
    """
    path = data_path(Path(record["path"]))
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as err:
        raise InputError(path, f"cannot read the sequence's result ({err}); rerun it with --resume") from err
