"""The residual decode's building blocks, frame-chunked: the input's one-hot filtered along time, the per-frame
blend between the residual output and the full decode, and the chunking that bounds memory.

Arrays are ``(T, H, W)`` uint8 labels, ``(n, 4, H, W)`` float32 one-hot or probabilities, ``(T,)`` per-frame
weights; time in frames. :class:`echolatent.temporal.smooth.Smoother` strings them together.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from echolatent.arrays import argmax_labels
from echolatent.cleanup import clean_masks
from echolatent.labels import NUM_LABELS, Label
from echolatent.resample import one_hot

#: Frames decoded and resampled to the input size at a time, at most: bounds the (chunk, 4, H, W) float32 stacks, so
#: a sequence of any length smooths in bounded memory; fewer for large frames, so one stack stays under CHUNK_BYTES.
CHUNK = 32
CHUNK_BYTES = 64 * 2**20
#: Temporal Gaussian width (frames) of the input one-hot at the turns of a multi-beat sequence (ED, ES inside it):
#: the centre weight stays below 1/2 (0.47: a one-frame error is still removed) and a turn is lowered 3x less than
#: by the 1.5-frame filter of the other frames (docs/smoothing.md: measured).
TURN_SIGMA = 0.85
#: Filtered input frames one smoothing call keeps, at most (bytes; a 224 x 224 frame: 0.8 MB).
ONEHOT_CACHE_BYTES = 128 * 2**20


def chunks(frames: np.ndarray, size: tuple[int, ...]):
    """Frame indices ``(n,)`` -> successive blocks of at most :data:`CHUNK` of them, fewer for frames of
    ``size`` ``(H, W)`` so large that a ``(block, 4, H, W)`` float32 stack would exceed :data:`CHUNK_BYTES`."""
    step = int(max(1, min(CHUNK, CHUNK_BYTES // (NUM_LABELS * 4 * int(np.prod(size))))))
    for start in range(0, len(frames), step):
        yield frames[start : start + step]


def filtered_onehot(masks: np.ndarray, frames: np.ndarray, sigma: float) -> np.ndarray:
    """``(n, 4, H, W)`` float32 one-hot of ``masks`` at ``frames`` after the temporal Gaussian of ``sigma``
    frames over the whole sequence (edges repeated, as ``gaussian_filter1d(mode="nearest")``), summed over the
    few frames within the filter's reach of each requested frame only: memory and time follow ``n``, whatever
    the spread of ``frames``. Each value is the float32 sum, tap by tap in time order, of the weights of the taps
    holding that label."""
    if sigma <= 0:
        return one_hot(masks[frames]).numpy()
    offsets = np.arange(-gauss_radius(sigma), gauss_radius(sigma) + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    taps = np.clip(np.asarray(frames)[:, None] + offsets, 0, len(masks) - 1)
    out = np.zeros((len(frames), NUM_LABELS, *masks.shape[1:]), dtype=np.float32)
    holds = np.empty((len(frames), *masks.shape[1:]), dtype=bool)
    for k, weight in enumerate(kernel):
        near = masks[taps[:, k]]
        for label in range(NUM_LABELS):
            np.equal(near, label, out=holds)
            np.add(out[:, label], weight, out=out[:, label], where=holds)  # no float temporary a tap
    return out


def prefiltered(masks: np.ndarray, sigma: float, turns: np.ndarray | None = None,
                cache: OneHotCache | None = None, lv_kept: np.ndarray | None = None) -> np.ndarray:
    """``(T, H, W)`` labels -> ``(T, H, W)`` uint8 cleaned arg-max of their one-hot filtered along time by a
    Gaussian of ``sigma`` frames, of :data:`TURN_SIGMA` on the frames flagged in ``turns`` ``(T,)`` bool, the LV
    kept as it is on those flagged in ``lv_kept`` ``(T,)`` bool (:func:`keep_lv`; a chunk of frames at a time;
    ``cache``: filtered frames of ``masks`` kept for the caller)."""
    sigmas = np.full(len(masks), float(sigma))
    out = np.empty(masks.shape, dtype=np.uint8)
    for frames in chunks(np.arange(len(masks)), masks.shape[1:]):
        out[frames] = argmax_labels(onehot_per_frame(masks, frames, sigmas[frames], turns, cache, lv_kept))
    return clean_masks(out)


def onehot_per_frame(masks: np.ndarray, frames: np.ndarray, sigmas: np.ndarray, turns: np.ndarray | None = None,
                     cache: OneHotCache | None = None, lv_kept: np.ndarray | None = None) -> np.ndarray:
    """``(n, 4, H, W)`` :func:`filtered_onehot` of ``masks`` at ``frames`` ``(n,)``, each frame by its own sigma
    ``(n,)`` (frames), :data:`TURN_SIGMA` on the frames flagged in ``turns`` ``(T,)`` bool, with the input's LV on
    the frames flagged in ``lv_kept`` ``(T,)`` bool (:func:`keep_lv`). With ``cache`` (one per ``masks``), frames
    filtered before at the same sigma are looked up, the others computed and kept."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if turns is not None:
        sigmas = np.where(turns[frames], TURN_SIGMA, sigmas)
    out = np.empty((len(frames), NUM_LABELS, *masks.shape[1:]), dtype=np.float32)
    for value in np.unique(sigmas):
        rows = np.flatnonzero(sigmas == value)
        known = [] if cache is None else [r for r in rows if (int(frames[r]), float(value)) in cache]
        for row in known:
            out[row] = cache[int(frames[row]), float(value)]
        fresh = np.setdiff1d(rows, known)
        if fresh.size:
            out[fresh] = filtered_onehot(masks, frames[fresh], float(value))
            if cache is not None:
                cache.keep(frames[fresh], float(value), out[fresh])
    if lv_kept is not None and lv_kept[frames].any():
        rows = np.flatnonzero(lv_kept[frames])
        out[rows] = keep_lv(out[rows], masks[frames[rows]])
    return out


