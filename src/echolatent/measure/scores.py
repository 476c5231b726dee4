"""Segmentation scores against ground truth: Dice, Hausdorff distance and ASSD per structure, as MONAI computes them.

Structures: LV, MYO, EPI (LV + MYO) and LA. Distances are in mm when a spacing is given (pixels otherwise);
the Hausdorff distance is the maximum (HD, not HD95) of the symmetric surface distances, as in CAMUS.

Empty structures (MONAI returns NaN/inf there), decided explicitly:

* both prediction and truth empty: Dice 1, HD 0, ASSD 0 (nothing to find, nothing found);
* exactly one empty: Dice 0, HD NaN, ASSD NaN (a distance to nothing is undefined; count these with Dice).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from scipy.spatial import KDTree

from echolatent.labels import Label
from echolatent.measure.attributes import check_masks, check_spacing

STRUCTURES: dict[str, tuple[int, ...]] = {
    "LV": (Label.LV,),
    "MYO": (Label.MYO,),
    "EPI": (Label.LV, Label.MYO),
    "LA": (Label.LA,),
}
SCORES = ("dice", "hd_mm", "assd_mm")


def segmentation_scores(
    pred: np.ndarray, truth: np.ndarray, spacing: tuple[float, float] | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """Per-frame scores of ``pred`` against ``truth``, both ``(T, H, W)`` labels on the same grid.

    The values are MONAI's (``compute_dice``; ``get_edge_surface_distance`` with ``symmetric=True``, the routine
    behind ``compute_hausdorff_distance`` and ``compute_average_surface_distance``), computed frame by frame with
    the same steps and without MONAI's per-call overhead (about 10 times faster; equal to MONAI's within float32
    rounding, checked in the tests): Dice = 2 |P & T| / (|P| + |T|) in float32; edges = region XOR its binary
    erosion (cross, zero border); distances from each edge pixel to the nearest edge pixel of the other mask
    (KD-tree, coordinates of the union's bounding box with margin 1, times the spacing), float32; HD = the larger
    directed maximum, ASSD = the mean of both directions' distances. Memory: a few ``(H, W)`` arrays at a time.

    Returns:
        ``{structure: {"dice": (T,), "hd_mm": (T,), "assd_mm": (T,)}}`` (distances in pixels without spacing).

    Raises:
        InputError: unusable label arrays; ValueError: shapes differ.
    """
    pred, truth = check_masks(pred, "prediction"), check_masks(truth, "ground truth")
    if pred.shape != truth.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {truth.shape} must have the same shape")
    scale = np.asarray(check_spacing(spacing), dtype=np.float64)
    T, K = pred.shape[0], len(STRUCTURES)
    dice, hd, assd = np.zeros((T, K)), np.full((T, K), np.nan), np.full((T, K), np.nan)
    lookups = [np.isin(np.arange(256), labels) for labels in STRUCTURES.values()]
    for t in range(T):
        for k, lookup in enumerate(lookups):
            p, g = lookup[pred[t]], lookup[truth[t]]
            p_size, g_size = int(p.sum()), int(g.sum())
            if not p_size and not g_size:
                dice[t, k], hd[t, k], assd[t, k] = 1.0, 0.0, 0.0
                continue
            if not p_size or not g_size:
                continue  # Dice 0, distances undefined
            inter = np.float32(2 * np.count_nonzero(p & g))
            dice[t, k] = inter / np.float32(p_size + g_size)
            hd[t, k], assd[t, k] = _surface_distances(p, g, scale)
    return {
        name: {"dice": dice[:, k], "hd_mm": hd[:, k], "assd_mm": assd[:, k]}
        for k, name in enumerate(STRUCTURES)
    }


def _surface_distances(pred: np.ndarray, truth: np.ndarray, scale: np.ndarray) -> tuple[float, float]:
    """``(HD, ASSD)`` between two non-empty boolean ``(H, W)`` regions, as MONAI's symmetric edge distances."""
    union = pred | truth
    rows, cols = np.flatnonzero(union.any(1)), np.flatnonzero(union.any(0))
    box = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # MONAI's crop: the union's bounding box, margin 1
    coords = []
    for region in (pred, truth):
        region = np.pad(region[box], 1)
        edges = region ^ ndimage.binary_erosion(region)
        coords.append(np.argwhere(edges).astype(np.float64) * scale)
    to_truth = KDTree(coords[1], leafsize=32).query(coords[0], k=1)[0].astype(np.float32)
    to_pred = KDTree(coords[0], leafsize=32).query(coords[1], k=1)[0].astype(np.float32)
    hd = max(float(to_truth.max()), float(to_pred.max()))
    assd = float(torch.cat([torch.from_numpy(to_truth), torch.from_numpy(to_pred)]).mean())
    return hd, assd
