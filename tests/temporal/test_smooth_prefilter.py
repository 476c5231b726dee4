"""The input filters of the exact smoother under the residual decode: what it encodes (the input prefiltered at the
first input sigma, at residual.TURN_SIGMA on the unchecked frames, at a first sigma of exactly 1 frame too) and the
blends' one-hot (filtered at the last input sigma); the final report measured at the given spacing (bounds in mm);
the limit target = 0 (with keep_below = 0) and the exact message for a model without a latent range."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from echolatent.cleanup import clean_masks
from echolatent.errors import InputError
from echolatent.labels import Label
from echolatent.measure.sequence import temporal_check
from echolatent.measure.temporal import TemporalThresholds
from echolatent.models.shape import ShapeModel, ShapeModelConfig
from echolatent.temporal import residual, smooth
from echolatent.temporal.smooth import Smoother
from echolatent.temporal.smooth_setup import check_arguments

from .sequences import ring_sequence, tiny_shape_model


@pytest.fixture(scope="module")
def tiny() -> ShapeModel:
    return tiny_shape_model(torch.linspace(1.0, 2.0, 10))


def _turning_heart() -> np.ndarray:
    """Thirteen frames of the ring heart at rest whose LV widens from 4 to 5.5 px on frames 3 and 4 only (a sharp
    turn: a 1.5-frame Gaussian gives frame 3 a weight 0.27 + 0.21 < 1/2 there, a 0.85-frame one 0.47 + 0.23) and on
    frame 10 alone (a one-frame error: weight 0.40 < 1/2 at 1 frame)."""
    masks = np.repeat(ring_sequence(13)[:1], 13, axis=0)
    rows, cols = np.mgrid[:24, :24]
    wide = np.hypot(rows - 9, cols - 12) < 5.5
    for t in (3, 4, 10):
        masks[t][wide & (masks[t] == Label.MYO)] = Label.LV
    return masks


def _encoded(smoother: Smoother, masks: np.ndarray, unchecked, monkeypatch) -> np.ndarray:
    encoded = []
    real = smoother._encode
    monkeypatch.setattr(smoother, "_encode", lambda m: encoded.append(m.copy()) or real(m))
    smoother(masks, None, unchecked=unchecked)
    return encoded[0]


def test_the_turns_are_prefiltered_narrowly_before_encoding(tiny, monkeypatch):
    masks = _turning_heart()
    turns = np.zeros(13, bool)
    turns[[3, 4]] = True
    with_turns, without = residual.prefiltered(masks, 1.5, turns=turns), residual.prefiltered(masks, 1.5)
    assert (with_turns[3] == Label.LV).sum() > (without[3] == Label.LV).sum()  # the case tells them apart
    smoother = Smoother(tiny, "exact", keep_below=0.0, max_rounds=0, input_sigmas=(1.5, 3.0))
    np.testing.assert_array_equal(_encoded(smoother, masks, turns, monkeypatch), with_turns)
    np.testing.assert_array_equal(_encoded(smoother, masks, None, monkeypatch), without)


def test_a_first_sigma_of_one_frame_still_prefilters(tiny, monkeypatch):
    masks = _turning_heart()
    filtered = residual.prefiltered(masks, 1.0)
    assert not np.array_equal(filtered[10], masks[10])  # the one-frame widening is removed at 1 frame
    smoother = Smoother(tiny, "exact", keep_below=0.0, max_rounds=0, input_sigmas=(1.0, 2.0))
    np.testing.assert_array_equal(_encoded(smoother, masks, None, monkeypatch), filtered)
    assert smooth.INPUT_SIGMAS[0] > 1.0  # the default is above the limit tested here


def test_target_zero_is_refused_even_with_keep_below_zero():
    good = {"method": "exact", "decode": "residual", "blends": (0.6,), "input_sigmas": (1.5,), "tighten": 0.25,
            "max_rounds": 2}
    with pytest.raises(ValueError, match="need 0 < target <= 1"):
        check_arguments(**good, target=0.0, keep_below=0.0)
    check_arguments(**good, target=1e-9, keep_below=0.0)


def test_the_message_for_a_model_without_a_latent_range():
    torch.manual_seed(0)
    bare = ShapeModel(ShapeModelConfig(input_size=16, channels=(4,), bottleneck_channels=2, latent_dim=10)).eval()
    bare.set_latent_range(torch.zeros(10), torch.zeros(10))
    with pytest.raises(InputError) as err:
        Smoother(bare, "exact")
    assert err.value.problem == "the shape model has no latent range (latent_max <= latent_min on some dims)"


def test_the_final_report_is_measured_at_the_given_spacing(tiny):
    """Bounds in mm: the output's report must equal the check of the output masks at their (unequal) spacing, which
    differs from the same check in pixels."""
    bounds = {"lv_area": (0.0, 40.0), "myo_area": (0.0, 60.0), "lv_length": (0.0, 8.0), "lv_base_width": (0.0, 6.0)}
    mm = TemporalThresholds.published(bounds, spacing=(0.3, 0.7))
    spacing = (0.3, 0.7)
    result = Smoother(tiny, "exact", thresholds=mm, keep_below=0.0, max_rounds=0)(ring_sequence(13), spacing)
    expected = temporal_check(result.masks, spacing, mm)
    in_pixels = temporal_check(result.masks, None, mm)
    for name in bounds:
        np.testing.assert_allclose(result.report.temporal.d[name], expected.d[name], rtol=1e-12, atol=1e-12)
    assert any(not np.allclose(expected.d[n], in_pixels.d[n], equal_nan=True) for n in bounds)


def test_blends_start_from_the_widest_input_filter(tiny, monkeypatch):
    """Three input sigmas; the decoder's probabilities uniform (0.25), so at w = 0.6 a blended pixel takes the label
    of the input's one-hot filtered at the last sigma (2.5 frames: SciPy's filter here), which removes the two-frame
    widening that 1 frame keeps."""
    smoother = Smoother(tiny, "exact", input_sigmas=(0.0, 1.0, 2.5))
    masks = _turning_heart()
    monkeypatch.setattr(smoother, "_probs", lambda codes, size: np.full((len(codes), 4, 24, 24), 0.25, np.float32))
    residual_out, full = np.full(masks.shape, 5, np.uint8), np.full(masks.shape, 6, np.uint8)
    out = residual_out.copy()
    weights = np.zeros(13)
    weights[[3, 4, 10]] = 0.6
    smoother._blend_frames(out, masks, np.zeros((13, 10)), full, residual_out, weights, np.array([3, 4, 10]))
    one_hot = (masks[:, None] == np.arange(4)[None, :, None, None]).astype(np.float64)
    wide = ndimage.gaussian_filter1d(one_hot, 2.5, axis=0, mode="nearest", truncate=3.0).argmax(1).astype(np.uint8)
    narrow = ndimage.gaussian_filter1d(one_hot, 1.0, axis=0, mode="nearest", truncate=3.0).argmax(1).astype(np.uint8)
    assert not np.array_equal(wide[3], narrow[3])  # the case tells the sigmas apart
    for t in (3, 4, 10):
        np.testing.assert_array_equal(out[t], clean_masks(wide[t][None])[0])
    assert (np.delete(out, [3, 4, 10], axis=0) == 5).all()
