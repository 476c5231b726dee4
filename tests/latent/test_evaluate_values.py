"""Latent evaluation on a constructed shape model whose decoder is known exactly, so every number of the report
is known by hand. Latent dim 0 picks one of 11 valid hearts ordered by LV area (in reverse order when z2 < -0.5);
dims 1 and 2 (radius r, angle a) decide what the decoder breaks: nothing when r < 0.55; else a one-pixel LV island,
except on the circle (r >= 0.9) near 60, 180 and 300 degrees (cos 3a < -0.9), where it is a one-pixel MYO island.
The three expert codes lie on the unit circle 120 degrees apart (0, 120, 240): their linear midpoints have r = 0.5
(valid), their slerp midpoints lie at 60, 180, 300 degrees (MYO island), the points a third of the way have
r = 0.577 or angles 40, 80... degrees (LV island), the codes themselves an LV island."""

from __future__ import annotations

import inspect
import json
import logging
import time

import numpy as np
import pytest
import torch
from scipy import ndimage

from echolatent.errors import InputError
from echolatent.labels import Label
from echolatent.latent.evaluate import dice_per_structure, evaluate_dataset, evaluate_model
from echolatent.latent.metrics import disentanglement
from echolatent.measure.attributes import ATTRIBUTES, compute_attributes
from echolatent.measure.validity import check_validity
from echolatent.models.shape import ATTRIBUTE_GRID, ShapeModel, ShapeModelConfig
from echolatent.resample import resize_labels

torch.set_num_threads(1)
LV_ISLAND, MYO_ISLAND = (0, 31), (31, 31)  # where the decoder puts them; the expert masks have theirs elsewhere
MYO_FAILS = ("disconnected_myo", "erosion_ratio_myo")  # a one-pixel MYO piece: disconnected, and it erodes away


def outcomes(z: np.ndarray) -> np.ndarray:
    """``(N, 3)`` codes -> ``(N,)`` 0 valid, 1 LV island, 2 MYO island (the decoder's rule)."""
    r, angle = np.hypot(z[:, 1], z[:, 2]), np.arctan2(z[:, 2], z[:, 1])
    on_circle = r >= 0.9
    return np.where(r < 0.55, 0, np.where(on_circle & (np.cos(3 * angle) < -0.9), 2, 1))


class BankModel(ShapeModel):
    """Decoder as the module docstring says. Encoder: the bank heart whose MYO matches best; dims 1-2 on the unit
    circle at 0 degrees without an LV island, 120 with one in the top half, 240 with one in the bottom half."""

    def __init__(self, bank: np.ndarray) -> None:
        super().__init__(ShapeModelConfig(kind="ar-vae", input_size=32, channels=(4,), bottleneck_channels=2,
                                          latent_dim=3, attributes=("lv_area", "la_area")))
        self.bank = bank
        self.set_latent_range(torch.tensor([0.0, -1.0, -1.0]), torch.tensor([10.0, 1.0, 1.0]))

    def encode(self, onehot):
        labels = onehot.argmax(1).numpy()
        mu = np.zeros((len(labels), 3), np.float32)
        for i, frame in enumerate(labels):
            mu[i, 0] = np.argmin([((frame == Label.MYO) != (b == Label.MYO)).sum() for b in self.bank])
            pieces, n = ndimage.label(frame == Label.LV)
            sizes = ndimage.sum(np.ones_like(frame), pieces, range(1, n + 1))
            angle = 0.0
            if n > 1:
                island_row = np.argwhere(pieces == 1 + int(np.argmin(sizes)))[0, 0]
                angle = 120.0 if island_row < 16 else 240.0
            mu[i, 1:] = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        return torch.from_numpy(mu), None

    def decode(self, z):
        z = z.numpy()
        index = np.clip(np.round(z[:, 0]), 0, len(self.bank) - 1).astype(int)
        index = np.where(z[:, 2] < -0.5, len(self.bank) - 1 - index, index)
        masks = self.bank[index].copy()
        kind = outcomes(z)
        masks[kind == 1, LV_ISLAND[0], LV_ISLAND[1]] = Label.LV
        masks[kind == 2, MYO_ISLAND[0], MYO_ISLAND[1]] = Label.MYO
        return torch.from_numpy(np.eye(4, dtype=np.float32)[masks]).permute(0, 3, 1, 2) * 10


