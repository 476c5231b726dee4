"""Shards for schedulers without Dask: ``--num-parts K --part-id I`` (nnU-Net's convention) picks a deterministic
slice of the sequences, so K independent jobs (a SLURM array, K machines) share one output folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from echolatent.errors import InputError

T = TypeVar("T")


def check_part(num_parts: int, part_id: int) -> None:
    """Raise InputError unless ``num_parts >= 1`` and ``0 <= part_id < num_parts``."""
    if num_parts < 1:
        raise InputError(None, f"--num-parts must be at least 1, got {num_parts}")
    if not 0 <= part_id < num_parts:
        raise InputError(None, f"--part-id must be in 0..{num_parts - 1} for --num-parts {num_parts}, got {part_id}")


def select_part(items: Sequence[T], num_parts: int, part_id: int, key: Callable[[T], str]) -> list[T]:
    """The items of part ``part_id`` of ``num_parts``: sorted by ``key`` (a stable sequence id), then every
    ``num_parts``-th one from ``part_id`` (as nnU-Net's ``[part_id::num_parts]``).

    Every item is in exactly one part whatever the order the items were found in; parts differ in size by at most
    one item. The items come back in their original order.
    """
    check_part(num_parts, part_id)
    ids = [key(item) for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("sequence ids must be unique to shard them")
    picked = set(sorted(ids)[part_id::num_parts])
    return [item for item, name in zip(items, ids, strict=True) if name in picked]
