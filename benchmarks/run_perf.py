"""Run the performance benchmarks and write the README's table; one command, about 10 minutes on 2 quiet cores.

Runs, one after the other (each in its own processes), and writes to benchmarks/results/:

* ``bench_models.py`` -> ``models.json``: FLOPs per frame, frames/s, achieved / matmul GFLOP/s at 1 and 2 threads;
* ``bench_solver.py`` -> ``solver.json``: exact against castor's snake on the same trajectories, T = 20 / 50 / 200;
* ``bench_scaling.py`` -> ``scaling.json``: 20 / 200 / 2000 frames and 10 / 100 sequences, time and peak memory;
* ``bench_run_stages.py --git-ref BASE --only SCOPE`` -> ``run_stages.json``: seconds per 20-frame sequence of
  ``echolatent run`` by stage, this code and the same with the files of the performance work as of commit BASE
  (before it) in the same run, outputs compared; then this code at 1 thread -> ``run_stages_1thread.json``;

then ``perf.md``, the markdown tables the README quotes (``--table-only`` rebuilds it from the JSON files).

    python benchmarks/run_perf.py [--quick] [--git-ref e676379] [--table-only]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
#: The commit this performance work started from ("before").
BASE_REF = "e676379"
#: The paths the performance work changed: "before" takes them from BASE_REF, the rest from the working tree.
SCOPE = ["src/echolatent/segment.py", "src/echolatent/latent/codec.py", "src/echolatent/pipeline.py",
         "src/echolatent/measure", "src/echolatent/report"]


FAILED: list[str] = []


def run(script: str, *args: str) -> float:
    """Run ``benchmarks/<script> args``; returns its wall seconds. A failure is reported (and makes the exit code
    1) but the other benchmarks still run."""
    start = time.perf_counter()
    print(f"== {script} {' '.join(args)}", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, str(HERE / script), *args], stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    if done.returncode:
        FAILED.append(script)
    print(f"   {seconds:.0f} s{' FAILED' if done.returncode else ''}", file=sys.stderr, flush=True)
    return seconds


def _load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def _f(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def models_table(models: dict) -> list[str]:
    lines = ["| model | threads | GFLOP / frame | frames/s network, batched | one at a time "
             "| with pre/post, batched | one at a time | achieved GFLOP/s | matmul GFLOP/s | ratio |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for threads, entry in models["by_threads"].items():
        for name, label in (("unet", "U-Net"), ("arvae", "AR-VAE encode + decode")):
            numbers = entry[name]
            lines.append(
                f"| {label} | {threads} | {models['models'][name]['gflop_per_frame']:.3f} "
                f"| {_f(numbers['fps_network_batched'], 0)} | {_f(numbers['fps_network_one_by_one'], 0)} "
                f"| {_f(numbers['fps_with_prepost_batched'], 0)} | {_f(numbers['fps_with_prepost_one_by_one'], 0)} "
                f"| {_f(numbers['achieved_gflops_network_batched'], 1)} | {_f(entry['matmul_gflops'], 1)} "
                f"| {numbers['ratio_to_matmul']:.2f} |")
    return lines


def scaling_table(scaling: dict) -> list[str]:
    lines = ["| case | frames | seconds | ms / frame | segment / smooth / measure (s) | peak RSS (MB) |",
             "|---|---|---|---|---|---|"]
    names = {"20": "1 sequence x 20 frames", "200": "1 sequence x 200 frames", "2000": "1 sequence x 2000 frames",
             "2000-unsmoothed": "1 sequence x 2000 frames, no smoothing (segment + measure)",
             "x1": "1 sequence x 20 frames", "x10": "10 sequences x 20 frames", "x100": "100 sequences x 20 frames"}
    for case, entry in scaling["cases"].items():
        stages = entry["stage_seconds"]
        split = " / ".join(_f(stages.get(name), 1) for name in ("segment", "smooth", "measure"))
        lines.append(f"| {names.get(case, case)} | {entry['frames_total']} | {_f(entry['seconds'], 1)} "
                     f"| {1e3 * entry['seconds_per_frame']:.1f} | {split} | {entry['peak_rss_mb']:,.0f} |")
    ratios = ", ".join(f"{k.replace('time_per_frame_', '').replace('_over_', ' / ')}: {v:.2f}"
                       for k, v in scaling["linearity"].items())
    lines.append("")
    lines.append(f"Time per frame relative to one 20-frame sequence: {ratios}.")
    return lines


def stages_table(stages: dict) -> list[str]:
    versions = dict(stages["versions"])
    one = _load("run_stages_1thread.json")
    if one is not None:
        versions["current, 1 thread"] = one["versions"]["current"]
    names = list(versions)
    order = ("import", "load", "read", "segment", "smooth", "measure", "write", "figures", "report", "other", "total")
    header = " | ".join((n if n.startswith("current") else f"before ({n})") for n in names)
    header = header.replace("current |", f"current, {versions['current']['threads']} threads |", 1)
    lines = [f"| stage | {header} | speed-up |", "|---|" + "---|" * len(names) + "---|"]
    speedup = next((v for k, v in stages.items() if k.startswith("speedup_vs_")), {})
    for stage in order:
        values = " | ".join(_f(versions[n]["seconds_per_sequence"].get(stage), 3) for n in names)
        lines.append(f"| {stage} | {values} | {_f(speedup.get(stage))}x |" if speedup else f"| {stage} | {values} | |")
    lines.append("")
    lines.append("Speed-up: before / current, same thread count, same run. The 1-thread column is a separate run.")
    check = stages.get("identical_outputs")
    if check:
        lines.append("")
        lines.append(f"Outputs of both versions: {check['files']} mask files, pixel agreement min "
                     f"{check['min_pixel_agreement']:.6f}; {check['summary_numbers_compared']} summary numbers, "
                     f"{len(check['summary_numbers_differing_rtol_1e-3'])} differing by more than 0.1 % (largest "
                     f"relative difference {check.get('summary_max_relative_difference', float('nan')):.1e}).")
    return lines


def solver_table(solver: dict) -> list[str]:
    lines = ["| T | snake (s) | exact, one sequence (ms) | speed-up | exact, batched (ms / sequence) | speed-up "
             "| max violation snake / exact | RMS to observed, snake / exact |", "|---|---|---|---|---|---|---|---|"]
    for row in solver["lengths"]:
        snake, exact, crit = row["methods"]["snake"], row["methods"]["exact"], row["criteria"]["exact"]
        lines.append(
            f"| {row['T']} | {snake['cpu_seconds_per_sequence']:.3f} | {1e3 * exact['cpu_seconds_per_sequence']:.3f} "
            f"| {crit['speedup_cpu']:,.0f}x | {1e3 * exact['batched_cpu_seconds_per_sequence']:.3f} "
            f"| {crit['speedup_cpu_batched']:,.0f}x | {snake['max_violation']:.1g} / {exact['max_violation']:.1g} "
            f"| {snake['rms_to_observed_all']:.4f} / {exact['rms_to_observed_all']:.4f} |")
    return lines


def machine_line(data: dict) -> str:
    """The machine and load of one benchmark's JSON (the solver benchmark keeps them in its notes)."""
    load = data.get("machine")
    if isinstance(load, dict):
        return (f"Machine: {load.get('cpus')} CPUs ({load.get('cpu')}), torch {load.get('torch')}, load average "
                f"{load.get('loadavg_1_5_15')} at start, {load.get('loadavg_end')} at end; {load.get('time_utc')}.")
    notes = data.get("notes", {})
    return (f"Machine: {notes.get('machine')}, load average {notes.get('load_average_1_5_15_at_start')} at start, "
            f"{notes.get('load_average_1_5_15_at_end')} at end; {notes.get('started_utc')}.")


