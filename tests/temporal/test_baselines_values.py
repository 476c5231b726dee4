"""The image-space baselines and the factory of smoothers: what each filter returns (the input itself, castor's
Gaussian), which thresholds they judge it by (given, stored with a model file, or measured on the input, logged
once), and which class and options each method name builds."""

from __future__ import annotations

import importlib
import logging

import numpy as np
import pytest
import torch

from echolatent.errors import InputError
from echolatent.labels import Label
from echolatent.latent import codec
from echolatent.latent.codec import model_metadata
from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import ValidityThresholds, check_validity
from echolatent.models.shape import ShapeModel, ShapeModelConfig, save_model
from echolatent.temporal import baselines, strategy
from echolatent.temporal.baselines import FilterSmoother
from echolatent.temporal.gaussian import gaussian_smooth
from echolatent.temporal.smooth import Smoother

from .sequences import ring_sequence as _heart
from .sequences import tiny_shape_model


@pytest.fixture(scope="module")
def tiny() -> ShapeModel:
    return tiny_shape_model()


def test_none_returns_a_uint8_copy_and_measures_it():
    masks = _heart(6).astype(np.int16)
    thresholds = TemporalThresholds.from_reference([masks])
    limits = ValidityThresholds()
    result = FilterSmoother("none", thresholds=thresholds, validity_thresholds=limits)(masks, (0.5, 0.5))
    assert result.masks.dtype == np.uint8 and result.masks is not masks
    np.testing.assert_array_equal(result.masks, masks)
    report = result.report
    assert report.method == "none" and report.rounds == 0 and report.decoded is None and report.seconds > 0
    assert report.validity.thresholds is limits
    np.testing.assert_array_equal(report.validity.valid, check_validity(masks, limits).valid)
    assert set(report.temporal.d) == set(thresholds.bounds)
    masks[0, 0, 0] = Label.LA
    assert result.masks[0, 0, 0] == 0  # a copy: changing the input later changes nothing


def test_unchecked_frames_reach_the_report():
    masks = _heart(6)
    thresholds = TemporalThresholds.from_reference([masks])
    thresholds.tau = dict.fromkeys(thresholds.tau, 1e-6)
    free = np.array([False, True, True, True, True, False])
    report = FilterSmoother("none", thresholds=thresholds)(masks, None, unchecked=free).report
    np.testing.assert_array_equal(report.temporal.unchecked, free)
    assert report.temporal.sequence_ok  # every interior frame is free
    assert not FilterSmoother("none", thresholds=thresholds)(masks).report.temporal.sequence_ok


def test_none_never_hands_back_the_input_itself():
    masks = _heart(5)  # uint8 already: a copy all the same
    out = FilterSmoother("none", thresholds=TemporalThresholds())(masks).masks
    assert out is not masks and not np.shares_memory(out, masks)
    np.testing.assert_array_equal(out, masks)
    assert baselines.FILTERS["none"](masks) is not masks


def test_output_measured_with_its_spacing():
    """Thresholds in mm: LV areas of 0.5 x 0.5 mm pixels, a quarter of the pixel counts, bounds (0, 100) mm^2."""
    masks = _heart(6)
    thresholds = TemporalThresholds({"lv_area": (0.0, 100.0)}, {"lv_area": 1.0}, None, (1.0, 1.0))
    result = FilterSmoother("none", thresholds=thresholds)(masks, (0.5, 0.5))
    area = 0.25 * (masks == Label.LV).sum(axis=(1, 2)) / 100.0
    np.testing.assert_allclose(result.report.temporal.d["lv_area"][1:-1], area[1:-1] - (area[:-2] + area[2:]) / 2,
                               atol=1e-12)
    assert 0 < result.report.seconds < 60  # the call's own duration


def test_no_shipped_model_no_thresholds(tmp_path, monkeypatch):
    """Without a model file given, a missing shipped model is not an error: bounds are then measured on each input."""
    monkeypatch.setattr(codec, "DEFAULT_MODEL", tmp_path / "gone.pt")
    assert FilterSmoother("gaussian").thresholds is None


def test_gaussian_is_castors_filter():
    masks = _heart(20)
    masks[10, 8:11, 10:14] = Label.MYO  # a one-frame flicker
    result = FilterSmoother("gaussian", thresholds=TemporalThresholds.from_reference([_heart(20)]))(masks)
    np.testing.assert_array_equal(result.masks, gaussian_smooth(masks))
    assert result.report.method == "gaussian"
    assert baselines.FILTERS["gaussian"] is gaussian_smooth and set(baselines.FILTERS) == {"gaussian", "none"}


def test_unknown_filter():
    with pytest.raises(ValueError, match=r"unknown filter method 'median'; expected one of \('gaussian', 'none'\)"):
        FilterSmoother("median")


def test_thresholds_stored_with_the_model_file(tmp_path):
    shipped = FilterSmoother("none")
    stored = model_metadata(None)["temporal_thresholds"]
    assert shipped.thresholds.bounds == {k: tuple(v) for k, v in stored["bounds"].items()}
    assert shipped.thresholds_for(_heart(4)) is shipped.thresholds
    torch.manual_seed(0)
    bare = save_model(ShapeModel(ShapeModelConfig(input_size=16, channels=(4,), bottleneck_channels=2,
                                                  latent_dim=8)), tmp_path / "bare.pt")
    assert FilterSmoother("none", bare).thresholds is None  # nothing stored
    with pytest.raises(InputError, match="model file not found"):
        FilterSmoother("none", tmp_path / "missing.pt")
    given = TemporalThresholds({"lv_area": (1.0, 2.0)})
    assert FilterSmoother("none", tmp_path / "missing.pt", thresholds=given).thresholds is given  # not read


