"""The residual decode's building blocks by hand and against SciPy: chunk sizes at the memory limit, the temporal
Gaussian of the one-hot (scipy.ndimage.gaussian_filter1d, mode "nearest", truncate 3), its radius at the rounding
limit, the prefilter, the per-frame blend at weights 0, 1 and either side of a tie, the value computed once and the
widening of frame sets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from echolatent.cleanup import clean_masks
from echolatent.labels import NUM_LABELS, Label
from echolatent.temporal import residual

from .sequences import ring_sequence as _heart


def _one_hot(masks: np.ndarray) -> np.ndarray:
    return (masks[:, None] == np.arange(NUM_LABELS)[None, :, None, None]).astype(np.float32)


def test_chunk_sizes_at_the_memory_limit():
    """A frame stack costs 4 labels x 4 bytes x H x W per frame; CHUNK_BYTES = 64 MiB, CHUNK = 32."""
    assert (residual.CHUNK, residual.CHUNK_BYTES, NUM_LABELS) == (32, 64 * 2**20, 4)
    frames = np.arange(70)
    blocks = list(residual.chunks(frames, (64, 64)))
    assert [len(b) for b in blocks] == [32, 32, 6]
    np.testing.assert_array_equal(np.concatenate(blocks), frames)
    # 2 MiB per frame (H W = 2^17): exactly 32 fit; one pixel more: 31
    assert [len(b) for b in residual.chunks(frames, (256, 512))] == [32, 32, 6]
    assert [len(b) for b in residual.chunks(frames, (1, 2**17 + 1))] == [31, 31, 8]
    assert [len(b) for b in residual.chunks(np.arange(3), (2048, 2048))] == [1, 1, 1]  # 64 MiB a frame: one
    assert [len(b) for b in residual.chunks(np.arange(3), (4096, 4096))] == [1, 1, 1]  # over the limit: still one
    assert [len(b) for b in residual.chunks(np.arange(5), (2, 2))] == [5]
    assert list(residual.chunks(np.arange(0), (2, 2))) == []


def test_gauss_radius_is_scipys():
    """int(3 sigma + 0.5): sigma = 1/2 reaches 2 frames, just below it 1."""
    assert residual.gauss_radius(0.5) == 2
    assert residual.gauss_radius(np.nextafter(0.5, 0.0)) == 1
    assert residual.gauss_radius(1.5) == 5
    assert residual.gauss_radius(0.1) == 0


@pytest.mark.parametrize("sigma", [0.4, 0.5, 1.0, 1.5, 2.7])
def test_filtered_onehot_is_scipys_gaussian(sigma):
    masks = _heart(11)
    masks[5, 3:8, 3:8] = Label.LA  # a one-frame blip
    whole = ndimage.gaussian_filter1d(_one_hot(masks), sigma, axis=0, mode="nearest", truncate=3.0)
    frames = np.array([0, 10, 5, 1, 5, 9])  # both ends, out of order, repeated
    got = residual.filtered_onehot(masks, frames, sigma)
    assert got.dtype == np.float32 and got.shape == (6, NUM_LABELS, 24, 24)
    np.testing.assert_allclose(got, whole[frames], atol=2e-7)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)


def test_filtered_onehot_by_hand():
    """Three frames of one pixel, labels 0, 1, 0; sigma = 1/2, radius int(1.5 + 0.5) = 2: weights e^{-2 k^2} over
    k = -2..2, normalised. At frame 1 label 1 gets the centre weight 1 / (1 + 2e^-2 + 2e^-8)."""
    masks = np.array([[[0]], [[1]], [[0]]], dtype=np.uint8)
    e2, e8 = np.exp(-2.0), np.exp(-8.0)
    total = 1 + 2 * e2 + 2 * e8
    got = residual.filtered_onehot(masks, np.array([1, 0]), 0.5)
    np.testing.assert_allclose(got[0, :, 0, 0], [(2 * e2 + 2 * e8) / total, 1 / total, 0, 0], rtol=1e-6)
    # frame 0 reads frames -2, -1 (edge: frame 0), 0, 1, 2: label 1 from frame 1 only
    np.testing.assert_allclose(got[1, :, 0, 0], [(1 + e2 + 2 * e8) / total, e2 / total, 0, 0], rtol=1e-6)


@pytest.mark.parametrize("sigma", [0.0, -1.0])
def test_no_filter_at_sigma_zero_or_below(sigma):
    masks = _heart(4)
    got = residual.filtered_onehot(masks, np.array([3, 1]), sigma)
    np.testing.assert_array_equal(got, _one_hot(masks[[3, 1]]))


def test_prefiltered_removes_a_one_frame_blip(monkeypatch):
    masks = _heart(9)
    noisy = masks.copy()
    noisy[4, 7:12, 18:23] = Label.MYO  # a one-frame bump on the lateral wall
    monkeypatch.setattr(residual, "CHUNK", 4)  # three chunks
    expected = clean_masks(
        ndimage.gaussian_filter1d(_one_hot(noisy), 1.2, axis=0, mode="nearest", truncate=3.0).argmax(1).astype(np.uint8)
    )
    out = residual.prefiltered(noisy, 1.2)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, expected)
    assert (out[4, 7:12, 18:23] != Label.MYO).any()  # the bump is gone
    np.testing.assert_array_equal(residual.prefiltered(noisy, 0.0), clean_masks(noisy))


def test_prefilter_chunks_follow_the_frame_size(monkeypatch):
    """Room for two 24 x 24 frames per stack: the prefilter filters 2, 2, 1 frames at a time, with the same output."""
    masks = _heart(5)
    whole = residual.prefiltered(masks, 1.0)
    blocks = []
    real = residual.filtered_onehot

    def counted(masks, frames, sigma):
        blocks.append(len(frames))
        return real(masks, frames, sigma)

    monkeypatch.setattr(residual, "filtered_onehot", counted)
    monkeypatch.setattr(residual, "CHUNK_BYTES", 2 * NUM_LABELS * 4 * 24 * 24)
    np.testing.assert_array_equal(residual.prefiltered(masks, 1.0), whole)
    assert blocks == [2, 2, 1]


def test_blend_by_hand():
    """One block of pixels is LV in the one-hot input and LA in the decoder's probabilities (0.6 vs 0.4 on LV):
    with weight w, LA wins when (1 - w) * 0 + w * 0.6 > (1 - w) * 1 + w * 0.4, i.e. w > 5/6."""
    masks = _heart(6)
    residual_out = masks.copy()
    full = np.full_like(masks, 7)  # any value: only weight 1 frames copy it
    onehot = _one_hot(masks)
    probs = _one_hot(masks)
    lv = masks == Label.LV
    probs[:, Label.LV][lv], probs[:, Label.LA][lv] = 0.4, 0.6
    weights = np.array([0.0, 0.8, 0.83, 0.84, 0.9, 1.0])
    out = residual.blend(residual_out, onehot, probs, full, weights)
    np.testing.assert_array_equal(out[0], masks[0])
    np.testing.assert_array_equal(out[1], masks[1])  # 0.8 < 5/6: the input's LV
    np.testing.assert_array_equal(out[2], masks[2])  # 0.83 < 5/6
    for t in (3, 4):  # above 5/6: the LV block becomes LA, cleaned (one LA piece kept)
        expected = clean_masks(np.where(lv[t], np.uint8(Label.LA), masks[t])[None])[0]
        np.testing.assert_array_equal(out[t], expected)
        assert (out[t] != masks[t]).any()
    np.testing.assert_array_equal(out[5], full[5])
    np.testing.assert_array_equal(residual_out, masks)  # the input is left as it was


def test_blend_without_frames_in_between():
    masks = _heart(3)
    full = np.roll(masks, 2, axis=2)
    out = residual.blend(masks, None, None, full, np.array([1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(out, np.stack([full[0], masks[1], full[2]]))


def test_once():
    calls = []

    def make():
        calls.append(1)
        return 0  # a falsy value is cached too

    once = residual.Once(make)
    assert calls == []
    assert once() == 0 and once() == 0
    assert calls == [1]
    none = residual.Once(lambda: calls.append(2))
    assert none() is None and none() is None
    assert calls == [1, 2]


def test_widen_by_hand():
    frames = np.array([False, False, False, False, True, False, False, False, False])
    np.testing.assert_array_equal(residual.widen(frames, 2), [False, False, True, True, True, True, True, False, False])
    np.testing.assert_array_equal(residual.widen(frames, 1), [False, False, False, True, True, True, False, False,
                                                              False])
    for radius, given in ((0, frames), (3, np.zeros(9, bool))):
        widened = residual.widen(given, radius)
        np.testing.assert_array_equal(widened, given)
        assert widened is not given  # a copy the caller may change
    ends = np.array([True, False, False, False, False, False, True])
    np.testing.assert_array_equal(residual.widen(ends, 1), [True, True, False, False, False, True, True])


def test_the_turns_are_filtered_narrowly():
    """One pixel in the LV on frames 4 and 5 only: a 1.5-frame Gaussian loses it on frame 4 (weight about 0.48),
    the turns' 0.85-frame one keeps it (0.47 + 0.23), and a one-frame blip still goes at the turns."""
    masks = np.zeros((9, 1, 1), np.uint8)
    masks[4:6] = Label.LV
    turns = np.zeros(9, bool)
    turns[3:6] = True
    wide = ndimage.gaussian_filter1d(_one_hot(masks), 1.5, axis=0, mode="nearest", truncate=3.0)
    narrow = ndimage.gaussian_filter1d(_one_hot(masks), residual.TURN_SIGMA, axis=0, mode="nearest", truncate=3.0)
    assert wide[4].argmax() == Label.BG and narrow[4].argmax() == Label.LV
    out = residual.prefiltered(masks, 1.5, turns=turns)
    assert out[4, 0, 0] == Label.LV and residual.prefiltered(masks, 1.5)[4, 0, 0] == Label.BG
    blip = np.zeros((9, 1, 1), np.uint8)
    blip[4] = Label.LV
    assert not residual.prefiltered(blip, 1.5, turns=turns).any()
