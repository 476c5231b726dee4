"""The rules every folder job shares: the ``kind`` column, the unit rule (a 1 x 1 mm header is an unknown pixel size)
and the units table, in ``smooth`` and ``evaluate`` alike."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from echolatent.io.volume import Geometry, write_like
from echolatent.jobs.evaluate import evaluate
from echolatent.jobs.loop import units
from echolatent.jobs.smooth import smooth_folder
from echolatent.temporal.strategy import make_smoother


def _hearts(frames: int, shift: int = 0) -> np.ndarray:
    """``(T, 48, 40)`` masks: MYO band around an LV that shrinks over time, LA below."""
    masks = np.zeros((frames, 48, 40), np.uint8)
    for t in range(frames):
        bottom = 28 - t
        masks[t, 6:bottom, 8 + shift:32 + shift] = 2
        masks[t, 9:bottom, 12 + shift:28 + shift] = 1
        masks[t, bottom:bottom + 10, 12 + shift:28 + shift] = 3
    return masks


def _root(tmp: Path, spacing: tuple[float, float]) -> Path:
    """A CAMUS-like root: one patient, both views' half sequences (5 frames) and ED/ES frames, as ``_gt`` masks."""
    folder = tmp / "database_nifti" / "patient0001"
    folder.mkdir(parents=True)
    for view in ("2CH", "4CH"):
        sequence = _hearts(5)
        name = f"patient0001_{view}_half_sequence_gt.nii.gz"
        write_like(sequence, Geometry.default(sequence.shape, spacing), folder / name)
        for name, frame in (("ED", sequence[:1]), ("ES", sequence[-1:])):
            write_like(frame, Geometry.default(frame.shape, spacing), folder / f"patient0001_{view}_{name}_gt.nii.gz")
    return tmp


def _columns(path: Path) -> list[str]:
    with open(path, newline="") as handle:
        return next(csv.reader(handle))


@pytest.mark.parametrize(("spacing", "area", "volume"), [((1.0, 1.0), "px²", "px^3"), ((0.3, 0.3), "mm²", "mL")])
def test_evaluate_applies_the_unit_rule(tmp_path, spacing, area, volume):
    root = _root(tmp_path / "gt", spacing)
    summary = evaluate(root, root, tmp_path / "out", pred_suffix="_gt")
    assert summary["units"]["area"] == area
    assert {row["pred"]["units"] for row in summary["clinical"]["patients"].values()} == {volume}
    assert _columns(tmp_path / "out" / "metrics.csv")[:5] == ["sequence", "patient", "view", "kind", "frame"]
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["units"]["area"] == area


def test_smooth_tables_carry_the_kind_column_and_units(tmp_path):
    root = _root(tmp_path / "gt", (1.0, 1.0))
    summary = smooth_folder(root, tmp_path / "out", make_smoother("none"))
    assert summary["smoothed"] == 2 and summary["units"]["area"] == "px²"
    for name in ("metrics.csv", "frames.csv"):
        assert _columns(tmp_path / "out" / name)[:5] == ["stage", "sequence", "patient", "view", "kind"]
    with open(tmp_path / "out" / "metrics.csv", newline="") as handle:
        assert {row["kind"] for row in csv.DictReader(handle)} == {"half_sequence"}


def test_units_need_every_spacing_known():
    assert units([(0.3, 0.3), (0.2, 0.2)])["volume"] == "mL"
    mixed = units([(0.3, 0.3), None])
    assert mixed["volume"] == "px³" and "pixel size unknown" in mixed["note"]
    assert units([])["area"] == "px²"
