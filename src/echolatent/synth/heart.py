"""A synthetic 3D left heart with a known cardiac cycle.

The LV cavity is a truncated prolate shape along the long axis: at a distance ``s`` (mm) from the apex,
``0 <= s <= L``, its cross-section is an ellipse with semi-axes ``R * ex * r(u)`` and ``R * ey * r(u)``
(``u = s / L``) where ``r(u)^2 = f(u)`` is a piecewise half-ellipse profile: it grows from 0 at the apex to 1
at ``u = uc`` and narrows to ``rb`` at the mitral plane (``u = 1``). Its volume is therefore exactly
``pi * R^2 * ex * ey * L * I`` with ``I = integral of f over [0, 1]`` (closed form in :func:`profile_integral`).
The epicardium is the same profile over ``[-wa, L]`` with semi-axes ``R ex + w1`` and ``R ey + w2``; the wall
thickens in systole so that the myocardial volume stays constant. The cavity shortens along the long axis by a
fraction that rises with the EF (:func:`long_axis_shortening`), as mitral annular excursion does in real hearts.
The LA is a spheroid below the mitral plane whose size varies in anti-phase with the LV.

Axes: ``e1`` lies in the 4CH plane, ``e2`` is perpendicular to it; a view plane at angle ``phi`` (radians)
around the long axis contains the direction ``cos(phi) e1 + sin(phi) e2``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Heart:
    """Parameters of one synthetic patient (lengths in mm, angles in degrees, fractions in 0..1)."""

    length_ed: float  # LV cavity length apex -> mitral plane at ED
    radius_ed: float  # LV cavity largest radius at ED (before ellipticity)
    ex: float  # cross-section ellipticity along e1 (4CH direction)
    ey: float  # along e2
    apex_u: float  # uc: normalised height of the widest section
    base_ratio: float  # rb: mitral annulus radius / largest radius
    wall_e1: float  # wall thickness along e1 at ED
    wall_e2: float  # along e2
    wall_apex: float  # apical wall thickness at ED
    ef: float  # ejection fraction, fraction
    shortening: float  # long-axis shortening at ES, fraction of length_ed (follows ef: :func:`long_axis_shortening`)
    la_radius: float  # LA semi-axis across the long axis at ED
    la_length: float  # LA semi-axis along the long axis at ED
    la_offset: tuple[float, float]  # LA axis offset from the LV axis along (e1, e2)
    la_growth: float  # LA volume gain at ES, fraction
    heart_rate: float  # beats per minute
    systole: float  # ejection duration, fraction of the cycle
    early_filling: float  # fraction of the stroke volume refilled by the E wave
    plane_4ch: float  # angle of the 4CH plane around the long axis, degrees
    plane_2ch: float  # angle of the 2CH plane, degrees

    def to_dict(self) -> dict:
        """JSON-friendly parameters."""
        return {k: (list(v) if isinstance(v, tuple) else float(v)) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class HeartState:
    """Per-frame geometry of a heart, arrays of shape ``(T,)`` (mm, except ``phase`` and ``filling``)."""

    phase: np.ndarray  # cycle phase in [0, 1]; 0 = ED
    filling: np.ndarray  # normalised LV volume, 1 at ED, 0 at ES
    volume: np.ndarray  # LV cavity volume, mL
    length: np.ndarray  # L
    radius: np.ndarray  # R
    wall_e1: np.ndarray
    wall_e2: np.ndarray
    wall_apex: np.ndarray
    la_radius: np.ndarray
    la_length: np.ndarray
    valve_closed: np.ndarray  # bool, mitral valve closed (systole, isovolumic relaxation, closure before ED)

    @property
    def frames(self) -> int:
        """Number of frames T."""
        return len(self.phase)


#: Long-axis shortening at ES (fraction of the ED length) = SHORTENING_BASE + SHORTENING_PER_EF * EF (fraction) +
#: a uniform spread of +- SHORTENING_SPREAD: 8 % at EF 25 %, 16 % at EF 75 % (mitral annular excursion falls with
#: EF in real hearts; drawn apart from EF, it left GLS following EF only partly).
SHORTENING_BASE, SHORTENING_PER_EF, SHORTENING_SPREAD = 0.04, 0.16, 0.025


def long_axis_shortening(ef: float, draw: float) -> float:
    """Long-axis shortening at ES (fraction) of a heart of ejection fraction ``ef`` (fraction), ``draw`` in [-1, 1]
    placing it within the spread."""
    return SHORTENING_BASE + SHORTENING_PER_EF * ef + SHORTENING_SPREAD * draw


def sample_heart(rng: np.random.Generator) -> Heart:
    """Draw one patient's heart: size, shape, EF (25..75 %), long-axis shortening (rising with EF), wall, LA and
    timing parameters."""
    radius = rng.uniform(18.0, 25.0)
    base_ratio = rng.uniform(0.62, 0.74)
    wall_e1 = rng.uniform(8.0, 10.5)
    ex = rng.uniform(0.95, 1.08)
    la_radius = max(rng.uniform(14.5, 18.5), 1.05 * base_ratio * radius * ex)
    heart = Heart(
        length_ed=rng.uniform(76.0, 95.0),
        radius_ed=radius,
        ex=ex,
        ey=rng.uniform(0.92, 1.05),
        apex_u=rng.uniform(0.55, 0.68),
        base_ratio=base_ratio,
        wall_e1=wall_e1,
        wall_e2=wall_e1 * rng.uniform(1.3, 1.6),
        wall_apex=rng.uniform(9.0, 12.0),
        ef=rng.uniform(0.25, 0.75),
        shortening=rng.uniform(-1.0, 1.0),  # the spread's draw, in place: every other parameter keeps its draw
        la_radius=la_radius,
        la_length=rng.uniform(22.0, 29.0),
        la_offset=(rng.uniform(-0.02, 0.12) * la_radius, rng.uniform(0.3, 0.5) * la_radius),
        la_growth=rng.uniform(0.2, 0.45),
        heart_rate=rng.uniform(55.0, 95.0),
        systole=rng.uniform(0.33, 0.4),
        early_filling=rng.uniform(0.55, 0.8),
        plane_4ch=rng.uniform(-5.0, 5.0),
        plane_2ch=rng.uniform(60.0, 85.0),
    )
    return replace(heart, shortening=long_axis_shortening(heart.ef, heart.shortening))


def profile(u: np.ndarray, apex_u: float, base_ratio: float) -> np.ndarray:
    """Squared normalised radius ``f(u)`` of the cavity profile, ``u`` in [0, 1] (0 outside)."""
    u = np.asarray(u, dtype=np.float64)
    apical = 1.0 - ((apex_u - u) / apex_u) ** 2
    base_scale_sq = (1.0 - apex_u) ** 2 / (1.0 - base_ratio**2)
    basal = 1.0 - (u - apex_u) ** 2 / base_scale_sq
    f = np.where(u <= apex_u, apical, basal)
    return np.where((u >= 0) & (u <= 1), np.clip(f, 0.0, None), 0.0)


def profile_integral(apex_u: float, base_ratio: float) -> float:
    """Exact integral of :func:`profile` over [0, 1]."""
    return 2.0 * apex_u / 3.0 + (1.0 - apex_u) * (2.0 + base_ratio**2) / 3.0


def cavity_volume(heart: Heart, length: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Exact LV cavity volume in mL for lengths/radii in mm."""
    integral = profile_integral(heart.apex_u, heart.base_ratio)
    return np.pi * radius**2 * heart.ex * heart.ey * length * integral / 1000.0


