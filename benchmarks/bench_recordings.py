"""Real-recording path on synthetic multi-beat hearts: ED/ES found per beat, EF per beat, screen overlays.

Per patient, both views (N beats each) are written as DICOM files (``<patient>/4CH.dcm``, ``2CH.dcm``; PatientID and an
``A4C``/``A2C`` description, the region calibration, FrameTime) with screen overlays drawn outside the sector, and
``echolatent run`` runs on the folder (the shipped weights). Measured against ``truth.json``-style truth:

* ED/ES frames within 1 frame of the truth (share of the true EDs and ESs);
* per-beat EF (biplane, smoothed masks) minus the true per-beat EF, and the same for the report's U-Net column (the
  U-Net's masks at the frames found on the smoothed curve);
* the same sequences without overlays: mask pixels outside the true sector (0 with overlays: ``--sector auto`` cuts
  the masks when the screen shows something outside the fan; kept without) and the Dice of the smoothed masks inside
  the fan, with and without overlays;
* where the error comes from (``sources``): the same detection and per-beat EF on the U-Net masks (``_pred``) the run
  wrote, and the smoothed masks' EF at the true ED / ES frames; LV Dice of both against the truth, at the true ED
  frames and over all frames.

Writes benchmarks/results/recordings.json.

    python benchmarks/bench_recordings.py [--patients 4] [--beats 3] [--frames 12] [--size 256] [--method exact]
        [--seed 0] [--overlays both|with] [--out benchmarks/results/recordings.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from echolatent.io.readers import read_recording
from echolatent.jobs.run import run_job
from echolatent.labels import Label, View
from echolatent.measure.beats import Beat, beat_indices, find_beats, lv_area_curve
from echolatent.synth.export import UltrasoundRegion, write_dicom
from echolatent.synth.overlays import draw_overlays
from echolatent.synth.patient import synthesize_patient

ROOT = Path(__file__).resolve().parents[1]


def write_patients(folder: Path, patients: int, beats: int, frames: int, size: int, overlays: bool,
                   seed: int = 0) -> dict:
    """DICOMs of every patient's two views; returns ``{patient: (truth, {view: (masks, sector)})}``."""
    truth = {}
    for index in range(1, patients + 1):
        patient = synthesize_patient(index, frames=frames, size=size, seed=seed, beats=beats)
        views = {}
        for view, synthetic in patient.views.items():
            images = synthetic.cycle_images
            sector = (images > 0).all(axis=0)
            shown = draw_overlays(images, sector) if overlays else images
            region = UltrasoundRegion((0, 0, size - 1, size - 1), patient.spacing)
            write_dicom(shown, folder / patient.name / f"{view.value}.dcm", regions=(region,), fps=patient.frame_rate,
                        patient_id=patient.name, description=f"A{view.value[0]}C")
            views[view] = (synthetic.cycle_masks, sector)
        truth[patient.name] = (patient.truth(), views)
    return truth


def settings(data: Path, truth: dict) -> tuple[dict, dict]:
    """Per patient the pixel size and frame rate its DICOM files hold (as the run read them)."""
    spacing, fps = {}, {}
    for name in truth:
        recording = read_recording(data / name / f"{View.A4C.value}.dcm")
        spacing[name], fps[name] = recording.spacing, recording.fps
    return spacing, fps


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = a.sum() + b.sum()
    return float(2 * (a & b).sum() / total) if total else 1.0


def score(out: Path, truth: dict, summary: dict) -> dict:
    """ED/ES hits, per-beat EF errors, pixels outside the sector, Dice of the smoothed masks."""
    hits, ef_errors, unet_errors, outside, dices = [], [], [], 0, []
    found = {(s["patient"], s["view"]): s for s in summary["sequences"]}
    for name, (true, views) in truth.items():
        beats = true["beats"]
        true_ed = [b["ED"] for b in beats] + [beats[-1]["next_ED"]]
        true_es = [b["ES"] for b in beats]
        for view, (masks, sector) in views.items():
            seq = found[(name, view.value)]
            eds = [b["ed"] for b in seq["beats"]] + [b["next_ed"] for b in seq["beats"][-1:] if b["next_ed"]]
            ess = [b["es"] for b in seq["beats"]]
            hits += [bool(eds) and min(abs(np.array(eds) - f)) <= 1 for f in true_ed]
            hits += [bool(ess) and min(abs(np.array(ess) - f)) <= 1 for f in true_es]
            post = read_recording(out / name / f"{view.value}_post.nii.gz").frames
            outside += int((post[:, ~sector] > 0).sum())
            # Dice of the structures inside the fan (the truth may reach past it, as CAMUS experts draw)
            dices.append(np.mean([dice((post == label) & sector, (masks == label) & sector)
                                  for label in Label.foreground()]))
        table = summary["beats"].get(name, {})
        ef_errors += [row["EF"] - beat["EF"] for row, beat in zip(table.get("beats", []), beats, strict=False)]
        unet_rows = table.get("unet", {}).get("beats", [])
        unet_errors += [row["EF"] - beat["EF"] for row, beat in zip(unet_rows, beats, strict=False)]
    return {"ed_es_within_1_frame": float(np.mean(hits)), "ed_es_count": len(hits),
            "ef_error_per_beat": [round(e, 2) for e in ef_errors],
            "ef_mae_per_beat": float(np.mean(np.abs(ef_errors))) if ef_errors else None,
            "ef_within_3_points": float(np.mean(np.abs(ef_errors) <= 3)) if ef_errors else None,
            "unet_column_ef_error_per_beat": [round(e, 2) for e in unet_errors],
            "unet_column_ef_mae_per_beat": float(np.mean(np.abs(unet_errors))) if unet_errors else None,
            "mask_pixels_outside_sector": outside, "mean_dice": float(np.mean(dices)), "dice_per_view": dices}


