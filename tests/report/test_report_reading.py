"""The report as a careful reader checks it: a unit on every table column that holds a measure, "truth" for
synthetic data and "expert" for expert masks, no limits of agreement from fewer than 3 patients, an "Inputs and
assumptions" box that says what was assumed, files readable as the umask allows, and logs that name final paths."""

from __future__ import annotations

import logging
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from echolatent.jobs.run import run_demo, run_job
from echolatent.report import figures as fig
from echolatent.report.inputs import inputs_section

MEASURES = ("dice", "hausdorff", "distance", "edv", "esv", "ef", "error", "bias", "area", "volume", "length",
            "width", "deviation")
UNIT = re.compile(r"\((?:mm|mm²|px|px²|px³|mL|%|°|0–1)\)")


class Tables(HTMLParser):
    """Every table as rows of cell texts (header row first), and the text of the element with id ``inputs``."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None
        self.inputs_depth = 0
        self.inputs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []
        if dict(attrs).get("id") == "inputs" or self.inputs_depth:
            self.inputs_depth += tag != "br"

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append("".join(self.cell).strip())
            self.cell = None
        if self.inputs_depth:
            self.inputs_depth -= 1

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.inputs_depth:
            self.inputs.append(data)


def read_report(out: Path) -> tuple[Tables, str]:
    text = (out / "report.html").read_text(encoding="utf-8")
    tables = Tables()
    tables.feed(text)
    return tables, text


def unitless_measure_columns(tables: Tables) -> list[str]:
    """Header cells naming a measure with no unit, neither in the header nor in every row's label."""
    missing = []
    for table in tables.tables:
        header, rows = table[0], [row for row in table[1:] if row]
        if header[:2] == ["setting", "value"]:
            continue  # the run's settings: names and values, not measures
        for column, name in enumerate(header):
            words = re.findall(r"[a-z]+", name.lower())
            if column == 0 or not any(w in MEASURES for w in words) or UNIT.search(name):
                continue
            if not rows or not all(UNIT.search(row[0]) for row in rows):
                missing.append(name)
    return missing


@pytest.fixture(scope="module")
def synthetic_run(tiny_models, tmp_path_factory) -> tuple[Path, str]:
    """The demo (synthetic truth) on 1 patient, under umask 027, with its log records."""
    out = tmp_path_factory.mktemp("demo") / "out"
    handler = _Records()
    logging.getLogger("echolatent").addHandler(handler)
    old = os.umask(0o027)
    try:
        run_demo(out, patients=1, frames=4, size=48, max_figures=2, **tiny_models)
    finally:
        os.umask(old)
        logging.getLogger("echolatent").removeHandler(handler)
    return out, "\n".join(handler.messages)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def bare_run(tiny_models, tiny_data, tmp_path_factory) -> Path:
    """Images only: no masks, no truth.json, no cfg (ED/ES found on the LV curve), a 1 x 1 mm header as written."""
    data = tmp_path_factory.mktemp("bare") / "camus"
    shutil.copytree(tiny_data, data)
    (data / "truth.json").unlink()
    for path in [*data.rglob("*_gt.nii.gz"), *data.rglob("Info_*.cfg")]:
        path.unlink()
    out = data.parent / "out"
    run_job(data, out, **tiny_models)
    return out


def test_every_measure_column_has_a_unit(synthetic_run, bare_run) -> None:
    for out in (synthetic_run[0], bare_run):
        tables, _ = read_report(out)
        assert tables.tables and not unitless_measure_columns(tables), unitless_measure_columns(tables)


def test_the_check_finds_a_missing_unit() -> None:
    tables = Tables()
    tables.feed("<table><tr><th>sequence</th><th>LV Hausdorff</th><th>LV Dice (0–1)</th></tr>"
                "<tr><td>a</td><td>3</td><td>0.9</td></tr></table>")
    assert unitless_measure_columns(tables) == ["LV Hausdorff"]


