"""The report's "Inputs and assumptions" box: what the run took from the files and what it had to assume, in
plain words, from the per-sequence entries of :mod:`echolatent.report.build` (view, pixel size, ED/ES, truth).
"""

from __future__ import annotations

import html
from collections import Counter

INSTANT_WORDS = {
    "cfg": "read from the Info_*.cfg files",
    "file": "named by the files (single ED or ES frames)",
    "assumed": "<b>assumed</b>: first frame = ED, last frame = ES (no Info_*.cfg beside the images)",
    "none": "<b>unknown</b> (not a CAMUS half sequence and no cfg): no clinical indices",
    "found": "found on the smoothed LV area curve: every beat's ED (largest LV) and ES (smallest LV)",
    "not found": "<b>none</b> found on the smoothed LV area curve (no cfg, no beat there): no clinical indices",
    "given": "given with --ed / --es",
}
VIEW_WORDS = {"file name": "from the file names", "DICOM description": "from the DICOM series description",
              "--view": "given with --view"}


def _count(n: int, total: int) -> str:
    return "all sequences" if n == total else f"{n} of {total} sequences"


def _views(entries: list[dict]) -> str:
    views = Counter(entry["ids"].get("view") or "" for entry in entries)
    sources: dict[str, Counter] = {}
    for entry in entries:
        if entry["ids"].get("view"):
            source = entry.get("view_source") or "file name"
            sources.setdefault(source, Counter())[entry["ids"]["view"]] += 1
    text = "; ".join(f"{VIEW_WORDS.get(source, html.escape(source))}: "
                     + ", ".join(f"{view} ({n})" for view, n in sorted(counts.items()))
                     for source, counts in sources.items())
    if views.get(""):
        text += ("; " if text else "") + (f"<b>unknown</b> for {_count(views[''], len(entries))} (no 2CH/4CH in the "
                                          "file name or header; --view gives it): no clinical indices for them")
    return text


def _pixel_sizes(entries: list[dict]) -> str:
    unknown = [e for e in entries if e["spacing_text"].startswith("unknown")]
    known = sorted({e["spacing_text"] for e in entries} - {e["spacing_text"] for e in unknown})
    parts = []
    if known:
        shown = known[0] if len(known) == 1 else f"{known[0]} to {known[-1]}"
        parts.append(f"from the file headers ({html.escape(shown)})")
    if unknown:
        parts.append(f"<b>unknown</b> for {_count(len(unknown), len(entries))} (header of 1 x 1 mm): areas and "
                     "distances in pixels, volumes in px³, not comparable with clinical values")
    return "; ".join(parts)


def _instants(entries: list[dict]) -> str:
    sources = Counter(entry.get("instants_source", "none") for entry in entries)
    if len(sources) == 1:
        return INSTANT_WORDS.get(*sources, "")
    return "; ".join(f"{INSTANT_WORDS.get(s, s)} for {_count(n, len(entries))}" for s, n in sources.items())


def _truth(entries: list[dict], reference: str | None) -> str:
    with_truth = sum(bool(entry.get("has_gt")) for entry in entries)
    if not with_truth:
        return ("<b>none</b>: no Dice, Hausdorff or reference EF; the report shows anatomical plausibility and "
                "temporal consistency only")
    kind = ("synthetic truth (the generator's masks and truth.json volumes), not an expert's" if reference == "truth"
            else "expert masks (_gt files)")
    return f"{kind}, for {_count(with_truth, len(entries))}"


def inputs_section(entries: list[dict], reference: str | None) -> str:
    """The box as HTML: view, pixel size, ED/ES and ground truth, each with where it came from."""
    rows = [("View", _views(entries)), ("Pixel size", _pixel_sizes(entries)), ("ED and ES frames", _instants(entries)),
            ("Ground truth", _truth(entries, reference))]
    items = "".join(f"<dt>{name}</dt><dd>{text}</dd>" for name, text in rows)
    return f'<div class="note" id="inputs"><h3>Inputs and assumptions</h3><dl>{items}</dl></div>'
