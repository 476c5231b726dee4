"""The segmentation U-Net: a MONAI UNet, its config, input normalisation, and one-file save/load.

A saved model is one ``.pt`` file holding a plain dict (loadable with ``torch.load(weights_only=True)``
and nothing but torch + MONAI)::

    {"format": "echolatent-unet", "version": 1, "config": {...UNetConfig...},
     "state_dict": {...}, "meta": {...free-form: data, scores, training command...}}
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from monai.networks.nets import UNet
from torch import nn

from echolatent.errors import InputError
from echolatent.labels import NUM_LABELS

log = logging.getLogger(__name__)

FORMAT = "echolatent-unet"
FORMAT_VERSION = 1
NORMALISATIONS = ("zscore",)


@dataclass(frozen=True)
class UNetConfig:
    """Architecture and preprocessing of the segmentation U-Net.

    ``input_size``: frames are resampled to ``input_size x input_size`` pixels before the network.
    ``normalisation``: ``"zscore"``, each frame shifted and scaled to zero mean and unit variance.
    """

    input_size: int = 128
    channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    strides: tuple[int, ...] = (2, 2, 2, 2)
    num_res_units: int = 2
    dropout: float = 0.0
    normalisation: str = "zscore"
    num_classes: int = NUM_LABELS

    def __post_init__(self) -> None:
        if len(self.strides) != len(self.channels) - 1:
            raise ValueError(f"need len(strides) == len(channels) - 1, got {self.strides} and {self.channels}")
        factor = 1
        for s in self.strides:
            factor *= s
        if self.input_size <= 0 or self.input_size % factor:
            raise ValueError(f"input_size {self.input_size} must be a positive multiple of {factor}")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"unknown normalisation {self.normalisation!r} (expected one of {NORMALISATIONS})")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UNetConfig:
        """Rebuild from :func:`dataclasses.asdict` output, ignoring unknown keys; lists become tuples."""
        names = {f.name for f in fields(cls)}
        kept = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
        return cls(**kept)


def build_unet(config: UNetConfig) -> nn.Module:
    """A 2D MONAI UNet: 1 input channel (the normalised frame), ``num_classes`` output logits."""
    return UNet(
        spatial_dims=2,
        in_channels=1,
        out_channels=config.num_classes,
        channels=config.channels,
        strides=config.strides,
        num_res_units=config.num_res_units,
        dropout=config.dropout,
    )


def normalise_frames(frames: torch.Tensor, normalisation: str = "zscore", eps: float = 1e-6) -> torch.Tensor:
    """``(N, H, W)`` or ``(N, 1, H, W)`` intensities (any scale) -> ``(N, 1, H, W)`` float32 network input.

    ``"zscore"``: per frame, subtract the mean and divide by the standard deviation (a constant frame
    becomes all zeros), so the network is blind to the gain and offset of the scanner or file.
    """
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {normalisation!r} (expected one of {NORMALISATIONS})")
    if frames.ndim == 3:
        frames = frames[:, None]
    if frames.ndim != 4 or frames.shape[1] != 1:
        raise ValueError(f"expected frames (N, H, W) or (N, 1, H, W), got shape {tuple(frames.shape)}")
    frames = frames.float()
    mean = frames.mean(dim=(1, 2, 3), keepdim=True)
    std = frames.std(dim=(1, 2, 3), keepdim=True)
    return (frames - mean) / std.clamp_min(eps)


def save_unet(model: nn.Module, config: UNetConfig, path: str | Path, meta: dict[str, Any] | None = None) -> Path:
    """Write weights, config and ``meta`` to one ``.pt`` file atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "config": asdict(config),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "meta": dict(meta or {}),
    }
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    log.info("saved U-Net to %s", path)
    return path


def save_unet_ensemble(
    members: list[tuple[nn.Module, UNetConfig]], path: str | Path, meta: dict[str, Any] | None = None
) -> Path:
    """Write several U-Nets (an ensemble whose probabilities are averaged) to one ``.pt`` file atomically.

    The first member is also stored as the file's main network, so :func:`load_unet` reads it alone.
    """
    if not members:
        raise ValueError("an ensemble needs at least one member")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [{"config": asdict(config), "state_dict": {k: v.detach().cpu().clone() for k, v in
                                                         model.state_dict().items()}} for model, config in members]
    payload = {"format": FORMAT, "version": FORMAT_VERSION, **entries[0], "members": entries[1:],
               "meta": dict(meta or {})}
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    log.info("saved a U-Net ensemble of %d to %s", len(members), path)
    return path


def _read_payload(path: Path) -> dict:
    if not path.is_file():
        raise InputError(path, "model file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types on corrupt files
        raise InputError(path, f"cannot read model file ({type(err).__name__}: {str(err)[:120]})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputError(path, f"not an echolatent U-Net file (expected format {FORMAT!r})")
    return payload


def _build(path: Path, entry: dict) -> tuple[nn.Module, UNetConfig]:
    try:
        config = UNetConfig.from_dict(entry["config"])
        model = build_unet(config)
        model.load_state_dict(entry["state_dict"])
    except (KeyError, RuntimeError, TypeError, ValueError) as err:
        raise InputError(path, f"inconsistent U-Net file ({str(err)[:160]})") from None
    return model.eval(), config


def load_unet(path: str | Path) -> tuple[nn.Module, UNetConfig, dict[str, Any]]:
    """Read a file written by :func:`save_unet`: ``(model in eval mode on CPU, config, meta)`` (of an ensemble
    file, its first member).

    Raises:
        InputError: missing or unreadable file, or not an echolatent U-Net file.
    """
    path = Path(path)
    payload = _read_payload(path)
    model, config = _build(path, payload)
    return model, config, dict(payload.get("meta", {}))


def load_unet_members(path: str | Path) -> tuple[list[tuple[nn.Module, UNetConfig]], dict[str, Any]]:
    """Every network of a U-Net file (one for a single model, all members of an ensemble), and its meta.

    Raises:
        InputError: as :func:`load_unet`, or a member that does not load.
    """
    path = Path(path)
    payload = _read_payload(path)
    members = payload.get("members", [])
    if not isinstance(members, list):
        raise InputError(path, "inconsistent U-Net file (members is not a list)")
    return [_build(path, payload)] + [_build(path, entry) for entry in members], dict(payload.get("meta", {}))
