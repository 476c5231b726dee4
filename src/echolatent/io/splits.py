"""The splits of a CAMUS root (``database_split/subgroup_<subset>.txt`` or the 2019 ``training/``/``testing/``
folders) and the check of a requested one: an absent split is an error that lists those found; ``all`` takes
every patient.
"""

from __future__ import annotations

from pathlib import Path

from echolatent.errors import InputError
from echolatent.io.cfg import SUBSETS

ALL = "all"


def available_subsets(root: str | Path) -> list[str]:
    """The splits ``root`` defines, in the order training, validation, testing (empty for a plain folder)."""
    root = Path(root)
    return [s for s in SUBSETS if (root / "database_split" / f"subgroup_{s}.txt").is_file() or (root / s).is_dir()]


def resolve_subset(root: str | Path, subset: str) -> str | None:
    """``subset`` when ``root`` defines it; None (every patient) for ``all`` or a folder without splits.

    Raises:
        InputError: ``root`` has splits but not ``subset``; the message lists the splits found and ``all``.
    """
    root = Path(root)
    found = available_subsets(root) if root.is_dir() else []
    if subset == ALL or not found:
        return None
    if subset not in found:
        raise InputError(root, f"no {subset!r} split here; the splits found are: {', '.join([*found, ALL])}")
    return subset
