"""Datamodule of heart masks on the shape model's grid, with their precomputed, z-scored shape attributes.

Masks come from any dataset :mod:`echolatent.io.camus` reads (every ED/ES frame with an expert mask of
the training split; the validation split for validation), optionally with the masks of every frame of
extra (e.g. synthetic) sequences added to training. Attributes are measured once, on the masks at
:data:`ATTRIBUTE_GRID` (finer than the model's grid: at 96 px the basal corners that define
``lv_base_width`` are a pixel or two, which made that attribute noisy), and z-scored with the training set's
mean and standard deviation; NaN (undefined attribute) is kept and the attribute loss skips those pairs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from echolatent.errors import InputError
from echolatent.labels import NUM_LABELS, check_labels
from echolatent.models.shape import ATTRIBUTE_GRID
from echolatent.resample import grid_onehot, resize_labels

log = logging.getLogger(__name__)


def measure_training_attributes(masks: np.ndarray, attributes: Sequence[str]) -> np.ndarray:
    """``(N, S, S)`` labels -> ``(N, K)`` float64 raw attribute values (NaN where undefined), in pixels."""
    if not attributes:
        return np.zeros((len(masks), 0))
    from echolatent.measure.attributes import ATTRIBUTES, compute_attributes

    unknown = sorted(set(attributes) - set(ATTRIBUTES))
    if unknown:
        raise ValueError(f"unknown attributes {unknown}; known: {list(ATTRIBUTES)}")
    values = compute_attributes(masks, None)
    return np.stack([values[name] for name in attributes], axis=1)


def zscore_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(N, K)`` values -> per-attribute mean and std ``(K,)`` ignoring NaN (std 1 where it is 0 or undefined)."""
    if values.shape[1] == 0:
        return np.zeros(0), np.ones(0)
    finite = np.isfinite(values).sum(0)
    if (finite < 2).any():
        raise ValueError(f"attributes {np.flatnonzero(finite < 2).tolist()} are defined on fewer than 2 masks")
    mean, std = np.nanmean(values, 0), np.nanstd(values, 0)
    return mean, np.where(np.isfinite(std) & (std > 0), std, 1.0)


def check_label_stack(masks: np.ndarray, name: str) -> np.ndarray:
    """Validate ``(N, H, W)`` integer labels 0..3 and return them as uint8."""
    return check_labels(masks, name=name, integer_dtype=True, allow_2d=False)


