"""U-Net training: augmentations keep labels and geometry sane; one optimisation step end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage.draw import disk, ellipse

from echolatent.segment import load_segmenter, segment_frames
from echolatent.train.ef_callback import ValidationEF, dice_by_instant
from echolatent.train.seg_data import FrameDataset, RandSectord, RandSpeckled, echo_augmentation

from .conftest import run_cli, write_sitk


def _heart(h: int, w: int, shift: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A toy apical frame (h, w): MYO ellipse around an LV ellipse, LA disk below; image from labels."""
    mask = np.zeros((h, w), np.uint8)
    mask[ellipse(h * 0.4, w / 2 + shift, h * 0.3, w * 0.22, (h, w))] = 2
    mask[ellipse(h * 0.42, w / 2 + shift, h * 0.24, w * 0.14, (h, w))] = 1
    mask[disk((h * 0.82, w / 2 + shift), h * 0.12, shape=(h, w))] = 3
    image = np.choose(mask, [40, 20, 200, 25]).astype(np.uint8)
    return image, mask


@pytest.fixture
def camus_root(tmp_path: Path) -> Path:
    """A CAMUS-like root: 3 patients (2 training, 1 validation), 2CH/4CH ED/ES frames with masks, 36 x 40 px."""
    root = tmp_path / "camus"
    for index, patient in enumerate(("patient0001", "patient0002", "patient0003")):
        for view in ("2CH", "4CH"):
            for j, instant in enumerate(("ED", "ES")):
                image, mask = _heart(36, 40, shift=index + j)
                stem = root / "database_nifti" / patient / f"{patient}_{view}_{instant}"
                geometry = ((0.5, 0.4), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
                write_sitk(image, Path(f"{stem}.nii.gz"), *geometry)
                write_sitk(mask, Path(f"{stem}_gt.nii.gz"), *geometry)
    split = root / "database_split"
    split.mkdir()
    (split / "subgroup_training.txt").write_text("patient0001\npatient0002\n")
    (split / "subgroup_validation.txt").write_text("patient0003\n")
    return root


def test_augmentation_is_seeded_and_keeps_labels():
    image, mask = _heart(32, 32)
    images = np.repeat(image[None].astype(np.float32) / 255, 4, 0)
    masks = np.repeat(mask[None], 4, 0)
    first = [FrameDataset(images, masks, echo_augmentation(seed=5))[i] for i in range(4)]
    again = [FrameDataset(images, masks, echo_augmentation(seed=5))[i] for i in range(4)]
    for (x1, y1), (x2, y2) in zip(first, again, strict=True):
        assert x1.shape == (1, 32, 32) and y1.shape == (32, 32)
        assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
        assert set(np.unique(y1.numpy())) <= {0, 1, 2, 3}


def test_sector_mask_zeroes_the_corners_and_keeps_labels():
    sector = RandSectord(keys=("image",), prob=1.0)
    sector.set_random_state(0)
    label = np.ones((1, 40, 40), np.float32)
    out = sector({"image": np.ones((1, 40, 40), np.float32), "label": label})
    assert out["image"][0, 0, 0] == 0 and out["image"][0, 0, -1] == 0
    assert out["image"][0, 20, 20] == 1
    assert out["label"] is label


def test_speckle_is_multiplicative_with_unit_mean():
    speckle = RandSpeckled(keys=("image",), prob=1.0, sigma_range=(0.2, 0.2))
    speckle.set_random_state(0)
    image = np.zeros((1, 64, 64), np.float32)
    image[:, :, 32:] = 0.5
    out = speckle({"image": image})["image"]
    assert np.all(out[:, :, :32] == 0)
    assert out[:, :, 32:].mean() == pytest.approx(0.5, rel=0.05)
    assert out[:, :, 32:].std() / 0.5 == pytest.approx(0.2, rel=0.1)


@pytest.mark.slow
def test_one_step_training_run(camus_root, tmp_path, monkeypatch):
    monkeypatch.setenv("ECHOLATENT_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    export = run / "unet.pt"
    argv = [
        "train",
        "seg",
        str(camus_root),
        "--out",
        str(run),
        "--epochs",
        "1",
        "--limit-batches",
        "1",
        "--batch-size",
        "2",
        "--size",
        "32",
        "--threads",
        "1",
        "--export",
        str(export),
    ]
    assert run_cli(argv, monkeypatch) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["config"]["unet"]["input_size"] == 32 and config["seed"] == 0
    assert (run / "checkpoints" / "last.ckpt").is_file()
    rows = list(csv.DictReader((run / "log" / "metrics.csv").open()))
    assert any(row.get("val/dice") for row in rows)
    # ED/ES Dice from the callback (one validation patient: too few for EF, which is left out)
    lv_es = [float(row["val/dice_lv_es"]) for row in rows if row.get("val/dice_lv_es")]
    assert len(lv_es) == 1 and 0.0 <= lv_es[0] <= 1.0
    assert not any(row.get("val/ef_mae") for row in rows)
    segmenter = load_segmenter(export)
    assert segmenter.config.input_size == 32
    masks, _ = segment_frames(segmenter, _heart(36, 40)[0][None])
    assert masks.shape == (1, 36, 40)


def test_validation_ef_callback_logs_ef_against_the_experts():
    """Three patients whose predicted ES cavity is too large: EF bias negative, Dice at ES below ED."""
    truth, pred, ids = [], [], []
    for p, shift in enumerate((0, 1, 2)):
        for view in ("2CH", "4CH"):
            for instant, rows in (("ED", 14), ("ES", 10)):
                mask = np.zeros((48, 48), np.uint8)
                mask[ellipse(24, 24 + shift, rows, 7 + p, (48, 48))] = 1
                big = np.zeros_like(mask)
                big[ellipse(24, 24 + shift, rows + (2 if instant == "ES" else 0), 7 + p, (48, 48))] = 1
                truth.append(mask)
                pred.append(big)
                ids.append(f"patient{p}_{view}_{instant}")
    truth, pred = np.stack(truth), np.stack(pred)
    scores = dice_by_instant(pred, truth, ids)
    assert scores["lv_ed"] == 1.0 and scores["lv_es"] < 0.95

    logged = {}

    class Module:
        def log_dict(self, values, **_):
            logged.update(values)

    class Trainer:
        sanity_checking = False

    callback = ValidationEF(lambda: (truth, ids))
    callback.on_validation_epoch_start(Trainer(), Module())
    for start in range(0, len(pred), 4):
        callback.on_validation_batch_end(Trainer(), Module(), {"pred": torch.from_numpy(pred[start:start + 4])},
                                         None, 0)
    callback.on_validation_epoch_end(Trainer(), Module())
    assert logged["val/ef_bias"] < -3.0 and logged["val/ef_mae"] == pytest.approx(-logged["val/ef_bias"])
    assert logged["val/dice_lv_es"] == pytest.approx(scores["lv_es"])


def test_init_from_accepts_another_input_size_but_not_another_architecture(tmp_path):
    from echolatent.models.unet import UNetConfig, save_unet
    from echolatent.train.seg_module import SegModule, SegTrainConfig, init_from

    small = SegModule.from_configs(UNetConfig(input_size=32), SegTrainConfig())
    path = save_unet(small.net, small.unet_config, tmp_path / "small.pt", {})
    larger = SegModule.from_configs(UNetConfig(input_size=64), SegTrainConfig())
    init_from(larger, path)
    for name, value in small.net.state_dict().items():
        assert torch.equal(larger.net.state_dict()[name], value)
    wider = SegModule.from_configs(UNetConfig(input_size=32, channels=(8, 16, 32, 64, 128)), SegTrainConfig())
    with pytest.raises(ValueError, match="architecture"):
        init_from(wider, path)


def test_synthetic_frames_come_from_the_full_cycle_when_there_is_one(tmp_path, caplog):
    """``data synth --beats 1`` writes a half sequence and a full cycle per view: every n-th frame of the cycle is
    taken (diastole included), the half sequence not a second time; the cycle's length is no NbFrame problem."""
    from echolatent.io.readers import read_recording
    from echolatent.synth.dataset import write_synthetic_dataset
    from echolatent.train.seg_data import load_synthetic_frames

    half_only = write_synthetic_dataset(tmp_path / "half", patients=1, frames=6, size=32, previews=0)
    cycle = write_synthetic_dataset(tmp_path / "cycle", patients=1, frames=6, size=32, previews=0, beats=1)
    images, masks = load_synthetic_frames(half_only, 32, every=1)
    assert images.shape == masks.shape == (2 * 6, 32, 32)
    with caplog.at_level("WARNING"):
        images, masks = load_synthetic_frames(cycle, 32, every=1)
    files = [next(cycle.rglob(f"*_{view}_sequence.nii.gz")) for view in ("2CH", "4CH")]
    lengths = [read_recording(path).frames.shape[0] for path in files]
    assert min(lengths) > 6 and images.shape == masks.shape == (sum(lengths), 32, 32)
    assert "NbFrame" not in caplog.text
    every_third = load_synthetic_frames(cycle, 32, every=3)[0]
    assert len(every_third) == sum((n + 2) // 3 for n in lengths)
