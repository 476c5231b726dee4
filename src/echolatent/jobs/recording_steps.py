"""The steps of a folder job that real recordings add: the sector cut, ED/ES found per beat, EF per beat.

* :func:`sector_of` detects the ultrasound fan of a loaded sequence and says whether masks are cut to it;
* :func:`settle_instants` puts the first detected beat's ED/ES on the sequence (for the clinical table);
* :func:`beat_masks` keeps the masks of the beat frames only (what per-beat volumes need once arrays are dropped);
* :func:`beat_table` gives EDV/ESV/EF per beat and their mean +- SD, per patient (biplane when both views have beats).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from echolatent.io.camus import EchoSequence
from echolatent.io.recordings import Loaded
from echolatent.io.sector import cut_masks, detect_sector
from echolatent.labels import View
from echolatent.measure.beats import Beat, beat_indices
from echolatent.pipeline import SequenceResult

log = logging.getLogger(__name__)


def sector_of(loaded: Loaded, mode: str) -> np.ndarray | None:
    """The ``(H, W)`` fan of ``loaded``'s frames when frames and masks are to be cut to it
    (:func:`echolatent.io.sector.cut_masks`), else None; ``loaded.facts`` says what was found and done."""
    if mode == "off":
        loaded.facts["sector"] = "off"
        return None
    sector = detect_sector(loaded.seq.image)
    cut = cut_masks(mode, loaded.seq.image, sector.mask)
    loaded.facts["sector"] = sector.describe() + ("; frames and masks cut to it" if cut else
                                                  "; nothing shown outside it, nothing cut")
    return sector.mask if cut else None


def settle_instants(seq: EchoSequence, result: SequenceResult, facts: dict) -> EchoSequence:
    """``seq`` with ED/ES of the first beat found (when they were to be found); facts get the beats and a note."""
    if result.beats is None:
        return seq
    found = result.beats
    facts["beats_found"] = len(found.beats)
    facts["heart_rate_bpm"] = round(found.heart_rate, 1) if found.heart_rate else None
    if found.note:
        facts["beats_note"] = found.note
    if not found.beats:
        log.warning("%s: no beat (ED then ES) found on the LV area curve: no EF", result.name)
        return replace(seq, ed=None, es=None)
    first = found.beats[0]
    return replace(seq, ed=first.ed, es=first.es)


def beat_masks(result: SequenceResult) -> dict[int, np.ndarray]:
    """``{frame: (H, W) labels}`` of the smoothed (else U-Net) masks at every beat's ED and ES frame."""
    if result.beats is None or not result.beats.beats:
        return {}
    masks = result.post if result.post is not None else result.pred
    frames = sorted({f for beat in result.beats.beats for f in (beat.ed, beat.es)})
    return {frame: masks[frame].copy() for frame in frames}


def beat_table(items: list[dict]) -> dict:
    """Per patient: EDV/ESV/EF per beat, mean and SD (biplane with both views, else single plane).

    ``items``: the run's kept items with ``seq_pred`` (ids, view, spacing), ``beats`` (list of :class:`Beat`) and
    ``beat_masks``; sequences without a view or beats are left out.
    """
    by_patient: dict[str, dict[View, tuple]] = {}
    for item in items:
        seq, beats = item.get("seq_pred"), item.get("beats") or []
        if seq is None or seq.ref.view is None or not beats:
            continue
        by_patient.setdefault(seq.ref.patient, {}).setdefault(seq.ref.view, (item["beat_masks"], beats, seq.spacing))
    table = {}
    for patient, views in by_patient.items():
        result = beat_indices({v: m for v, (m, _, _) in views.items()}, {v: b for v, (_, b, _) in views.items()},
                              {v: s for v, (_, _, s) in views.items()})
        table[patient] = {"method": result.method, "units": result.units, "beats": result.rows,
                          "mean": result.mean, "sd": result.sd}
    return table


def beats_of(result: SequenceResult) -> list[Beat]:
    """The beats found on ``result`` (empty when none were looked for)."""
    return list(result.beats.beats) if result.beats is not None else []
