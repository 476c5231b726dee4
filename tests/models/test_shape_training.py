"""One-step training smoke tests per model kind, export and reload, and a two-process DDP run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from echolatent.latent.codec import encode_masks, load_model, model_metadata
from echolatent.models.shape import KINDS, ShapeModelConfig
from echolatent.resample import resize_labels
from echolatent.train.mask_data import MaskDataModule, zscore_stats
from echolatent.train.runner import fit
from echolatent.train.shape_config import flat_config, split_config
from echolatent.train.shape_module import ShapeModule, export_model

torch.set_num_threads(1)
TINY = {"input_size": 32, "channels": (4, 8), "bottleneck_channels": 4, "latent_dim": 10, "batch_size": 8}


def configs(**fields) -> tuple[ShapeModelConfig, dict]:
    """The architecture of ``TINY`` with ``fields``, and architecture + training settings as one flat dict."""
    model, train = split_config({**TINY, **fields})
    return model, flat_config(model, train)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_one_training_step_per_kind(kind, hearts, tmp_path):
    cfg, flat = configs(kind=kind)
    data = MaskDataModule(hearts[:16], hearts[16:], input_size=32, attributes=cfg.attributes, batch_size=8)
    module = ShapeModule(flat)
    before = [p.detach().clone() for p in module.model.parameters()]
    trainer, best = fit(module, data, tmp_path / "run", flat, max_epochs=1, limit_train_batches=1, accelerator="cpu",
                        limit_val_batches=1, progress=False)
    assert trainer.global_step == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, module.model.parameters(), strict=True))
    logged = trainer.callback_metrics
    assert torch.isfinite(logged["val/loss"])
    assert ("val/kl" in logged) == KINDS[kind].variational
    assert ("val/reg" in logged) == KINDS[kind].regularised
    assert (tmp_path / "run" / "config.json").is_file() and (tmp_path / "run" / "log" / "metrics.csv").is_file()
    model = export_model(best, data.train_inputs, tmp_path / "model.pt", {"kind": kind})
    codes = encode_masks(load_model(tmp_path / "model.pt"), hearts[:16])
    assert np.allclose(model.latent_min.numpy(), codes.min(0), atol=1e-5)
    assert np.allclose(model.latent_max.numpy(), codes.max(0), atol=1e-5)


def test_datamodule_zscores_attributes_and_keeps_nan(hearts):
    data = MaskDataModule(hearts[:16], hearts[16:], input_size=32, attributes=("lv_area", "la_area"), batch_size=4)
    assert data.train_attrs.shape == (16, 2) and data.val_attrs.shape == (8, 2)
    assert np.allclose(data.train_attrs.mean(0), 0, atol=1e-5) and np.allclose(data.train_attrs.std(0), 1, atol=1e-4)
    mean, std = zscore_stats(np.array([[1.0, np.nan], [3.0, 2.0], [5.0, 2.0]]))
    assert mean.tolist() == [3.0, 2.0] and std[1] == 1.0  # constant attribute: std 1, not 0
    onehot, attrs = next(iter(data.train_dataloader()))
    assert onehot.dtype == torch.float16 and onehot.shape == (4, 4, 32, 32) and attrs.shape == (4, 2)
    assert torch.equal(onehot.sum(1), torch.ones(4, 32, 32, dtype=torch.float16))
    assert set(torch.unique(onehot).tolist()) == {0.0, 1.0}


def test_datamodule_rejects_bad_input(hearts):
    with pytest.raises(ValueError, match="outside 0..3"):
        MaskDataModule(hearts + 3, hearts, input_size=32, batch_size=4)
    with pytest.raises(ValueError, match="unknown attributes"):
        MaskDataModule(hearts, hearts, input_size=32, attributes=("heart_rate",), batch_size=4)
    with pytest.raises(ValueError, match="batch size"):
        MaskDataModule(hearts[:4], hearts, input_size=32, batch_size=8)


@pytest.mark.slow
def test_ddp_two_cpu_processes(tmp_path):
    """Lightning DDP on two CPU processes for two steps (run as a script: DDP re-launches its own command)."""
    script = Path(__file__).with_name("ddp_smoke.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True,
                            timeout=240, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "world_size=2" in result.stdout
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
    assert (tmp_path / "model.pt").is_file()


def test_cli_rejects_a_bad_model_kind(tmp_path):
    from typer.testing import CliRunner

    import echolatent.cli.train_cmds  # noqa: F401  (registers the command)
    from echolatent.cli.app import app

    result = CliRunner().invoke(app, ["train", "vae", str(tmp_path), "--out", str(tmp_path / "run"), "--kind", "gan"])
    assert result.exit_code == 2
    assert "unknown model kind 'gan'" in result.output
    old = CliRunner().invoke(app, ["train", "vae", str(tmp_path), "--out", str(tmp_path / "run"), "--model", "gan"])
    assert old.exit_code == 2 and "--model is now --kind" in old.output and "'gan'" in old.output
    both = ["train", "vae", str(tmp_path), "--out", str(tmp_path / "run"), "--init", "a.pt", "--init-decoder", "b.pt"]
    result = CliRunner().invoke(app, both)
    assert result.exit_code == 2 and "not both" in result.output
    assert not (tmp_path / "run").exists()


def test_sequence_masks_reads_every_frame_of_sequences(hearts, tmp_path):
    from echolatent.io.volume import Geometry, write_like
    from echolatent.train.mask_data import sequence_masks

    folder = tmp_path / "database_nifti" / "patient0001"
    for view, frames in (("4CH", hearts[:5]), ("2CH", hearts[5:8])):
        write_like(frames, Geometry.default(frames.shape), folder / f"patient0001_{view}_half_sequence_gt.nii.gz")
    masks = sequence_masks(tmp_path, (16, 16))
    assert masks.shape == (8, 16, 16) and masks.dtype == np.uint8 and set(np.unique(masks)) <= {0, 1, 2, 3}
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no masks found"):
        sequence_masks(tmp_path / "empty", (16, 16))


def test_datamodule_measures_attributes_on_the_attribute_grid(hearts):
    from echolatent.measure.attributes import compute_attributes

    data = MaskDataModule(hearts[:16], hearts[16:], input_size=32, attributes=("lv_area", "lv_base_width"),
                          batch_size=4, attribute_size=64, n_reference=10)
    fine = compute_attributes(resize_labels(hearts[:16], (64, 64)), None)
    raw = np.stack([fine["lv_area"], fine["lv_base_width"]], 1)
    np.testing.assert_allclose(data.train_attrs, ((raw - np.nanmean(raw, 0)) / np.nanstd(raw, 0)), atol=1e-5)
    assert data.reference_masks.shape == (10, 32, 32) and data.n_reference == 10
    assert np.array_equal(data.reference_masks, resize_labels(hearts[:10], (32, 32)))
    with pytest.raises(ValueError, match="n_reference"):
        MaskDataModule(hearts[:16], hearts[16:], input_size=32, batch_size=4, n_reference=17)


def test_soft_masks_prior_term_and_head_in_a_training_run(heart_maker, tmp_path, monkeypatch):
    import echolatent.train.shape_module as shape_module
    from echolatent.resample import grid_onehot

    pool_sizes = []
    real_pool = shape_module.build_prior_pool

    def spy_pool(model, n, seed, **options):
        pool_sizes.append(n)
        return real_pool(model, n=n, seed=seed, **options)

    monkeypatch.setattr(shape_module, "build_prior_pool", spy_pool)

    big = heart_maker(24, size=64, seed=2)
    cfg, flat = configs(soft_masks=True, prior_weight=1.0, prior_pool_size=40, head_channels=4)
    data = MaskDataModule(big[:16], big[16:], input_size=32, attributes=cfg.attributes, batch_size=8, soft=True)
    fractions = data.train_inputs.float()
    assert ((fractions > 0) & (fractions < 1)).any() and torch.allclose(fractions.sum(1), torch.ones(16, 32, 32),
                                                                         atol=2e-3)
    module = ShapeModule(flat, seed=3)
    trainer, best = fit(module, data, tmp_path / "run", flat, max_epochs=1, limit_train_batches=1, accelerator="cpu",
                        limit_val_batches=1, progress=False)
    logged = trainer.callback_metrics
    assert 0.0 <= float(logged["train/prior_valid_raw"]) <= float(logged["train/prior_valid_cleaned"]) <= 1.0
    assert pool_sizes == [40]  # one draw per epoch, of the config's size
    assert len(module.prior_pool.z) == round(float(logged["train/prior_kept"]) * 40)
    model = export_model(best, data.train_inputs, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt")
    assert loaded.config.soft_masks and loaded.config.head_channels == 4
    assert model_metadata(tmp_path / "model.pt")["training"]["prior_weight"] == 1.0
    with torch.no_grad():
        direct = loaded.encode(grid_onehot(big[:4], (32, 32), soft=True))[0].numpy()
    np.testing.assert_allclose(encode_masks(loaded, big[:4]), direct, atol=1e-5)  # the codec feeds fractions
    assert np.allclose(model.latent_min.numpy(), encode_masks(loaded, big[:16]).min(0), atol=1e-3)


def test_loss_size_trains_against_labels_at_that_size(heart_maker, tmp_path):
    big = heart_maker(24, size=64, seed=4)
    cfg, flat = configs(prior_weight=1.0, prior_pool_size=24, loss_size=48)
    data = MaskDataModule(big[:16], big[16:], input_size=32, attributes=cfg.attributes, batch_size=8, loss_size=48)
    inputs, attrs, targets = next(iter(data.val_dataloader()))
    assert inputs.shape == (8, 4, 32, 32) and targets.shape == (8, 48, 48) and targets.dtype == torch.uint8
    assert np.array_equal(targets.numpy(), resize_labels(big[16:], (48, 48)))
    module = ShapeModule(flat, seed=1)
    trainer, best = fit(module, data, tmp_path / "run", flat, max_epochs=1, limit_train_batches=2, accelerator="cpu",
                        limit_val_batches=1, progress=False)
    assert module.prior_pool.targets.shape[1:] == (48, 48)  # prior targets at 48 px too
    assert all(np.isfinite(float(trainer.callback_metrics[k])) for k in ("train/recon", "val/recon", "val/dice_lv"))
    export_model(best, data.train_inputs, tmp_path / "m.pt")
    assert model_metadata(tmp_path / "m.pt")["training"]["loss_size"] == 48
    same = MaskDataModule(big[:16], big[16:], input_size=32, batch_size=8, loss_size=32)
    assert len(next(iter(same.train_dataloader()))) == 2  # loss on the model's grid: no extra targets
    with pytest.raises(ValueError, match="loss_size"):
        configs(loss_size=16)


def test_freeze_decoder_trains_the_encoder_only(hearts, tmp_path):
    cfg, flat = configs(freeze_decoder=True)
    data = MaskDataModule(hearts[:16], hearts[16:], input_size=32, attributes=cfg.attributes, batch_size=8)
    module = ShapeModule(flat, seed=2)
    before = {k: v.clone() for k, v in module.model.state_dict().items()}
    fit(module, data, tmp_path / "run", flat, max_epochs=1, limit_train_batches=2, accelerator="cpu",
        limit_val_batches=1, progress=False)
    after = module.model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith(("encoder.", "mu_head.", "logvar_head.")) for k in changed)
    assert any(k.startswith("encoder.") and k.endswith("running_mean") for k in changed)  # its batch norm learns
    with pytest.raises(ValueError, match="freeze_decoder"):
        configs(freeze_decoder=True, prior_weight=1.0)


def test_resuming_a_run_folder_with_another_config_is_refused(hearts, tmp_path):
    from echolatent.errors import InputError

    cfg, flat = configs()
    data = MaskDataModule(hearts[:16], hearts[16:], input_size=32, attributes=cfg.attributes, batch_size=8)
    options = {"limit_train_batches": 1, "limit_val_batches": 1, "accelerator": "cpu", "progress": False}
    fit(ShapeModule(flat), data, tmp_path / "run", flat, max_epochs=1, **options)
    recorded = (tmp_path / "run" / "config.json").read_text()
    other, other_flat = configs(latent_dim=12)
    with pytest.raises(InputError, match="latent_dim 10 -> 12"):
        fit(ShapeModule(other_flat), data, tmp_path / "run", other_flat, max_epochs=2, **options)
    assert (tmp_path / "run" / "config.json").read_text() == recorded  # the run's record is left as it was
    trainer, _ = fit(ShapeModule(flat), data, tmp_path / "run", flat, max_epochs=2, **options)
    assert trainer.current_epoch == 2  # the same config resumes and goes on


@pytest.mark.slow
def test_train_vae_command_records_both_configs(tmp_path):
    from typer.testing import CliRunner

    from echolatent.cli.app import _register_commands, app
    from echolatent.synth import write_synthetic_dataset

    _register_commands()
    root = write_synthetic_dataset(tmp_path / "data", patients=3, frames=4, size=64, previews=0)
    run = tmp_path / "run"
    options = ["--input-size", "32", "--channels", "4,8", "--latent-dim", "10", "--epochs", "1", "--batch-size", "4",
               "--max-steps", "1", "--no-progress", "--accelerator", "cpu", "--lr", "5e-4"]
    result = CliRunner().invoke(app, ["train", "vae", str(root), "--out", str(run), *options])
    assert result.exit_code == 0, result.output
    model = load_model(run / "shape_model.pt")
    assert model.config.input_size == 32 and model.config.latent_dim == 10
    training = model_metadata(run / "shape_model.pt")["training"]
    assert training["lr"] == 5e-4 and training["batch_size"] == 4 and training["beta"] == KINDS["ar-vae"].beta
    recorded = json.loads((run / "config.json").read_text())["config"]
    assert recorded["lr"] == 5e-4 and recorded["latent_dim"] == 10  # one flat record: older run folders resume
