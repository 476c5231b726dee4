"""Evaluation of a shape model on a dataset's validation masks -> ``latent_metrics.json``.

Reports reconstruction Dice per structure (at the masks' own size), disentanglement per attribute
(interpretability, MIG, SAP, SCC; attributes measured on the masks at ``ATTRIBUTE_GRID``, as in training),
controllability of each regularised dim, and the fraction of anatomically valid masks among prior samples and
interpolation midpoints (beside the expert masks' own rate).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from echolatent.cleanup import clean_masks
from echolatent.labels import Label
from echolatent.latent.codec import decode_latents, encode_masks
from echolatent.latent.metrics import controllability, disentanglement
from echolatent.latent.tools import dim_range, interpolate, measure_decoded, sample_prior, traverse
from echolatent.models.shape import ATTRIBUTE_GRID, ShapeModel
from echolatent.resample import resize_labels

log = logging.getLogger(__name__)


def dice_per_structure(pred: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """``(N, H, W)`` label maps -> ``{"lv", "myo", "la": (N,) Dice}`` (1 when a structure is absent from both)."""
    if pred.shape != truth.shape:
        raise ValueError(f"shapes differ: {pred.shape} vs {truth.shape}")
    out = {}
    for label in Label.foreground():
        p, t = pred == label, truth == label
        inter, total = (p & t).sum((1, 2)), p.sum((1, 2)) + t.sum((1, 2))
        out[label.name.lower()] = np.where(total > 0, 2 * inter / np.maximum(total, 1), 1.0)
    return out


def _summary(values: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "median": float(np.median(values)), "min": float(np.min(values))}


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion ``successes / n`` (``n`` >= 1), from SciPy."""
    from scipy.stats import binomtest

    ci = binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def validity_rate(masks: np.ndarray) -> dict[str, Any]:
    """Fraction of valid masks ``(N, H, W)``, its 95 % Wilson interval and how often each criterion fails."""
    from echolatent.measure.validity import check_validity

    report = check_validity(masks)
    fails = {name: int((~ok).sum()) for name, ok in report.passed.items() if (~ok).any()}
    return {"valid_fraction": float(report.valid.mean()), "ci95": wilson_interval(int(report.valid.sum()), len(masks)),
            "n": len(masks), "failures": fails}


def controllability_scores(model: ShapeModel, base: np.ndarray, steps: int = 11) -> dict[str, float]:
    """Controllability of each regularised dim: Spearman between swept values and re-measured attribute."""
    scores = {}
    for dim, name in enumerate(model.config.attributes):
        values = np.linspace(*dim_range(model, dim), steps)
        codes = np.concatenate([traverse(model, z, dim, values=values) for z in base])
        measured = measure_decoded(model, codes, name).reshape(len(base), steps)
        scores[name] = controllability(values, measured)
    return scores


def evaluate_model(
    model: ShapeModel,
    masks: np.ndarray,
    *,
    n_samples: int = 1000,
    n_pairs: int = 500,
    n_traversals: int = 20,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """All latent-space metrics of ``model`` on validation ``masks`` ``(N, H, W)`` (never trained on)."""
    from echolatent.measure.attributes import ATTRIBUTES, compute_attributes

    say = progress or (lambda msg: log.info(msg))
    rng = np.random.default_rng(seed)
    size = tuple(masks.shape[1:])
    start = time.perf_counter()
    say("reconstruction")
    codes = encode_masks(model, masks)
    recon = decode_latents(model, codes, size)
    dice = dice_per_structure(recon, masks)
    say("disentanglement")
    attrs = compute_attributes(resize_labels(masks, (ATTRIBUTE_GRID, ATTRIBUTE_GRID)), None)
    regularised = {name: k for k, name in enumerate(model.config.attributes)}
    dis = disentanglement(codes, np.stack([attrs[a] for a in ATTRIBUTES], 1), list(ATTRIBUTES), regularised)
    say("controllability")
    base = codes[rng.choice(len(codes), size=min(n_traversals, len(codes)), replace=False)]
    control = controllability_scores(model, base) if model.config.attributes else {}
    say("validity")
    pairs = rng.choice(len(codes), size=(n_pairs, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    midpoints = np.stack([interpolate(codes[i], codes[j], 3)[1] for i, j in pairs])
    slerp_mid = np.stack([interpolate(codes[i], codes[j], 3, "slerp")[1] for i, j in pairs])
    samples = decode_latents(model, sample_prior(model, n_samples, seed), size)
    validity = {
        "expert_masks": validity_rate(masks),
        "reconstructions": validity_rate(recon),
        "prior_samples": validity_rate(samples),
        # the same after the smoothing pipeline's clean-up (largest piece of each structure, holes filled)
        "prior_samples_cleaned": validity_rate(clean_masks(samples)),
        "interpolation_midpoints": validity_rate(decode_latents(model, midpoints, size)),
        "slerp_midpoints": validity_rate(decode_latents(model, slerp_mid, size)),
    }
    for name in model.config.attributes:
        dis[name]["controllability"] = control[name]
    return {
        "model": {"kind": model.config.kind, "input_size": model.config.input_size,
                  "latent_dim": model.config.latent_dim, "attributes": list(model.config.attributes)},
        "n_masks": len(masks),
        "mask_size": list(size),
        "reconstruction_dice": {k: _summary(v) for k, v in dice.items()},
        "attributes": dis,
        "mig_mean": float(np.mean([s["mig"] for s in dis.values()])),
        "sap_mean": float(np.mean([s["sap"] for s in dis.values()])),
        "validity": validity,
        "seconds": round(time.perf_counter() - start, 1),
    }


def evaluate_dataset(model: ShapeModel, data: str | Path, out: str | Path, *, subset: str = "validation",
                     **kwargs: Any) -> tuple[dict[str, Any], Path]:
    """Evaluate on the ``subset`` masks of dataset ``data`` (``all``: every patient); write
    ``out/latent_metrics.json``. A split the dataset lacks raises InputError listing the splits it has."""
    from echolatent.errors import InputError
    from echolatent.files import write_json_atomic
    from echolatent.io.frames import load_frames
    from echolatent.io.splits import resolve_subset

    subset = resolve_subset(data, subset)
    try:
        _, masks, ids = load_frames(data, subset)
    except InputError as err:
        if "size" not in str(err) and "differ" not in str(err):
            raise
        log.warning("%s; resampling every mask to 224 x 224", err)
        _, masks, ids = load_frames(data, subset, size=(224, 224))
    metrics = evaluate_model(model, masks, **kwargs)
    metrics["data"] = {"root": str(data), "subset": subset or "all", "frames": len(ids)}
    path = write_json_atomic(metrics, Path(out) / "latent_metrics.json")
    return metrics, path