def _epi_volume(heart: Heart, length, radius, scale) -> np.ndarray:
    integral = profile_integral(heart.apex_u, heart.base_ratio)
    semi1 = radius * heart.ex + heart.wall_e1 * scale
    semi2 = radius * heart.ey + heart.wall_e2 * scale
    return np.pi * semi1 * semi2 * (length + heart.wall_apex * scale) * integral / 1000.0


RELAXATION = 0.06  # isovolumic relaxation after ES, fraction of the cycle (volume constant, mitral valve closed)
MITRAL_CLOSING = 0.04  # the mitral valve closes over the end of the atrial kick, fraction of the cycle before ED


def mitral_closed(heart: Heart, phase: np.ndarray) -> np.ndarray:
    """``(T,)`` bool: the mitral valve is closed from its closure just before ED (phase ``1 - MITRAL_CLOSING``) through
    systole and isovolumic relaxation (to ``systole + RELAXATION``); open while the LV fills."""
    phase = np.asarray(phase, dtype=np.float64)
    return (phase <= heart.systole + RELAXATION) | (phase >= 1.0 - MITRAL_CLOSING)


def _smooth_ramp(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def filling_curve(heart: Heart, phase: np.ndarray) -> np.ndarray:
    """Normalised LV volume over the cycle (1 at ED, 0 at ES), ``phase`` in [0, 1] with ED at 0 and 1.

    Fast ejection (skewed early), isovolumic relaxation, rapid early filling (E wave), slow diastasis and
    the atrial kick (A wave) back to 1.
    """
    phase = np.asarray(phase, dtype=np.float64)
    sys = heart.systole
    ejection = 1.0 - _smooth_ramp((phase / sys) ** 0.75)
    relax_end = sys + RELAXATION
    early_end = relax_end + 0.16
    kick_start = 0.84
    diastasis = heart.early_filling + 0.08 * (1.0 - heart.early_filling)
    early = heart.early_filling * np.sqrt(_smooth_ramp((phase - relax_end) / (early_end - relax_end)))
    slow = (diastasis - heart.early_filling) * _smooth_ramp((phase - early_end) / (kick_start - early_end))
    kick = (1.0 - diastasis) * _smooth_ramp((phase - kick_start) / (1.0 - kick_start))
    return np.where(phase <= sys, ejection, early + slow + kick)


def _wall_scale(heart: Heart, length: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Wall scale keeping the myocardial volume of ED (Newton on a monotone cubic)."""
    myo = _epi_volume(heart, heart.length_ed, heart.radius_ed, 1.0) - cavity_volume(
        heart, heart.length_ed, heart.radius_ed
    )
    target = cavity_volume(heart, length, radius) + myo
    scale = np.ones_like(length)
    for _ in range(30):
        value = _epi_volume(heart, length, radius, scale) - target
        step = 1e-4
        slope = (_epi_volume(heart, length, radius, scale + step) - _epi_volume(heart, length, radius, scale)) / step
        scale = scale - value / slope
    return scale


def heart_state(heart: Heart, phase: np.ndarray) -> HeartState:
    """Geometry of ``heart`` at cycle phases ``phase`` ``(T,)`` in [0, 1] (0 and 1 are ED, ``systole`` is ES)."""
    phase = np.asarray(phase, dtype=np.float64)
    if phase.ndim != 1 or len(phase) == 0:
        raise ValueError(f"phase must be a non-empty 1-D array, got shape {phase.shape}")
    if np.any((phase < 0) | (phase > 1)):
        raise ValueError("phase values must lie in [0, 1]")
    filling = filling_curve(heart, phase)
    edv = float(cavity_volume(heart, np.float64(heart.length_ed), np.float64(heart.radius_ed)))
    volume = edv * (1.0 - heart.ef * (1.0 - filling))
    length = heart.length_ed * (1.0 - heart.shortening * (1.0 - filling))
    integral = profile_integral(heart.apex_u, heart.base_ratio)
    radius = np.sqrt(volume * 1000.0 / (np.pi * heart.ex * heart.ey * length * integral))
    scale = _wall_scale(heart, length, radius)
    # The atrium fills smoothly while the ventricle ejects (no early kink), then empties with LV filling.
    la_drive = np.where(phase <= heart.systole, _smooth_ramp(phase / heart.systole), 1.0 - filling)
    la_scale = (1.0 + heart.la_growth * la_drive) ** (1.0 / 3.0)
    return HeartState(
        phase=phase,
        filling=filling,
        volume=volume,
        length=length,
        radius=radius,
        wall_e1=heart.wall_e1 * scale,
        wall_e2=heart.wall_e2 * scale,
        wall_apex=heart.wall_apex * scale,
        la_radius=heart.la_radius * la_scale,
        la_length=heart.la_length * la_scale,
        valve_closed=mitral_closed(heart, phase),
    )


def half_cycle_phases(heart: Heart, frames: int) -> np.ndarray:
    """``(frames,)`` phases from ED (0) to ES (``systole``), evenly spaced."""
    if frames < 2:
        raise ValueError(f"a sequence needs at least 2 frames, got {frames}")
    return np.linspace(0.0, heart.systole, frames)


def full_cycle_phases(heart: Heart, frames: int) -> np.ndarray:
    """Phases of a whole cycle ED -> ES -> next ED at the frame rate of a ``frames``-frame half sequence."""
    step = heart.systole / (frames - 1)
    count = int(np.floor(1.0 / step + 1e-9)) + 1
    phases = np.arange(count) * step
    phases[-1] = 1.0
    return phases


def cycle_phases(heart: Heart, frames: int, beats: int = 1) -> np.ndarray:
    """Phases (in [0, 1], wrapping at each ED) of ``beats`` whole cycles at the frame rate of a ``frames``-frame half
    sequence; one beat is :func:`full_cycle_phases`. The unwrapped phase of frame ``i`` is ``i * step``."""
    if beats < 1:
        raise ValueError(f"beats must be at least 1, got {beats}")
    if beats == 1:
        return full_cycle_phases(heart, frames)
    step = heart.systole / (frames - 1)
    count = int(np.floor(beats / step + 1e-9)) + 1
    return (np.arange(count) * step) % 1.0


def beat_frames(volume: np.ndarray, step: float, beats: int) -> list[dict]:
    """Per beat ``k``: ED = the largest volume among frames of unwrapped phase in ``[k - 1/2, k + 1/2)``, ES = the
    smallest in ``[k, k + 1)``, next ED likewise at ``k + 1``; with EDV, ESV (mL) and EF (%) of those frames.

    ``volume`` ``(T,)`` mL of frames at unwrapped phases ``i * step``.
    """
    unwrapped = np.arange(len(volume)) * step
    last = len(volume) - 1 if beats == 1 else None  # one beat: its last frame is the next ED (phase 1)

    def pick(low: float, high: float, best) -> int:
        inside = np.flatnonzero((unwrapped >= low - 1e-9) & (unwrapped < high - 1e-9))
        return int(inside[best(volume[inside])])

    out = []
    for k in range(beats):
        ed, es = pick(k - 0.5, k + 0.5, np.argmax), pick(k, k + 1, np.argmin)
        next_ed = last if last is not None else pick(k + 0.5, k + 1.5, np.argmax)
        edv, esv = float(volume[ed]), float(volume[es])
        out.append({"ED": ed, "ES": es, "next_ED": next_ed, "EDV": edv, "ESV": esv, "EF": 100.0 * (edv - esv) / edv})
    return out


def frame_rate(heart: Heart, frames: int) -> float:
    """Frames per second of a half sequence of ``frames`` frames from ED to ES."""
    return (frames - 1) / (heart.systole * 60.0 / heart.heart_rate)
