"""One latent code -> the decoded heart as a PNG and its re-measured attributes, for the explorer page.

Codes are validated here (length, finite values, ``|z| <= Z_LIMIT``) so that the server can turn a bad request
into a 4xx answer; the slider ranges come from the model's training range of ``mu`` (``latent_min``/``latent_max``).
"""

from __future__ import annotations

import base64
import io
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from echolatent.latent.codec import decode_latents
from echolatent.measure.attribute_info import attribute_unit
from echolatent.measure.attributes import ATTRIBUTES, compute_attributes
from echolatent.measure.validity import check_validity
from echolatent.models.shape import ShapeModel
from echolatent.report.overlays import COLOURS, overlay

log = logging.getLogger(__name__)

Z_LIMIT = 10.0
SAMPLE_KINDS = ("prior", "range")
PNG_SCALE = 3  # the 96 px decoded mask is shown 3x larger (nearest neighbour)


def png_bytes(rgb: np.ndarray, scale: int = 1) -> bytes:
    """``(H, W, 3)`` uint8 -> PNG bytes, enlarged ``scale`` times by pixel repetition."""
    if scale > 1:
        rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="PNG")
    return buffer.getvalue()


def mask_png(mask: np.ndarray, image: np.ndarray | None = None, scale: int = 1) -> bytes:
    """``(H, W)`` labels (over an optional grey ``(H, W)`` image) -> PNG bytes in the report's colours."""
    return png_bytes(overlay(image, mask), scale)


def finite_or_none(value: float) -> float | None:
    """JSON-safe number: NaN and infinities become ``None``."""
    value = float(value)
    return value if math.isfinite(value) else None


def parse_code(values: object, latent_dim: int, limit: float = Z_LIMIT) -> np.ndarray:
    """A JSON list of ``latent_dim`` finite numbers within ``[-limit, limit]`` -> ``(latent_dim,)`` float32.

    Raises:
        ValueError: not a list, wrong length, a non-number (booleans included), NaN/infinity, out of range.
    """
    if not isinstance(values, list):
        raise ValueError(f"z must be a list of {latent_dim} numbers, got {type(values).__name__}")
    if len(values) != latent_dim:
        raise ValueError(f"z must have {latent_dim} values (the model's latent size), got {len(values)}")
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        raise ValueError("z must hold numbers only")
    try:
        code = np.asarray(values, dtype=np.float64)
    except OverflowError:
        raise ValueError("z holds a number too large for a float") from None
    if not np.isfinite(code).all():
        raise ValueError("z holds NaN or infinite values")
    if np.abs(code).max() > limit:
        raise ValueError(f"z values must lie within [-{limit:g}, {limit:g}], got {np.abs(code).max():g}")
    return code.astype(np.float32)


@dataclass
class LatentView:
    """A shape model behind the explorer's sliders.

    Attributes:
        model: the shape model (eval mode).
        reference: ``(d,)`` the reset code: the middle of the training range of ``mu`` (a plausible heart).
    """

    model: ShapeModel
    reference: np.ndarray

    @classmethod
    def from_model(cls, model: ShapeModel) -> LatentView:
        """Wrap ``model``; the reset code is the middle of its training range of ``mu``."""
        model.eval()
        low, high = model.latent_min.numpy(), model.latent_max.numpy()
        return cls(model, ((low + high) / 2).astype(np.float32))

    @property
    def latent_dim(self) -> int:
        return self.model.config.latent_dim

    def describe(self) -> dict:
        """JSON description: kind, size, one entry per dimension (name, attribute, slider range), attributes and
        their units (pixels of the model's grid: the decoded mask has no physical size)."""
        cfg = self.model.config
        low, high = self.model.latent_min.numpy(), self.model.latent_max.numpy()
        dims = []
        for k in range(cfg.latent_dim):
            attribute = cfg.attributes[k] if k < len(cfg.attributes) else None
            lo, hi = _slider_range(float(low[k]), float(high[k]))
            dims.append({"index": k, "attribute": attribute, "name": attribute or f"z{k} (free)",
                         "min": lo, "max": hi, "train_min": float(low[k]), "train_max": float(high[k]),
                         "reference": float(self.reference[k])})
        colours = {label.name: "#{:02x}{:02x}{:02x}".format(*colour) for label, colour in COLOURS.items()}
        return {"kind": cfg.kind, "input_size": cfg.input_size, "latent_dim": cfg.latent_dim, "z_limit": Z_LIMIT,
                "dims": dims, "attributes": list(ATTRIBUTES), "colours": colours, "sample_kinds": list(SAMPLE_KINDS),
                "units": {name: attribute_unit(name, False) for name in ATTRIBUTES}}  # decoded on the model's grid

    def decode(self, code: np.ndarray) -> dict:
        """``(d,)`` validated code -> {png (base64), attributes, valid, failed criteria, milliseconds}."""
        started = time.perf_counter()
        mask = decode_latents(self.model, code[None])
        attributes = compute_attributes(mask)
        validity = check_validity(mask)
        png = mask_png(mask[0], scale=PNG_SCALE)
        elapsed = (time.perf_counter() - started) * 1000
        log.debug("decoded a code in %.1f ms", elapsed)
        failed = [name for name, passed in validity.passed.items() if not bool(passed[0])]
        return {"z": [float(v) for v in code],
                "png": base64.b64encode(png).decode("ascii"),
                "attributes": {name: finite_or_none(values[0]) for name, values in attributes.items()},
                "valid": bool(validity.valid[0]), "failed": failed, "ms": round(elapsed, 2)}

    def sample(self, kind: str, seed: int | None = None) -> np.ndarray:
        """A random code: ``prior``: N(0, I) (clipped to the limit); ``range``: uniform in the training range."""
        if kind not in SAMPLE_KINDS:
            raise ValueError(f"unknown sample kind {kind!r}; expected one of {list(SAMPLE_KINDS)}")
        rng = np.random.default_rng(seed)
        if kind == "prior":
            code = rng.standard_normal(self.latent_dim)
        else:
            code = rng.uniform(self.model.latent_min.numpy(), self.model.latent_max.numpy())
        return np.clip(code, -Z_LIMIT, Z_LIMIT).astype(np.float32)


def _slider_range(low: float, high: float) -> tuple[float, float]:
    """Slider bounds: the training range widened by 10 % each side (at least +-3 for an untrained model)."""
    margin = 0.1 * (high - low)
    low, high = min(low - margin, -3.0), max(high + margin, 3.0)
    return round(max(low, -Z_LIMIT), 3), round(min(high, Z_LIMIT), 3)
