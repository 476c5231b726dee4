"""Smoothing methods on corrupted synthetic sequences: temporal consistency, validity, accuracy, EF, speed.

Writes a synthetic dataset (``echolatent.synth``), corrupts its expert masks at each severity
(``echolatent.synth.corrupt``, the segmentation-like error model), optionally segments its images with the
shipped U-Net, then runs none / gaussian / snake / exact on every half sequence and measures the outputs:

* % sequences passing the image-space temporal check (thresholds stored with the model, else bounds of the
  CAMUS-224 expert masks at the model's grid, else of the truth masks; published taus), % frames anatomically
  valid (the measure package's default thresholds); the truth's own rates are reported beside;
* mean Dice and Hausdorff distance (mm) against the truth, per structure (LV, MYO, LA) and their mean;
* biplane EF error against truth.json; seconds per sequence.

Writes benchmarks/results/smoothing.json (updated after every severity and method).

The exact method runs once per ``--decodes`` mode: "residual" (the Smoother's default, reported as ``exact``)
and/or "full" (reported as ``exact-full``); ``decoded`` counts how the outputs were decoded.

    python benchmarks/bench_smoothing.py [--vae PATH] [--patients 16] [--frames 16] [--size 128]
        [--methods none exact] [--decodes residual full]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")

import argparse
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from echolatent.io.camus import find_sequences, load_sequence
from echolatent.labels import View
from echolatent.measure.clinical import clinical_indices
from echolatent.measure.scores import segmentation_scores
from echolatent.measure.sequence import temporal_check
from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import check_validity
from echolatent.resample import resize_labels
from echolatent.temporal.strategy import make_smoother
from echolatent.temporal.thresholds import reference_thresholds, stored_thresholds

RESULTS = Path(__file__).parent / "results" / "smoothing.json"
CAMUS224 = Path(__file__).resolve().parents[2] / "shared" / "data" / "camus224"
STRUCTURES = ("LV", "MYO", "LA")
log = logging.getLogger("bench_smoothing")


def make_data(work: Path, args) -> tuple[Path, dict]:
    """Synthetic dataset under work/data -> (root, truth.json patients)."""
    from echolatent.synth.dataset import write_synthetic_dataset

    root = work / "data"
    if not (root / "truth.json").is_file():
        write_synthetic_dataset(
            root, patients=args.patients, frames=args.frames, size=args.size, seed=args.seed, previews=0
        )
    return root, json.loads((root / "truth.json").read_text())["patients"]


def make_predictions(root: Path, work: Path, source: str, seed: int) -> Path:
    """``_pred`` masks of ``source``: a corruption severity, or "unet" (the shipped U-Net on the images)."""
    out = work / f"pred_{source}"
    if out.is_dir():
        return out
    if source == "unet":
        from echolatent.jobs.segment import segment_ref
        from echolatent.segment import load_segmenter

        segmenter = load_segmenter()
        for ref in find_sequences(root, kinds=("half_sequence",), require_image=True):
            segment_ref(ref, out, segmenter)
    else:
        from echolatent.synth.corrupt import corrupt_dataset

        corrupt_dataset(root, out, source, seed)
    return out


def load_pairs(pred_root: Path, root: Path) -> list:
    """[(pred EchoSequence, truth EchoSequence)] of the half sequences."""
    truths = {r.name: r for r in find_sequences(root, kinds=("half_sequence",)) if r.mask is not None}
    pairs = []
    for ref in find_sequences(pred_root, kinds=("half_sequence",), mask_suffix="_pred"):
        if ref.mask is not None and ref.name in truths:
            pairs.append((load_sequence(ref, image=False), load_sequence(truths[ref.name], image=False)))
    return pairs


def evaluation_thresholds(vae, reference: Path | None, truths: list[np.ndarray], grid: int) -> TemporalThresholds:
    """Stored with the model, else bounds of a reference dataset's expert masks (CAMUS-224), else of the truth
    sequences, all at the model's grid; published taus."""
    stored = stored_thresholds(vae)
    if stored is not None:
        return stored
    if reference is not None and (reference / "database_nifti").is_dir():
        return reference_thresholds(reference, grid)
    log.warning("no reference dataset: bounds from the truth sequences (a narrow range, a strict check)")
    thresholds = TemporalThresholds.from_reference([resize_labels(m, (grid, grid)) for m in truths])
    thresholds.note = f"bounds from the {len(truths)} truth sequences at {grid}x{grid}, published taus"
    return thresholds


def ef_errors(outputs: dict, pairs: list, truth_json: dict) -> list[float]:
    """|EF(output) - EF(truth.json)| per patient with both views (ED = first frame, ES = last)."""
    by_patient: dict = {}
    for (pred, _), masks in zip(pairs, outputs.values(), strict=True):
        if pred.ref.view is not None:
            by_patient.setdefault(pred.ref.patient, {})[pred.ref.view] = (masks, pred.spacing)
    errors = []
    for patient, views in by_patient.items():
        if set(views) != {View.A2C, View.A4C} or patient not in truth_json:
            continue
        try:
            indices = clinical_indices(
                {v: m[0] for v, (m, _) in views.items()},
                {v: m[-1] for v, (m, _) in views.items()},
                {v: s for v, (_, s) in views.items()},
            )
        except ValueError:
            continue
        if np.isfinite(indices.ef):
            errors.append(abs(indices.ef - float(truth_json[patient]["EF"])))
    return errors