def write_table() -> Path:
    parts = ["# Performance (written by `python benchmarks/run_perf.py`)", ""]
    for name, title, make in (("models.json", "Models", models_table), ("solver.json", "Solver", solver_table),
                              ("scaling.json", "Scaling", scaling_table),
                              ("run_stages.json", "`echolatent run`, seconds per 20-frame sequence", stages_table)):
        data = _load(name)
        if data is None:
            continue
        parts += [f"## {title}", "", *make(data), "", machine_line(data), ""]
    path = RESULTS / "perf.md"
    path.write_text("\n".join(parts))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, small cases: a smoke test (minutes)")
    parser.add_argument("--git-ref", default=BASE_REF, help="'before' commit for the run stages ('' to skip)")
    parser.add_argument("--table-only", action="store_true", help="only rebuild perf.md from the JSON files")
    args = parser.parse_args()
    if not args.table_only:
        seconds = {}
        if args.quick:
            seconds["models"] = run("bench_models.py", "--repeats", "2", "--frames", "16")
            seconds["scaling"] = run("bench_scaling.py", "--cases", "20", "200", "x10", "--repeats", "1")
            stage_args = ["--repeats", "1"]
        else:
            seconds["models"] = run("bench_models.py", "--repeats", "5")
            seconds["scaling"] = run("bench_scaling.py", "--repeats", "3")
            stage_args = ["--repeats", "3"]
        seconds["solver"] = run("bench_solver.py", *(["--sequences", "1", "--repeats", "10"] if args.quick else []))
        if args.git_ref:
            stage_args += ["--git-ref", args.git_ref, "--only", *SCOPE]
        seconds["run_stages"] = run("bench_run_stages.py", *stage_args)
        one_thread = ["--threads", "1", "--repeats", "1" if args.quick else "2"]
        seconds["run_stages_1thread"] = run("bench_run_stages.py", *one_thread,
                                            "--out", str(RESULTS / "run_stages_1thread.json"))
        print(f"benchmarks: {sum(seconds.values()):.0f} s in all {seconds}", file=sys.stderr)
    print(write_table().read_text())
    if FAILED:
        raise SystemExit(f"failed: {', '.join(FAILED)}")


if __name__ == "__main__":
    main()
