"""Synthetic patients in memory and on disk (CAMUS layout, cfg, truth.json, previews)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from echolatent.io.volume import read_image
from echolatent.labels import Label, View
from echolatent.synth.dataset import split_patients, write_synthetic_dataset
from echolatent.synth.patient import synthesize_patient

FRAMES, SIZE = 6, 64


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    write_synthetic_dataset(out, patients=2, frames=FRAMES, size=SIZE, seed=7, full_cycle=True, previews=1)
    return out


def test_same_seed_identical_other_seed_differs():
    a = synthesize_patient(1, frames=FRAMES, size=SIZE, seed=3)
    b = synthesize_patient(1, frames=FRAMES, size=SIZE, seed=3)
    c = synthesize_patient(1, frames=FRAMES, size=SIZE, seed=4)
    for view in View:
        np.testing.assert_array_equal(a.views[view].images, b.views[view].images)
        np.testing.assert_array_equal(a.views[view].masks, b.views[view].masks)
        assert not np.array_equal(a.views[view].masks, c.views[view].masks)
        assert not np.array_equal(a.views[view].images, c.views[view].images)
    assert a.ef != c.ef


def test_truth_consistent():
    patient = synthesize_patient(2, frames=FRAMES, size=SIZE, seed=0, images=False)
    assert patient.ef == pytest.approx(100 * (patient.edv - patient.esv) / patient.edv)
    assert patient.edv == max(patient.half.volume) and patient.esv == min(patient.half.volume)
    assert 25 <= patient.ef <= 75
    assert patient.spacing[0] == patient.spacing[1] == pytest.approx(patient.views[View.A4C].placement.depth / SIZE)


def test_full_cycle_starts_with_the_half_sequence():
    patient = synthesize_patient(1, frames=FRAMES, size=SIZE, seed=1, full_cycle=True)
    view = patient.views[View.A2C]
    np.testing.assert_array_equal(view.cycle_masks[:FRAMES], view.masks)
    np.testing.assert_array_equal(view.cycle_images[:FRAMES], view.images)
    volumes = patient.cycle.volume
    assert np.argmin(volumes) == FRAMES - 1 and volumes[-1] == pytest.approx(volumes[0])


def test_layout_files(dataset):
    folder = dataset / "database_nifti" / "patient0002"
    for view in ("2CH", "4CH"):
        for kind, frames in (("half_sequence", FRAMES), ("ED", 1), ("ES", 1)):
            image, geometry = read_image(folder / f"patient0002_{view}_{kind}.nii.gz")
            mask, mask_geometry = read_image(folder / f"patient0002_{view}_{kind}_gt.nii.gz")
            assert image.shape == mask.shape == (frames, SIZE, SIZE)
            assert image.dtype == mask.dtype == np.uint8
            assert geometry.spacing == mask_geometry.spacing and geometry.spacing[0] > 0.3
            assert set(np.unique(mask)) == {0, 1, 2, 3}
        sequence, _ = read_image(folder / f"patient0002_{view}_sequence_gt.nii.gz")
        assert sequence.shape[0] > FRAMES
        half, _ = read_image(folder / f"patient0002_{view}_half_sequence_gt.nii.gz")
        ed, _ = read_image(folder / f"patient0002_{view}_ED_gt.nii.gz")
        es, _ = read_image(folder / f"patient0002_{view}_ES_gt.nii.gz")
        np.testing.assert_array_equal(half[0], ed[0])
        np.testing.assert_array_equal(half[-1], es[0])
    assert (dataset / "previews" / "patient0001.png").is_file()
    assert not (dataset / "previews" / "patient0002.png").exists()


def test_cfg_one_based_and_truth(dataset):
    truth = json.loads((dataset / "truth.json").read_text())
    entry = truth["patients"]["patient0001"]
    cfg = dict(
        line.split(": ", 1)
        for line in (dataset / "database_nifti" / "patient0001" / "Info_4CH.cfg").read_text().splitlines()
    )
    assert cfg["ED"] == "1" and cfg["ES"] == str(FRAMES) and cfg["NbFrame"] == str(FRAMES)
    assert cfg["ImageQuality"] in {"Good", "Medium", "Poor"} and cfg["Sex"] in {"M", "F"}
    assert float(cfg["EF"]) == pytest.approx(entry["EF"], abs=0.01)
    assert float(cfg["LVedv"]) == pytest.approx(entry["EDV"], abs=0.01)
    assert entry["EF"] == pytest.approx(100 * (entry["EDV"] - entry["ESV"]) / entry["EDV"])
    assert len(entry["volumes"]) == FRAMES and len(entry["sequence_volumes"]) > FRAMES
    splits = {
        s: (dataset / "database_split" / f"subgroup_{s}.txt").read_text().split()
        for s in ("training", "validation", "testing")
    }
    assert sorted(sum(splits.values(), [])) == ["patient0001", "patient0002"]


def test_split_disjoint_and_deterministic():
    names = [f"patient{i:04d}" for i in range(1, 21)]
    split = split_patients(names, 0)
    assert split == split_patients(names, 0)
    assert len(split["validation"]) == len(split["testing"]) == 2 and len(split["training"]) == 16
    assert sorted(sum(split.values(), [])) == names


def test_files_reproducible(tmp_path):
    for name in ("a", "b"):
        write_synthetic_dataset(tmp_path / name, patients=1, frames=3, size=32, seed=5, previews=0)
    for rel in (
        "database_nifti/patient0001/patient0001_4CH_half_sequence.nii.gz",
        "truth.json",
        "database_nifti/patient0001/Info_2CH.cfg",
    ):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


@pytest.mark.parametrize("kwargs", [{"patients": 0}, {"frames": 1}, {"size": 8}])
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        write_synthetic_dataset(tmp_path, **kwargs)


def test_layout_resembles_camus224_masks():
    """Relative size and position of the structures, resized to a square grid, as camus224's experts draw them."""
    lv_len, lv_width, la_below = [], [], []
    for index in range(1, 5):
        patient = synthesize_patient(index, frames=2, size=SIZE, seed=0, images=False)
        for view in View:
            mask = patient.views[view].masks[0]
            rows, cols = np.nonzero(mask == Label.LV)
            lv_len.append((rows.max() - rows.min()) / SIZE)
            lv_width.append((cols.max() - cols.min()) / SIZE)
            la_below.append(np.nonzero(mask == Label.LA)[0].mean() > rows.mean())
    assert 0.4 < np.mean(lv_len) < 0.6 and 0.18 < np.mean(lv_width) < 0.35 and all(la_below)


