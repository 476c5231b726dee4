"""Echo-like images: sector, intensities by structure, speckle that moves with the tissue."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from echolatent.labels import Label, View
from echolatent.synth.echo import EchoStyle, simulate_view
from echolatent.synth.heart import half_cycle_phases, heart_state, sample_heart
from echolatent.synth.slicing import render_masks, sample_placements

SIZE = 64


@pytest.fixture(scope="module")
def view_data():
    rng = np.random.default_rng(4)
    heart = sample_heart(rng)
    placement = sample_placements(heart, rng)[View.A2C]
    state = heart_state(heart, half_cycle_phases(heart, 6))
    style = EchoStyle(half_angle=37.0)
    images = simulate_view(heart, state, placement, SIZE, np.random.default_rng(0), style)
    masks = render_masks(heart, state, placement, SIZE)
    return heart, state, placement, style, images, masks


def _sector(size, half_angle):
    centres = np.arange(size) + 0.5
    y, x = np.meshgrid(centres, centres - size / 2, indexing="ij")
    return (np.hypot(y, x) <= size) & (np.abs(np.degrees(np.arctan2(x, y))) <= half_angle)


def test_zero_outside_sector_nonzero_inside(view_data):
    *_, style, images, _ = view_data
    assert images.dtype == np.uint8 and images.shape == (6, SIZE, SIZE)
    sector = _sector(SIZE, style.half_angle)
    assert np.all(images[:, ~sector] == 0)
    assert np.all(images[:, sector] > 0)
    assert images[:, sector].max() == 255


def test_blood_dark_myocardium_bright(view_data):
    *_, images, masks = view_data
    lv = images[masks == Label.LV].mean()
    la = images[masks == Label.LA].mean()
    myo = images[masks == Label.MYO].mean()
    assert myo > lv + 40 and myo > la + 40


def test_speckle_correlated_but_not_identical(view_data):
    heart, state, placement, style, images, masks = view_data
    # plain tissue: away from the heart's edges and the sector's edges (no shared structure)
    near_heart = ndimage.binary_dilation(masks[0] > 0, iterations=6)
    tissue = ~near_heart & ndimage.binary_erosion(images[0] > 0, iterations=3)
    tissue[: SIZE // 3] = False  # and below the near field

    def speckle(image):  # the grain: the image minus its local mean
        image = image.astype(float)
        return (image - ndimage.gaussian_filter(image, 2.0))[tissue]

    other = simulate_view(heart, state, placement, SIZE, np.random.default_rng(99), style)
    corr_next = np.corrcoef(speckle(images[0]), speckle(images[1]))[0, 1]
    corr_other = np.corrcoef(speckle(images[0]), speckle(other[1]))[0, 1]
    assert not np.array_equal(images[0], images[1])
    assert corr_next > 0.5 and corr_next > corr_other + 0.3


def test_same_rng_same_images(view_data):
    heart, state, placement, style, images, _ = view_data
    again = simulate_view(heart, state, placement, SIZE, np.random.default_rng(0), style)
    np.testing.assert_array_equal(images, again)
