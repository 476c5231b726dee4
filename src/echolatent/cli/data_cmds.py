"""``echolatent data synth`` and ``echolatent data corrupt``: thin shells over :mod:`echolatent.synth`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from echolatent.cli.app import data_app
from echolatent.cli.progress import progress_bar
from echolatent.outdir import guarded_output


@data_app.command("synth")
def synth(
    out: Annotated[Path, typer.Argument(
        metavar="OUT", help="Output root (CAMUS layout: database_nifti/, database_split/, truth.json).")],
    patients: Annotated[int, typer.Option("--patients", min=1, help="Number of patients.")] = 10,
    frames: Annotated[int, typer.Option("--frames", min=2, help="Frames per half sequence (ED -> ES).")] = 20,
    size: Annotated[int, typer.Option("--size", min=16, help="Square image size in pixels.")] = 256,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, identical files).")] = 0,
    full_cycle: Annotated[bool, typer.Option("--full-cycle", help="Also write full-cycle _sequence files.")] = False,
    previews: Annotated[
        int, typer.Option("--previews", min=0, help="Patients with a PNG preview in OUT/previews.")
    ] = 4,
    beats: Annotated[
        int, typer.Option("--beats", min=0, help="Write _sequence files of N cardiac cycles (truth per beat).")
    ] = 0,
    overlays: Annotated[
        bool, typer.Option("--overlays", help="Draw screen overlays (grey bar, text, ECG) outside the sector.")
    ] = False,
) -> None:
    """Write a synthetic dataset with known volumes and EF, in the CAMUS layout."""
    from echolatent.synth.dataset import write_synthetic_dataset

    with guarded_output(out, command="data synth"), progress_bar("synth", "patient", patients) as bar:
        write_synthetic_dataset(
            out,
            patients=patients,
            frames=frames,
            size=size,
            seed=seed,
            full_cycle=full_cycle,
            previews=previews,
            progress=lambda done: bar.update(done - bar.n),
            beats=beats,
            overlays=overlays,
        )
    typer.echo(f"wrote {patients} patients to {out} (truth in {out / 'truth.json'})")


@data_app.command("corrupt")
def corrupt(
    masks: Annotated[Path, typer.Argument(
        metavar="MASKS", help="CAMUS root, patient folder or mask file holding *_gt masks.")],
    out: Annotated[Path, typer.Option("--out", help="Output root for <patient>/<name>_pred.nii.gz.")],
    severity: Annotated[str, typer.Option("--severity", help="low, medium, high or a number in [0, 1].")] = "medium",
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, identical files).")] = 0,
) -> None:
    """Make segmentation-like errors in expert masks (per frame), written as _pred masks."""
    from echolatent.synth.corrupt import corrupt_dataset, severity_value

    try:
        severity_value(severity)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--severity") from None
    with guarded_output(out, [masks], command="data corrupt"), progress_bar("corrupt", "file") as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        written = corrupt_dataset(masks, out, severity, seed, progress=advance)
    typer.echo(f"wrote {len(written)} corrupted masks to {out}")
