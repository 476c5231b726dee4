"""ShapeModelConfig validation, the kind registry, network shapes and the model file round trip."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from echolatent.errors import InputError
from echolatent.models.shape import (
    DEFAULT_ATTRIBUTES,
    KINDS,
    LEGACY_TRAINING_KEYS,
    ShapeModel,
    ShapeModelConfig,
    model_from_payload,
    read_model_file,
    save_model,
)
from echolatent.train.shape_config import TRAIN_KEYS, ShapeTrainConfig, flat_config, split_config

torch.set_num_threads(1)
TINY = {"input_size": 32, "channels": (4, 8), "bottleneck_channels": 4, "latent_dim": 10}


def tiny(kind: str, **overrides) -> ShapeModelConfig:
    return ShapeModelConfig(kind=kind, **{**TINY, **overrides})


def tiny_configs(kind: str, **overrides) -> tuple[ShapeModelConfig, ShapeTrainConfig]:
    """Architecture and resolved training settings from one flat set of fields."""
    return split_config({"kind": kind, **TINY, **overrides})


def test_default_attributes_match_the_measure_module():
    from echolatent.measure.attributes import ATTRIBUTES

    assert DEFAULT_ATTRIBUTES == ATTRIBUTES


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_defaults_come_from_the_registry(kind):
    cfg, train = tiny_configs(kind)
    spec = KINDS[kind]
    assert (train.beta, train.gamma, train.delta) == (spec.beta, spec.gamma, spec.delta)
    assert cfg.attributes == (DEFAULT_ATTRIBUTES if spec.regularised else ())
    model = ShapeModel(cfg)
    assert model.variational == spec.variational


def test_ar_vae_defaults_are_castors():
    cfg = ShapeModelConfig()
    train = ShapeTrainConfig().resolved(cfg)
    assert (cfg.kind, train.beta, train.gamma, train.delta) == ("ar-vae", 1e-4, 0.1, 16.0)
    assert cfg.attributes[:8] == DEFAULT_ATTRIBUTES and cfg.latent_dim == 16


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "gan"}, "unknown model kind"),
        ({"input_size": 36}, "multiple of 2\\*\\*3"),
        ({"input_size": 4}, "multiple"),
        ({"channels": ()}, "channels"),
        ({"channels": (4, 0)}, "channels"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"latent_dim": 4}, "need latent_dim >= 8"),
        ({"beta": -1.0}, "beta"),
        ({"beta": math.nan}, "beta"),
        ({"delta": 0.0}, "delta"),
        ({"lr": -1e-3}, "lr"),
        ({"batch_size": 1}, "batch_size"),
        ({"kl_warmup_epochs": -1}, "kl_warmup_epochs"),
        ({"attributes": ("lv_area", "lv_area")}, "distinct"),
        ({"kind": "ae", "attributes": ("lv_area",)}, "not variational"),
        ({"kind": "vae", "gamma": 0.1}, "no attributes"),
        ({"prior_weight": -0.5}, "prior_weight"),
        ({"prior_weight": math.inf}, "prior_weight"),
        ({"kind": "ae", "prior_weight": 1.0}, "AE has no prior"),
        ({"head_channels": -1}, "head_channels"),
        ({"prior_pool_size": 0}, "prior_pool_size"),
        ({"encoder_channels": (4,)}, "encoder_channels"),
        ({"encoder_channels": (4, 0)}, "encoder_channels"),
        ({"loss_size": 16}, "loss_size"),
        ({"freeze_decoder": True, "prior_weight": 1.0}, "freeze_decoder"),
    ],
)
def test_bad_config_values_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_configs(overrides.pop("kind", "ar-vae"), **overrides)


def test_config_dict_round_trip_and_unknown_keys():
    cfg = tiny("ar-vae", head_channels=4)
    assert ShapeModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown shape-model config keys"):
        ShapeModelConfig.from_dict({**cfg.to_dict(), "colour": "red"})
    with pytest.raises(TypeError):
        ShapeModelConfig(lr=1e-3)  # training settings are not the architecture's


def test_configs_written_before_the_split_read_as_both():
    train = ShapeTrainConfig(beta=0.5, lr=2e-4, batch_size=4, prior_weight=1.0, loss_size=64)
    old = {**tiny("ar-vae").to_dict(), **train.to_dict()}  # one flat dict, as files and run folders held it
    assert set(TRAIN_KEYS) == LEGACY_TRAINING_KEYS
    assert ShapeModelConfig.from_dict(old) == tiny("ar-vae")
    model, resolved = split_config(old)
    assert model == tiny("ar-vae") and resolved == train.resolved(model)
    assert flat_config(model, resolved) == {**model.to_dict(), **resolved.to_dict()}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_encode_decode_shapes(kind):
    model = ShapeModel(tiny(kind)).eval()
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (3, 32, 32)), 4).permute(0, 3, 1, 2).float()
    mu, logvar = model.encode(x)
    assert mu.shape == (3, 10)
    assert (logvar is None) == (kind == "ae")
    assert model.decode(mu).shape == (3, 4, 32, 32)
    with pytest.raises(ValueError, match="one-hot masks of shape"):
        model.encode(x[:, :, :16, :16])
    with pytest.raises(ValueError, match="latent codes of shape"):
        model.decode(mu[:, :5])


def test_encoder_may_be_wider_than_the_decoder():
    model = ShapeModel(tiny("ar-vae", encoder_channels=(6, 12)))
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [6, 6, 12, 12, 4]  # two blocks, then the 4-channel bottleneck
    assert ShapeModel(tiny("ar-vae")).decoder[3].in_channels == model.decoder[3].in_channels  # decoder unchanged
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (2, 32, 32)), 4).permute(0, 3, 1, 2).float()
    assert model(x).shape == (2, 4, 32, 32)
    assert tiny("ar-vae").encoder_channels == tiny("ar-vae").channels  # default: the decoder's widths
    assert ShapeModelConfig.from_dict(model.config.to_dict()) == model.config


def test_full_resolution_head_adds_one_block_before_the_logits():
    plain, headed = ShapeModel(tiny("ar-vae")), ShapeModel(tiny("ar-vae", head_channels=6))
    last_plain, last_headed = plain.decoder[-1], headed.decoder[-1]
    assert isinstance(last_plain, torch.nn.ConvTranspose2d) and last_plain.out_channels == 4
    assert isinstance(last_headed, torch.nn.Conv2d) and (last_headed.in_channels, last_headed.out_channels) == (6, 4)
    assert last_headed.stride == (1, 1)
    assert len(headed.decoder) == len(plain.decoder) + 3  # transposed conv + ELU + batch norm at full resolution
    assert headed.decode(torch.zeros(2, 10)).shape == (2, 4, 32, 32)


@pytest.mark.parametrize(("kind", "head"), [(kind, 0) for kind in sorted(KINDS)] + [("ar-vae", 6)])
def test_save_load_round_trip_gives_identical_outputs(kind, head, tmp_path):
    torch.manual_seed(0)
    model = ShapeModel(tiny(kind, head_channels=head))
    model.train()
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (4, 32, 32)), 4).permute(0, 3, 1, 2).float()
    model(x)  # updates the batch-norm running statistics, which must be saved too
    model.set_latent_range(-torch.arange(10.0), torch.arange(10.0) + 1)
    model.eval()
    path = save_model(model, tmp_path / "m.pt", {"note": "x"})
    payload = read_model_file(path)
    assert payload["attributes"] == list(model.config.attributes) and payload["input_size"] == 32
    loaded = model_from_payload(payload, path)
    assert loaded.config == model.config
    assert torch.equal(loaded.latent_max, model.latent_max)
    assert loaded.encoder[0].weight.is_contiguous(memory_format=torch.channels_last)  # loaded for fast inference
    with torch.no_grad():  # same weights; channels-last convolutions sum in another order
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=1e-4)
        torch.testing.assert_close(loaded.encode(x)[0], model.encode(x)[0], rtol=0, atol=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values(),
                                                   strict=True))


def test_bad_model_files_raise_input_errors(tmp_path):
    with pytest.raises(InputError, match="model file not found"):
        read_model_file(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="cannot read model file"):
        read_model_file(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": np.zeros(2).tolist()}, foreign)
    with pytest.raises(InputError, match="not an echolatent shape-model file"):
        read_model_file(foreign)


def test_decode_in_chunks_outside_training_gives_the_unchunked_logits():
    from echolatent.models.shape import DECODE_CHUNK

    torch.manual_seed(1)
    model = ShapeModel(tiny("ar-vae", head_channels=4))
    z = torch.randn(2 * DECODE_CHUNK + 3, 10)
    calls = []
    model.decoder.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    model.train()  # batch statistics over all the codes: one decoder call, not chunks
    with torch.no_grad():
        whole = model.decode(z)
    assert calls == [len(z)]
    model.eval()
    with torch.no_grad():
        chunked, reference = model.decode(z), model.decoder(z)
    assert calls[1:] == [DECODE_CHUNK, DECODE_CHUNK, 3, len(z)]
    np.testing.assert_allclose(chunked.numpy(), reference.numpy(), atol=1e-6)
    assert not torch.allclose(whole, reference, atol=1e-3)  # training-mode logits did use the batch's statistics


SHIPPED = Path(__file__).resolve().parents[2] / "src" / "echolatent" / "weights"


@pytest.mark.parametrize("name", ["ae.pt", "vae.pt", "arvae.pt"])
def test_shipped_model_files_written_before_the_split_still_load(name):
    path = SHIPPED / name
    if not path.is_file():
        pytest.skip(f"{name} is not shipped in this checkout")
    payload = read_model_file(path)
    assert LEGACY_TRAINING_KEYS & set(payload["config"])  # the old flat config, training settings included
    model = model_from_payload(payload, path)
    assert model.config == ShapeModelConfig.from_dict(payload["config"])
    assert model.config.input_size == payload["input_size"] and list(model.config.attributes) == payload["attributes"]
    codes = model.encode(torch.zeros(1, 4, model.config.input_size, model.config.input_size))[0]
    assert codes.shape == (1, model.config.latent_dim)
