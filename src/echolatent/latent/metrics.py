"""Disentanglement and controllability scores of a latent space (pure functions on arrays).

Inputs are codes ``(N, d)`` and attribute values ``(N, K)`` (NaN where undefined; those samples are dropped
attribute by attribute). Definitions follow Pati & Lerch (AR-VAE, 2020):

* interpretability: R^2 of a 1-D linear fit of the attribute on the latent dim sharing the most mutual
  information with it;
* MIG: (MI of the best dim - MI of the second best) / entropy of the attribute, 20-bin histograms;
* SAP: gap between the two best per-dimension R^2 of 1-D linear fits;
* SCC: |Spearman rho| between the attribute and its regularised dim (or its best dim when none is declared);
* controllability: mean Spearman rho between the values a dim is swept through and the attribute re-measured
  on the decoded masks.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

BINS = 20


def _discretise(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """``(N,)`` values -> bin indices ``0..bins-1`` of an equal-width histogram over their range."""
    edges = np.histogram_bin_edges(values, bins=bins)
    return np.clip(np.digitize(values, edges[1:-1]), 0, bins - 1)


def entropy(labels: np.ndarray) -> float:
    """Shannon entropy (nats) of discrete ``labels``."""
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (nats) between two discrete label arrays of the same length."""
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def r2_linear(x: np.ndarray, y: np.ndarray) -> float:
    """R^2 of the least-squares line ``y ~ a x + b`` (0 when x or y is constant)."""
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1] ** 2)


def _check(codes: np.ndarray, attrs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, attrs = np.asarray(codes, dtype=np.float64), np.asarray(attrs, dtype=np.float64)
    if codes.ndim != 2 or attrs.ndim != 2 or len(codes) != len(attrs):
        raise ValueError(f"expected codes (N, d) and attributes (N, K), got {codes.shape} and {attrs.shape}")
    if not np.isfinite(codes).all():
        raise ValueError("codes contain NaN or infinite values")
    return codes, attrs


def disentanglement(codes: np.ndarray, attrs: np.ndarray, names: list[str],
                    regularised: dict[str, int] | None = None) -> dict[str, dict[str, float]]:
    """Per-attribute interpretability, MIG, SAP, SCC (and which dims they used).

    Args:
        codes: ``(N, d)`` latent codes.
        attrs: ``(N, K)`` attribute values, NaN where undefined.
        names: the K attribute names.
        regularised: attribute -> the dim regularised on it (its SCC uses that dim).
    """
    codes, attrs = _check(codes, attrs)
    if attrs.shape[1] != len(names):
        raise ValueError(f"{attrs.shape[1]} attribute columns but {len(names)} names")
    regularised = regularised or {}
    scores = {}
    for k, name in enumerate(names):
        keep = np.isfinite(attrs[:, k])
        if keep.sum() < 3:
            raise ValueError(f"attribute {name!r} is defined on fewer than 3 samples")
        a, z = attrs[keep, k], codes[keep]
        a_bins = _discretise(a)
        mi = np.array([mutual_information(_discretise(z[:, j]), a_bins) for j in range(z.shape[1])])
        r2 = np.array([r2_linear(z[:, j], a) for j in range(z.shape[1])])
        rho = np.array([abs(stats.spearmanr(z[:, j], a).statistic) if np.ptp(z[:, j]) else 0.0
                        for j in range(z.shape[1])])
        top_mi, top_r2 = np.sort(mi)[::-1], np.sort(r2)[::-1]
        h = entropy(a_bins)
        best = int(np.argmax(mi))
        scc_dim = regularised.get(name, int(np.argmax(rho)))
        scores[name] = {
            "interpretability": r2_linear(z[:, best], a),
            "interpretability_dim": best,
            "mig": float((top_mi[0] - top_mi[1]) / h) if h > 0 and len(top_mi) > 1 else 0.0,
            "sap": float(top_r2[0] - top_r2[1]) if len(top_r2) > 1 else float(top_r2[0]),
            "scc": float(rho[scc_dim]),
            "scc_dim": int(scc_dim),
            "samples": int(keep.sum()),
        }
    return scores


def controllability(values: np.ndarray, measured: np.ndarray) -> float:
    """Mean Spearman rho over traversals: ``values (S,)`` swept on a dim, ``measured (N, S)`` attribute.

    Traversals with fewer than 3 defined measurements or a constant measurement count as rho 0.
    """
    values, measured = np.asarray(values, dtype=np.float64), np.asarray(measured, dtype=np.float64)
    if measured.ndim != 2 or measured.shape[1] != len(values):
        raise ValueError(f"expected measured (N, {len(values)}), got {measured.shape}")
    rhos = []
    for row in measured:
        keep = np.isfinite(row)
        if keep.sum() < 3 or np.ptp(row[keep]) == 0:
            rhos.append(0.0)
            continue
        rhos.append(float(stats.spearmanr(values[keep], row[keep]).statistic))
    return float(np.mean(rhos))
