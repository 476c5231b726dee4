"""Seconds per 20-frame sequence of ``echolatent run``, split by stage; writes benchmarks/results/run_stages.json.

Data: ``echolatent data synth`` with 2 patients x 2 views x 20 frames at 256 px (4 half sequences), shipped
weights, the default exact smoothing. Each repeat is a fresh process running :func:`echolatent.jobs.run.run_job`
(what the command does, without its progress bars), so ``import`` and ``load`` are what a user pays. Stages are
timed by wrapping the functions the job calls, so the same script times older code too (``--git-ref``):

* ``import``: importing torch and echolatent's job modules; ``load``: U-Net, shape model, thresholds, finding files;
* per sequence: ``read`` (image + ground truth), ``segment``, ``smooth``, ``measure`` (the pipeline's own
  ``SequenceResult.seconds``), ``write`` (``_pred``/``_post`` masks), ``figures``;
* ``report``: tables, clinical indices and report.html; ``other``: the rest (summary, logs, renaming).

With ``--git-ref REF`` the code of that commit (``git archive``; with ``--only PATHS``, the working tree with just
those paths from the commit) is timed in the same run, alternating with the working tree, and the masks both write
are compared (pixel agreement, asserted >= ``--min-agreement``).

    python benchmarks/bench_run_stages.py [--repeats 3] [--threads 0] [--git-ref e676379 [--only PATH ...]]
"""

from __future__ import annotations

import time

T0 = time.perf_counter()  # before any heavy import: the child's "import" stage starts here

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STAGES = ("import", "load", "read", "segment", "smooth", "measure", "write", "figures", "report", "other")
PER_SEQUENCE = ("read", "segment", "smooth", "measure", "write", "figures")


# ------------------------------------------------------------------------------------------------ child process


def child(data: Path, out: Path, threads: int) -> dict:
    """Run the job once on ``data`` into ``out`` with every stage timed; returns ``{stage: seconds}``."""
    import torch

    import echolatent
    import echolatent.jobs.run as job

    if threads > 0:
        torch.set_num_threads(threads)
    seconds = defaultdict(float)
    seconds["import"] = time.perf_counter() - T0

    def timed(stage, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[stage] += time.perf_counter() - start
        return wrapper

    original_process_pair = job.process_pair

    def process_pair(*args, **kwargs):
        result, seq = original_process_pair(*args, **kwargs)
        for stage, value in result.seconds.items():
            seconds[stage] += value
        return result, seq

    job.load_segmenter = timed("load", job.load_segmenter)
    job.make_smoother = timed("load", job.make_smoother)
    job.run_thresholds = timed("load", job.run_thresholds)
    job.select_refs = timed("load", job.select_refs)
    job.load_sequence = timed("read", job.load_sequence)
    job.write_mask = timed("write", job.write_mask)
    job.process_pair = process_pair
    job.draw_sequence = timed("figures", job.draw_sequence)
    job.RunJob.summarise = timed("report", job.RunJob.summarise)
    start = time.perf_counter()
    summary = job.run_job(data, out, overwrite=True)
    total = time.perf_counter() - start
    seconds["other"] = total - sum(v for k, v in seconds.items() if k != "import")
    seconds["total"] = total + seconds["import"]
    return {"seconds": dict(seconds), "sequences": len(summary["sequences"]), "threads": torch.get_num_threads(),
            "echolatent": str(Path(echolatent.__file__).parent)}


# ------------------------------------------------------------------------------------------------ parent


def extract(ref: str, folder: Path, only: list[str] | None = None) -> Path:
    """The package as of commit ``ref`` under ``folder/src`` (``git archive``); with ``only``, the working tree's
    package with just those paths (files or folders, relative to the repository) as of ``ref``, so that the
    comparison isolates the changes to them. Returns the ``src`` path to import from."""
    if only:
        shutil.copytree(ROOT / "src" / "echolatent", folder / "src" / "echolatent",
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        for path in only:
            target = folder / path
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    paths = only or ["src/echolatent"]
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, *paths], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def run_child(data: Path, out: Path, threads: int, src: Path | None) -> dict:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(data), str(out), "--threads", str(threads)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict]) -> dict:
    """Medians over repeats, per run and per sequence."""
    n = runs[0]["sequences"]
    per_run = {k: statistics.median(r["seconds"].get(k, 0.0) for r in runs) for k in (*STAGES, "total")}
    return {
        "sequences": n,
        "threads": runs[0]["threads"],
        "code": runs[0]["echolatent"],
        "seconds_per_run": {k: round(v, 3) for k, v in per_run.items()},
        "seconds_per_sequence": {k: round(v / n, 3) for k, v in per_run.items()},
        "seconds_per_sequence_without_import_load": round((per_run["total"] - per_run["import"] - per_run["load"]) / n,
                                                          3),
        "repeats_total_seconds": [round(r["seconds"]["total"], 3) for r in runs],
    }


