"""Loss terms of the shape models against hand-computed values on tiny tensors."""

from __future__ import annotations

import math

import pytest
import torch

from echolatent.train.shape_module import attribute_loss, dice_scores, kl_divergence, reconstruction_loss

torch.set_num_threads(1)


def test_kl_closed_form_by_hand():
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)], [0.0, 0.0]])
    # sample 0: -1/2 [(1 + 0 - 1 - 1) + (1 + log 4 - 0 - 4)] ; sample 1: 0
    expected = (-0.5 * ((1 + 0 - 1 - 1) + (1 + math.log(4) - 4))) / 2
    assert kl_divergence(mu, logvar).item() == pytest.approx(expected, rel=1e-6)
    assert kl_divergence(torch.zeros(3, 5), torch.zeros(3, 5)).item() == 0.0


def test_attribute_loss_by_hand():
    z = torch.tensor([[0.0, 5.0], [1.0, 5.0]])
    attrs = torch.tensor([[1.0], [0.0]])  # a_0 > a_1 but z_0 < z_1: wrong order on dim 0
    expected = abs(math.tanh(-1.0) - 1.0)  # both ordered pairs give the same error
    assert attribute_loss(z, attrs, delta=1.0).tolist() == pytest.approx([expected])
    right = torch.tensor([[0.0], [1.0]])  # same order: error 1 - tanh(delta)
    assert attribute_loss(z, right, delta=2.0).item() == pytest.approx(1 - math.tanh(2.0))


def test_attribute_loss_skips_undefined_pairs_and_ties():
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    attrs = torch.tensor([[0.0, 2.0], [1.0, 2.0], [float("nan"), 2.0]])
    loss = attribute_loss(z, attrs, delta=1.0)
    # attribute 0: only pair (0, 1) is defined -> 1 - tanh(1); attribute 1: all tied, z all 0 on dim 1 -> 0
    assert loss[0].item() == pytest.approx(1 - math.tanh(1.0))
    assert loss[1].item() == 0.0
    assert not torch.isnan(loss).any()
    assert attribute_loss(z, torch.full((3, 1), float("nan")), 1.0).item() == 0.0


def test_reconstruction_loss_by_hand():
    labels = torch.tensor([[[0, 1], [2, 3]], [[0, 0], [1, 1]]])
    uniform = torch.zeros(2, 4, 2, 2)
    terms = reconstruction_loss(uniform, labels, ce_weight=0.1)
    assert terms["ce"].item() == pytest.approx(math.log(4))
    # batch Dice per class with p = 1/4 everywhere (8 pixels): 2 * n_c / 4 / (8 / 4 + n_c)
    counts = {1: 3, 2: 1, 3: 1}
    dice = sum(2 * n / 4 / (2 + n) for n in counts.values()) / 3
    assert terms["dice"].item() == pytest.approx(1 - dice, abs=1e-5)
    assert terms["recon"].item() == pytest.approx(0.1 * math.log(4) + 1 - dice, abs=1e-5)
    perfect = torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).float() * 50
    terms = reconstruction_loss(perfect, labels, ce_weight=0.1)
    assert terms["ce"].item() < 1e-6 and terms["dice"].item() < 1e-5


def test_dice_scores_of_label_maps():
    truth = torch.tensor([[[1, 1], [2, 3]]])
    pred = torch.tensor([[[1, 0], [2, 2]]])
    assert dice_scores(pred, truth).tolist() == pytest.approx([2 / 3, 2 / 3, 0.0])


def test_reconstruction_loss_takes_fractions():
    labels = torch.tensor([[[0, 1], [2, 3]], [[0, 0], [1, 1]]])
    logits = torch.randn(2, 4, 2, 2, generator=torch.Generator().manual_seed(0))
    onehot = torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).float()
    by_label, by_onehot = reconstruction_loss(logits, labels, 0.1), reconstruction_loss(logits, onehot, 0.1)
    assert all(by_label[k].item() == pytest.approx(by_onehot[k].item(), abs=1e-6) for k in by_label)
    # a pixel half LV, half MYO: cross-entropy against the mixture, by hand for uniform logits
    half = torch.tensor([0.0, 0.5, 0.5, 0.0]).view(1, 4, 1, 1)
    terms = reconstruction_loss(torch.zeros(1, 4, 1, 1), half, 1.0)
    assert terms["ce"].item() == pytest.approx(math.log(4))
    peaked = torch.tensor([0.0, 1.0, 1.0, 0.0]).view(1, 4, 1, 1) * 20
    assert reconstruction_loss(peaked, half, 1.0)["ce"].item() == pytest.approx(math.log(2), abs=1e-6)


def test_per_frame_dice_weighs_each_frame_equally():
    labels = torch.zeros(2, 4, 4, dtype=torch.long)
    labels[0, :, :2] = 1  # 8 LV pixels in frame 0
    labels[1, 0, 0] = 1  # 1 LV pixel in frame 1, predicted as background
    logits = torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).float() * 50
    logits[1, :, 0, 0] = torch.tensor([50.0, 0, 0, 0])
    batch, frame = (reconstruction_loss(logits, labels, 0.0, per_frame=p)["dice"].item() for p in (False, True))
    # LV Dice: over the batch 2*8/(8+9); per frame (1 + 0)/2; MYO and LA absent: Dice 1 either way (smoothing)
    assert batch == pytest.approx(1 - (2 * 8 / 17 + 1 + 1) / 3, abs=1e-4)
    assert frame == pytest.approx(1 - (0.5 + 1 + 1) / 3, abs=1e-4)


def test_reconstruction_loss_on_finer_targets_uses_resampled_probabilities():
    scores = torch.tensor([2.0, 1.0, 0.0, -1.0])
    p = scores.softmax(0).tolist()
    logits = scores.view(1, 4, 1, 1).repeat(1, 1, 2, 2).requires_grad_()  # the same class scores everywhere:
    labels = torch.zeros(1, 4, 4, dtype=torch.long)  # resampled to 4 x 4, the probabilities stay p
    labels[0, :2] = 1  # 8 LV pixels, 8 background
    terms = reconstruction_loss(logits, labels, ce_weight=1.0, per_frame=True)
    assert terms["ce"].item() == pytest.approx(-(math.log(p[0]) + math.log(p[1])) / 2, rel=1e-5)
    # LV Dice 2 * 8 p1 / (16 p1 + 8); MYO and LA predicted (16 p pixels) but absent: Dice ~0 (smoothing 1e-5)
    lv = 2 * 8 * p[1] / (16 * p[1] + 8)
    assert terms["dice"].item() == pytest.approx(1 - lv / 3, abs=1e-5)
    terms["recon"].backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0  # the resampling is differentiable


def test_finer_targets_reward_sub_pixel_boundaries():
    # LV on the left 3 of 4 fine columns: on a 2-pixel coarse grid the boundary falls inside the right pixel, which
    # only a soft probability can place; a fine-size loss prefers it to either hard choice, a coarse one cannot see it
    fine = torch.zeros(1, 4, 4, dtype=torch.long)
    fine[0, :, :3] = 1

    def loss(p_right: float) -> float:
        """Loss of a 2 x 2 prediction: LV certain in the left column, with probability ``p_right`` in the right."""
        lv = torch.tensor([[1.0, p_right]]).expand(2, 2)
        probs = torch.stack([1 - lv, lv, torch.zeros_like(lv), torch.zeros_like(lv)])[None].clamp(1e-4, 1)
        return reconstruction_loss(probs.log(), fine, ce_weight=0.1, per_frame=True)["recon"].item()

    assert loss(0.5) < min(loss(0.0), loss(1.0))
