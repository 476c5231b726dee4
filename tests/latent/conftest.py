"""Fixtures of the latent tests: a small CAMUS-layout dataset of expert masks with splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from echolatent.io.volume import Geometry, write_like

SPACINGS = {"patient0001": (0.5, 0.5), "patient0002": (0.4, 0.6), "patient0003": (0.5, 0.5)}


@pytest.fixture
def dataset(tmp_path: Path, heart_maker) -> Path:
    """3 patients x 2 views x ED/ES expert masks and blank images (two sizes, two spacings); patient0003 is the
    validation split."""
    root = tmp_path / "camus"
    masks = iter(heart_maker(12, size=32, seed=1))
    for patient, spacing in SPACINGS.items():
        folder = root / "database_nifti" / patient
        for view in ("2CH", "4CH"):
            for instant in ("ED", "ES"):
                mask = next(masks)[None]
                if patient == "patient0002":
                    mask = np.repeat(np.repeat(mask, 2, 1), 2, 2)  # 64 x 64: another shape group
                geometry = Geometry.default(mask.shape, spacing)
                write_like(mask, geometry, folder / f"{patient}_{view}_{instant}_gt.nii.gz")
                write_like(np.zeros_like(mask), geometry, folder / f"{patient}_{view}_{instant}.nii.gz")
    (root / "database_split").mkdir()
    (root / "database_split" / "subgroup_training.txt").write_text("patient0001\npatient0002\n")
    (root / "database_split" / "subgroup_validation.txt").write_text("patient0003\n")
    return root
