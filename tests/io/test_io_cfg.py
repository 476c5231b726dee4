"""cfg and split files: parsing, 1-based frame numbers, clear errors."""

from __future__ import annotations

import pytest

from echolatent.errors import InputError
from echolatent.io.cfg import frame_number, parse_cfg, read_cfg, read_split_file


def test_parse_cfg_reads_key_values_and_skips_blank_lines():
    info = parse_cfg("ED: 1\n\nES: 13\nNbFrame: 13\nImageQuality: Good\nLVef: 55.2\n")
    assert info == {"ED": "1", "ES": "13", "NbFrame": "13", "ImageQuality": "Good", "LVef": "55.2"}
    assert frame_number(info, "ES") == 13
    assert frame_number(info, "FrameRate") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ED 1\n", "line 1: expected 'Key: value'"),
        ("ED: 1\nED: 2\n", "line 2: key 'ED' given twice"),
        ("ED: first\n", "ED must be a whole number"),
        ("ES: 0\n", "ES must be a positive whole number"),
        ("NbFrame: 2.5\n", "NbFrame must be a positive whole number"),
    ],
)
def test_malformed_cfg_names_file_and_problem(tmp_path, text, problem):
    path = tmp_path / "Info_4CH.cfg"
    path.write_text(text)
    with pytest.raises(InputError, match=problem) as err:
        read_cfg(path)
    assert str(err.value).startswith(str(path))


def test_split_file(tmp_path):
    path = tmp_path / "subgroup_training.txt"
    path.write_text("patient0002\npatient0001\n\n")
    assert read_split_file(path) == ["patient0002", "patient0001"]
    path.write_text("patient0002\nPATIENT 7\n")
    with pytest.raises(InputError, match="line 2: expected a patient id"):
        read_split_file(path)
    path.write_text("patient0002\npatient0002\n")
    with pytest.raises(InputError, match="listed twice"):
        read_split_file(path)
    with pytest.raises(InputError, match="split file not found"):
        read_split_file(tmp_path / "missing.txt")
