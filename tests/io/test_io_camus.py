"""CAMUS reader/writer: discovery, ED -> ES ordering from cfg, round trips keeping geometry, bad inputs."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813
from io_helpers import frame_image, heart_mask, odd_geometry, write_case, write_patient

from echolatent.errors import InputError
from echolatent.io import camus
from echolatent.io.camus import find_sequences, load_sequence, output_path, read_split, write_mask
from echolatent.io.frames import load_frames
from echolatent.io.volume import read_image, write_like
from echolatent.labels import Instant, View


def _header(path: Path) -> tuple:
    image = sitk.ReadImage(str(path))
    return image.GetSize(), image.GetSpacing(), image.GetOrigin(), image.GetDirection()


@pytest.mark.parametrize("suffix", [".nii.gz", ".mhd"])
def test_write_mask_round_trip_keeps_geometry_and_data(tmp_path, suffix):
    shape = (5, 37, 53)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    mask = rng.integers(0, 4, shape, dtype=np.uint8)
    write_like(image, odd_geometry(shape), tmp_path / f"case{suffix}")
    write_like(mask, odd_geometry(shape), tmp_path / f"case_gt{suffix}")
    (ref,) = find_sequences(tmp_path / f"case{suffix}")
    seq = load_sequence(ref)
    assert seq.image.shape == shape and seq.spacing == pytest.approx((0.31, 0.17))
    np.testing.assert_array_equal(seq.image, image)
    out = write_mask(seq, seq.mask, tmp_path / "out" / f"case_pred{suffix}")
    assert _header(out) == _header(ref.image)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(out))), mask)


def test_reversed_cfg_flips_to_ed_first_and_write_mask_flips_back(tmp_path, caplog):
    folder = tmp_path / "patient0007"
    folder.mkdir()
    write_case(folder, "patient0007_4CH_half_sequence", 5)
    (folder / "Info_4CH.cfg").write_text("ED: 5\nES: 1\nNbFrame: 5\n")
    (ref,) = find_sequences(folder)
    with caplog.at_level(logging.WARNING):
        seq = load_sequence(ref)
    assert "reversed" in caplog.text
    assert seq.reversed and (seq.ed, seq.es) == (0, 4)
    np.testing.assert_array_equal(seq.image, frame_image(5)[::-1])
    np.testing.assert_array_equal(seq.mask, heart_mask(5)[::-1])
    out = write_mask(seq, seq.mask, output_path(ref, tmp_path / "out", "_post"))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(out))), heart_mask(5))


@pytest.mark.parametrize(
    ("cfg", "ed", "es"), [("ED: 2\nES: 4\nNbFrame: 5\n", 1, 3), ("ED: 1\nES: 5\nNbFrame: 5\n", 0, 4), (None, 0, 4)]
)
def test_cfg_frame_numbers_are_one_based(tmp_path, cfg, ed, es):
    write_patient(tmp_path, "patient0001", frames=5, cfg=cfg)
    refs = find_sequences(tmp_path / "patient0001", kinds=("half_sequence",))
    seq = load_sequence(refs[0])
    assert (seq.ed, seq.es, seq.reversed) == (ed, es, False)
    assert seq.info.get("NbFrame") == ("5" if cfg else None)


def test_single_frames_have_their_instant_at_zero(tmp_path):
    write_patient(tmp_path, "patient0001")
    ed_ref, es_ref = find_sequences(tmp_path / "patient0001", kinds=("ED", "ES"))[:2]
    assert (ed_ref.kind, es_ref.kind) == ("ED", "ES")
    assert (load_sequence(ed_ref).ed, load_sequence(ed_ref).es) == (0, None)
    assert (load_sequence(es_ref).ed, load_sequence(es_ref).es) == (None, 0)


def test_discovery_of_root_patient_and_single_files(nifti_root):
    refs = find_sequences(nifti_root)
    assert len(refs) == 3 * 2 * 3
    assert [r.name for r in refs[:3]] == [f"patient0001_2CH_{k}" for k in ("half_sequence", "ED", "ES")]
    assert all(r.image and r.mask and r.cfg and r.cfg.name == f"Info_{r.view.value}.cfg" for r in refs)
    folder = nifti_root / "database_nifti" / "patient0002"
    assert find_sequences(folder) == [r for r in refs if r.patient == "patient0002"]
    assert {r.patient for r in find_sequences(nifti_root, patients=["patient0003"])} == {"patient0003"}
    assert {r.kind for r in find_sequences(nifti_root, kinds=("ED",))} == {"ED"}
    (from_mask,) = find_sequences(folder / "patient0002_4CH_ES_gt.nii.gz")
    (from_image,) = find_sequences(folder / "patient0002_4CH_ES.nii.gz")
    assert from_mask == from_image
    assert (from_mask.patient, from_mask.view, from_mask.kind) == ("patient0002", View.A4C, "ES")


def test_loose_files_mask_suffix_and_require_image(tmp_path):
    write_case(tmp_path, "scan", 3)
    write_like(heart_mask(3), odd_geometry((3, 24, 20)), tmp_path / "scan_pred.nii.gz")
    write_like(heart_mask(1), odd_geometry((1, 24, 20)), tmp_path / "lonely_pred.nii.gz")
    (ref,) = find_sequences(tmp_path)
    assert (ref.patient, ref.view, ref.kind, ref.name, ref.mask.name) == (
        "scan",
        None,
        "file",
        "scan",
        "scan_gt.nii.gz",
    )
    preds = find_sequences(tmp_path, mask_suffix="_pred")
    assert [(r.name, r.image is not None) for r in preds] == [("lonely", False), ("scan", True)]
    assert [r.name for r in find_sequences(tmp_path, mask_suffix="_pred", require_image=True)] == ["scan"]
    with pytest.raises(InputError, match="mask without image"):
        find_sequences(tmp_path / "lonely_pred.nii.gz", require_image=True)
    assert output_path(ref, tmp_path / "out", "_pred") == tmp_path / "out" / "scan" / "scan_pred.nii.gz"


def test_mhd_2019_layout_and_splits(tmp_path, nifti_root):
    # the 2019 release numbers its testing patients from patient0001 again
    for subset, patient in (("training", "patient0001"), ("testing", "patient0001"), ("testing", "patient0002")):
        write_patient(tmp_path / "mhd" / subset, patient, suffix=".mhd")
    refs = find_sequences(tmp_path / "mhd")
    assert [r.patient for r in refs].count("patient0001") == 2 * 6
    assert all(r.image.suffix == ".mhd" and r.mask.suffix == ".mhd" for r in refs)
    assert read_split(tmp_path / "mhd", "testing") == ["patient0001", "patient0002"]
    _, _, training_ids = load_frames(tmp_path / "mhd", "training", cache=False)
    _, _, testing_ids = load_frames(tmp_path / "mhd", "testing", cache=False)
    assert len(training_ids) == 4 and len(testing_ids) == 8
    assert read_split(nifti_root, "training") == ["patient0001", "patient0002"]
    with pytest.raises(InputError, match="split file not found"):
        read_split(nifti_root, "testing")


def test_load_rejects_mismatched_shape_naming_both_files(tmp_path):
    write_like(frame_image(3), odd_geometry((3, 24, 20)), tmp_path / "a.nii.gz")
    write_like(heart_mask(3, 24, 22), odd_geometry((3, 24, 22)), tmp_path / "a_gt.nii.gz")
    with pytest.raises(InputError, match=r"a_gt.nii.gz: shape \(3, 24, 22\).*does not match image a.nii.gz"):
        load_sequence(find_sequences(tmp_path)[0])


def test_load_rejects_bad_labels_short_and_one_frame_sequences(tmp_path):
    folder = write_patient(tmp_path, "patient0001", frames=4, cfg="ED: 1\nES: 4\nNbFrame: 6\n")
    half = find_sequences(folder, kinds=("half_sequence",))[0]
    with pytest.raises(InputError, match="4 frames, fewer than NbFrame 6 in Info_2CH.cfg"):
        load_sequence(half)
    bad = heart_mask(1)
    bad[0, 0, 0] = 7
    write_like(bad, odd_geometry((1, 24, 20)), folder / "patient0001_2CH_ED_gt.nii.gz")
    with pytest.raises(InputError, match=r"patient0001_2CH_ED_gt.nii.gz: labels \{7\} outside 0..3"):
        load_sequence(find_sequences(folder, kinds=("ED",))[0])
    write_case(tmp_path / "one", "patient0002_4CH_half_sequence", 1)
    with pytest.raises(InputError, match="one-frame sequence"):
        load_sequence(find_sequences(tmp_path / "one")[0])


def test_write_mask_checks_shape_and_never_overwrites_inputs(tmp_path):
    write_case(tmp_path, "a", 3)
    seq = load_sequence(find_sequences(tmp_path)[0])
    with pytest.raises(ValueError, match="does not match"):
        write_mask(seq, seq.mask[:2], tmp_path / "b.nii.gz")
    with pytest.raises(ValueError, match="refusing to overwrite"):
        write_mask(seq, seq.mask, tmp_path / "a_gt.nii.gz")


def test_load_frames_split_resize_and_cache(nifti_root, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    images, masks, ids = load_frames(nifti_root, "training", cache_dir=cache)
    assert images.shape == masks.shape == (8, 24, 20) and images.dtype == masks.dtype == np.uint8
    assert ids[:2] == ["patient0001_2CH_ED", "patient0001_2CH_ES"] and ids[-1] == "patient0002_4CH_ES"
    np.testing.assert_array_equal(masks[0], heart_mask(1)[0])
    assert len(list(cache.glob("*.npz"))) == 1
    monkeypatch.setattr(camus, "load_sequence", lambda ref: pytest.fail("cache not used"))
    cached = load_frames(nifti_root, "training", cache_dir=cache)
    np.testing.assert_array_equal(cached[1], masks)
    monkeypatch.undo()
    small, small_masks, small_ids = load_frames(
        nifti_root, None, views=(View.A4C,), instants=(Instant.ES,), size=(12, 10), cache=False
    )
    assert small.shape == small_masks.shape == (3, 12, 10) and small_ids[0] == "patient0001_4CH_ES"
    assert set(np.unique(small_masks)) == {0, 1, 2, 3}


def test_load_frames_rejects_differing_sizes_without_size(nifti_root):
    folder = nifti_root / "database_nifti" / "patient0002"
    write_like(frame_image(1, 30, 20), odd_geometry((1, 30, 20)), folder / "patient0002_2CH_ED.nii.gz")
    write_like(heart_mask(1, 30, 20), odd_geometry((1, 30, 20)), folder / "patient0002_2CH_ED_gt.nii.gz")
    with pytest.raises(InputError, match=r"patient0002_2CH_ED.nii.gz: frame size \(30, 20\) differs"):
        load_frames(nifti_root, "training", cache=False)
    assert load_frames(nifti_root, "training", size=(16, 16), cache=False)[0].shape == (8, 16, 16)


def test_load_header_only_and_mask_only(tmp_path):
    write_case(tmp_path, "a", 3)
    (ref,) = find_sequences(tmp_path)
    header = load_sequence(ref, image=False, mask=False)
    assert header.image is None and header.mask is None and header.geometry == read_image(ref.image)[1]
    mask_only = load_sequence(ref, image=False)
    np.testing.assert_array_equal(mask_only.mask, heart_mask(3))
