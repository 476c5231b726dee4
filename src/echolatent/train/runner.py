"""The one training code path shared by the U-Net and the shape models.

:func:`fit` makes a run folder (config, seed, versions, CSV log, checkpoints), builds a Lightning
Trainer for CPU or GPU, one or many devices (``strategy="ddp"``), and resumes from ``last.ckpt`` when
the run folder already holds one.
"""

from __future__ import annotations

import logging
import platform
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger

from echolatent.files import write_json_atomic

log = logging.getLogger(__name__)


def versions() -> dict[str, str]:
    """Versions of Python and the main libraries, for run folders and reports."""
    import monai
    import numpy

    from echolatent import __version__

    return {
        "echolatent": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lightning": L.__version__,
        "monai": monai.__version__,
        "numpy": numpy.__version__,
    }


def fit(
    module: L.LightningModule,
    datamodule: L.LightningDataModule,
    out: str | Path,
    config: Any,
    *,
    max_epochs: int,
    seed: int = 0,
    devices: int | str = 1,
    accelerator: str = "auto",
    strategy: str = "auto",
    monitor: str = "val/loss",
    mode: str = "min",
    max_steps: int = -1,
    limit_train_batches: int | float | None = None,
    limit_val_batches: int | float | None = None,
    progress: bool = True,
    precision: str | None = None,
    callbacks: list[L.Callback] | None = None,
) -> tuple[L.Trainer, Path]:
    """Train ``module`` on ``datamodule`` in run folder ``out``; resume from ``out/checkpoints/last.ckpt``.

    Writes ``out/config.json`` (``config`` as a dict plus seed and versions), ``out/metrics.csv``
    (Lightning's CSV log, one row per logging step/epoch), ``out/checkpoints/{best,last}.ckpt``.
    ``callbacks`` are added to the checkpointing and progress ones (e.g. validation metrics).

    Returns:
        The trainer (after fitting) and the path of the best checkpoint (the last one when nothing is
        monitored).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    L.seed_everything(seed, workers=True)
    cfg = asdict(config) if is_dataclass(config) else dict(config)
    last = out / "checkpoints" / "last.ckpt"
    if last.is_file():
        check_resumable(out, cfg)
    write_json_atomic({"config": cfg, "seed": seed, "max_epochs": max_epochs, "versions": versions()},
                      out / "config.json")
    checkpoint = ModelCheckpoint(dirpath=out / "checkpoints", filename="best", monitor=monitor, mode=mode, save_top_k=1)
    # Lightning's save_last only rewrites last.ckpt when the monitored value improves: keep our own every epoch.
    latest = ModelCheckpoint(
        dirpath=out / "checkpoints", filename="last", monitor=None, save_top_k=1, enable_version_counter=False
    )
    extra = [*(callbacks or []), *([TQDMProgressBar(refresh_rate=10)] if progress else [])]
    trainer = L.Trainer(default_root_dir=out, max_epochs=max_epochs, max_steps=max_steps, accelerator=accelerator,
                        devices=devices, strategy=strategy, logger=CSVLogger(out, name="", version="log"),
                        callbacks=[checkpoint, latest, *extra], enable_progress_bar=progress,
                        limit_train_batches=limit_train_batches, limit_val_batches=limit_val_batches,
                        precision=precision, deterministic=False, log_every_n_steps=10, enable_model_summary=False)
    resume = last if last.is_file() else None
    if resume is not None:
        log.info("resuming from %s", resume)
    trainer.fit(module, datamodule=datamodule, ckpt_path=resume)
    best = Path(checkpoint.best_model_path) if checkpoint.best_model_path else last
    return trainer, best


def check_resumable(out: Path, config: dict[str, Any]) -> None:
    """Refuse to resume the run in ``out`` with another configuration (before its ``config.json`` is rewritten).

    Raises:
        InputError: ``out/config.json`` records different values of the same fields (or none); they are named.
    """
    import json

    from echolatent.errors import InputError

    try:
        recorded = json.loads((out / "config.json").read_text())["config"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(out, "holds a checkpoint but no readable config.json: use a new run folder") from None
    mine = json.loads(json.dumps(config, default=str))  # tuples as lists, as they were recorded
    differ = sorted(k for k in set(mine) & set(recorded) if mine[k] != recorded[k])  # new fields: not recorded
    if differ:
        detail = ", ".join(f"{k} {recorded[k]!r} -> {mine[k]!r}" for k in differ[:4])
        raise InputError(out, f"holds a run with another configuration ({detail}): resume it with the same "
                              f"options, or train in a new run folder")
