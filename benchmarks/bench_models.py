"""FLOPs, frames per second and achieved GFLOP/s of the two networks; writes benchmarks/results/models.json.

For the shipped U-Net (:func:`echolatent.segment.load_segmenter`, 128 x 128 input) and the shipped AR-VAE
(:func:`echolatent.latent.codec.load_model`, encode + decode at 96 x 96):

* FLOPs per frame counted by ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, transposed convolutions,
  matrix products; 2 FLOPs per multiply-add; resampling, normalisation and activations are not counted);
* frames per second, network only (input already on the grid; batches of 16 frames for the U-Net, as
  ``segment_frames`` runs it, all ``--frames`` at once for the AR-VAE) and with pre/post-processing (256 x 256 synthetic
  frames or masks in, labels at 256 x 256 out: :func:`~echolatent.segment.segment_frames`,
  :func:`~echolatent.latent.codec.encode_masks` + :func:`~echolatent.latent.codec.decode_latents`), batched and
  one frame at a time; for the AR-VAE also network-only batched with NCHW weights (``fps_network_batched_nchw_weights``:
  the layout before models were loaded channels-last), in the same run;
* the U-Net network on ONNX Runtime (CPU, exported from the same weights) beside PyTorch on the same frames and
  batches, with the share of identical output pixels;
* this machine's float32 matrix-multiply GFLOP/s (``torch.mm`` of 2048 x 2048 matrices) measured in the same run
  at the same thread count, and the ratio achieved GFLOP/s (batched network) / matmul GFLOP/s.

Every figure is a median over ``--repeats`` timed calls, at 1 and 2 torch threads. The outputs of the library's
inference paths are asserted identical (>= 99.9 % of pixels) to a plain reference (eval mode, ``no_grad``, NCHW).

    python benchmarks/bench_models.py [--threads 1 2] [--frames 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from echolatent.latent.codec import decode_latents, encode_masks, load_model
from echolatent.models.unet import normalise_frames
from echolatent.resample import one_hot, resize_frames, resize_labels, resize_probs
from echolatent.segment import load_segmenter, segment_frames

HERE = Path(__file__).resolve().parent
MATMUL_SIZE = 2048
MIN_AGREEMENT = 0.999
#: Frames per U-Net call when batched: segment_frames' default (16 ran faster than 8 or 32 on this CPU).
UNET_BATCH = 16


def count_flops(function, *args) -> int:
    """FLOPs of one call of ``function(*args)`` as ``FlopCounterMode`` counts them."""
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        function(*args)
    return int(counter.get_total_flops())


def matmul_gflops(repeats: int) -> float:
    """Median float32 ``torch.mm`` GFLOP/s (2 n^3 FLOPs) at the current torch thread count."""
    from perf_common import median_time

    a = torch.randn(MATMUL_SIZE, MATMUL_SIZE)
    b = torch.randn(MATMUL_SIZE, MATMUL_SIZE)
    seconds, _ = median_time(lambda: torch.mm(a, b), repeats, warmup=2)
    return 2 * MATMUL_SIZE**3 / seconds / 1e9


def reference_segment(segmenter, images: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` labels the plain way: NCHW, ``no_grad``, each network's probabilities resampled to the frame size
    and averaged over the ensemble's members (the library averages on the main network's grid), then argmax."""
    probs = []
    with torch.no_grad():
        for model, config in ((segmenter.model, segmenter.config), *segmenter.members):
            grid = torch.from_numpy(resize_frames(images, (config.input_size,) * 2))
            logits = model(normalise_frames(grid.contiguous(), config.normalisation))
            probs.append(resize_probs(torch.softmax(logits.float(), 1), images.shape[1:]))
    return torch.stack(probs).mean(0).argmax(1).numpy().astype(np.uint8)


def plain_layout(model):
    """A copy of ``model`` with NCHW (contiguous) weights, as before channels-last loading."""
    return copy.deepcopy(model).to(memory_format=torch.contiguous_format)


