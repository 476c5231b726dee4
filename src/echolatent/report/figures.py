"""Report figures (matplotlib, Agg canvas, no pyplot state): frame strips, attribute curves, temporal
deviations with their tolerance bands, and the EF Bland-Altman plot. Each function writes one PNG atomically
and returns its path.

Arrays follow echolatent's convention: frames and labels ``(T, H, W)``, apex at the top; attribute curves
``{name: (T,)}`` in mm / mm^2 with a spacing, pixels without (``units``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from echolatent.files import atomic_path
from echolatent.measure.attribute_info import ATTRIBUTE_INFO, unit_names
from echolatent.report.overlays import COLOURS, overlay, overlay_sequence, pick_frames, save_gif

BEFORE, AFTER, TRUTH = "#d62728", "#1f77b4", "#2ca02c"
SERIES_COLOURS = {"U-Net": BEFORE, "smoothed": AFTER, "expert": TRUTH, "truth": TRUTH}
#: Fewest patients for which 95 % limits of agreement (bias +- 1.96 SD) are drawn: the SD of 2 is no estimate.
LIMITS_MIN_N = 3
#: ``{attribute: (title, unit kind)}`` of the attribute table.
ATTRIBUTE_TITLES = {name: (info.title, info.unit) for name, info in ATTRIBUTE_INFO.items()}
__all__ = ["ATTRIBUTE_TITLES", "unit_names"]


def save_figure(figure: Figure, path: str | Path, dpi: int = 90) -> Path:
    """Write ``figure`` as PNG through a temporary file in the same folder."""
    with atomic_path(path, ".png") as tmp:
        figure.savefig(tmp, dpi=dpi, format="png")
    return Path(path)


def _frame_title(t: int, instants: list[str]) -> str:
    return f"frame {t + 1}" + (f" ({instants[t]})" if instants[t] else "")


def strip_figure(
    images: np.ndarray | None,
    rows: dict[str, np.ndarray],
    instants: list[str],
    path: str | Path,
    count: int = 6,
) -> Path:
    """Frames with label overlays: one row per entry of ``rows`` (e.g. "U-Net", "smoothed", "expert"),
    ``count`` evenly spaced frames (ED and ES included) as columns.

    Args:
        images: ``(T, H, W)`` uint8 (None: black background); rows: ``{title: (T, H, W) labels}``.
    """
    if not rows:
        raise ValueError("strip_figure needs at least one row of masks")
    frames = pick_frames(len(instants), count)
    height, width = next(iter(rows.values())).shape[1:]
    scale = 1.7 / max(height, width)
    # one frame (e.g. a CAMUS ED or ES file): the rows side by side instead
    grid = [(title, t) for title in rows for t in frames]
    shape = (1, len(rows)) if len(frames) == 1 else (len(rows), len(frames))
    size = (max(4.6, 0.4 + shape[1] * width * scale), 0.35 + shape[0] * (height * scale + 0.3))
    figure = Figure(figsize=size)
    axes = figure.subplots(*shape, squeeze=False).ravel()
    for ax, (title, t) in zip(axes, grid, strict=True):
        ax.imshow(overlay(None if images is None else images[t], rows[title][t]), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if len(frames) == 1:
            ax.set_title(f"{title}, {_frame_title(t, instants)}", fontsize=8)
            continue
        if title == next(iter(rows)):
            ax.set_title(_frame_title(t, instants), fontsize=8)
        if t == frames[0]:
            ax.set_ylabel(title, fontsize=9)
    figure.legend(handles=_label_handles(), loc="lower center", ncol=3, fontsize=8, frameon=False)
    figure.subplots_adjust(left=0.06, right=0.99, top=0.92, bottom=0.1, wspace=0.03, hspace=0.12)
    return save_figure(figure, path)


def _label_handles():
    from matplotlib.patches import Patch

    names = {1: "LV cavity", 2: "myocardium", 3: "left atrium"}
    return [Patch(color=np.asarray(c) / 255, label=names[int(k)]) for k, c in COLOURS.items()]


def comparison_gif(images: np.ndarray | None, panels: list[np.ndarray], path: str | Path, fps: float = 8) -> Path:
    """Animated GIF of the panels ``[(T, H, W) labels, ...]`` side by side over the frames (a white gap between)."""
    overlays = [overlay_sequence(images, masks) for masks in panels]
    gap = np.full((*overlays[0].shape[:2], 4, 3), 255, np.uint8)
    pieces = [p for o in overlays for p in (o, gap)][:-1]
    return save_gif(np.concatenate(pieces, axis=2), path, fps=fps, max_size=256 * len(panels))


def attribute_figure(
    curves: dict[str, dict[str, np.ndarray]],
    instants: list[str],
    units: dict[str, str],
    path: str | Path,
    names: list[str] | None = None,
    not_measured: dict[str, dict[str, str]] | None = None,
) -> Path:
    """Attribute curves over time, one panel per attribute, one line per entry of ``curves``
    (``{"U-Net": {name: (T,)}, "smoothed": {...}, "expert" or "truth": {...}}``); ED/ES frames marked; the unit
    in each panel's title and on its y axis.

    ``not_measured``: ``{curve: {name: "not measured on N frames: reason"}}``, written in the panel (never an
    empty axis without a word)."""
    names = names or [n for n in ATTRIBUTE_TITLES if any(n in c for c in curves.values())]
    figure = Figure(figsize=(11, 1.2 + 1.9 * ((len(names) + 3) // 4)))
    axes = figure.subplots((len(names) + 3) // 4, 4, squeeze=False).ravel()
    frames = np.arange(1, len(instants) + 1)
    for ax, name in zip(axes, names, strict=False):
        title, kind = ATTRIBUTE_TITLES.get(name, (name, "length"))
        for label, values in curves.items():
            if name in values:
                ax.plot(frames, values[name], marker=".", ms=3, lw=1.2, label=label, color=SERIES_COLOURS.get(label))
        _mark_instants(ax, instants)
        ax.set_title(f"{title} ({units[kind]})", fontsize=9)
        ax.set_ylabel(units[kind], fontsize=7)
        _frame_axis(ax, len(instants))
        _note_unmeasured(ax, name, not_measured)
    return _finish_grid(figure, axes, len(names), path)


def _note_unmeasured(ax, name: str, not_measured: dict[str, dict[str, str]] | None) -> None:
    """Write each curve's "not measured on N frames: reason" for attribute ``name`` in the panel."""
    lines = [f"{label}: {notes[name]}" for label, notes in (not_measured or {}).items() if name in notes]
    if lines:
        ax.text(0.5, 0.5, "\n".join(textwrap.fill(line, 48) for line in lines), transform=ax.transAxes,
                ha="center", va="center", fontsize=6, color="0.25", wrap=True,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7", "lw": 0.5})


def _finish_grid(figure, axes, used: int, path):
    """Hide the unused panels of a grid, put one shared legend on top, save the figure to ``path``."""
    for ax in axes[used:]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=8, frameon=False)
    figure.subplots_adjust(left=0.05, right=0.99, top=0.88, bottom=0.1, wspace=0.3, hspace=0.6)
    return save_figure(figure, path)


