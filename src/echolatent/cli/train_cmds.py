"""``echolatent train vae``: train a shape model (AE, VAE, beta-VAE, AR-VAE) on the masks of a dataset."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from echolatent.cli.app import train_app
from echolatent.models.shape import DEFAULT_ATTRIBUTES, KINDS, ShapeModelConfig


def _csv_ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated integers, got {text!r}") from None


AddSyntheticOpt = Annotated[Path | None, typer.Option("--add-synthetic", help="Add every mask frame found here.")]
EncoderChannelsOpt = Annotated[str | None, typer.Option(
    "--encoder-channels", help="Encoder widths, comma-separated (default: --channels).")]
HeadChannelsOpt = Annotated[int, typer.Option(
    "--head-channels", help="Feature maps of a full-resolution decoder block before the logits (0: none).")]
LossSizeOpt = Annotated[int, typer.Option(
    "--loss-size", help="Compute the reconstruction loss on probabilities resampled to this side (pixels), "
    "where inference compares masks (0: on the model's grid).")]
GammaOpt = Annotated[float | None, typer.Option("--gamma", help="Attribute-loss weight (default: the kind's).")]
SoftMasksOpt = Annotated[bool, typer.Option(
    "--soft-masks/--hard-masks", help="Masks reach the grid as area fractions (sub-pixel boundaries) or labels.")]
PriorWeightOpt = Annotated[float, typer.Option(
    "--prior-weight", help="Weight of the prior-sample term: prior codes trained towards their cleaned, valid "
    "decodings (0: off).")]
PriorPoolOpt = Annotated[int, typer.Option(
    "--prior-pool-size", help="Prior codes drawn (decoded, cleaned, given targets) each epoch.")]
DicePerFrameOpt = Annotated[bool, typer.Option(
    "--dice-per-frame/--dice-per-batch", help="Dice loss per frame then averaged, or over the batch's areas.")]
FreezeDecoderOpt = Annotated[bool, typer.Option(
    "--freeze-decoder", help="Train the encoder only (with --init: fit a trained model's encoder to its decoder; "
    "prior samples decode as before).")]
InitOpt = Annotated[Path | None, typer.Option(
    "--init", help="Start from this model file's weights (fine-tuning; same architecture).")]
InitDecoderOpt = Annotated[Path | None, typer.Option(
    "--init-decoder", help="Start the decoder alone from this model file (e.g. a new encoder for a trained "
    "decoder, with --freeze-decoder).")]
InputSizeOpt = Annotated[int, typer.Option("--input-size", help="Side of the model's square grid (pixels).")]
MaxStepsOpt = Annotated[int, typer.Option("--max-steps", help="Stop after this many steps (-1: no limit).")]


@train_app.command("vae")
def train_vae(
    data: Annotated[Path, typer.Argument(help="Dataset root (CAMUS layout): training and validation splits.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (resumes from its last checkpoint).")],
    model: Annotated[str, typer.Option("--model", help=f"Model kind: {', '.join(KINDS)}.")] = "ar-vae",
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 30,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2)] = 16,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    devices: Annotated[str, typer.Option("--devices", help="Number of devices (or 'auto').")] = "1",
    strategy: Annotated[str, typer.Option("--strategy", help="Lightning strategy, e.g. ddp.")] = "auto",
    accelerator: Annotated[str, typer.Option("--accelerator", help="cpu, gpu or auto.")] = "auto",
    add_synthetic: AddSyntheticOpt = None,
    input_size: InputSizeOpt = 96,
    channels: Annotated[str, typer.Option("--channels", help="Encoder widths, comma-separated.")] = "16,32,64,128",
    encoder_channels: EncoderChannelsOpt = None,
    head_channels: HeadChannelsOpt = 0,
    loss_size: LossSizeOpt = 0,
    latent_dim: Annotated[int, typer.Option("--latent-dim")] = 16,
    beta: Annotated[float | None, typer.Option("--beta", help="KL weight (default: the kind's).")] = None,
    gamma: GammaOpt = None,
    delta: Annotated[float | None, typer.Option("--delta", help="tanh sharpness of the attribute loss.")] = None,
    no_attributes: Annotated[bool, typer.Option("--no-attributes", help="No attribute terms.")] = False,
    lr: Annotated[float, typer.Option("--lr")] = 1e-3,
    weight_decay: Annotated[float, typer.Option("--weight-decay")] = 5e-4,
    kl_warmup_epochs: Annotated[int, typer.Option("--kl-warmup-epochs", min=0)] = 0,
    soft_masks: SoftMasksOpt = False,
    prior_weight: PriorWeightOpt = 0.0,
    prior_pool_size: PriorPoolOpt = 512,
    dice_per_frame: DicePerFrameOpt = False,
    freeze_decoder: FreezeDecoderOpt = False,
    init: InitOpt = None,
    init_decoder: InitDecoderOpt = None,
    max_steps: MaxStepsOpt = -1,
    threads: Annotated[int | None, typer.Option("--threads", help="torch CPU threads per process.")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Train a shape model; writes RUN/shape_model.pt (weights, config, latent range) beside the checkpoints."""
    import torch

    from echolatent.train.shape_module import train_shape_model

    if threads is not None:
        torch.set_num_threads(threads)
    if init is not None and init_decoder is not None:
        raise typer.BadParameter("give --init (whole model) or --init-decoder (decoder only), not both")
    architecture = {"kind": model, "input_size": input_size, "channels": channels, "latent_dim": latent_dim,
                    "encoder_channels": encoder_channels, "soft_masks": soft_masks, "head_channels": head_channels}
    training = {"beta": beta, "gamma": gamma, "delta": delta, "lr": lr, "weight_decay": weight_decay,
                "kl_warmup_epochs": kl_warmup_epochs, "batch_size": batch_size, "prior_weight": prior_weight,
                "dice_per_frame": dice_per_frame, "prior_pool_size": prior_pool_size, "loss_size": loss_size,
                "freeze_decoder": freeze_decoder}
    config, train = _configs(architecture, training, no_attributes)
    command = "echolatent " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    path = train_shape_model(
        data, out, config, train, epochs=epochs, seed=seed, devices=int(devices) if devices.isdigit() else devices,
        accelerator=accelerator, strategy=strategy, add_synthetic=add_synthetic, max_steps=max_steps,
        progress=progress, metadata={"command": command}, init=init, init_decoder=init_decoder,
    )
    if path is not None:
        typer.echo(f"shape model written to {path}")


def _configs(architecture: dict, training: dict, no_attributes: bool):
    """``(ShapeModelConfig, resolved ShapeTrainConfig)`` from the options; typer.BadParameter on bad values."""
    from echolatent.train.shape_config import ShapeTrainConfig

    kind = architecture["kind"]
    regularised = KINDS.get(kind) is not None and KINDS[kind].regularised
    attributes = () if no_attributes else (DEFAULT_ATTRIBUTES if regularised else ())
    encoder = architecture.pop("encoder_channels")
    try:
        config = ShapeModelConfig(**{**architecture, "channels": _csv_ints(architecture["channels"])},
                                  encoder_channels=_csv_ints(encoder) if encoder else None, attributes=attributes)
        gamma = 0.0 if no_attributes else training.pop("gamma")
        training.pop("gamma", None)
        return config, ShapeTrainConfig(**training, gamma=gamma).resolved(config)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
