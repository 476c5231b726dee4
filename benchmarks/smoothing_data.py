"""Truth sequences and corrupted inputs for benchmarks/bench_smoothing.py, and the curve measures.

Truth sequences ``(T, H, W)`` uint8, with their patient, view and spacing:

* ``camus``: real anatomy, ED -> ES of one CAMUS-224 patient and view, interpolated between the expert ED and ES
  masks (each label's signed distance blended with a cosine time profile, the arg-min label per pixel; a
  half-cosine is how a ventricle empties, slow at both ends);
* ``synthetic``: the synthetic heart model's half sequence (``echolatent.synth``), masks only;
* ``multibeat``: several synthetic cycles one after another (ED -> ES -> ED, repeated) for long sequences.

Corruption models: ``castor`` (``echolatent.synth.corrupt``, per-frame errors) and ``drift``
(``echolatent.synth.corrupt_drift``, slow and per-frame errors, wrong frames, junction swaps).

Curve measures (attributes measured at the output's own resolution, normalised by the evaluation bounds, in
units of each attribute's tau): roughness = mean |d(t)| over interior frames (castor's deviation, half the
second difference); curve error = RMS over frames of the difference to the truth's curve; each averaged over
the attributes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from echolatent.io.camus import find_sequences, load_sequence, read_split
from echolatent.measure.attributes import compute_attributes
from echolatent.measure.temporal import TemporalThresholds
from echolatent.synth.corrupt import corrupt_sequence
from echolatent.synth.corrupt_drift import corrupt_drift, labels_from_distances, signed_distances

CORRUPTIONS = ("castor", "drift")


@dataclass
class Case:
    """One truth sequence: ``(T, H, W)`` masks, its patient and view, spacing (sy, sx) mm."""

    name: str
    patient: str
    view: str
    truth: np.ndarray
    spacing: tuple[float, float]


def interpolate_masks(ed: np.ndarray, es: np.ndarray, frames: int) -> np.ndarray:
    """``(H, W)`` ED and ES labels -> ``(frames, H, W)`` uint8, ED first, ES last (module docstring)."""
    a, b = signed_distances(ed), signed_distances(es)
    phase = 0.5 - 0.5 * np.cos(np.pi * np.arange(frames) / (frames - 1))
    out = np.stack([labels_from_distances((1 - p) * a + p * b) for p in phase])
    out[0], out[-1] = ed, es
    return out


def camus_cases(root: Path, count: int, frames: int, subset: str = "validation") -> list[Case]:
    """Up to ``count`` interpolated sequences (both views of the first patients of ``subset``)."""
    patients = set(read_split(root, subset)) if subset else None
    refs = {}
    for ref in find_sequences(root):
        if ref.mask is not None and (patients is None or ref.patient in patients):
            refs[(ref.patient, ref.view.value, ref.kind)] = ref
    cases = []
    for patient, view, kind in sorted(refs):
        if kind != "ED" or (patient, view, "ES") not in refs or len(cases) >= count:
            continue
        ed = load_sequence(refs[(patient, view, "ED")], image=False)
        es = load_sequence(refs[(patient, view, "ES")], image=False)
        masks = interpolate_masks(ed.mask[0], es.mask[0], frames)
        cases.append(Case(f"{patient}_{view}", patient, view, masks, tuple(ed.spacing)))
    return cases


def synthetic_cases(count: int, frames: int, size: int, seed: int, beats: int = 0) -> list[Case]:
    """``count`` synthetic sequences (both views of ``count / 2`` patients): half sequences of ``frames``, or
    ``beats`` full cycles of ``frames`` frames each one after another (beats > 0)."""
    from echolatent.synth.patient import synthesize_patient

    cases = []
    for index in range(1, count // 2 + 2):
        patient = synthesize_patient(index, frames=frames, size=size, seed=seed, images=False, full_cycle=beats > 0)
        for view, synthetic in sorted(patient.views.items(), key=lambda item: item[0].value):
            masks = synthetic.masks if beats <= 0 else np.concatenate([synthetic.cycle_masks[:-1]] * beats)
            if len(cases) < count:
                cases.append(Case(f"{patient.name}_{view.value}", patient.name, view.value, masks, patient.spacing))
    return cases


def corrupt(case: Case, model: str, severity: str, seed: int) -> np.ndarray:
    """The truth of ``case`` corrupted by ``model`` at ``severity`` (a random stream per case and setting)."""
    rng = np.random.default_rng([seed, zlib.crc32(f"{case.name}/{model}/{severity}".encode())])
    if model == "castor":
        return corrupt_sequence(case.truth, severity, rng)
    if model == "drift":
        return corrupt_drift(case.truth, severity, rng)
    raise ValueError(f"unknown corruption model {model!r}; expected one of {CORRUPTIONS}")


def normalised_curves(masks: np.ndarray, thresholds: TemporalThresholds) -> dict[str, np.ndarray]:
    """``(T, H, W)`` masks -> ``{attribute: (T,)}`` curves normalised by the bounds, divided by tau (pixel units
    of the masks' grid, which must be ``thresholds.grid``)."""
    curves = compute_attributes(masks)
    out = {}
    for name, (low, high) in thresholds.bounds.items():
        out[name] = (curves[name] - low) / (high - low) / thresholds.tau[name]
    return out


def curve_measures(output: dict, truth: dict) -> dict[str, float]:
    """Normalised curves of an output and of the truth -> mean roughness and curve error (tau units)."""
    rough, error = [], []
    for name, curve in output.items():
        d = curve[1:-1] - 0.5 * (curve[:-2] + curve[2:])
        rough.append(float(np.nanmean(np.abs(d))))
        error.append(float(np.sqrt(np.nanmean((curve - truth[name]) ** 2))))
    return {"roughness": float(np.nanmean(rough)), "curve_error": float(np.nanmean(error))}