def hit_rate(found: list[int], wanted: list[int]) -> list[bool]:
    return [bool(found) and int(np.min(np.abs(np.array(found) - w))) <= 1 for w in wanted]


def ef_errors(masks: dict, beats: dict, spacing, truth: list[dict]) -> list[float]:
    rows = beat_indices(masks, beats, dict.fromkeys(masks, spacing)).rows
    return [row["EF"] - beat["EF"] for row, beat in zip(rows, truth, strict=False)]


def sources(out: Path, truth: dict, spacings: dict, fps: dict) -> dict:
    """Beats and per-beat EF on the U-Net masks, the smoothed masks' EF at the true frames, LV Dice (ED, all)."""
    hits, pred_errors, post_at_truth, dices = [], [], [], {"pred": [], "post": [], "pred_ed": [], "post_ed": []}
    for name, (true, views) in truth.items():
        beats = true["beats"]
        true_ed, true_es = [b["ED"] for b in beats] + [beats[-1]["next_ED"]], [b["ES"] for b in beats]
        masks = {kind: {view: read_recording(out / name / f"{view.value}_{kind}.nii.gz").frames for view in views}
                 for kind in ("pred", "post")}
        found = {view: find_beats(lv_area_curve(masks["pred"][view], spacings[name]), fps[name]) for view in views}
        for view, (gt, _) in views.items():
            hits += hit_rate(found[view].ed, true_ed) + hit_rate(found[view].es, true_es)
            for kind in ("pred", "post"):
                dices[kind].append(dice(masks[kind][view] == Label.LV, gt == Label.LV))
                dices[f"{kind}_ed"].append(dice(masks[kind][view][true_ed] == Label.LV, gt[true_ed] == Label.LV))
        pred_errors += ef_errors(masks["pred"], {v: f.beats for v, f in found.items()}, spacings[name], beats)
        at_truth = [Beat(b["ED"], b["ES"], b["next_ED"]) for b in beats]
        post_at_truth += ef_errors(masks["post"], dict.fromkeys(views, at_truth), spacings[name], beats)
    mae = lambda errors: float(np.mean(np.abs(errors)))  # noqa: E731
    return {"unet_ed_es_within_1_frame": float(np.mean(hits)),
            "unet_ef_error_per_beat": np.round(pred_errors, 2).tolist(), "unet_ef_mae_per_beat": mae(pred_errors),
            "smoothed_at_true_frames_ef_error": np.round(post_at_truth, 2).tolist(),
            "smoothed_at_true_frames_ef_mae": mae(post_at_truth)} | {
        f"lv_dice_{key}": float(np.mean(values)) for key, values in dices.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=4)
    parser.add_argument("--beats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=12, help="frames of the half beat (ED -> ES)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--method", default="exact")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="the synthetic patients' seed")
    parser.add_argument("--overlays", choices=["both", "with"], default="both",
                        help="with: only the run with overlays (no Dice comparison)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "recordings.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {"settings": vars(args) | {"out": str(args.out)}}
    with tempfile.TemporaryDirectory() as tmp:
        for overlays in (True, False) if args.overlays == "both" else (True,):
            data, out = Path(tmp) / f"data_{overlays}", Path(tmp) / f"out_{overlays}"
            truth = write_patients(data, args.patients, args.beats, args.frames, args.size, overlays, args.seed)
            start = time.perf_counter()
            summary = run_job(data, out, method=args.method, max_figures=0)
            key = "with_overlays" if overlays else "without_overlays"
            seconds = round(time.perf_counter() - start, 1)
            results[key] = score(out, truth, summary) | {"seconds": seconds,
                                                         "sources": sources(out, truth, *settings(data, truth))}
            print(key, json.dumps(results[key]))
    if "without_overlays" in results:
        with_, without = results["with_overlays"], results["without_overlays"]
        results["dice_change_with_overlays"] = with_["mean_dice"] - without["mean_dice"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
