"""Readers refuse what they cannot read whole: truncated data, unreadable files, wrong geometry, swapped axes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from io_helpers import frame_image, heart_mask, odd_geometry, write_case, write_patient

from echolatent.errors import InputError
from echolatent.io import volume
from echolatent.io.camus import find_sequences, load_sequence
from echolatent.io.check import check_dataset
from echolatent.io.volume import Geometry, read_image, write_like

PATIENT = "patient0001"


def _cut(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
@pytest.mark.parametrize("keep", [0.6, 0.95])
def test_truncated_nifti_is_refused_with_byte_counts(tmp_path, suffix, keep):
    path = tmp_path / f"seq{suffix}"
    write_like(np.random.default_rng(0).integers(0, 255, (6, 40, 36), dtype=np.uint8), odd_geometry((6, 40, 36)), path)
    _cut(path, keep)
    with pytest.raises(InputError, match=r"truncated: \d+ of \d+ bytes") as err:
        read_image(path)
    present, expected = (int(v) for v in err.value.problem.split(": ")[1].split(" bytes")[0].split(" of "))
    assert present < expected == 352 + 6 * 40 * 36 and err.value.path == path


def test_gzip_without_its_trailer_is_refused(tmp_path):
    path = tmp_path / "seq.nii.gz"
    write_like(frame_image(4), odd_geometry((4, 24, 20)), path)
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(InputError, match="damaged gzip stream"):
        read_image(path)


@pytest.mark.parametrize("compressed", [True, False])
def test_truncated_mhd_data_is_refused(tmp_path, compressed):
    path = tmp_path / "seq.mhd"
    image = np.random.default_rng(1).integers(0, 255, (5, 30, 28), dtype=np.uint8)
    write_like(image, odd_geometry((5, 30, 28)), path)
    (data,) = tmp_path.glob("seq.*raw")
    if not compressed:  # write_like compresses: rewrite the header for a plain .raw
        data.write_bytes(np.ascontiguousarray(image).tobytes())
        header = path.read_text().replace("CompressedData = True", "CompressedData = False")
        path.write_text("\n".join(line for line in header.splitlines() if "CompressedDataSize" not in line)
                        .replace(data.name, "seq.raw") + "\n")
        data = data.rename(tmp_path / "seq.raw")
    np.testing.assert_array_equal(read_image(path)[0], image)
    _cut(data, 0.5)
    with pytest.raises(InputError, match=r"truncated: \d+ of 4200 bytes"):
        read_image(path)


def test_unreadable_file_is_named_unreadable(tmp_path, monkeypatch):
    path = tmp_path / "seq.nii.gz"
    write_like(frame_image(3), odd_geometry((3, 24, 20)), path)
    path.chmod(0)
    if os.geteuid() == 0:  # root reads mode 000 files: make the open fail as it does for a user

        def refuse(*_args, **_kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(volume, "open", refuse, raising=False)
    try:
        with pytest.raises(InputError, match=r"unreadable \(permission denied\)"):
            read_image(path)
        problems = check_dataset(tmp_path)
        assert [(p.path, p.message) for p in problems] == [(path, "unreadable (permission denied)")]
    finally:
        path.chmod(0o644)


def test_data_check_blames_a_truncated_mask_on_the_file(tmp_path):
    folder = write_patient(tmp_path, PATIENT, frames=5, cfg="ED: 1\nES: 5\nNbFrame: 5\n")
    mask = folder / f"{PATIENT}_4CH_half_sequence_gt.nii.gz"
    _cut(mask, 0.8)
    problems = check_dataset(folder)
    assert [p.path for p in problems] == [mask]
    assert "truncated" in problems[0].message and "empty mask" not in problems[0].message


def test_mask_with_another_spacing_or_orientation_is_refused_on_load(tmp_path):
    write_case(tmp_path, "a", 3)
    write_like(heart_mask(3), Geometry.default((3, 24, 20), (0.5, 0.5)), tmp_path / "a_gt.nii.gz")
    (ref,) = find_sequences(tmp_path / "a.nii.gz")
    with pytest.raises(InputError, match=r"a_gt.nii.gz: spacing \(0.5, 0.5\) mm does not match image a.nii.gz"):
        load_sequence(ref)
    flipped = odd_geometry((3, 24, 20))
    flipped = Geometry(flipped.size_xyz, flipped.spacing_xyz, flipped.origin, (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    write_like(heart_mask(3), flipped, tmp_path / "a_gt.nii.gz")
    with pytest.raises(InputError, match="orientation .* does not match image a.nii.gz"):
        load_sequence(ref)
    with pytest.raises(InputError, match="orientation .* does not match image a.nii.gz"):
        load_sequence(ref, image=False)  # the mask alone is still checked against its image's header
    (tmp_path / "a.nii.gz").write_bytes(b"not an image")
    assert load_sequence(ref, image=False).mask.shape == (3, 24, 20)  # no readable header: nothing to check


def _swapped(folder: Path, side: int = 12) -> Path:
    """``side`` frames of 48 x 48 saved with the frame axis first on disk: read as 48 frames of 48 x ``side``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PATIENT}_4CH_half_sequence.nii.gz"
    write_like(frame_image(48, 48, side), odd_geometry((48, 48, side)), path)
    return path


def test_swapped_axes_are_refused_by_the_loader_and_listed_by_data_check(tmp_path):
    path = _swapped(tmp_path / PATIENT)
    (ref,) = find_sequences(path)
    with pytest.raises(InputError, match=r"48 frames of 48 x 12 pixels: the axes look swapped"):
        load_sequence(ref)
    problems = check_dataset(tmp_path / PATIENT)
    assert [p.path for p in problems] == [path] and "axes look swapped" in problems[0].message


def test_nbframe_matching_a_pixel_axis_is_read_as_swapped_axes(tmp_path):
    folder = tmp_path / PATIENT
    folder.mkdir()
    path = folder / f"{PATIENT}_2CH_half_sequence.nii.gz"
    write_like(frame_image(30, 20, 24), odd_geometry((30, 20, 24)), path)
    (folder / "Info_2CH.cfg").write_text("ED: 1\nES: 20\nNbFrame: 20\n")
    (ref,) = find_sequences(path)
    with pytest.raises(InputError, match="NbFrame is 20: the axes look swapped"):
        load_sequence(ref)
    assert [p.message for p in check_dataset(folder)] == [
        "30 frames of 20 x 24 pixels while the cfg's NbFrame is 20: the axes look swapped (expected frames x height"
        " x width: W x H x T on disk)"
    ]


def test_data_check_refuses_ed_equal_to_es_like_the_loader(tmp_path):
    folder = write_patient(tmp_path, PATIENT, frames=5, cfg="ED: 3\nES: 3\nNbFrame: 5\n")
    problems = check_dataset(folder)
    assert {(p.path.name, p.message) for p in problems} == {
        (f"Info_{view}.cfg", "ED and ES are the same frame (3)") for view in ("2CH", "4CH")
    }
    (ref,) = find_sequences(folder / f"{PATIENT}_2CH_half_sequence.nii.gz")
    with pytest.raises(InputError, match="ED and ES are the same frame"):
        load_sequence(ref)


def test_more_data_than_the_header_announces_is_refused(tmp_path):
    """A damaged size in the header would read part of the data as the whole image."""
    path = tmp_path / "seq.nii"
    write_like(frame_image(4), odd_geometry((4, 24, 20)), path)
    path.write_bytes(path.read_bytes() + bytes(480))
    with pytest.raises(InputError, match="2752 data bytes where the header needs 2272: header and data disagree"):
        read_image(path)