@pytest.fixture
def bank(heart_maker) -> np.ndarray:
    """11 valid hearts with strictly growing LV areas and distinct MYO, corners empty."""
    drawn = heart_maker(60, size=32, seed=3)
    drawn = drawn[check_validity(drawn).valid]
    areas, first = np.unique((drawn == Label.LV).sum((1, 2)), return_index=True)
    chosen = drawn[first[np.linspace(0, len(first) - 1, 11).round().astype(int)]]
    assert len(np.unique((chosen == Label.LV).sum((1, 2)))) == 11
    assert not chosen[:, [0, 0, 31, 31], [0, 31, 0, 31]].any()
    return chosen


@pytest.fixture
def experts(bank) -> np.ndarray:
    """Heart 0 as it is, with an island at the top-left corner, and with one at the bottom-left corner."""
    masks = np.repeat(bank[:1], 3, 0)
    masks[1, 0, 0] = masks[2, 31, 0] = Label.LV
    return masks


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * (a & b).sum() / (a.sum() + b.sum())


def test_report_of_the_bank_model_by_hand(bank, experts):
    model = BankModel(bank).eval()
    start = time.perf_counter()
    out = evaluate_model(model, experts, n_samples=60, n_pairs=30, n_traversals=3, seed=5)
    elapsed = time.perf_counter() - start
    # the experts decode as heart 0, heart 0 and heart 10 (z2 < -0.5), each with the decoder's LV island
    lv0, lv10 = bank[0] == Label.LV, bank[10] == Label.LV
    a0 = lv0.sum()
    lv = [2 * a0 / (2 * a0 + 1), 2 * a0 / (2 * a0 + 2), 2 * (lv0 & lv10).sum() / (a0 + lv10.sum() + 2)]
    myo = [1.0, 1.0, _dice(bank[0] == Label.MYO, bank[10] == Label.MYO)]
    la = [1.0, 1.0, _dice(bank[0] == Label.LA, bank[10] == Label.LA)]
    assert max(lv[2], myo[2], la[2]) < 0.99
    for name, values in (("lv", lv), ("myo", myo), ("la", la)):
        assert out["reconstruction_dice"][name] == pytest.approx(
            {"mean": np.mean(values), "median": np.median(values), "min": np.min(values)})
    validity = out["validity"]
    assert validity["expert_masks"]["valid_fraction"] == pytest.approx(1 / 3)
    assert validity["expert_masks"]["failures"] == {"disconnected_lv": 2}
    assert validity["expert_masks"]["n"] == 3
    assert validity["reconstructions"]["valid_fraction"] == 0.0
    assert validity["reconstructions"]["failures"] == {"disconnected_lv": 3}
    # prior: N(0, I) codes of seed 5 through the decoder's rule; the clean-up removes every island
    kind = outcomes(np.random.default_rng(5).standard_normal((60, 3)))
    counts = np.bincount(kind, minlength=3)
    assert counts.min() > 0
    prior = validity["prior_samples"]
    assert prior["n"] == 60 and prior["valid_fraction"] == pytest.approx(counts[0] / 60)
    assert prior["failures"] == {"disconnected_lv": counts[1], **{name: counts[2] for name in MYO_FAILS}}
    assert validity["prior_samples_cleaned"]["valid_fraction"] == 1.0
    # midpoints of codes 120 degrees apart; pairs of one code with itself are dropped
    linear, slerp = validity["interpolation_midpoints"], validity["slerp_midpoints"]
    assert linear["valid_fraction"] == 1.0 and slerp["valid_fraction"] == 0.0
    assert linear["n"] == slerp["n"] and 30 * 0.4 < linear["n"] < 30
    assert slerp["failures"] == {name: slerp["n"] for name in MYO_FAILS}
    # controllability over the three codes: dim 0 walks the bank up (rho 1) from two of them and down (rho -1)
    # from the third; dim 1 never changes the LA (rho 0)
    assert out["attributes"]["lv_area"]["controllability"] == pytest.approx(1 / 3)
    assert out["attributes"]["la_area"]["controllability"] == 0.0
    assert all("controllability" not in out["attributes"][name] for name in ATTRIBUTES
               if name not in ("lv_area", "la_area"))
    # disentanglement on the known codes and the attributes on the training grid
    codes = np.array([[0, 1, 0], [0, -0.5, np.sqrt(0.75)], [0, -0.5, -np.sqrt(0.75)]], np.float32)
    attrs = compute_attributes(resize_labels(experts, (ATTRIBUTE_GRID, ATTRIBUTE_GRID)), None)
    expected = disentanglement(codes, np.stack([attrs[a] for a in ATTRIBUTES], 1), list(ATTRIBUTES),
                               {"lv_area": 0, "la_area": 1})
    for name, scores in expected.items():
        got = {key: value for key, value in out["attributes"][name].items() if key != "controllability"}
        assert got == pytest.approx(scores, abs=1e-6, nan_ok=True)
    assert out["mig_mean"] == pytest.approx(np.mean([s["mig"] for s in expected.values()]), nan_ok=True)
    assert out["sap_mean"] == pytest.approx(np.mean([s["sap"] for s in expected.values()]), nan_ok=True)
    assert out["n_masks"] == 3 and out["mask_size"] == [32, 32]
    assert isinstance(out["seconds"], float) and out["seconds"] == round(out["seconds"], 1)
    assert 0 <= out["seconds"] <= elapsed + 0.05


