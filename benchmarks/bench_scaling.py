"""Time and peak memory of the main job against sequence length and count; writes benchmarks/results/scaling.json.

The main job is :func:`echolatent.pipeline.process_sequence` (segment + smooth with the default exact method +
measure; no ground truth, no files) with the shipped weights, on synthetic 256 x 256 4CH sequences
(:mod:`echolatent.synth`): one sequence of 20, 200 and 2000 frames (longer than 40 frames: a synthetic cardiac
cycle repeated, so motion per frame stays realistic), and 1, 10 and 100 sequences of 20 frames (10 distinct
synthetic sequences, cycled; the measure package's per-frame caches are emptied before each sequence, so a cycled
sequence costs what a new one does). The arrays are written to ``.npy`` files first; each case then runs in a fresh
process (models loaded once per process, not timed), so its peak memory is its own: the RSS high-water mark
(``VmHWM`` of ``/proc/self/status``) at the end, and the same mark just before the job (models and data loaded).
The extra case "2000-unsmoothed" runs the 2000 frames with smoothing method "none" (segment + measure only).

Reported per case: wall seconds (median over ``--repeats`` for the 20-frame case; the longer cases run once, their
sequences or frames being the repetition), seconds per frame, per-stage seconds, peak RSS; and the linearity
ratios (time per frame at 200 and 2000 frames / at 20 frames; time per sequence at 10 and 100 sequences / at 1,
the "20" case unless "x1" is run, and at 100 / at 10 sequences: the same 10 sequences, so the cleanest).
Target: ratios near 1, peak memory of the 2000-frame case <= 2 GB.

    python benchmarks/bench_scaling.py [--threads 1] [--cases 20 200 2000 x10 x100] [--repeats 3]

``PYTHONPATH=DIR/src`` times another copy of the package (e.g. ``git archive`` of an older commit).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CASES = ("20", "200", "2000", "2000-unsmoothed", "x1", "x10", "x100")
#: "20" is also the one-sequence case of the count series; "2000-unsmoothed": smoothing method "none" (segment and
#: measure only), to tell the memory of those stages from the smoother's.
DEFAULT_CASES = ("20", "200", "2000", "2000-unsmoothed", "x10", "x100")
DISTINCT = 10  # distinct 20-frame sequences for the multi-sequence cases
TARGET_PEAK_GB = 2.0


def peak_rss_mb() -> float:
    """This process's RSS high-water mark (MB), from ``/proc/self/status`` (``ru_maxrss`` elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------------------------ child process


def clear_caches() -> None:
    """Empty the measure package's per-frame caches (when the code has them) so that no sequence profits from
    frames an earlier one left there: repeats and cycled sequences would otherwise be cheaper than new data."""
    import echolatent.measure.validity as validity

    try:
        import echolatent.measure.framecache as framecache
    except ImportError:  # code from before the caches
        framecache = None
    for cache in (getattr(validity, "CRITERIA_CACHE", None), getattr(framecache, "RESIZE_CACHE", None)):
        if cache is not None:
            cache.clear()


def child(files: list[Path], spacing: tuple[float, float], repeats: int, threads: int, method: str) -> dict:
    """Process the sequences in ``files`` (``.npy`` frames) ``repeats`` times; seconds and peak memory."""
    import torch

    from echolatent.pipeline import process_sequence
    from echolatent.segment import load_segmenter
    from echolatent.temporal.strategy import make_smoother

    torch.set_num_threads(threads)
    segmenter, smoother = load_segmenter(), make_smoother(method)
    sequences = [np.load(path) for path in files]
    ready_mb = peak_rss_mb()
    walls, stages, rounds = [], {}, []
    for _ in range(repeats):
        start = time.perf_counter()
        for images in sequences:
            clear_caches()
            result = process_sequence(images, spacing, segmenter, smoother)
            for stage, value in result.seconds.items():
                stages[stage] = stages.get(stage, 0.0) + value
            rounds.append((result.smooth or {}).get("rounds"))
            del result
        walls.append(time.perf_counter() - start)
    return {"walls": walls, "stages": {k: v / repeats for k, v in stages.items()}, "ready_peak_mb": ready_mb,
            "peak_mb": peak_rss_mb(), "threads": torch.get_num_threads(), "smooth_rounds": rounds[:len(sequences)]}


# ------------------------------------------------------------------------------------------------ parent


