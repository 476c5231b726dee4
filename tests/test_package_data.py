"""pyproject's package-data lists only files that exist."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_data_pattern_matches_a_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["echolatent"]
    package = ROOT / "src" / "echolatent"
    assert patterns and all(list(package.glob(pattern)) for pattern in patterns), patterns