def test_same_seed_same_report(bank, experts):
    model = BankModel(bank).eval()
    runs = [evaluate_model(model, experts, n_samples=5, n_pairs=40, n_traversals=2, seed=3) for _ in range(2)]
    for run in runs:
        run.pop("seconds")
    assert json.dumps(runs[0], sort_keys=True) == json.dumps(runs[1], sort_keys=True)
    kind = outcomes(np.random.default_rng(3).standard_normal((5, 3)))
    assert runs[0]["validity"]["prior_samples"]["valid_fraction"] == pytest.approx((kind == 0).mean())
    assert runs[0]["validity"]["interpolation_midpoints"]["valid_fraction"] == 1.0


def test_documented_defaults():
    defaults = {name: p.default for name, p in inspect.signature(evaluate_model).parameters.items()
                if p.default is not inspect.Parameter.empty}
    assert defaults == {"n_samples": 1000, "n_pairs": 500, "n_traversals": 20, "seed": 0, "progress": None}


def test_dice_of_a_single_stray_pixel():
    truth = np.zeros((1, 4, 4), np.uint8)
    pred = truth.copy()
    pred[0, 2, 2] = Label.MYO  # one predicted pixel, none true: Dice 0, not "absent from both"
    assert dice_per_structure(pred, truth)["myo"].tolist() == [0.0]
    assert dice_per_structure(truth, pred)["myo"].tolist() == [0.0]


def test_progress_names_each_stage(bank, experts):
    said = []
    evaluate_model(BankModel(bank).eval(), experts, n_samples=3, n_pairs=12, n_traversals=1, progress=said.append)
    assert said == ["reconstruction", "disentanglement", "controllability", "validity"]


def test_progress_goes_to_the_log_by_default(bank, experts, caplog):
    with caplog.at_level(logging.INFO, logger="echolatent.latent.evaluate"):
        evaluate_model(BankModel(bank).eval(), experts, n_samples=3, n_pairs=12, n_traversals=1)
    assert [r.getMessage() for r in caplog.records] == ["reconstruction", "disentanglement", "controllability",
                                                        "validity"]


