"""residual.OneHotCache: filtered input frames computed once per (frame, sigma) and smoothing call, the values those
of the uncached filter (itself checked against SciPy in test_residual_turns.py), the byte limit kept, and the
smoother's caches emptied after each call."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.labels import Label
from echolatent.temporal import residual, smooth
from echolatent.temporal.smooth import Smoother

from .sequences import ring_sequence, tiny_shape_model


@pytest.fixture
def counted(monkeypatch):
    """Rows filtered by ``residual.filtered_onehot``, as ``(frame, sigma)`` pairs, in call order."""
    rows, real = [], residual.filtered_onehot

    def filtered(masks, frames, sigma):
        rows.extend((int(f), float(sigma)) for f in frames)
        return real(masks, frames, sigma)

    monkeypatch.setattr(residual, "filtered_onehot", filtered)
    return rows


def test_cached_frames_are_filtered_once_and_equal_the_uncached(counted):
    masks = ring_sequence(9)
    masks[4, 3:8, 3:8] = Label.LA
    cache = residual.OneHotCache()
    frames, sigmas = np.array([0, 4, 8, 4]), np.array([1.5, 1.5, 3.0, 3.0])
    first = residual.onehot_per_frame(masks, frames, sigmas, cache=cache)
    assert sorted(counted) == [(0, 1.5), (4, 1.5), (4, 3.0), (8, 3.0)] and len(cache) == 4
    counted.clear()
    again = residual.onehot_per_frame(masks, np.array([4, 8, 2]), np.array([1.5, 3.0, 1.5]), cache=cache)
    assert counted == [(2, 1.5)]  # the two known ones are looked up
    np.testing.assert_array_equal(again[:2], first[[1, 2]])
    np.testing.assert_array_equal(again, residual.onehot_per_frame(masks, np.array([4, 8, 2]),
                                                                   np.array([1.5, 3.0, 1.5])))
    again[0] = -1.0  # a caller changing its copy changes nothing kept
    np.testing.assert_array_equal(residual.onehot_per_frame(masks, np.array([4]), np.array([1.5]), cache=cache),
                                  first[[1]])


def test_a_frame_asked_twice_is_kept_once():
    masks = ring_sequence(6)
    cache = residual.OneHotCache()
    got = residual.onehot_per_frame(masks, np.array([2, 2, 4]), np.full(3, 1.0), cache=cache)
    np.testing.assert_array_equal(got[0], got[1])
    assert len(cache) == 2 and cache.bytes == 2 * got[0].nbytes


def test_turns_are_cached_at_turn_sigma(counted):
    masks = ring_sequence(8)
    turns = np.zeros(8, bool)
    turns[3] = True
    cache = residual.OneHotCache()
    residual.prefiltered(masks, 1.5, turns=turns, cache=cache)
    assert (3, residual.TURN_SIGMA) in cache and (3, 1.5) not in cache and (2, 1.5) in cache
    counted.clear()
    residual.onehot_per_frame(masks, np.array([3, 2]), np.array([3.0, 1.5]), turns, cache)
    assert counted == []


def test_cache_keeps_no_more_than_its_bytes(counted):
    masks = ring_sequence(6)  # 24 x 24: 9216 bytes a filtered frame
    cache = residual.OneHotCache(max_bytes=2 * 9216)
    residual.onehot_per_frame(masks, np.arange(6), np.full(6, 1.0), cache=cache)
    assert len(cache) == 2 and cache.bytes == 2 * 9216 and (0, 1.0) in cache and (1, 1.0) in cache
    counted.clear()
    residual.onehot_per_frame(masks, np.arange(6), np.full(6, 1.0), cache=cache)
    assert sorted(counted) == [(t, 1.0) for t in range(2, 6)]


def test_a_smoothing_call_filters_each_frame_once_per_sigma_and_forgets(counted, monkeypatch):
    def make():
        return Smoother(tiny_shape_model(), "exact", keep_below=0.0, max_rounds=2, input_sigmas=(1.0, 2.0))

    masks = ring_sequence(8)
    masks[[2, 5], 4:10, 4:10] = Label.LA  # two failed frames: more than one round and filter level
    smoother = make()
    result = smoother(masks, None)
    assert len(counted) == len(set(counted)) > 0
    assert {sigma for _, sigma in counted} <= {1.0, 2.0}
    assert len(smoother._onehot) == 0 and smoother._cache == {} and smoother._cache_bytes == 0
    counted.clear()
    monkeypatch.setattr(smooth, "OneHotCache", lambda: residual.OneHotCache(max_bytes=0))  # nothing kept
    uncached = make()(masks, None)
    assert len(counted) > len(set(counted))  # without the cache, frames are filtered again
    np.testing.assert_array_equal(uncached.masks, result.masks)
