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
        frame_pred, frame_truth = _labelled_box(pred[t], truth[t])
        for k, lookup in enumerate(lookups):
            p, g = lookup[frame_pred], lookup[frame_truth]
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


def _labelled_box(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two ``(H, W)`` label frames cropped to the box around every labelled pixel of either (the whole frames when
    neither has one): every structure lies inside it, so its scores are those of the whole frames."""
    labelled = (pred > 0) | (truth > 0)
    rows, cols = np.flatnonzero(labelled.any(1)), np.flatnonzero(labelled.any(0))
    if not rows.size:
        return pred, truth
    box = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return pred[box], truth[box]


def _surface_distances(pred: np.ndarray, truth: np.ndarray, scale: np.ndarray) -> tuple[float, float]:
    """``(HD, ASSD)`` between two non-empty boolean ``(H, W)`` regions, as MONAI's symmetric edge distances.

    An edge pixel that is also an edge pixel of the other region is at distance 0: only the others are looked up
    in the KD-tree (the same distances, in the same order, as querying every edge pixel)."""
    union = pred | truth
    rows, cols = np.flatnonzero(union.any(1)), np.flatnonzero(union.any(0))
    box = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # MONAI's crop: the union's bounding box, margin 1
    edges = [_edges(np.pad(region[box], 1)) for region in (pred, truth)]
    shared = edges[0] & edges[1]
    distances = []
    for source, target in ((edges[0], edges[1]), (edges[1], edges[0])):
        away = (source & ~shared)[source]  # per edge pixel of source (row-major), not an edge pixel of target
        found = np.zeros(len(away), np.float32)
        if away.any():
            tree = KDTree(np.argwhere(target).astype(np.float64) * scale, leafsize=32)
            found[away] = tree.query(np.argwhere(source & ~shared).astype(np.float64) * scale, k=1)[0]
        distances.append(found)
    hd = max(float(distances[0].max()), float(distances[1].max()))
    assd = float(torch.cat([torch.from_numpy(d) for d in distances]).mean())
    return hd, assd


def _edges(region: np.ndarray) -> np.ndarray:
    """Boolean ``(H, W)`` region, False on the image border -> its edge pixels: the region minus its binary erosion
    by the 4-neighbour cross (scipy's ``binary_erosion`` default; no pixel of the border is inner, as it is False)."""
    inner = region.copy()
    inner[1:] &= region[:-1]
    inner[:-1] &= region[1:]
    inner[:, 1:] &= region[:, :-1]
    inner[:, :-1] &= region[:, 1:]
    return region & ~inner
