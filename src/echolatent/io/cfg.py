"""CAMUS text files: ``Info_<view>.cfg`` (``Key: value`` lines) and ``subgroup_<subset>.txt`` split lists.

Frame numbers in a cfg (``ED``, ``ES``, ``NbFrame``) are 1-based, as CAMUS writes them; callers turn
them into 0-based indices.
"""

from __future__ import annotations

import re
from pathlib import Path

from echolatent.errors import InputError

SUBSETS = ("training", "validation", "testing")
FRAME_KEYS = ("ED", "ES", "NbFrame")
_PATIENT_ID = re.compile(r"^patient\d+$")


def parse_cfg(text: str, path: str | Path | None = None) -> dict[str, str]:
    """``Key: value`` lines -> ``{key: value}`` (both stripped; blank lines and ``#`` comments skipped).

    Raises:
        InputError: a line without ``:``, an empty key, a key given twice, or a malformed frame number.
    """
    info: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise InputError(path, f"line {number}: expected 'Key: value', got {line[:60]!r}")
        if key in info:
            raise InputError(path, f"line {number}: key {key!r} given twice")
        info[key] = value
    for key in FRAME_KEYS:
        if key in info:
            frame_number(info, key, path)
    return info


def read_cfg(path: str | Path) -> dict[str, str]:
    """Read and parse a cfg file (see :func:`parse_cfg`); InputError when missing, unreadable or malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read cfg ({type(err).__name__})") from None
    return parse_cfg(text, path)


def frame_number(info: dict[str, str], key: str, path: str | Path | None = None) -> int | None:
    """The positive integer under ``key`` (1-based frame number or count), None when absent.

    Raises:
        InputError: the value is not a positive whole number.
    """
    if key not in info:
        return None
    value = info[key]
    try:
        number = float(value)
    except ValueError:
        raise InputError(path, f"{key} must be a whole number, got {value!r}") from None
    if not number.is_integer() or number < 1:
        raise InputError(path, f"{key} must be a positive whole number, got {value!r}")
    return int(number)


def read_split_file(path: str | Path) -> list[str]:
    """Patient ids of a split file (one a line, blank lines skipped), in file order.

    Raises:
        InputError: missing file, a line that is not a patient id (``patientNNNN``), or a repeated id.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(path, "split file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read split file ({type(err).__name__})") from None
    patients: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if not _PATIENT_ID.match(line):
            raise InputError(path, f"line {number}: expected a patient id like 'patient0001', got {line[:60]!r}")
        if line in patients:
            raise InputError(path, f"line {number}: {line} listed twice")
        patients.append(line)
    return patients
