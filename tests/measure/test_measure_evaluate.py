"""Folder evaluation: tables on identical and corrupted masks, truth.json errors, the CLI, bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from measure_helpers import heart_frame

from echolatent.errors import InputError
from echolatent.io.volume import Geometry, write_like
from echolatent.jobs.evaluate import evaluate
from echolatent.labels import Label
from echolatent.measure.sequence import measure_sequence
from echolatent.measure.temporal import TemporalThresholds

SPACING = (0.5, 0.5)


def _sequence(lengths):
    return np.stack([heart_frame(size=96, length=n, half_width=16, wall=5, la_height=14) for n in lengths])


def _write(root, patient, name, masks, suffix):
    path = root / patient / f"{patient}_{name}{suffix}.nii.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_like(masks, Geometry.default(masks.shape, SPACING), path)


@pytest.fixture()
def dataset(tmp_path):
    """A ground-truth CAMUS-like root (one patient, 2 views, 4-frame half sequences) and identical predictions."""
    gt_root, pred_root = tmp_path / "gt" / "database_nifti", tmp_path / "pred"
    views = {"4CH": _sequence([40, 37, 34, 32]), "2CH": _sequence([39, 36, 33, 30])}
    for view, masks in views.items():
        _write(gt_root, "patient0001", f"{view}_half_sequence", masks, "_gt")
        _write(pred_root, "patient0001", f"{view}_half_sequence", masks, "_pred")
    return tmp_path / "gt", pred_root, views


def test_identical_masks_give_dice_one_and_zero_distances(dataset, tmp_path):
    gt_root, pred_root, _ = dataset
    summary = evaluate(pred_root, gt_root, tmp_path / "out")
    for structure in ("LV", "MYO", "EPI", "LA"):
        assert summary["scores"][structure]["all"]["dice"] == 1.0
        assert summary["scores"][structure]["all"]["hd_mm"] == 0.0
        assert summary["scores"][structure]["ED"]["frames"] == 2
    assert summary["validity"]["rate"] == 1.0 and summary["validity_ground_truth"]["rate"] == 1.0
    clinical = summary["clinical"]["patients"]["patient0001"]
    assert clinical["truth_source"] == "ground-truth masks" and clinical["error"]["EF"] == 0.0
    rows = list(csv.DictReader((tmp_path / "out" / "metrics.csv").open()))
    assert len(rows) == 2 * 4 * 4  # sequences x frames x structures
    assert {r["structure"] for r in rows} == {"LV", "MYO", "EPI", "LA"}
    assert all(float(r["dice"]) == 1.0 for r in rows)
    frames = list(csv.DictReader((tmp_path / "out" / "frames.csv").open()))
    assert len(frames) == 8 and frames[0]["instant"] == "ED" and frames[3]["instant"] == "ES"
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["sequences"] == 2


def test_errors_against_truth_json_and_a_damaged_prediction(dataset, tmp_path):
    gt_root, pred_root, views = dataset
    damaged = views["4CH"].copy()
    damaged[1][damaged[1] == Label.LA] = Label.BG
    _write(pred_root, "patient0001", "4CH_half_sequence", damaged, "_pred")
    truth = {"patients": {"patient0001": {"EDV": 10.0, "ESV": 5.0, "EF": 50.0}}}
    (gt_root / "truth.json").write_text(json.dumps(truth))
    summary = evaluate(pred_root, gt_root, tmp_path / "out")
    assert summary["scores"]["LA"]["all"]["dice"] == pytest.approx(7 / 8)
    assert summary["validity"]["rate"] == pytest.approx(7 / 8)
    clinical = summary["clinical"]["patients"]["patient0001"]
    assert clinical["truth_source"] == "truth.json"
    assert clinical["error"]["EF"] == pytest.approx(clinical["pred"]["ef"] - 50.0)


def test_prediction_without_ground_truth_raises(dataset, tmp_path):
    gt_root, pred_root, views = dataset
    _write(pred_root, "patient0002", "4CH_half_sequence", views["4CH"], "_pred")
    with pytest.raises(InputError, match="no ground truth"):
        evaluate(pred_root, gt_root, tmp_path / "out")
    with pytest.raises(InputError, match="no '_pred' masks"):
        evaluate(gt_root, gt_root, tmp_path / "out")


def test_measure_sequence_resamples_to_the_thresholds_grid():
    masks = _sequence([40, 36, 33, 31, 30])
    half = TemporalThresholds.from_reference([masks[:, ::2, ::2]])
    measures = measure_sequence(masks, SPACING, thresholds=half)
    assert measures.temporal is not None and set(measures.temporal.d) == set(half.bounds)
    assert measure_sequence(masks[:2], SPACING, thresholds=half).temporal is None


def test_cli_evaluate_prints_a_table(dataset, tmp_path):
    from typer.testing import CliRunner

    import echolatent.cli.evaluate_cmd  # noqa: F401  (registers the command)
    from echolatent.cli.app import app

    gt_root, pred_root, _ = dataset
    result = CliRunner().invoke(app, ["evaluate", str(pred_root), "--gt", str(gt_root), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "LV" in result.output and "1.000" in result.output
    assert (tmp_path / "o" / "summary.json").is_file()


def test_predictions_follow_the_truth_cfg_frame_order(dataset, tmp_path):
    gt_root, pred_root, views = dataset
    folder = gt_root / "database_nifti" / "patient0001"
    (folder / "Info_4CH.cfg").write_text("ED: 4\nES: 1\nNbFrame: 4\n")  # stored ES -> ED
    summary = evaluate(pred_root, gt_root, tmp_path / "out")
    assert summary["scores"]["LV"]["all"]["dice"] == 1.0
    frames = list(csv.DictReader((tmp_path / "out" / "frames.csv").open()))
    four = [r for r in frames if r["view"] == "4CH"]
    assert four[0]["instant"] == "ED" and float(four[0]["lv_area"]) < float(four[-1]["lv_area"])
