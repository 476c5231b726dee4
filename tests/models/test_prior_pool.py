"""The prior-sample term: cleaned, valid decodings as targets, the term in a training step, fine-tuning init."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echolatent.models.shape import ATTRIBUTE_GRID, ShapeModel, ShapeModelConfig
from echolatent.resample import grid_onehot, one_hot, resize_labels
from echolatent.train.prior_pool import PriorPool, build_prior_pool
from echolatent.train.shape_module import ShapeModule, init_from, reconstruction_loss

torch.set_num_threads(1)
ARCH = {"input_size": 32, "channels": (4, 8), "bottleneck_channels": 4, "latent_dim": 10}
TINY = {**ARCH, "batch_size": 8}  # architecture and training settings, as ShapeModule takes them


class FixedDecoder(ShapeModel):
    """Decodes every code to the logits of one of two masks, chosen by the sign of the code's first dim; encodes
    every mask to the code ``-1`` (which decodes to the first mask)."""

    def __init__(self, config: ShapeModelConfig, masks: np.ndarray) -> None:
        super().__init__(config)
        self.logits = one_hot(masks) * 40.0

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.logits[(z[:, 0] > 0).long()]

    def encode(self, onehot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return -torch.ones(len(onehot), self.config.latent_dim), torch.zeros(len(onehot), self.config.latent_dim)


def test_pool_targets_are_cleaned_valid_decodings(heart_maker):
    heart = heart_maker(1, size=ATTRIBUTE_GRID, seed=3)[0]
    island = heart.copy()
    island[5:12, 5:12] = 3  # a stray piece of LA: invalid as decoded, valid once the clean-up drops it
    broken = heart.copy()
    broken[heart == 2] = 0  # no myocardium: the clean-up cannot make it valid
    small = resize_labels(np.stack([island, broken]), (32, 32))
    model = FixedDecoder(ShapeModelConfig(soft_masks=True, **ARCH), small)
    first_dim = torch.randn(64, 10, generator=torch.Generator().manual_seed(0))[:, 0]
    no_cycle = build_prior_pool(model, n=64, seed=0, cycles=0)
    assert len(no_cycle.z) == int((first_dim <= 0).sum())  # only the codes that decode to the island heart
    assert no_cycle.valid_raw == 0.0 and no_cycle.valid_cleaned == no_cycle.kept == pytest.approx(len(no_cycle.z) / 64)
    pool = build_prior_pool(model, n=64, seed=0)  # the broken hearts re-encode to -1, which decodes to the island
    assert len(pool.z) == 64 and pool.kept == 1.0 and pool.valid_cleaned == no_cycle.valid_cleaned
    decoded_island = resize_labels(small[:1], (ATTRIBUTE_GRID,) * 2)
    cleaned = decoded_island.copy()
    cleaned[:, :20, :20][cleaned[:, :20, :20] == 3] = 0
    expected = grid_onehot(cleaned, (32, 32), soft=True).half()
    assert pool.targets.shape == (len(pool.z), 4, 32, 32)
    assert all(torch.equal(target, expected[0]) for target in pool.targets)
    assert model.training  # put back in the mode it came in
    fine = build_prior_pool(model, n=64, seed=0, target_size=48)  # a model trained with loss_size 48
    assert fine.targets.dtype == torch.uint8 and torch.equal(fine.z, pool.z)
    assert all(np.array_equal(t, resize_labels(cleaned, (48, 48))[0]) for t in fine.targets.numpy())


def test_prior_term_is_decoded_with_the_batch(hearts):
    module = ShapeModule({**TINY, "prior_weight": 0.5})
    cfg = module.train_config
    assert module.prior_batch(4) is None  # no pool before the first epoch
    z = torch.randn(6, 10, generator=torch.Generator().manual_seed(1))
    targets = one_hot(hearts[:6]).half()
    module.prior_pool = PriorPool(z, targets, 0.5, 1.0)
    torch.manual_seed(0)
    prior = module.prior_batch(4)
    torch.manual_seed(0)
    assert torch.equal(prior[0], z[torch.randint(6, (4,))])
    onehot, attrs = one_hot(hearts[6:10]), torch.zeros(4, 8)
    module.eval()  # deterministic batch norm: the joint decode equals two separate ones
    terms, _ = module.losses(onehot, attrs, sample=False, prior=prior)
    alone, _ = module.losses(onehot, attrs, sample=False)
    expected = reconstruction_loss(module.model.decode(prior[0]), prior[1].float(), cfg.ce_weight)["recon"]
    assert terms["prior"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert terms["loss"].item() == pytest.approx(alone["loss"].item() + 0.5 * expected.item(), rel=1e-5)
    module.train()
    terms, _ = module.losses(onehot, attrs, sample=True, prior=prior)
    module.model.zero_grad()
    terms["prior"].backward()
    assert module.model.decoder[0].weight.grad.abs().sum() > 0


def test_init_from_copies_weights_and_rejects_other_architectures(tmp_path):
    from echolatent.models.shape import save_model

    source = ShapeModel(ShapeModelConfig(**ARCH))
    path = save_model(source, tmp_path / "source.pt")
    module = ShapeModule({**TINY, "soft_masks": True, "prior_weight": 1.0})
    init_from(module, path)
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), module.model.state_dict().values(),
                                                   strict=True))
    other = ShapeModule({**TINY, "latent_dim": 12})
    with pytest.raises(ValueError, match="latent_dim is 10, this run's is 12"):
        init_from(other, path)
    wide = ShapeModule({**TINY, "encoder_channels": (6, 12), "freeze_decoder": True})
    with pytest.raises(ValueError, match="encoder_channels is"):
        init_from(wide, path)  # the whole model: the encoders differ
    fresh = {k: v.clone() for k, v in wide.model.encoder.state_dict().items()}
    init_from(wide, path, decoder_only=True)
    assert all(torch.equal(a, b) for a, b in zip(source.decoder.state_dict().values(),
                                                   wide.model.decoder.state_dict().values(), strict=True))
    assert all(torch.equal(fresh[k], v) for k, v in wide.model.encoder.state_dict().items())
    headed = ShapeModule({**TINY, "head_channels": 4})
    with pytest.raises(ValueError, match="head_channels is 0"):
        init_from(headed, path, decoder_only=True)


def test_prior_term_at_loss_size_compares_resampled_probabilities(hearts):
    module = ShapeModule({**TINY, "prior_weight": 2.0, "loss_size": 48}).eval()
    cfg = module.train_config
    z = torch.randn(4, 10, generator=torch.Generator().manual_seed(2))
    prior = (z, torch.from_numpy(resize_labels(hearts[:4], (48, 48))))
    target = torch.from_numpy(resize_labels(hearts[4:8], (48, 48)))
    terms, logits = module.losses(one_hot(hearts[4:8]), torch.zeros(4, 8), sample=False, prior=prior, target=target)
    assert logits.shape == (4, 4, 32, 32)  # the decoder's grid; the loss is at 48 px
    for name, codes, labels in (("recon", None, target), ("prior", z, prior[1])):
        decoded = logits if codes is None else module.model.decode(codes)
        assert terms[name].item() == pytest.approx(reconstruction_loss(decoded, labels, cfg.ce_weight)["recon"].item(),
                                                   rel=1e-5)
