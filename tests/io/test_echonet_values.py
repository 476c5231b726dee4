"""EchoNet-Dynamic lists read value by value: file names with or without ``.avi``, blanks as NaN, splits, tracings
per frame in row order, ED/ES from the chord lengths (not the long axis), missing videos, malformed files."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.io.echonet import (
    EchoNetCase,
    echonet_videos,
    is_echonet_root,
    read_file_list,
    read_tracings,
    reference_ef,
)

HEADER = "FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split\n"


def root_with(tmp_path: Path, rows: str, tracings: str | None = None, videos: tuple[str, ...] = ()) -> Path:
    root = tmp_path / "echonet"
    (root / "Videos").mkdir(parents=True)
    (root / "FileList.csv").write_text(HEADER + rows)
    if tracings is not None:
        (root / "VolumeTracings.csv").write_text("FileName,X1,Y1,X2,Y2,Frame\n" + tracings)
    for name in videos:
        (root / "Videos" / name).write_bytes(b"v")
    return root


def case(tracings: dict[int, list[list[float]]]) -> EchoNetCase:
    arrays = {frame: np.asarray(lines, float) for frame, lines in tracings.items()}
    return EchoNetCase("x", Path("x.avi"), 50.0, 100.0, 50.0, 50.0, "TRAIN", arrays)


def test_the_root_needs_the_list_file_and_the_video_folder(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    (root / "FileList.csv").mkdir()  # a folder, not a file
    (root / "Videos").mkdir()
    assert not is_echonet_root(root)
    (root / "FileList.csv").rmdir()
    (root / "FileList.csv").write_text(HEADER)
    assert is_echonet_root(root) and is_echonet_root(str(root))
    (root / "Videos").rmdir()
    (root / "Videos").write_text("")  # a file, not a folder
    assert not is_echonet_root(root)
    with pytest.raises(InputError, match=r"r: not an EchoNet-Dynamic folder \(needs FileList.csv and Videos/\)"):
        read_file_list(root)


def test_every_value_of_a_row(tmp_path: Path) -> None:
    root = root_with(tmp_path, "Videos/0XA.AVI,55.5,40.25,90,112,112,49.5,120,val\n 0XB ,,,,112,112,,120,\n")
    first, second = read_file_list(root)
    assert (first.name, first.video, first.ef, first.esv, first.edv, first.fps, first.split) == (
        "0XA", root / "Videos" / "0XA.avi", 55.5, 40.25, 90.0, 49.5, "VAL")
    assert first.tracings == {}
    assert second.name == "0XB" and second.split == "" and second.video == root / "Videos" / "0XB.avi"
    assert all(math.isnan(v) for v in (second.ef, second.esv, second.edv, second.fps))


def test_a_split_is_chosen_whatever_its_case(tmp_path: Path) -> None:
    root = root_with(tmp_path, "A,1,,,,,,,TRAIN\nB,2,,,,,,,test\nC,3,,,,,,,\nD,4,,,,,,, Test \n")
    assert [c.name for c in read_file_list(root, "Test")] == ["B", "D"]
    assert [c.name for c in read_file_list(root, "train")] == ["A"]
    assert [c.name for c in read_file_list(root, "")] == ["C"]
    assert [c.name for c in read_file_list(root)] == ["A", "B", "C", "D"]


def test_a_list_without_a_split_column(tmp_path: Path) -> None:
    root = tmp_path / "e"
    (root / "Videos").mkdir(parents=True)
    (root / "FileList.csv").write_text("FileName,EF\nA,60\n")
    (only,) = read_file_list(root)
    assert (only.name, only.ef, only.split) == ("A", 60.0, "") and math.isnan(only.edv)
    assert read_file_list(root, "TRAIN") == []


def test_reference_ef_keeps_rows_with_a_number(tmp_path: Path) -> None:
    root = root_with(tmp_path, "A,61.25,,,,,,,\nB,,,,,,,,\nC.avi,0,,,,,,,\n")
    assert reference_ef(root) == {"A": 61.25, "C": 0.0}


def test_tracings_by_file_and_frame_in_row_order(tmp_path: Path) -> None:
    tracings = ("0XA.avi,1,2,3,4,7\n0XA,5,6,7,8,7.0\n0XA.avi,9,10,11,12,30\n"
                "0XB.AVI,1.5,2.5,3.5,4.5,0\n0XA.avi,13,14,15,16,7\n")
    root = root_with(tmp_path, "0XA,50,,,,,,,\n", tracings)
    found = read_tracings(root)
    assert sorted(found) == ["0XA", "0XB"] and sorted(found["0XA"]) == [7, 30]
    assert found["0XA"][7].dtype == np.float64
    assert found["0XA"][7].tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [13, 14, 15, 16]]
    assert found["0XA"][30].tolist() == [[9, 10, 11, 12]] and found["0XB"][0].tolist() == [[1.5, 2.5, 3.5, 4.5]]
    assert sorted(read_file_list(root)[0].tracings) == [7, 30]
    assert read_tracings(tmp_path) == {}


def test_ed_is_the_frame_with_the_longer_chords_not_the_longer_axis() -> None:
    # frame 4: long axis 100, two 3-4-5 diagonal chords (5 each: 10); frame 9: long axis 10, chords of 6 and 6 (12)
    big_axis = [[0, 0, 0, 100], [10, 20, 13, 24], [30, 40, 33, 44]]
    long_chords = [[0, 0, 0, 10], [1, 2, 7, 2], [3, 1, 3, 7]]
    assert case({4: big_axis, 9: long_chords}).traced_instants() == (9, 4)
    assert case({4: long_chords, 9: big_axis}).traced_instants() == (4, 9)
    assert case({3: [[0, 0, 1, 1], [0, 0, 2, 2]]}).traced_instants() == (None, None)
    assert case({}).traced_instants() == (None, None)


def test_three_traced_frames_give_the_largest_and_the_smallest() -> None:
    traced = case({2: [[0, 0, 0, 1], [0, 0, 8, 0]], 5: [[0, 0, 0, 1], [0, 0, 20, 0]], 8: [[0, 0, 0, 1], [0, 0, 3, 0]]})
    assert traced.traced_instants() == (5, 8)


def test_missing_videos_are_counted_in_a_warning(tmp_path: Path, caplog) -> None:
    root = root_with(tmp_path, "A,1,,,,,,,TRAIN\nB,2,,,,,,,TEST\nC,3,,,,,,,TEST\nD,4,,,,,,,TEST\n",
                     videos=("A.avi", "C.avi"))
    with caplog.at_level(logging.WARNING, logger="echolatent.io.echonet"):
        assert echonet_videos(root, "test") == [root / "Videos" / "C.avi"]
    assert [r.getMessage() for r in caplog.records] == [f"{root}: 2 video(s) of FileList.csv are missing"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="echolatent.io.echonet"):
        assert echonet_videos(root, "TRAIN") == [root / "Videos" / "A.avi"]
    assert not caplog.records


def test_malformed_lists_are_named(tmp_path: Path) -> None:
    root = root_with(tmp_path, "A,1,,,,,,,\n", tracings="")
    (root / "VolumeTracings.csv").write_text("FileName,X1,Y1,Frame\nA,1,2,3\n")
    with pytest.raises(InputError, match=r"VolumeTracings.csv: missing column\(s\) X2, Y2$"):
        read_file_list(root)
    (root / "VolumeTracings.csv").write_text("FileName,X1,Y1,X2,Y2,Frame\nA,1,2,x3,4,5\n")
    with pytest.raises(InputError, match=r"VolumeTracings.csv: X2 'x3' of A is not a number$"):
        read_tracings(root)
    (root / "VolumeTracings.csv").unlink()
    (root / "FileList.csv").write_text("EF,FileName\n")
    assert read_file_list(root) == []
    (root / "FileList.csv").write_text("Name,ESV\n")
    with pytest.raises(InputError, match=r"FileList.csv: missing column\(s\) FileName, EF$"):
        read_file_list(root)
    (root / "FileList.csv").write_bytes(b"FileName,EF\n\xff\xfe,1\n")
    with pytest.raises(InputError, match=r"FileList.csv: unreadable CSV \("):
        read_file_list(root)
    (root / "FileList.csv").write_text("")
    with pytest.raises(InputError, match=r"missing column\(s\) FileName, EF$"):
        read_file_list(root)


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    root = root_with(tmp_path, "")
    (root / "FileList.csv").write_bytes("FileName,EF\nA,42\n".encode("utf-8-sig"))
    assert reference_ef(root) == {"A": 42.0}


def test_a_bad_number_names_the_list_file(tmp_path: Path) -> None:
    root = root_with(tmp_path, "A,61,,,,,x7,,\n")
    with pytest.raises(InputError) as err:
        read_file_list(root)
    assert (err.value.path, err.value.problem) == (root / "FileList.csv", "FPS 'x7' of A is not a number")


def test_a_quoted_field_keeps_its_line_break(tmp_path: Path) -> None:
    # csv needs the file opened with newline="": a quoted value keeps its "\r\n" as written
    root = root_with(tmp_path, "")
    (root / "FileList.csv").write_bytes(b'FileName,EF,Split\r\nA,61,"TR\r\nAIN"\r\nB,40,TEST\r\n')
    first, second = read_file_list(root)
    assert (first.name, first.split, second.name, second.ef) == ("A", "TR\r\nAIN", "B", 40.0)
