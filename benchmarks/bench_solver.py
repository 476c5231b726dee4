"""Exact vs castor's snake on the same latent trajectories: speed, limits, closeness to the input and to truth.

Trajectories: 16 normalised latent dims over T frames (T = 20, 50, 200), 8 limited (the published castor limits
plus la_area at lv_area's) and 8 free. Each true curve is a smooth cardiac-like cycle (two harmonics, random
phase and amplitude, scaled so it meets its limit); the observed codes add Gaussian noise (sigma 0.03) and
flicker outliers (10 % of frames, sigma 0.1), as frame-by-frame segmentation does. Writes
benchmarks/results/solver.json.

    python benchmarks/bench_solver.py [--sequences 3] [--repeats 20]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per method, before NumPy loads its BLAS

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from echolatent.temporal.exact import ExactSettings, solve_exact
from echolatent.temporal.limits import deviation, max_violation
from echolatent.temporal.snake import solve_snake

PUBLISHED_TAU = [0.016, 0.0969, 0.0262, 0.0229, 0.0321, 0.00456, 0.0110, 0.016]
TAU = np.array(PUBLISHED_TAU + [np.inf] * 8)
LENGTHS = (20, 50, 200)
#: castor's free-dim smoothing (membrane, w = 50) and the minimal change on limited dims.
CASTOR_LIKE = ExactSettings(free_weight=50.0, attr_weight=0.0, penalty="membrane", length_exponent=0.0)
RESULTS = Path(__file__).parent / "results" / "solver.json"


def make_trajectory(length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """-> (truth (T, 16), observed (T, 16)) in normalised latent units."""
    time_axis = np.linspace(0.0, 1.0, length)[:, None]
    phase = rng.uniform(0, 2 * np.pi, (2, 16))
    amplitude = rng.uniform(0.05, 0.3, (2, 16)) * np.array([[1.0], [0.4]])
    truth = 0.5 + amplitude[0] * np.sin(2 * np.pi * time_axis + phase[0])
    truth += amplitude[1] * np.sin(4 * np.pi * time_axis + phase[1])
    excess = np.abs(deviation(truth)).max(axis=0) / (0.9 * TAU)
    truth = 0.5 + (truth - 0.5) / np.maximum(excess, 1.0)
    noise = rng.normal(0, 0.03, truth.shape)
    flicker = rng.random((length, 1)) < 0.1
    noise += flicker * rng.normal(0, 0.1, truth.shape)
    return truth, truth + noise


def rms(a: np.ndarray, b: np.ndarray, dims: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a[..., dims] - b[..., dims]) ** 2)))


def time_call(function, repeats: int) -> tuple[float, float]:
    """Median (CPU seconds of this process, wall seconds) of ``repeats`` calls."""
    cpu, wall = [], []
    for _ in range(repeats):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        function()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return statistics.median(cpu), statistics.median(wall)


def evaluate(name: str, solver, observed: list, truth: list, repeats: int) -> dict:
    """Median seconds per sequence (one sequence per call) and accuracy figures of one method."""
    limited, free = np.isfinite(TAU), np.isinf(TAU)
    cpu, wall, outputs = [], [], []
    for z in observed:
        outputs.append(solver(z))
        seconds = time_call(lambda z=z: solver(z), repeats)
        cpu.append(seconds[0])
        wall.append(seconds[1])
    out, obs, true = np.stack(outputs), np.stack(observed), np.stack(truth)
    return {
        "method": name,
        "cpu_seconds_per_sequence": statistics.median(cpu),
        "wall_seconds_per_sequence": statistics.median(wall),
        "max_violation": max(max_violation(o, TAU) for o in outputs),
        "rms_to_observed_limited": rms(out, obs, limited),
        "rms_to_observed_all": rms(out, obs, np.ones(16, bool)),
        "rms_to_truth_limited": rms(out, true, limited),
        "rms_to_truth_free": rms(out, true, free),
        "observed_rms_to_truth": rms(obs, true, np.ones(16, bool)),
    }


METHODS = {
    "snake": (lambda z: solve_snake(z, TAU), 1),
    "exact_minimal": (lambda z: solve_exact(z, TAU, CASTOR_LIKE), 20),
    "exact": (lambda z: solve_exact(z, TAU), 20),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=3, help="sequences per length")
    parser.add_argument("--repeats", type=int, default=20, help="timing repeats of the exact solver")
    parser.add_argument("--skip-snake", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows = []
    for length in LENGTHS:
        pairs = [make_trajectory(length, rng) for _ in range(args.sequences)]
        truth, observed = [p[0] for p in pairs], [p[1] for p in pairs]
        by_method = {}
        for name, (solver, repeats) in METHODS.items():
            if name == "snake" and args.skip_snake:
                continue
            by_method[name] = evaluate(name, solver, observed, truth, repeats if name == "snake" else args.repeats)
            print(length, by_method[name], flush=True)
        batch = np.stack(observed * max(1, 32 // len(observed)))
        batched = time_call(lambda batch=batch: solve_exact(batch, TAU), 5)[0] / len(batch)
        row = {
            "T": length,
            "sequences": args.sequences,
            "methods": by_method,
            "exact_batched_cpu_seconds_per_sequence": batched,
        }
        if "snake" in by_method:
            snake, exact = by_method["snake"], by_method["exact"]
            row["speedup_cpu"] = snake["cpu_seconds_per_sequence"] / exact["cpu_seconds_per_sequence"]
            row["speedup_wall"] = snake["wall_seconds_per_sequence"] / exact["wall_seconds_per_sequence"]
            row["speedup_cpu_batched"] = snake["cpu_seconds_per_sequence"] / batched
            row["exact_violation_le_snake"] = exact["max_violation"] <= snake["max_violation"]
            row["exact_minimal_closer_to_observed"] = (
                by_method["exact_minimal"]["rms_to_observed_limited"] < snake["rms_to_observed_limited"]
            )
        rows.append(row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    notes = {
        "machine": f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} at the end (shared machine)",
        "timing": "median over calls; CPU seconds of this process (OMP_NUM_THREADS=1) and wall seconds",
        "exact": "default settings (curvature penalty, weights 3 at 20 frames scaled by (T/20)^3, hard limits)",
        "exact_minimal": "castor's free-dim smoothing (membrane w=50) + minimal change on limited dims",
    }
    RESULTS.write_text(json.dumps({"tau": PUBLISHED_TAU, "notes": notes, "lengths": rows}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