def _frame_axis(ax, frames: int) -> None:
    ax.set_xlim(0.5, frames + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=7)
    ax.set_xlabel("frame", fontsize=7)


def _mark_instants(ax, instants: list[str]) -> None:
    for t, label in enumerate(instants):
        if label:
            ax.axvline(t + 1, color="0.6", lw=0.8, ls=":")
            ax.annotate(label, (t + 1, 1), xycoords=("data", "axes fraction"), fontsize=6, color="0.4",
                        ha="center", va="bottom")


DEVIATION_UNIT = "d (fraction of range)"


def temporal_figure(
    deviations: dict[str, dict[str, np.ndarray]],
    tau: dict[str, float],
    path: str | Path,
    not_measured: dict[str, dict[str, str]] | None = None,
) -> Path:
    """Temporal deviation d(t) of each attribute (normalised units: a fraction of the attribute's range, the y axis
    says so) with its tolerance band +-tau shaded; points outside the band (temporally inconsistent frames) circled.

    Args:
        deviations: ``{"U-Net": {name: (T,) d(t)}, "smoothed": {...}}`` (NaN at the first and last frames).
        tau: ``{name: tau}``.
        not_measured: ``{curve: {name: "not measured on N frames: reason"}}`` (those frames are not verified).
    """
    names = [n for n in ATTRIBUTE_TITLES if n in tau and any(n in d for d in deviations.values())]
    if not names:
        raise ValueError("no attribute has both a deviation curve and a tolerance")
    rows = (len(names) + 3) // 4
    figure = Figure(figsize=(11, 1.2 + 1.9 * rows))
    axes = figure.subplots(rows, 4, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        ax.axhspan(-tau[name], tau[name], color="#2ca02c", alpha=0.15, lw=0, label="tolerance ±τ")
        for label, values in deviations.items():
            if name not in values:
                continue
            d = np.asarray(values[name], dtype=np.float64)
            frames = np.arange(1, len(d) + 1)
            ax.plot(frames, d, marker=".", ms=3, lw=1.1, color=SERIES_COLOURS.get(label), label=label)
            with np.errstate(invalid="ignore"):
                out = np.abs(d) > tau[name]
            ax.plot(frames[out], d[out], "o", mfc="none", mec=SERIES_COLOURS.get(label), ms=6)
        ax.set_title(f"{ATTRIBUTE_TITLES[name][0]} (τ = {tau[name]:.3g})", fontsize=9)
        ax.set_ylabel(DEVIATION_UNIT, fontsize=7)
        _frame_axis(ax, len(d))
        _note_unmeasured(ax, name, not_measured)
    return _finish_grid(figure, axes, len(names), path)


def strain_figure(
    curves: dict[str, np.ndarray],
    gls: dict[str, float],
    instants: list[str],
    path: str | Path,
    not_measured: dict[str, str] | None = None,
) -> Path:
    """Longitudinal strain curves (%) over time, one line per entry of ``curves`` (``{"U-Net": (T,), "smoothed":
    (T,)}``), GLS at ES of each in the legend, ED/ES marked; ``not_measured``: ``{curve: note}`` in the panel."""
    figure = Figure(figsize=(6, 3.2))
    ax = figure.subplots()
    colours = {"U-Net": BEFORE, "smoothed": AFTER, "expert": TRUTH}
    frames = np.arange(1, len(instants) + 1)
    for label, strain in curves.items():
        value = gls.get(label, float("nan"))
        text = f"{label} (GLS {value:.1f} %)" if np.isfinite(value) else f"{label} (GLS not measured)"
        ax.plot(frames, strain, marker=".", ms=3, lw=1.2, color=colours.get(label), label=text)
    ax.axhline(0, color="0.6", lw=0.6)
    _mark_instants(ax, instants)
    _frame_axis(ax, len(instants))
    ax.set_ylabel("strain (%)", fontsize=8)
    ax.set_title("Global longitudinal strain, (L(t) - L(ED)) / L(ED)", fontsize=9)
    if not_measured:
        _note_unmeasured(ax, "strain", {label: {"strain": note} for label, note in not_measured.items()})
    ax.legend(fontsize=7, frameon=False)
    figure.subplots_adjust(left=0.12, right=0.98, top=0.88, bottom=0.16)
    return save_figure(figure, path)


def bland_altman_figure(
    measured: dict[str, dict[str, float]],
    truth: dict[str, float],
    path: str | Path,
    quantity: str = "EF (%)",
    reference: str = "true",
) -> Path:
    """Bland-Altman plot: difference (measured - reference) against the mean of the two, per patient.

    Args:
        measured: ``{"U-Net": {patient: value}, "smoothed": {...}}``; truth: ``{patient: value}``.
        reference: the reference's adjective in the axis labels ("true" for synthetic truth, "expert").
        One series per method, each with its bias (solid) and, from :data:`LIMITS_MIN_N` patients on, its 95 %
        limits of agreement (dashed, bias +- 1.96 SD); with fewer the legend says why there are none.
    """
    figure = Figure(figsize=(6.2, 4.2))
    ax = figure.subplots()
    styles = {"U-Net": (BEFORE, "o"), "smoothed": (AFTER, "s")}
    counts = []
    for label, values in measured.items():
        patients = [p for p in values if p in truth and np.isfinite(values[p]) and np.isfinite(truth[p])]
        if not patients:
            continue
        a = np.array([values[p] for p in patients])
        b = np.array([truth[p] for p in patients])
        diff, mean = a - b, (a + b) / 2
        colour, marker = styles.get(label, (None, "o"))
        bias = float(diff.mean())
        text = f"{label}: bias {bias:+.1f}"
        if len(diff) >= LIMITS_MIN_N:
            sd = float(diff.std(ddof=1))
            text += f", 95 % limits {bias - 1.96 * sd:+.1f} to {bias + 1.96 * sd:+.1f}"
            for limit in (bias - 1.96 * sd, bias + 1.96 * sd):
                ax.axhline(limit, color=colour, lw=0.8, ls="--")
        else:
            text += f" (no limits of agreement: n = {len(diff)} < {LIMITS_MIN_N})"
        ax.scatter(mean, diff, s=28, color=colour, marker=marker, alpha=0.75, label=text)
        ax.axhline(bias, color=colour, lw=1)
        counts.append(len(patients))
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_xlabel(f"mean of measured and {reference} {quantity}")
    ax.set_ylabel(f"measured − {reference} {quantity}")
    n = max(counts, default=0)
    ax.set_title(f"Bland-Altman: {quantity}, n = {n} patient{'s' * (n != 1)}", fontsize=10)
    if counts:
        ax.legend(fontsize=8, loc="best")
    figure.tight_layout()
    return save_figure(figure, path)
