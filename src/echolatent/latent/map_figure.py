"""The latent map figure (matplotlib, PNG): one panel per attribute, the dataset's projected codes coloured by it.

Drawn from the JSON-ready payload of :func:`echolatent.latent.map_data.map_payload`, so that the figure and the
``latent_map.json`` beside it always show the same numbers. A sequence's trajectory, when present, is drawn on
every panel: before smoothing (U-Net, ``_pred``) in red, after (``_post``) in blue, its first frame ringed, with an
inset zoomed on it.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from echolatent.latent.figures import _save

log = logging.getLogger(__name__)

BEFORE, AFTER = "#d62728", "#1f77b4"
# drawn in this order: the smoothed path underneath (solid), the U-Net's dashed on top, so both stay visible
STAGE_STYLE = {"post": (AFTER, "after smoothing", "-", 2.2), "pred": (BEFORE, "before smoothing (U-Net)", "--", 1.1)}
COLUMNS = 4


def _as_array(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _draw_trajectory(ax: Axes, trajectory: dict, legend: bool) -> None:
    for stage, (colour, label, style, width) in STAGE_STYLE.items():
        if stage not in trajectory:
            continue
        points = np.asarray(trajectory[stage], dtype=np.float64)
        ax.plot(points[:, 0], points[:, 1], style, marker="o", color=colour, lw=width, ms=2.5,
                label=label if legend else None)
        ax.plot(points[0, 0], points[0, 1], "o", mfc="none", mec=colour, ms=9, mew=1.5)


def _zoom(ax: Axes, payload: dict, values: np.ndarray, dots) -> None:
    """An inset of ``ax`` around the trajectory (which spans a small part of the map), same points and colours."""
    track = np.concatenate([np.asarray(v, dtype=np.float64) for k, v in payload["trajectory"].items() if k != "name"])
    low, high = track.min(0), track.max(0)
    pad = np.maximum((high - low) * 0.25, 0.05)
    inset = ax.inset_axes([0.62, 0.03, 0.36, 0.36])
    x, y = _as_array(payload["x"]), _as_array(payload["y"])
    inset.scatter(x, y, s=7, c=values, cmap=dots.cmap, norm=dots.norm, linewidths=0)
    _draw_trajectory(inset, payload["trajectory"], legend=False)
    inset.set_xlim(low[0] - pad[0], high[0] + pad[0])
    inset.set_ylim(low[1] - pad[1], high[1] + pad[1])
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_title("zoom", fontsize=6, pad=1)
    ax.indicate_inset_zoom(inset, edgecolor="0.4")


def _panel(fig: Figure, ax: Axes, payload: dict, name: str, legend: bool) -> None:
    x, y, values = _as_array(payload["x"]), _as_array(payload["y"]), _as_array(payload["attributes"][name])
    known = np.isfinite(values)
    if (~known).any():
        ax.scatter(x[~known], y[~known], s=6, c="#bbbbbb", label="undefined" if legend else None)
    dots = ax.scatter(x[known], y[known], s=7, c=values[known], cmap="viridis", linewidths=0)
    bar = fig.colorbar(dots, ax=ax, fraction=0.046, pad=0.02)
    bar.set_label(payload["labels"][name], fontsize=8)
    bar.ax.tick_params(labelsize=7)
    if "trajectory" in payload:
        _draw_trajectory(ax, payload["trajectory"], legend)
        _zoom(ax, payload, values, dots)
    ax.set_xlabel(payload["axis_labels"][0], fontsize=8)
    ax.set_ylabel(payload["axis_labels"][1], fontsize=8)
    ax.tick_params(labelsize=7)


def map_figure(payload: dict, path: str | Path, attributes: list[str] | None = None) -> Path:
    """Write the latent map of ``payload`` (one panel per attribute, default all) as a PNG at ``path``.

    Raises:
        ValueError: an attribute the payload does not hold.
    """
    names = list(attributes) if attributes else list(payload["attributes"])
    missing = [n for n in names if n not in payload["attributes"]]
    if missing:
        raise ValueError(f"the map holds no attribute {missing}; it has {list(payload['attributes'])}")
    rows = math.ceil(len(names) / COLUMNS)
    cols = min(COLUMNS, len(names))
    fig = Figure(figsize=(4.1 * cols, 3.5 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= len(names):
            ax.set_axis_off()
            continue
        _panel(fig, ax, payload, names[index], legend=index == 0)
        ax.set_title(payload["labels"][names[index]], fontsize=9)
    if axes.flat[0].get_legend_handles_labels()[0]:
        axes.flat[0].legend(fontsize=7, loc="upper left")
    title = (f"{payload['model_kind']} latent map ({payload['method'].upper()} of mu): {len(payload['x'])} "
             f"expert mask frames of {payload['source']}")
    if "trajectory" in payload:
        title += f"; trajectory of {payload['trajectory']['name']}"
    fig.suptitle(title, fontsize=10)
    log.debug("latent map with %d panels -> %s", len(names), path)
    return _save(fig, path)
