"""``echolatent train vae``: train a shape model (AE, VAE, beta-VAE, AR-VAE) on the masks of a dataset."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from echolatent.cli.app import train_app
from echolatent.models.shape import DEFAULT_ATTRIBUTES, KINDS, ShapeModelConfig


def _csv_ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated integers, got {text!r}") from None


@train_app.command("vae")
def train_vae(
    data: Path = typer.Argument(..., help="Dataset root (CAMUS layout): training split for training, validation for val."),
    out: Path = typer.Option(..., "--out", help="Run folder (resumes from its last checkpoint)."),
    model: str = typer.Option("ar-vae", "--model", help=f"Model kind: {', '.join(KINDS)}."),
    epochs: int = typer.Option(100, "--epochs", min=1),
    batch_size: int = typer.Option(32, "--batch-size", min=2),
    seed: int = typer.Option(0, "--seed"),
    devices: str = typer.Option("1", "--devices", help="Number of devices (or 'auto')."),
    strategy: str = typer.Option("auto", "--strategy", help="Lightning strategy, e.g. ddp."),
    accelerator: str = typer.Option("auto", "--accelerator", help="cpu, gpu or auto."),
    add_synthetic: Path | None = typer.Option(None, "--add-synthetic", help="Add every mask frame found here."),
    input_size: int = typer.Option(128, "--input-size", help="Side of the model's square grid (pixels)."),
    channels: str = typer.Option("16,32,64,128", "--channels", help="Encoder widths, comma-separated."),
    latent_dim: int = typer.Option(16, "--latent-dim"),
    beta: float | None = typer.Option(None, "--beta", help="KL weight (default: the kind's)."),
    gamma: float | None = typer.Option(None, "--gamma", help="Attribute-loss weight (default: the kind's)."),
    delta: float | None = typer.Option(None, "--delta", help="tanh sharpness of the attribute loss."),
    no_attributes: bool = typer.Option(False, "--no-attributes", help="AR-VAE kind without attribute terms."),
    lr: float = typer.Option(5e-4, "--lr"),
    weight_decay: float = typer.Option(5e-4, "--weight-decay"),
    kl_warmup_epochs: int = typer.Option(0, "--kl-warmup-epochs", min=0),
    max_steps: int = typer.Option(-1, "--max-steps", help="Stop after this many optimiser steps (-1: no limit)."),
    threads: int | None = typer.Option(None, "--threads", help="torch CPU threads per process."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Train a shape model; writes RUN/shape_model.pt (weights, config, latent range) beside the checkpoints."""
    import torch

    from echolatent.train.shape_module import train_shape_model

    if threads is not None:
        torch.set_num_threads(threads)
    attributes = () if no_attributes else (DEFAULT_ATTRIBUTES if KINDS.get(model) and KINDS[model].regularised
                                           else ())
    try:
        config = ShapeModelConfig(
            kind=model, input_size=input_size, channels=_csv_ints(channels), latent_dim=latent_dim, beta=beta,
            gamma=0.0 if no_attributes else gamma, delta=delta, attributes=attributes, lr=lr,
            weight_decay=weight_decay, kl_warmup_epochs=kl_warmup_epochs, batch_size=batch_size,
        )
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    command = "echolatent " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    path = train_shape_model(
        data, out, config, epochs=epochs, seed=seed, devices=int(devices) if devices.isdigit() else devices,
        accelerator=accelerator, strategy=strategy, add_synthetic=add_synthetic, max_steps=max_steps,
        progress=progress, metadata={"command": command},
    )
    if path is not None:
        typer.echo(f"shape model written to {path}")
