"""Shared fixtures: tiny synthetic arrays and the optional real CAMUS-224 data."""

from __future__ import annotations

from pathlib import Path

import pytest

CAMUS224 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "camus224"


@pytest.fixture(scope="session")
def camus224() -> Path:
    """Root of ../shared/data/camus224; skips the test when it is absent (a user's fresh clone)."""
    if not (CAMUS224 / "database_nifti").is_dir():
        pytest.skip("../shared/data/camus224 is not available")
    return CAMUS224