def make_inputs(folder: Path) -> tuple[dict[str, Path], tuple[float, float]]:
    """``.npy`` files of the synthetic sequences; returns ``({name: path}, spacing)``."""
    from perf_common import synthetic_sequence

    files = {}
    spacing = None
    for frames in (20, 200, 2000):
        images, _, spacing_ = synthetic_sequence(frames, index=1)
        spacing = spacing or spacing_
        files[f"f{frames}"] = folder / f"frames{frames}.npy"
        np.save(files[f"f{frames}"], images)
    for i in range(DISTINCT):
        images, _, _ = synthetic_sequence(20, index=2 + i // 2) if i % 2 == 0 else _other_view(2 + i // 2)
        files[f"s{i}"] = folder / f"sequence{i}.npy"
        np.save(files[f"s{i}"], images)
    return files, spacing


def _other_view(index: int):
    """The 2CH view of synthetic patient ``index`` (20 frames, 256 px)."""
    from echolatent.labels import View
    from echolatent.synth.patient import synthesize_patient

    patient = synthesize_patient(index, frames=20, size=256, seed=0)
    return patient.views[View.A2C].images, patient.views[View.A2C].masks, patient.spacing


def run_case(files: list[Path], spacing, repeats: int, threads: int, method: str) -> dict:
    list_file = files[0].parent / f"case-{os.getpid()}-{time.monotonic_ns()}.json"
    list_file.write_text(json.dumps({"files": [str(f) for f in files], "spacing": list(spacing)}))
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(list_file), "--repeats", str(repeats),
               "--threads", str(threads), "--method", method]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"case failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES), choices=CASES,
                        help="N: one sequence of N frames; xN: N sequences of 20 frames")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the 20-frame and x1 cases (others: 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--method", default="exact", help="smoothing method (default: exact, the default)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "scaling.json")
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child.read_text())
        print(json.dumps(child([Path(f) for f in spec["files"]], tuple(spec["spacing"]), args.repeats, args.threads,
                               args.method)))
        return

    from perf_common import machine, write_json

    state = machine()
    cases = {}
    with tempfile.TemporaryDirectory(prefix="echolatent-scaling-") as tmp:
        started = time.perf_counter()
        files, spacing = make_inputs(Path(tmp))
        print(f"inputs written in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for case in args.cases:
            if case.startswith("x"):
                count = int(case[1:])
                paths, frames = [files[f"s{i % DISTINCT}"] for i in range(count)], 20 * count
                repeats = args.repeats if count == 1 else 1
            else:
                count, frames = 1, int(case.split("-")[0])
                paths = [files[f"f{frames}"]]
                repeats = args.repeats if frames <= 20 else 1
            method = "none" if case.endswith("-unsmoothed") else args.method
            out = run_case(paths, spacing, repeats, args.threads, method)
            wall = statistics.median(out["walls"])
            cases[case] = {"sequences": count, "frames_total": frames, "repeats": repeats, "method": method,
                           "seconds": round(wall, 3), "seconds_all_repeats": [round(w, 3) for w in out["walls"]],
                           "seconds_per_frame": wall / frames, "seconds_per_sequence": wall / count,
                           "stage_seconds": {k: round(v, 3) for k, v in out["stages"].items()},
                           "peak_rss_mb": round(out["peak_mb"], 1),
                           "peak_rss_before_job_mb": round(out["ready_peak_mb"], 1),
                           "smooth_rounds_first_sequences": out["smooth_rounds"][:10], "threads": out["threads"]}
            print(f"{case}: {wall:.1f} s, {1e3 * wall / frames:.1f} ms/frame, peak {out['peak_mb']:.0f} MB",
                  file=sys.stderr)
    linearity = {}
    single = "x1" if "x1" in cases else "20"
    for case, base in (("200", "20"), ("2000", "20"), ("x10", single), ("x100", single), ("x100", "x10")):
        if case in cases and base in cases:  # x10 and x100: time per frame = time per sequence / 20
            linearity[f"time_per_frame_{case}_over_{base}"] = round(cases[case]["seconds_per_frame"]
                                                                  / cases[base]["seconds_per_frame"], 3)
    if "2000-unsmoothed" in cases and "20" in cases:
        def own(case):  # segment + measure seconds per frame
            stages = cases[case]["stage_seconds"]
            return (stages.get("segment", 0) + stages.get("measure", 0)) / cases[case]["frames_total"]
        linearity["segment_measure_per_frame_2000_unsmoothed_over_20"] = round(own("2000-unsmoothed") / own("20"), 3)
    result = {
        "benchmark": "process_sequence (segment + exact smoothing + measure, no ground truth) on synthetic 256 px "
                     "sequences, shipped weights; a fresh process per case",
        "method": args.method,
        "method_note": "the default smoothing method" if args.method == "exact" else
                       f"NOT the default smoothing: {args.method}",
        "cases": cases,
        "linearity": linearity,
        "target": {"linear": "ratios near 1", "peak_rss_2000_frames_gb_max": TARGET_PEAK_GB,
                   "peak_rss_2000_frames_gb": round(cases["2000"]["peak_rss_mb"] / 1024, 3) if "2000" in cases
                   else None},
        "machine": {**state, "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
    }
    write_json(result, args.out)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
