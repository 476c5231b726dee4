"""The splits of a CAMUS root: which are found (split files or 2019 folders), their order, and the check of a
requested one (an absent split is an InputError naming the root and listing the splits found plus ``all``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from echolatent.errors import InputError
from echolatent.io.splits import ALL, available_subsets, resolve_subset


def _split_file(root: Path, subset: str) -> None:
    folder = root / "database_split"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"subgroup_{subset}.txt").write_text("patient0001\n")


def test_all_is_the_word_all() -> None:
    assert ALL == "all"


def test_split_files_are_listed_in_training_validation_testing_order(tmp_path: Path) -> None:
    for subset in ("testing", "training"):  # written out of order
        _split_file(tmp_path, subset)
    assert available_subsets(tmp_path) == ["training", "testing"]
    assert available_subsets(str(tmp_path)) == ["training", "testing"]
    _split_file(tmp_path, "validation")
    assert available_subsets(tmp_path) == ["training", "validation", "testing"]


def test_the_2019_folders_count_as_splits(tmp_path: Path) -> None:
    (tmp_path / "testing").mkdir()
    assert available_subsets(tmp_path) == ["testing"]
    (tmp_path / "training").mkdir()
    assert available_subsets(tmp_path) == ["training", "testing"]


def test_a_file_named_like_a_folder_or_a_folder_named_like_a_file_is_no_split(tmp_path: Path) -> None:
    (tmp_path / "training").write_text("not a folder")
    (tmp_path / "database_split" / "subgroup_validation.txt").mkdir(parents=True)  # a folder, not a split file
    (tmp_path / "database_split" / "training.txt").write_text("patient0001\n")  # no subgroup_ prefix
    (tmp_path / "database_split" / "subgroup_testing.csv").write_text("patient0001\n")  # not .txt
    (tmp_path / "subgroup_testing.txt").write_text("patient0001\n")  # not under database_split/
    assert available_subsets(tmp_path) == []


def test_a_plain_folder_or_all_takes_every_patient(tmp_path: Path) -> None:
    assert resolve_subset(tmp_path, "training") is None  # no split defined: every patient
    assert resolve_subset(tmp_path / "missing", "testing") is None  # not a folder: nothing to check
    _split_file(tmp_path, "training")
    assert resolve_subset(tmp_path, ALL) is None
    assert resolve_subset(tmp_path, "all") is None


def test_a_defined_split_is_returned(tmp_path: Path) -> None:
    _split_file(tmp_path, "validation")
    (tmp_path / "training").mkdir()
    assert resolve_subset(tmp_path, "validation") == "validation"
    assert resolve_subset(str(tmp_path), "training") == "training"


def test_an_absent_split_names_the_root_and_lists_the_splits_found(tmp_path: Path) -> None:
    _split_file(tmp_path, "testing")
    _split_file(tmp_path, "training")
    with pytest.raises(InputError) as raised:
        resolve_subset(str(tmp_path), "validation")
    assert raised.value.path == tmp_path
    assert raised.value.problem == "no 'validation' split here; the splits found are: training, testing, all"
    with pytest.raises(InputError) as unknown:
        resolve_subset(tmp_path, "Training")  # names are compared exactly
    assert unknown.value.problem == "no 'Training' split here; the splits found are: training, testing, all"


def test_a_file_given_as_root_has_no_split(tmp_path: Path) -> None:
    _split_file(tmp_path, "training")
    file = tmp_path / "database_split" / "subgroup_training.txt"
    assert resolve_subset(file, "validation") is None  # a single file: no split to check against
