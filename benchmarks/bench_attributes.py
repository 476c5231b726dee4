"""Attributes that hold on every heart, and GLS on synthetic hearts; writes benchmarks/results/attributes.json.

1. Every camus224 validation expert mask (ED/ES, 2CH/4CH), rotated by each of ANGLES degrees and resampled by
   each of SCALES (``tests/measure/measure_helpers.transform_labels``: one-hot warped bilinearly on a 2x finer
   grid a quarter pixel off the input grid, area-averaged, argmax): attributes defined, relative change of base
   width and length against the unrotated mask at the same scale (max, 99th percentile, mean, count over 3 % of
   the 200 masks per angle; ``worst`` per scale over all angles), orientation change minus the rotation.
2. Attributes defined on the 1800 camus224 expert masks and on every frame of the synthetic sequences of
   ``echolatent data synth OUT --size 512`` (10 patients, 20 frames, seed 0).
3. GLS at ES (mean of 4CH and 2CH) of those synthetic patients against their true EF (Spearman), and of larger
   cohorts (``--cohort`` patients, 256 px, ED and ES only, seeds ``--seeds``), one Spearman per seed.

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/bench_attributes.py [--stride 1] [--cohort 24] [--seeds 5]
        [--only gls]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from echolatent.files import write_json_atomic
from echolatent.io.frames import load_frames
from echolatent.measure.attributes import ATTRIBUTES, measure_attributes
from echolatent.measure.strain import global_longitudinal_strain
from echolatent.synth.patient import synthesize_patient

ROOT = Path(__file__).resolve().parents[1]
CAMUS = ROOT.parent / "shared" / "data" / "camus224"
sys.path.insert(0, str(ROOT / "tests" / "measure"))
from measure_helpers import transform_labels  # noqa: E402  (the tests' transform, one definition)

ANGLES = (-40, -20, 0, 20, 40)
SCALES = (0.5, 1.0, 2.3)


def _undefined(values: dict[str, np.ndarray]) -> dict[str, int]:
    return {name: int(np.isnan(values[name]).sum()) for name in ATTRIBUTES}


def rotation_grid(masks: np.ndarray) -> dict:
    """Per scale and angle: undefined counts, base width / length changes (%), orientation error (degrees)."""
    out = {}
    for scale in SCALES:
        measured = {angle: measure_attributes(transform_labels(masks, angle, scale)).values for angle in ANGLES}
        ref = measured[0]
        for angle in ANGLES:
            values = measured[angle]
            row = {"undefined": _undefined(values)}
            for name in ("lv_base_width", "lv_length"):
                change = np.abs(values[name] / ref[name] - 1) * 100
                row[name] = {"max_pct": float(np.nanmax(change)), "p99_pct": float(np.nanpercentile(change, 99)),
                             "mean_pct": float(np.nanmean(change)), "over_3pct": int((change > 3).sum())}
            error = np.abs(values["lv_orientation"] - ref["lv_orientation"] - angle)
            row["lv_orientation"] = {"max_error_deg": float(error.max()), "over_2deg": int((error > 2).sum())}
            out[f"scale {scale} angle {angle}"] = row
            print(f"scale {scale} angle {angle:4d}: {json.dumps(row)}", flush=True)
        out[f"scale {scale} worst"] = _worst([out[f"scale {scale} angle {angle}"] for angle in ANGLES if angle])
    return out


def _worst(rows: list[dict]) -> dict:
    """The worst of the rotated cells of one scale: largest changes (%), orientation error, counts over the bounds."""
    worst = {name: {"max_pct": max(r[name]["max_pct"] for r in rows), "p99_pct": max(r[name]["p99_pct"] for r in rows),
                    "over_3pct": sum(r[name]["over_3pct"] for r in rows)} for name in ("lv_base_width", "lv_length")}
    worst["lv_orientation"] = {"max_error_deg": max(r["lv_orientation"]["max_error_deg"] for r in rows),
                               "over_2deg": sum(r["lv_orientation"]["over_2deg"] for r in rows)}
    worst["undefined"] = sum(sum(r["undefined"].values()) for r in rows)
    return worst


def synthetic(size: int = 512, patients: int = 10, frames: int = 20, seed: int = 0) -> dict:
    """Attributes defined on every frame, and GLS at ES against the true EF, of ``data synth``'s patients."""
    undefined = dict.fromkeys(ATTRIBUTES, 0)
    rows, total = [], 0
    for index in range(1, patients + 1):
        patient = synthesize_patient(index, frames=frames, size=size, seed=seed, images=False)
        gls = {}
        for view, synthetic_view in patient.views.items():
            masks = synthetic_view.masks
            total += len(masks)
            for name, count in _undefined(measure_attributes(masks, patient.spacing).values).items():
                undefined[name] += count
            strain = global_longitudinal_strain(masks, patient.spacing, ed=0, es=len(masks) - 1)
            gls[view.value] = {"gls_es": strain.gls_es, "gls_peak": strain.gls_peak}
        rows.append({"patient": patient.name, "ef": patient.ef, "shortening": patient.heart.shortening, "views": gls,
                     "gls_es_mean": float(np.mean([v["gls_es"] for v in gls.values()]))})
    ef = [row["ef"] for row in rows]
    magnitude = [-row["gls_es_mean"] for row in rows]
    return {"size": size, "seed": seed, "frames": total, "undefined": undefined, "patients": rows,
            "all_gls_negative": bool(all(row["gls_es_mean"] < 0 for row in rows)),
            "spearman_ef_vs_minus_gls": float(spearmanr(ef, magnitude).statistic),
            "gls_es_range": [-max(magnitude), -min(magnitude)]}


