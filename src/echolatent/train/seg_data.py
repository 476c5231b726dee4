"""Data for the segmentation U-Net: frames + expert masks on the model grid, echo augmentations, datamodule.

Frames are stored once, resampled to ``size x size`` (images as float32 in [0, 1], masks as uint8 labels
through one-hot resampling); augmentation runs per sample on those small arrays. Augmentations respect
echo geometry: small rotations/scalings/shifts about the apex region, gain/gamma/contrast changes,
multiplicative speckle, blur, and random narrowing of the imaging sector. Never left/right flips: in
apical views the side of each wall matters.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
from monai.transforms import (
    Compose,
    MapTransform,
    RandAdjustContrastd,
    RandAffined,
    RandGaussianSmoothd,
    Randomizable,
    RandScaleIntensityd,
    RandShiftIntensityd,
)
from torch.utils.data import ConcatDataset, DataLoader, Dataset

from echolatent.errors import InputError
from echolatent.labels import Instant, View
from echolatent.resample import resize_frames, resize_labels
from echolatent.train.overlays import RandOverlayd

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------- loading
def load_camus_frames(root: str | Path, subset: str, size: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Expert-annotated ED/ES frames of one split of a CAMUS root, on a ``size x size`` grid.

    Returns ``images (N, size, size)`` float32 in [0, 1], ``masks (N, size, size)`` uint8 and the frame ids
    (``patientXXXX_2CH_ED``...).
    """
    from echolatent.io.frames import load_frames

    images, masks, ids = load_frames(
        root, subset, views=(View.A2C, View.A4C), instants=(Instant.ED, Instant.ES), size=(size, size)
    )
    if len(images) == 0:
        raise InputError(root, f"no annotated frames in the {subset!r} split")
    return to_unit_range(images), np.asarray(masks, dtype=np.uint8), list(ids)


