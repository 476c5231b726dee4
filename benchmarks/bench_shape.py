"""Encode + decode speed of a shape model; writes benchmarks/results/shape.json.

Frames per second of :func:`echolatent.latent.codec.encode_masks` followed by
:func:`echolatent.latent.codec.decode_latents` (resampling to and from the model's grid included) on
camus224 validation masks (224 x 224; tiny synthetic hearts when the data is absent), batched and one frame
at a time, with a fixed number of torch threads; also the bare network (one-hot on the grid -> logits).

    python benchmarks/bench_shape.py [--vae PATH] [--threads 1] [--frames 64]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from echolatent.latent.codec import decode_latents, encode_masks, load_model
from echolatent.resample import one_hot, resize_labels

ROOT = Path(__file__).resolve().parents[1]
CAMUS = ROOT.parent / "shared" / "data" / "camus224"


def load_masks(frames: int) -> tuple[np.ndarray, str]:
    """``(frames, H, W)`` validation masks of camus224, or synthetic ellipses when it is absent."""
    if (CAMUS / "database_nifti").is_dir():
        from echolatent.io.frames import load_frames

        _, masks, _ = load_frames(CAMUS, "validation")
        return masks[:frames], "camus224 validation"
    yy, xx = np.mgrid[:224, :224]
    masks = np.zeros((frames, 224, 224), np.uint8)
    for i in range(frames):
        ry = 60 + i % 10
        masks[i][((yy - 90) / (ry + 12)) ** 2 + ((xx - 112) / 42) ** 2 <= 1] = 2
        masks[i][((yy - 90) / ry) ** 2 + ((xx - 112) / 30) ** 2 <= 1] = 1
    return masks, "synthetic ellipses"


def best_of(fn, repeats: int = 3) -> float:
    """Smallest wall time of ``repeats`` calls (seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vae", type=Path, default=None, help="model file (default: the shipped AR-VAE)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "shape.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.vae)
    masks, source = load_masks(args.frames)
    size = masks.shape[1:]

    def batched() -> None:
        decode_latents(model, encode_masks(model, masks), size)

    def one_by_one() -> None:
        for mask in masks:
            decode_latents(model, encode_masks(model, mask[None]), size)

    grid = one_hot(resize_labels(masks, (model.config.input_size,) * 2))

    def network() -> None:
        with torch.no_grad():
            model.decode(model.encode(grid)[0])

    batched()  # warm-up
    n = len(masks)
    result = {
        "model": {"kind": model.config.kind, "input_size": model.config.input_size,
                  "channels": list(model.config.channels), "latent_dim": model.config.latent_dim,
                  "parameters": sum(p.numel() for p in model.parameters())},
        "masks": {"source": source, "frames": n, "size": list(size)},
        "threads": args.threads,
        "fps_batched": n / best_of(batched),
        "fps_one_by_one": n / best_of(one_by_one, 2),
        "fps_network_only_batched": n / best_of(network),
        "torch": torch.__version__,
        "note": "shared 2-core CPU: other jobs may run at the same time; best of 2-3 repeats",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(args.out)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