def test_prior_sample_count_and_seed(bank, experts):
    model = BankModel(bank).eval()
    for seed in (None, 7):  # None: the default seed, 0
        options = {} if seed is None else {"seed": seed}
        out = evaluate_model(model, experts, n_samples=25, n_pairs=12, n_traversals=1, **options)
        kind = outcomes(np.random.default_rng(seed or 0).standard_normal((25, 3)))
        assert out["validity"]["prior_samples"]["n"] == 25
        assert out["validity"]["prior_samples"]["valid_fraction"] == pytest.approx((kind == 0).mean())


def test_twenty_traversals_by_default(bank):
    """11 codes at 0 degrees (dim 0 walks the bank up: rho 1), 10 at 240 degrees (down: rho -1); 20 of the 21 are
    swept: the mean is (10 - 10) / 20 = 0 when a code at 0 degrees is left out, (11 - 9) / 20 = 0.1 when one at 240
    is, never (11 - 10) / 21 (all 21)."""
    masks = np.concatenate([bank, bank[:10]])
    masks[11:, 31, 0] = Label.LV  # an island in the bottom half: the encoder's 240 degrees
    out = evaluate_model(BankModel(bank).eval(), masks, n_samples=2, n_pairs=4)
    assert out["attributes"]["lv_area"]["controllability"] in (pytest.approx(0.0), pytest.approx(0.1))


def test_evaluate_dataset_writes_the_report_of_its_split(bank, dataset, tmp_path):
    model = BankModel(bank).eval()
    metrics, path = evaluate_dataset(model, dataset, tmp_path / "out", n_samples=3, n_pairs=12, n_traversals=2)
    assert path == tmp_path / "out" / "latent_metrics.json"
    assert json.loads(path.read_text()) == json.loads(json.dumps(metrics))
    assert metrics["data"] == {"root": str(dataset), "subset": "validation", "frames": 4}
    assert metrics["n_masks"] == 4 and metrics["mask_size"] == [32, 32]
    assert metrics["validity"]["prior_samples"]["n"] == 3  # the options reach the evaluation


@pytest.mark.parametrize(("subset", "frames"), [("training", 8), ("all", 12)])
def test_evaluate_dataset_resamples_mixed_sizes(bank, dataset, tmp_path, caplog, subset, frames):
    """patient0002's masks are 64 x 64, the others 32 x 32 (conftest)."""
    model = BankModel(bank).eval()
    with caplog.at_level(logging.WARNING, logger="echolatent.latent.evaluate"):
        metrics, _ = evaluate_dataset(model, dataset, tmp_path, subset=subset, n_samples=2, n_pairs=12,
                                      n_traversals=1)
    assert metrics["data"] == {"root": str(dataset), "subset": subset, "frames": frames}
    assert metrics["mask_size"] == [224, 224] and metrics["n_masks"] == frames
    (message,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "differs from" in message and message.endswith("; resampling every mask to 224 x 224")


def test_evaluate_dataset_refuses_a_missing_split_and_a_broken_file(bank, dataset, tmp_path, caplog):
    model = BankModel(bank).eval()
    with pytest.raises(InputError, match="training, validation, all"):
        evaluate_dataset(model, dataset, tmp_path, subset="testing")
    (dataset / "database_nifti" / "patient0003" / "patient0003_2CH_ED_gt.nii.gz").write_bytes(b"")
    with caplog.at_level(logging.WARNING), pytest.raises(InputError, match="empty file"):
        evaluate_dataset(model, dataset, tmp_path, n_samples=2, n_pairs=12, n_traversals=1)
    assert not (tmp_path / "latent_metrics.json").exists()
    assert "resampling" not in caplog.text  # a broken file is not a size problem