def test_several_beats_with_truth_per_beat_and_screen_overlays(tmp_path):
    out = write_synthetic_dataset(tmp_path / "beats", patients=1, frames=5, size=48, seed=2, previews=0, beats=3,
                                  overlays=True)
    truth = json.loads((out / "truth.json").read_text())
    assert (truth["beats"], truth["overlays"]) == (3, True)
    patient = truth["patients"]["patient0001"]
    beats, volumes = patient["beats"], np.array(patient["sequence_volumes"])
    assert len(beats) == 3 and [b["ED"] for b in beats[1:]] == [b["next_ED"] for b in beats[:-1]]
    for beat in beats:
        window = volumes[beat["ED"]: beat["next_ED"] + 1]
        assert beat["ED"] < beat["ES"] < beat["next_ED"]
        assert volumes[beat["ES"]] == pytest.approx(window.min()) and beat["EDV"] == pytest.approx(volumes[beat["ED"]])
        assert beat["EF"] == pytest.approx(100 * (beat["EDV"] - beat["ESV"]) / beat["EDV"])
    folder = out / "database_nifti" / "patient0001"
    images = read_image(folder / "patient0001_4CH_sequence.nii.gz")[0]
    masks = read_image(folder / "patient0001_4CH_sequence_gt.nii.gz")[0]
    assert len(images) == len(volumes) == beats[-1]["next_ED"] + 1 and masks.shape == images.shape
    clean = synthesize_patient(1, frames=5, size=48, seed=2, beats=3).views[View.A4C].cycle_images
    fan = (clean > 0).all(axis=0)
    assert ((images > 0) & ~fan).any(axis=0).sum() > 20  # the overlays
    assert np.array_equal(images[:, fan], clean[:, fan])  # drawn outside the fan only
