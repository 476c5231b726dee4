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


#: Help of the options whose text does not fit the signature's line.
HELP = {
    "--add-synthetic": "Synthetic dataset whose every mask frame is added to training; repeat for more.",
    "--encoder-channels": "Encoder widths, comma-separated (default: --channels).",
    "--head-channels": "Feature maps of a full-resolution decoder block before the logits (0: none).",
    "--loss-size": "Compute the reconstruction loss on probabilities resampled to this side (pixels), where inference "
                   "compares masks (0: on the model's grid).",
    "--gamma": "Attribute-loss weight (default: the kind's).",
    "--soft-masks/--hard-masks": "Masks reach the grid as area fractions (sub-pixel boundaries) or labels.",
    "--prior-weight": "Weight of the prior-sample term: prior codes trained towards their cleaned, valid decodings "
                      "(0: off).",
    "--prior-pool-size": "Prior codes drawn (decoded, cleaned, given targets) each epoch.",
    "--dice-per-frame/--dice-per-batch": "Dice loss per frame then averaged, or over the batch's areas.",
    "--freeze-decoder": "Train the encoder only (with --init: fit a trained model's encoder to its decoder; prior "
                        "samples decode as before).",
    "--init": "Start from this model file's weights (fine-tuning; same architecture).",
    "--init-decoder": "Start the decoder alone from this model file (e.g. a new encoder for a trained decoder, with "
                      "--freeze-decoder).",
    "--input-size": "Side of the model's square grid (pixels).",
    "--max-steps": "Stop after this many steps (-1: no limit).",
    "--kl-warmup-epochs": "Epochs over which the KL weight ramps up from 0.",
    "--threads": "torch CPU threads per process (default: torch's).",
    "--model": "Former name of --kind (elsewhere --model is a U-Net file).",
}


def _opt(flag: str):
    """``typer.Option(flag)`` with its help from :data:`HELP`."""
    return typer.Option(flag, help=HELP[flag])


@train_app.command("vae")
def train_vae(
    data: Annotated[Path, typer.Argument(
        metavar="DATA", help="Dataset root (CAMUS layout): training and validation splits.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (resumes from its last checkpoint).")],
    kind: Annotated[str, typer.Option("--kind", help=f"Shape model kind: {', '.join(KINDS)}.")] = "ar-vae",
    old_kind: Annotated[str | None, typer.Option("--model", hidden=True, help=HELP["--model"])] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs.")] = 30,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2, help="Masks per batch.")] = 16,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (weights, batches, prior samples).")] = 0,
    devices: Annotated[str, typer.Option("--devices", help="Number of devices (or 'auto').")] = "1",
    strategy: Annotated[str, typer.Option("--strategy", help="Lightning strategy, e.g. ddp.")] = "auto",
    accelerator: Annotated[str, typer.Option("--accelerator", help="cpu, gpu or auto.")] = "auto",
    add_synthetic: Annotated[list[Path] | None, _opt("--add-synthetic")] = None,
    input_size: Annotated[int, _opt("--input-size")] = 96,
    channels: Annotated[str, typer.Option("--channels", help="Encoder widths, comma-separated.")] = "16,32,64,128",
    encoder_channels: Annotated[str | None, _opt("--encoder-channels")] = None,
    head_channels: Annotated[int, _opt("--head-channels")] = 0,
    loss_size: Annotated[int, _opt("--loss-size")] = 0,
    latent_dim: Annotated[int, typer.Option("--latent-dim", min=1, help="Size of the latent code.")] = 16,
    beta: Annotated[float | None, typer.Option("--beta", help="KL weight (default: the kind's).")] = None,
    gamma: Annotated[float | None, _opt("--gamma")] = None,
    delta: Annotated[float | None, typer.Option("--delta", help="tanh sharpness of the attribute loss.")] = None,
    no_attributes: Annotated[bool, typer.Option("--no-attributes", help="No attribute terms.")] = False,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 1e-3,
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="Adam weight decay.")] = 5e-4,
    kl_warmup_epochs: Annotated[int, typer.Option("--kl-warmup-epochs", min=0, help=HELP["--kl-warmup-epochs"])] = 0,
    soft_masks: Annotated[bool, _opt("--soft-masks/--hard-masks")] = False,
    prior_weight: Annotated[float, _opt("--prior-weight")] = 0.0,
    prior_pool_size: Annotated[int, _opt("--prior-pool-size")] = 512,
    dice_per_frame: Annotated[bool, _opt("--dice-per-frame/--dice-per-batch")] = False,
    freeze_decoder: Annotated[bool, _opt("--freeze-decoder")] = False,
    init: Annotated[Path | None, _opt("--init")] = None,
    init_decoder: Annotated[Path | None, _opt("--init-decoder")] = None,
    max_steps: Annotated[int, _opt("--max-steps")] = -1,
    threads: Annotated[int | None, _opt("--threads")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Lightning's progress bar.")] = True,
) -> None:
    """Train a shape model; writes RUN/shape_model.pt (weights, config, latent range) beside the checkpoints."""
    from echolatent.train.shape_module import train_shape_model

    kind = _kind(kind, old_kind, threads)
    if init is not None and init_decoder is not None:
        raise typer.BadParameter("give --init (whole model) or --init-decoder (decoder only), not both")
    architecture = {"kind": kind, "input_size": input_size, "channels": channels, "latent_dim": latent_dim,
                    "encoder_channels": encoder_channels, "soft_masks": soft_masks, "head_channels": head_channels}
    training = {"beta": beta, "gamma": gamma, "delta": delta, "lr": lr, "weight_decay": weight_decay,
                "kl_warmup_epochs": kl_warmup_epochs, "batch_size": batch_size, "prior_weight": prior_weight,
                "dice_per_frame": dice_per_frame, "prior_pool_size": prior_pool_size, "loss_size": loss_size,
                "freeze_decoder": freeze_decoder}
    config, train = _configs(architecture, training, no_attributes)
    command = "echolatent " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    path = train_shape_model(
        data, out, config, train, epochs=epochs, seed=seed, devices=int(devices) if devices.isdigit() else devices,
        accelerator=accelerator, strategy=strategy, add_synthetic=add_synthetic or (), max_steps=max_steps,
        progress=progress, metadata={"command": command}, init=init, init_decoder=init_decoder,
    )
    if path is not None:
        typer.echo(f"shape model written to {path}")


def _kind(kind: str, old_kind: str | None, threads: int | None) -> str:
    """The shape model kind (``--model`` is its former name) after setting torch's threads."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    if old_kind is not None:
        typer.echo("note: --model is now --kind for `train vae` (--model names a U-Net file elsewhere)", err=True)
    return old_kind if old_kind is not None else kind


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
