"""run_job on a missing input: one InputError before any model loads or anything is staged."""

from __future__ import annotations

import pytest

from echolatent.errors import InputError
from echolatent.jobs import run


def test_a_missing_input_fails_before_any_model_loads(tmp_path, monkeypatch):
    def no_models(*args, **kwargs):
        raise AssertionError("models loaded for a missing input")

    monkeypatch.setattr(run, "load_networks", no_models)
    with pytest.raises(InputError, match="not found"):
        run.run_job(tmp_path / "missing", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
