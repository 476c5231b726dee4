"""The 3D heart: volume curve, exact volumes, wall thickening, and its slices."""

from __future__ import annotations

import numpy as np
import pytest

from echolatent.labels import Label, View
from echolatent.synth.heart import (
    SHORTENING_BASE,
    SHORTENING_PER_EF,
    SHORTENING_SPREAD,
    cavity_volume,
    filling_curve,
    full_cycle_phases,
    half_cycle_phases,
    heart_state,
    profile,
    profile_integral,
    sample_heart,
)
from echolatent.synth.slicing import plane_shapes, render_masks, sample_placements

SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_volume_curve_shape_and_ef(seed):
    heart = sample_heart(np.random.default_rng(seed))
    state = heart_state(heart, full_cycle_phases(heart, 12))
    half = heart_state(heart, half_cycle_phases(heart, 6))
    es = np.argmin(state.volume)
    assert np.argmax(half.volume) == 0 and np.argmin(half.volume) == 5
    assert np.all(np.diff(half.volume) < 0), "ejection must be monotone from ED to ES"
    assert state.volume[0] == pytest.approx(state.volume.max()) and state.volume[-1] == pytest.approx(state.volume[0])
    assert state.phase[es] == pytest.approx(heart.systole, abs=heart.systole / 11)
    ef = 100 * (half.volume[0] - half.volume[-1]) / half.volume[0]
    assert 25 <= ef <= 75
    assert ef == pytest.approx(100 * heart.ef)


def test_filling_phases():
    """Fast ejection, early filling faster than diastasis, atrial kick at the end."""
    heart = sample_heart(np.random.default_rng(3))
    phase = np.linspace(0, 1, 2001)
    v = filling_curve(heart, phase)
    rate = np.gradient(v, phase)
    sys = heart.systole
    assert rate[phase < sys / 2].mean() < rate[(phase > sys / 2) & (phase < sys)].mean() < 0  # ejection slows
    early = rate[(phase > sys + 0.07) & (phase < sys + 0.2)].mean()
    diastasis = rate[(phase > sys + 0.25) & (phase < 0.8)].mean()
    kick = rate[phase > 0.86].mean()
    assert early > 3 * diastasis and kick > 3 * diastasis
    assert v[0] == pytest.approx(1) and v[-1] == pytest.approx(1) and v[np.argmin(np.abs(phase - sys))] < 1e-6


def test_exact_volume_matches_voxel_integration():
    heart = sample_heart(np.random.default_rng(5))
    u = (np.arange(200000) + 0.5) / 200000
    assert profile_integral(heart.apex_u, heart.base_ratio) == pytest.approx(
        profile(u, heart.apex_u, heart.base_ratio).mean(), rel=1e-6
    )
    state = heart_state(heart, np.array([0.0, heart.systole]))
    # fine voxel integration of the same shape: elliptic sections at 0.25 mm
    step = 0.25
    for t in range(2):
        L, R = state.length[t], state.radius[t]
        s = np.arange(step / 2, L, step)
        grid = np.arange(-40, 40, step) + step / 2
        x, y = np.meshgrid(grid, grid)
        area = [
            np.count_nonzero((x / (R * heart.ex)) ** 2 + (y / (R * heart.ey)) ** 2 <= f) * step**2
            for f in profile(s / L, heart.apex_u, heart.base_ratio)
        ]
        assert np.sum(area) * step / 1000 == pytest.approx(state.volume[t], rel=0.01)
        assert cavity_volume(heart, L, R) == pytest.approx(state.volume[t])


def test_wall_thickens_and_long_axis_shortens_la_anti_phase():
    heart = sample_heart(np.random.default_rng(1))
    state = heart_state(heart, half_cycle_phases(heart, 6))
    assert np.all(np.diff(state.wall_e1) > 0) and np.all(np.diff(state.length) < 0)
    assert np.all(np.diff(state.la_length) > 0), "the LA fills while the LV empties"


