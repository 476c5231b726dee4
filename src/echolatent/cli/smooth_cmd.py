"""`echolatent smooth INPUT --out OUT`: temporally consistent masks ``<stem>_post.nii.gz`` plus before/after tables."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from echolatent.cli.app import app
from echolatent.errors import InputError

log = logging.getLogger(__name__)

METHOD_HELP = (
    "exact (default): exact latent solver with image-space check; snake: castor's solver; "
    "gaussian: castor's baseline; none: measure only."
)
DECODE_HELP = (
    "exact method's output: residual (default): the input changed by the decoded latent correction, falling back "
    "to the full decode where that fails the checks; full: the shape model's decode of the smoothed codes."
)


def find_mask_sequences(source: Path) -> tuple[list, str]:
    """Mask sequences under ``source``: ``_pred`` masks, else ``_gt`` masks, else plain label files."""
    from echolatent.io.camus import find_sequences

    kinds = ("half_sequence", "sequence")
    for suffix in ("_pred", "_gt"):
        refs = [r for r in find_sequences(source, kinds=kinds, mask_suffix=suffix) if r.mask is not None]
        if refs:
            return refs, suffix
    refs = [r for r in find_sequences(source, kinds=kinds) if r.image is not None]
    return refs, ""


def load_labels(ref):
    """(EchoSequence, labels (T, H, W)) of a mask file, or of a plain file read as labels."""
    from echolatent.io.camus import as_labels, load_sequence

    if ref.mask is not None:
        seq = load_sequence(ref, image=False)
        return seq, seq.mask
    seq = load_sequence(ref, image=True, mask=False)
    return seq, as_labels(seq.image, ref.image)


@app.command("smooth")
def smooth(
    source: Annotated[Path, typer.Argument(metavar="INPUT", help="CAMUS root, patient folder or mask file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder: OUT/<patient>/<stem>_post.nii.gz.")],
    vae: Annotated[Path | None, typer.Option("--vae", help="Shape model file (default: shipped AR-VAE).")] = None,
    method: Annotated[str, typer.Option("--method", help=METHOD_HELP)] = "exact",
    thresholds: Annotated[
        Path | None, typer.Option("--thresholds", help="Temporal thresholds JSON (default: stored with the model).")
    ] = None,
    validity: Annotated[
        Path | None, typer.Option("--validity", help="Validity thresholds JSON (default: CAMUS-224 calibrated).")
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option("--reference", help="CAMUS root whose expert masks (training split) give the temporal bounds."),
    ] = None,
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="Tightening rounds of the exact method.")] = 2,
    decode: Annotated[str, typer.Option("--decode", help=DECODE_HELP)] = "residual",
    input_sigmas: Annotated[
        str,
        typer.Option("--input-sigmas", help="Residual decode: temporal Gaussian widths (frames) of the input tried "
                     "in turn, comma-separated and increasing; 0 is the input as it is."),
    ] = "0,1.2",
) -> None:
    """Make mask sequences temporally consistent and anatomically plausible in the shape model's latent space."""
    from echolatent.measure.temporal import TemporalThresholds
    from echolatent.measure.validity import ValidityThresholds
    from echolatent.temporal.smooth import DECODES, METHODS, Smoother, reference_thresholds

    if method not in METHODS:
        raise typer.BadParameter(f"unknown method {method!r}; choose from {', '.join(METHODS)}", param_hint="--method")
    if decode not in DECODES:
        raise typer.BadParameter(f"unknown decode {decode!r}; choose from {', '.join(DECODES)}", param_hint="--decode")
    if thresholds and reference:
        raise typer.BadParameter("give --thresholds or --reference, not both", param_hint="--reference")
    try:
        sigmas = tuple(float(v) for v in input_sigmas.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated numbers, got {input_sigmas!r}",
                                 param_hint="--input-sigmas") from None
    temporal = TemporalThresholds.load(thresholds) if thresholds else None
    if reference is not None:
        from echolatent.latent.codec import load_model

        temporal = reference_thresholds(reference, load_model(vae).config.input_size)
    try:
        smoother = Smoother(
            vae,
            method,
            thresholds=temporal,
            validity_thresholds=ValidityThresholds.load(validity) if validity else None,
            max_rounds=rounds,
            decode=decode,
            input_sigmas=sigmas,
        )
    except InputError:
        raise
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    refs, suffix = find_mask_sequences(source)
    if not refs:
        raise InputError(source, "no mask sequences found (_pred, _gt or plain label files)")
    log.info("smoothing %d sequence(s) (%s masks) with %s", len(refs), suffix or "plain", method)
    summary = smooth_all(refs, out, smoother)
    for name, problem in summary["skipped"].items():
        typer.secho(f"skipped {name}: {problem}", fg=typer.colors.YELLOW, err=True)
    if not summary["smoothed"]:
        first = next(iter(summary["skipped"].values()))
        raise InputError(source, f"no sequence could be smoothed ({len(summary['skipped'])} skipped; {first})")
    typer.echo(
        f"{summary['smoothed']} sequence(s) smoothed, {len(summary['skipped'])} skipped; temporally consistent "
        f"{_count(summary, 'before')} -> {_count(summary, 'after')}; valid frames "
        f"{_rate(summary, 'before')} -> {_rate(summary, 'after')}"
    )
    typer.echo(f"wrote *_post.nii.gz, {out / 'metrics.csv'}, {out / 'frames.csv'}, {out / 'summary.json'}")


