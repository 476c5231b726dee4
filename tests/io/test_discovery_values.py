"""What a command works on, value by value: sequences preferred to their ED/ES frames per patient and view, the
kinds asked for, masks found by ``_pred`` before ``_gt`` before plain files, and ground truth paired by patient and
name with a warning naming what has none."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from io_helpers import heart_mask, odd_geometry, write_case, write_patient

from echolatent.errors import InputError
from echolatent.io.camus import SequenceRef
from echolatent.io.discovery import (
    IMAGE_KINDS,
    default_refs,
    mask_sequences,
    masks_with_suffix,
    pair_truth,
    select_refs,
    truth_refs,
)
from echolatent.io.volume import write_like
from echolatent.labels import View
from echolatent.synth.export import write_dicom


def ref(patient: str, view: View | None, kind: str, mask: bool = True) -> SequenceRef:
    name = f"{patient}_{view.value if view else 'x'}_{kind}"
    return SequenceRef(patient, view, kind, Path(name + ".nii.gz"), Path(name + "_gt.nii.gz") if mask else None, None,
                       name)


def test_sequences_replace_their_frames_per_patient_and_view() -> None:
    refs = [ref("p1", View.A2C, "ED"), ref("p1", View.A2C, "half_sequence"), ref("p1", View.A2C, "ES"),
            ref("p1", View.A4C, "ED"), ref("p1", View.A4C, "ES"), ref("p2", View.A2C, "ES"),
            ref("p2", View.A2C, "sequence"), ref("loose", None, "file"), ref("p3", View.A4C, "ES")]
    kept = default_refs(refs)
    assert [(r.patient, r.view, r.kind) for r in kept] == [
        ("p1", View.A2C, "half_sequence"), ("p1", View.A4C, "ED"), ("p1", View.A4C, "ES"), ("p2", View.A2C, "sequence"),
        ("loose", None, "file"), ("p3", View.A4C, "ES")]
    assert IMAGE_KINDS == ("half_sequence", "sequence", "ED", "ES")


def test_select_refs_default_and_asked_kinds(tmp_path: Path) -> None:
    write_patient(tmp_path, "patient0001", frames=2)
    default = select_refs(tmp_path)
    assert [r.name for r in default] == ["patient0001_2CH_half_sequence", "patient0001_4CH_half_sequence"]
    frames = select_refs(str(tmp_path), kinds=("ED",))
    assert [r.name for r in frames] == ["patient0001_2CH_ED", "patient0001_4CH_ED"]
    both = select_refs(tmp_path, kinds=("half_sequence", "ES"))
    assert [r.kind for r in both] == ["half_sequence", "ES", "half_sequence", "ES"]


def test_select_refs_adds_recordings_and_takes_one_recording_file(tmp_path: Path) -> None:
    write_case(tmp_path, "scan", 2, mask=False)
    clip = write_dicom(np.full((2, 24, 20), 9, np.uint8), tmp_path / "clip.dcm", patient_id="P9")
    found = select_refs(tmp_path)
    assert [(r.patient, r.name) for r in found] == [("scan", "scan"), ("P9", "clip")]
    (only,) = select_refs(clip)
    assert (only.patient, only.name, only.image) == ("P9", "clip", clip)


def test_select_refs_without_images(tmp_path: Path) -> None:
    write_like(heart_mask(2), odd_geometry((2, 24, 20)), tmp_path / "a_gt.nii.gz")  # a mask alone is no image
    with pytest.raises(InputError) as err:
        select_refs(tmp_path)
    assert (err.value.path, err.value.problem) == (tmp_path, "no image files found")


def test_masks_by_pred_then_gt_then_plain(tmp_path: Path) -> None:
    folder = write_patient(tmp_path, "patient0001", frames=2)
    refs, suffix = mask_sequences(tmp_path)
    assert suffix == "_gt" and [r.mask.name for r in refs] == ["patient0001_2CH_half_sequence_gt.nii.gz",
                                                                "patient0001_4CH_half_sequence_gt.nii.gz"]
    write_like(heart_mask(2), odd_geometry((2, 24, 20)), folder / "patient0001_4CH_half_sequence_pred.nii.gz")
    refs, suffix = mask_sequences(tmp_path)
    assert suffix == "_pred" and [r.mask.name for r in refs] == ["patient0001_4CH_half_sequence_pred.nii.gz"]
    plain = tmp_path / "plain"
    write_like(heart_mask(2), odd_geometry((2, 24, 20)), plain / "labels.nii.gz")
    refs, suffix = mask_sequences(plain)
    assert suffix == "" and [(r.image.name, r.mask) for r in refs] == [("labels.nii.gz", None)]


def test_masks_with_a_suffix_of_every_kind(tmp_path: Path) -> None:
    write_patient(tmp_path, "patient0001", frames=2)
    found = masks_with_suffix(tmp_path, "_gt")
    assert len(found) == 6 and all(r.mask.name.endswith("_gt.nii.gz") for r in found)
    assert masks_with_suffix(tmp_path, "_pred") == []
    truth = truth_refs(tmp_path)
    assert sorted(truth)[:2] == [("patient0001", "patient0001_2CH_ED"), ("patient0001", "patient0001_2CH_ES")]
    assert truth[("patient0001", "patient0001_4CH_half_sequence")].kind == "half_sequence"


def test_truth_beside_the_images_when_no_folder_is_given() -> None:
    with_mask, without = ref("p", View.A2C, "ED"), ref("p", View.A2C, "ES", mask=False)
    assert pair_truth([with_mask, without], None) == [(with_mask, with_mask), (without, None)]


def test_truth_from_a_folder_by_patient_and_name(tmp_path: Path, caplog) -> None:
    write_patient(tmp_path / "gt", "patient0001", frames=2)
    names = [f"patient0001_2CH_{k}" for k in ("ED", "ES", "half_sequence")]
    refs = [SequenceRef("patient0001", View.A2C, "ED", None, None, None, n) for n in names]
    refs += [SequenceRef("patient0002", View.A2C, "ED", None, None, None, "patient0002_2CH_ED")]
    refs += [SequenceRef("patient0001", View.A2C, "ED", None, None, None, f"other{i}") for i in range(5)]
    with caplog.at_level(logging.WARNING, logger="echolatent.io.discovery"):
        pairs = pair_truth(refs, tmp_path / "gt")
    assert [found.name if found else None for _, found in pairs] == names + [None] * 6
    assert [r.getMessage() for r in caplog.records] == [
        f"no ground truth under {tmp_path / 'gt'} for 6 sequence(s): patient0002_2CH_ED, other0, other1, other2, "
        "other3"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="echolatent.io.discovery"):
        pair_truth(refs[:3], tmp_path / "gt")
    assert not caplog.records


def test_a_truth_folder_without_masks_is_refused(tmp_path: Path) -> None:
    write_case(tmp_path / "gt", "scan", 2, mask=False)
    with pytest.raises(InputError) as err:
        pair_truth([ref("p", View.A2C, "ED")], str(tmp_path / "gt"))
    assert (err.value.path, err.value.problem) == (tmp_path / "gt", "no ground-truth masks (_gt files) found")


def test_one_image_file_is_selected_as_itself(tmp_path: Path) -> None:
    write_case(tmp_path, "patient0001_2CH_ES", 1, mask=False)
    (only,) = select_refs(tmp_path / "patient0001_2CH_ES.nii.gz")
    assert (only.name, only.kind, only.image) == ("patient0001_2CH_ES", "ES", tmp_path / "patient0001_2CH_ES.nii.gz")


def test_plain_label_files_are_sequences_only(tmp_path: Path) -> None:
    write_like(heart_mask(2), odd_geometry((2, 24, 20)), tmp_path / "patient0001_2CH_half_sequence.nii.gz")
    write_like(heart_mask(1), odd_geometry((1, 24, 20)), tmp_path / "patient0001_2CH_ED.nii.gz")
    refs, suffix = mask_sequences(tmp_path)
    assert suffix == "" and [r.name for r in refs] == ["patient0001_2CH_half_sequence"]
