"""One synthetic patient in memory: heart, both views' images and masks, and its truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from echolatent.labels import View
from echolatent.synth.echo import EchoStyle, simulate_view
from echolatent.synth.heart import (
    Heart,
    HeartState,
    beat_frames,
    cycle_phases,
    frame_rate,
    half_cycle_phases,
    heart_state,
    sample_heart,
)
from echolatent.synth.slicing import Placement, render_masks, sample_placements


@dataclass(frozen=True)
class SyntheticView:
    """Images and masks ``(T, S, S)`` uint8 of one view (half sequence ED -> ES, optionally the full cycle)."""

    placement: Placement
    style: EchoStyle
    images: np.ndarray
    masks: np.ndarray
    cycle_images: np.ndarray | None = None
    cycle_masks: np.ndarray | None = None


@dataclass(frozen=True)
class SyntheticPatient:
    """A synthetic patient: its heart, its two views and the true volumes."""

    name: str
    heart: Heart
    half: HeartState  # frames ED -> ES
    cycle: HeartState | None  # ED -> ES -> next ED (``beats`` times), when asked for
    views: dict[View, SyntheticView]
    spacing: tuple[float, float]  # (sy, sx) mm
    frame_rate: float  # frames per second
    sex: str = "M"
    age: int = 60
    beats: int = 1  # cardiac cycles in ``cycle``

    @property
    def edv(self) -> float:
        """True end-diastolic volume of the 3D model, mL."""
        return float(self.half.volume[0])

    @property
    def esv(self) -> float:
        """True end-systolic volume, mL."""
        return float(self.half.volume[-1])

    @property
    def ef(self) -> float:
        """True ejection fraction, %."""
        return 100.0 * (self.edv - self.esv) / self.edv

    def truth(self) -> dict:
        """JSON-friendly truth: volumes (mL), EF (%), spacing, frame rate, model parameters."""
        out = {
            "EDV": self.edv,
            "ESV": self.esv,
            "EF": self.ef,
            "volumes": self.half.volume.tolist(),
            "spacing": list(self.spacing),
            "frame_rate": self.frame_rate,
            "heart_rate": self.heart.heart_rate,
            "sex": self.sex,
            "age": self.age,
            "views": {view.value: synthetic.placement.to_dict() for view, synthetic in self.views.items()},
            "heart": self.heart.to_dict(),
        }
        if self.cycle is not None:
            out["sequence_volumes"] = self.cycle.volume.tolist()
            step = float(self.half.phase[1] - self.half.phase[0])
            out["beats"] = beat_frames(self.cycle.volume, step, self.beats)
            out["sequence_ed"] = [out["beats"][0]["ED"]] + [beat["next_ED"] for beat in out["beats"]]
            out["sequence_es"] = (len(self.half.volume) - 1 if self.beats == 1
                                  else [beat["ES"] for beat in out["beats"]])
        return out


def patient_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of patient ``index`` (same patient whatever the number of patients)."""
    return np.random.default_rng([int(seed), int(index)])


def synthesize_patient(
    index: int,
    *,
    frames: int = 20,
    size: int = 256,
    seed: int = 0,
    full_cycle: bool = False,
    images: bool = True,
    beats: int = 0,
) -> SyntheticPatient:
    """Build patient ``index`` (1-based name ``patient{index:04d}``): heart, masks and (optionally) images.

    ``full_cycle`` adds one cardiac cycle (ED -> ES -> next ED), ``beats`` (> 1) that many cycles, same heart rate.

    Raises:
        ValueError: fewer than 2 frames or an image smaller than 16 px.
    """
    if frames < 2:
        raise ValueError(f"frames must be at least 2 (ED and ES), got {frames}")
    if size < 16:
        raise ValueError(f"size must be at least 16 px, got {size}")
    rng = patient_rng(seed, index)
    heart = sample_heart(rng)
    placements = sample_placements(heart, rng)
    # with the full cycle, the half sequence is its first frames (same images, same speckle)
    beats = max(int(beats), 1 if full_cycle else 0)
    full_cycle = beats > 0
    phases = cycle_phases(heart, frames, beats) if full_cycle else half_cycle_phases(heart, frames)
    state = heart_state(heart, phases)
    half = heart_state(heart, phases[:frames])
    views = {}
    for view, placement in placements.items():
        style = EchoStyle.sample(rng, view)
        view_rng = np.random.default_rng(rng.integers(2**63))
        masks = render_masks(heart, state, placement, size)
        frames_img = simulate_view(heart, state, placement, size, view_rng, style) if images else np.zeros_like(masks)
        cycle_images, cycle_masks = (frames_img, masks) if full_cycle else (None, None)
        views[view] = SyntheticView(placement, style, frames_img[:frames], masks[:frames], cycle_images, cycle_masks)
    depth = placements[View.A4C].depth
    return SyntheticPatient(
        name=f"patient{index:04d}",
        heart=heart,
        half=half,
        cycle=state if full_cycle else None,
        views=views,
        spacing=(depth / size, depth / size),
        frame_rate=frame_rate(heart, frames),
        sex="M" if rng.random() < 0.6 else "F",
        age=int(rng.integers(20, 90)),
        beats=max(beats, 1),
    )
