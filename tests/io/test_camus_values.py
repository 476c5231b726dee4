"""CAMUS layout value by value: mask suffixes (longest first), which file wins for a stem, patient folders of each
layout, filters and warnings of the search, the 1-based cfg frames turned into 0-based (and reversed) indices at
their limits, frame counts against NbFrame, and the exact refusals."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from io_helpers import frame_image, heart_mask, odd_geometry, write_case, write_patient

from echolatent.errors import InputError
from echolatent.io.camus import (
    EchoSequence,
    SequenceRef,
    _instants,
    find_sequences,
    load_sequence,
    output_path,
    patient_folders,
    read_split,
    require_same_grid,
    split_mask_suffix,
    subset_folder,
    write_mask,
)
from echolatent.io.volume import Geometry, read_image, write_like
from echolatent.labels import View


@pytest.mark.parametrize(("stem", "mask_suffix", "expected"), [
    ("x_4CH_ED_gt", "_gt", ("x_4CH_ED", "_gt")), ("x_pred", "_gt", ("x", "_pred")), ("x_post", "_gt", ("x", "_post")),
    ("x_seg", "_seg", ("x", "_seg")), ("x_seg", "_gt", ("x_seg", "")), ("_gt", "_gt", ("_gt", "")),
    ("a_gt", "_gt", ("a", "_gt")), ("x_pred_gt", "_pred_gt", ("x", "_pred_gt")), ("x", "", ("x", "")),
    ("scan", "_gt", ("scan", "")),
])
def test_mask_suffixes_longest_first(stem, mask_suffix, expected) -> None:
    assert split_mask_suffix(stem, mask_suffix) == expected


def test_the_default_mask_suffix_is_gt() -> None:
    assert split_mask_suffix("a_gt") == ("a", "_gt") and split_mask_suffix("a_seg") == ("a_seg", "")


def test_nifti_wins_over_mhd_and_hidden_files_and_folders_are_skipped(tmp_path: Path) -> None:
    for name in ("a.mhd", "a.nii", "b.mhd", "c.nii", "c.nii.gz"):
        write_like(frame_image(2), odd_geometry((2, 24, 20)), tmp_path / name)
    (tmp_path / ".d.nii.gz").write_bytes(b"x")
    (tmp_path / "e.nii.gz").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    refs = find_sequences(tmp_path)
    assert [(r.name, r.image.name) for r in refs] == [("a", "a.nii"), ("b", "b.mhd"), ("c", "c.nii.gz")]
    assert all((r.patient, r.view, r.kind, r.mask, r.cfg) == (r.name, None, "file", None, None) for r in refs)


def test_patient_folders_of_each_layout(tmp_path: Path) -> None:
    nifti = tmp_path / "nifti"
    for name in ("patient0002", "patient0001", ".hidden"):
        (nifti / "database_nifti" / name).mkdir(parents=True)
    (nifti / "database_nifti" / "loose.txt").write_text("x")
    assert [p.name for p in patient_folders(nifti)] == ["patient0001", "patient0002"]
    old = tmp_path / "old"
    (old / "testing" / "patient0001").mkdir(parents=True)
    (old / "training" / "patient0009").mkdir(parents=True)
    assert patient_folders(old) == [old / "training" / "patient0009", old / "testing" / "patient0001"]
    only_testing = tmp_path / "only"
    (only_testing / "testing" / "patient0003").mkdir(parents=True)
    assert patient_folders(only_testing) == [only_testing / "testing" / "patient0003"]
    flat = tmp_path / "flat"
    write_case(flat, "scan", 2, mask=False)
    (flat / "sub").mkdir()
    assert patient_folders(flat) == [flat]
    parent = tmp_path / "parent"
    (parent / "b").mkdir(parents=True)
    (parent / "a").mkdir()
    assert patient_folders(parent) == [parent / "a", parent / "b"]


def test_search_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^unknown kinds \['movie', 'video'\] \(expected some of \('half_sequence', "
                       r"'sequence', 'ED', 'ES', 'file'\)\)$"):
        find_sequences(tmp_path, kinds=("ED", "video", "file", "movie", "movie"))
    with pytest.raises(ValueError, match=r"^mask_suffix must start with '_', got 'gt'$"):
        find_sequences(tmp_path, mask_suffix="gt")
    with pytest.raises(InputError) as err:
        find_sequences(tmp_path / "nowhere")
    assert (err.value.path, err.value.problem) == (tmp_path / "nowhere", "not found")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError) as err:
        find_sequences(tmp_path / "notes.txt")
    assert err.value.problem == "unsupported file type (expected one of .nii.gz, .nii, .mhd)"


def test_kinds_filter_camus_names_and_keep_loose_files(tmp_path: Path) -> None:
    folder = write_patient(tmp_path, "patient0001", frames=3)
    write_case(folder, "patient0001_4CH_sequence", 3)
    write_case(folder, "extra", 2)
    names = [r.name for r in find_sequences(folder, kinds=("sequence", "ES"))]
    assert names == ["extra", "patient0001_2CH_ES", "patient0001_4CH_sequence", "patient0001_4CH_ES"]
    ordered = [r.name for r in find_sequences(folder, kinds=("half_sequence", "sequence", "ED", "ES"))][-4:]
    assert ordered == ["patient0001_4CH_half_sequence", "patient0001_4CH_sequence", "patient0001_4CH_ED",
                       "patient0001_4CH_ES"]
    assert find_sequences(folder / "patient0001_4CH_ED.nii.gz", kinds=("ES",))[0].kind == "ED"  # one file: no filter


def test_patients_filter_applies_to_camus_and_loose_files(tmp_path: Path) -> None:
    write_patient(tmp_path, "patient0001", frames=2)
    write_patient(tmp_path, "patient0002", frames=2)
    write_case(tmp_path / "patient0002", "loose", 2)
    assert {r.patient for r in find_sequences(tmp_path, patients=["patient0002"])} == {"patient0002"}
    assert [r.name for r in find_sequences(tmp_path, patients=["loose"])] == ["loose"]
    assert find_sequences(tmp_path, patients=[]) == []


def test_masks_without_images_are_skipped_with_a_warning_when_images_are_required(tmp_path: Path, caplog) -> None:
    write_like(heart_mask(2), odd_geometry((2, 24, 20)), tmp_path / "p" / "alone_gt.nii.gz")
    write_case(tmp_path / "p", "pair", 2)
    assert [r.name for r in find_sequences(tmp_path / "p")] == ["alone", "pair"]
    with caplog.at_level(logging.WARNING, logger="echolatent.io.camus"):
        refs = find_sequences(tmp_path / "p", require_image=True)
    assert [r.name for r in refs] == ["pair"]
    assert [r.getMessage() for r in caplog.records] == [f"{tmp_path / 'p' / 'alone_gt.nii.gz'}: mask without image, "
                                                        "skipped"]
    with pytest.raises(InputError) as err:
        find_sequences(tmp_path / "p" / "alone_gt.nii.gz", require_image=True)
    assert err.value.problem == "mask without image (no image file of the same name without the mask suffix)"


def test_an_empty_search_and_a_repeated_patient_are_warned(tmp_path: Path, caplog) -> None:
    (tmp_path / "empty").mkdir()
    with caplog.at_level(logging.WARNING, logger="echolatent.io.camus"):
        assert find_sequences(tmp_path / "empty") == []
    assert [r.getMessage() for r in caplog.records] == [f"{tmp_path / 'empty'}: no image or mask files found"]
    caplog.clear()
    old = tmp_path / "old"
    write_patient(old / "training", "patient0001", frames=2)
    write_patient(old / "testing", "patient0001", frames=2)
    with caplog.at_level(logging.WARNING, logger="echolatent.io.camus"):
        find_sequences(old)
    assert [r.getMessage() for r in caplog.records] == [
        f"{old}: the same patient id in several folders (2019 training/ and testing/?)"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="echolatent.io.camus"):
        find_sequences(old / "training")
    assert not caplog.records


def test_a_mask_file_finds_its_image_and_cfg(tmp_path: Path) -> None:
    folder = write_patient(tmp_path, "patient0004", frames=2, cfg="ED: 1\nES: 2\n")
    (ref,) = find_sequences(folder / "patient0004_2CH_half_sequence_gt.nii.gz")
    assert ref == SequenceRef("patient0004", View.A2C, "half_sequence", folder / "patient0004_2CH_half_sequence.nii.gz",
                              folder / "patient0004_2CH_half_sequence_gt.nii.gz", folder / "Info_2CH.cfg",
                              "patient0004_2CH_half_sequence")
    (folder / "Info_4CH.cfg").unlink()
    assert find_sequences(folder / "patient0004_4CH_ED.nii.gz")[0].cfg is None
    (pred,) = find_sequences(folder / "patient0004_4CH_ED.nii.gz", mask_suffix="_pred")
    assert pred.mask is None and pred.image == folder / "patient0004_4CH_ED.nii.gz"


def test_subset_folders_only_in_the_2019_layout(tmp_path: Path) -> None:
    (tmp_path / "old" / "testing").mkdir(parents=True)
    assert subset_folder(tmp_path / "old", "testing") == tmp_path / "old" / "testing"
    assert subset_folder(tmp_path / "old", "training") is None
    assert subset_folder(tmp_path / "old", None) is None
    for marker in ("database_nifti", "database_split"):
        root = tmp_path / marker
        (root / marker).mkdir(parents=True)
        (root / "testing").mkdir()
        assert subset_folder(root, "testing") is None


def test_read_split_of_each_layout(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^subset must be one of \('training', 'validation', 'testing'\), got "
                       r"'train'$"):
        read_split(tmp_path, "train")
    old = tmp_path / "old"
    for name in ("patient0002", "patient0001", ".x"):
        (old / "testing" / name).mkdir(parents=True)
    (old / "testing" / "notes.txt").write_text("x")
    assert read_split(old, "testing") == ["patient0001", "patient0002"]
    (old / "database_split").mkdir()
    (old / "database_split" / "subgroup_testing.txt").write_text("patient0009\n")
    assert read_split(str(old), "testing") == ["patient0009"]  # the split file wins
    with pytest.raises(InputError, match="subgroup_validation.txt: split file not found"):
        read_split(old, "validation")


def ref(kind: str, cfg: Path | None = Path("Info_2CH.cfg")) -> SequenceRef:
    return SequenceRef("p", View.A2C, kind, Path("p_2CH.nii.gz"), None, cfg, "p_2CH")


@pytest.mark.parametrize(("info", "frames", "expected"), [
    ({"ED": "1", "ES": "10"}, 10, (0, 9, False)),
    ({"ED": "3", "ES": "4"}, 10, (2, 3, False)),
    ({"ED": "10", "ES": "1"}, 10, (0, 9, True)),  # reversed: frame f (1-based) is at T - f
    ({"ED": "8", "ES": "3"}, 10, (2, 7, True)),
    ({"ED": "2", "ES": "1"}, 2, (0, 1, True)),
])
def test_cfg_frames_become_0_based_indices_ed_first(info, frames, expected) -> None:
    assert _instants(ref("half_sequence"), info, frames) == expected
    assert _instants(ref("sequence"), info, frames) == expected


def test_instants_without_a_cfg_or_of_single_frames() -> None:
    assert _instants(ref("half_sequence"), {}, 7) == (0, 6, False)
    assert _instants(ref("half_sequence"), {"ED": "2"}, 7) == (0, 6, False)
    assert _instants(ref("sequence"), {"ES": "2"}, 7) == (None, None, False)
    assert _instants(ref("ED"), {"ED": "5", "ES": "2"}, 1) == (0, None, False)
    assert _instants(ref("ES"), {"ED": "5", "ES": "2"}, 1) == (None, 0, False)
    assert _instants(ref("file"), {"ED": "5", "ES": "2"}, 9) == (None, None, False)


def test_cfg_frames_past_the_sequence_or_equal_are_refused(caplog) -> None:
    assert _instants(ref("sequence"), {"ED": "1", "ES": "6"}, 6) == (0, 5, False)
    with pytest.raises(InputError) as err:
        _instants(ref("sequence"), {"ED": "1", "ES": "7"}, 6)
    assert (err.value.path, err.value.problem) == (Path("Info_2CH.cfg"), "ES 7 is past the last frame of "
                                                   "p_2CH.nii.gz (6)")
    with pytest.raises(InputError) as err:
        _instants(ref("sequence"), {"ED": "7", "ES": "8"}, 6)
    assert err.value.problem == "ED 7 is past the last frame of p_2CH.nii.gz (6)"
    with pytest.raises(InputError) as err:
        _instants(ref("sequence"), {"ED": "4", "ES": "4"}, 6)
    assert (err.value.path, err.value.problem) == (Path("Info_2CH.cfg"), "ED and ES are the same frame (4)")
    with caplog.at_level(logging.WARNING, logger="echolatent.io.camus"):
        _instants(ref("sequence"), {"ED": "5", "ES": "2"}, 6)
    assert [r.getMessage() for r in caplog.records] == [
        "Info_2CH.cfg: ED (5) comes after ES (2): frames reversed to run ED -> ES"]


def test_frame_counts_against_nb_frame(tmp_path: Path, caplog) -> None:
    folder = write_patient(tmp_path, "patient0001", frames=5, cfg="ED: 1\nES: 5\nNbFrame: 5\n")
    half = find_sequences(folder, kinds=("half_sequence",))[0]
    assert load_sequence(half).num_frames == 5
    (folder / "Info_2CH.cfg").write_text("ED: 1\nES: 4\nNbFrame: 4\n")
    with caplog.at_level(logging.WARNING, logger="echolatent.io.camus"):
        seq = load_sequence(half)
    assert seq.num_frames == 5 and [r.getMessage() for r in caplog.records] == [
        f"{half.image}: 5 frames, more than NbFrame 4 in Info_2CH.cfg"]
    (folder / "Info_2CH.cfg").write_text("ED: 1\nES: 4\nNbFrame: 6\n")
    with pytest.raises(InputError) as err:
        load_sequence(half)
    assert (err.value.path, err.value.problem) == (half.image, "5 frames, fewer than NbFrame 6 in Info_2CH.cfg")
    (folder / "Info_2CH.cfg").write_text("NbFrame: 1\n")
    single = find_sequences(folder, kinds=("ED",))[0]
    assert load_sequence(single).num_frames == 1  # NbFrame is only for sequences


def test_a_one_frame_sequence_is_refused_on_its_file(tmp_path: Path) -> None:
    write_case(tmp_path, "patient0002_4CH_sequence", 1, mask=False)
    seq_ref = find_sequences(tmp_path)[0]
    with pytest.raises(InputError) as err:
        load_sequence(seq_ref)
    assert (err.value.path, err.value.problem) == (seq_ref.image, "one-frame sequence (a sequence needs at least 2 "
                                                   "frames)")
    write_like(heart_mask(1), odd_geometry((1, 24, 20)), tmp_path / "patient0003_4CH_sequence_gt.nii.gz")
    mask_ref = find_sequences(tmp_path / "patient0003_4CH_sequence_gt.nii.gz")[0]
    with pytest.raises(InputError) as err:
        load_sequence(mask_ref)
    assert err.value.path == mask_ref.mask


def test_loading_without_anything_to_read() -> None:
    nothing = SequenceRef("p", None, "file", None, None, None, "lost")
    with pytest.raises(InputError) as err:
        load_sequence(nothing)
    assert (err.value.path, err.value.problem) == (None, "lost: neither image nor mask")


def test_a_mask_alone_is_checked_against_its_image_header(tmp_path: Path) -> None:
    write_like(frame_image(3), odd_geometry((3, 24, 20)), tmp_path / "a.nii.gz")
    other = Geometry((20, 24, 3), (0.5, 0.5, 1.0), (4.5, -2.25, 0.0), odd_geometry((3, 24, 20)).direction)
    write_like(heart_mask(3), other, tmp_path / "a_gt.nii.gz")
    (pair,) = find_sequences(tmp_path)
    with pytest.raises(InputError) as err:
        load_sequence(pair, image=False)
    assert err.value.path == pair.mask
    assert err.value.problem.startswith("spacing (0.5, 0.5) mm does not match image a.nii.gz: (0.31")  # float32
    (tmp_path / "a.nii.gz").write_bytes(b"not an image")  # no header to check against: the mask alone loads
    seq = load_sequence(pair, image=False)
    assert seq.image is None and np.array_equal(seq.mask, heart_mask(3)) and seq.spacing == (0.5, 0.5)


def test_header_only_load_and_instants(tmp_path: Path) -> None:
    write_patient(tmp_path, "patient0001", frames=4, cfg="ED: 4\nES: 2\n")
    half = find_sequences(tmp_path / "patient0001", kinds=("half_sequence",))[0]
    seq = load_sequence(half, image=False, mask=False)
    assert (seq.image, seq.mask, seq.ed, seq.es, seq.reversed) == (None, None, 0, 2, True)
    assert seq.geometry == read_image(half.image)[1] and seq.spacing == pytest.approx((0.31, 0.17))
    assert seq.info == {"ED": "4", "ES": "2"} and seq.instants == ["ED", "", "ES", ""]
    full = load_sequence(half)
    assert np.array_equal(full.image, frame_image(4)[::-1]) and np.array_equal(full.mask, heart_mask(4)[::-1])


def test_instants_labels_skip_missing_and_out_of_range_indices() -> None:
    geometry = Geometry.default((3, 4, 4))
    seq = EchoSequence(ref("half_sequence"), None, None, geometry, (1.0, 1.0), {}, 2, None, False)
    assert seq.instants == ["", "", "ED"] and seq.num_frames == 3
    seq = EchoSequence(ref("half_sequence"), None, None, geometry, (1.0, 1.0), {}, 3, 0, False)
    assert seq.instants == ["ES", "", ""]


def test_grids_compared_by_name(tmp_path: Path) -> None:
    write_case(tmp_path, "a", 2)
    write_like(heart_mask(2, 24, 22), odd_geometry((2, 24, 22)), tmp_path / "b_gt.nii.gz")
    a, b = (load_sequence(r) for r in find_sequences(tmp_path))
    require_same_grid(a, a)
    with pytest.raises(InputError) as err:
        require_same_grid(b, a)
    assert err.value.path == b.ref.mask
    assert err.value.problem == "shape (2, 24, 22) (T, H, W) does not match image a.nii.gz: (2, 24, 20)"
    with pytest.raises(InputError) as err:
        require_same_grid(b, a, "ground truth")
    assert err.value.problem == "shape (2, 24, 22) (T, H, W) does not match ground truth a_gt.nii.gz: (2, 24, 20)"
    with pytest.raises(InputError) as err:
        require_same_grid(a, b)
    assert err.value.problem == "shape (2, 24, 20) (T, H, W) does not match image b: (2, 24, 22)"


def test_output_path_and_writing_a_mask(tmp_path: Path) -> None:
    write_case(tmp_path, "a", 2)
    seq = load_sequence(find_sequences(tmp_path)[0])
    assert output_path(seq.ref, str(tmp_path / "o"), "_x") == tmp_path / "o" / "a" / "a_x.nii.gz"
    out = write_mask(seq, heart_mask(2).astype(np.int32), str(tmp_path / "o" / "m.nii.gz"))
    assert out == tmp_path / "o" / "m.nii.gz"
    written, geometry = read_image(out)
    assert written.dtype == np.uint8 and np.array_equal(written, heart_mask(2)) and geometry == seq.geometry
    with pytest.raises(ValueError, match=r"^mask shape \(1, 24, 20\) does not match the sequence's \(2, 24, 20\)$"):
        write_mask(seq, heart_mask(1), tmp_path / "m.nii.gz")
    with pytest.raises(ValueError, match=r"a\.nii\.gz: refusing to overwrite an input file$"):
        write_mask(seq, heart_mask(2), tmp_path / "o" / ".." / "a.nii.gz")
    with pytest.raises(InputError, match=r"labels \{4\} outside 0..3"):
        write_mask(seq, np.where(heart_mask(2) == 3, 4, heart_mask(2)), tmp_path / "m.nii.gz")


# ------------------------------------------------------------------------------------------- more limits


@pytest.mark.parametrize(("stem", "expected"), [("x_GT", ("x_GT", "")), ("aXX_gtXX", ("aXX_gtXX", "")),
                                                ("b_gt", ("b", "_gt"))])
def test_the_default_suffix_is_exactly_gt(stem, expected) -> None:
    assert split_mask_suffix(stem) == expected


def test_suffixes_by_length_not_by_letters() -> None:
    # "_a_gt" sorts after "_gt" by letters but is longer: it is tried first
    assert split_mask_suffix("x_a_gt", "_a_gt") == ("x", "_a_gt")


def test_a_custom_mask_suffix_pairs_files(tmp_path: Path) -> None:
    write_case(tmp_path, "x", 2, mask=False)
    write_like(heart_mask(2), odd_geometry((2, 24, 20)), tmp_path / "x_seg.nii.gz")
    (pair,) = find_sequences(tmp_path, mask_suffix="_seg")
    assert (pair.name, pair.image.name, pair.mask.name) == ("x", "x.nii.gz", "x_seg.nii.gz")
    (alone,) = find_sequences(tmp_path / "x_seg.nii.gz", mask_suffix="_seg")
    assert alone == pair


def test_two_files_of_one_stem_and_suffix_keep_the_first_by_name(tmp_path: Path) -> None:
    write_like(frame_image(2), odd_geometry((2, 24, 20)), tmp_path / "upper.nii.gz")
    (tmp_path / "upper.nii.gz").rename(tmp_path / "a.NII.GZ")  # SimpleITK writes lower-case suffixes only
    write_like(frame_image(3), odd_geometry((3, 24, 20)), tmp_path / "a.nii.gz")
    (only,) = find_sequences(tmp_path)
    assert only.image.name == "a.NII.GZ"  # sorted first ("N" < "n")


def test_a_loose_file_sorts_before_the_views_of_its_patient(tmp_path: Path) -> None:
    write_case(tmp_path, "patient0001_4CH_ED", 1, mask=False)
    write_case(tmp_path, "patient0001", 2, mask=False)
    assert [(r.name, r.view) for r in find_sequences(tmp_path)] == [("patient0001", None),
                                                                    ("patient0001_4CH_ED", View.A4C)]


def test_a_root_with_only_a_training_folder(tmp_path: Path) -> None:
    (tmp_path / "training" / "patient0009").mkdir(parents=True)
    assert patient_folders(tmp_path) == [tmp_path / "training" / "patient0009"]


def test_a_two_frame_sequence_loads(tmp_path: Path) -> None:
    write_patient(tmp_path, "patient0001", frames=2, cfg="ED: 1\nES: 2\nNbFrame: 2\n")
    half = find_sequences(tmp_path / "patient0001", kinds=("half_sequence",))[0]
    seq = load_sequence(half)
    assert (seq.num_frames, seq.ed, seq.es) == (2, 0, 1)


def test_a_two_frame_sequence_with_nb_frame_of_a_pixel_axis_looks_swapped(tmp_path: Path) -> None:
    write_patient(tmp_path, "patient0001", frames=2, cfg="NbFrame: 24\n")
    half = find_sequences(tmp_path / "patient0001", kinds=("half_sequence",))[0]
    with pytest.raises(InputError) as err:
        load_sequence(half)
    assert err.value.path == half.image
    assert err.value.problem == ("2 frames of 24 x 20 pixels while the cfg's NbFrame is 24: the axes look swapped "
                                 "(expected frames x height x width: W x H x T on disk)")


def test_an_unreadable_header_is_named(tmp_path: Path, caplog) -> None:
    write_like(heart_mask(2), odd_geometry((2, 24, 20)), tmp_path / "a_gt.nii.gz")
    (tmp_path / "a.nii.gz").write_bytes(b"not an image at all")
    (pair,) = find_sequences(tmp_path)
    with pytest.raises(InputError) as err:
        load_sequence(pair, image=False, mask=False)
    assert (err.value.path, err.value.problem) == (pair.image, "cannot read image header")
    with caplog.at_level(logging.DEBUG, logger="echolatent.io.camus"):
        load_sequence(pair, image=False)
    assert [r.getMessage() for r in caplog.records] == [
        f"{pair.image}: no header to check its mask against (cannot read image header)"]


def test_a_header_only_load_of_an_image_without_mask(tmp_path: Path) -> None:
    write_case(tmp_path, "scan", 3, mask=False)
    (only,) = find_sequences(tmp_path)
    seq = load_sequence(only, image=False, mask=False)
    assert seq.geometry.shape == (3, 24, 20) and seq.spacing == pytest.approx((0.31, 0.17))


def test_refusals_carry_the_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    with pytest.raises(InputError) as err:
        find_sequences(notes)
    assert err.value.path == notes
    write_like(heart_mask(2), odd_geometry((2, 24, 20)), tmp_path / "m_gt.nii.gz")
    with pytest.raises(InputError) as err:
        find_sequences(tmp_path / "m_gt.nii.gz", require_image=True)
    assert err.value.path == tmp_path / "m_gt.nii.gz"