class MaskDataModule(L.LightningDataModule):
    """Training/validation masks on the model's grid and their z-scored attributes ``(N, K)`` float32.

    Batches are ``(one-hot (B, 4, S, S) float16, attributes (B, K) float32)``: the encoder's input and the
    reconstruction target, the one-hot of the labels on the grid, or with ``soft`` the area fractions of each
    structure (:func:`echolatent.resample.grid_onehot`). Masks may come at any size: attributes are measured
    after resampling to ``attribute_size`` (default :data:`ATTRIBUTE_GRID`), the network sees them resampled to
    ``input_size``. The first ``n_reference`` training masks (default: all) are the reference anatomy the temporal
    bounds are measured on (kept as labels on the grid, ``reference_masks (n_reference, S, S)`` uint8); masks after
    them (e.g. synthetic ones) only add training examples. ``loss_size`` > ``input_size``: batches carry a third
    tensor, the labels resampled to ``loss_size`` ``(B, L, L)`` uint8, the reconstruction target at that size.
    """

    def __init__(
        self,
        train_masks: np.ndarray,
        val_masks: np.ndarray,
        *,
        input_size: int,
        attributes: Sequence[str] = (),
        batch_size: int = 32,
        num_workers: int = 0,
        attribute_size: int = ATTRIBUTE_GRID,
        n_reference: int | None = None,
        soft: bool = False,
        loss_size: int = 0,
    ) -> None:
        super().__init__()
        if batch_size < 2:
            raise ValueError(f"batch_size must be >= 2, got {batch_size}")
        if attribute_size < 16:
            raise ValueError(f"attribute_size must be >= 16 pixels, got {attribute_size}")
        size, attr_size = (input_size, input_size), (attribute_size, attribute_size)
        train_masks = check_label_stack(train_masks, "training masks")
        val_masks = check_label_stack(val_masks, "validation masks")
        if len(train_masks) < batch_size:
            raise ValueError(f"{len(train_masks)} training masks < batch size {batch_size}")
        self.n_reference = len(train_masks) if n_reference is None else int(n_reference)
        if not 1 <= self.n_reference <= len(train_masks):
            raise ValueError(f"n_reference must be in 1..{len(train_masks)}, got {n_reference}")
        self.soft = bool(soft)
        self.train_inputs = grid_inputs(train_masks, size, self.soft)
        self.val_inputs = grid_inputs(val_masks, size, self.soft)
        self.reference_masks = resize_labels(train_masks[:self.n_reference], size)
        self.loss_size = int(loss_size) if loss_size and loss_size != input_size else 0
        self.train_targets = self._loss_targets(train_masks)
        self.val_targets = self._loss_targets(val_masks)
        self.attributes, self.attribute_size = tuple(attributes), attribute_size
        self.batch_size, self.num_workers = batch_size, num_workers
        train_raw = measure_training_attributes(resize_labels(train_masks, attr_size), self.attributes)
        self.attribute_mean, self.attribute_std = zscore_stats(train_raw)
        self.train_attrs = self.normalise(train_raw)
        val_raw = measure_training_attributes(resize_labels(val_masks, attr_size), self.attributes)
        self.val_attrs = self.normalise(val_raw)
        log.info("masks: %d training, %d validation at %dx%d; attributes %s",
                 len(self.train_inputs), len(self.val_inputs), input_size, input_size, list(self.attributes))

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        """``(N, K)`` raw attribute values -> z-scores (float32) with the training statistics."""
        return ((raw - self.attribute_mean) / self.attribute_std).astype(np.float32)

    def _loss_targets(self, masks: np.ndarray) -> torch.Tensor | None:
        """``(N, H, W)`` labels -> ``(N, L, L)`` uint8 at ``loss_size``, or ``None`` (loss on the model's grid)."""
        if not self.loss_size:
            return None
        return torch.from_numpy(resize_labels(masks, (self.loss_size, self.loss_size)))

    def _loader(self, inputs: torch.Tensor, attrs: np.ndarray, targets: torch.Tensor | None,
                train: bool) -> DataLoader:
        tensors = (inputs, torch.from_numpy(attrs)) + ((targets,) if targets is not None else ())
        dataset = TensorDataset(*tensors)
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=train, drop_last=train,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_inputs, self.train_attrs, self.train_targets, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_inputs, self.val_attrs, self.val_targets, train=False)

    @classmethod
    def from_dataset(
        cls,
        root: str | Path,
        *,
        input_size: int,
        attributes: Sequence[str] = (),
        add_synthetic: Sequence[str | Path] | str | Path | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
        soft: bool = False,
        loss_size: int = 0,
    ) -> MaskDataModule:
        """Training split (plus every frame of the sequences of each ``add_synthetic`` folder) and validation split.

        Masks are loaded at :data:`ATTRIBUTE_GRID` (attributes) and resampled to ``input_size`` (network); the
        temporal bounds are later measured on the training split of ``root`` only, never on the added frames.
        """
        from echolatent.io.frames import load_frames

        size = (ATTRIBUTE_GRID, ATTRIBUTE_GRID)
        _, train, _ = load_frames(root, "training", size=size)
        try:
            _, val, _ = load_frames(root, "validation", size=size)
        except InputError as err:
            log.warning("no validation split (%s): holding out every 10th training mask", err)
            keep = np.arange(len(train)) % 10 != 0
            train, val = train[keep], train[~keep]
        n_reference = len(train)
        extra = [add_synthetic] if isinstance(add_synthetic, str | Path) else list(add_synthetic or ())
        if extra:
            train = np.concatenate([train, *(sequence_masks(folder, size) for folder in extra)])
        return cls(train, val, input_size=input_size, attributes=attributes, batch_size=batch_size,
                   num_workers=num_workers, n_reference=n_reference, soft=soft, loss_size=loss_size)


def grid_inputs(masks: np.ndarray, size: tuple[int, int], soft: bool, chunk: int = 64) -> torch.Tensor:
    """``(N, H, W)`` labels -> ``(N, 4, h, w)`` float16 one-hot on the grid (area fractions with ``soft``)."""
    if len(masks) == 0:
        return torch.zeros(0, NUM_LABELS, *size, dtype=torch.float16)
    return torch.cat([grid_onehot(masks[i:i + chunk], size, soft).half() for i in range(0, len(masks), chunk)])


def sequence_masks(root: str | Path, size: tuple[int, int]) -> np.ndarray:
    """Every frame of every mask (``_gt``) found under ``root``, resampled to ``size``: ``(N, h, w)`` uint8.

    Sequences (half or full cycle) when there are any, else the single ED/ES frames (which repeat frames of
    the sequences when both exist).
    """
    from echolatent.io.camus import find_sequences, load_sequence

    stacks = []
    refs = find_sequences(root, kinds=("half_sequence", "sequence")) or find_sequences(root, kinds=("ED", "ES"))
    for ref in refs:
        if ref.mask is None:
            continue
        seq = load_sequence(ref, image=False, mask=True)
        stacks.append(resize_labels(seq.mask, size))
    if not stacks:
        raise InputError(root, "no masks found to add to the training set")
    log.info("added %d masks from %s", sum(len(s) for s in stacks), root)
    return np.concatenate(stacks)
