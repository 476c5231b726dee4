"""Speed and accuracy of the segmentation U-Net; writes benchmarks/results/segment.json.

Speed: frames per second of :func:`echolatent.segment.segment_frames` on 224 x 224 frames, batched and
one frame at a time, with a fixed number of torch threads.
Accuracy: Dice and Hausdorff distance per structure (LV, MYO, EPI = LV + MYO, LA) on camus224's
validation split at ED and ES separately (native 224 x 224 grid, spacing 1: HD in pixels), and on the
half sequences of a synthetic dataset (``echolatent data synth``; HD in mm from the headers).

    python benchmarks/bench_segment.py [--model unet.pt] [--camus ROOT] [--synthetic DIR] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from monai.metrics import compute_dice, compute_hausdorff_distance
from scipy import ndimage as ndi

from echolatent.io.frames import load_frames
from echolatent.labels import Label
from echolatent.measure.agreement import biplane_ef_by_patient, ef_agreement
from echolatent.segment import load_segmenter, segment_frames
from echolatent.train.overlays import draw_overlays, sector_of

ROOT = Path(__file__).resolve().parents[1]
CAMUS = ROOT.parent / "shared" / "data" / "camus224"
STRUCTURES = {"lv": (Label.LV,), "myo": (Label.MYO,), "epi": (Label.LV, Label.MYO), "la": (Label.LA,)}


def score_frames(pred: np.ndarray, truth: np.ndarray, spacing=(1.0, 1.0)) -> dict[str, dict[str, np.ndarray]]:
    """Per-frame Dice and Hausdorff distance (max, in spacing units) for each structure: ``{name: {metric: (T,)}}``."""
    scores = {}
    for name, labels in STRUCTURES.items():
        p = torch.from_numpy(np.isin(pred, labels))[:, None].float()
        t = torch.from_numpy(np.isin(truth, labels))[:, None].float()
        dice = compute_dice(p, t, include_background=True, ignore_empty=False)[:, 0].numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hd = compute_hausdorff_distance(p, t, include_background=True, spacing=list(spacing))[:, 0].numpy()
        hd[~np.isfinite(hd)] = np.nan
        scores[name] = {"dice": dice, "hd": hd}
    return scores


def summarise(scores: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Mean (and median, std) of each metric; NaN HD (empty structure) counted apart."""
    out = {}
    for name, metrics in scores.items():
        out[name] = {
            "dice_mean": float(np.mean(metrics["dice"])),
            "dice_median": float(np.median(metrics["dice"])),
            "dice_std": float(np.std(metrics["dice"])),
            "hd_mean": float(np.nanmean(metrics["hd"])),
            "hd_median": float(np.nanmedian(metrics["hd"])),
            "hd_undefined": int(np.isnan(metrics["hd"]).sum()),
        }
    return out


def camus_accuracy(segmenter, root: Path, subset: str) -> dict:
    """Scores on a CAMUS split at native resolution, by instant; biplane EF against the expert masks' EF."""
    images, masks, ids = load_frames(root, subset)
    pred, _ = segment_frames(segmenter, images, batch_size=16)
    instants = np.array([i.rsplit("_", 1)[1] for i in ids])
    result = {"frames": len(ids), "subset": subset, "units_hd": "pixels (camus224 spacing is unknown, headers 1.0)"}
    for instant in ("ED", "ES"):
        keep = instants == instant
        result[instant] = summarise(score_frames(pred[keep], masks[keep]))
    result["all"] = summarise(score_frames(pred, masks))
    result["ef_biplane"] = {
        "method": "Simpson biplane (20 disks) from the ED/ES masks of both views, predicted vs expert; EF points",
        **ef_agreement(biplane_ef_by_patient(pred, ids), biplane_ef_by_patient(masks, ids)),
    }
    return result


def _pieces_outside(foreground: np.ndarray, outside: np.ndarray) -> int:
    """Pixels of the connected pieces of ``foreground (H, W)`` that lie wholly in ``outside (H, W)``."""
    pieces, count = ndi.label(foreground)
    if count == 0:
        return 0
    touching = np.unique(pieces[foreground & ~outside])
    return int((foreground & ~np.isin(pieces, touching)).sum())


