"""Every bad-input class against every command that reads the broken file, through the console entry point.

Each refusal must be: exit code 2 (1 for ``data check``, which lists problems), one line naming the file and
the problem, no traceback (on stderr or in the log), the input tree unchanged, no output that looks complete.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability_helpers import (
    CLASSES,
    FUZZ,
    PATIENT,
    SEQ,
    BadInput,
    assert_refused,
    bad_labels,
    command_line,
    random_bytes,
    seq_image,
    seq_mask,
    tree_hashes,
    truncate,
)

CASES = [(case, command) for case in CLASSES for command in case.commands]


@pytest.mark.parametrize(("case", "command"), CASES, ids=[f"{c.name}-{cmd}" for c, cmd in CASES])
def test_bad_input_is_refused_in_one_line(case: BadInput, command, inputs, cli, models, tmp_path):
    named = case.apply(inputs)
    before = tree_hashes(*inputs.values())
    out = tmp_path / "out"
    outcome = cli(command_line(command, inputs, out, models))
    assert_refused(outcome, command, named, case.words, None if command == "data check" else out)
    assert tree_hashes(*inputs.values()) == before


@pytest.mark.parametrize("command", ["data check", "segment", "run", "smooth", "evaluate"])
def test_clean_input_passes_every_command(command, inputs, cli, models, tmp_path):
    """The control: the same command lines succeed on the clean input (so the refusals above are the breakage's)."""
    before = tree_hashes(*inputs.values())
    outcome = cli(command_line(command, inputs, tmp_path / "out", models))
    assert outcome.code == 0 and outcome.escaped is None, (outcome.out, outcome.err, outcome.escaped)
    assert tree_hashes(*inputs.values()) == before


# ------------------------------------------------------------------------------------------------ hypothesis


@FUZZ
@given(data=st.binary(min_size=0, max_size=1500), zipped=st.booleans())
def test_random_bytes_as_an_image(data, zipped, fresh_inputs, cli, models, tmp_path_factory):
    inputs = fresh_inputs()
    path = random_bytes(seq_image(inputs), data, zipped)
    out = tmp_path_factory.mktemp("o") / "out"
    words = ("empty file",) if not data and not zipped else ()
    assert_refused(cli(command_line("data check", inputs, out, models)), "data check", path, words, None)
    assert_refused(cli(command_line("segment", inputs, out, models)), "segment", path, words, out)


@FUZZ
@given(keep=st.floats(0.02, 0.97), whole_stream=st.booleans())
def test_any_truncation_of_a_mask(keep, whole_stream, fresh_inputs, cli, models, tmp_path_factory):
    """Cut the file's bytes, or (``whole_stream``) the decompressed bytes re-compressed as a valid gzip stream."""
    inputs = fresh_inputs()
    path = seq_mask(inputs)
    if whole_stream:
        data = gzip.decompress(path.read_bytes())
        path.write_bytes(gzip.compress(data[: int(len(data) * keep)]))
    else:
        truncate(path, keep)
    out = tmp_path_factory.mktemp("o") / "out"
    assert_refused(cli(command_line("data check", inputs, out, models)), "data check", path, ("truncated",), None)
    assert_refused(cli(command_line("evaluate", inputs, out, models)), "evaluate", path, ("truncated",), out)


@FUZZ
@given(label=st.integers(4, 255))
def test_any_label_outside_0_to_3(label, fresh_inputs, cli, models, tmp_path_factory):
    inputs = fresh_inputs()
    path = bad_labels(seq_mask(inputs), label)
    out = tmp_path_factory.mktemp("o") / "out"
    assert_refused(cli(command_line("evaluate", inputs, out, models)), "evaluate", path, (f"{{{label}}}",), out)


def test_truncated_camus224_like_sequence_is_not_read_as_zeros(inputs, cli, models, tmp_path):
    """The issue's repro on the tiny input: half of a half-sequence image, then data check and run."""
    path = seq_image(inputs)
    data = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(data[: len(data) // 2]))  # a whole gzip stream of half the bytes
    outcome = cli(command_line("data check", inputs, tmp_path / "o", models))
    assert_refused(outcome, "data check", path, ("truncated", f"of {len(data)} bytes"), None)
    assert_refused(cli(command_line("run", inputs, tmp_path / "o", models)), "run", path, ("truncated",),
                   tmp_path / "o")


def test_evaluate_sequences_of_different_frame_sizes(inputs, cli, models, tmp_path):
    """Issue item 4: sequences with different frame sizes used to crash evaluate (ValueError in _gt_validity)."""
    from reliability_helpers import geometry, heart

    from echolatent.io.volume import write_like

    other = "patient0002"
    for root, suffix in ((inputs["data"] / "database_nifti", "_gt"), (inputs["pred"], "_pred")):
        masks = heart(4, 48)
        write_like(masks, geometry(masks.shape), root / other / f"{other}_4CH_half_sequence{suffix}.nii.gz")
    outcome = cli(command_line("evaluate", inputs, tmp_path / "out", models))
    assert outcome.code == 0 and outcome.escaped is None, outcome.err
    assert (tmp_path / "out" / "summary.json").is_file()


def test_run_warns_on_an_all_empty_ground_truth(inputs, cli, models, tmp_path, caplog):
    from reliability_helpers import geometry

    from echolatent.io.volume import write_like

    write_like(np.zeros((4, 32, 32), np.uint8), geometry((4, 32, 32)), seq_mask(inputs))
    outcome = cli(command_line("run", inputs, tmp_path / "out", models))
    assert outcome.code == 0, outcome.err
    warned = [r.getMessage() for r in caplog.records if "ground truth is empty" in r.getMessage()]
    assert warned and f"{SEQ}_gt.nii.gz" in warned[0] and PATIENT in warned[0]
