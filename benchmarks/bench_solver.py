"""Exact vs castor's snake on the same latent trajectories: speed, limits, closeness to the input and to truth.

Trajectories: 16 normalised latent dims over T frames (T = 20, 50, 200), 8 limited (the published castor limits
plus la_area at lv_area's) and 8 free. Each true curve is a smooth cardiac-like cycle (two harmonics, random
phase and amplitude, scaled so it meets its limit); the observed codes add Gaussian noise (sigma 0.03) and
flicker outliers (10 % of frames, sigma 0.1), as frame-by-frame segmentation does.

Every method smooths the same observed trajectories. Times are medians over calls of one sequence each (snake: one
call per sequence, it takes seconds; exact: ``--repeats`` calls per sequence, interleaved over the sequences), in
CPU seconds of this process and in wall seconds, and for exact also per sequence of a batch of 32 in one call.
The criteria of issue 6 are checked per length and configuration: at least 1000 times faster than snake per single
sequence (CPU and wall), a maximum violation of the limits no larger than snake's, and a smaller RMS distance to
the observed codes than snake's. Writes benchmarks/results/solver.json.

    python benchmarks/bench_solver.py [--sequences 3] [--repeats 200] [--skip-snake] [--out PATH]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per method, before NumPy loads its BLAS

import argparse
import json
import platform
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy

from echolatent.temporal.exact import ExactSettings, solve_exact
from echolatent.temporal.limits import deviation, max_violation
from echolatent.temporal.snake import solve_snake

PUBLISHED_TAU = [0.016, 0.0969, 0.0262, 0.0229, 0.0321, 0.00456, 0.0110, 0.016]
TAU = np.array(PUBLISHED_TAU + [np.inf] * 8)
LENGTHS = (20, 50, 200)
BATCH = 32
SPEEDUP_REQUIRED = 1000.0
#: castor's free-dim smoothing (membrane, w = 50) and the minimal change on limited dims (attr_weight = 0).
CASTOR_LIKE = ExactSettings(free_weight=50.0, attr_weight=0.0, penalty="membrane", length_exponent=0.0)
#: the default curvature penalty with the weights of 20 frames at every length (no length scaling).
FIXED_WEIGHTS = ExactSettings(length_exponent=0.0)
EXACT_CONFIGS = {
    "exact": ExactSettings(),
    "exact_minimal": CASTOR_LIKE,
    "exact_fixed_weights": FIXED_WEIGHTS,
}
DESCRIPTIONS = {
    "exact": "default settings: hard limits plus a curvature penalty, weights 3 (free) and 1.5 (limited dims) at 20 "
    "frames scaled by T/20",
    "exact_minimal": "minimal change on limited dims (attr_weight=0) + castor's free-dim smoothing (membrane w=50)",
    "exact_fixed_weights": "default curvature penalty with weight 3 at every length (length_exponent=0)",
    "snake": "castor's solver (benchmarks compare against it; one call per sequence)",
}
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


def timed(function, argument) -> tuple[float, float, np.ndarray]:
    """(CPU seconds of this process, wall seconds, output) of one call."""
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    output = function(argument)
    return time.process_time() - start_cpu, time.perf_counter() - start_wall, output


def accuracy(outputs: list[np.ndarray], observed: list[np.ndarray], truth: list[np.ndarray]) -> dict:
    limited, free, every = np.isfinite(TAU), np.isinf(TAU), np.ones(len(TAU), dtype=bool)
    out, obs, true = np.stack(outputs), np.stack(observed), np.stack(truth)
    return {
        "max_violation": max(max_violation(o, TAU) for o in outputs),
        "rms_to_observed_all": rms(out, obs, every),
        "rms_to_observed_limited": rms(out, obs, limited),
        "rms_to_truth_all": rms(out, true, every),
        "rms_to_truth_limited": rms(out, true, limited),
        "rms_to_truth_free": rms(out, true, free),
    }


def evaluate_snake(observed: list, truth: list) -> dict:
    cpu, wall, outputs = [], [], []
    for z in observed:
        seconds_cpu, seconds_wall, output = timed(lambda z: solve_snake(z, TAU), z)
        cpu.append(seconds_cpu)
        wall.append(seconds_wall)
        outputs.append(output)
    return {
        "cpu_seconds_per_sequence": statistics.median(cpu),
        "wall_seconds_per_sequence": statistics.median(wall),
        "calls": len(cpu),
        **accuracy(outputs, observed, truth),
    }


def evaluate_exact(settings: ExactSettings, observed: list, truth: list, repeats: int) -> dict:
    """One sequence per call, ``repeats`` calls per sequence (interleaved), then 32 sequences per call."""
    solver = lambda z: solve_exact(z, TAU, settings)  # noqa: E731
    outputs = [solver(z) for z in observed]  # also warms the per-length caches
    cpu, wall = [], []
    for _ in range(repeats):
        for z in observed:
            seconds_cpu, seconds_wall, _ = timed(solver, z)
            cpu.append(seconds_cpu)
            wall.append(seconds_wall)
    batch = np.stack([observed[i % len(observed)] for i in range(BATCH)])
    batched = [timed(solver, batch)[:2] for _ in range(max(3, repeats // 20))]
    return {
        "cpu_seconds_per_sequence": statistics.median(cpu),
        "wall_seconds_per_sequence": statistics.median(wall),
        "calls": len(cpu),
        "batched_cpu_seconds_per_sequence": statistics.median(c for c, _ in batched) / BATCH,
        "batched_wall_seconds_per_sequence": statistics.median(w for _, w in batched) / BATCH,
        **accuracy(outputs, observed, truth),
    }


def criteria(exact: dict, snake: dict) -> dict:
    """Issue 6's criteria for one exact configuration against snake on the same trajectories."""
    speedup = {
        "speedup_cpu": snake["cpu_seconds_per_sequence"] / exact["cpu_seconds_per_sequence"],
        "speedup_wall": snake["wall_seconds_per_sequence"] / exact["wall_seconds_per_sequence"],
        "speedup_cpu_batched": snake["cpu_seconds_per_sequence"] / exact["batched_cpu_seconds_per_sequence"],
        "speedup_wall_batched": snake["wall_seconds_per_sequence"] / exact["batched_wall_seconds_per_sequence"],
    }
    checks = {
        "at_least_1000x_per_sequence_cpu": speedup["speedup_cpu"] >= SPEEDUP_REQUIRED,
        "at_least_1000x_per_sequence_wall": speedup["speedup_wall"] >= SPEEDUP_REQUIRED,
        "violation_le_snake": exact["max_violation"] <= snake["max_violation"],
        "closer_to_observed_all_dims": exact["rms_to_observed_all"] < snake["rms_to_observed_all"],
        "closer_to_observed_limited_dims": exact["rms_to_observed_limited"] < snake["rms_to_observed_limited"],
    }
    checks["all_met"] = all(checks.values())
    return {**speedup, **checks}


