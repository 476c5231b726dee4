"""Training frames value by value: the cache folder from the environment, a cache name that follows the request
and every file's size and mtime, resizing in chunks, native frames reused for a resized request, damaged or
unwritable caches, and the exact refusals."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from io_helpers import frame_image, heart_mask, odd_geometry, write_patient

from echolatent.errors import InputError
from echolatent.io import frames as frames_module
from echolatent.io.camus import find_sequences
from echolatent.io.frames import _cache_file, _resize_pairs, default_cache_dir, load_frames
from echolatent.io.volume import write_like
from echolatent.labels import Instant, View
from echolatent.resample import resize_frames, resize_labels


def test_the_cache_folder_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ECHOLATENT_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.setenv("ECHOLATENT_CACHE", "")
    assert default_cache_dir() == tmp_path / "x" / "echolatent"
    monkeypatch.delenv("ECHOLATENT_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "echolatent"


def test_the_cache_name_follows_request_size_and_mtime(tmp_path: Path) -> None:
    write_patient(tmp_path, "patient0001", frames=2)
    refs = find_sequences(tmp_path, kinds=("ED",))
    name = _cache_file(refs, ("v1", ["a"], None), tmp_path / "c")
    assert name.parent == tmp_path / "c" and name.name.startswith("frames-") and name.suffix == ".npz"
    assert len(name.name) == len("frames-") + 24 + len(".npz")
    assert _cache_file(refs, ("v1", ["a"], None), tmp_path / "c") == name
    assert _cache_file(refs, ("v1", ["a"], (8, 8)), tmp_path / "c") != name
    assert _cache_file(refs[:1], ("v1", ["a"], None), tmp_path / "c") != name
    mask = refs[0].mask
    stat = mask.stat()
    os.utime(mask, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))
    touched = _cache_file(refs, ("v1", ["a"], None), tmp_path / "c")
    assert touched != name
    os.utime(refs[0].image, ns=(stat.st_atime_ns, refs[0].image.stat().st_mtime_ns + 1000))
    assert _cache_file(refs, ("v1", ["a"], None), tmp_path / "c") not in (name, touched)


def test_resizing_in_chunks_equals_one_resize() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (300, 12, 10)).astype(np.uint8)
    masks = rng.integers(0, 4, (300, 12, 10)).astype(np.uint8)
    small, small_masks = _resize_pairs(images, masks, (6, 5))
    expected = np.round(np.clip(resize_frames(images, (6, 5)), 0, 255)).astype(np.uint8)
    assert small.dtype == np.uint8 and np.array_equal(small, expected)
    assert np.array_equal(small_masks, resize_labels(masks, (6, 5)))


def test_frames_of_a_subset_sorted_with_their_ids(nifti_root: Path) -> None:
    images, masks, ids = load_frames(nifti_root, "validation", views=("4CH",), instants=("ES", "ED"), cache=False)
    assert ids == ["patient0003_4CH_ED", "patient0003_4CH_ES"]
    assert np.array_equal(images, frame_image(1).repeat(2, 0)) and np.array_equal(masks, heart_mask(1).repeat(2, 0))
    _, _, all_ids = load_frames(nifti_root, None, views=(View.A2C,), instants=(Instant.ED,), cache=False)
    assert all_ids == ["patient0001_2CH_ED", "patient0002_2CH_ED", "patient0003_2CH_ED"]


def test_no_frame_found_is_refused(nifti_root: Path, tmp_path: Path) -> None:
    (tmp_path / "empty" / "database_split").mkdir(parents=True)
    (tmp_path / "empty" / "database_split" / "subgroup_training.txt").write_text("patient0009\n")
    with pytest.raises(InputError) as err:
        load_frames(tmp_path / "empty", "training", instants=(Instant.ES, Instant.ED), cache=False)
    assert (err.value.path, err.value.problem) == (tmp_path / "empty", "no ES/ED frames with an expert mask in "
                                                   "subset 'training'")


def test_a_sequence_file_named_like_a_frame_is_refused(tmp_path: Path) -> None:
    folder = write_patient(tmp_path, "patient0001", frames=2)
    write_like(frame_image(3), odd_geometry((3, 24, 20)), folder / "patient0001_2CH_ED.nii.gz")
    write_like(heart_mask(3), odd_geometry((3, 24, 20)), folder / "patient0001_2CH_ED_gt.nii.gz")
    with pytest.raises(InputError) as err:
        load_frames(tmp_path, None, cache=False)
    assert err.value.path == folder / "patient0001_2CH_ED.nii.gz"
    assert err.value.problem == "an ED file must hold one frame, got 3"


def test_a_resized_request_reuses_the_native_cache(nifti_root: Path, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    native, native_masks, _ = load_frames(nifti_root, "training", cache_dir=cache)
    monkeypatch.setattr(frames_module, "load_sequence", lambda ref: pytest.fail("files read again"))
    small, small_masks, ids = load_frames(nifti_root, "training", size=[12, 10], cache_dir=cache)
    expected, expected_masks = _resize_pairs(native, native_masks, (12, 10))
    assert np.array_equal(small, expected) and np.array_equal(small_masks, expected_masks) and len(ids) == 8
    assert len(list(cache.glob("frames-*.npz"))) == 2 and not list(cache.glob("*.tmp*"))


def test_a_damaged_cache_is_rebuilt_with_a_warning(nifti_root: Path, tmp_path: Path, caplog) -> None:
    cache = tmp_path / "cache"
    images, _, _ = load_frames(nifti_root, "validation", cache_dir=cache)
    (stored,) = cache.glob("frames-*.npz")
    stored.write_bytes(b"not a zip file")
    with caplog.at_level(logging.WARNING, logger="echolatent.io.frames"):
        again, _, _ = load_frames(nifti_root, "validation", cache_dir=cache)
    assert np.array_equal(again, images)
    assert [r.getMessage() for r in caplog.records] == [f"{stored}: unreadable cache, rebuilding"]
    with np.load(stored) as rebuilt:
        assert np.array_equal(rebuilt["images"], images)
    np.savez(stored, other=images)  # readable, but without the arrays
    with caplog.at_level(logging.WARNING, logger="echolatent.io.frames"):
        assert np.array_equal(load_frames(nifti_root, "validation", cache_dir=cache)[0], images)
    assert caplog.records[-1].getMessage() == f"{stored}: unreadable cache, rebuilding"


def test_an_unwritable_cache_is_only_warned(nifti_root: Path, tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING, logger="echolatent.io.frames"):
        images, _, ids = load_frames(nifti_root, "validation", cache_dir=blocker / "cache")
    assert len(ids) == 4 and images.shape == (4, 24, 20)
    assert caplog.records[0].getMessage().startswith(f"cannot write frame cache {blocker / 'cache'}/frames-")


def test_without_the_cache_nothing_is_written(nifti_root: Path, tmp_path: Path) -> None:
    load_frames(nifti_root, "validation", cache=False, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()