def cohorts(patients: int, seeds: int) -> dict:
    """GLS at ES against the true EF on ``seeds`` cohorts of ``patients`` (256 px, ED and ES): Spearman per seed."""
    out = {}
    for seed in range(seeds):
        cohort = synthetic(size=256, patients=patients, frames=2, seed=seed)
        out[f"seed {seed}"] = {key: cohort[key] for key in ("all_gls_negative", "spearman_ef_vs_minus_gls",
                                                              "gls_es_range")}
        print(f"seed {seed}: {json.dumps(out[f'seed {seed}'])}", flush=True)
    values = [row["spearman_ef_vs_minus_gls"] for row in out.values()]
    return {"patients": patients, "size": 256, "seeds": out, "spearman_min": min(values),
            "spearman_mean": float(np.mean(values))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stride", type=int, default=1, help="every n-th validation mask in the rotation grid")
    parser.add_argument("--cohort", type=int, default=24, help="patients of each larger GLS cohort")
    parser.add_argument("--seeds", type=int, default=5, help="larger GLS cohorts (seeds 0, 1, ...)")
    parser.add_argument("--only", choices=["gls"], help="gls: only the larger GLS cohorts, merged into --out")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "attributes.json")
    args = parser.parse_args()
    start = time.perf_counter()
    cohort = cohorts(args.cohort, args.seeds)
    if args.only == "gls":
        result = json.loads(args.out.read_text()) if args.out.is_file() else {}
        result["synthetic_cohort"] = cohort
        write_json_atomic(result, args.out)
        print(f"wrote {args.out}: Spearman min {cohort['spearman_min']:.3f}")
        return
    result = {"synthetic": synthetic(), "synthetic_cohort": cohort}
    _, validation, _ = load_frames(CAMUS, "validation")
    _, every, _ = load_frames(CAMUS, None)
    result["camus224_all"] = {"masks": len(every), "undefined": _undefined(measure_attributes(every).values)}
    print(json.dumps(result["camus224_all"]), flush=True)
    result["rotation_grid"] = {"masks": len(validation[:: args.stride]), "angles": ANGLES, "scales": SCALES,
                               "cells": rotation_grid(validation[:: args.stride])}
    result["seconds"] = time.perf_counter() - start
    write_json_atomic(result, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
