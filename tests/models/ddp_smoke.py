"""Script for the DDP smoke test: two CPU processes, two steps of AR-VAE training on tiny synthetic hearts."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/, for conftest.make_hearts
from conftest import make_hearts  # noqa: E402
from echolatent.models.shape import ShapeModelConfig  # noqa: E402
from echolatent.train.mask_data import MaskDataModule  # noqa: E402
from echolatent.train.runner import fit  # noqa: E402
from echolatent.train.shape_config import ShapeTrainConfig, flat_config  # noqa: E402
from echolatent.train.shape_module import ShapeModule, export_model  # noqa: E402


def main(out: Path) -> None:
    torch.set_num_threads(1)
    cfg = ShapeModelConfig(kind="ar-vae", input_size=32, channels=(4, 8), bottleneck_channels=4, latent_dim=10)
    flat = flat_config(cfg, ShapeTrainConfig(batch_size=4).resolved(cfg))
    hearts = make_hearts(24)
    data = MaskDataModule(hearts[:16], hearts[16:], input_size=32, attributes=cfg.attributes, batch_size=4)
    trainer, best = fit(ShapeModule(flat), data, out / "run", flat, max_epochs=1, limit_train_batches=2,
                        accelerator="cpu", devices=2, strategy="ddp", limit_val_batches=1, progress=False)
    if trainer.is_global_zero:
        export_model(best, data.train_inputs, out / "model.pt")
        print(f"world_size={trainer.world_size} steps={trainer.global_step}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