def run_method(method: str, pairs: list, smoother_args: dict, truth_json: dict, limit: int | None) -> dict:
    smoother = make_smoother(method, **smoother_args)
    outputs, seconds, temporal_ok, valid, frames = {}, [], [], 0, 0
    decoded: dict[str, int] = {}
    dice = {s: [] for s in STRUCTURES}
    hd = {s: [] for s in STRUCTURES}
    rounds = []
    for pred, truth in pairs[:limit]:
        result = smoother(pred.mask, pred.spacing)
        outputs[pred.ref.name] = result.masks
        report = result.report
        seconds.append(report.seconds)
        temporal_ok.append(bool(report.temporal_ok))
        valid += report.valid_frames
        frames += len(result.masks)
        rounds.append(report.rounds)
        if report.decoded is not None:
            decoded[report.decoded] = decoded.get(report.decoded, 0) + 1
        scores = segmentation_scores(result.masks, truth.mask, pred.spacing)
        for s in STRUCTURES:
            dice[s] += scores[s]["dice"].tolist()
            hd[s] += [v for v in scores[s]["hd_mm"].tolist() if np.isfinite(v)]
    used = pairs[: len(outputs)]
    errors = ef_errors(outputs, used, truth_json)
    per_dice = {s: float(np.mean(v)) for s, v in dice.items()}
    per_hd = {s: float(np.mean(v)) if v else None for s, v in hd.items()}
    return {
        "sequences": len(outputs),
        "temporal_pass_pct": 100 * float(np.mean(temporal_ok)),
        "valid_frames_pct": 100 * valid / frames,
        "dice_mean": float(np.mean(list(per_dice.values()))),
        "dice": per_dice,
        "hd_mm_mean": float(np.mean([v for v in per_hd.values() if v is not None])),
        "hd_mm": per_hd,
        "ef_mae": float(np.mean(errors)) if errors else None,
        "ef_patients": len(errors),
        "seconds_per_sequence": statistics.mean(seconds),
        "rounds_mean": statistics.mean(rounds),
        "decoded": decoded,
    }


def variants(method: str, decodes: list[str]) -> list[tuple[str, str | None]]:
    """[(result name, decode mode)] of a method: one per decode mode for exact ("exact" for residual)."""
    if method != "exact":
        return [(method, None)]
    return [("exact" if decode == "residual" else f"exact-{decode}", decode) for decode in decodes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vae", type=Path, default=None, help="shape model (default: shipped AR-VAE)")
    parser.add_argument("--patients", type=int, default=16, help="synthetic patients (2 sequences each)")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sources",
        nargs="+",
        default=["low", "medium", "high"],
        help="corruption severities, and/or 'unet' for the shipped U-Net's predictions",
    )
    parser.add_argument("--methods", nargs="+", default=["none", "gaussian", "exact", "snake"])
    parser.add_argument("--decodes", nargs="+", default=["residual", "full"], help="exact method's decode modes")
    parser.add_argument("--blends", nargs="+", type=float, default=None, help="residual decode's blend weights")
    parser.add_argument("--rounds", type=int, default=None, help="tightening rounds (default: the Smoother's)")
    parser.add_argument("--tighten", type=float, default=None, help="tightening factor (default: the Smoother's)")
    parser.add_argument("--snake-limit", type=int, default=None, help="snake on the first N sequences only")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--reference", type=Path, default=CAMUS224, help="CAMUS root for the temporal bounds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(2)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_smoothing_"))
    root, truth_json = make_data(work, args)
    from echolatent.latent.codec import DEFAULT_MODEL, load_model

    model = load_model(args.vae)
    model_file = args.vae or DEFAULT_MODEL
    stat = Path(model_file).stat()
    results = {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "model_file": {"path": str(model_file), "bytes": stat.st_size, "mtime": time.ctime(stat.st_mtime)},
        "sources": {},
    }
    thresholds = None
    for source in args.sources:
        pairs = load_pairs(make_predictions(root, work, source, args.seed), root)
        truths = [t.mask for _, t in pairs]
        thresholds = thresholds or evaluation_thresholds(args.vae, args.reference, truths, model.config.input_size)
        truth_valid = float(check_validity(np.concatenate(truths)).valid.mean())
        truth_temporal = [temporal_check(t.mask, t.spacing, thresholds).sequence_ok for _, t in pairs]
        entry = {
            "thresholds": thresholds.note,
            "truth_valid_frames_pct": 100 * truth_valid,
            "truth_temporal_pass_pct": 100 * float(np.mean(truth_temporal)),
            "methods": {},
        }
        results["sources"][source] = entry
        for method in args.methods:
            for name, decode in variants(method, args.decodes):
                start = time.perf_counter()
                smoother_args = {"model": model, "thresholds": thresholds}
                if method == "exact":
                    tuning = {"max_rounds": args.rounds, "tighten": args.tighten, "decode": decode}
                    if decode == "residual" and args.blends is not None:
                        tuning["blends"] = tuple(args.blends)
                    smoother_args.update({k: v for k, v in tuning.items() if v is not None})
                limit = args.snake_limit if method == "snake" else None
                entry["methods"][name] = run_method(method, pairs, smoother_args, truth_json, limit)
                elapsed = time.perf_counter() - start
                print(source, name, f"{elapsed:.0f}s", json.dumps(entry["methods"][name]), flush=True)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
