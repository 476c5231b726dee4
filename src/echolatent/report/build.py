"""The run report from results it is given: per-sequence figures, per-sequence entries, the Bland-Altman figure and
``report.html`` (:mod:`.html`). Nothing here measures or runs the pipeline: :mod:`echolatent.jobs.run` does.

Files: ``OUT/report.html`` and ``OUT/report_files/`` (figures named ``<index>_<sequence>_<kind>.png``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from echolatent.labels import MIN_FRAMES
from echolatent.measure.attribute_info import unit_names
from echolatent.measure.attributes import not_measured_notes
from echolatent.pipeline import SequenceResult
from echolatent.report import figures as fig
from echolatent.report.html import write_report

log = logging.getLogger(__name__)

FILES = "report_files"


def draw_sequence(result: SequenceResult, folder: Path, index: int, truth_attributes: dict | None = None,
                  reference: str = "expert") -> dict:
    """Figures of one sequence into ``folder``; returns ``{kind: path relative to the report}``.

    ``truth_attributes``: ``{attribute: (T,)}`` of the ground truth, drawn with the other curves and labelled
    ``reference`` ("truth" for synthetic data, "expert" for expert masks).
    """
    stem = f"{index:03d}_{result.name}"
    rows = {"U-Net": result.pred}
    if result.post is not None:
        rows["smoothed"] = result.post
    if result.gt is not None:
        rows[reference] = result.gt
    figures = {"strip": fig.strip_figure(result.images, rows, result.instants, folder / f"{stem}_strip.png")}
    if result.frames >= 2:
        figures["gif"] = fig.comparison_gif(result.images, list(rows.values()), folder / f"{stem}.gif")
        figures["gif_caption"] = "Animation, left to right: " + ", ".join(rows) + "."
    if result.frames >= MIN_FRAMES:
        units = unit_names(result.spacing is not None)
        curves = {"U-Net": result.before.attributes}
        if result.after is not None:
            curves["smoothed"] = result.after.attributes
        if truth_attributes is not None:
            curves[reference] = truth_attributes
        measured = {label: m for label, m in (("U-Net", result.before), ("smoothed", result.after)) if m is not None}
        notes = {label: not_measured_notes(m.reasons) for label, m in measured.items()}
        figures["attributes"] = fig.attribute_figure(curves, result.instants, units, folder / f"{stem}_attributes.png",
                                                     not_measured=notes)
        deviations = {label: m.temporal.d for label, m in measured.items() if m.temporal is not None}
        if deviations and result.thresholds is not None:
            figures["temporal"] = fig.temporal_figure(deviations, result.thresholds.tau,
                                                      folder / f"{stem}_temporal.png", not_measured=notes)
        figures.update(_strain_figure(measured, result.instants, folder / f"{stem}_strain.png"))
    return {k: f"{FILES}/{Path(v).name}" if isinstance(v, Path) else v for k, v in figures.items()}


def _strain_figure(measured: dict, instants: list[str], path: Path) -> dict:
    """``{"strain": path}`` of the strain curves of the measured stages (``{}`` when none has one)."""
    strains = {label: m.strain for label, m in measured.items() if m.strain is not None}
    if not strains:
        return {}
    notes = {label: not_measured_notes({"strain": s.reasons})["strain"] for label, s in strains.items() if s.reasons}
    gls = {label: s.gls_es for label, s in strains.items()}
    return {"strain": fig.strain_figure({k: s.strain for k, s in strains.items()}, gls, instants, path, notes)}


def sequence_entry(item: dict, index: int) -> dict:
    """The report's view of one sequence (plain values)."""
    result: SequenceResult = item["result"]
    before, after = result.before, result.after

    def failures(measures):
        if measures is None:
            return {}
        return {str(t): measures.validity.failures(t) for t in range(measures.frames) if not measures.validity.valid[t]}

    def inconsistent(measures):
        return None if measures is None or measures.temporal is None else int((~measures.temporal.frame_ok).sum())

    def not_verified(measures):
        return [] if measures is None or measures.temporal is None else measures.temporal.not_verified

    scores = {}
    for label, measures in (("before", before), ("after", after)):
        if measures is not None and measures.scores:
            for structure, values in measures.scores.items():
                scores.setdefault(structure, {})[label] = {k: _nanmean(v) for k, v in values.items()}
    spacing = result.spacing
    return {
        "ids": result.ids, "anchor": f"seq{index}", "frames": result.frames, "instants": result.instants,
        "note": result.note, "smoothed": item["smoothed"], "figures": item["figures"],
        "has_gt": item.get("has_gt", False), "instants_source": item.get("instants_source", "none"),
        "view_source": item.get("view_source", "file name"),
        "remark": "" if item["smoothed"] else f"not smoothed ({result.frames} frame{'s' * (result.frames > 1)})",
        "spacing_text": f"{spacing[0]:.3g} x {spacing[1]:.3g} mm" if spacing else "unknown (measured in pixels)",
        "valid": {"before": int(before.validity.valid.sum()),
                  "after": None if after is None else int(after.validity.valid.sum())},
        "inconsistent": {"before": inconsistent(before), "after": inconsistent(after)},
        "not_verified": {"before": not_verified(before), "after": not_verified(after)},
        "validity": {"before": before.validity.valid.tolist(),
                     "after": None if after is None else after.validity.valid.tolist(),
                     "failures_before": failures(before), "failures_after": failures(after)},
        "scores": scores, "smooth": result.smooth,
        "thresholds_note": result.thresholds.note if result.thresholds is not None else "",
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


def _nanmean(values) -> float | None:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else None


def write_run_report(entries: list[dict], summary: dict, clinical: dict, config: dict, title: str, out: Path,
                     reference: str = "expert") -> Path:
    """``out/report.html`` (and the Bland-Altman figure) from :func:`sequence_entry` items, the ``summary.json`` dict
    (with its ``units``), the clinical tables ``{"before"/"after": {patient: row}}`` and the run's config;
    ``reference`` names the ground truth ("truth" for synthetic data, "expert")."""
    units = summary["units"]
    adjective = "true" if reference == "truth" else "expert"
    drawn = config.get("figures", "all") != "none"  # --figures none: no figure at all
    path, n = _bland_altman(clinical, out / FILES, adjective) if drawn else (None, 0)
    figures = {"bland_altman": path, "bland_altman_n": n}
    notes = [f"{sum(not e['smoothed'] for e in entries)} sequence(s) were not smoothed (fewer than {MIN_FRAMES} "
             "frames); their U-Net masks are measured as they are."] if not all(e["smoothed"] for e in entries) else []
    context = {"title": title, "entries": entries, "summary": summary, "clinical": clinical, "units": units,
               "figures": figures, "config": config, "notes": notes, "reference": reference,
               "subtitle": f"{len(entries)} sequence(s) from {config['input']}; smoothing method {config['method']}; "
                           f"made {config['started']}."}
    return write_report(context, out / "report.html")


def _bland_altman(clinical: dict, folder: Path, adjective: str) -> tuple[str | None, int]:
    """The EF Bland-Altman figure (path relative to the report, or None) and its number of patients."""
    truth, measured = {}, {}
    for label, name in (("before", "U-Net"), ("after", "smoothed")):
        for patient, row in clinical[label].items():
            if row.get("truth", {}).get("EF") is not None:
                truth[patient] = row["truth"]["EF"]
                measured.setdefault(name, {})[patient] = row["pred"]["ef"]
    if not truth:
        return None, 0
    path = fig.bland_altman_figure(measured, truth, folder / "bland_altman_ef.png", reference=adjective)
    return f"{FILES}/{path.name}", len(truth)
