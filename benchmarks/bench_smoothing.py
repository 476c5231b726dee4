"""Smoothing methods judged against the truth: two corruption models, real anatomy and synthetic sequences.

Truth sequences (``smoothing_data``): ``camus`` (ED -> ES interpolated between CAMUS-224 expert ED and ES masks of
the validation patients, 224 x 224), ``synthetic`` (the synthetic heart's half sequences) and ``multibeat``
(several synthetic cycles in a row, 100-300 frames). Each is corrupted by ``castor`` (echolatent.synth.corrupt,
per-frame errors) and ``drift`` (echolatent.synth.corrupt_drift: slow over/under-segmentation, elastic noise,
wrong frames, MYO/LA swaps) at each severity, then smoothed by each method. Per source, corruption, severity and
method:

* consistent_pct: sequences passing the temporal check with the published taus at the output's own resolution (the
  model grid's bounds carried to it; multi-beat sequences: their turns, found on the input's LV area curve as ``run``
  finds them, are left free of the limits by the smoother and the check alike); consistent_grid_pct: the same at the
  shape model's grid (the masks resampled to it: a second measurement); margin_max / margin_mean: largest
  |d(t)| / tau at the output's resolution (1 = on the limit), worst and mean over sequences;
* valid_pct: frames passing the anatomical validity check (default thresholds of the output's grid);
* dice, hd (mean of LV, MYO, LA; mm, or pixels for CAMUS-224 whose spacing is unknown);
* ef_error: |EF(output) - EF(truth)| (biplane, first and last frames) per patient with both views;
* roughness, curve_error: in tau units at the output's resolution (``smoothing_data``);
* seconds: CPU seconds per sequence (process time, one torch thread: one core's time on a shared machine).

    python benchmarks/bench_smoothing.py [--quick] [--sources camus synthetic multibeat]
        [--corruptions castor drift] [--severities low medium high] [--methods none gaussian exact]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from smoothing_data import CORRUPTIONS, camus_cases, corrupt, curve_measures, normalised_curves, synthetic_cases

from echolatent.files import write_json_atomic
from echolatent.labels import View
from echolatent.measure.beats import find_beats, lv_area_curve
from echolatent.measure.clinical import clinical_indices
from echolatent.measure.scores import segmentation_scores
from echolatent.measure.temporal import turning_frames
from echolatent.measure.validity import check_validity
from echolatent.temporal.checks import margin_used, temporal_reports, thresholds_at
from echolatent.temporal.strategy import make_smoother
from echolatent.temporal.thresholds import stored_thresholds

RESULTS = Path(__file__).parent / "results" / "smoothing.json"
CAMUS224 = Path(__file__).resolve().parents[2] / "shared" / "data" / "camus224"
STRUCTURES = ("LV", "MYO", "LA")
log = logging.getLogger("bench_smoothing")


def make_cases(source: str, args) -> list:
    if source == "camus":
        return camus_cases(args.camus, args.sequences, args.frames)
    if source == "synthetic":
        return synthetic_cases(args.sequences, args.frames, args.size, args.seed)
    if source == "multibeat":
        return synthetic_cases(max(2, args.sequences // 4), args.beat_frames, args.size, args.seed, args.beats)
    raise ValueError(f"unknown source {source!r}")


def ef_value(masks: dict, spacing: dict) -> float:
    """Biplane EF (%) from ``{view: (T, H, W)}`` (first frame ED, last ES), NaN when not measurable."""
    try:
        return float(
            clinical_indices({v: m[0] for v, m in masks.items()}, {v: m[-1] for v, m in masks.items()}, spacing).ef
        )
    except ValueError:
        return float("nan")


def ef_errors(cases: list, outputs: list) -> list[float]:
    """|EF(output) - EF(truth)| per patient with both views."""
    patients: dict = {}
    for case, out in zip(cases, outputs, strict=True):
        patients.setdefault(case.patient, []).append((View(case.view), case, out))
    errors = []
    for views in patients.values():
        if len(views) != 2:
            continue
        spacing = {v: c.spacing for v, c, _ in views}
        truth = ef_value({v: c.truth for v, c, _ in views}, spacing)
        found = ef_value({v: o for v, _, o in views}, spacing)
        if np.isfinite(truth) and np.isfinite(found):
            errors.append(abs(found - truth))
    return errors


def input_turns(masks: np.ndarray, case, multi: bool) -> np.ndarray | None:
    """``(T,)`` bool frames at the turns of a multi-beat input, found on its LV area curve as ``run`` finds them
    (:func:`echolatent.measure.beats.find_beats`); None for a half cycle (ED first, ES last: no turn inside)."""
    return turning_frames(find_beats(lv_area_curve(masks, case.spacing)).instants()) if multi else None


def measure(out: np.ndarray, case, thresholds, truth_curves: dict, unchecked: np.ndarray | None = None) -> dict:
    """The per-sequence measures of an output (module docstring); ``unchecked``: frames not held to tau."""
    reports = temporal_reports(out, case.spacing, thresholds, unchecked=unchecked)
    scores = segmentation_scores(out, case.truth, case.spacing)
    hd = [v for s in STRUCTURES for v in scores[s]["hd_mm"].tolist() if np.isfinite(v)]
    curves = curve_measures(normalised_curves(out, thresholds_at(thresholds, out.shape[1:])), truth_curves)
    return {
        "consistent": reports[0].sequence_ok,
        "consistent_grid": reports[-1].sequence_ok,
        "margin": margin_used(reports[0], thresholds.tau),
        "valid": check_validity(out).valid,
        "dice": float(np.mean([np.mean(scores[s]["dice"]) for s in STRUCTURES])),
        "hd": float(np.mean(hd)) if hd else float("nan"),
        **curves,
    }


def summarise(rows: list[dict], errors: list[float], seconds: list[float]) -> dict:
    valid = np.concatenate([r["valid"] for r in rows])
    margins = [r["margin"] for r in rows]
    return {
        "sequences": len(rows),
        "consistent_pct": 100 * float(np.mean([r["consistent"] for r in rows])),
        "consistent_grid_pct": 100 * float(np.mean([r["consistent_grid"] for r in rows])),
        "margin_max": float(np.max(margins)),
        "margin_mean": float(np.mean(margins)),
        "valid_pct": 100 * float(valid.mean()),
        "dice": float(np.mean([r["dice"] for r in rows])),
        "hd": float(np.nanmean([r["hd"] for r in rows])),
        "ef_error": float(np.mean(errors)) if errors else None,
        "roughness": float(np.mean([r["roughness"] for r in rows])),
        "curve_error": float(np.mean([r["curve_error"] for r in rows])),
        "seconds": float(np.mean(seconds)) if seconds else 0.0,
    }


def run_setting(cases, truth_curves, corruption, severity, smoothers, thresholds, args) -> dict:
    """{method: summary} for one corruption model and severity (``"truth"``: the truth itself)."""
    inputs = [corrupt(case, corruption, severity, args.seed) for case in cases]
    multi = len(cases[0].truth) > args.frames
    turns = [input_turns(masks, case, multi) for case, masks in zip(cases, inputs, strict=True)]
    entry = {}
    for name, smoother in smoothers.items():
        rows, outputs, seconds = [], [], []
        for case, masks, curves, unchecked in zip(cases, inputs, truth_curves, turns, strict=True):
            start = time.process_time()
            out = smoother(masks, case.spacing, unchecked=unchecked).masks if smoother is not None else masks
            seconds.append(time.process_time() - start)
            outputs.append(out)
            rows.append(measure(out, case, thresholds, curves, unchecked))
        entry[name] = summarise(rows, [] if multi else ef_errors(cases, outputs), seconds)
        print(corruption, severity, name, json.dumps({k: _round(v) for k, v in entry[name].items()}), flush=True)
    return entry


def _round(value):
    return round(value, 4) if isinstance(value, float) else value


COLUMNS = (
    ("consistent_pct", "consistent %", "{:.0f}"),
    ("consistent_grid_pct", "at 96 px %", "{:.0f}"),
    ("margin_max", "max abs(d)/tau", "{:.2f}"),
    ("valid_pct", "valid %", "{:.1f}"),
    ("dice", "Dice", "{:.4f}"),
    ("hd", "HD", "{:.2f}"),
    ("ef_error", "EF err", "{:.2f}"),
    ("roughness", "roughness", "{:.3f}"),
    ("curve_error", "curve err", "{:.3f}"),
    ("seconds", "CPU s", "{:.2f}"),
)


def markdown(results: dict) -> str:
    """Markdown tables of a results dict, one per source (truth row first)."""
    lines = []
    for source, entry in results["sources"].items():
        lines += [f"### {source} ({entry['frames']} frames)", ""]
        lines.append("| setting | method | " + " | ".join(title for _, title, _ in COLUMNS) + " |")
        lines.append("|---|---|" + "---|" * len(COLUMNS))
        settings = [("truth", {"truth": entry["truth"]})] + [(k, v) for k, v in entry.items() if "/" in k]
        for setting, methods in settings:
            for method, row in methods.items():
                cells = [fmt.format(row[key]) if row.get(key) is not None else "-" for key, _, fmt in COLUMNS]
                lines.append(f"| {setting} | {method} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 sequences a source, low and high severity only")
    parser.add_argument("--sources", nargs="+", default=["camus", "synthetic", "multibeat"])
    parser.add_argument("--corruptions", nargs="+", default=list(CORRUPTIONS))
    parser.add_argument("--severities", nargs="+", default=["low", "medium", "high"])
    parser.add_argument("--methods", nargs="+", default=["none", "gaussian", "exact"])
    parser.add_argument("--sequences", type=int, default=16, help="sequences per source (both views a patient)")
    parser.add_argument("--frames", type=int, default=20, help="frames ED -> ES")
    parser.add_argument("--size", type=int, default=224, help="synthetic frame size (px)")
    parser.add_argument("--beats", type=int, default=6, help="cycles of a multibeat sequence")
    parser.add_argument("--beat-frames", type=int, default=10, help="frames ED -> ES of each multibeat cycle")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--camus", type=Path, default=CAMUS224)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--markdown", type=Path, default=None, help="print the tables of this results file, no run")
    args = parser.parse_args()
    if args.quick:
        args.sequences, args.severities = min(args.sequences, 4), ["low", "high"]
    return args


def main() -> None:
    args = parse_args()
    if args.markdown is not None:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    thresholds = stored_thresholds(None)
    smoothers = {name: None if name == "none" else make_smoother(name) for name in args.methods}
    results = {"settings": {k: str(v) for k, v in vars(args).items()}, "thresholds": thresholds.note, "sources": {}}
    for source in args.sources:
        cases = make_cases(source, args)
        curves = [normalised_curves(c.truth, thresholds_at(thresholds, c.truth.shape[1:])) for c in cases]
        multi = len(cases[0].truth) > args.frames
        truth = [measure(c.truth, c, thresholds, k, input_turns(c.truth, c, multi)) for c, k in zip(cases, curves,
                                                                                                     strict=True)]
        entry = results["sources"][source] = {"truth": summarise(truth, [], []), "frames": len(cases[0].truth)}
        print(source, "truth", json.dumps({k: _round(v) for k, v in entry["truth"].items()}), flush=True)
        for corruption in args.corruptions:
            for severity in args.severities:
                key = f"{corruption}/{severity}"
                entry[key] = run_setting(cases, curves, corruption, severity, smoothers, thresholds, args)
                write_json_atomic(results, args.out)
    print(f"wrote {args.out}")
    print(markdown(results))


if __name__ == "__main__":
    main()