def test_synthetic_truth_is_called_truth_and_two_is_too_few_for_limits(synthetic_run) -> None:
    out, _ = synthetic_run
    tables, text = read_report(out)
    assert "Agreement with the synthetic truth" in text and "expert masks" not in " ".join(tables.inputs)
    assert "left to right: U-Net, smoothed, truth" in text
    assert "n = 1 patient: too few for limits of agreement" in text
    assert "95 % limits" not in text


def test_inputs_box_says_what_was_read(synthetic_run) -> None:
    tables, _ = read_report(synthetic_run[0])
    box = "".join(tables.inputs)
    assert "Inputs and assumptions" in box and "2CH (1), 4CH (1)" in box
    assert "read from the Info_*.cfg files" in box and "synthetic truth" in box and "mm" in box


def test_inputs_box_says_what_was_assumed(bare_run) -> None:
    tables, text = read_report(bare_run)
    box = "".join(tables.inputs)
    assert "found on the smoothed LV area curve" in box and "assumed" not in box  # no cfg: ED/ES found per beat
    assert "none: no Dice, Hausdorff or reference EF" in box and "Agreement with" not in text


def test_files_follow_the_umask_and_logs_name_final_paths(synthetic_run) -> None:
    out, messages = synthetic_run
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and {oct(p.stat().st_mode & 0o777) for p in files} == {oct(0o640)}
    assert ".partial-" not in messages and ".partial-" not in (out / "run.log").read_text()
    assert str(out) in (out / "run.log").read_text()


def captured(monkeypatch) -> list:
    figures = []

    def keep(figure, path, dpi=90):
        figures.append(figure)
        return Path(path)

    monkeypatch.setattr(fig, "save_figure", keep)
    return figures


@pytest.mark.parametrize(("patients", "limits"), [(2, 0), (3, 2)])
def test_bland_altman_limits_from_three_patients(monkeypatch, tmp_path, patients: int, limits: int) -> None:
    figures = captured(monkeypatch)
    truth = {f"p{i}": 50.0 + i for i in range(patients)}
    measured = {"U-Net": {p: v + (-1) ** i * 2 for i, (p, v) in enumerate(truth.items())}}
    fig.bland_altman_figure(measured, truth, tmp_path / "ba.png", reference="expert")
    ax = figures[0].axes[0]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == limits
    assert ax.get_title().endswith(f"n = {patients} patients") and "expert EF (%)" in ax.get_ylabel()
    legend = ax.get_legend().get_texts()[0].get_text()
    assert ("no limits of agreement" in legend) == (limits == 0)


def test_every_axis_of_the_curves_has_a_unit(monkeypatch, tmp_path) -> None:
    figures = captured(monkeypatch)
    curves = {"U-Net": {"lv_area": np.arange(5.0), "lv_orientation": np.zeros(5)}}
    fig.attribute_figure(curves, ["ED", "", "", "", "ES"], fig.unit_names(True), tmp_path / "a.png")
    fig.temporal_figure({"U-Net": {"lv_area": np.zeros(5)}}, {"lv_area": 0.1}, tmp_path / "t.png")
    shown = [ax for figure in figures for ax in figure.axes if ax.get_visible()]
    assert [ax.get_ylabel() for ax in shown] == ["mm²", "°", fig.DEVIATION_UNIT]
    assert all(ax.get_xlabel() == "frame" for ax in shown)


def test_inputs_box_names_where_each_view_and_instant_came_from() -> None:
    def entry(view, view_source, instants):
        return {"ids": {"view": view}, "view_source": view_source, "instants_source": instants,
                "spacing_text": "0.3 x 0.3 mm", "has_gt": False}

    box = inputs_section([entry("4CH", "DICOM description", "found"), entry("2CH", "--view", "found"),
                          entry(None, "unknown", "found")], None)
    assert "from the DICOM series description: 4CH (1)" in box and "given with --view: 2CH (1)" in box
    assert "from the file names" not in box and "<b>unknown</b> for 1 of 3 sequences" in box
    assert "found on the smoothed LV area curve" in box and "assumed" not in box
    box = inputs_section([entry("4CH", "file name", "cfg"), entry("4CH", "file name", "given")], None)
    assert "from the file names: 4CH (2)" in box and "given with --ed / --es for 1 of 2 sequences" in box