def test_bad_phases():
    heart = sample_heart(np.random.default_rng(0))
    with pytest.raises(ValueError, match="phase"):
        heart_state(heart, np.array([0.2, 1.5]))
    with pytest.raises(ValueError, match="2 frames"):
        half_cycle_phases(heart, 1)


@pytest.mark.parametrize("seed", range(4))
def test_masks_every_label_apex_on_top(seed):
    rng = np.random.default_rng(seed)
    heart = sample_heart(rng)
    placements = sample_placements(heart, rng)
    state = heart_state(heart, half_cycle_phases(heart, 6))
    for view in (View.A2C, View.A4C):
        masks = render_masks(heart, state, placements[view], 64)
        assert masks.shape == (6, 64, 64) and masks.dtype == np.uint8
        for frame in masks:
            rows = {label: np.nonzero(frame == label)[0] for label in Label.foreground()}
            assert all(len(r) > 0 for r in rows.values()), "every structure in every frame"
            assert rows[Label.MYO].min() <= rows[Label.LV].min()  # the wall caps the apex
            assert rows[Label.LV].mean() < rows[Label.LA].mean()  # LV above LA
            assert rows[Label.LA].max() < 63  # LA inside the image


def test_planes_cut_the_same_heart():
    """Both views share the length; the in-plane half-widths follow the elliptic section."""
    heart = sample_heart(np.random.default_rng(2))
    state = heart_state(heart, half_cycle_phases(heart, 3))
    a4c, a2c = plane_shapes(heart, state, 0.0), plane_shapes(heart, state, 90.0)
    np.testing.assert_allclose(a4c.length, a2c.length)
    np.testing.assert_allclose(a4c.cavity, state.radius * heart.ex)
    np.testing.assert_allclose(a2c.cavity, state.radius * heart.ey)


def test_long_axis_shortening_follows_ef_and_leaves_ed_alone():
    hearts = [sample_heart(np.random.default_rng(seed)) for seed in range(200)]
    ef = np.array([h.ef for h in hearts])
    shortening = np.array([h.shortening for h in hearts])
    centre = SHORTENING_BASE + SHORTENING_PER_EF * ef  # 8 % at EF 25 %, 16 % at EF 75 %
    assert np.all(np.abs(shortening - centre) <= SHORTENING_SPREAD + 1e-12)
    # EF ~ U(.25, .75): r = sd(0.16 EF) / sqrt(sd(0.16 EF)^2 + sd(spread)^2) = 0.0231 / sqrt(0.0231^2 + 0.0144^2) = 0.85
    assert np.corrcoef(ef, shortening)[0, 1] == pytest.approx(0.85, abs=0.05)
    for heart in hearts[:5]:  # ED is the drawn heart; ES is shorter by the coupled fraction
        state = heart_state(heart, np.array([0.0, heart.systole]))
        assert state.length[0] == pytest.approx(heart.length_ed)
        assert state.length[1] == pytest.approx(heart.length_ed * (1 - heart.shortening))


def test_mitral_valve_closed_in_systole_relaxation_and_at_each_ed():
    """The valve closes at ED (the end of the atrial kick) and opens only when the LV starts to fill again, after
    isovolumic relaxation: a multi-beat clip's every ED frame shows a closed valve, like a half sequence's first."""
    heart = sample_heart(np.random.default_rng(2))
    sys = heart.systole
    phase = np.array([0.0, sys / 2, sys, sys + 0.05, sys + 0.07, 0.6, 0.9, 0.97, 0.999, 1.0])
    state = heart_state(heart, phase)
    assert state.valve_closed.tolist() == [True, True, True, True, False, False, False, True, True, True]
    # the valve stays closed while the volume does not change (isovolumic relaxation) and opens as it rises
    assert np.all(np.diff(state.volume[2:4]) == pytest.approx(0.0, abs=1e-9)) and state.volume[4] > state.volume[3]
    assert heart_state(heart, half_cycle_phases(heart, 12)).valve_closed.all()