def compare_outputs(a: Path, b: Path) -> dict:
    """Pixel agreement of every ``_pred``/``_post`` mask written under ``a`` and ``b``; their summaries' numbers."""
    import numpy as np
    import SimpleITK as sitk  # noqa: N813

    agreement = {}
    for path in sorted(a.rglob("*_p*.nii.gz")):
        other = b / path.relative_to(a)
        x = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
        y = sitk.GetArrayFromImage(sitk.ReadImage(str(other)))
        agreement[path.name] = float((x == y).mean()) if x.shape == y.shape else 0.0
    summaries = [json.loads((root / "summary.json").read_text()) for root in (a, b)]
    numbers = [dict(_leaves({k: s.get(k) for k in ("before", "after")})) for s in summaries]
    shared = set(numbers[0]) & set(numbers[1])
    differ = {k: (numbers[0][k], numbers[1][k]) for k in shared
              if not np.isclose(numbers[0][k], numbers[1][k], rtol=1e-3, atol=1e-6, equal_nan=True)}
    values = list(agreement.values())
    relative = [abs(numbers[0][k] - numbers[1][k]) / max(abs(numbers[0][k]), abs(numbers[1][k]), 1e-12)
                for k in shared if np.isfinite(numbers[0][k]) and np.isfinite(numbers[1][k])]
    return {"files": len(values), "min_pixel_agreement": min(values) if values else None,
            "summary_max_relative_difference": max(relative, default=0.0),
            "mean_pixel_agreement": float(np.mean(values)) if values else None, "per_file": agreement,
            "summary_numbers_compared": len(shared), "summary_numbers_differing_rtol_1e-3": differ}


def _leaves(tree, prefix=""):
    """``(dotted key, float)`` for every number in a nested dict/list."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from _leaves(value, f"{prefix}[{index}]")
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        yield prefix, float(tree)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, type=Path, metavar=("DATA", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help="fresh-process runs per code version")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default, as the command)")
    parser.add_argument("--git-ref", default=None, help="also time this commit's code (e.g. the one before this work)")
    parser.add_argument("--only", nargs="+", default=None, metavar="PATH",
                        help="with --git-ref: take only these paths from the commit, the rest from the working tree")
    parser.add_argument("--min-agreement", type=float, default=0.999)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "run_stages.json")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.threads)))
        return

    from perf_common import machine, write_json

    with tempfile.TemporaryDirectory(prefix="echolatent-stages-") as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        from echolatent.synth.dataset import write_synthetic_dataset

        write_synthetic_dataset(data, patients=2, frames=20, size=256, seed=0, previews=0)
        versions = {"current": None}
        if args.git_ref:
            versions[args.git_ref] = extract(args.git_ref, tmp, args.only)
        runs = {name: [] for name in versions}
        state = machine()
        for repeat in range(args.repeats):
            for name, src in versions.items():
                out = tmp / f"out_{name}"
                runs[name].append(run_child(data, out, args.threads, src))
                print(f"{name} repeat {repeat + 1}: {runs[name][-1]['seconds']['total']:.1f} s", file=sys.stderr)
        result = {
            "benchmark": "echolatent run on 4 synthetic 20-frame half sequences (2 patients x 2 views, 256 px), "
                         "shipped weights, exact smoothing; medians of fresh-process repeats",
            "repeats": args.repeats,
            "machine": state,
            "versions": {name: summarise(r) for name, r in runs.items()},
        }
        if args.git_ref:
            result["before"] = (f"{args.git_ref}: the working tree with {', '.join(args.only)} as of that commit"
                                if args.only else f"{args.git_ref}: the package as of that commit")
        if args.git_ref:
            check = compare_outputs(tmp / "out_current", tmp / f"out_{args.git_ref}")
            current = result["versions"]["current"]["seconds_per_sequence"]
            before = result["versions"][args.git_ref]["seconds_per_sequence"]
            result["speedup_vs_" + args.git_ref] = {k: round(before[k] / current[k], 2) if current[k] > 0 else None
                                                    for k in (*STAGES, "total")}
            result["identical_outputs"] = check
            if check["min_pixel_agreement"] is None or check["min_pixel_agreement"] < args.min_agreement:
                raise SystemExit(f"outputs differ: {check}")
        result["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(result, args.out)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
