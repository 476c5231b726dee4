"""ONNX Runtime, the default CPU backend: the same masks as PyTorch, an export cached per weights file, clear errors
where it cannot run, and PyTorch when asked."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from echolatent.labels import View
from echolatent.models import onnx_runtime
from echolatent.models.onnx_runtime import OrtNetwork, resolve_backend
from echolatent.segment import load_segmenter, segment_frames
from echolatent.synth.patient import synthesize_patient


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("ECHOLATENT_CACHE", str(folder))
    monkeypatch.delenv("ECHOLATENT_BACKEND", raising=False)
    return folder


def _frames() -> np.ndarray:
    return synthesize_patient(1, frames=6, size=128, seed=3).views[View.A4C].images


def test_shipped_ensemble_gives_the_same_masks_on_both_backends(cache):
    frames = _frames()
    on_torch = load_segmenter(backend="torch")
    on_ort = load_segmenter()  # auto on the CPU
    assert on_torch.backend == "torch" and on_ort.backend == "onnxruntime"
    assert isinstance(on_ort.model, OrtNetwork) and len(on_ort.members) == len(on_torch.members) == 1
    ort_masks, ort_probs = segment_frames(on_ort, frames)
    torch_masks, torch_probs = segment_frames(on_torch, frames)
    assert (ort_masks == torch_masks).mean() >= 0.999
    assert np.abs(ort_probs - torch_probs).max() < 1e-3
    assert len(list((cache / "onnx").glob("*.onnx"))) == 2  # one per ensemble member


def test_export_is_cached_and_reused(cache, tiny_unet_file, monkeypatch):
    frames = _frames()
    first = segment_frames(load_segmenter(tiny_unet_file, backend="onnxruntime"), frames)[0]
    assert len(list((cache / "onnx").glob("*.onnx"))) == 1

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_runtime, "export_onnx", no_export)
    again = segment_frames(load_segmenter(tiny_unet_file, backend="onnxruntime"), frames)[0]
    assert np.array_equal(first, again)
    reference = segment_frames(load_segmenter(tiny_unet_file, backend="torch"), frames)[0]
    assert (first == reference).mean() >= 0.999


def test_unwritable_cache_keeps_the_export_in_memory(tmp_path, tiny_unet_file, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("ECHOLATENT_CACHE", str(blocker))
    segmenter = load_segmenter(tiny_unet_file, backend="onnxruntime")
    assert segmenter.backend == "onnxruntime"
    assert segment_frames(segmenter, _frames())[0].shape == (6, 128, 128)
    assert blocker.read_text().startswith("a file")


def test_auto_falls_back_to_torch_when_the_export_fails(cache, tiny_unet_file, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("exporter broken")

    monkeypatch.setattr(onnx_runtime, "export_onnx", broken)
    with caplog.at_level(logging.WARNING):
        segmenter = load_segmenter(tiny_unet_file)
    assert segmenter.backend == "torch" and isinstance(segmenter.model, torch.nn.Module)
    assert "exporter broken" in caplog.text
    with pytest.raises(RuntimeError, match="exporter broken"):
        load_segmenter(tiny_unet_file, backend="onnxruntime")


def test_backend_choice(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.delenv("ECHOLATENT_BACKEND", raising=False)
    assert resolve_backend("auto", cpu) == "onnxruntime"
    assert resolve_backend("auto", cuda) == "torch"
    assert resolve_backend("torch", cpu) == "torch"
    monkeypatch.setenv("ECHOLATENT_BACKEND", "torch")
    assert resolve_backend("auto", cpu) == "torch"
    assert resolve_backend("onnxruntime", cpu) == "onnxruntime"  # an explicit argument wins over the variable
    with pytest.raises(ValueError, match="CPU only"):
        resolve_backend("onnxruntime", cuda)
    with pytest.raises(ValueError, match="backend: unknown inference backend .tensorrt."):
        resolve_backend("tensorrt", cpu)
    monkeypatch.setattr(onnx_runtime, "onnxruntime_installed", lambda: False)
    monkeypatch.delenv("ECHOLATENT_BACKEND")
    assert resolve_backend("auto", cpu) == "torch"
    with pytest.raises(ValueError, match="not installed"):
        resolve_backend("onnxruntime", cpu)


def test_a_bad_backend_variable_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    import sys

    from echolatent.cli import main

    monkeypatch.setenv("ECHOLATENT_BACKEND", "tensorrt")
    (tmp_path / "in").mkdir()
    monkeypatch.setattr(sys, "argv", ["echolatent", "segment", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2
    assert err == ["error: ECHOLATENT_BACKEND: unknown inference backend 'tensorrt'; choose from auto, torch, "
                   "onnxruntime"]
