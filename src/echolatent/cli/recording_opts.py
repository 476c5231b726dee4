"""Options for what a recording does not say, shared by ``segment`` and ``run``: ``--view``, ``--spacing``, ``--fps``,
``--ed/--es``, ``--sector auto|cut|off``; turned into :class:`echolatent.io.recordings.RecordingOptions`."""

from __future__ import annotations

from typing import Annotated

import typer

from echolatent.errors import EcholatentError

VIEW_HELP = "Apical view when the file does not say it: 2CH or 4CH (needed for volumes and EF)."
SPACING_HELP = ("Pixel size: MM or MMxMM (rows x columns) for files that do not say it (videos, uncalibrated DICOM); "
                "or a mode: auto (the header's unless exactly 1 x 1 mm), header (always the header's), none (pixels).")
FPS_HELP = "Frame rate (frames per second) when the file does not say it; bounds the heart rate between EDs."
ED_HELP = "ED frame number (1-based) when no cfg gives it; with --es. Default: found on the smoothed LV area curve."
ES_HELP = "ES frame number (1-based) when no cfg gives it; with --ed."
SECTOR_HELP = ("The ultrasound fan: auto (frames and masks cut to it when the screen shows text, a grey bar or an ECG "
               "outside it), cut (always), off (never).")

ViewOption = Annotated[str | None, typer.Option("--view", help=VIEW_HELP)]
SpacingOption = Annotated[str, typer.Option("--spacing", help=SPACING_HELP)]
FpsOption = Annotated[float | None, typer.Option("--fps", help=FPS_HELP)]
EdOption = Annotated[int | None, typer.Option("--ed", help=ED_HELP)]
EsOption = Annotated[int | None, typer.Option("--es", help=ES_HELP)]
SectorOption = Annotated[str, typer.Option("--sector", help=SECTOR_HELP)]


def recording_options(view: str | None, spacing: str, fps: float | None, ed: int | None, es: int | None,
                      sector: str = "auto"):
    """``(spacing mode, RecordingOptions)`` from the command line; EcholatentError (one line, exit 2) on bad values."""
    from echolatent.io.readers import SPACING_MODES
    from echolatent.io.recordings import RecordingOptions, parse_spacing
    from echolatent.labels import View

    mode, given = (spacing, None) if spacing in SPACING_MODES else ("auto", None)
    if spacing not in SPACING_MODES:
        try:
            given = parse_spacing(spacing)
        except ValueError as err:
            raise EcholatentError(f"--spacing: {err}; or one of {', '.join(SPACING_MODES)}") from None
    if view is not None and view.upper() not in {v.value for v in View}:
        raise EcholatentError(f"--view: unknown view {view!r}; choose 2CH or 4CH")
    try:
        options = RecordingOptions(View(view.upper()) if view else None, given, fps, ed, es, sector)
    except ValueError as err:
        raise EcholatentError(str(err)) from None
    return mode, options
