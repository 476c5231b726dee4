"""``data check`` (io/check.py) with exact messages: the files it looks at, the frame lists of structure problems,
each cfg rule at its limit (ED/ES past NbFrame or past the sequence, one- and two-frame sequences, axes read as
swapped), the split check's patient folders and its list of five, the progress callback and the log."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from io_helpers import frame_image, heart_mask, odd_geometry, write_case, write_patient

from echolatent.io.check import Problem, check_dataset, dataset_files, structure_problems
from echolatent.io.volume import write_like
from echolatent.synth.export import UltrasoundRegion, write_dicom, write_video

P = "patient0001"
HINT = "the axes look swapped (expected frames x height x width: W x H x T on disk)"


def test_a_folder_without_any_dataset_file_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("notes")
    assert check_dataset(tmp_path) == [Problem(tmp_path, "no image, mask, cfg, split, DICOM or video files found")]
    missing = tmp_path / "nowhere"
    assert check_dataset(missing) == [Problem(missing, "not found")]


def test_dataset_files_takes_images_cfgs_splits_and_recordings_only(tmp_path: Path) -> None:
    write_like(frame_image(1), odd_geometry((1, 24, 20)), tmp_path / f"{P}_2CH_ED.nii.gz")
    write_like(frame_image(1), odd_geometry((1, 24, 20)), tmp_path / ".hidden" / f"{P}_4CH_ED.nii.gz")
    write_like(frame_image(1), odd_geometry((1, 24, 20)), tmp_path / "sub" / ".old_2CH_ES.nii.gz")
    write_video(frame_image(2, 16, 16), tmp_path / "clip.avi", fps=25)
    split = tmp_path / "database_split"
    split.mkdir()
    (split / "subgroup_training.txt").write_text(f"{P}\n")
    (split / "readme.md").write_text("not a split")
    for name in ("Info_2CH.cfg", "other.cfg", "Info_notes.txt", "notes.txt", "readme.md"):
        (tmp_path / name).write_text("x")
    (tmp_path / "Info_4CH.cfg").mkdir()  # a folder named like a cfg
    assert dataset_files(tmp_path) == sorted([
        tmp_path / f"{P}_2CH_ED.nii.gz", tmp_path / "clip.avi", tmp_path / "Info_2CH.cfg",
        split / "subgroup_training.txt"])
    assert dataset_files(str(tmp_path / "notes.txt")) == [tmp_path / "notes.txt"]  # a file given is the file


def test_structure_problems_group_frames_and_show_ten_at_most() -> None:
    mask = heart_mask(13)
    mask[:11] = 0  # frames 0..10 empty: eleven frames, ten shown
    assert structure_problems(mask) == ["frames 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...: empty mask (no LV, MYO or LA)"]
    mask = heart_mask(13)
    mask[:10] = 0  # exactly ten: all shown, no ellipsis
    assert structure_problems(mask) == ["frames 0, 1, 2, 3, 4, 5, 6, 7, 8, 9: empty mask (no LV, MYO or LA)"]
    mask = heart_mask(3)
    mask[1][mask[1] == 3] = 0
    mask[2][mask[2] != 0] = 0
    assert structure_problems(mask) == ["frame 1: LA missing", "frame 2: empty mask (no LV, MYO or LA)"]
    assert structure_problems(np.zeros((1, 8, 8), np.uint8)) == ["empty mask (no LV, MYO or LA)"]


def _sequence(folder: Path, frames: int, cfg: str | None, height: int = 24, width: int = 20) -> list[Path]:
    """A 2CH half sequence (image and mask) of ``frames`` frames, with an Info_2CH.cfg when given."""
    folder.mkdir(parents=True, exist_ok=True)
    geometry = odd_geometry((frames, height, width))
    image, mask = folder / f"{P}_2CH_half_sequence.nii.gz", folder / f"{P}_2CH_half_sequence_gt.nii.gz"
    write_like(frame_image(frames, height, width), geometry, image)
    write_like(heart_mask(frames, height, width), geometry, mask)
    if cfg is not None:
        (folder / "Info_2CH.cfg").write_text(cfg)
    return [image, mask]


def _listed(folder: Path) -> list[tuple[str, str]]:
    return [(p.path.name, p.message) for p in check_dataset(folder)]


def test_ed_or_es_past_nbframe_and_past_the_sequence(tmp_path: Path) -> None:
    _sequence(tmp_path / "ed", 5, "ED: 9\nES: 1\nNbFrame: 5\n")
    seq = f"{P}_2CH_half_sequence"
    assert _listed(tmp_path / "ed") == [
        ("Info_2CH.cfg", "ED 9 is past NbFrame 5"),
        (f"{seq}.nii.gz", "5 frames, but Info_2CH.cfg puts ED at frame 9"),
        (f"{seq}_gt.nii.gz", "5 frames, but Info_2CH.cfg puts ED at frame 9")]
    _sequence(tmp_path / "es", 5, "ED: 1\nES: 6\nNbFrame: 5\n")
    assert _listed(tmp_path / "es") == [
        ("Info_2CH.cfg", "ES 6 is past NbFrame 5"),
        (f"{seq}.nii.gz", "5 frames, but Info_2CH.cfg puts ES at frame 6"),
        (f"{seq}_gt.nii.gz", "5 frames, but Info_2CH.cfg puts ES at frame 6")]
    _sequence(tmp_path / "limit", 5, "ED: 5\nES: 1\nNbFrame: 5\n")  # the last frame is inside
    assert _listed(tmp_path / "limit") == []


def test_two_frames_make_a_sequence_one_does_not(tmp_path: Path) -> None:
    _sequence(tmp_path / "two", 2, None)
    assert check_dataset(tmp_path / "two") == []
    _sequence(tmp_path / "two_cfg", 2, "ED: 1\nES: 2\nNbFrame: 2\n")
    assert check_dataset(tmp_path / "two_cfg") == []
    image, mask = _sequence(tmp_path / "one", 1, "ED: 1\nES: 24\nNbFrame: 24\n")
    # one frame: no axis-order reading of NbFrame (24 is the height), only the frame count
    one = "one-frame sequence (a sequence needs at least 2 frames)"
    fewer = "1 frames, fewer than NbFrame 24 in Info_2CH.cfg"
    assert [(p.path, p.message) for p in check_dataset(tmp_path / "one")] == [
        (image, fewer), (image, one), (mask, fewer), (mask, one)]  # sorted by file, then message


def test_nbframe_matching_a_side_of_a_two_frame_sequence_is_listed_on_each_file(tmp_path: Path) -> None:
    files = _sequence(tmp_path, 2, "ED: 1\nES: 2\nNbFrame: 20\n")
    message = f"2 frames of 24 x 20 pixels while the cfg's NbFrame is 20: {HINT}"
    assert check_dataset(tmp_path) == [Problem(path, message) for path in files]


def test_only_sequences_are_read_for_axis_order(tmp_path: Path) -> None:
    image = tmp_path / "seq" / f"{P}_4CH_sequence.nii.gz"
    write_like(frame_image(2, 48, 1), odd_geometry((2, 48, 1)), image)  # 2 frames of 48 x 1: 2 > 1 pixel
    assert check_dataset(tmp_path / "seq") == [Problem(image, f"2 frames of 48 x 1 pixels: {HINT}")]
    loose = tmp_path / "loose" / "loop.nii.gz"  # not a (half) sequence by name: no axis-order rule
    write_like(frame_image(48, 48, 12), odd_geometry((48, 48, 12)), loose)
    assert check_dataset(tmp_path / "loose") == []


def _split_root(root: Path, listed: list[str], folders: dict[str, list[str]]) -> Path:
    split = root / "database_split" / "subgroup_testing.txt"
    split.parent.mkdir(parents=True)
    split.write_text("".join(f"{p}\n" for p in listed))
    for folder, patients in folders.items():
        for patient in patients:
            (root / folder / patient).mkdir(parents=True)
    return split


def test_split_patients_are_found_in_any_of_the_three_layouts(tmp_path: Path) -> None:
    ids = [f"patient{i:04d}" for i in range(1, 4)]
    _split_root(tmp_path, ids, {"database_nifti": ids[:1], "training": ids[1:2], "testing": ids[2:]})
    assert check_dataset(tmp_path) == []


def test_split_patients_without_a_folder_five_shown(tmp_path: Path) -> None:
    ids = [f"patient{i:04d}" for i in (9, 3, 7, 1, 5, 2, 8)]  # file order kept
    first = "patient0009, patient0003, patient0007, patient0001, patient0005"
    split = _split_root(tmp_path / "six", ids, {"database_nifti": ids[6:]})
    assert check_dataset(tmp_path / "six") == [Problem(split, f"6 listed patients have no folder ({first}, ...)")]
    split = _split_root(tmp_path / "five", ids, {"training": ids[5:]})
    assert check_dataset(tmp_path / "five") == [Problem(split, f"5 listed patients have no folder ({first})")]


def test_every_file_is_reported_once_to_on_file_and_logged(tmp_path: Path, caplog) -> None:
    folder = write_patient(tmp_path, P, frames=3, cfg="ED: 1\nES: 3\nNbFrame: 3\n")
    region = UltrasoundRegion((0, 0, 23, 19), (0.3, 0.3))
    scan = write_dicom(frame_image(3, 20, 24), folder / "scan.dcm", regions=(region,), fps=30)
    seen: list[Path] = []
    with caplog.at_level(logging.DEBUG, logger="echolatent.io.check"):
        assert check_dataset(folder, on_file=seen.append) == []
    assert sorted(seen) == dataset_files(folder) and len(seen) == 15 and scan in seen
    # 14 CAMUS files (2 views x (ED, ES, half sequence) x (image, mask) + 2 cfgs) and the DICOM, checked apart
    assert "checked 15 files (1 DICOM or video), 0 problems" in [r.getMessage() for r in caplog.records]


def test_a_mask_alone_with_its_broken_image_lists_only_the_mask_s_own_problems(tmp_path: Path) -> None:
    write_case(tmp_path, f"{P}_2CH_ED", 1)
    (tmp_path / f"{P}_2CH_ED.nii.gz").write_bytes(b"garbage")
    assert check_dataset(tmp_path / f"{P}_2CH_ED_gt.nii.gz") == []
