import numpy as np
import pytest
import torch

from echolatent.errors import InputError
from echolatent.resample import one_hot, resize_frames, resize_labels


def _disc(size: int, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return ((yy - size / 2 + 0.5) ** 2 + (xx - size / 2 + 0.5) ** 2 <= radius**2).astype(np.uint8)


def test_resize_labels_keeps_area_fraction() -> None:
    mask = _disc(200, 60)[None]
    small = resize_labels(mask, (100, 100))
    assert small.shape == (1, 100, 100) and small.dtype == np.uint8
    assert abs(int(small.sum()) * 4 - int(mask.sum())) / mask.sum() < 0.02
    back = resize_labels(small, (200, 200))
    assert abs(int(back.sum()) - int(mask.sum())) / mask.sum() < 0.02


def test_resize_labels_identity_and_frames() -> None:
    mask = np.random.default_rng(0).integers(0, 4, (3, 17, 23)).astype(np.uint8)
    np.testing.assert_array_equal(resize_labels(mask, (17, 23)), mask)
    assert resize_frames(mask.astype(float), (8, 9)).shape == (3, 8, 9)


def test_one_hot_rejects_unknown_labels() -> None:
    with pytest.raises(InputError, match="unknown labels \\[7\\]"):
        one_hot(np.array([[[0, 7]]]))


def test_grid_onehot_soft_keeps_fractions_hard_keeps_labels():
    from echolatent.resample import grid_onehot

    masks = np.zeros((2, 9, 9), np.uint8)
    masks[:, 2:7, 2:6] = 1  # a 5 x 4 block: its edges fall inside the 3 x 3 cells of the 3 x 3 grid
    soft, hard = grid_onehot(masks, (3, 3), soft=True), grid_onehot(masks, (3, 3))
    assert soft.shape == hard.shape == (2, 4, 3, 3)
    assert torch.allclose(soft.sum(1), torch.ones(2, 3, 3))
    expected = torch.tensor([[1 / 9, 1 / 3, 0], [1 / 3, 1, 0], [1 / 9, 1 / 3, 0]])
    assert torch.allclose(soft[0, 1], expected, atol=1e-6)
    assert torch.equal(hard, one_hot(resize_labels(masks, (3, 3))))
    assert torch.equal(grid_onehot(masks, (9, 9), soft=True), one_hot(masks))


def test_resize_labels_gives_a_tie_to_the_label_at_the_pixel_centre() -> None:
    """A 6 x 6 LV at an odd offset in MYO, halved: every 2 x 2 block its border splits in two is a tie, taken by the
    label at the target pixel's centre (the source pixel below and right of it), so the LV keeps 8 of 9 pixels'
    worth (its corner block is 1/4 LV); ties to the lower label number gave it 12."""
    masks = np.full((1, 16, 16), 2, dtype=np.uint8)
    masks[0, 3:9, 3:9] = 1
    expected = np.zeros((8, 8), dtype=bool)
    expected[1:4, 1:4] = True
    expected[1, 1] = False
    np.testing.assert_array_equal(resize_labels(masks, (8, 8))[0] == 1, expected)


def test_resize_labels_keeps_structure_areas_unbiased() -> None:
    """Discs at random sub-pixel centres and radii, shrunk by 2 and by 8/7: the mean LV area ratio to the exact
    scaled area stays within 0.5 % (ties to the lower label grew it by 2-4 %), the MYO ring's within 1 %."""
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[:256, :256] + 0.5
    masks = np.zeros((12, 256, 256), dtype=np.uint8)
    for t in range(12):
        cy, cx, radius = 128 + rng.uniform(-4, 4), 128 + rng.uniform(-4, 4), rng.uniform(30, 60)
        distance = np.hypot(rows - cy, cols - cx)
        masks[t][distance < radius + 12] = 2
        masks[t][distance < radius] = 1
    for size in (128, 224):
        shrunk = resize_labels(masks, (size, size))
        scale = (size / 256) ** 2
        for label, tolerance in ((1, 0.005), (2, 0.01)):
            ratio = (shrunk == label).sum() / ((masks == label).sum() * scale)
            assert abs(ratio - 1) < tolerance, (size, label, ratio)
