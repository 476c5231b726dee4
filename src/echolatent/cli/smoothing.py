"""The smoothing options, declared once and shared by ``smooth``, ``run`` and ``demo`` (same names, help and
defaults everywhere), and the smoother they build."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from echolatent.cli.app import ValidityOption
from echolatent.errors import InputError
from echolatent.options import load_option_file

METHOD_HELP = (
    "Smoothing: exact (default): exact latent solver with image-space check; snake: castor's solver; "
    "gaussian: castor's baseline; none: measure only."
)
DECODE_HELP = (
    "exact method's output: residual (default): the input changed by the decoded latent correction, falling back "
    "to the full decode where that fails the checks; full: the shape model's decode of the smoothed codes."
)

Method = Annotated[str, typer.Option("--method", help=METHOD_HELP)]
Thresholds = Annotated[Path | None, typer.Option(
    "--thresholds", help="Temporal thresholds JSON (default: stored with the shape model).")]
Validity = ValidityOption
Reference = Annotated[Path | None, typer.Option(
    "--reference", help="CAMUS root whose expert masks (training split) give the temporal bounds.")]
Rounds = Annotated[int | None, typer.Option(
    "--rounds", min=0, help="Tightening rounds of the exact method (default: 4 on a half cycle, 2 on a sequence with "
    "turns inside it, ED or ES, which more rounds flatten).")]
Decode = Annotated[str, typer.Option("--decode", help=DECODE_HELP)]
InputSigmas = Annotated[str, typer.Option(
    "--input-sigmas", help="Residual decode: temporal Gaussian widths (frames) of the input, the first on every "
    "frame, the next ones in turn on frames that still fail; comma-separated and increasing; 0 is the input as it is.")]

DEFAULTS = {"method": "exact", "thresholds": None, "validity": None, "reference": None, "rounds": None,
            "decode": "residual", "input_sigmas": "1.5,3"}
OPTION_TYPES = {"method": Method, "thresholds": Thresholds, "validity": Validity, "reference": Reference,
                "rounds": Rounds, "decode": Decode, "input_sigmas": InputSigmas}


def with_smoothing_options(command: Callable) -> Callable:
    """A typer command that also takes every smoothing option; they reach it as one dict, ``smoothing_options``.

    The options are appended to the command's signature (typer reads ``__signature__``), so ``smooth``, ``run``
    and ``demo`` declare them in this one place."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "smoothing_options"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=DEFAULTS[name])
             for name, kind in OPTION_TYPES.items()]

    @functools.wraps(command)
    def wrapper(**kwargs):
        options = {name: kwargs.pop(name) for name in OPTION_TYPES}
        return command(**kwargs, smoothing_options=options)

    wrapper.__signature__ = signature.replace(parameters=own + added)
    wrapper.__annotations__ = {p.name: p.annotation for p in own + added} | {"return": signature.return_annotation}
    return wrapper


def build_smoother(vae, method, thresholds, validity, reference, rounds, decode, input_sigmas):
    """The smoother the options (``with_smoothing_options``' dict, plus the shape model file) ask for.

    typer.BadParameter on bad options, InputError on unreadable files."""
    from echolatent.measure.temporal import TemporalThresholds
    from echolatent.measure.validity import ValidityThresholds
    from echolatent.temporal.smooth_setup import DECODES
    from echolatent.temporal.strategy import METHODS, make_smoother
    from echolatent.temporal.thresholds import reference_thresholds

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
    temporal = load_option_file(thresholds, TemporalThresholds.load, "temporal thresholds") if thresholds else None
    if reference is not None:
        from echolatent.latent.codec import load_model

        temporal = reference_thresholds(reference, load_model(vae).config.input_size)
    limits = load_option_file(validity, ValidityThresholds.load, "validity thresholds") if validity else None
    try:
        return make_smoother(method, vae, thresholds=temporal, validity_thresholds=limits, max_rounds=rounds,
                             decode=decode, input_sigmas=sigmas)
    except InputError:
        raise
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


def given(**options) -> dict:
    """The smoothing options that differ from their defaults, as plain values for config.json."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items() if DEFAULTS.get(k, object()) != v}
