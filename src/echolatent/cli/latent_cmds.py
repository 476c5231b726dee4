"""``echolatent latent traverse|interpolate|sample|evaluate``: figures and metrics of a shape model's latent space."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from echolatent.cli.app import latent_app
from echolatent.cli.progress import is_quiet
from echolatent.errors import InputError

VAE_HELP = "Shape model file (default: the shipped AR-VAE)."
SUBSET_HELP = "Split of a CAMUS root: training, validation, testing, or all (an absent split lists those found)."
SEED_HELP = "Random seed."


def _masks(data: Path, subset: str) -> tuple[np.ndarray, list[str]]:
    """Expert masks of one split of a CAMUS-layout dataset (or the masks of one file), at their own size."""
    from echolatent.io.frames import load_frames
    from echolatent.io.splits import resolve_subset
    from echolatent.io.volume import read_image

    if data.is_file():
        masks, _ = read_image(data)
        return masks, [f"{data.name}[{t}]" for t in range(len(masks))]
    subset = resolve_subset(data, subset)
    try:
        _, masks, ids = load_frames(data, subset)
    except InputError as err:
        if "differ" not in str(err):
            raise
        _, masks, ids = load_frames(data, subset, size=(224, 224))
    return masks, ids


def _pick(ids: list[str], wanted: str | None, default: int) -> int:
    if wanted is None:
        return default % len(ids)
    if wanted not in ids:
        raise InputError(None, f"no frame {wanted!r} in the data (e.g. {ids[0]!r})")
    return ids.index(wanted)


@latent_app.command("traverse")
def traverse_cmd(
    data: Annotated[Path, typer.Option(
        "--data", help="CAMUS root or a mask file: the heart whose code is traversed.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for traversal.png.")],
    vae: Annotated[Path | None, typer.Option("--vae", help=VAE_HELP)] = None,
    frame: Annotated[str | None, typer.Option(
        "--frame", help="Frame id, e.g. patient0401_4CH_ED (default: the first).")] = None,
    subset: Annotated[str, typer.Option("--subset", help=SUBSET_HELP)] = "validation",
    steps: Annotated[int, typer.Option("--steps", min=2, help="Decoded masks per row.")] = 7,
) -> None:
    """Traversal grid: a row per regularised attribute, the re-measured attribute under each mask."""
    from echolatent.latent.codec import load_model
    from echolatent.latent.figures import traversal_grid

    masks, ids = _masks(data, subset)
    model = load_model(vae)
    index = _pick(ids, frame, 0)
    path = traversal_grid(model, masks[index], out / "traversal.png", steps)
    typer.echo(f"{path} ({ids[index]})")


@latent_app.command("interpolate")
def interpolate_cmd(
    data: Annotated[Path, typer.Option("--data", help="CAMUS root or a mask file: two real hearts are taken from it.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for interpolation_<method>.png.")],
    vae: Annotated[list[Path] | None, typer.Option(
        "--vae", help="Shape model file(s) (default: the shipped AR-VAE); repeat to compare models.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First frame id (default: first).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last frame id (default: the 8th frame).")] = None,
    subset: Annotated[str, typer.Option("--subset", help=SUBSET_HELP)] = "validation",
    steps: Annotated[int, typer.Option("--steps", min=2, help="Decoded masks per row, ends included.")] = 9,
    method: Annotated[str, typer.Option("--interpolation", help="Path between the two codes: linear or slerp.")
                      ] = "linear",
) -> None:
    """Interpolation strip between two real hearts, one row per model."""
    from echolatent.latent.codec import load_model
    from echolatent.latent.figures import interpolation_strip

    masks, ids = _masks(data, subset)
    paths = list(vae) if vae else [None]
    models = {}
    for path in paths:
        model = load_model(path)
        where = "shipped" if path is None else (path.parent.name if path.stem == "shape_model" else path.stem)
        models[f"{model.config.kind} ({where})"] = model
    a, b = _pick(ids, start, 0), _pick(ids, end, 7)
    figure = interpolation_strip(models, masks[a], masks[b], out / f"interpolation_{method}.png", steps, method)
    typer.echo(f"{figure} ({ids[a]} -> {ids[b]})")


@latent_app.command("sample")
def sample_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output folder for samples.png.")],
    vae: Annotated[Path | None, typer.Option("--vae", help=VAE_HELP)] = None,
    rows: Annotated[int, typer.Option("--rows", min=1, help="Rows of the grid.")] = 4,
    cols: Annotated[int, typer.Option("--cols", min=1, help="Columns of the grid.")] = 6,
    seed: Annotated[int, typer.Option("--seed", help=SEED_HELP)] = 0,
) -> None:
    """Grid of masks decoded from prior samples."""
    from echolatent.latent.codec import load_model
    from echolatent.latent.figures import sample_grid

    typer.echo(str(sample_grid(load_model(vae), out / "samples.png", rows, cols, seed)))


@latent_app.command("evaluate")
def evaluate_cmd(
    data: Annotated[Path, typer.Option("--data", help="CAMUS root: its expert masks (*_gt, ED/ES) are evaluated.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for latent_metrics.json.")],
    vae: Annotated[Path | None, typer.Option("--vae", help=VAE_HELP)] = None,
    subset: Annotated[str, typer.Option("--subset", help=SUBSET_HELP)] = "validation",
    samples: Annotated[int, typer.Option("--samples", min=1, help="Prior samples checked for validity.")] = 1000,
    pairs: Annotated[int, typer.Option("--pairs", min=1, help="Interpolation midpoints checked for validity.")] = 500,
    seed: Annotated[int, typer.Option("--seed", help=SEED_HELP)] = 0,
) -> None:
    """Reconstruction Dice, disentanglement, controllability and validity -> latent_metrics.json."""
    from echolatent.latent.codec import load_model
    from echolatent.latent.evaluate import evaluate_dataset

    model = load_model(vae)
    metrics, path = evaluate_dataset(model, data, out, subset=subset, n_samples=samples, n_pairs=pairs, seed=seed,
                                     progress=None if is_quiet() else lambda msg: typer.echo(f"... {msg}", err=True))
    dice = metrics["reconstruction_dice"]
    typer.echo("reconstruction Dice: " + ", ".join(f"{k} {v['mean']:.3f}" for k, v in dice.items()))
    for name, scores in metrics["attributes"].items():
        extra = f" control {scores['controllability']:.3f}" if "controllability" in scores else ""
        typer.echo(f"{name:15s} interp {scores['interpretability']:.3f} scc {scores['scc']:.3f} "
                   f"mig {scores['mig']:.3f} sap {scores['sap']:.3f}{extra}")
    validity = metrics["validity"]
    typer.echo("valid: " + ", ".join(f"{k} {v['valid_fraction']:.1%} (95 % CI {v['ci95'][0]:.1%}-{v['ci95'][1]:.1%}, "
                                     f"n {v['n']})" for k, v in validity.items()))
    typer.echo(str(path))


@latent_app.command("map")
def map_cmd(
    data: Annotated[Path, typer.Option("--data", help="CAMUS root, patient folder or mask file: its expert masks "
                                       "(*_gt, ED/ES) are encoded.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for latent_map.png and latent_map.json.")],
    vae: Annotated[Path | None, typer.Option("--vae", help=VAE_HELP)] = None,
    subset: Annotated[str, typer.Option("--subset", help=SUBSET_HELP)] = "validation",
    method: Annotated[str, typer.Option(
        "--projection", help="2D projection: pca, or umap (needs the map extra: pip install 'echolatent[map]').")
                      ] = "pca",
    results: Annotated[Path | None, typer.Option(
        "--results", help="Output folder of `run`/`smooth`, or one _pred/_post file: draw that sequence's "
                          "trajectory before and after smoothing.")] = None,
    sequence: Annotated[str | None, typer.Option("--sequence", help="Sequence of --results to draw "
                                                 "(default: the first).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (UMAP).")] = 0,
) -> None:
    """2D map of the codes of a dataset's masks, a panel per attribute -> latent_map.png, latent_map.json."""
    from echolatent.latent.codec import load_model
    from echolatent.latent.map_data import dataset_codes, map_payload, trajectory, write_map_json
    from echolatent.latent.map_figure import map_figure
    from echolatent.latent.projection import fit_projection

    model = load_model(vae)
    codes = dataset_codes(model, data, subset)
    try:
        projection = fit_projection(codes.codes, method, seed)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--projection") from None
    track = trajectory(model, results, sequence) if results is not None else None
    source = f"{data.name} ({subset})" if data.is_dir() else data.name
    payload = map_payload(codes, projection, model.config.kind, source, track)
    typer.echo(str(write_map_json(payload, out)))
    typer.echo(f"{map_figure(payload, out / 'latent_map.png')} ({len(codes.ids)} frames, {method})")
