"""LightningModule of the segmentation U-Net: Dice + cross-entropy loss, Adam with cosine decay, Dice metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import lightning as L
import torch
from monai.losses import DiceCELoss
from monai.metrics import compute_dice

from echolatent.labels import Label
from echolatent.models.unet import UNetConfig, build_unet, normalise_frames
from echolatent.resample import one_hot


@dataclass(frozen=True)
class SegTrainConfig:
    """Optimisation settings of the U-Net (the architecture is :class:`UNetConfig`)."""

    lr: float = 1e-3
    weight_decay: float = 1e-5
    lambda_dice: float = 1.0
    lambda_ce: float = 1.0
    min_lr_ratio: float = 0.01


def dice_per_label(logits: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """Mean Dice over the batch for LV, MYO, LA and EPI (LV + MYO).

    ``logits (N, C, H, W)``, ``target (N, H, W)`` integer labels. An empty structure in both prediction and
    truth counts as Dice 1.
    """
    pred = logits.argmax(1)
    pred_1h, true_1h = one_hot(pred), one_hot(target)
    dice = compute_dice(pred_1h, true_1h, include_background=False, ignore_empty=False)  # (N, 3)
    pred_epi = ((pred == Label.LV) | (pred == Label.MYO))[:, None].float()
    true_epi = ((target == Label.LV) | (target == Label.MYO))[:, None].float()
    epi = compute_dice(pred_epi, true_epi, include_background=True, ignore_empty=False)[:, 0]
    scores = {label.name.lower(): dice[:, i].nanmean() for i, label in enumerate(Label.foreground())}
    scores["epi"] = epi.nanmean()
    return scores


class SegModule(L.LightningModule):
    """U-Net training: ``batch = (images (N, 1, S, S) float, labels (N, S, S) long)``."""

    def __init__(self, unet: dict | None = None, train: dict | None = None):
        super().__init__()
        self.save_hyperparameters()
        self.unet_config = UNetConfig.from_dict(unet or {})
        self.train_config = SegTrainConfig(**(train or {}))
        self.net = build_unet(self.unet_config)
        self.loss = DiceCELoss(
            to_onehot_y=True,
            softmax=True,
            lambda_dice=self.train_config.lambda_dice,
            lambda_ce=self.train_config.lambda_ce,
        )

    @classmethod
    def from_configs(cls, unet: UNetConfig, train: SegTrainConfig) -> SegModule:
        """Build from the two config dataclasses (stored as plain dicts in checkpoints)."""
        return cls(unet=asdict(unet), train=asdict(train))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 1, S, S)`` or ``(N, S, S)`` raw intensities -> ``(N, C, S, S)`` logits."""
        return self.net(normalise_frames(images, self.unet_config.normalisation))

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Loss (logged) and logits ``(N, C, S, S)`` of one batch."""
        images, labels = batch
        logits = self(images)
        loss = self.loss(logits, labels[:, None])
        on_step = stage == "train"
        self.log(
            f"{stage}/loss",
            loss,
            prog_bar=True,
            on_step=on_step,
            on_epoch=True,
            batch_size=len(images),
            sync_dist=not on_step,
        )
        if stage == "val":
            scores = dice_per_label(logits.detach(), labels)
            for name, value in scores.items():
                self.log(f"val/dice_{name}", value, on_epoch=True, batch_size=len(images), sync_dist=True)
            mean = (scores["lv"] + scores["epi"] + scores["la"]) / 3
            self.log("val/dice", mean, prog_bar=True, on_epoch=True, batch_size=len(images), sync_dist=True)
        return loss, logits

    def training_step(self, batch, batch_idx):  # noqa: D102
        return self._step(batch, "train")[0]

    def validation_step(self, batch, batch_idx):  # noqa: D102
        loss, logits = self._step(batch, "val")
        return {"loss": loss, "pred": logits.detach().argmax(1)}

    def configure_optimizers(self):  # noqa: D102
        cfg = self.train_config
        optimizer = torch.optim.Adam(self.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        epochs = max(int(self.trainer.max_epochs or 1), 1)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=epochs, eta_min=cfg.lr * cfg.min_lr_ratio
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def init_from(module: SegModule, weights: str | Path) -> SegModule:
    """Copy the weights of a shipped ``.pt`` U-Net file into ``module``.

    The architecture must be the same; the input size may differ (the network is fully convolutional, so a
    model trained at 128 px can be fine-tuned at 224 px).
    """
    from echolatent.models.unet import load_unet

    net, config, _ = load_unet(weights)
    if replace(config, input_size=module.unet_config.input_size) != module.unet_config:
        raise ValueError(f"{weights}: architecture {config} differs from the module's {module.unet_config}")
    module.net.load_state_dict(net.state_dict())
    return module
