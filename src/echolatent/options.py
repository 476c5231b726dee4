"""Command options checked in one place: option files (JSON), ``--suffix``, ``--threads``; all raise InputError.

No heavy imports: the CLI checks its options before loading torch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from echolatent.errors import InputError

T = TypeVar("T")
_SUFFIX = re.compile(r"^_[A-Za-z0-9][A-Za-z0-9_-]*$")


def read_json_object(path: str | Path, what: str) -> dict:
    """The JSON object in ``path`` (``what`` names the file in messages, e.g. ``"temporal thresholds"``).

    Raises:
        InputError: missing, unreadable, not JSON, or not a JSON object.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, f"{what} file not found")
    if not path.is_file():
        raise InputError(path, f"{what}: not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        raise InputError(path, f"{what} file unreadable (permission denied)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read the {what} file ({type(err).__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(path, f"{what} file is not JSON ({err.msg}, line {err.lineno})") from None
    if not isinstance(data, dict):
        raise InputError(path, f"{what} file must hold a JSON object, got a {type(data).__name__}")
    return data


def load_option_file(path: str | Path, loader: Callable[[Path], T], what: str) -> T:
    """``loader(path)`` (e.g. ``TemporalThresholds.load``) after :func:`read_json_object`; the loader's errors on
    missing keys or wrong types become InputError naming ``path``."""
    path = Path(path)
    read_json_object(path, what)
    try:
        return loader(path)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        detail = f"missing key {err}" if isinstance(err, KeyError) else str(err).splitlines()[0][:120]
        raise InputError(path, f"not a valid {what} file ({detail})") from None


def check_mask_suffix(suffix: str, option: str = "--suffix") -> str:
    """``suffix`` when it looks like ``_pred`` (an underscore, then letters, digits, ``_`` or ``-``)."""
    if not _SUFFIX.match(suffix):
        raise InputError(None, f"{option}: expected a mask suffix like '_pred' (an underscore then letters or "
                               f"digits), got {suffix!r}")
    return suffix


def check_threads(threads: int) -> int:
    """``threads`` when it is 0 (torch's default) or a positive thread count."""
    if threads < 0:
        raise InputError(None, f"--threads: expected 0 (torch's default) or a positive count, got {threads}")
    return threads