def test_thresholds_measured_on_each_input_logged_once(tiny, caplog):
    smoother = FilterSmoother("none", tiny)  # a loaded model: no file to read thresholds from
    assert smoother.thresholds is None and smoother.grid is None
    masks = _heart(6)
    with caplog.at_level(logging.WARNING, logger="echolatent.temporal.baselines"):
        first = smoother.thresholds_for(masks)
        second = smoother.thresholds_for(masks[::-1])
    assert caplog.messages == ["no temporal thresholds given or stored with the model: bounds measured on each input"]
    lv = (masks == Label.LV).sum(axis=(1, 2))
    assert first.bounds["lv_area"] == (lv.min(), lv.max()) and first.grid == (24, 24)
    assert first.note == second.note == "bounds measured on the input sequence itself"
    result = smoother(masks)
    assert result.report.temporal is not None and set(result.report.temporal.d) == set(first.bounds)
    flat = np.repeat(masks[:1], 4, axis=0)  # no attribute changes: nothing to normalise by, nothing logged
    quiet = FilterSmoother("none", tiny)
    with caplog.at_level(logging.WARNING, logger="echolatent.temporal.baselines"):
        caplog.clear()
        assert quiet.thresholds_for(flat) is None
        assert quiet(flat).report.temporal is None
    assert caplog.messages == []


def test_bad_input_named():
    with pytest.raises(InputError, match="at least 3"):
        FilterSmoother("none", thresholds=TemporalThresholds())(_heart(2))


@pytest.mark.parametrize(("method", "kind"), [("gaussian", FilterSmoother), ("none", FilterSmoother)])
def test_factory_builds_the_baselines(method, kind):
    given, limits = TemporalThresholds({"lv_area": (1.0, 2.0)}), ValidityThresholds()
    smoother = strategy.make_smoother(method, None, thresholds=given, validity_thresholds=limits, target=0.3)
    assert type(smoother) is kind and smoother.method == method
    assert smoother.thresholds is given and smoother.validity_thresholds is limits
    assert isinstance(smoother, strategy.SequenceSmoother)


@pytest.mark.parametrize("method", ["gaussian", "none"])
def test_factory_hands_the_model_file_to_the_baselines(tmp_path, method):
    stored = TemporalThresholds({"lv_area": (3.0, 9.0)}, {"lv_area": 0.05}, (16, 16), None, "mine")
    torch.manual_seed(0)
    path = save_model(ShapeModel(ShapeModelConfig(input_size=16, channels=(4,), bottleneck_channels=2, latent_dim=8)),
                      tmp_path / "with.pt", {"temporal_thresholds": stored.to_dict()})
    smoother = strategy.make_smoother(method, path)
    assert smoother.thresholds.bounds == {"lv_area": (3.0, 9.0)} and smoother.thresholds.note == "mine"
    with pytest.raises(InputError, match="model file not found"):
        strategy.make_smoother(method, tmp_path / "missing.pt")


@pytest.mark.parametrize("method", ["exact", "snake"])
def test_factory_builds_the_latent_methods(tiny, method):
    given, limits = TemporalThresholds({"lv_area": (1.0, 2.0)}), ValidityThresholds()
    smoother = strategy.make_smoother(method, tiny, thresholds=given, validity_thresholds=limits, target=0.7)
    assert type(smoother) is Smoother and smoother.method == method and smoother.model is tiny
    assert smoother.thresholds is given and smoother.validity_thresholds is limits and smoother.target == 0.7
    assert isinstance(smoother, strategy.SequenceSmoother)


def test_factories_as_built_on_import(tiny, tmp_path):
    """FACTORIES are built when the module is imported: build them again here and check what each one makes."""
    fresh = importlib.reload(strategy)
    given, limits = TemporalThresholds({"lv_area": (1.0, 2.0)}), ValidityThresholds()
    for method in ("exact", "snake"):
        smoother = fresh.FACTORIES[method](tiny, thresholds=given, validity_thresholds=limits, target=0.7)
        assert type(smoother) is Smoother and smoother.method == method and smoother.model is tiny
        assert smoother.thresholds is given and smoother.validity_thresholds is limits and smoother.target == 0.7
    for method in ("gaussian", "none"):
        smoother = fresh.FACTORIES[method](None, thresholds=given, validity_thresholds=limits, target=0.7)
        assert type(smoother) is FilterSmoother and smoother.method == method
        assert smoother.thresholds is given and smoother.validity_thresholds is limits
        with pytest.raises(InputError, match="model file not found"):
            fresh.FACTORIES[method](tmp_path / "missing.pt")


def test_factory_defaults_and_names(tiny):
    assert strategy.METHODS == ("exact", "snake", "gaussian", "none")
    smoother = strategy.make_smoother(model=tiny)
    assert type(smoother) is Smoother and smoother.method == "exact"
    assert strategy.make_smoother("none").thresholds is not None  # the shipped model's stored thresholds
    with pytest.raises(ValueError, match=r"unknown smoothing method 'median'; expected one of \('exact', 'snake', "
                                         r"'gaussian', 'none'\)"):
        strategy.make_smoother("median")
    with pytest.raises(TypeError):
        strategy.make_smoother("exact", tiny, colour="red")  # latent methods refuse unknown options
