"""CAMUS cfg and split files value by value: what a line may hold (comments, colons in values, spaces), frame
numbers at their limit (1 and whole floats accepted, 0, 0.5 and words refused), each refusal's exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from echolatent.errors import InputError
from echolatent.io.cfg import FRAME_KEYS, SUBSETS, frame_number, parse_cfg, read_cfg, read_split_file


def test_keys_values_comments_and_colons() -> None:
    text = "  # a comment\nED :  1 \n\t\nNote: a: b\n#ES: 3\nEmpty:\nES: 20\n   \n"
    assert parse_cfg(text) == {"ED": "1", "Note": "a: b", "Empty": "", "ES": "20"}


@pytest.mark.parametrize(("text", "message"), [
    ("ED: 1\nno colon here\n", "line 2: expected 'Key: value', got 'no colon here'"),
    ("ED: 1\n\n  : 5\n", "line 3: expected 'Key: value', got ': 5'"),
    ("x" * 70 + "\n", "line 1: expected 'Key: value', got '" + "x" * 60 + "'"),
    ("A: 1\n# c\nB: 2\nA: 3\n", "line 4: key 'A' given twice"),
    ("ED: one\n", "ED must be a whole number, got 'one'"),
    ("ES: 0\n", "ES must be a positive whole number, got '0'"),
    ("NbFrame: -3\n", "NbFrame must be a positive whole number, got '-3'"),
    ("ED: 2.5\n", "ED must be a positive whole number, got '2.5'"),
    ("ES: nan\n", "ES must be a positive whole number, got 'nan'"),
])
def test_malformed_cfg_messages(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        parse_cfg(text, "Info_2CH.cfg")
    assert err.value.problem == message and str(err.value).startswith("Info_2CH.cfg: ")


def test_frame_keys_only_are_checked() -> None:
    assert FRAME_KEYS == ("ED", "ES", "NbFrame")
    assert parse_cfg("LVef: abc\nFrameRate: 0\nEDs: x\n") == {"LVef": "abc", "FrameRate": "0", "EDs": "x"}


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("17", 17), ("3.0", 3), (" 4 ", 4), ("1e1", 10)])
def test_frame_numbers(value: str, expected: int) -> None:
    number = frame_number({"ES": value}, "ES")
    assert number == expected and isinstance(number, int)


@pytest.mark.parametrize("value", ["0", "0.5", "0.999", "-1", "1.5", "inf"])
def test_frame_numbers_refused(value: str) -> None:
    with pytest.raises(InputError, match=r"^x\.cfg: ED must be a positive whole number"):
        frame_number({"ED": value}, "ED", "x.cfg")


def test_an_absent_frame_key_is_none() -> None:
    assert frame_number({"ED": "2"}, "ES") is None and frame_number({}, "NbFrame", "x.cfg") is None


def test_read_cfg_reads_a_file_and_names_problems(tmp_path: Path) -> None:
    path = tmp_path / "Info_4CH.cfg"
    path.write_text("ED: 1\nES: 9\n", encoding="utf-8")
    assert read_cfg(path) == read_cfg(str(path)) == {"ED": "1", "ES": "9"}
    with pytest.raises(InputError, match=r"Info_9CH.cfg: file not found$"):
        read_cfg(tmp_path / "Info_9CH.cfg")
    path.write_bytes(b"ED: \xff\xfe\n")
    with pytest.raises(InputError, match=r"Info_4CH.cfg: cannot read cfg \(UnicodeDecodeError\)$"):
        read_cfg(path)
    with pytest.raises(InputError, match=r": cannot read cfg \(IsADirectoryError\)$"):
        read_cfg(tmp_path)
    path.write_text("ES: 0\n")
    with pytest.raises(InputError) as err:
        read_cfg(path)
    assert err.value.path == path


def test_split_files_in_order_with_exact_messages(tmp_path: Path) -> None:
    path = tmp_path / "subgroup_testing.txt"
    path.write_text("  patient0010  \n\n patient0002\npatient1\n", encoding="utf-8")
    assert read_split_file(path) == ["patient0010", "patient0002", "patient1"]
    assert read_split_file(str(path)) == ["patient0010", "patient0002", "patient1"]
    for text, message in (("patient0001\n\npatient0001x\n", "line 3: expected a patient id like 'patient0001', got "
                           "'patient0001x'"),
                          ("Patient0001\n", "line 1: expected a patient id like 'patient0001', got 'Patient0001'"),
                          ("patient\n", "line 1: expected a patient id like 'patient0001', got 'patient'"),
                          ("patient0001\npatient0002\n\npatient0001\n", "line 4: patient0001 listed twice")):
        path.write_text(text)
        with pytest.raises(InputError) as err:
            read_split_file(path)
        assert err.value.problem == message and err.value.path == path
    path.write_bytes(b"patient0001\n\xff\n")
    with pytest.raises(InputError, match=r"cannot read split file \(UnicodeDecodeError\)$"):
        read_split_file(path)
    with pytest.raises(InputError, match=r"cannot read split file \(IsADirectoryError\)$") as err:
        read_split_file(tmp_path)
    assert err.value.path == tmp_path
    path.write_text("p" * 70 + "\n")
    with pytest.raises(InputError) as err:
        read_split_file(path)
    assert err.value.problem == "line 1: expected a patient id like 'patient0001', got '" + "p" * 60 + "'"
    with pytest.raises(InputError, match=r"gone.txt: split file not found$"):
        read_split_file(tmp_path / "gone.txt")


def test_subsets() -> None:
    assert SUBSETS == ("training", "validation", "testing")