def smooth_all(refs, out: Path, smoother) -> dict:
    """Smooth every sequence, write ``_post`` files and the before/after tables; -> the summary dict."""
    from echolatent.files import write_json_atomic
    from echolatent.io.camus import output_path, write_mask
    from echolatent.measure.evaluate import write_csv_atomic
    from echolatent.measure.summary import summarise
    from echolatent.measure.tables import measure_sequence

    measures = {"before": [], "after": []}
    rows, frame_rows, reports, skipped = [], [], {}, {}
    for ref in tqdm(refs, desc=f"smooth ({smoother.method})", unit="seq"):
        try:
            seq, masks = load_labels(ref)
            result = smoother(masks, seq.spacing)
        except InputError as err:
            skipped[ref.name] = err.problem if err.path is None else str(err)
            continue
        write_mask(seq, result.masks, output_path(ref, out, "_post"))
        thresholds = smoother.thresholds_for(masks)
        instants = _instants(seq)
        ids = {"sequence": ref.name, "patient": ref.patient, "view": ref.view.value if ref.view else ""}
        for stage, labels in (("before", masks), ("after", result.masks)):
            m = measure_sequence(
                labels,
                seq.spacing,
                thresholds=thresholds,
                validity_thresholds=smoother.validity_thresholds,
                instants=instants,
            )
            measures[stage].append((ids, m))
            rows += m.structure_rows(stage=stage, **ids)
            frame_rows += m.frame_rows(stage=stage, **ids)
        reports[ref.name] = result.report.as_dict()
    summary = {
        "method": smoother.method,
        "smoothed": len(reports),
        "skipped": skipped,
        "thresholds": smoother.thresholds.note if smoother.thresholds else "measured on each input sequence",
        "before": summarise(measures["before"], {}, None, smoother.thresholds) if reports else None,
        "after": summarise(measures["after"], {}, None, smoother.thresholds) if reports else None,
        "sequences": reports,
    }
    write_csv_atomic(rows, out / "metrics.csv")
    write_csv_atomic(frame_rows, out / "frames.csv")
    write_json_atomic(summary, out / "summary.json")
    return summary


def _instants(seq) -> list[str]:
    labels = [""] * seq.geometry.shape[0]
    for name, index in (("ED", seq.ed), ("ES", seq.es)):
        if index is not None and index < len(labels):
            labels[index] = name
    return labels


def _count(summary: dict, stage: str) -> str:
    part = summary.get(stage) or {}
    temporal = part.get("temporal", {})
    return f"{temporal.get('sequences_ok', 0)}/{temporal.get('checked', 0)}" if temporal.get("checked") else "-"


def _rate(summary: dict, stage: str) -> str:
    part = summary.get(stage) or {}
    return f"{100 * part['validity']['rate']:.1f} %" if part else "-"
