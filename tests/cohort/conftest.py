"""Cohort tests: 6 tiny synthetic sequences, tiny random models, one torch thread (the machine has 2 cores)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def cohort_data(tmp_path_factory):
    """3 synthetic patients x 2 views = 6 half sequences of 4 frames, 48 x 48 px, CAMUS layout with truth."""
    from echolatent.synth import write_synthetic_dataset

    return write_synthetic_dataset(tmp_path_factory.mktemp("cohort") / "data", patients=3, frames=4, size=48,
                                   previews=0, seed=3)


@pytest.fixture(scope="session")
def serial_run(cohort_data, tiny_models, tmp_path_factory):
    """The serial ``run`` (no cohort option) on :func:`cohort_data`: ``(OUT, summary)``."""
    from echolatent.jobs.run import run_job

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("serial") / "out"
    summary = run_job(cohort_data, out, method="exact", figures="none", **{k: str(v) for k, v in tiny_models.items()})
    return out, summary