def reference_codec(model, masks: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` reconstruction the plain way (NCHW weights, encode ``mu``, decode, softmax, resample, argmax)."""
    size = model.config.input_size
    model = plain_layout(model)
    with torch.no_grad():
        mu = model.encode(one_hot(resize_labels(masks, (size, size))))[0]
        probs = resize_probs(model.decode(mu).softmax(1), masks.shape[1:])
    return probs.argmax(1).numpy().astype(np.uint8)


def bench_unet(segmenter, images: np.ndarray, repeats: int) -> dict:
    """Frames/s of the U-Net, network only and with pre/post-processing, batched and one by one."""
    from perf_common import median_time

    size = segmenter.config.input_size
    grid = normalise_frames(torch.from_numpy(resize_frames(images, (size, size))))
    n = len(images)

    def network_batched():  # in batches of segment_frames' default size, as the job runs it
        with torch.inference_mode():
            for start in range(0, n, UNET_BATCH):
                segmenter.forward(grid[start:start + UNET_BATCH])

    def network_one():
        with torch.inference_mode():
            for i in range(n):
                segmenter.forward(grid[i:i + 1])

    out = {}
    for name, function in (("network_batched", network_batched), ("network_one_by_one", network_one),
                           ("with_prepost_batched", lambda: segment_frames(segmenter, images, batch_size=UNET_BATCH)),
                           ("with_prepost_one_by_one", lambda: [segment_frames(segmenter, f[None]) for f in images])):
        seconds, _ = median_time(function, repeats)
        out[f"fps_{name}"] = n / seconds
    return out


def bench_vae(model, masks: np.ndarray, repeats: int) -> dict:
    """Frames/s of AR-VAE encode + decode, network only and with resampling, batched and one by one."""
    from perf_common import median_time

    size = model.config.input_size
    grid = one_hot(resize_labels(masks, (size, size)))
    out_size = masks.shape[1:]
    n = len(masks)

    def network_batched():
        with torch.inference_mode():
            model.decode(model.encode(grid)[0])

    def network_one():
        with torch.inference_mode():
            for i in range(n):
                model.decode(model.encode(grid[i:i + 1])[0])

    plain = plain_layout(model)

    def network_batched_nchw():
        with torch.inference_mode():
            plain.decode(plain.encode(grid)[0])

    def prepost_batched():
        decode_latents(model, encode_masks(model, masks), out_size)

    def prepost_one():
        for mask in masks:
            decode_latents(model, encode_masks(model, mask[None]), out_size)

    out = {}
    for name, function in (("network_batched", network_batched), ("network_one_by_one", network_one),
                           ("network_batched_nchw_weights", network_batched_nchw),
                           ("with_prepost_batched", prepost_batched), ("with_prepost_one_by_one", prepost_one)):
        seconds, _ = median_time(function, repeats)
        out[f"fps_{name}"] = n / seconds
    return out


def onnx_session(segmenter, threads: int):
    """ONNX Runtime (CPU) session of the U-Net, exported from the loaded weights (batch axis dynamic)."""
    import io

    import onnxruntime as ort

    buffer = io.BytesIO()
    size = segmenter.config.input_size
    model = plain_layout(segmenter.model).eval()
    torch.onnx.export(model, (torch.zeros(UNET_BATCH, 1, size, size),), buffer, input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}}, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])


def bench_onnx(segmenter, images: np.ndarray, repeats: int, threads: int) -> dict:
    """The U-Net network on ONNX Runtime beside PyTorch (same frames, same batches, same run): frames/s and the
    share of output pixels equal to PyTorch's (softmax resampled to the frame size, argmax)."""
    from perf_common import median_time

    session = onnx_session(segmenter, threads)
    size = segmenter.config.input_size
    grid = normalise_frames(torch.from_numpy(resize_frames(images, (size, size)))).numpy()
    n = len(images)

    def run_ort():
        return np.concatenate([session.run(None, {"x": grid[s:s + UNET_BATCH]})[0] for s in range(0, n, UNET_BATCH)])

    def run_torch():
        with torch.inference_mode():
            return torch.cat([segmenter.forward(torch.from_numpy(grid[s:s + UNET_BATCH]))
                              for s in range(0, n, UNET_BATCH)]).numpy()

    masks = {name: resize_probs(torch.softmax(torch.from_numpy(f()), 1), images.shape[1:]).argmax(1).numpy()
             for name, f in (("ort", run_ort), ("torch", run_torch))}
    ort_s, _ = median_time(run_ort, repeats)
    torch_s, _ = median_time(run_torch, repeats)
    return {"fps_onnxruntime_network_batched": n / ort_s, "fps_torch_network_batched": n / torch_s,
            "onnxruntime_speedup": torch_s / ort_s,
            "pixel_agreement_onnxruntime_vs_torch": float((masks["ort"] == masks["torch"]).mean())}


def main() -> None:
    from perf_common import machine, synthetic_sequence, write_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--frames", type=int, default=64, help="frames timed per call (synthetic, 256 px)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "models.json")
    args = parser.parse_args()
    state = machine()
    segmenter = load_segmenter(backend="torch")  # the PyTorch figures; ONNX Runtime is timed beside them
    vae = load_model()
    images, masks, _ = synthetic_sequence(min(args.frames, 40))
    reps = -(-args.frames // len(images))
    images, masks = np.concatenate([images] * reps)[:args.frames], np.concatenate([masks] * reps)[:args.frames]

    unet_size, vae_size = segmenter.config.input_size, vae.config.input_size
    flops = {
        "unet": count_flops(segmenter.model, torch.zeros(1, 1, unet_size, unet_size)),
        "arvae_encode_decode": count_flops(lambda x: vae.decode(vae.encode(x)[0]),
                                           torch.zeros(1, 4, vae_size, vae_size)),
    }
    checks = {
        "unet_pixel_agreement_vs_reference": float((segment_frames(segmenter, images)[0]
                                                    == reference_segment(segmenter, images)).mean()),
        "arvae_pixel_agreement_vs_reference": float((decode_latents(vae, encode_masks(vae, masks), masks.shape[1:])
                                                     == reference_codec(vae, masks)).mean()),
    }
    result = {
        "benchmark": "network FLOPs and throughput vs this machine's matmul peak",
        "models": {
            "unet": {"input": [1, unet_size, unet_size], "channels": list(segmenter.config.channels),
                     "ensemble_member_inputs": [c.input_size for _, c in segmenter.members],
                     "note": "network-only figures are the main member's; with pre/post runs every member",
                     "parameters": sum(p.numel() for p in segmenter.model.parameters()),
                     "flops_per_frame": flops["unet"], "gflop_per_frame": flops["unet"] / 1e9},
            "arvae": {"input": [4, vae_size, vae_size], "channels": list(vae.config.channels),
                      "parameters": sum(p.numel() for p in vae.parameters()),
                      "flops_per_frame": flops["arvae_encode_decode"],
                      "gflop_per_frame": flops["arvae_encode_decode"] / 1e9},
        },
        "frames": args.frames, "frame_size": list(images.shape[1:]), "repeats": args.repeats,
        "identity_checks": checks, "min_agreement": MIN_AGREEMENT,
        "flops_note": "FlopCounterMode counts conv/matmul FLOPs (2 per multiply-add); not resampling, norms, "
                      "activations",
        "machine": state,
        "by_threads": {},
    }
    for threads in args.threads:
        torch.set_num_threads(threads)
        peak = matmul_gflops(args.repeats)
        entry = {"matmul_gflops": peak, "matmul_size": MATMUL_SIZE}
        for name, numbers in (("unet", bench_unet(segmenter, images, args.repeats)),
                              ("arvae", bench_vae(vae, masks, args.repeats))):
            achieved = numbers["fps_network_batched"] * result["models"][name]["flops_per_frame"] / 1e9
            numbers["achieved_gflops_network_batched"] = achieved
            numbers["ratio_to_matmul"] = achieved / peak
            numbers["achieved_gflops_with_prepost_batched"] = (numbers["fps_with_prepost_batched"]
                                                              * result["models"][name]["flops_per_frame"] / 1e9)
            entry[name] = numbers
        ort = bench_onnx(segmenter, images, args.repeats, threads)
        ort["ratio_to_matmul_onnxruntime"] = (ort["fps_onnxruntime_network_batched"]
                                              * result["models"]["unet"]["flops_per_frame"] / 1e9 / peak)
        entry["unet_onnxruntime"] = ort
        entry["matmul_gflops_after"] = matmul_gflops(args.repeats)
        result["by_threads"][str(threads)] = entry
        print(f"{threads} thread(s): {json.dumps(entry, indent=1)}")
    result["machine"]["loadavg_end"] = [round(x, 2) for x in __import__("os").getloadavg()]
    write_json(result, args.out)
    bad = {k: v for k, v in checks.items() if v < MIN_AGREEMENT}
    if bad:
        raise SystemExit(f"inference differs from the reference: {bad}")


if __name__ == "__main__":
    main()
