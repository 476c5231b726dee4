"""Tiny CAMUS-layout inputs and the bad-input classes of the fuzz tests (each breaks one file or option).

A clean input is one patient, 4CH only: a half sequence of 4 frames (32 x 32, 0.3 x 0.2 mm), the ED and ES
frames, ``_gt`` masks of all three and ``Info_4CH.cfg``; beside it a folder of ``_pred`` masks (the ``_gt``
masks, for ``evaluate`` and ``smooth``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk  # noqa: N813
from hypothesis import HealthCheck, settings

from echolatent.io.volume import Geometry, write_like

PATIENT = "patient0001"
FRAMES, SIZE = 4, 32
SPACING = (0.3, 0.2)
SEQ = f"{PATIENT}_4CH_half_sequence"


def heart(frames: int = FRAMES, size: int = SIZE) -> np.ndarray:
    """``(T, size, size)`` labels: MYO band around the LV, LA below; the LV shortens a little with t."""
    mask = np.zeros((frames, size, size), np.uint8)
    for t in range(frames):
        bottom = size // 2 + 3 - t % 2
        mask[t, 4:bottom, 8 : size - 8] = 2
        mask[t, 6:bottom, 10 : size - 10] = 1
        mask[t, bottom : bottom + 8, 10 : size - 10] = 3
    return mask


def echo(frames: int = FRAMES, size: int = SIZE, seed: int = 0) -> np.ndarray:
    """``(T, size, size)`` uint8 speckle brighter where :func:`heart` puts the myocardium."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 60, (frames, size, size)).astype(np.uint8)
    image[heart(frames, size) == 2] += 150
    return image


def geometry(shape: tuple[int, int, int], spacing: tuple[float, float] = SPACING) -> Geometry:
    return Geometry.default(shape, spacing)


def write_clean(root: Path) -> dict[str, Path]:
    """``{"data": CAMUS root, "pred": folder of _pred masks}`` under ``root``."""
    folder = root / "data" / "database_nifti" / PATIENT
    pred = root / "pred" / PATIENT
    for name, frames in ((SEQ, FRAMES), (f"{PATIENT}_4CH_ED", 1), (f"{PATIENT}_4CH_ES", 1)):
        shape = (frames, SIZE, SIZE)
        masks = heart(frames) if frames > 1 else heart(1)
        write_like(echo(frames), geometry(shape), folder / f"{name}.nii.gz")
        write_like(masks, geometry(shape), folder / f"{name}_gt.nii.gz")
        write_like(masks, geometry(shape), pred / f"{name}_pred.nii.gz")
    (folder / "Info_4CH.cfg").write_text(f"ED: 1\nES: {FRAMES}\nNbFrame: {FRAMES}\nSex: F\nAge: 60\n")
    return {"data": root / "data", "pred": root / "pred"}