def closeness_statement(rows: list[dict]) -> dict:
    """Where default exact is not closer to the observed codes than snake, and which configurations are."""
    closer = {
        name: [row["T"] for row in rows if row["criteria"][name]["closer_to_observed_all_dims"]]
        for name in EXACT_CONFIGS
    }
    both = {
        name: [
            row["T"]
            for row in rows
            if row["criteria"][name]["closer_to_observed_all_dims"]
            and row["criteria"][name]["closer_to_observed_limited_dims"]
        ]
        for name in EXACT_CONFIGS
    }
    lengths = [row["T"] for row in rows]
    failing = []
    for row in rows:
        if row["T"] not in both["exact"]:
            exact, snake = row["methods"]["exact"], row["methods"]["snake"]
            failing.append(
                f"T={row['T']}: RMS to observed, all dims (limited dims): exact {exact['rms_to_observed_all']:.4f} "
                f"({exact['rms_to_observed_limited']:.4f}) vs snake {snake['rms_to_observed_all']:.4f} "
                f"({snake['rms_to_observed_limited']:.4f})"
            )
    return {
        "default_exact_closer_at_every_length": both["exact"] == lengths,
        "default_exact_not_closer": failing,
        "lengths_closer_all_dims": closer,
        "lengths_closer_all_and_limited_dims": both,
        "configurations_closer_at_every_length": [name for name in EXACT_CONFIGS if both[name] == lengths],
    }


def training_running() -> bool:
    try:
        return subprocess.run(["pgrep", "-f", "train vae"], capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=3, help="sequences per length")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per sequence of each exact config")
    parser.add_argument("--skip-snake", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load_start = os.getloadavg()
    rng = np.random.default_rng(0)
    rows = []
    for length in LENGTHS:
        pairs = [make_trajectory(length, rng) for _ in range(args.sequences)]
        truth, observed = [p[0] for p in pairs], [p[1] for p in pairs]
        methods = {}
        if not args.skip_snake:
            methods["snake"] = evaluate_snake(observed, truth)
            print(length, "snake", methods["snake"], flush=True)
        for name, settings in EXACT_CONFIGS.items():
            methods[name] = evaluate_exact(settings, observed, truth, max(10, args.repeats * 20 // length))
            print(length, name, methods[name], flush=True)
        row = {"T": length, "sequences": args.sequences, "methods": methods}
        if "snake" in methods:
            row["criteria"] = {name: criteria(methods[name], methods["snake"]) for name in EXACT_CONFIGS}
        rows.append(row)
    summary = {}
    if not args.skip_snake:
        for name in EXACT_CONFIGS:
            per_length = {row["T"]: row["criteria"][name] for row in rows}
            summary[name] = {
                "all_met_at_every_length": all(c["all_met"] for c in per_length.values()),
                "unmet": {
                    str(length): [key for key, value in c.items() if value is False]
                    for length, c in per_length.items()
                    if not c["all_met"]
                },
            }
        summary["configurations_meeting_every_criterion"] = [
            name for name in EXACT_CONFIGS if summary[name]["all_met_at_every_length"]
        ]
        summary["closer_to_observed_than_snake"] = closeness_statement(rows)
    notes = {
        "started_utc": started,
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPU(s), {platform.processor() or platform.machine()}",
        "load_average_1_5_15_at_start": [round(x, 2) for x in load_start],
        "load_average_1_5_15_at_end": [round(x, 2) for x in os.getloadavg()],
        "training_processes_running_at_end": training_running(),
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__},
        "timing": (
            "medians over calls; CPU seconds of this process (time.process_time, OMP_NUM_THREADS=1) and wall seconds "
            "(time.perf_counter); 'per sequence' = one (T, 16) sequence per call; 'batched' = 32 sequences in one "
            "call, divided by 32; speed-ups divide snake's median by exact's"
        ),
        "distance": "RMS over frames and dims (all 16, or the 8 limited) of output minus observed codes / truth",
        "methods": DESCRIPTIONS,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"tau": PUBLISHED_TAU, "notes": notes, "summary": summary, "lengths": rows}
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(summary, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
