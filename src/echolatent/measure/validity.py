"""Anatomical validity of cardiac masks: the twelve criteria of Painchaud et al. (TMI 2020), frame by frame.

A frame is valid when every criterion passes; a missing structure (LV, MYO or LA absent) fails the criteria
that need it. Each criterion keeps the value behind its verdict:

==========================  ==================================================================  ============
criterion                   value                                                               passes when
==========================  ==================================================================  ============
holes_lv / holes_la         pixels in holes of the structure (8-connected outside, padded)      == 0
holes_epi                   pixels in holes of LV + MYO                                         == 0
disconnected_lv/_myo/_la    pixels outside the largest 8-connected component                    == 0
holes_lv_myo / holes_lv_la  pixels of holes of the union that are no hole of either structure   == 0
                            alone, set to 0 when at most H*W/2^14 (small resampling gaps)
frontier_lv_bg              LV pixels touching background (3x3) / LV bounding-box width         <= 0.4
frontier_myo_la             MYO pixels touching LA (3x3) / MYO bounding-box width               <= 0.11*
width_ratio_lv_myo          LV width / MYO width on the row through the LV+MYO centre of mass   <= 4.15
erosion_ratio_myo           3x3 erosions until MYO splits / max distance transform of MYO       >= 0.12
==========================  ==================================================================  ============

(*) published limits, loosened by calibration on expert masks at the grid where the check runs (see below).
The image border is padded as outside, so a heart touching the image edge has no false hole (the public
code took pixel [0, 0] as outside). Rows and widths assume the apex at the top.

Ratio thresholds depend on the grid (size, aspect) where they are checked: :class:`ValidityThresholds` holds
them with that grid, ships values calibrated on CAMUS-224 expert masks at 224 and 128 px
(:data:`CAMUS224_THRESHOLDS`, :data:`CAMUS128_THRESHOLDS`; :func:`default_thresholds` picks by grid; frames
near the native CAMUS size are checked resampled to 224 x 224, see :func:`default_check_grid`) and recalibrates
from reference masks with :meth:`ValidityThresholds.calibrate`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from scipy import ndimage

from echolatent.arrays import pad_border
from echolatent.labels import Label
from echolatent.measure.attributes import check_masks
from echolatent.measure.framecache import FrameCache, frame_key, resize_labels_cached

CRITERIA = (
    "holes_lv",
    "holes_la",
    "holes_epi",
    "disconnected_lv",
    "disconnected_myo",
    "disconnected_la",
    "holes_lv_myo",
    "holes_lv_la",
    "frontier_lv_bg",
    "frontier_myo_la",
    "width_ratio_lv_myo",
    "erosion_ratio_myo",
)
_EIGHT = np.ones((3, 3), dtype=bool)
#: Criteria of recently checked frames by content (the smoother checks mostly unchanged sequences many times).
CRITERIA_CACHE = FrameCache()


@dataclass(frozen=True)
class ValidityThresholds:
    """Limits of the four ratio criteria, and the grid ``(H, W)`` they were calibrated on (None: published).

    The count criteria (holes, disconnections) always require 0.
    """

    frontier_lv_bg: float = 0.4
    frontier_myo_la: float = 0.11
    width_ratio_lv_myo: float = 4.15
    erosion_ratio_myo: float = 0.12
    grid: tuple[int, int] | None = None
    note: str = "published (Painchaud et al. 2020)"

    @classmethod
    def published(cls) -> ValidityThresholds:
        """The thresholds of the paper, calibrated on full-resolution CAMUS masks."""
        return cls()

    @classmethod
    def calibrate(
        cls,
        reference: list[np.ndarray] | np.ndarray,
        *,
        quantile: float = 1.0,
        margin: float = 0.05,
        base: ValidityThresholds | None = None,
    ) -> ValidityThresholds:
        """Loosen ``base`` (published by default) so the reference (expert) masks pass.

        Each upper limit becomes ``max(base, q-quantile of the reference values * (1 + margin))``; the lower
        limit (erosion ratio) ``min(base, (1-q)-quantile * (1 - margin))``. Limits are only ever loosened.

        Args:
            reference: label arrays ``(T, H, W)`` on one grid (the grid where checks will run).
            quantile: 1.0 takes the extreme reference value; lower values ignore rare outliers.
            margin: relative margin added beyond the reference values.
        """
        base = base or cls.published()
        masks = np.concatenate([check_masks(m, "reference") for m in _as_list(reference)])
        report = check_validity(masks, base)
        limits = {}
        for name in ("frontier_lv_bg", "frontier_myo_la", "width_ratio_lv_myo"):
            values = report.criteria[name][np.isfinite(report.criteria[name])]
            high = np.quantile(values, quantile) * (1 + margin) if values.size else -np.inf
            limits[name] = float(max(getattr(base, name), high))
        values = report.criteria["erosion_ratio_myo"]
        values = values[np.isfinite(values) & (values > 0)]
        low = np.quantile(values, 1 - quantile) * (1 - margin) if values.size else np.inf
        limits["erosion_ratio_myo"] = float(min(base.erosion_ratio_myo, low))
        note = f"calibrated on {len(masks)} reference masks: quantile {quantile}, margin {margin}"
        return replace(base, **limits, grid=tuple(int(s) for s in masks.shape[1:]), note=note)

    def save(self, path: str | Path) -> Path:
        """Write the thresholds as JSON (atomically)."""
        from echolatent.files import write_json_atomic

        return write_json_atomic(asdict(self), Path(path))

    @classmethod
    def load(cls, path: str | Path) -> ValidityThresholds:
        """Read thresholds written by :meth:`save`."""
        data = json.loads(Path(path).read_text())
        if data.get("grid") is not None:
            data["grid"] = tuple(data["grid"])
        return cls(**data)


# Calibrated with ValidityThresholds.calibrate(all 1800 CAMUS-224 expert masks, quantile=1.0, margin=0.05), rounded
# up to 2 decimals, on the grid where the check runs (the 128 grid: the 224 masks resampled with resize_labels).
# 224 x 224: only the MYO-LA frontier moved (max over expert masks 0.389 -> 0.41); published limits: 87.3 % pass.
# 128 x 128: MYO-LA frontier max 0.412 -> 0.44, LV-background frontier max 0.442 -> 0.47 (one mask above 0.4);
# published limits: 81.0 % pass. The other limits pass every expert mask with a wide margin at both sizes.
CAMUS224_THRESHOLDS = ValidityThresholds(
    frontier_myo_la=0.41,
    grid=(224, 224),
    note="calibrated on the 1800 CAMUS-224 expert masks at 224 x 224: max value * 1.05, other limits published",
)
CAMUS128_THRESHOLDS = ValidityThresholds(
    frontier_lv_bg=0.47,
    frontier_myo_la=0.44,
    grid=(128, 128),
    note="calibrated on the 1800 CAMUS-224 expert masks resampled to 128 x 128: max value * 1.05",
)
# Full-resolution CAMUS (about 0.15-0.3 mm pixels, ~600-1000 px): where the published limits were set.
_PUBLISHED_GRID = (700, 600)


def default_thresholds(grid: tuple[int, int]) -> ValidityThresholds:
    """The shipped limits calibrated on the grid nearest to ``grid`` (by pixel count, in log scale): CAMUS-128 or
    CAMUS-224. Frames nearer the native CAMUS size (``_PUBLISHED_GRID``) get the CAMUS-224 limits and are checked
    after resampling to 224 x 224 (:func:`default_check_grid`), as camus224 itself was made: the published limits
    fail the normal basal MYO-LA contact of many expert masks, so no expert-passing limits exist there."""
    candidates = [CAMUS128_THRESHOLDS, CAMUS224_THRESHOLDS, CAMUS224_THRESHOLDS]
    return candidates[_nearest_grid(grid)]


def default_check_grid(grid: tuple[int, int]) -> tuple[int, int] | None:
    """Grid the default check resamples frames of ``grid`` to (None: checked as they are)."""
    return CAMUS224_THRESHOLDS.grid if _nearest_grid(grid) == 2 else None


def _nearest_grid(grid: tuple[int, int]) -> int:
    """Index of the grid nearest to ``grid`` among 128 x 128, 224 x 224 and the native CAMUS size."""
    grids = [(128, 128), (224, 224), _PUBLISHED_GRID]
    distance = [abs(np.log(grid[0] * grid[1] / (g[0] * g[1]))) for g in grids]
    return int(np.argmin(distance))


@dataclass
class ValidityReport:
    """Per-frame validity.

    Attributes:
        valid: ``(T,)`` bool, all criteria passed.
        criteria: ``{criterion: (T,) float64}`` the value behind each verdict (NaN: a needed structure is absent).
        passed: ``{criterion: (T,) bool}``.
        thresholds: the limits used.
    """

    valid: np.ndarray
    criteria: dict[str, np.ndarray]
    passed: dict[str, np.ndarray]
    thresholds: ValidityThresholds

    def failures(self, frame: int) -> list[str]:
        """Names of the criteria frame ``frame`` fails."""
        return [name for name in CRITERIA if not self.passed[name][frame]]


def check_validity(masks: np.ndarray, thresholds: ValidityThresholds | None = None) -> ValidityReport:
    """``(T, H, W)`` labels -> :class:`ValidityReport` (default limits: :func:`default_thresholds` of the grid;
    frames near the native CAMUS size are checked resampled to 224 x 224, the report's values are then on that grid).

    Raises:
        InputError: unusable label array.
    """
    masks = check_masks(masks)
    if thresholds is None and (grid := default_check_grid(masks.shape[1:])) is not None:
        masks = resize_labels_cached(masks, grid)
    limits = thresholds or default_thresholds(masks.shape[1:])
    values = np.array([_cached_criteria(frame) for frame in masks], dtype=np.float64)
    criteria = {name: values[:, i] for i, name in enumerate(CRITERIA)}
    passed = {}
    for name, value in criteria.items():
        with np.errstate(invalid="ignore"):
            if name == "erosion_ratio_myo":
                ok = value >= limits.erosion_ratio_myo
            elif hasattr(limits, name):
                ok = value <= getattr(limits, name)
            else:
                ok = value == 0
        passed[name] = ok & np.isfinite(value)
    valid = np.logical_and.reduce([passed[name] for name in CRITERIA])
    return ValidityReport(valid, criteria, passed, limits)


def _cached_criteria(frame: np.ndarray) -> tuple[float, ...]:
    """:func:`frame_criteria` values of one ``(H, W)`` uint8 frame, looked up in :data:`CRITERIA_CACHE` first."""
    key = frame_key(frame, "validity")
    values = CRITERIA_CACHE.get(key)
    if values is None:
        values = tuple(frame_criteria(frame).values())
        CRITERIA_CACHE.put(key, values)
    return values


def frame_criteria(frame: np.ndarray) -> dict[str, float]:
    """``(H, W)`` labels -> ``{criterion: value}`` in :data:`CRITERIA` order (NaN: a needed structure is absent)."""
    small = frame.size / 2**14  # of the whole image, before cropping
    frame = _crop(frame)
    lv, myo, la = (frame == Label.LV), (frame == Label.MYO), (frame == Label.LA)
    bg = frame == Label.BG
    nan = float("nan")
    has_lv, has_myo, has_la = lv.any(), myo.any(), la.any()
    epi = lv | myo
    # each region's holes once: holes_between reuses them (9 hole fillings per frame become 5)
    holes = {"lv": _holes(lv) if has_lv else None, "la": _holes(la) if has_la else None,
             "myo": _holes(myo) if has_myo else None, "epi": _holes(epi) if has_lv and has_myo else None}
    return {
        "holes_lv": float(holes["lv"].sum()) if has_lv else nan,
        "holes_la": float(holes["la"].sum()) if has_la else nan,
        "holes_epi": float(holes["epi"].sum()) if has_lv and has_myo else nan,
        "disconnected_lv": disconnected_pixels(lv) if has_lv else nan,
        "disconnected_myo": disconnected_pixels(myo) if has_myo else nan,
        "disconnected_la": disconnected_pixels(la) if has_la else nan,
        "holes_lv_myo": _between(holes["epi"], lv, holes["lv"], myo, holes["myo"], small) if has_lv and has_myo
        else nan,
        "holes_lv_la": _between(_holes(lv | la), lv, holes["lv"], la, holes["la"], small) if has_lv and has_la
        else nan,
        "frontier_lv_bg": frontier_ratio(lv, bg) if has_lv else nan,
        "frontier_myo_la": frontier_ratio(myo, la) if has_myo and has_la else nan,
        "width_ratio_lv_myo": width_ratio(lv, myo) if has_lv and has_myo else nan,
        "erosion_ratio_myo": erosion_ratio(myo, small) if has_myo else nan,
    }


def _crop(frame: np.ndarray, margin: int = 2) -> np.ndarray:
    """The foreground's bounding box plus ``margin`` background pixels (the padding the criteria assume)."""
    rows, cols = np.flatnonzero(frame.any(1)), np.flatnonzero(frame.any(0))
    if rows.size == 0:
        return frame
    return pad_border(frame[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], 0, margin)


def _holes(region: np.ndarray) -> np.ndarray:
    """Boolean ``(H, W)``: pixels outside ``region`` not 8-connected to the (padded) image border."""
    outside, _ = ndimage.label(pad_border(~region, True), structure=_EIGHT)
    return (outside[1:-1, 1:-1] != outside[0, 0]) & ~region


def disconnected_pixels(region: np.ndarray) -> float:
    """Pixels of a boolean ``(H, W)`` region outside its largest 8-connected component."""
    labels, count = ndimage.label(region, structure=_EIGHT)
    if count <= 1:
        return 0.0
    sizes = np.bincount(labels.ravel())[1:]
    return float(sizes.sum() - sizes.max())


def _own_holes(region: np.ndarray, other: np.ndarray, holes: np.ndarray | None = None) -> np.ndarray:
    """Holes of ``region`` that hold no pixel of ``other`` (``holes``: ``_holes(region)`` when already known)."""
    holes = _holes(region) if holes is None else holes
    labels, count = ndimage.label(holes, structure=_EIGHT)
    if count == 0:
        return holes
    touched = np.unique(labels[other & holes])
    return holes & ~np.isin(labels, touched[touched > 0])


def holes_between(first: np.ndarray, second: np.ndarray, min_pixels: float) -> float:
    """Pixels in gaps enclosed by two regions together but by neither alone; 0 when at most ``min_pixels``."""
    return _between(_holes(first | second), first, _holes(first), second, _holes(second), min_pixels)


def _between(union_holes, first, first_holes, second, second_holes, min_pixels: float) -> float:
    """:func:`holes_between` from the holes of the union and of each region."""
    between = union_holes & ~_own_holes(first, second, first_holes) & ~_own_holes(second, first, second_holes)
    count = float(between.sum())
    return count if count > min_pixels else 0.0


def frontier_ratio(first: np.ndarray, second: np.ndarray) -> float:
    """Pixels of ``first`` with a ``second`` pixel in their 3x3 neighbourhood / bounding-box width of ``first``.

    A single touching pixel counts as no frontier.
    """
    touching = float((first & ndimage.binary_dilation(second, _EIGHT)).sum())
    columns = np.flatnonzero(first.any(0))
    width = columns[-1] - columns[0] + 1
    return (touching if touching > 1 else 0.0) / width


def width_ratio(lv: np.ndarray, myo: np.ndarray) -> float:
    """LV pixels / MYO pixels on the row through the centre of mass of LV + MYO (NaN when either is 0)."""
    row = int(ndimage.center_of_mass(lv | myo)[0])
    lv_width, myo_width = lv[row].sum(), myo[row].sum()
    return float(lv_width / myo_width) if lv_width and myo_width else float("nan")


def erosion_ratio(myo: np.ndarray, min_pixels: float) -> float:
    """3x3 erosions until MYO is no longer one piece (small debris ignored) / max distance to its outside.

    0 when MYO is already in several pieces. ``k`` 3x3 erosions keep the pixels whose chessboard distance to the
    outside exceeds ``k``, so the erosions are thresholds of one chessboard distance transform.
    """
    padded = pad_border(myo)
    thickness = ndimage.distance_transform_edt(padded).max()
    depth = ndimage.distance_transform_cdt(padded, metric="chessboard")
    erosions = 0
    while _piece_count(depth > erosions, min_pixels) == 1:
        erosions += 1
    return erosions / thickness


def _piece_count(region: np.ndarray, min_pixels: float) -> int:
    labels, count = ndimage.label(region, structure=_EIGHT)
    if count <= 1:
        return count
    sizes = np.bincount(labels.ravel())[1:]
    return int((sizes >= min_pixels).sum()) if (sizes >= min_pixels).any() else count


def _as_list(reference) -> list[np.ndarray]:
    if isinstance(reference, np.ndarray):
        return [reference]
    return list(reference)