def keep_lv(filtered: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``(n, 4, H, W)`` filtered one-hot of frames whose ``(n, H, W)`` labels hold their LV as it is -> the same
    with the LV channel the input's LV (1 on its pixels, 0 elsewhere) and the other channels 0 on the LV and
    rescaled to sum to 1 off it: the arg-max keeps the LV's pixels exactly (a temporal filter lowers every maximum
    of the LV area and raises every minimum) and chooses among the other labels as the filter does."""
    out = filtered.copy()
    lv = labels == Label.LV
    others = [label for label in range(NUM_LABELS) if label != Label.LV]
    total = out[:, others].sum(axis=1)
    scale = np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)
    for label in others:
        out[:, label] *= scale
        out[:, label][lv] = 0.0
    out[:, Label.LV] = lv
    return out


class OneHotCache:
    """``(frame index, sigma) -> (4, H, W)`` float32 filtered one-hot of ONE input sequence, holding at most
    ``max_bytes`` (the first ones computed are kept): the exact smoother filters the same input frames again in
    every round and candidate, and filtered values do not depend on which other frames are filtered with them."""

    def __init__(self, max_bytes: int = ONEHOT_CACHE_BYTES) -> None:
        self.max_bytes, self.bytes, self._items = max_bytes, 0, {}

    def __contains__(self, key: tuple[int, float]) -> bool:
        return key in self._items

    def __getitem__(self, key: tuple[int, float]) -> np.ndarray:
        return self._items[key]

    def __len__(self) -> int:
        return len(self._items)

    def keep(self, frames: np.ndarray, sigma: float, values: np.ndarray) -> None:
        """Keep ``values`` ``(n, 4, H, W)``, the filtered ``frames`` ``(n,)`` at ``sigma``, while room is left."""
        for frame, value in zip(frames, values, strict=True):
            key = (int(frame), float(sigma))
            if key in self._items:  # a frame asked for twice in one call
                continue
            if self.bytes + value.nbytes > self.max_bytes:
                return
            self._items[key] = value.copy()
            self.bytes += value.nbytes


def blend(residual, onehot, probs, full, weights: np.ndarray) -> np.ndarray:
    """Per-frame mix ``(T, H, W)``: weight 0 -> ``residual``, 1 -> ``full``, w in between -> the cleaned argmax of
    ``(1 - w) onehot + w probs``."""
    out = residual.copy()
    out[weights == 1] = full[weights == 1]
    between = (weights > 0) & (weights < 1)
    if between.any():
        w = weights[between, None, None, None].astype(np.float32)
        out[between] = clean_masks(argmax_labels((1 - w) * onehot[between] + w * probs[between]))
    return out


#: Gaussian kernel half-width in sigmas (scipy's ``truncate``).
_TRUNCATE = 3.0


def gauss_radius(sigma: float) -> int:
    """Frames on each side that the input filter of ``sigma`` frames reads (scipy's radius for ``truncate``)."""
    return int(_TRUNCATE * sigma + 0.5)


class Once:
    """A value computed on the first call only."""

    def __init__(self, make) -> None:
        self.make, self.value, self.done = make, None, False

    def __call__(self):
        if not self.done:
            self.value, self.done = self.make(), True
        return self.value


def widen(frames: np.ndarray, radius: int) -> np.ndarray:
    """``(T,)`` bool frames -> those frames and their neighbours within ``radius`` frames."""
    return ndimage.binary_dilation(frames, iterations=radius) if radius > 0 and frames.any() else frames.copy()
