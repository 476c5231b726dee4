"""The real CAMUS-224 data (skipped when ../shared/data/camus224 is absent)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import echolatent.cli.check_cmd  # noqa: F401  (registers `data check`)
from echolatent.cli.app import app
from echolatent.io.camus import find_sequences, load_sequence, read_split
from echolatent.labels import Label, View

pytestmark = pytest.mark.camus


def test_patient0001_loads_with_apex_at_the_top(camus224):
    refs = find_sequences(camus224, patients=["patient0001"])
    assert [(r.view, r.kind) for r in refs] == [(v, k) for v in (View.A2C, View.A4C) for k in ("ED", "ES")]
    for ref in refs:
        seq = load_sequence(ref)
        assert seq.image.shape == seq.mask.shape == (1, 224, 224)
        assert seq.image.dtype == seq.mask.dtype == np.uint8 and seq.spacing == (1.0, 1.0)
        assert set(np.unique(seq.mask)) == {0, 1, 2, 3} and seq.info == {} and ref.cfg is None
        rows = {label: np.nonzero(seq.mask[0] == label)[0].mean() for label in Label.foreground()}
        assert rows[Label.LV] < rows[Label.LA], f"{ref.name}: LV below LA, image upside down"
        # the apex (top of the LV cavity) is above the middle, the atrium reaches below it
        assert np.nonzero(seq.mask[0] == Label.LV)[0].min() < 112 < np.nonzero(seq.mask[0] == Label.LA)[0].max()


def test_official_split_sizes(camus224):
    training, validation = read_split(camus224, "training"), read_split(camus224, "validation")
    assert (len(training), len(validation)) == (400, 50) and not set(training) & set(validation)


@pytest.mark.slow
def test_data_check_on_camus224_is_clean(camus224):
    result = CliRunner().invoke(app, ["data", "check", str(camus224), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("3602 files checked, 0 problems")
