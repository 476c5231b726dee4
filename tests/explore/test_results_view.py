"""The results folder side of the explorer: listing, confinement, loading and attribute curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.explore.results_view import ResultsView, list_sequences
from echolatent.io.volume import Geometry, write_like
from echolatent.measure.attributes import compute_attributes


def test_listing_finds_both_stages(results_folder: Path, sequence_name: str) -> None:
    listing = list_sequences(results_folder)
    assert list(listing) == [sequence_name]
    assert set(listing[sequence_name]) == {"pred", "post"}


def test_listing_ignores_links_leaving_the_folder(results_folder: Path, tmp_path: Path, sequence_name: str) -> None:
    outside = tmp_path / "outside_pred.nii.gz"
    outside.write_bytes((results_folder / "patient0001" / f"{sequence_name}_pred.nii.gz").read_bytes())
    (results_folder / "patient0002").mkdir()
    (results_folder / "patient0002" / "escape_pred.nii.gz").symlink_to(outside)
    assert list(list_sequences(results_folder)) == [sequence_name]


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="results folder not found"):
        ResultsView(tmp_path / "nope")


def test_summary_holds_the_attribute_curves(results_folder: Path, sequence_name: str, make_hearts) -> None:
    view = ResultsView(results_folder)
    summary = view.summary(sequence_name)
    assert summary["frames"] == 4 and summary["stages"] == ["pred", "post"] and not summary["image"]
    expected = compute_attributes(make_hearts(4), (0.5, 0.5))["lv_area"]
    np.testing.assert_allclose(summary["attributes"]["post"]["lv_area"], expected)
    assert np.all(np.diff(summary["attributes"]["pred"]["lv_area"]) < 0)  # the test LV shrinks
    assert summary["units"]["lv_area"] == "mm²" and summary["units"]["lv_orientation"] == "°"


def test_a_one_millimetre_header_is_measured_in_pixels(tmp_path: Path, sequence_name: str, make_hearts) -> None:
    """A 1 x 1 mm header means an unknown pixel size (camus224): the curves are in pixels and say so."""
    folder = tmp_path / "patient0001"
    folder.mkdir()
    masks = make_hearts(4)
    write_like(masks, Geometry.default(masks.shape, (1.0, 1.0)), folder / f"{sequence_name}_post.nii.gz")
    summary = ResultsView(tmp_path).summary(sequence_name)
    assert summary["units"]["lv_area"] == "px²" and summary["units"]["lv_length"] == "px"
    np.testing.assert_allclose(summary["attributes"]["post"]["lv_area"], compute_attributes(masks)["lv_area"])


def test_unknown_name_is_refused(results_folder: Path) -> None:
    with pytest.raises(KeyError):
        ResultsView(results_folder).load("../secret")


def test_mismatched_stages_are_an_input_error(results_folder: Path, sequence_name: str, make_hearts) -> None:
    from echolatent.io.volume import Geometry, write_like

    masks = make_hearts(3)
    write_like(masks, Geometry.default(masks.shape), results_folder / "patient0001" / f"{sequence_name}_post.nii.gz")
    with pytest.raises(InputError, match="differs"):
        ResultsView(results_folder).load(sequence_name)
