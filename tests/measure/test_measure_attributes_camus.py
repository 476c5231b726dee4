"""Attributes on real CAMUS hearts (camus224 expert masks): defined everywhere, stable under rotation.

The full grid (every validation mask x 5 angles x 3 scales) runs in ``benchmarks/bench_attributes.py``; here a
fixed subset (every 25th validation mask).
"""

from __future__ import annotations

import numpy as np
import pytest
from measure_helpers import transform_labels

from echolatent.io.frames import load_frames
from echolatent.measure.attributes import ATTRIBUTES, measure_attributes

pytestmark = pytest.mark.camus

ANGLES = (-40.0, -20.0, 20.0, 40.0)


def test_all_attributes_defined_on_every_expert_mask(camus224):
    _, masks, ids = load_frames(camus224, None)
    assert len(masks) == 1800
    result = measure_attributes(masks)
    assert not result.reasons
    for name in ATTRIBUTES:
        assert np.isfinite(result.values[name]).all(), name


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.3])
def test_rotated_expert_masks_keep_their_base_and_length(camus224, scale):
    _, masks, _ = load_frames(camus224, "validation")
    masks = masks[:: 25 if scale < 2 else 50]
    supersample = 1 if scale > 2 else 2  # growing needs no supersampling
    reference = measure_attributes(transform_labels(masks, 0.0, scale, supersample=supersample)).values
    # at 112 px (0.5x) a base is 10-20 px and its ends move by a few tenths of a pixel with the grid: the full grid
    # (benchmarks/bench_attributes.py) has 7 % at most there, so below native size the bound is 2 px of the grid;
    # at 224 px and above, the 3 % (full grid: 2.1 % and 1.5 % at most)
    floor_pct = 100.0 * 2.0 / np.minimum(reference["lv_base_width"], reference["lv_length"])
    bound = 3.0 if scale >= 1 else np.maximum(3.0, floor_pct)
    for angle in ANGLES:
        result = measure_attributes(transform_labels(masks, angle, scale, supersample=supersample))
        assert not result.reasons, (angle, result.reasons)
        for name in ("lv_base_width", "lv_length"):
            change = np.abs(result.values[name] / reference[name] - 1) * 100
            assert (change <= bound).all(), (name, angle, change.round(2))
        turn = result.values["lv_orientation"] - reference["lv_orientation"]
        np.testing.assert_allclose(turn, angle, atol=2.0)
