"""The pipeline on arrays (process_sequence) and the run job on folders: outputs, geometry, staging, refusals."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.io.readers import resolve_spacing
from echolatent.io.volume import read_image
from echolatent.jobs.run import run_job as run
from echolatent.pipeline import default_instants, process_sequence
from echolatent.segment import load_segmenter
from echolatent.temporal.smooth import Smoother
from echolatent.temporal.strategy import make_smoother

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "echolatent" / "weights"


@pytest.fixture(scope="module")
def models(tiny_models):
    return load_segmenter(tiny_models["model"]), Smoother(tiny_models["vae"], "exact", max_rounds=1)


def _frames(t: int, size: int = 32) -> np.ndarray:
    return np.random.default_rng(t).integers(0, 256, (t, size, size), dtype=np.uint8)


def test_process_sequence_shapes_and_measures(models):
    segmenter, smoother = models
    images = _frames(5)
    gt = np.zeros_like(images)
    gt[:, 8:20, 10:22] = 1
    result = process_sequence(images, (0.5, 0.5), segmenter, smoother, gt=gt)
    assert result.pred.shape == result.post.shape == images.shape
    assert result.pred.dtype == result.post.dtype == np.uint8
    assert set(np.unique(result.post)) <= {0, 1, 2, 3}
    assert result.instants == ["ED", "", "", "", "ES"]
    assert result.before.validity.valid.shape == result.after.validity.valid.shape == (5,)
    assert result.before.scores["LV"]["dice"].shape == (5,)
    assert result.smooth["method"] == "exact"
    assert set(result.seconds) == {"segment", "smooth", "measure"}


def test_short_sequences_are_measured_not_smoothed(models):
    segmenter, smoother = models
    result = process_sequence(_frames(2), None, segmenter, smoother)
    assert result.post is None and result.after is None and result.smooth is None
    assert "at least 3 frames" in result.note
    assert result.before.validity.valid.shape == (2,)
    assert result.before.temporal is None


def test_process_sequence_rejects_bad_input(models):
    segmenter, smoother = models
    with pytest.raises(InputError, match="expected frames"):
        process_sequence(np.zeros((32, 32), np.uint8), None, segmenter, smoother)
    with pytest.raises(InputError, match="does not match"):
        process_sequence(_frames(3), None, segmenter, smoother, gt=np.zeros((3, 16, 16), np.uint8))
    frames = _frames(3).astype(np.float32)
    frames[0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        process_sequence(frames, None, segmenter, smoother)


def test_resolve_spacing_and_instants():
    assert resolve_spacing((1.0, 1.0)) is None  # the value of files without a known pixel size
    assert resolve_spacing((1.0, 1.0), "header") == (1.0, 1.0)
    assert resolve_spacing((0.3, 0.2)) == (0.3, 0.2)
    assert resolve_spacing((0.3, 0.2), "none") is None
    with pytest.raises(ValueError, match="spacing mode"):
        resolve_spacing((0.3, 0.3), "mm")
    assert default_instants(1) == [""]
    assert default_instants(3) == ["ED", "", "ES"]


def test_run_end_to_end(tiny_models, tiny_data, tmp_path):
    out = tmp_path / "out"
    summary = run(tiny_data, out, **tiny_models)
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "run.log", "metrics.csv", "frames.csv", "summary.json", "report.html", "report_files",
            "patient0001"} <= names
    assert not list(tmp_path.glob("out.partial-*"))
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 0 and "torch" in config["versions"]
    assert "2 sequence(s) to process" in (out / "run.log").read_text()
    for view in ("2CH", "4CH"):
        source = tiny_data / "database_nifti" / "patient0001" / f"patient0001_{view}_half_sequence.nii.gz"
        image, geometry = read_image(source)
        for suffix in ("_pred", "_post"):
            mask, mask_geometry = read_image(out / "patient0001" / f"patient0001_{view}_half_sequence{suffix}.nii.gz")
            assert mask.shape == image.shape
            assert mask_geometry.spacing == pytest.approx(geometry.spacing)
    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["stage"] for r in rows} == {"pred", "post"}
    assert len(rows) == 2 * 2 * 5 * 4  # stages x sequences x frames x structures
    assert summary["before"]["frames"] == summary["after"]["frames"] == 10
    assert json.loads((out / "summary.json").read_text())["units"]["volume"] == "mL"


def test_existing_output_is_refused_then_replaced(tiny_models, tiny_data, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    with pytest.raises(InputError, match="--overwrite"):
        run(tiny_data, out, **tiny_models)
    assert (out / "keep.txt").read_text() == "user data"
    run(tiny_data, out, overwrite=True, method="none", max_figures=0, **tiny_models)
    assert (out / "report.html").is_file() and not (out / "keep.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name != "out"]


def test_crash_leaves_no_output(tiny_models, tiny_data, tmp_path, monkeypatch):
    import echolatent.jobs.run as job

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(job, "process_pair", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run(tiny_data, tmp_path / "out", **tiny_models)
    assert list(tmp_path.iterdir()) == []


def test_output_holding_the_input_is_refused(tiny_models, tiny_data):
    with pytest.raises(InputError, match="holds the input"):
        run(tiny_data / "database_nifti", tiny_data, overwrite=True, **tiny_models)


def test_cli_refusal_is_one_line_with_exit_code_2(tiny_models, tiny_data, tmp_path, monkeypatch, capsys):
    from echolatent.cli.app import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "x").write_text("x")
    monkeypatch.setattr(sys, "argv", ["echolatent", "run", str(tiny_data), "--out", str(out),
                                      "--model", str(tiny_models["model"]), "--vae", str(tiny_models["vae"])])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "not empty" in error[0] and str(out) in error[0]


def test_cli_demo_succeeds(tiny_models, tmp_path, monkeypatch, capsys):
    from echolatent.cli.app import main

    out = tmp_path / "demo"
    monkeypatch.setattr(sys, "argv", ["echolatent", "demo", "--out", str(out), "--patients", "1", "--frames", "3",
                                      "--size", "48", "--method", "none", "--model", str(tiny_models["model"]),
                                      "--vae", str(tiny_models["vae"])])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code in (0, None)
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out
    assert (out / "report.html").is_file() and (out / "data" / "truth.json").is_file()


@pytest.mark.skipif(not (SHIPPED / "unet.pt").is_file() or not (SHIPPED / "arvae.pt").is_file(),
                    reason="shipped weights not present")
def test_shipped_weights_load_and_run(tiny_data):
    from echolatent.io.camus import find_sequences, load_sequence

    ref = next(r for r in find_sequences(tiny_data) if r.kind == "half_sequence")
    seq = load_sequence(ref)
    result = process_sequence(seq.image, seq.spacing, load_segmenter(), Smoother(None, "exact"), gt=seq.mask)
    assert result.post.shape == seq.image.shape
    assert result.thresholds is not None and result.thresholds.bounds  # stored with the shipped AR-VAE
    assert result.after.temporal is not None


def test_cli_unknown_method_is_one_line(tiny_data, tmp_path, monkeypatch, capsys):
    from echolatent.cli.app import main

    monkeypatch.setattr(sys, "argv", ["echolatent", "run", str(tiny_data), "--out", str(tmp_path / "o"),
                                      "--method", "median"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "--method: unknown method 'median'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_checks_of_the_smoothed_masks_are_taken_from_the_smoother(tiny_models, hearts, monkeypatch):
    import echolatent.measure.sequence as tables
    from echolatent.measure.temporal import TemporalThresholds
    from echolatent.resample import resize_labels

    thresholds = TemporalThresholds.from_reference([resize_labels(hearts, (16, 16))])
    smoother = Smoother(tiny_models["vae"], "exact", thresholds=thresholds, max_rounds=1)
    segmenter = load_segmenter(tiny_models["model"])
    checked = []
    original = tables.check_validity
    monkeypatch.setattr(tables, "check_validity", lambda masks, *a: checked.append(len(masks)) or original(masks, *a))
    result = process_sequence(_frames(6), (0.5, 0.5), segmenter, smoother)
    assert checked == [6]  # the U-Net masks only: the smoother's own checks of its output are reused
    fresh = tables.measure_sequence(result.post, (0.5, 0.5), thresholds=thresholds, instants=result.instants)
    assert np.array_equal(fresh.validity.valid, result.after.validity.valid)
    for name, values in fresh.validity.criteria.items():
        assert np.array_equal(values, result.after.validity.criteria[name], equal_nan=True)
    assert np.array_equal(fresh.temporal.frame_ok, result.after.temporal.frame_ok)
    for name, d in fresh.temporal.d.items():
        assert np.array_equal(d, result.after.temporal.d[name], equal_nan=True)


def test_empty_masks_are_reported_not_smoothed():
    from echolatent.pipeline import smooth_sequence

    post, report, note = smooth_sequence(np.zeros((5, 16, 16), np.uint8), None, make_smoother("none"))
    assert post is None and report is None and "no heart" in note
