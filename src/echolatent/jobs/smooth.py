"""``echolatent smooth``: temporally consistent masks ``OUT/<patient>/<name>_post.nii.gz`` for every mask sequence
under an input, with before/after tables (``metrics.csv``, ``frames.csv``, ``summary.json``).

Sequences the smoother cannot take (too short, empty, bad labels) are skipped with their reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.io.camus import EchoSequence, SequenceRef, as_labels, load_sequence, output_path, write_mask
from echolatent.io.discovery import mask_sequences
from echolatent.io.recordings import RecordingOptions, cfg_fps, resolve
from echolatent.jobs import loop
from echolatent.measure.beats import find_beats, lv_area_curve
from echolatent.measure.sequence import SequenceMeasures, measure_sequence
from echolatent.measure.summary import summarise
from echolatent.outdir import guarded_output
from echolatent.temporal.strategy import SequenceSmoother

log = logging.getLogger(__name__)


def load_labels(ref: SequenceRef) -> tuple[EchoSequence, np.ndarray]:
    """``(sequence, labels (T, H, W))`` of a mask file, or of a plain file read as labels."""
    if ref.mask is not None:
        seq = load_sequence(ref, image=False)
        return seq, seq.mask
    seq = load_sequence(ref, image=True, mask=False)
    return seq, as_labels(seq.image, ref.image)


@dataclass
class Smoothed:
    """One smoothed sequence: its ids, the before/after measures, the smoother's report, its spacing."""

    ids: dict
    before: SequenceMeasures
    after: SequenceMeasures
    report: dict
    spacing: tuple[float, float] | None
    recording: dict = field(default_factory=dict)


@dataclass
class SmoothJob:
    """The :class:`~echolatent.jobs.loop.FolderJob` of ``smooth``."""

    source: Path
    out: Path
    smoother: SequenceSmoother
    options: RecordingOptions = field(default_factory=RecordingOptions)
    name: str = "smooth"
    skip_bad: bool = True
    suffix: str = field(default="", init=False)

    def find(self) -> list[SequenceRef]:
        refs, self.suffix = mask_sequences(self.source)
        if not refs:
            raise InputError(self.source, "no mask sequences found (_pred, _gt or plain label files)")
        log.info("smoothing %d sequence(s) (%s masks) with %s", len(refs), self.suffix or "plain", self.smoother.method)
        return refs

    def process(self, index: int, item: SequenceRef) -> Smoothed:
        seq, masks = load_labels(item)
        loaded = resolve(seq, cfg_fps(seq.info), None, {"format": "masks"}, self.options)
        seq = loaded.seq
        result = self.smoother(masks, seq.spacing)
        write_mask(seq, result.masks, output_path(item, self.out, "_post"))
        instants = seq.instants
        if loaded.find_instants:
            beats = find_beats(lv_area_curve(result.masks, seq.spacing), loaded.fps)
            instants = beats.instants()
            loaded.facts["beats"] = [vars(beat) for beat in beats.beats]
        measure = {"thresholds": self.smoother.thresholds_for(masks), "instants": instants,
                   "validity_thresholds": self.smoother.validity_thresholds}
        before = measure_sequence(masks, seq.spacing, **measure)
        after = measure_sequence(result.masks, seq.spacing, **measure)
        return Smoothed(loop.sequence_ids(seq.ref), before, after, result.report.as_dict(), seq.spacing, loaded.facts)

    def summarise(self, done: list[Smoothed], skipped: dict[str, str]) -> dict:
        thresholds = self.smoother.thresholds
        summary = {
            "method": self.smoother.method,
            "smoothed": len(done),
            "skipped": skipped,
            "thresholds": thresholds.note if thresholds else "measured on each input sequence",
            "units": loop.units([d.spacing for d in done]),
            "before": summarise([(d.ids, d.before) for d in done], {}, None, thresholds) if done else None,
            "after": summarise([(d.ids, d.after) for d in done], {}, None, thresholds) if done else None,
            "sequences": {d.ids["sequence"]: d.report for d in done},
            "recordings": {d.ids["sequence"]: d.recording for d in done},
            "options": self.options.as_config(),
        }
        if done:  # nothing smoothed: no tables that would look like a finished job
            measured = [(d.ids, stage, m) for d in done for stage, m in (("before", d.before), ("after", d.after))]
            loop.write_tables(self.out, *loop.table_rows(measured), summary)
        return summary


def smooth_folder(source: str | Path, out: str | Path, smoother: SequenceSmoother,
                  progress: loop.Progress | None = None, options: RecordingOptions | None = None) -> dict:
    """Smooth every mask sequence under ``source`` (``_pred`` masks, else ``_gt``, else plain label files) into
    ``out``; returns the summary (``smoothed``, ``skipped`` ``{name: reason}``, before/after summaries).
    ``options``: ``--view``, ``--spacing MM``, ``--fps``, ``--ed/--es`` for what the files do not say (without a cfg
    or ``--ed/--es``, ED/ES are found on the smoothed LV area curve).

    Raises:
        InputError: no mask sequence under ``source``.
    """
    with guarded_output(out, [source], command="smooth"):
        return loop.run_folder_job(SmoothJob(Path(source), Path(out), smoother, options or RecordingOptions()),
                                   progress)
