"""FrameCache's byte accounting counted by hand (a value costs its nbytes + 200, a tuple 200), exact hit and miss
counts, and resize_labels_cached against pixel repetition (x2 up) and 2x2 blocks (x2 down), cache or not."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.measure import framecache
from echolatent.measure.framecache import FrameCache, frame_key, resize_labels_cached


def _keys(cache: FrameCache, names: str) -> str:
    """The names (one character each) whose keys the cache holds, without touching the LRU order."""
    return "".join(name for name in names if name.encode() in cache._items)


def test_a_value_as_large_as_the_cache_is_kept_one_byte_more_is_not():
    cache = FrameCache(max_bytes=1000)
    cache.put(b"a", np.zeros(800, np.uint8))  # 800 + 200 = 1000 bytes
    assert len(cache) == 1 and cache.get(b"a") is not None
    cache.put(b"b", np.zeros(801, np.uint8))
    assert cache.get(b"b") is None and _keys(cache, "ab") == "a"


def test_values_without_nbytes_cost_200_bytes():
    cache = FrameCache(max_bytes=1000)
    for name in "abcde":
        cache.put(name.encode(), (1.0, 2.0))  # 5 x 200 = 1000: all kept
    assert _keys(cache, "abcde") == "abcde"
    cache.put(b"f", (3.0,))  # 1200: the oldest goes, 1000 left
    assert _keys(cache, "abcdef") == "bcdef"
    cache.put(b"g", (4.0,))  # 1200 again: the next oldest goes
    assert _keys(cache, "abcdefg") == "cdefg"


def test_putting_a_key_again_replaces_its_bytes():
    cache = FrameCache(max_bytes=1000)
    cache.put(b"a", np.zeros(800, np.uint8))  # 1000
    cache.put(b"a", np.zeros(800, np.uint8))  # still 1000: nothing to evict
    assert _keys(cache, "a") == "a"
    cache = FrameCache(max_bytes=1000)
    for name in "abc":
        cache.put(name.encode(), (0,))  # 600
    cache.put(b"c", (1,))  # still 600
    for name in "de":
        cache.put(name.encode(), (0,))  # 1000: all five kept
    assert _keys(cache, "abcde") == "abcde"
    cache.put(b"f", (0,))  # 1200: only a goes
    assert _keys(cache, "abcdef") == "bcdef" and cache.get(b"c") == (1,)


def test_the_least_recently_read_goes_first():
    cache = FrameCache(max_bytes=600)
    for name in "abc":
        cache.put(name.encode(), (name,))
    assert cache.get(b"a") == ("a",)  # a is now the most recent: b is the oldest
    cache.put(b"d", ("d",))
    assert _keys(cache, "abcd") == "acd"


def test_hits_and_misses_are_counted_one_by_one_and_cleared():
    cache = FrameCache(max_bytes=1000)
    assert (cache.hits, cache.misses) == (0, 0)
    assert cache.get(b"a") is None and cache.get(b"b") is None
    assert (cache.hits, cache.misses) == (0, 2)
    cache.put(b"a", (1,))
    assert cache.get(b"a") == (1,) and cache.get(b"a") == (1,) and cache.get(b"c") is None
    assert (cache.hits, cache.misses) == (2, 3)
    cache.clear()
    assert (cache.hits, cache.misses, len(cache)) == (0, 0, 0)
    for name in "abcde":  # the bytes were cleared too: 5 x 200 fit again
        cache.put(name.encode(), (0,))
    assert _keys(cache, "abcde") == "abcde"


def test_an_empty_cache_is_allowed_a_negative_one_is_not():
    cache = FrameCache(max_bytes=0)
    cache.put(b"a", (1,))
    assert len(cache) == 0 and cache.get(b"a") is None
    with pytest.raises(ValueError) as err:
        FrameCache(-1)
    assert str(err.value) == "max_bytes must be >= 0, got -1"


def test_frame_keys_are_16_bytes_and_ignore_the_memory_layout():
    frame = np.arange(24, dtype=np.int16).reshape(4, 6)
    key = frame_key(frame, "x", (2, 3))
    assert isinstance(key, bytes) and len(key) == 16
    assert frame_key(np.asfortranarray(frame), "x", (2, 3)) == key
    wide = np.zeros((4, 12), np.int16)
    wide[:, ::2] = frame
    assert frame_key(wide[:, ::2], "x", (2, 3)) == key  # a strided view: the same values
    assert frame_key(frame, "x", (3, 2)) != key and frame_key(frame, (2, 3), "x") != key


def _blocky(rng, frames=3, h=5, w=7) -> np.ndarray:
    return rng.integers(0, 4, (frames, h, w)).astype(np.uint8)


@pytest.fixture(autouse=True)
def _empty_resize_cache():
    framecache.RESIZE_CACHE.clear()


def test_doubling_repeats_pixels_and_halving_reads_2x2_blocks():
    rng = np.random.default_rng(1)
    small = _blocky(rng)
    big = small.repeat(2, axis=1).repeat(2, axis=2)  # bilinear x2 of labels: each output pixel's nearest input
    up = resize_labels_cached(small, (10, 14))
    assert up.dtype == np.uint8 and np.array_equal(up, big)
    down = resize_labels_cached(big, (5, 7))  # area mean of uniform 2x2 blocks
    assert down.dtype == np.uint8 and np.array_equal(down, small)


def test_cached_frames_are_not_resampled_again(monkeypatch):
    calls = []
    real = framecache.resize_labels

    def counting(masks, size):
        calls.append(len(masks))
        return real(masks, size)

    monkeypatch.setattr(framecache, "resize_labels", counting)
    rng = np.random.default_rng(2)
    small = _blocky(rng, frames=4)
    expected = small.repeat(2, axis=1).repeat(2, axis=2)
    first = resize_labels_cached(small[:2], (10, 14))
    first[:] = 0  # the caller's copy: the cache keeps its own
    out = resize_labels_cached(small, (10, 14))  # frames 0 and 1 from the cache, 2 and 3 resampled
    assert np.array_equal(out, expected) and calls == [2, 2]
    assert np.array_equal(resize_labels_cached(small[::-1], (10, 14)), expected[::-1]) and calls == [2, 2]
    halves = resize_labels_cached(expected, (5, 7))  # other sizes are other keys
    assert np.array_equal(halves, small) and calls == [2, 2, 4]
    rows_only = resize_labels_cached(small, (10, 7))  # the same frames on another grid: resampled again
    assert np.array_equal(rows_only, small.repeat(2, axis=1)) and calls == [2, 2, 4, 4]


def test_masks_on_the_grid_are_returned_as_uint8_without_a_copy():
    rng = np.random.default_rng(3)
    masks = _blocky(rng)
    assert resize_labels_cached(masks, (5, 7)) is masks
    wide = masks.astype(np.int64)
    out = resize_labels_cached(wide, np.array([5, 7]))
    assert out.dtype == np.uint8 and np.array_equal(out, masks) and len(framecache.RESIZE_CACHE) == 0
