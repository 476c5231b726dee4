"""The report tests run torch on one thread (the machine has 2 cores, shared with the other tests)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
