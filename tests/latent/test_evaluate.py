"""Latent evaluation helpers."""

import pytest


def test_wilson_interval_by_hand():
    from echolatent.latent.evaluate import wilson_interval

    # p = 0.95, n = 200, z = 1.96: (p + z^2/2n) / (1 + z^2/n) -+ z sqrt(pq/n + z^2/4n^2) / (1 + z^2/n)
    # = 0.9104 .. 0.9726
    low, high = wilson_interval(190, 200)
    assert low == pytest.approx(0.9104, abs=1e-4) and high == pytest.approx(0.9726, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
