"""Fixtures of the io tests: a tiny CAMUS root written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from io_helpers import write_patient


@pytest.fixture
def nifti_root(tmp_path: Path) -> Path:
    """A NIfTI CAMUS root: 3 patients, split files (training: 2, validation: 1)."""
    root = tmp_path / "camus"
    for patient in ("patient0001", "patient0002", "patient0003"):
        write_patient(root / "database_nifti", patient, cfg="ED: 1\nES: 5\nNbFrame: 5\nSex: F\nAge: 60\n")
    split = root / "database_split"
    split.mkdir()
    (split / "subgroup_training.txt").write_text("patient0001\npatient0002\n")
    (split / "subgroup_validation.txt").write_text("patient0003\n")
    return root
