"""Shape models of heart masks: autoencoder, VAE, beta-VAE and AR-VAE from one config and one registry.

All four kinds share one network (castor-style convolutional encoder/decoder on one-hot masks
``(N, 4, S, S)``); they differ only in whether the encoder predicts a log-variance (variational) and in
the loss weights (``beta`` on the KL, ``gamma``/``delta`` on the attribute regularisation), which the
training module (:mod:`echolatent.train.shape_module`) owns. A model file holds the weights, the config,
the attribute list, the input size and the per-dimension range of ``mu`` seen in training; loading it
needs only torch.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from echolatent.labels import NUM_LABELS

log = logging.getLogger(__name__)

# Same names and order as echolatent.measure.attributes.ATTRIBUTES (checked by a test); duplicated so that
# loading a model needs nothing beyond torch.
DEFAULT_ATTRIBUTES = (
    "lv_area", "lv_base_width", "lv_length", "lv_orientation", "myo_area", "epi_center_x", "epi_center_y", "la_area",
)
#: Side (pixels) of the square grid the shape attributes are measured on, for training and evaluation (camus224's
#: own size): finer than the model's grid, where the basal corners of ``lv_base_width`` are a pixel or two.
ATTRIBUTE_GRID = 224
FILE_FORMAT = "echolatent-shape-model"
FILE_VERSION = 1
#: Codes decoded at a time outside training (:meth:`ShapeModel.decode`).
DECODE_CHUNK = 16


@dataclass(frozen=True)
class KindSpec:
    """What distinguishes one kind of shape model: stochastic encoder or not, and its default loss weights."""

    variational: bool
    beta: float
    gamma: float
    delta: float
    regularised: bool


# kind -> spec; the one place that says how the kinds differ (no if/elif chains elsewhere).
KINDS: dict[str, KindSpec] = {
    "ae": KindSpec(variational=False, beta=0.0, gamma=0.0, delta=1.0, regularised=False),
    "vae": KindSpec(variational=True, beta=1e-4, gamma=0.0, delta=1.0, regularised=False),
    "beta-vae": KindSpec(variational=True, beta=1e-2, gamma=0.0, delta=1.0, regularised=False),
    "ar-vae": KindSpec(variational=True, beta=1e-4, gamma=0.1, delta=16.0, regularised=True),
}


#: Training settings that model files and run folders written before the architecture / training split carried in
#: their config (read and dropped when loading; they live in :class:`echolatent.train.shape_config.ShapeTrainConfig`).
LEGACY_TRAINING_KEYS = frozenset({
    "beta", "gamma", "delta", "ce_weight", "kl_warmup_epochs", "kl_capacity", "lr", "weight_decay", "batch_size",
    "prior_weight", "prior_pool_size", "dice_per_frame", "loss_size", "freeze_decoder",
})


@dataclass(frozen=True)
class ShapeModelConfig:
    """Architecture of a shape model (what a model file needs to be rebuilt); the training settings are
    :class:`echolatent.train.shape_config.ShapeTrainConfig`.

    ``attributes`` left at ``None`` is the eight default attributes for the AR-VAE and none otherwise; attribute ``k``
    is regularised on latent dimension ``k``, the remaining dimensions are free. ``channels``: widths of the decoder's
    blocks and, unless ``encoder_channels`` says otherwise, of the encoder's. ``soft_masks``: masks reach the grid as
    area fractions (partial volume) rather than resampled labels, for the encoder's input and the training targets.
    ``head_channels`` > 0: the decoder's last upsampling gives that many feature maps at full resolution, then a 3x3
    convolution makes the logits (0: the last upsampling makes the logits, castor's layout).
    """

    kind: str = "ar-vae"
    input_size: int = 96
    channels: tuple[int, ...] = (16, 32, 64, 128)
    bottleneck_channels: int = 32
    encoder_channels: tuple[int, ...] | None = None
    latent_dim: int = 16
    attributes: tuple[str, ...] | None = None
    soft_masks: bool = False
    head_channels: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown model kind {self.kind!r}; expected one of {sorted(KINDS)}")
        if self.attributes is None:
            object.__setattr__(self, "attributes", DEFAULT_ATTRIBUTES if self.spec.regularised else ())
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        encoder = self.channels if self.encoder_channels is None else self.encoder_channels
        object.__setattr__(self, "encoder_channels", tuple(int(c) for c in encoder))
        object.__setattr__(self, "attributes", tuple(str(a) for a in self.attributes))
        object.__setattr__(self, "soft_masks", bool(self.soft_masks))
        object.__setattr__(self, "head_channels", int(self.head_channels))
        _validate(self)

    @property
    def spec(self) -> KindSpec:
        """The registry entry of this config's kind."""
        return KINDS[self.kind]

    @property
    def bottleneck_size(self) -> int:
        """Side of the bottleneck feature map: ``input_size / 2**(len(channels) + 1)``."""
        return self.input_size // 2 ** (len(self.channels) + 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (tuples as lists) for JSON and model files."""
        data = asdict(self)
        data["channels"] = list(self.channels)
        data["encoder_channels"] = list(self.encoder_channels)
        data["attributes"] = list(self.attributes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShapeModelConfig:
        """Inverse of :meth:`to_dict`; the training keys of older files are dropped, unknown keys rejected."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - LEGACY_TRAINING_KEYS)
        if unknown:
            raise ValueError(f"unknown shape-model config keys {unknown}")
        data = {k: v for k, v in data.items() if k in known}
        for key in ("channels", "encoder_channels", "attributes"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)


def _validate(cfg: ShapeModelConfig) -> None:
    """Raise ValueError naming the first bad field of ``cfg``."""
    depth = len(cfg.channels) + 1
    if not cfg.channels or any(c < 1 for c in cfg.channels):
        raise ValueError(f"channels must be a non-empty list of positive widths, got {cfg.channels}")
    if cfg.input_size < 2**depth or cfg.input_size % 2**depth:
        raise ValueError(f"input_size {cfg.input_size} must be a positive multiple of 2**{depth} = {2**depth} "
                         f"(one halving per encoder block plus the bottleneck)")
    if len(cfg.encoder_channels) != len(cfg.channels) or any(c < 1 for c in cfg.encoder_channels):
        raise ValueError(f"encoder_channels must be {len(cfg.channels)} positive widths (one per decoder block), "
                         f"got {cfg.encoder_channels}")
    if cfg.bottleneck_channels < 1:
        raise ValueError(f"bottleneck_channels must be positive, got {cfg.bottleneck_channels}")
    if cfg.head_channels < 0:
        raise ValueError(f"head_channels must be >= 0 (0: no full-resolution block), got {cfg.head_channels}")
    if cfg.latent_dim < 1:
        raise ValueError(f"latent_dim must be positive, got {cfg.latent_dim}")
    if len(set(cfg.attributes)) != len(cfg.attributes):
        raise ValueError(f"attributes must be distinct, got {cfg.attributes}")
    if len(cfg.attributes) > cfg.latent_dim:
        raise ValueError(f"{len(cfg.attributes)} attributes need latent_dim >= {len(cfg.attributes)}, "
                         f"got {cfg.latent_dim}")
    if cfg.attributes and not cfg.spec.variational:
        raise ValueError(f"kind {cfg.kind!r} is not variational: attribute regularisation needs a VAE kind")


def _conv_block(c_in: int, c_out: int, *, stride: int, transpose: bool = False) -> list[nn.Module]:
    """3x3 conv (strided or transposed), ELU, batch norm."""
    if transpose:
        conv = nn.ConvTranspose2d(c_in, c_out, 3, stride=stride, padding=1, output_padding=stride - 1)
    else:
        conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
    return [conv, nn.ELU(inplace=True), nn.BatchNorm2d(c_out)]


def _encoder(cfg: ShapeModelConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    c_prev = NUM_LABELS
    for c in cfg.encoder_channels:
        layers += _conv_block(c_prev, c, stride=2) + _conv_block(c, c, stride=1)
        c_prev = c
    layers += _conv_block(c_prev, cfg.bottleneck_channels, stride=2)
    layers.append(nn.Flatten())
    return nn.Sequential(*layers)


def _decoder(cfg: ShapeModelConfig) -> nn.Sequential:
    side = cfg.bottleneck_size
    layers: list[nn.Module] = [
        nn.Linear(cfg.latent_dim, cfg.bottleneck_channels * side * side),
        nn.ELU(inplace=True),
        nn.Unflatten(1, (cfg.bottleneck_channels, side, side)),
    ]
    c_prev = cfg.bottleneck_channels
    for c in reversed(cfg.channels):
        layers += _conv_block(c_prev, c, stride=2, transpose=True) + _conv_block(c, c, stride=1)
        c_prev = c
    if cfg.head_channels:
        layers += _conv_block(c_prev, cfg.head_channels, stride=2, transpose=True)
        layers.append(nn.Conv2d(cfg.head_channels, NUM_LABELS, 3, padding=1))
    else:
        layers.append(nn.ConvTranspose2d(c_prev, NUM_LABELS, 3, stride=2, padding=1, output_padding=1))
    return nn.Sequential(*layers)


class ShapeModel(nn.Module):
    """Encoder/decoder of one-hot heart masks; any kind of :data:`KINDS`.

    Buffers ``latent_min``/``latent_max`` ``(d,)`` hold the per-dimension range of ``mu`` over the
    training set (filled after training by :meth:`set_latent_range`).
    """

    def __init__(self, config: ShapeModelConfig) -> None:
        super().__init__()
        self.config = config
        flat = config.bottleneck_channels * config.bottleneck_size**2
        self.encoder = _encoder(config)
        self.mu_head = nn.Linear(flat, config.latent_dim)
        self.logvar_head = nn.Linear(flat, config.latent_dim) if config.spec.variational else None
        self.decoder = _decoder(config)
        self.register_buffer("latent_min", torch.zeros(config.latent_dim))
        self.register_buffer("latent_max", torch.zeros(config.latent_dim))

    @property
    def variational(self) -> bool:
        """Whether the encoder predicts a log-variance (VAE kinds)."""
        return self.logvar_head is not None

    def encode(self, onehot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(N, 4, S, S)`` float one-hot -> ``mu (N, d)``, ``logvar (N, d)`` (``None`` for the AE)."""
        size = self.config.input_size
        if onehot.ndim != 4 or tuple(onehot.shape[1:]) != (NUM_LABELS, size, size):
            raise ValueError(f"expected one-hot masks of shape (N, {NUM_LABELS}, {size}, {size}), "
                             f"got {tuple(onehot.shape)}")
        features = self.encoder(onehot)
        logvar = self.logvar_head(features) if self.logvar_head is not None else None
        return self.mu_head(features), logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(N, d)`` latent codes -> ``(N, 4, S, S)`` logits.

        Outside training, :data:`DECODE_CHUNK` codes at a time (batch norm then uses its running statistics, so
        each code's logits do not depend on the others): a full-resolution block's activations are 38 MB a layer
        for 64 codes at 96 px, and in pieces of 16 the decoder ran 2x faster on a 2-core CPU, identical logits.
        """
        if z.ndim != 2 or z.shape[1] != self.config.latent_dim:
            raise ValueError(f"expected latent codes of shape (N, {self.config.latent_dim}), got {tuple(z.shape)}")
        if self.training or len(z) <= DECODE_CHUNK:
            return self.decoder(z)
        return torch.cat([self.decoder(z[i:i + DECODE_CHUNK]) for i in range(0, len(z), DECODE_CHUNK)])

    def forward(self, onehot: torch.Tensor) -> torch.Tensor:
        """Deterministic reconstruction: ``(N, 4, S, S)`` one-hot -> logits, decoding ``mu``."""
        return self.decode(self.encode(onehot)[0])

    def set_latent_range(self, latent_min: torch.Tensor, latent_max: torch.Tensor) -> None:
        """Store the per-dimension range ``(d,)`` of ``mu`` over the training set."""
        self.latent_min.copy_(torch.as_tensor(latent_min, dtype=torch.float32))
        self.latent_max.copy_(torch.as_tensor(latent_max, dtype=torch.float32))


def save_model(model: ShapeModel, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write weights, config, attributes, input size, latent range and ``metadata`` to one file, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "config": model.config.to_dict(),
        "attributes": list(model.config.attributes),
        "input_size": model.config.input_size,
        "state_dict": {k: v.detach().cpu().clone(memory_format=torch.contiguous_format)  # NCHW, one copy
                       for k, v in model.state_dict().items()},
        "metadata": metadata or {},
    }
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def read_model_file(path: str | Path) -> dict[str, Any]:
    """The raw payload of a model file (weights-only unpickling), checked for format."""
    from echolatent.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "model file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types on a corrupt file
        raise InputError(path, f"cannot read model file ({type(err).__name__}: {str(err)[:120]})") from None
    if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT:
        raise InputError(path, f"not an echolatent shape-model file (no '{FILE_FORMAT}' format tag)")
    return payload


def model_from_payload(payload: dict[str, Any], path: str | Path | None = None) -> ShapeModel:
    """Rebuild the model of a :func:`read_model_file` payload, in eval mode on CPU, weights channels-last.

    Channels-last weights make the convolutions return channels-last activations: batched AR-VAE encode + decode ran
    1.15-1.33x faster on a 2-core CPU (two runs of ``benchmarks/bench_models.py``, 1 and 2 threads), logits equal
    to 3e-5.
    """
    from echolatent.errors import InputError

    try:
        model = ShapeModel(ShapeModelConfig.from_dict(payload["config"]))
        model.load_state_dict(payload["state_dict"])
    except (KeyError, ValueError, RuntimeError) as err:
        raise InputError(path, f"inconsistent model file ({str(err)[:160]})") from None
    return model.to(memory_format=torch.channels_last).eval()
