"""Helpers shared by the performance benchmarks (bench_models, bench_scaling, bench_run_stages, run_perf).

Timings are medians of repeated calls (seconds, ``time.perf_counter``); every result records the machine's
state (CPU count, torch threads, load average at start and end) because this 2-core CPU is often shared.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def median_time(function, repeats: int, warmup: int = 1) -> tuple[float, list[float]]:
    """``(median wall seconds, all times)`` of ``repeats`` calls of ``function()`` after ``warmup`` calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def machine() -> dict:
    """CPU, load average and library versions, to read the numbers against."""
    import torch

    return {
        "cpus": os.cpu_count(),
        "cpu": _cpu_name(),
        "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write_json(result: dict, path: Path) -> Path:
    """Write ``result`` as indented JSON atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(result, indent=2, default=_plain))
    tmp.replace(path)
    return path


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def synthetic_sequence(frames: int, size: int = 256, seed: int = 0, index: int = 1):
    """``(images (frames, S, S) uint8, masks (frames, S, S) uint8, spacing (sy, sx) mm)`` of one synthetic 4CH view.

    Up to 40 frames: one synthetic half sequence (ED -> ES) of ``frames`` frames. Longer: the full cycle (ED -> ES ->
    ED, with its speckle) at the frame rate of a 20-frame half sequence, repeated to ``frames`` frames, so the motion
    per frame stays realistic.
    """
    from echolatent.labels import View
    from echolatent.synth.patient import synthesize_patient

    if frames <= 40:
        patient = synthesize_patient(index, frames=frames, size=size, seed=seed)
        view = patient.views[View.A4C]
        return view.images, view.masks, patient.spacing
    patient = synthesize_patient(index, frames=20, size=size, seed=seed, full_cycle=True)
    view = patient.views[View.A4C]
    cycle = len(view.cycle_images) - 1  # the last frame is the next ED: drop it when tiling
    reps = -(-frames // cycle)
    images = np.concatenate([view.cycle_images[:cycle]] * reps)[:frames]
    masks = np.concatenate([view.cycle_masks[:cycle]] * reps)[:frames]
    return np.ascontiguousarray(images), np.ascontiguousarray(masks), patient.spacing
