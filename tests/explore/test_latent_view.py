"""The latent side of the explorer: code validation, decoding, re-measured attributes, sampling."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pytest
from PIL import Image

from echolatent.explore.latent_view import PNG_SCALE, Z_LIMIT, LatentView, parse_code
from echolatent.measure.attributes import ATTRIBUTES


def test_parse_code_accepts_a_list_of_numbers() -> None:
    code = parse_code([0, 1.5, -2, Z_LIMIT], 4)
    assert code.dtype == np.float32
    np.testing.assert_allclose(code, [0, 1.5, -2, Z_LIMIT])


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ([0.0] * 3, "4 values"),
        ([0.0] * 5, "4 values"),
        ("0,0,0,0", "list"),
        (None, "list"),
        ([0.0, float("nan"), 0.0, 0.0], "NaN"),
        ([0.0, float("inf"), 0.0, 0.0], "NaN or infinite"),
        ([0.0, 0.0, 0.0, Z_LIMIT + 0.01], "within"),
        ([0.0, 0.0, "1", 0.0], "numbers"),
        ([0.0, True, 0.0, 0.0], "numbers"),
        ([0.0, [1.0], 0.0, 0.0], "numbers"),
        ([0.0, 10**400, 0.0, 0.0], "too large"),
    ],
)
def test_parse_code_rejects_bad_codes(values, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_code(values, 4)


def test_describe_names_regularised_dimensions(shipped_view: LatentView) -> None:
    described = shipped_view.describe()
    cfg = shipped_view.model.config
    assert described["latent_dim"] == cfg.latent_dim == len(described["dims"])
    for k, dim in enumerate(described["dims"]):
        expected = cfg.attributes[k] if k < len(cfg.attributes) else None
        assert dim["attribute"] == expected
        assert dim["min"] <= dim["train_min"] <= dim["reference"] <= dim["train_max"] <= dim["max"]
        assert dim["min"] >= -Z_LIMIT and dim["max"] <= Z_LIMIT
    assert described["dims"][0]["name"] == "lv_area"


def test_reset_code_decodes_a_valid_heart(shipped_view: LatentView) -> None:
    result = shipped_view.decode(shipped_view.reference)
    assert result["valid"], result["failed"]
    assert set(result["attributes"]) == set(ATTRIBUTES)
    assert all(value is not None and value > 0 for key, value in result["attributes"].items() if "area" in key)
    picture = Image.open(io.BytesIO(base64.b64decode(result["png"])))
    size = shipped_view.model.config.input_size * PNG_SCALE
    assert picture.size == (size, size)


def test_lv_area_dimension_moves_lv_area_up(shipped_view: LatentView) -> None:
    """The AR-VAE ties dim 0 to lv_area monotonically: raising it grows the decoded LV."""
    dim = shipped_view.model.config.attributes.index("lv_area")
    areas = []
    for step in (-1.5, 0.0, 1.5):
        code = shipped_view.reference.copy()
        code[dim] += step
        areas.append(shipped_view.decode(code)["attributes"]["lv_area"])
    assert areas[0] < areas[1] < areas[2]


@pytest.mark.parametrize("kind", ["prior", "range"])
def test_sample_is_reproducible_and_bounded(shipped_view: LatentView, kind: str) -> None:
    first, second = shipped_view.sample(kind, seed=3), shipped_view.sample(kind, seed=3)
    np.testing.assert_array_equal(first, second)
    assert first.shape == (shipped_view.latent_dim,) and np.abs(first).max() <= Z_LIMIT
    if kind == "range":
        assert (first >= shipped_view.model.latent_min.numpy()).all()
        assert (first <= shipped_view.model.latent_max.numpy()).all()


def test_sample_rejects_unknown_kind(shipped_view: LatentView) -> None:
    with pytest.raises(ValueError, match="unknown sample kind"):
        shipped_view.sample("posterior")


def test_empty_heart_gives_null_attributes(shipped_view: LatentView) -> None:
    """A code far from the data decodes to an empty mask: undefined attributes are None (JSON null), not NaN."""
    result = shipped_view.decode(np.full(shipped_view.latent_dim, -Z_LIMIT, np.float32))
    values = result["attributes"].values()
    assert all(v is None or math.isfinite(v) for v in values)
