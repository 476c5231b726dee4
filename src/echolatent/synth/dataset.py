"""Write synthetic patients in the CAMUS NIfTI layout, with ``truth.json`` and PNG previews.

Layout under ``out``::

    database_nifti/patientXXXX/patientXXXX_{2CH,4CH}_{ED,ES}[_gt].nii.gz
    database_nifti/patientXXXX/patientXXXX_{2CH,4CH}_half_sequence[_gt].nii.gz   (T frames, ED -> ES)
    database_nifti/patientXXXX/patientXXXX_{2CH,4CH}_sequence[_gt].nii.gz        (full cycle, optional)
    database_nifti/patientXXXX/Info_{2CH,4CH}.cfg
    database_split/subgroup_{training,validation,testing}.txt
    truth.json
    previews/patientXXXX.png
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from echolatent import files
from echolatent.io.volume import Geometry, write_like
from echolatent.labels import Label, View
from echolatent.synth.overlays import draw_overlays
from echolatent.synth.patient import SyntheticPatient, synthesize_patient

log = logging.getLogger(__name__)

OVERLAY_COLOURS = {Label.LV: (255, 60, 60), Label.MYO: (60, 200, 60), Label.LA: (70, 110, 255)}


def write_text_atomic(text: str, path: Path) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    return files.write_text_atomic(text, path)


def cfg_text(patient: SyntheticPatient, view: View, frames: int) -> str:
    """``Info_<view>.cfg`` content: 1-based ED/ES, NbFrame, demographics, quality, EF and volumes."""
    style = patient.views[view].style
    quality = (
        "Poor"
        if style.dropout is not None and style.clutter > 0
        else ("Medium" if style.dropout is not None or style.clutter > 0 else "Good")
    )
    lines = {
        "ED": 1,
        "ES": frames,
        "NbFrame": frames,
        "Sex": patient.sex,
        "Age": patient.age,
        "ImageQuality": quality,
        "EF": f"{patient.ef:.2f}",
        "FrameRate": f"{patient.frame_rate:.1f}",
        "LVedv": f"{patient.edv:.2f}",
        "LVesv": f"{patient.esv:.2f}",
    }
    return "".join(f"{key}: {value}\n" for key, value in lines.items())


def _write_pair(images: np.ndarray, masks: np.ndarray, spacing, folder: Path, stem: str) -> None:
    geometry = Geometry.default(images.shape, spacing)
    write_like(images, geometry, folder / f"{stem}.nii.gz")
    write_like(masks, geometry, folder / f"{stem}_gt.nii.gz")


def write_patient(patient: SyntheticPatient, database: Path, overlays: bool = False) -> Path:
    """Write one patient's files under ``database/<name>/``; returns that folder.

    ``overlays`` draws screen overlays (grey bar, text, ECG trace) outside the sector of every image.
    """
    folder = database / patient.name
    for view, synthetic in patient.views.items():
        stem = f"{patient.name}_{view.value}"
        frames = len(synthetic.images)
        sector = (synthetic.images > 0).all(axis=0)  # the images are 0 outside the fan, 1..255 inside

        def shown(images: np.ndarray, sector=sector) -> np.ndarray:
            return draw_overlays(images, sector) if overlays else images

        _write_pair(shown(synthetic.images), synthetic.masks, patient.spacing, folder, f"{stem}_half_sequence")
        _write_pair(shown(synthetic.images[:1]), synthetic.masks[:1], patient.spacing, folder, f"{stem}_ED")
        _write_pair(shown(synthetic.images[-1:]), synthetic.masks[-1:], patient.spacing, folder, f"{stem}_ES")
        if synthetic.cycle_images is not None:
            _write_pair(shown(synthetic.cycle_images), synthetic.cycle_masks, patient.spacing, folder,
                        f"{stem}_sequence")
        write_text_atomic(cfg_text(patient, view, frames), folder / f"Info_{view.value}.cfg")
    return folder


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.35) -> np.ndarray:
    """``(H, W)`` uint8 image and labels -> ``(H, W, 3)`` uint8 RGB with coloured structures."""
    rgb = np.repeat(image[..., None].astype(np.float32), 3, axis=-1)
    for label, colour in OVERLAY_COLOURS.items():
        inside = mask == label
        rgb[inside] = (1 - alpha) * rgb[inside] + alpha * np.array(colour, dtype=np.float32)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def write_preview(patient: SyntheticPatient, path: Path) -> Path:
    """PNG: top row the images, bottom row with the masks overlaid; 2CH ED, 2CH ES, 4CH ED, 4CH ES."""
    tops, bottoms = [], []
    for view in (View.A2C, View.A4C):
        synthetic = patient.views[view]
        for t in (0, -1):
            image = synthetic.images[t]
            tops.append(np.repeat(image[..., None], 3, axis=-1))
            bottoms.append(overlay(image, synthetic.masks[t]))
    grid = np.concatenate([np.concatenate(tops, axis=1), np.concatenate(bottoms, axis=1)], axis=0)
    with files.atomic_path(path, ".png") as tmp:
        Image.fromarray(grid).save(tmp, compress_level=1)
    return path


def split_patients(names: list[str], seed: int) -> dict[str, list[str]]:
    """Deterministic 80/10/10 % split into training/validation/testing (each non-empty from 3 patients)."""
    order = np.random.default_rng([int(seed), 7]).permutation(len(names))
    shuffled = [names[i] for i in order]
    n_val = max(1, round(0.1 * len(names))) if len(names) >= 3 else 0
    n_test = n_val
    subsets = {
        "validation": shuffled[:n_val],
        "testing": shuffled[n_val : n_val + n_test],
        "training": shuffled[n_val + n_test :],
    }
    return {key: sorted(value) for key, value in subsets.items()}


TRUTH_UNITS = {"EDV": "mL", "ESV": "mL", "EF": "%", "volumes": "mL", "spacing": "mm (sy, sx)", "frame_rate": "1/s"}


def write_synthetic_dataset(
    out: str | Path,
    patients: int = 10,
    frames: int = 20,
    size: int = 256,
    seed: int = 0,
    full_cycle: bool = False,
    *,
    previews: int = 4,
    progress: Callable[[int], None] | None = None,
    beats: int = 0,
    overlays: bool = False,
) -> Path:
    """Generate ``patients`` synthetic patients and write them in the CAMUS layout under ``out``.

    Args:
        out: output root (created); existing files of the same names are replaced.
        patients: number of patients (``patient0001`` ...).
        frames: frames of each half sequence (ED -> ES), at least 2.
        size: square image size in pixels (spacing = image depth / size, ~0.6 mm at 256).
        seed: random seed; the same seed gives identical files.
        full_cycle: also write ``_sequence`` files covering ED -> ES -> next ED.
        beats: write ``_sequence`` files of this many cycles (> 1; truth.json gives each beat's ED, ES, EF).
        overlays: draw screen overlays (grey bar, text, ECG trace) outside the sector of every image.
        previews: number of patients with a PNG preview in ``out/previews``.
        progress: called with the number of patients done after each patient.

    Returns:
        ``out`` as a Path.
    """
    if patients < 1:
        raise ValueError(f"patients must be at least 1, got {patients}")
    if frames < 2:
        raise ValueError(f"frames must be at least 2 (ED and ES), got {frames}")
    if size < 16:
        raise ValueError(f"size must be at least 16 px, got {size}")
    out = Path(out)
    database = out / "database_nifti"
    cycles = max(beats, 1) if (full_cycle or beats > 0) else 0
    truth = {"seed": seed, "frames": frames, "size": size, "full_cycle": cycles > 0, "beats": cycles,
             "overlays": overlays, "units": TRUTH_UNITS, "patients": {}}
    names = []
    for index in range(1, patients + 1):
        patient = synthesize_patient(index, frames=frames, size=size, seed=seed, full_cycle=full_cycle, beats=beats)
        write_patient(patient, database, overlays)
        if index <= previews:
            write_preview(patient, out / "previews" / f"{patient.name}.png")
        truth["patients"][patient.name] = patient.truth()
        names.append(patient.name)
        log.debug("%s: EDV %.1f mL, ESV %.1f mL, EF %.1f %%", patient.name, patient.edv, patient.esv, patient.ef)
        if progress is not None:
            progress(index)
    for subset, members in split_patients(names, seed).items():
        write_text_atomic("".join(f"{name}\n" for name in members), out / "database_split" / f"subgroup_{subset}.txt")
    write_text_atomic(json.dumps(truth, indent=1) + "\n", out / "truth.json")
    log.debug("wrote %d synthetic patients to %s", patients, out)
    return out
