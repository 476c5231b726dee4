"""The HTML report and its figures: parses as HTML, every picture on disk, known answers with an oracle
segmenter (the expert masks themselves), the demo end to end."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import echolatent.pipeline as pipeline
from echolatent.io.camus import find_sequences, load_sequence
from echolatent.jobs.run import run_demo, run_job
from echolatent.measure.validity import CRITERIA
from echolatent.report import figures as fig
from echolatent.report.html import CRITERIA_WORDS


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs["src"])
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag in ("section", "table", "main"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in ("section", "table", "main"):
            assert self.open.pop() == tag, f"</{tag}> closes another element"


def parse_report(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    collector.close()
    assert collector.open == [], f"unclosed elements {collector.open}"
    return collector


def _digest(images: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(images).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def oracle_run(tiny_models, tiny_data, tmp_path_factory) -> Path:
    """A run whose 'U-Net' returns the expert masks (looked up by the frames' content)."""
    truth = {}
    for ref in find_sequences(tiny_data, require_image=True):
        seq = load_sequence(ref)
        truth[_digest(seq.image)] = seq.mask
    out = tmp_path_factory.mktemp("oracle") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "segment_sequence", lambda images, *_: truth[_digest(images)].copy())
        run_job(tiny_data, out, **tiny_models)
    return out


def test_report_parses_and_every_picture_exists(oracle_run):
    report = parse_report(oracle_run / "report.html")
    assert report.sources, "the report shows no picture"
    for source in report.sources:
        assert (oracle_run / source).is_file(), source
        assert Image.open(oracle_run / source).size[0] > 0
    anchors = [link[1:] for link in report.links if link.startswith("#")]
    assert anchors and set(anchors) <= set(report.ids)
    assert any(s.endswith(".gif") for s in report.sources)
    assert any("bland_altman" in s for s in report.sources)
    assert sum(s.endswith("_strain.png") for s in report.sources) == 2  # a strain curve per sequence


def test_report_known_answers_with_expert_masks(oracle_run):
    summary = json.loads((oracle_run / "summary.json").read_text())
    assert summary["before"]["scores"]["LV"]["all"]["dice"] == pytest.approx(1.0)
    assert summary["before"]["scores"]["EPI"]["all"]["hd_mm"] == pytest.approx(0.0)
    patient = summary["before"]["clinical"]["patients"]["patient0001"]
    assert patient["truth_source"] == "truth.json" and patient["pred"]["method"] == "biplane"
    truth = json.loads((Path(summary["input"]) / "truth.json").read_text())["patients"]["patient0001"]
    assert patient["truth"]["EF"] == pytest.approx(truth["EF"])
    text = (oracle_run / "report.html").read_text()
    assert "Clinical indices" in text and "EDV (mL)" in text and "Bland-Altman" in text
    assert text.count('<section class="seq"') == 2
    assert summary["before"]["not_measured"] == {} and summary["before"]["temporal"]["not_verified"] == {}
    strain = summary["before"]["strain"]
    assert len(strain["sequences"]) == 2 and strain["mean_gls_es"] < 0 and not strain["not_measured"]


def test_demo_end_to_end(tiny_models, tmp_path):
    out = tmp_path / "demo"
    summary = run_demo(out, patients=1, frames=4, size=48, method="gaussian", max_figures=1, **tiny_models)
    assert (out / "data" / "truth.json").is_file()
    config = json.loads((out / "config.json").read_text())
    assert config["command"] == "demo" and config["input"] == str((out / "data").resolve())
    assert ".partial-" not in (out / "report.html").read_text()
    assert (out / "patient0001" / "patient0001_4CH_half_sequence_post.nii.gz").is_file()
    assert summary["before"]["scores"], "the demo scores against the synthetic truth"
    report = parse_report(out / "report.html")
    assert all((out / s).is_file() for s in report.sources)
    with pytest.raises(Exception, match="not empty"):
        run_demo(out, patients=1, frames=4, size=48, **tiny_models)


def test_bland_altman_figure(tmp_path):
    path = fig.bland_altman_figure({"U-Net": {"a": 50.0, "b": 60.0}, "smoothed": {"a": 55.0}},
                                   {"a": 55.0, "b": 58.0, "c": 40.0}, tmp_path / "ba.png")
    assert Image.open(path).format == "PNG"


def test_figure_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="at least one row"):
        fig.strip_figure(None, {}, ["ED"], tmp_path / "s.png")
    with pytest.raises(ValueError, match="no attribute"):
        fig.temporal_figure({"U-Net": {"lv_area": np.zeros(4)}}, {}, tmp_path / "t.png")
    assert fig.unit_names(False)["volume"] == "px³" and fig.unit_names(True)["area"] == "mm²"


def test_every_validity_criterion_has_plain_words():
    assert set(CRITERIA_WORDS) == set(CRITERIA)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless chromium is not installed")
def test_report_screenshot(oracle_run, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1200,2400", (oracle_run / "report.html").as_uri()], check=True, timeout=120,
                   capture_output=True)
    picture = np.asarray(Image.open(shot).convert("L"))
    assert picture.std() > 10, "the screenshot is blank"
