"""Latent evaluation on a constructed shape model whose decoder is known exactly, so every number of the report
is known by hand: a bank of 11 valid hearts ordered by LV area, drawn by latent dim 0; dims 1 and 2 place the code
on a circle, and a code inside radius 0.85 decodes with a one-pixel LV island (an invalid mask)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch
from scipy import ndimage

from echolatent.errors import InputError
from echolatent.labels import Label
from echolatent.latent.evaluate import evaluate_dataset, evaluate_model
from echolatent.latent.metrics import disentanglement
from echolatent.measure.attributes import ATTRIBUTES, compute_attributes
from echolatent.measure.validity import check_validity
from echolatent.models.shape import ATTRIBUTE_GRID, ShapeModel, ShapeModelConfig
from echolatent.resample import resize_labels

torch.set_num_threads(1)
RADIUS = 0.85  # codes with hypot(z1, z2) below it decode with an island
ISLAND = (0, 31)  # where the decoder puts it; the expert masks have theirs elsewhere


class BankModel(ShapeModel):
    """Decoder: heart ``bank[round(z0)]`` (clipped), plus an LV pixel at :data:`ISLAND` when
    ``hypot(z1, z2) < RADIUS``. Encoder: the bank heart whose MYO matches best; dims 1-2 at angle 0 without an
    LV island, 120 degrees with one in the top half, 240 degrees with one in the bottom half."""

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
        masks = self.bank[np.clip(np.round(z[:, 0]), 0, len(self.bank) - 1).astype(int)].copy()
        masks[np.hypot(z[:, 1], z[:, 2]) < RADIUS, ISLAND[0], ISLAND[1]] = Label.LV
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


def test_report_of_the_bank_model_by_hand(bank, experts):
    model = BankModel(bank).eval()
    out = evaluate_model(model, experts, n_samples=40, n_pairs=30, n_traversals=2, seed=5)
    # every expert decodes as heart 0 without island: LV Dice 2A / (2A + 1) for the two with an island
    lv = (bank[0] == Label.LV).sum()
    d = 2 * lv / (2 * lv + 1)
    assert out["reconstruction_dice"]["lv"] == pytest.approx({"mean": (1 + 2 * d) / 3, "median": d, "min": d})
    for name in ("myo", "la"):
        assert out["reconstruction_dice"][name] == {"mean": 1.0, "median": 1.0, "min": 1.0}
    validity = out["validity"]
    assert validity["expert_masks"]["valid_fraction"] == pytest.approx(1 / 3)
    assert validity["expert_masks"]["failures"] == {"disconnected_lv": 2}
    assert validity["expert_masks"]["n"] == 3
    assert validity["reconstructions"] == {"valid_fraction": 1.0, "ci95": pytest.approx(validity["reconstructions"]
                                           ["ci95"]), "n": 3, "failures": {}}
    # prior: N(0, I) codes of seed 5; the island appears inside the radius; the clean-up removes it
    eps = np.random.default_rng(5).standard_normal((40, 3))
    inside = int((np.hypot(eps[:, 1], eps[:, 2]) < RADIUS).sum())
    assert 0 < inside < 40
    assert validity["prior_samples"]["valid_fraction"] == pytest.approx(1 - inside / 40)
    assert validity["prior_samples"]["failures"] == {"disconnected_lv": inside}
    assert validity["prior_samples"]["n"] == 40
    assert validity["prior_samples_cleaned"]["valid_fraction"] == 1.0
    # the codes are 120 degrees apart on the unit circle: a linear midpoint has norm cos 60 = 0.5 (an island),
    # a slerp midpoint norm 1 (none); pairs of one code with itself are dropped
    linear, slerp = validity["interpolation_midpoints"], validity["slerp_midpoints"]
    assert linear["valid_fraction"] == 0.0 and slerp["valid_fraction"] == 1.0
    assert linear["n"] == slerp["n"] and 30 * 0.4 < linear["n"] < 30
    # controllability: dim 0 walks the bank (LV area strictly grows: rho 1); dim 1 never changes the LA (rho 0)
    assert out["attributes"]["lv_area"]["controllability"] == 1.0
    assert out["attributes"]["la_area"]["controllability"] == 0.0
    assert all("controllability" not in out["attributes"][name] for name in ATTRIBUTES[1:] if name != "la_area")
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
    assert out["n_masks"] == 3 and out["mask_size"] == [32, 32] and out["seconds"] >= 0


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
    for seed in (0, 7):
        out = evaluate_model(model, experts, n_samples=25, n_pairs=12, n_traversals=1, seed=seed)
        eps = np.random.default_rng(seed).standard_normal((25, 3))
        inside = int((np.hypot(eps[:, 1], eps[:, 2]) < RADIUS).sum())
        assert out["validity"]["prior_samples"]["n"] == 25
        assert out["validity"]["prior_samples"]["valid_fraction"] == pytest.approx(1 - inside / 25)


def test_evaluate_dataset_writes_the_report_of_its_split(bank, dataset, tmp_path):
    model = BankModel(bank).eval()
    metrics, path = evaluate_dataset(model, dataset, tmp_path / "out", n_samples=3, n_pairs=12, n_traversals=2)
    assert path == tmp_path / "out" / "latent_metrics.json"
    assert json.loads(path.read_text()) == json.loads(json.dumps(metrics))
    assert metrics["data"] == {"root": str(dataset), "subset": "validation", "frames": 4}
    assert metrics["n_masks"] == 4 and metrics["mask_size"] == [32, 32]


def test_evaluate_dataset_resamples_mixed_sizes(bank, dataset, tmp_path, caplog):
    model = BankModel(bank).eval()
    with caplog.at_level(logging.WARNING, logger="echolatent.latent.evaluate"):
        metrics, _ = evaluate_dataset(model, dataset, tmp_path, subset="all", n_samples=2, n_pairs=12,
                                      n_traversals=1)
    assert metrics["data"] == {"root": str(dataset), "subset": "all", "frames": 12}
    assert metrics["mask_size"] == [224, 224] and metrics["n_masks"] == 12
    assert "resampling every mask to 224 x 224" in caplog.text


def test_evaluate_dataset_refuses_a_missing_split_and_a_broken_file(bank, dataset, tmp_path):
    model = BankModel(bank).eval()
    with pytest.raises(InputError, match="training, validation, all"):
        evaluate_dataset(model, dataset, tmp_path, subset="testing")
    (dataset / "database_nifti" / "patient0003" / "patient0003_2CH_ED_gt.nii.gz").write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        evaluate_dataset(model, dataset, tmp_path, n_samples=2, n_pairs=12, n_traversals=1)
    assert not (tmp_path / "latent_metrics.json").exists()