def load_synthetic_frames(root: str | Path, size: int, every: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Annotated frames under a synthetic CAMUS-layout root: every ``every``-th frame of each full-cycle sequence
    (``data synth --beats N``; its half sequence is then left out, the cycle holds it), else of the half sequence,
    or the ED/ES frames of a view without sequences.

    Returns ``images (N, size, size)`` float32 in [0, 1] and ``masks (N, size, size)`` uint8.
    """
    from echolatent.io.camus import find_sequences, load_sequence
    from echolatent.io.discovery import default_refs

    refs = find_sequences(root, kinds=("half_sequence", "sequence", "ED", "ES"), require_image=True)
    refs = [r for r in default_refs(refs) if r.mask is not None]
    cycles = {(r.patient, r.view) for r in refs if r.kind == "sequence"}
    refs = [r for r in refs if not (r.kind == "half_sequence" and (r.patient, r.view) in cycles)]
    images, masks = [], []
    for ref in refs:
        seq = load_sequence(ref)
        frames = np.arange(0, seq.image.shape[0], every)
        images.append(to_unit_range(resize_frames(seq.image[frames], (size, size))))
        masks.append(resize_labels(seq.mask[frames], (size, size)))
    if not images:
        raise InputError(root, "no image with a mask found")
    return np.concatenate(images), np.concatenate(masks)


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` uint8-scale intensities -> float32 in [0, 1] (divided by 255, clipped)."""
    return np.clip(np.asarray(images, dtype=np.float32) / 255.0, 0.0, 1.0)


# ----------------------------------------------------------------------------------------- augmentation
class RandSpeckled(Randomizable, MapTransform):
    """Multiplicative speckle: ``image * g`` with ``g`` gamma-distributed, mean 1, std ``sigma`` in ``sigma_range``."""

    def __init__(self, keys: Sequence[str], prob: float = 0.5, sigma_range: tuple[float, float] = (0.05, 0.3)):
        MapTransform.__init__(self, keys)
        self.prob, self.sigma_range = prob, sigma_range

    def __call__(self, data: dict) -> dict:
        if self.R.rand() >= self.prob:
            return data
        sigma = self.R.uniform(*self.sigma_range)
        shape_k = 1.0 / sigma**2
        out = dict(data)
        for key in self.keys:
            image = np.asarray(out[key])
            gain = self.R.gamma(shape_k, 1.0 / shape_k, size=image.shape).astype(np.float32)
            out[key] = image * gain
        return out


class RandSectord(Randomizable, MapTransform):
    """Zero the image outside a random sector with its apex near the top centre (narrower or shifted scan).

    The sector's half-angle is drawn in ``half_angle_range`` (degrees), its axis tilted by up to
    ``max_tilt`` degrees, and its depth cut at a fraction drawn in ``depth_range`` of the image height.
    Labels are left as they are: the network must still delineate structures where the sector cuts them.
    """

    def __init__(
        self,
        keys: Sequence[str],
        prob: float = 0.3,
        half_angle_range: tuple[float, float] = (30.0, 45.0),
        max_tilt: float = 8.0,
        depth_range: tuple[float, float] = (0.9, 1.2),
    ):
        MapTransform.__init__(self, keys)
        self.prob, self.half_angle_range = prob, half_angle_range
        self.max_tilt, self.depth_range = max_tilt, depth_range

    def __call__(self, data: dict) -> dict:
        if self.R.rand() >= self.prob:
            return data
        half = math.radians(self.R.uniform(*self.half_angle_range))
        tilt = math.radians(self.R.uniform(-self.max_tilt, self.max_tilt))
        depth = self.R.uniform(*self.depth_range)
        out = dict(data)
        for key in self.keys:
            image = np.asarray(out[key])
            h, w = image.shape[-2:]
            rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
            dy, dx = rows + 0.02 * h, cols - (w - 1) / 2.0
            angle = np.arctan2(dx, dy) - tilt
            inside = (np.abs(angle) <= half) & (np.hypot(dx, dy) <= depth * h)
            out[key] = image * inside.astype(np.float32)
        return out


def echo_augmentation(seed: int = 0) -> Compose:
    """Augmentation of ``{"image": (1, S, S) float in [0, 1], "label": (1, S, S)}`` samples, seeded."""
    transform = Compose(
        [
            RandAffined(
                keys=("image", "label"),
                prob=0.7,
                rotate_range=math.radians(10),
                scale_range=(0.12, 0.12),
                translate_range=(8, 8),
                mode=("bilinear", "nearest"),
                padding_mode="zeros",
            ),
            RandSectord(keys=("image",), prob=0.25),
            RandOverlayd(keys=("image",), label_key="label", prob=0.3),
            RandAdjustContrastd(keys=("image",), prob=0.5, gamma=(0.6, 1.6)),
            RandScaleIntensityd(keys=("image",), prob=0.5, factors=0.3),
            RandShiftIntensityd(keys=("image",), prob=0.3, offsets=0.1),
            RandGaussianSmoothd(keys=("image",), prob=0.2, sigma_x=(0.3, 1.2), sigma_y=(0.3, 1.2)),
            RandSpeckled(keys=("image",), prob=0.4),
        ]
    )
    transform.set_random_state(seed=seed)
    return transform


# -------------------------------------------------------------------------------------------- datasets
class FrameDataset(Dataset):
    """Frames ``(N, S, S)`` float32 in [0, 1], masks ``(N, S, S)`` uint8 -> ``(image (1, S, S), label (S, S) long)``."""

    def __init__(self, images: np.ndarray, masks: np.ndarray, transform: Compose | None = None):
        if images.ndim != 3 or images.shape != masks.shape:
            raise ValueError(f"expected images and masks (N, S, S) of one shape, got {images.shape}, {masks.shape}")
        self.images, self.masks, self.transform = images, masks, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        sample = {"image": self.images[index][None], "label": self.masks[index][None].astype(np.float32)}
        if self.transform is not None:
            sample = self.transform(sample)
        image = torch.as_tensor(np.asarray(sample["image"]), dtype=torch.float32)
        label = torch.as_tensor(np.asarray(sample["label"])).round().long()[0]
        return image, label


class SegDataModule(L.LightningDataModule):
    """Training and validation frames for the U-Net.

    Train: a CAMUS root's training split (``train_subset``) plus, optionally, synthetic datasets.
    Validation: the root's ``val_subset`` split, never augmented.
    """

    def __init__(
        self,
        root: str | Path,
        size: int = 128,
        batch_size: int = 16,
        seed: int = 0,
        synthetic: Sequence[str | Path] = (),
        synthetic_every: int = 2,
        train_subset: str = "training",
        val_subset: str = "validation",
        num_workers: int = 0,
    ):
        super().__init__()
        self.root, self.size, self.batch_size, self.seed = Path(root), size, batch_size, seed
        self.synthetic, self.synthetic_every = [Path(p) for p in synthetic], synthetic_every
        self.train_subset, self.val_subset, self.num_workers = train_subset, val_subset, num_workers
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self.val_ids: list[str] = []

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        augment = echo_augmentation(self.seed)
        images, masks, _ids = load_camus_frames(self.root, self.train_subset, self.size)
        parts = [FrameDataset(images, masks, augment)]
        for root in self.synthetic:
            syn_images, syn_masks = load_synthetic_frames(root, self.size, self.synthetic_every)
            log.info("adding %d synthetic frames from %s", len(syn_images), root)
            parts.append(FrameDataset(syn_images, syn_masks, augment))
        self.train_set = ConcatDataset(parts)
        val_images, val_masks, self.val_ids = load_camus_frames(self.root, self.val_subset, self.size)
        self.val_set = FrameDataset(val_images, val_masks, None)
        log.info("U-Net data: %d training frames, %d validation frames", len(self.train_set), len(self.val_set))

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(
            self.train_set,
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=True,
            generator=generator,
            num_workers=self.num_workers,
        )

    def validation_frames(self) -> tuple[np.ndarray, list[str]]:
        """Validation masks ``(N, S, S)`` uint8 and their ids, in loader order (after :meth:`setup`)."""
        self.setup()
        return self.val_set.masks, self.val_ids

    def val_dataloader(self) -> DataLoader:
        return DataLoader(
            self.val_set, batch_size=max(self.batch_size, 32), shuffle=False, num_workers=self.num_workers
        )
