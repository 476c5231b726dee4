"""Per-frame caches and chunked measuring: the same values as computing everything at once, bounded memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from measure_helpers import heart_frame

from echolatent.measure import attributes, framecache, validity
from echolatent.measure.framecache import FrameCache, frame_key
from echolatent.resample import resize_labels
from echolatent.synth.corrupt import corrupt_sequence


@pytest.fixture
def masks() -> np.ndarray:
    clean = np.stack([heart_frame(96, length=34 + t, half_width=14 + t // 2, wall=5, la_height=16) for t in range(6)])
    return np.concatenate([clean, corrupt_sequence(clean, "high", np.random.default_rng(0))])


def test_frame_key_depends_on_values_shape_dtype_and_arguments():
    frame = np.zeros((4, 6), np.uint8)
    changed = frame.copy()
    changed[1, 2] = 1
    keys = {frame_key(frame), frame_key(changed), frame_key(frame.reshape(6, 4)), frame_key(frame.astype(np.int16)),
            frame_key(frame, "resize", (2, 3))}
    assert len(keys) == 5 and frame_key(frame) == frame_key(frame.copy())


def test_cache_is_lru_and_bounded():
    cache = FrameCache(max_bytes=3 * (800 + 200))
    for i in range(3):
        cache.put(bytes([i]), np.zeros(100))
    assert cache.get(bytes([0])) is not None  # 0 becomes the most recent
    cache.put(bytes([3]), np.zeros(100))
    assert cache.get(bytes([1])) is None and cache.get(bytes([0])) is not None and len(cache) == 3
    cache.put(b"big", np.zeros(10_000))  # larger than the whole cache: not kept
    assert cache.get(b"big") is None
    with pytest.raises(ValueError, match="max_bytes"):
        FrameCache(-1)


def test_cached_validity_equals_frame_criteria(masks):
    validity.CRITERIA_CACHE.clear()
    first = validity.check_validity(masks)
    again = validity.check_validity(masks)
    assert validity.CRITERIA_CACHE.hits >= len(masks)
    direct = np.array([list(validity.frame_criteria(frame).values()) for frame in masks])
    for report in (first, again):
        values = np.stack([report.criteria[name] for name in validity.CRITERIA], axis=1)
        assert np.array_equal(values, direct, equal_nan=True)
    assert np.array_equal(first.valid, again.valid) and not first.valid.all()


@pytest.mark.parametrize("size", [(16, 16), (20, 12), (50, 70)])
def test_chunked_cached_resize_equals_resize_labels(masks, size, monkeypatch):
    import echolatent.resample as resample

    framecache.RESIZE_CACHE.clear()
    one_hot = resample.one_hot(masks)  # all frames at once, ties to the label at each target pixel's centre
    centre = torch.nn.functional.interpolate(one_hot, size=size, mode="nearest-exact")
    expected = (resample.resize_probs(one_hot, size) + 1e-4 * centre).argmax(1).numpy()
    monkeypatch.setattr(resample, "LABEL_CHUNK", 3)
    assert np.array_equal(resize_labels(masks, size), expected)
    assert np.array_equal(framecache.resize_labels_cached(masks, size), expected)
    assert np.array_equal(framecache.resize_labels_cached(masks[::-1], size), expected[::-1])  # from the cache
    assert framecache.RESIZE_CACHE.hits >= len(masks)


def test_chunked_attributes_equal_whole_sequence(masks, monkeypatch):
    masks = masks.copy()
    masks[3] = 0  # an empty frame: NaNs with reasons
    whole = attributes.measure_attributes(masks, (0.3, 0.4))
    monkeypatch.setattr(attributes, "CHUNK", 4)
    chunked = attributes.measure_attributes(masks, (0.3, 0.4))
    for name in attributes.ATTRIBUTES:  # each chunk is measured on its own crop of the heart: equal to rounding
        np.testing.assert_allclose(chunked.values[name], whole.values[name], rtol=1e-12, atol=0)
    assert whole.reasons == chunked.reasons and 3 in chunked.reasons["lv_orientation"]
