"""Atomic writers (any file, text, JSON, CSV): a temporary file in the target folder, then a rename; light imports."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (ending with ``suffix``, for writers that pick the format from it) to
    write to; it is renamed to ``path`` when the block ends, deleted when it raises. The parent folder is made."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a finished file gets the mode open() would give
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process umask (read by setting it and restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_atomic(path: Path, write) -> Path:
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        write(handle)
    return Path(path)


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file."""
    return _write_atomic(Path(path), lambda handle: handle.write(text))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    return value


def write_json_atomic(data: Any, path: str | Path) -> Path:
    """Write ``data`` as indented JSON (NaN/inf as null, NumPy values as plain numbers) via a temporary file."""
    text = json.dumps(_jsonable(data), indent=2, default=str)
    return _write_atomic(Path(path), lambda handle: handle.write(text + "\n"))


def write_csv_atomic(rows: list[dict], path: str | Path) -> Path:
    """Write dict rows as CSV (columns: union of keys in first-seen order; NaN as empty) via a temporary file."""
    columns = list(dict.fromkeys(k for row in rows for k in row))

    def write(handle) -> None:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)

    return _write_atomic(Path(path), write)


def _cell(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return "" if not np.isfinite(value) else f"{float(value):.6g}"
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value
