"""Domain names: segmentation labels, apical views and cardiac instants.

Internal array convention used everywhere in echolatent:

* label and image arrays are ``(T, H, W)`` (a single frame is ``(1, H, W)``), with the apex at the top
  (row 0) and the mitral plane / atrium towards the bottom;
* pixel spacing is ``(sy, sx)`` in millimetres (row spacing, column spacing), taken from the file header;
  ``None`` when unknown.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Label(IntEnum):
    """Segmentation labels of CAMUS masks."""

    BG = 0
    LV = 1
    MYO = 2
    LA = 3

    @classmethod
    def foreground(cls) -> tuple[Label, ...]:
        """The three cardiac structures, in label order."""
        return (cls.LV, cls.MYO, cls.LA)


NUM_LABELS = len(Label)


class View(StrEnum):
    """Apical views."""

    A2C = "2CH"
    A4C = "4CH"


class Instant(StrEnum):
    """Cardiac instants."""

    ED = "ED"
    ES = "ES"

#: Castor's temporal deviation d(t) needs a frame before and after t: temporal checks and smoothing need at least
#: this many frames (shorter sequences, e.g. CAMUS ED/ES files, are measured frame by frame, never smoothed).
MIN_FRAMES = 3
