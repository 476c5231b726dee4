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


def beat_masks(result: SequenceResult, stage: str = "post") -> dict[int, np.ndarray]:
    """``{frame: (H, W) labels}`` at every beat's ED and ES frame: the smoothed masks (``stage`` "post", else the
    U-Net's when there are none) or the U-Net's (``stage`` "pred")."""
    if result.beats is None or not result.beats.beats:
        return {}
    masks = result.post if stage == "post" and result.post is not None else result.pred
    frames = sorted({f for beat in result.beats.beats for f in (beat.ed, beat.es)})
    return {frame: masks[frame].copy() for frame in frames}


def beat_table(items: list[dict]) -> dict:
    """Per patient: EDV/ESV/EF per beat, mean and SD (biplane with both views, else single plane), from the smoothed
    masks, and the same from the U-Net's masks under ``unet`` (smoothing can flatten the turning points of fast
    beats: both are shown).

    ``items``: the run's kept items with ``seq_pred`` (ids, view, spacing), ``beats`` (list of :class:`Beat`),
    ``beat_masks`` and ``beat_masks_pred``; sequences without a view or beats are left out.
    """
    by_patient: dict[str, dict[View, dict]] = {}
    for item in items:
        seq, beats = item.get("seq_pred"), item.get("beats") or []
        if seq is None or seq.ref.view is None or not beats:
            continue
        by_patient.setdefault(seq.ref.patient, {}).setdefault(seq.ref.view, {**item, "spacing": seq.spacing})
    table = {}
    for patient, views in by_patient.items():
        table[patient] = _volumes(views, "beat_masks")
        if all(item.get("beat_masks_pred") for item in views.values()):
            table[patient]["unet"] = _volumes(views, "beat_masks_pred")
    return table


def _volumes(views: dict, key: str) -> dict:
    """EDV/ESV/EF per beat of one patient's ``views`` (``{view: item}``) from the masks under ``key``."""
    result = beat_indices({v: item[key] for v, item in views.items()}, {v: item["beats"] for v, item in views.items()},
                          {v: item["spacing"] for v, item in views.items()})
    return {"method": result.method, "units": result.units, "beats": result.rows, "mean": result.mean, "sd": result.sd}


def beats_of(result: SequenceResult) -> list[Beat]:
    """The beats found on ``result`` (empty when none were looked for)."""
    return list(result.beats.beats) if result.beats is not None else []