def tree_hashes(*roots: Path) -> dict[str, str]:
    """``{path: sha256}`` of every file under ``roots`` (the inputs must never change)."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for root in roots if root.exists()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------------ breakers


def seq_image(paths: dict) -> Path:
    return paths["data"] / "database_nifti" / PATIENT / f"{SEQ}.nii.gz"


def seq_mask(paths: dict) -> Path:
    return paths["data"] / "database_nifti" / PATIENT / f"{SEQ}_gt.nii.gz"


def seq_pred(paths: dict) -> Path:
    return paths["pred"] / PATIENT / f"{SEQ}_pred.nii.gz"


def cfg(paths: dict) -> Path:
    return paths["data"] / "database_nifti" / PATIENT / "Info_4CH.cfg"


def truncate(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * keep))])
    return path


def random_bytes(path: Path, data: bytes | None = None, zipped: bool = True) -> Path:
    data = np.random.default_rng(3).bytes(3000) if data is None else data
    path.write_bytes(gzip.compress(data) if zipped else data)
    return path


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def non_finite(path: Path, value: float = np.nan) -> Path:
    image = echo().astype(np.float32)
    image[1, 5, 5] = value
    write_like(image, geometry(image.shape), path)
    return path


def bad_labels(path: Path, label: int = 7) -> Path:
    mask = heart()
    mask[2, 0, 0] = label
    write_like(mask, geometry(mask.shape), path)
    return path


def one_frame(path: Path) -> Path:
    write_like(heart(1) if "_gt" in path.name or "_pred" in path.name else echo(1), geometry((1, SIZE, SIZE)), path)
    return path


def four_d(path: Path, vector: bool = False) -> Path:
    """A 4D scalar file (2 x T x H x W), or with ``vector`` a sequence of 3-component (RGB-like) pixels."""
    shape = (FRAMES, SIZE, SIZE, 3) if vector else (2, FRAMES, SIZE, SIZE)
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros(shape, np.uint8), isVector=vector), str(path))
    return path


def swapped_axes(path: Path) -> Path:
    """The sequence saved with the frame axis last in SimpleITK order: read as 32 frames of 32 x 4."""
    array = (heart() if "_gt" in path.name or "_pred" in path.name else echo()).transpose(1, 2, 0).copy()
    write_like(array, geometry(array.shape), path)
    return path


def other_spacing(path: Path) -> Path:
    mask = heart()
    write_like(mask, geometry(mask.shape, (0.5, 0.5)), path)
    return path


@dataclass(frozen=True)
class BadInput:
    """One class of bad input: ``apply(paths) -> the file to be named``; the words the error must hold; the
    commands that read that file (the others must succeed or are not concerned)."""

    name: str
    apply: Callable[[dict], Path]
    words: tuple[str, ...]
    commands: tuple[str, ...]


IMAGE_READERS = ("data check", "segment", "run")
MASK_READERS = ("data check", "run", "smooth")
ALL = ("data check", "segment", "run", "smooth", "evaluate")

CLASSES = [
    BadInput("truncated image", lambda p: truncate(seq_image(p)), ("truncated",), IMAGE_READERS),
    BadInput("truncated mask", lambda p: truncate(seq_mask(p), 0.8), ("truncated",), MASK_READERS + ("evaluate",)),
    BadInput("truncated prediction", lambda p: truncate(seq_pred(p), 0.7), ("truncated",), ("evaluate",)),
    BadInput("random bytes", lambda p: random_bytes(seq_image(p)), ("cannot read image",), IMAGE_READERS),
    BadInput("random bytes, not gzip", lambda p: random_bytes(seq_mask(p), zipped=False), ("cannot read",),
             MASK_READERS + ("evaluate",)),
    BadInput("empty file", lambda p: empty(seq_image(p)), ("empty file",), IMAGE_READERS),
    BadInput("NaN voxel", lambda p: non_finite(seq_image(p)), ("NaN or infinite",), IMAGE_READERS),
    BadInput("inf voxel", lambda p: non_finite(seq_image(p), np.inf), ("NaN or infinite",), IMAGE_READERS),
    BadInput("labels outside 0..3", lambda p: bad_labels(seq_mask(p)), ("outside 0..3",),
             MASK_READERS + ("evaluate",)),
    BadInput("one-frame sequence", lambda p: one_frame(seq_image(p)), ("frame",), IMAGE_READERS),
    BadInput("4D file", lambda p: four_d(seq_image(p)), ("4 dimensions",), IMAGE_READERS),
    BadInput("vector pixels", lambda p: four_d(seq_image(p), vector=True), ("scalar image", "3 components"),
             IMAGE_READERS),
    BadInput("wrong axis order", lambda p: swapped_axes(seq_image(p)), ("axes look swapped",), IMAGE_READERS),
    BadInput("mask spacing mismatch", lambda p: other_spacing(seq_mask(p)), ("spacing", "does not match"),
             ("data check", "run", "smooth", "evaluate")),
    BadInput("prediction spacing mismatch", lambda p: other_spacing(seq_pred(p)), ("spacing", "does not match"),
             ("evaluate",)),
    BadInput("cfg ED = ES", lambda p: _write(cfg(p), "ED: 2\nES: 2\nNbFrame: 4\n"), ("same frame",), ALL),
    BadInput("garbled cfg", lambda p: _write(cfg(p), "ED 1\n\x00\x01"), ("expected 'Key: value'",), ALL),
    BadInput("cfg NbFrame above the frames", lambda p: _write(cfg(p), "ED: 1\nES: 4\nNbFrame: 9\n") and seq_image(p),
             ("4 frames, fewer than NbFrame 9 in Info_4CH.cfg",), IMAGE_READERS),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def option_file(folder: Path, kind: str) -> tuple[Path, str]:
    """A bad JSON option file of ``kind`` and the words its error must hold."""
    path = folder / f"{kind.replace(' ', '_')}.json"
    contents = {
        "missing": (None, "file not found"),
        "not JSON": ("{bounds: 1", "is not JSON"),
        "a list": (json.dumps([1, 2, 3]), "must hold a JSON object, got a list"),
        "wrong types": (json.dumps({"bounds": {"lv_area": "x"}, "tau": 3}), "not a valid"),
        "unknown keys": (json.dumps({"no_such_limit": 1.0}), "not a valid"),
    }
    text, words = contents[kind]
    if text is not None:
        path.write_text(text)
    return path, words


OPTION_FILE_KINDS = ("missing", "not JSON", "a list", "wrong types", "unknown keys")


# ------------------------------------------------------------------------------------------------ the contract

COMPLETE = ("summary.json", "report.html", "metrics.csv", "frames.csv")
FUZZ = settings(max_examples=6, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def command_line(command: str, inputs: dict, out: Path, models: list[str]) -> list[str]:
    """The arguments of ``command`` on the tiny input (fast settings: tiny models, gaussian or no smoothing)."""
    data, pred = inputs["data"], inputs["pred"]
    model, vae = models[:2], models[2:]
    return {
        "data check": ["data", "check", data, "--no-progress"],
        "segment": ["segment", data, "--out", out, *model],
        "run": ["run", data, "--out", out, "--method", "none", *models],
        "smooth": ["smooth", data, "--out", out, "--method", "gaussian", *vae],
        "evaluate": ["evaluate", pred, "--gt", data, "--out", out],
    }[command]


def assert_refused(outcome, command: str, named: Path, words: tuple[str, ...], out: Path | None) -> None:
    """The refusal contract of the issue (see the module docstring)."""
    assert outcome.escaped is None, f"traceback: {outcome.escaped!r}"
    assert "Traceback" not in outcome.err and not outcome.logged_tracebacks, outcome.err
    if command == "data check":
        assert outcome.code == 1, (outcome.code, outcome.out, outcome.err)
        lines = [line for line in outcome.out.splitlines() if line.startswith(f"{named}: ")]
    else:
        assert outcome.code == 2, (outcome.code, outcome.out, outcome.err)
        lines = outcome.error_lines()
        assert len(lines) == 1, outcome.err
    assert lines and named.name in lines[0], (named, outcome.out, outcome.err)
    assert all(word in lines[0] for word in words), (words, lines)
    if out is not None:
        assert_no_complete_output(out)


def assert_no_complete_output(out: Path) -> None:
    if out.exists():
        found = [p.name for p in out.rglob("*") if p.name in COMPLETE]
        assert not found, f"{out} looks complete: {found}"
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith((f"{out.name}.", f".{out.name}."))]
