"""The one loop over sequences every folder job runs, and the rules all jobs share.

A job (:class:`FolderJob`) says how to ``find`` its sequences, how to ``process`` one (load it, compute, write its
files) and how to ``summarise`` what came back; :func:`run_folder_job` runs find -> process each -> summarise, with
progress and, for jobs that allow it, bad sequences skipped with their reason. The shared rules:

* ids: ``sequence, patient, view, kind`` lead every table row (:func:`sequence_ids`);
* spacing: the unit rule of :func:`echolatent.io.readers.resolve_spacing` (a 1 x 1 mm header is an unknown pixel
  size), and the unit names that follow from it (:func:`units`);
* tables: ``metrics.csv`` (a row per frame and structure) and ``frames.csv`` (a row per frame), :func:`write_tables`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from echolatent.errors import InputError
from echolatent.files import write_csv_atomic, write_json_atomic
from echolatent.io.camus import EchoSequence, SequenceRef
from echolatent.io.readers import resolve_spacing
from echolatent.measure.attribute_info import unit_names
from echolatent.measure.sequence import SequenceMeasures

log = logging.getLogger(__name__)

#: ``progress(stage, done, total)``: called after each sequence (the run job calls it per stage).
Progress = Callable[[str, int, int], None]


class FolderJob(Protocol):
    """One command over a folder: ``name`` (progress label), ``skip_bad`` (a bad sequence is skipped with its reason
    instead of stopping the job), and the three steps :func:`run_folder_job` calls."""

    name: str
    skip_bad: bool

    def find(self) -> Sequence[Any]:
        """The items to process (sequence refs, or pairs of refs); InputError when there are none."""
        ...

    def process(self, index: int, item: Any) -> Any:
        """Load, process and write one item; returns what :meth:`summarise` needs of it."""
        ...

    def summarise(self, done: list[Any], skipped: dict[str, str]) -> dict:
        """Write the job's tables from every processed item; returns the summary dict."""
        ...


def run_folder_job(job: FolderJob, progress: Progress | None = None) -> dict:
    """find -> process each item -> summarise (see :class:`FolderJob`); returns the summary."""
    items = job.find()
    log.debug("%s: %d sequence(s)", job.name, len(items))
    done, skipped = [], {}
    for index, item in enumerate(items):
        try:
            done.append(job.process(index, item))
        except InputError as err:
            if not job.skip_bad:
                raise
            skipped[_item_name(item)] = err.problem if err.path is None else str(err)
        if progress is not None:
            progress(job.name, index + 1, len(items))
    return job.summarise(done, skipped)


def _item_name(item: Any) -> str:
    """The sequence name of an item (a ref, or a tuple led by one)."""
    ref = item[0] if isinstance(item, tuple) else item
    return ref.name if isinstance(ref, SequenceRef) else str(ref)


def sequence_ids(ref: SequenceRef) -> dict[str, str]:
    """``{"sequence", "patient", "view", "kind"}``: the columns naming a sequence in every table."""
    return {"sequence": ref.name, "patient": ref.patient, "view": ref.view.value if ref.view else "", "kind": ref.kind}


def with_spacing_rule(seq: EchoSequence, mode: str = "auto") -> EchoSequence:
    """``seq`` with the spacing every measure uses: the header's under the unit rule of ``mode`` (None: pixels)."""
    return replace(seq, spacing=resolve_spacing(seq.spacing, mode))


def units(spacings: Sequence[tuple[float, float] | None]) -> dict[str, str]:
    """Unit names of a job's tables (mm when every sequence has a known spacing, else pixels) with a ``note``."""
    known = bool(spacings) and all(s is not None for s in spacings)
    names = unit_names(known)
    names["note"] = "" if known else (" (pixel size unknown: areas in px², volumes in px³, not comparable with "
                                      "clinical values)")
    return names


def table_rows(measured: Sequence[tuple[dict, str | None, SequenceMeasures]]) -> tuple[list, list]:
    """``(metrics rows, frames rows)`` of ``[(ids, stage, measures)]`` in that order; a ``stage`` (e.g. "pred",
    "before"; None: no stage column) leads each row, then the ids."""
    rows, frames = [], []
    for ids, stage, measures in measured:
        lead = {"stage": stage} if stage is not None else {}
        rows += measures.structure_rows(**lead, **ids)
        frames += measures.frame_rows(**lead, **ids)
    return rows, frames


def write_tables(out: Path, rows: list[dict], frame_rows: list[dict], summary: dict | None = None) -> None:
    """``out/metrics.csv``, ``out/frames.csv`` and (when given) ``out/summary.json``, each atomically."""
    write_csv_atomic(rows, out / "metrics.csv")
    write_csv_atomic(frame_rows, out / "frames.csv")
    if summary is not None:
        write_json_atomic(summary, out / "summary.json")
