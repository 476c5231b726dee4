"""Sector (fan) detection: the changing region's cone, overlays outside it left out, odd fans followed."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import resize

from echolatent.io.sector import apply_sector, cut_masks, detect_sector, outline_sector, screen_content
from echolatent.synth.overlays import draw_overlays
from echolatent.synth.patient import synthesize_patient


def fan(h: int = 100, w: int = 120, frames: int = 6, half_angle: float = 35.0, inner: float = 0.0,
        apex: tuple[float, float] = (-0.5, 59.5), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(frames (T, H, W) uint8 speckle inside a fan, 0 outside; the fan (H, W))``."""
    yy, xx = np.mgrid[:h, :w].astype(float)
    r = np.hypot(yy - apex[0], xx - apex[1])
    theta = np.degrees(np.arctan2(xx - apex[1], yy - apex[0]))
    sector = (np.abs(theta) <= half_angle) & (r <= h - 2) & (r >= inner)
    noise = np.random.default_rng(seed).integers(1, 256, (frames, h, w))
    return np.where(sector, noise, 0).astype(np.uint8), sector


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("index", [1, 2])
def test_synthetic_views_with_overlays(index: int) -> None:
    patient = synthesize_patient(index, frames=6, size=96, seed=0)
    for view in patient.views.values():
        truth = (view.images > 0).all(axis=0)
        shown = draw_overlays(view.images, truth)
        drawn = (shown != view.images).any(axis=0)
        assert drawn.sum() > 200 and not (drawn & truth).any()
        sector = detect_sector(shown)
        assert sector.method == "cone" and iou(sector.mask, truth) > 0.985
        assert not (sector.mask & drawn).any() and not (sector.mask & ~truth).any()
        assert sector.apex == pytest.approx((-0.5, 47.5), abs=1.0)


def test_single_frame_uses_the_non_zero_pixels() -> None:
    frames, truth = fan(frames=1)
    sector = detect_sector(frames)
    assert sector.method == "cone" and iou(sector.mask, truth) > 0.98


def test_fan_stretched_by_a_resampling_is_kept_whole() -> None:
    frames, truth = fan(h=120, w=120)
    stretched = np.stack([resize(f, (90, 150), order=0, preserve_range=True) for f in frames]).astype(np.uint8)
    truth = resize(truth.astype(float), (90, 150), order=0) > 0.5
    sector = detect_sector(stretched)
    assert (truth & ~sector.mask).sum() < 0.005 * truth.sum()
    assert iou(sector.mask, truth) > 0.97


def test_fan_starting_below_the_apex_has_an_inner_radius() -> None:
    frames, truth = fan(inner=25.0)
    sector = detect_sector(frames)
    assert sector.radius[0] == pytest.approx(25.0, abs=1.5) and iou(sector.mask, truth) > 0.97


def test_linear_probe_falls_back_to_the_convex_hull() -> None:
    frames = np.zeros((5, 60, 80), np.uint8)
    frames[:, 10:50, 20:60] = np.random.default_rng(1).integers(1, 256, (5, 40, 40))
    sector = detect_sector(frames)
    assert sector.method == "convex hull"
    assert sector.mask[10:50, 20:60].all() and sector.mask.sum() == 40 * 40


def test_still_frames_keep_the_whole_image() -> None:
    frames = np.full((4, 30, 40), 80, np.uint8)
    sector = detect_sector(frames)
    assert sector.method == "whole image" and sector.mask.all()


def test_apply_sector_zeroes_outside_and_checks_shapes() -> None:
    frames, truth = fan(frames=2)
    cut = apply_sector(np.full_like(frames, 7), truth)
    assert (cut[:, truth] == 7).all() and (cut[:, ~truth] == 0).all()
    with pytest.raises(ValueError, match="does not match"):
        apply_sector(frames, truth[:-1])
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        detect_sector(frames[0])


def test_masks_are_cut_when_the_screen_shows_something_outside_the_fan() -> None:
    frames, truth = fan(frames=3)
    shown = draw_overlays(frames, truth)
    assert not screen_content(frames, truth) and screen_content(shown, truth)
    assert (cut_masks("auto", frames, truth), cut_masks("auto", shown, truth)) == (False, True)
    assert cut_masks("cut", frames, truth) and not cut_masks("off", shown, truth)
    with pytest.raises(ValueError, match="sector mode"):
        cut_masks("on", frames, truth)


def test_outline_marks_the_border_only() -> None:
    frames, truth = fan(frames=2)
    outlined = outline_sector(np.zeros_like(frames), truth)
    border = outlined[0] == 255
    assert border.any() and not (border & ~truth).any() and border.sum() < 0.1 * truth.sum()
