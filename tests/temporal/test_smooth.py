"""The smoothing pipeline and the `smooth` command, with a tiny randomly initialised shape model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from echolatent.cleanup import clean_masks
from echolatent.errors import InputError
from echolatent.labels import Label
from echolatent.measure.validity import check_validity
from echolatent.models.shape import ShapeModel, ShapeModelConfig, save_model
from echolatent.temporal.residual import chunks, filtered_onehot
from echolatent.temporal.smooth import Smoother, check_sequence
from echolatent.temporal.strategy import make_smoother

from .sequences import ring_sequence


@pytest.fixture(scope="module")
def tiny_model() -> ShapeModel:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = ShapeModel(ShapeModelConfig(input_size=16, channels=(4,), bottleneck_channels=2, latent_dim=10)).eval()
    model.set_latent_range(torch.full((10,), -2.0), torch.full((10,), 2.0))
    return model




def test_cleanup_keeps_one_piece_without_holes():
    masks = ring_sequence(1)
    broken = masks.copy()
    broken[0, 9, 12] = Label.BG  # hole in the LV
    broken[0, 0, 0] = Label.LV  # island
    cleaned = clean_masks(broken)
    np.testing.assert_array_equal(cleaned, masks)
    report = check_validity(cleaned)
    for name in ("holes_lv", "holes_la", "holes_epi", "disconnected_lv", "disconnected_myo", "disconnected_la"):
        assert report.passed[name].all(), name


def test_none_returns_the_input_and_measures_it():
    masks = ring_sequence()
    result = make_smoother("none")(masks, (1.0, 1.0))
    np.testing.assert_array_equal(result.masks, masks)
    assert result.report.validity.valid.shape == (len(masks),)


@pytest.mark.parametrize("method", ["exact", "snake", "gaussian"])
def test_methods_keep_the_geometry(tiny_model, method):
    masks = ring_sequence()
    before = masks.copy()
    result = make_smoother(method, tiny_model, max_rounds=1)(masks, (1.0, 1.0))
    np.testing.assert_array_equal(masks, before)  # input untouched
    assert result.masks.shape == masks.shape and result.masks.dtype == np.uint8
    assert result.masks.max() < 4
    assert result.report.as_dict()["frames"] == len(masks)


def test_exact_reports_tightening_or_passes(tiny_model):
    result = Smoother(tiny_model, "exact", max_rounds=2)(ring_sequence(), None)
    report = result.report
    assert 1 <= report.rounds <= 3
    passed = report.temporal_ok and report.valid_frames == len(result.masks)
    assert passed == (report.residual() == [])
    # every round that did not pass tightened the limits, except the last (max_rounds = 2: 3 rounds at most)
    assert report.rounds == len(report.tightened) + 1
    assert passed or report.rounds == 3


@pytest.mark.parametrize(
    ("masks", "message"),
    [
        (np.zeros((2, 8, 8), np.uint8), "at least 3"),
        (np.zeros((8, 8), np.uint8), "shape"),
        (np.full((3, 8, 8), 5, np.uint8), "outside 0..3"),
        (np.zeros((3, 8, 8), np.float32), "integer"),
        (np.zeros((4, 16, 16), np.uint8), "empty masks"),
        (np.ones((4, 5, 16), np.uint8), "too small"),
    ],
)
def test_bad_sequences(masks, message):
    with pytest.raises(InputError, match=message):
        check_sequence(masks)


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown smoothing method"):
        make_smoother("median")


def test_smooth_command(tmp_path, tiny_model):
    from echolatent.cli.app import _register_commands, app
    from echolatent.io.volume import Geometry, read_image, write_like

    _register_commands()
    model_path = save_model(tiny_model, tmp_path / "tiny.pt")
    folder = tmp_path / "in" / "patient0001"
    folder.mkdir(parents=True)
    masks = ring_sequence()
    geometry = Geometry.default(masks.shape, (0.5, 0.7))
    write_like(masks, geometry, folder / "patient0001_4CH_half_sequence_pred.nii.gz")
    write_like(masks[:2], geometry.with_frames(2), folder / "patient0001_2CH_half_sequence_pred.nii.gz")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["smooth", str(tmp_path / "in"), "--out", str(out), "--vae", str(model_path), "--rounds", "1"]
    )
    assert result.exit_code == 0, result.output
    written, written_geometry = read_image(out / "patient0001" / "patient0001_4CH_half_sequence_post.nii.gz")
    assert written.shape == masks.shape
    np.testing.assert_allclose(written_geometry.spacing, (0.5, 0.7))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["smoothed"] == 1
    assert "at least 3" in summary["skipped"]["patient0001_2CH_half_sequence"]
    assert summary["before"]["frames"] == summary["after"]["frames"] == len(masks)
    assert (out / "metrics.csv").read_text().count("\n") > 1


def test_single_frame_file_gives_a_clear_error(tmp_path, tiny_model):
    from echolatent.cli.app import _register_commands, app
    from echolatent.io.volume import Geometry, write_like

    _register_commands()
    model_path = save_model(tiny_model, tmp_path / "tiny.pt")
    frame = ring_sequence(1)
    path = tmp_path / "patient0001_4CH_ED_pred.nii.gz"
    write_like(frame, Geometry.default(frame.shape), path)
    result = CliRunner().invoke(app, ["smooth", str(path), "--out", str(tmp_path / "out"), "--vae", str(model_path)])
    assert isinstance(result.exception, InputError)
    assert "at least 3" in str(result.exception)


def test_tightening_lowers_limits_below_the_current_deviation(tiny_model):
    from echolatent.temporal.limits import deviation
    from echolatent.temporal.smooth import SmoothReport

    smoother = Smoother(tiny_model, "exact")
    frames, dims = 10, tiny_model.config.latent_dim
    codes = np.random.default_rng(0).normal(0.5, 0.1, (frames, dims))
    limits = np.full((frames - 2, dims), 0.5)
    valid = np.ones(frames, dtype=bool)
    valid[5] = False
    report = SmoothReport("exact", validity=check_validity(ring_sequence(frames)))
    report.validity.valid[:] = valid
    assert smoother._tighten(limits, codes, report, round_index=1)
    current = np.abs(deviation(codes))
    changed = limits < 0.5
    assert changed[3:6].all() and not changed[:3].any() and not changed[6:].any()  # rows of frames 4..6
    np.testing.assert_allclose(limits[3:6], np.maximum(0.25 * current[3:6], 1e-6))
    assert report.tightened == [{"round": 1, "frames": [5], "dims": list(range(dims))}]


def loose_checks(masks: np.ndarray, grid: int) -> dict:
    """Thresholds under which ``masks`` passes both checks: bounds of its own attributes, wide taus, and a MYO-LA
    frontier limit the toy heart meets."""
    from echolatent.measure.temporal import TemporalThresholds
    from echolatent.measure.validity import ValidityThresholds
    from echolatent.resample import resize_labels

    temporal = TemporalThresholds.from_reference([resize_labels(masks, (grid, grid))])
    temporal.tau = dict.fromkeys(temporal.bounds, 10.0)
    return {"thresholds": temporal, "validity_thresholds": ValidityThresholds(frontier_myo_la=1.0)}


def test_residual_returns_a_consistent_input_unchanged(tiny_model):
    from echolatent.temporal.exact import ExactSettings

    masks = ring_sequence()
    checks = loose_checks(masks, tiny_model.config.input_size)
    unchanged = ExactSettings(free_weight=0.0, attr_weight=0.0)  # nothing to smooth: z' = z
    kept = Smoother(tiny_model, "exact", **checks)(masks, (1.0, 1.0))  # far inside the (wide) limits: kept as is
    np.testing.assert_array_equal(kept.masks, masks)
    assert kept.report.decoded == "unchanged"
    raw = {"settings": unchanged, "keep_below": 0.0, "input_sigmas": (0.0,)}  # no shortcut, no input filter
    result = Smoother(tiny_model, "exact", **raw, **checks)(masks, (1.0, 1.0))
    np.testing.assert_array_equal(result.masks, masks)
    assert result.report.decoded == "residual" and result.report.weights == [0.0] * len(masks)
    assert result.report.temporal_ok and result.report.valid_frames == len(masks)
    full = Smoother(tiny_model, "exact", settings=unchanged, keep_below=0.0, decode="full", **checks)(masks, (1.0, 1.0))
    assert full.report.decoded == "full"
    assert not np.array_equal(full.masks, masks)  # the random model's decode is not the input


@pytest.mark.parametrize("decode", ["residual", "full"])
def test_report_measures_the_returned_masks(tiny_model, decode):
    from echolatent.measure.sequence import temporal_check

    masks = ring_sequence(8)
    jittered = masks.copy()
    jittered[3] = np.roll(masks[3], 2, axis=1)  # one frame jumps sideways
    checks = loose_checks(masks, tiny_model.config.input_size)
    checks["thresholds"].tau = dict.fromkeys(checks["thresholds"].bounds, 0.05)
    result = Smoother(tiny_model, "exact", decode=decode, max_rounds=1, **checks)(jittered, (1.0, 1.0))
    report = result.report
    validity = check_validity(result.masks, checks["validity_thresholds"])
    np.testing.assert_array_equal(validity.valid, report.validity.valid)
    assert temporal_check(result.masks, (1.0, 1.0), checks["thresholds"]).sequence_ok == report.temporal_ok
    assert report.decoded in (("residual", "blend", "full") if decode == "residual" else ("full",))
    assert len(report.weights) == len(masks) and all(0 <= w <= 1 for w in report.weights)
    passed = report.temporal_ok and report.valid_frames == len(masks)
    assert passed or report.rounds == 2  # nothing passed: every round tried, the nearest candidate returned
    assert passed == (report.residual() == [])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"decode": "half"}, "decode mode"), ({"blends": (0.4,)}, "blend"), ({"blends": (0.8, 0.6)}, "increase")],
)
def test_bad_decode_arguments(tiny_model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Smoother(tiny_model, "exact", **kwargs)


def test_smooth_command_decode_option(tmp_path, tiny_model):
    from echolatent.cli.app import _register_commands, app
    from echolatent.io.volume import Geometry, write_like

    _register_commands()
    model_path = save_model(tiny_model, tmp_path / "tiny.pt")
    masks = ring_sequence()
    path = tmp_path / "patient0001_4CH_half_sequence_pred.nii.gz"
    write_like(masks, Geometry.default(masks.shape), path)
    base = ["smooth", str(path), "--vae", str(model_path), "--rounds", "0"]
    result = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "full"), "--decode", "full"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["sequences"]["patient0001_4CH_half_sequence"]["decoded"] == "full"
    result = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "bad"), "--decode", "half"])
    assert result.exit_code == 2 and "decode" in result.output


def test_blend_goes_from_the_residual_to_the_full_decode():
    from echolatent.resample import one_hot
    from echolatent.temporal.residual import blend

    masks = ring_sequence(4)
    full = np.roll(masks, 3, axis=2)
    onehot, probs = one_hot(masks).numpy(), one_hot(full).numpy() * 0.3 + 0.175
    out = blend(masks, onehot, probs, full, np.array([0.0, 0.6, 0.9, 1.0]))
    np.testing.assert_array_equal(out[0], masks[0])  # weight 0: the residual output
    np.testing.assert_array_equal(out[3], full[3])  # weight 1: the full decode
    np.testing.assert_array_equal(out[1], masks[1])  # decoder margin 0.3 < (1 - 0.6) / 0.6: input kept
    np.testing.assert_array_equal(out[2], full[2])  # margin 0.3 > (1 - 0.9) / 0.9: decoder's labels


@pytest.mark.parametrize("sigmas", [(), (1.2, 0.0), (-1.0,), (0.0, 0.0)])
def test_bad_input_sigmas(tiny_model, sigmas):
    with pytest.raises(ValueError, match="input sigmas"):
        Smoother(tiny_model, "exact", input_sigmas=sigmas)


def test_filtered_onehot_of_a_window_equals_the_whole_sequence_filtered():
    from scipy import ndimage

    from echolatent.resample import one_hot

    masks = ring_sequence(40)
    whole = ndimage.gaussian_filter1d(one_hot(masks).numpy(), 1.5, axis=0, mode="nearest", truncate=3.0)
    for frames in (np.arange(0, 7), np.arange(12, 30), np.arange(33, 40), np.array([5, 9, 21])):
        np.testing.assert_allclose(filtered_onehot(masks, frames, 1.5), whole[frames], atol=1e-6)
    np.testing.assert_array_equal(filtered_onehot(masks, np.arange(3), 0.0), one_hot(masks[:3]).numpy())


def test_output_does_not_depend_on_the_decoding_chunk(tiny_model, monkeypatch):
    import echolatent.temporal.residual as residual

    masks = ring_sequence(9)
    reference = Smoother(tiny_model, "exact", max_rounds=1)(masks, (1.0, 1.0))
    monkeypatch.setattr(residual, "CHUNK", 2)
    chunked = Smoother(tiny_model, "exact", max_rounds=1)(masks, (1.0, 1.0))
    np.testing.assert_array_equal(chunked.masks, reference.masks)
    assert chunked.report.as_dict()["decoded"] == reference.report.as_dict()["decoded"]


def test_filtered_residual_averages_out_one_frame_noise(tiny_model):
    """With the decoded correction zero (codes unchanged), the filtered residual removes a one-frame bump."""
    masks = ring_sequence(9)
    noisy = masks.copy()
    noisy[4, 7:12, 18:23] = Label.MYO  # a one-frame bump on the lateral wall
    bump = (noisy[4] == Label.MYO) & (masks[3:6] == Label.BG).all(0)
    smoother = Smoother(tiny_model, "exact", input_sigmas=(0.0, 1.2))
    codes = smoother._encode(noisy)
    raw, filtered = np.empty_like(noisy), np.empty_like(noisy)
    frames = np.arange(len(noisy))
    for out, level in ((raw, 0), (filtered, 1)):
        smoother._residual_frames(out, noisy, codes, codes, np.full(len(noisy), level), frames)
    np.testing.assert_array_equal(raw, clean_masks(noisy))
    assert bump.sum() >= 5 and (raw[4][bump] == Label.MYO).all()
    assert (filtered[4][bump] == Label.BG).all()
    assert (filtered[[0, 8]] == clean_masks(masks[[0, 8]])).mean() > 0.99


def test_smooth_command_input_sigmas_option(tmp_path, tiny_model):
    from echolatent.cli.app import _register_commands, app
    from echolatent.io.volume import Geometry, write_like

    _register_commands()
    model_path = save_model(tiny_model, tmp_path / "tiny.pt")
    path = tmp_path / "patient0001_4CH_half_sequence_pred.nii.gz"
    write_like(ring_sequence(), Geometry.default((6, 24, 24)), path)
    base = ["smooth", str(path), "--vae", str(model_path), "--rounds", "0"]
    result = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "a"), "--input-sigmas", "0,0.8"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    entry = summary["sequences"]["patient0001_4CH_half_sequence"]
    if entry["decoded"] == "full":
        assert entry["input_sigma"] is None
    else:  # a residual or blended output names the filter width it used, one of those asked for
        assert entry["input_sigma"] in (0.0, 0.8)
    for bad in ("1,0", "x"):
        result = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "b"), "--input-sigmas", bad])
        assert result.exit_code == 2, result.output
        assert "sigmas" in result.output.lower()


def test_fill_holes_matches_scipy():
    from scipy import ndimage

    from echolatent.cleanup import fill_holes

    rng = np.random.default_rng(1)
    for _ in range(50):
        region = rng.random((30, 41)) < rng.uniform(0.2, 0.9)
        np.testing.assert_array_equal(fill_holes(region), ndimage.binary_fill_holes(region))
    ring = ring_sequence(1)[0] == Label.MYO
    assert fill_holes(ring).sum() > ring.sum()  # the LV inside the ring is a hole of the MYO alone


def test_decoding_chunks_shrink_for_large_frames():
    small = [len(block) for block in chunks(np.arange(70), (64, 64))]
    large = [len(block) for block in chunks(np.arange(5), (2048, 2048))]
    assert small == [32, 32, 6] and large == [1] * 5