def overlay_check(segmenter, root: Path, subset: str, seed: int = 0) -> dict:
    """Real frames with screen overlays drawn outside their sector (U-Net alone, no sector mask): predicted
    heart pixels on the overlays, in pieces with no pixel inside the sector, and outside the sector at all
    (CAMUS experts themselves draw about 3 % of the heart outside the fan's convex hull, near the apex, so
    that count is not zero with or without overlays); LV/EPI/LA Dice with and without the overlays."""
    images, masks, _ids = load_frames(root, subset)
    rng = np.random.default_rng(seed)
    drawn_images, outside, overlay = [], [], []
    for image, mask in zip(images, masks, strict=True):
        drawn, on = draw_overlays(image.astype(np.float32) / 255.0, rng, keep=mask > 0, p_each=1.0)
        drawn_images.append(np.round(drawn * 255).astype(np.uint8))
        outside.append(~sector_of(image.astype(np.float32)))
        overlay.append(on)
    pred_clean, _ = segment_frames(segmenter, images, batch_size=16)
    pred_drawn, _ = segment_frames(segmenter, np.stack(drawn_images), batch_size=16)
    outside, overlay = np.stack(outside), np.stack(overlay)
    detached = [_pieces_outside(p > 0, o) for p, o in zip(pred_drawn, outside, strict=True)]
    dice = {
        label: {k: summarise(score_frames(p, masks))[label]["dice_mean"] for k, p in
                (("clean", pred_clean), ("overlays", pred_drawn))}
        for label in ("lv", "epi", "la")
    }
    return {
        "frames": len(images),
        "overlay_pixels": int(overlay.sum()),
        "pred_on_overlay_pixels": int(((pred_drawn > 0) & overlay).sum()),
        "pred_pixels_in_pieces_outside_sector": int(sum(detached)),
        "outside_pixels_overlays": int(((pred_drawn > 0) & outside).sum()),
        "outside_pixels_clean": int(((pred_clean > 0) & outside).sum()),
        "frames_with_outside_pixels": int((((pred_drawn > 0) & outside).sum(axis=(1, 2)) > 0).sum()),
        "dice": dice,
    }


def synthetic_accuracy(segmenter, root: Path) -> dict:
    """Scores on every frame of the (half) sequences of a synthetic dataset (all patients)."""
    from echolatent.io.camus import find_sequences, load_sequence

    refs = [r for r in find_sequences(root, kinds=("half_sequence",), require_image=True) if r.mask is not None]
    per_frame: dict[str, dict[str, list]] = {name: {"dice": [], "hd": []} for name in STRUCTURES}
    for ref in refs:
        seq = load_sequence(ref)
        pred, _ = segment_frames(segmenter, seq.image, batch_size=16)
        for name, metrics in score_frames(pred, seq.mask, seq.spacing).items():
            for metric, values in metrics.items():
                per_frame[name][metric].append(values)
    scores = {n: {m: np.concatenate(v) for m, v in ms.items()} for n, ms in per_frame.items()}
    return {
        "root": str(root),
        "sequences": len(refs),
        "frames": int(len(scores["lv"]["dice"])),
        "units_hd": "mm",
        **summarise(scores),
    }


def speed(segmenter, frames: np.ndarray, batch_size: int, repeats: int = 2) -> float:
    """Best-of-``repeats`` frames per second of :func:`segment_frames` on ``frames``."""
    segment_frames(segmenter, frames[:batch_size], batch_size=batch_size)  # warm-up
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        segment_frames(segmenter, frames, batch_size=batch_size)
        best = min(best, time.perf_counter() - start)
    return float(len(frames) / best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="U-Net .pt file (default: shipped weights)")
    parser.add_argument("--camus", type=Path, default=CAMUS if (CAMUS / "database_nifti").is_dir() else None)
    parser.add_argument("--subset", default="validation")
    parser.add_argument("--synthetic", type=Path, default=None, help="synthetic dataset root to score")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "segment.json")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    segmenter = load_segmenter(args.model)
    result = {
        "model": str(segmenter.path),
        "model_meta": segmenter.meta,
        "threads": args.threads,
        "input_size": segmenter.config.input_size,
    }
    if not args.no_speed:
        frames = np.random.default_rng(0).integers(0, 256, (32, 224, 224), dtype=np.uint8)
        result["speed_224"] = {
            "frames_per_s_batch16": speed(segmenter, frames, 16),
            "frames_per_s_one_at_a_time": speed(segmenter, frames[:8], 1),
        }
        print(json.dumps(result["speed_224"]))
    if args.camus is not None:
        result["camus"] = camus_accuracy(segmenter, args.camus, args.subset)
        print(json.dumps({k: result["camus"][k] for k in ("ED", "ES", "ef_biplane")}, indent=1))
        result["overlays"] = overlay_check(segmenter, args.camus, args.subset)
        print(json.dumps(result["overlays"], indent=1))
    if args.synthetic is not None:
        result["synthetic"] = synthetic_accuracy(segmenter, args.synthetic)
        print(json.dumps(result["synthetic"], indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
