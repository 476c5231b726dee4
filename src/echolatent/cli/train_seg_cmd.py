"""`echolatent train seg DATA --out RUN`: train the segmentation U-Net."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from echolatent.cli.app import train_app
from echolatent.errors import InputError


@train_app.command("seg")
def train_seg(
    data: Annotated[Path, typer.Argument(
        metavar="DATA", help="CAMUS root with database_nifti/ and database_split/ (e.g. camus224).")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (resumes from its last checkpoint if present).")],
    epochs: Annotated[int, typer.Option(help="Training epochs (the cosine schedule spans them).")] = 36,
    batch_size: Annotated[int, typer.Option(help="Frames per batch.")] = 16,
    size: Annotated[int, typer.Option(help="Network input size (pixels, square; multiple of 16).")] = 128,
    channels: Annotated[
        str, typer.Option(help="U-Net channels per level, comma-separated (5 levels, strides 2).")
    ] = "16,32,64,128,256",
    lr: Annotated[float, typer.Option(help="Adam learning rate at the start of the cosine schedule.")] = 1e-3,
    seed: Annotated[int, typer.Option(help="Random seed (weights, shuffling, augmentation).")] = 0,
    devices: Annotated[str, typer.Option(help="Lightning devices: a count or 'auto'.")] = "1",
    strategy: Annotated[str, typer.Option(help="Lightning strategy, e.g. 'ddp'.")] = "auto",
    accelerator: Annotated[str, typer.Option(help="'cpu', 'gpu' or 'auto'.")] = "auto",
    add_synthetic: Annotated[
        list[Path] | None, typer.Option("--add-synthetic", help="Synthetic dataset(s) to add.")
    ] = None,
    synthetic_every: Annotated[int, typer.Option(help="Use every n-th frame of each synthetic sequence.")] = 2,
    init: Annotated[Path | None, typer.Option("--init", help="Start from the weights of a U-Net .pt file.")] = None,
    threads: Annotated[int, typer.Option(help="Torch CPU threads (0: torch's default).")] = 0,
    max_steps: Annotated[int, typer.Option(help="Stop after this many optimiser steps (-1: no limit).")] = -1,
    limit_batches: Annotated[float, typer.Option(help="Fraction (or count, if > 1) of batches per epoch.")] = 1.0,
    export: Annotated[
        Path | None, typer.Option("--export", help="Also write the final model (end of the schedule) as one .pt file.")
    ] = None,
) -> None:
    """Train the U-Net on a CAMUS root's training split, validate on its validation split."""
    import torch

    from echolatent.train.ef_callback import ValidationEF
    from echolatent.train.runner import fit
    from echolatent.train.seg_data import SegDataModule
    from echolatent.train.seg_module import SegModule, SegTrainConfig, init_from

    if not data.exists():
        raise InputError(data, "data folder not found")
    if threads > 0:
        torch.set_num_threads(threads)
    unet_config, train_config = _unet_config(size, channels), SegTrainConfig(lr=lr)
    module = SegModule.from_configs(unet_config, train_config)
    if init is not None:
        init_from(module, init)
    datamodule = SegDataModule(data, size=size, batch_size=batch_size, seed=seed, synthetic=add_synthetic or (),
                               synthetic_every=synthetic_every)
    config = _run_config(data, unet_config, train_config, batch_size, add_synthetic, synthetic_every, init)
    limit = int(limit_batches) if limit_batches > 1 else limit_batches
    started = time.time()
    trainer, best = fit(module, datamodule, out, config, max_epochs=epochs, seed=seed,
                        devices=int(devices) if devices.isdigit() else devices, strategy=strategy,
                        accelerator=accelerator, monitor="val/dice", mode="max", max_steps=max_steps,
                        limit_train_batches=limit, callbacks=[ValidationEF(datamodule.validation_frames)])
    if not trainer.is_global_zero:
        return
    typer.echo(f"trained in {time.time() - started:.0f} s; best checkpoint: {best}")
    if export is not None:
        _export(module, export, config["command"], out, data, epochs)


def _run_config(data, unet_config, train_config, batch_size, add_synthetic, synthetic_every, init) -> dict:
    """The run folder's ``config.json`` dict (dataclasses as dicts)."""
    config = {
        "data": str(data),
        "unet": unet_config,
        "train": train_config,
        "batch_size": batch_size,
        "synthetic": [str(p) for p in add_synthetic or ()],
        "synthetic_every": synthetic_every,
        "init": str(init) if init else None,
        "command": shlex.join(["echolatent", *sys.argv[1:]]),
    }
    return {k: (v.__dict__ if hasattr(v, "__dataclass_fields__") else v) for k, v in config.items()}


def _export(module, path: Path, command: str, out: Path, data: Path, epochs: int) -> None:
    """Write the final U-Net (end of the schedule) as one ``.pt`` file."""
    from echolatent.models.unet import save_unet

    meta = {"training_command": command, "run": str(out), "data": str(data), "epochs": epochs,
            "weights": "final epoch (no selection on validation)"}
    typer.echo(f"exported: {save_unet(module.net, module.unet_config, path, meta)}")


def _unet_config(size: int, channels: str):
    """The U-Net's architecture from ``--size`` and ``--channels`` (strides 2); InputError naming the option."""
    from echolatent.models.unet import UNetConfig

    try:
        widths = tuple(int(c) for c in channels.split(","))
        return UNetConfig(input_size=size, channels=widths, strides=(2,) * (len(widths) - 1))
    except ValueError as error:
        raise InputError(Path("--channels"), f"{channels!r}: {error}") from None
