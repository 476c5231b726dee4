"""``report.html``: one self-contained page (inline CSS, no script, no network) whose pictures lie beside it in
``report_files/``. Built from plain data (the summary dict and one entry dict per sequence, see
:mod:`echolatent.report.build`) so that everything shown is also in ``summary.json``.

Sections: overview across sequences; clinical indices (EDV, ESV, EF); agreement with the expert masks (Dice,
Hausdorff, Bland-Altman of EF); one section per sequence (frames before/after smoothing, per-frame validity,
attribute curves, temporal deviations with their tolerance bands); how to read it; the run's configuration.
"""

from __future__ import annotations

import html
from pathlib import Path

from echolatent.files import write_text_atomic
from echolatent.measure.validity import CRITERIA
from echolatent.report.figures import DEVIATION_UNIT, LIMITS_MIN_N
from echolatent.report.inputs import inputs_section

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:20px 28px 60px}
h1{font-size:1.6em;margin:.2em 0}
h2{font-size:1.25em;margin-top:1.8em;border-bottom:2px solid #d8dde6;padding-bottom:4px}
h3{font-size:1.08em;margin:1.4em 0 .4em}
section.seq{background:#fff;border:1px solid #dde2ea;border-radius:6px;padding:6px 18px 14px;margin:18px 0}
table{border-collapse:collapse;margin:8px 0 14px;font-size:.9em;background:#fff}
th,td{border:1px solid #d3d9e2;padding:4px 8px;text-align:right}th{background:#eef1f6}td{white-space:nowrap}
td.l,th.l{text-align:left}.muted{color:#66707f}.note{background:#fff7e0;border-left:4px solid #e0a800;padding:6px 10px}
.good{color:#1a7f37}.bad{color:#c62828}img{max-width:100%;height:auto;display:block;margin:6px 0}
table.verdicts td{padding:2px 0;width:18px;text-align:center;font-size:.8em}
td.ok{background:#c9ecd1}td.ko{background:#f6c3c3}td.na{background:#eceff3}
.gif{display:inline-block;margin-right:16px;vertical-align:top}
.gif img{width:min(100%,780px);image-rendering:pixelated}.small{font-size:.85em}
dl dt{font-weight:600;margin-top:6px}dl dd{margin-left:18px}
"""


def _e(value) -> str:
    return html.escape(str(value))


def _num(value, digits: int = 1, signed: bool = False) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]], left: int = 1, cls: str = "") -> str:
    """HTML table; cells are already escaped HTML; the first ``left`` columns are left-aligned."""
    def cells(values, tag):
        return "".join(f"<{tag}{' class=l' if i < left else ''}>{v}</{tag}>" for i, v in enumerate(values))

    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
    return f"<table{f' class={cls}' if cls else ''}><tr>{cells(header, 'th')}</tr>{body}</table>"


def _img(src: str | None, alt: str) -> str:
    return f'<img src="{_e(src)}" alt="{_e(alt)}">' if src else ""


def _arrow(before, after, fmt) -> str:
    return fmt(before) if after is None else f"{fmt(before)} → {fmt(after)}"


# ------------------------------------------------------------------------------------------------ sections


def overview_section(entries: list[dict], has_gt: bool, units: dict) -> str:
    header = ["sequence", "frames", "anatomically valid frames", "temporally inconsistent frames"]
    header += ["LV Dice (0–1)", f"LV Hausdorff ({_e(units['length'])})"] if has_gt else []
    remarks = any(entry["remark"] for entry in entries)
    header += ["remark"] if remarks else []
    rows = []
    for entry in entries:
        v_before, v_after = entry["valid"]["before"], entry["valid"]["after"]
        t_before, t_after = entry["inconsistent"]["before"], entry["inconsistent"]["after"]
        total = entry["frames"]
        row = [f'<a href="#{_e(entry["anchor"])}">{_e(entry["ids"]["sequence"])}</a>', str(total),
               _arrow(v_before, v_after, lambda v, total=total: f"{v}/{total}"),
               "–" if t_before is None else _arrow(t_before, t_after, str)]
        if has_gt:
            lv = entry["scores"].get("LV", {})
            row += [_arrow(lv.get("before", {}).get("dice"), lv.get("after", {}).get("dice") if entry["smoothed"]
                           else None, lambda v: _num(v, 3)),
                    _arrow(lv.get("before", {}).get("hd_mm"), lv.get("after", {}).get("hd_mm") if entry["smoothed"]
                           else None, lambda v: _num(v, 1))]
        if remarks:
            row.append(f'<span class="muted">{_e(entry["remark"])}</span>')
        rows.append(row)
    return ("<h2>Overview</h2><p>Each row is one image sequence. Arrows read <b>U-Net → after smoothing</b>. "
            "A frame is <i>anatomically valid</i> when its masks pass every plausibility check; it is "
            "<i>temporally inconsistent</i> when a shape measurement jumps away from its neighbours by more than "
            "its tolerance.</p>" + _table(header, rows))


def clinical_section(clinical: dict, units: dict, all_patients: list[str]) -> str:
    before, after = clinical.get("before", {}), clinical.get("after", {})
    patients = sorted(set(before) | set(after))
    missing = [p for p in all_patients if p not in patients]
    why = ("<p class=small>No clinical index for " + _e(", ".join(missing)) + ": volumes need the ED and ES frames "
           "of a view with a measurable LV cavity (a named CAMUS view, with the LV present at both instants).</p>"
           if missing else "")
    if not patients:
        return "<h2>Clinical indices</h2>" + (why or "<p>No clinical index.</p>")
    volume = units["volume"]
    header = ["patient", "method", f"EDV ({volume})", f"ESV ({volume})", "EF (%)"]
    rows = []
    for patient in patients:
        for label, table in (("U-Net", before), ("after smoothing", after)):
            row = table.get(patient)
            if row is None:
                continue
            p = row["pred"]
            rows.append([f"{_e(patient)} <span class=muted>{label}</span>", _e(p["method"]), _num(p["edv"]),
                         _num(p["esv"]), _num(p["ef"])])
        truth_row = before.get(patient) or after.get(patient)
        truth = truth_row.get("truth") if truth_row else None
        if truth:
            rows.append([f"{_e(patient)} <span class=muted>reference ({_e(truth_row.get('truth_source', ''))})"
                         "</span>", "", _num(truth.get("EDV")), _num(truth.get("ESV")), _num(truth.get("EF"))])
    text = (f"<h2>Clinical indices</h2><p>Left-ventricular end-diastolic and end-systolic volumes (EDV, ESV) and "
            f"ejection fraction EF = (EDV − ESV) / EDV, by the method of disks (Simpson): <b>biplane</b> when a "
            f"patient has both the 2- and 4-chamber views, <b>single-plane</b> otherwise. Volumes are in "
            f"<b>{_e(volume)}</b>{_e(units['note'])}.</p>")
    return text + _table(header, rows, left=2) + why


def scores_section(summary: dict, figures: dict, reference: str | None) -> str:
    before = summary["before"]["scores"]
    after = (summary.get("after") or {}).get("scores") or {}
    if not before:
        return ""
    rows = []
    for structure, by_instant in before.items():
        for instant, values in by_instant.items():
            post = after.get(structure, {}).get(instant, {})
            rows.append([_e(structure), _e(instant), str(values["frames"]),
                         _arrow(values["dice"], post.get("dice"), lambda v: _num(v, 3)),
                         _arrow(values["hd_mm"], post.get("hd_mm"), lambda v: _num(v, 2)),
                         _arrow(values["assd_mm"], post.get("assd_mm"), lambda v: _num(v, 2))])
    unit = summary["units"]["length"]
    masks = "the synthetic truth (not an expert's masks)" if reference == "truth" else "the expert masks"
    text = (f"<h2>Agreement with {masks}</h2><p>Dice overlap (0 to 1, 1 = identical), Hausdorff distance (the "
            f"largest boundary disagreement) and mean boundary distance, in {_e(unit)}; EPI is the LV cavity plus "
            "myocardium. Arrows read <b>U-Net → after smoothing</b> (after smoothing only on sequences of 3 frames "
            "or more).</p>")
    text += _table(["structure", "frames", "n", "Dice (0–1)", f"Hausdorff ({unit})", f"mean distance ({unit})"], rows,
                   left=2)
    mae = summary["before"]["clinical"]["mae"]
    if mae:
        mae_after = (summary.get("after") or {}).get("clinical", {}).get("mae", {})
        units = {"EDV": summary["units"]["volume"], "ESV": summary["units"]["volume"], "EF": "%"}
        rows = [[f"{_e(k)} ({_e(units.get(k, ''))})", _arrow(v, mae_after.get(k), lambda x: _num(x, 1)),
                 _arrow(summary["before"]["clinical"]["bias"].get(k), (summary.get("after") or {}).get(
                     "clinical", {}).get("bias", {}).get(k), lambda x: _num(x, 1, signed=True))]
                for k, v in mae.items()]
        text += ("<h3>Clinical errors against the reference</h3>"
                 + _table(["index", "mean absolute error", "mean signed error (bias)"], rows))
    if figures.get("bland_altman"):
        n = figures.get("bland_altman_n", 0)
        caption = (f"n = {n} patient{'s' * (n != 1)}. Dashed lines: 95 % limits of agreement (bias ± 1.96 SD)."
                   if n >= LIMITS_MIN_N else
                   f"n = {n} patient{'s' * (n != 1)}: too few for limits of agreement (a standard deviation of fewer "
                   f"than {LIMITS_MIN_N} differences is no estimate), so only the bias is drawn.")
        text += ("<h3>Ejection fraction against the reference</h3>" + _img(figures["bland_altman"],
                 "Bland-Altman plot of EF") + f"<p class=small id=bland-altman-n>{_e(caption)}</p>")
    return text


def _verdict_row(label: str, valid: list[bool] | None, failures: dict) -> list[str]:
    if valid is None:
        return []
    cells = []
    for t, ok in enumerate(valid):
        why = ", ".join(failures.get(str(t), [])) or "all checks passed"
        cells.append(f'<td class="{"ok" if ok else "ko"}" title="frame {t + 1}: {_e(why)}">{"✓" if ok else "✗"}</td>')
    return [f"<tr><th class=l>{_e(label)}</th>{''.join(cells)}</tr>"]


def _failed_criteria(failures: dict) -> list[str]:
    """Criteria failed by any frame of ``{frame: [criteria]}``, in :data:`CRITERIA` order."""
    seen = {c for names in failures.values() for c in names}
    return [c for c in CRITERIA if c in seen]


def validity_block(entry: dict) -> str:
    validity = entry["validity"]
    head = "".join(f"<th>{t + 1}{'<br>' + i if i else ''}</th>" for t, i in enumerate(entry["instants"]))
    rows = [f"<tr><th class=l>frame</th>{head}</tr>"]
    rows += _verdict_row("U-Net", validity["before"], validity["failures_before"])
    rows += _verdict_row("after smoothing", validity["after"], validity["failures_after"])
    failed = _failed_criteria(validity["failures_before"])
    listing = ""
    if failed:
        listing = "<p class=small>U-Net masks fail: " + ", ".join(_e(CRITERIA_WORDS.get(c, c)) for c in failed)
        failed_after = _failed_criteria(validity["failures_after"])
        if validity["after"] is not None:
            listing += "; after smoothing: " + (", ".join(_e(CRITERIA_WORDS.get(c, c)) for c in failed_after)
                                                or "none")
        listing += ".</p>"
    return ("<h3>Anatomical plausibility, frame by frame</h3><p class=small>✓ valid, ✗ fails at least one check "
            "(hover a cell for the checks it fails).</p>" + f"<table class=verdicts>{''.join(rows)}</table>" + listing)


def sequence_section(entry: dict) -> str:
    ids = entry["ids"]
    figures = entry["figures"]
    parts = [f'<section class="seq" id="{_e(entry["anchor"])}"><h2>{_e(ids["sequence"])}</h2>',
             f"<p class=muted>{entry['frames']} frame(s); view {_e(ids.get('view') or 'unknown')}; pixel size "
             f"{_e(entry['spacing_text'])}.</p>"]
    if entry["note"]:
        parts.append(f"<p class=note>{_e(entry['note'])}</p>")
    if figures.get("strip"):
        parts.append("<h3>Frames</h3><p class=small>Red: LV cavity, green: myocardium, blue: left atrium.</p>")
        parts.append(_img(figures["strip"], f"frames of {ids['sequence']}"))
    if figures.get("gif"):
        parts.append(f'<div class=gif>{_img(figures["gif"], "animation")}<span class=small>'
                     f'{_e(figures.get("gif_caption", ""))}</span></div>')
    parts.append(validity_block(entry))
    if figures.get("attributes"):
        parts.append("<h3>Shape measurements over time</h3>" + _img(figures["attributes"], "attribute curves"))
    if figures.get("temporal"):
        parts.append("<h3>Temporal consistency</h3><p class=small>Each panel shows how far a measurement departs "
                     "from the average of its two neighbouring frames, as a fraction of the measurement's range "
                     f"({_e(DEVIATION_UNIT)}). The green band is the "
                     "tolerance ±τ; circled points are temporally inconsistent frames. Tolerances: "
                     f"{_e(entry.get('thresholds_note') or 'published')}.</p>")
        parts.append(_img(figures["temporal"], "temporal deviations"))
    unverified = sorted(set().union(*(entry.get("not_verified") or {}).values()))
    if unverified:
        parts.append(f"<p class=note>Not verified (not measured on some frames, never counted consistent): "
                     f"{_e(', '.join(unverified))}.</p>")
    if figures.get("strain"):
        parts.append("<h3>Longitudinal strain</h3><p class=small>Endocardial length from one basal point to the "
                     "other through the apex, relative to ED, before and after smoothing.</p>")
        parts.append(_img(figures["strain"], "strain curves"))
    smooth = entry.get("smooth")
    if smooth:
        parts.append(f"<p class=small>Smoothing: method {_e(smooth['method'])}, {smooth['rounds']} solve(s), "
                     f"{len(smooth.get('tightened', []))} local tightening(s) of the limits, "
                     f"{_num(smooth['seconds'], 2)} s (details in summary.json).</p>")
    if not figures:
        parts.append("<p class=muted>Figures are drawn for the first sequences only; this one is in the tables.</p>")
    parts.append("</section>")
    return "".join(parts)


CRITERIA_WORDS = {
    "holes_lv": "hole in the LV cavity",
    "holes_la": "hole in the left atrium",
    "holes_epi": "hole in LV + myocardium",
    "disconnected_lv": "LV cavity in several pieces",
    "disconnected_myo": "myocardium in several pieces",
    "disconnected_la": "left atrium in several pieces",
    "holes_lv_myo": "gap between LV cavity and myocardium",
    "holes_lv_la": "gap between LV cavity and atrium",
    "frontier_lv_bg": "LV cavity not enclosed by the myocardium",
    "frontier_myo_la": "myocardium overlapping the atrium",
    "width_ratio_lv_myo": "LV cavity too wide for its wall",
    "erosion_ratio_myo": "myocardium too thin somewhere",
}

GLOSSARY = """<h2>How to read this report</h2><dl>
<dt>U-Net masks</dt><dd>the frame-by-frame segmentation of the neural network (files <code>*_pred.nii.gz</code>).</dd>
<dt>After smoothing</dt><dd>the same masks made anatomically plausible and temporally consistent: each frame is
encoded by a shape model of the heart (an attribute-regularised variational autoencoder), the codes are smoothed
over time within explicit limits on how much each shape measurement may change, and decoded back into masks
(files <code>*_post.nii.gz</code>).</dd>
<dt>Anatomically valid</dt><dd>no holes, each structure in one piece, the LV cavity enclosed by the myocardium, a
myocardium of plausible thickness and proportions (Painchaud et al., TMI 2020).</dd>
<dt>Temporally consistent</dt><dd>no shape measurement (LV area, length, base width, orientation, myocardium and
atrium areas, heart centre) departs from the average of its neighbouring frames by more than its tolerance τ
(Painchaud et al., TMI 2022).</dd>
<dt>Dice, Hausdorff</dt><dd>overlap (0 to 1) and largest boundary distance between a mask and the reference
(the expert's masks, or the generator's truth for synthetic data).</dd>
<dt>EDV, ESV, EF</dt><dd>LV volumes at end-diastole and end-systole, ejection fraction, by the method of disks.</dd>
</dl>"""


def config_section(config: dict) -> str:
    rows = [[_e(k), _e(v)] for k, v in config.items() if k != "versions"]
    rows += [[f"version of {_e(k)}", _e(v)] for k, v in config.get("versions", {}).items()]
    return "<h2>Run</h2>" + _table(["setting", "value"], rows, left=2)


def beats_section(beats: dict, units: dict) -> str:
    """EDV / ESV / EF per beat with their mean ± SD, per patient (``summary.json``'s ``beats``), and the EF of the same
    beats on the U-Net's masks; "" without beats."""
    if not beats:
        return ""
    volume = units["volume"]
    header = ["patient", "beat", "frames (from 1)", f"EDV ({volume})", f"ESV ({volume})", "EF (%)",
              "EF, U-Net masks (%)"]
    rows = []
    for patient, table in beats.items():
        unet = table.get("unet") or {"beats": [], "mean": {}, "sd": {}}
        for i, row in enumerate(table["beats"]):
            frames = ", ".join(f"{k} {v + 1}" for k, v in row.items() if k in ("ED", "ES") or k[:3] in ("ED_", "ES_"))
            other = _num(unet["beats"][i]["EF"]) if i < len(unet["beats"]) else "–"
            rows.append([_e(patient), str(row["beat"]), frames, _num(row["EDV"]), _num(row["ESV"]), _num(row["EF"]),
                         other])
        mean, sd = table["mean"], table["sd"]
        other = f"{_num(unet['mean']['EF'])} ± {_num(unet['sd']['EF'])}" if "EF" in unet["mean"] else "–"
        rows.append([f"{_e(patient)} <span class=muted>{_e(table['method'])}</span>", "mean ± SD", "",
                     f"{_num(mean['EDV'])} ± {_num(sd['EDV'])}", f"{_num(mean['ESV'])} ± {_num(sd['ESV'])}",
                     f"{_num(mean['EF'])} ± {_num(sd['EF'])}", other])
    text = ("<h2>Every beat</h2><p>ED (largest LV cavity) and ES (smallest) found on the smoothed LV area curve of "
            "each beat; volumes by the method of disks (biplane when both views of a patient have beats) on the "
            "smoothed masks. The last column measures the same frames on the U-Net's masks: on fast recordings the "
            "smoothing can flatten each beat's turning points, and EF comes out lower.</p>")
    return text + _table(header, rows, left=3)


def render_report(context: dict) -> str:
    """The whole page as a string; ``context``: title, summary, entries, clinical, units, figures, config."""
    entries, summary = context["entries"], context["summary"]
    has_gt = bool(summary["before"]["scores"])
    body = [f"<h1>{_e(context['title'])}</h1>",
            f"<p class=muted>{_e(context['subtitle'])}</p>"]
    body.append(inputs_section(entries, context.get("reference")))
    body += [f"<p class=note>{_e(note)}</p>" for note in context.get("notes", [])]
    body.append(overview_section(entries, has_gt, context["units"]))
    patients = list(dict.fromkeys(entry["ids"]["patient"] for entry in entries))
    body.append(clinical_section(context["clinical"], context["units"], patients))
    body.append(beats_section(summary.get("beats") or {}, context["units"]))
    body.append(scores_section(summary, context["figures"], context.get("reference")))
    body += [sequence_section(entry) for entry in entries]
    body.append(GLOSSARY)
    body.append(config_section(context["config"]))
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'><title>{_e(context['title'])}"
            f"</title><style>{CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n")


def write_report(context: dict, path: str | Path) -> Path:
    """Render :func:`render_report` into ``path`` atomically."""
    return write_text_atomic(render_report(context), path)
