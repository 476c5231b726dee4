"""`echolatent segment INPUT --out OUT`: U-Net masks ``<stem>_pred.nii.gz`` mirroring the input's folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from echolatent.cli.app import app, bar_progress
from echolatent.cli.cohort_cmds import DEVICE_HELP
from echolatent.cli.progress import progress_bar
from echolatent.cli.recording_opts import SectorOption
from echolatent.errors import InputError
from echolatent.options import check_threads
from echolatent.outdir import check_output_folder

KIND_CHOICES = ("half_sequence", "sequence", "ED", "ES")
KIND_HELP = ("Only these CAMUS file kinds (repeatable): half_sequence, sequence, ED, ES; default: the sequences "
             "when present, else the ED/ES frames.")


@app.command("segment")
def segment(
    source: Annotated[Path, typer.Argument(metavar="INPUT", help=("CAMUS root, patient folder(s), NIfTI/MHD, DICOM or "
                                                                  "video files and folders."))],
    out: Annotated[Path, typer.Option("--out", help="Output folder: OUT/<patient>/<stem>_pred.nii.gz.")],
    model: Annotated[Path | None, typer.Option("--model", help="U-Net .pt file (default: shipped weights).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Frames per forward pass.")] = 16,
    kind: Annotated[list[str] | None, typer.Option("--file-kind", help=KIND_HELP)] = None,
    threads: Annotated[int, typer.Option(help="Torch CPU threads (0: torch's default).")] = 0,
    device: Annotated[str, typer.Option("--device", help=DEVICE_HELP)] = "cpu",
    sector: SectorOption = "auto",
) -> None:
    """Segment every frame of the input images with the U-Net."""
    import torch

    from echolatent.device import resolve_device
    from echolatent.io.sector import SECTOR_MODES
    from echolatent.jobs.segment import segment_path
    from echolatent.segment import load_segmenter

    if sector not in SECTOR_MODES:
        raise typer.BadParameter(f"unknown mode {sector!r}; choose from {', '.join(SECTOR_MODES)}",
                                 param_hint="--sector")
    unknown = sorted(set(kind or ()) - set(KIND_CHOICES))
    if unknown:
        raise typer.BadParameter(f"unknown kinds {unknown}; choose from {', '.join(KIND_CHOICES)}",
                                 param_hint="--file-kind")
    if check_threads(threads) > 0:
        torch.set_num_threads(threads)
    if not source.exists():  # before the model loads
        raise InputError(source, "not found")
    check_output_folder(out, [source])  # before the model loads: a bad --out fails at once
    segmenter = load_segmenter(model, device=resolve_device(device))
    with progress_bar("segment", "file") as bar:
        written = segment_path(source, out, segmenter, kinds=kind or None, batch_size=batch_size,
                               progress=bar_progress(bar), sector=sector)
    typer.echo(f"wrote {len(written)} mask file(s) under {out}")

