"""Recordings found and loaded like CAMUS files: discovery, ids, options for what a file does not say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_helpers import write_patient

from echolatent.errors import InputError
from echolatent.io.discovery import select_refs
from echolatent.io.recordings import RecordingOptions, load_any, parse_spacing, recording_refs
from echolatent.labels import View
from echolatent.synth.export import UltrasoundRegion, write_dicom, write_dicom_series, write_video

FRAMES = np.random.default_rng(0).integers(1, 255, (4, 24, 20)).astype(np.uint8)


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    root = tmp_path / "clinic"
    region = (UltrasoundRegion((0, 0, 19, 23), (0.25, 0.2)),)
    write_dicom(FRAMES, root / "a" / "loop.dcm", regions=region, fps=40, patient_id="P1", description="A2C")
    write_dicom(FRAMES, root / "a" / "IM0002", patient_id="P1")  # no suffix: found by its content
    write_dicom_series(FRAMES, root / "b" / "series", patient_id="P2")
    write_video(FRAMES, root / "c" / "loop.avi", fps=25)
    write_patient(root, "patient0001", frames=4)
    return root


def test_a_folder_holds_camus_files_dicoms_series_and_videos(clinic: Path) -> None:
    refs = select_refs(clinic)
    found = {(r.patient, r.name, r.kind) for r in refs}
    assert {("P1", "loop", "file"), ("P1", "IM0002", "file"), ("P2", "series", "file"),
            ("loop", "loop", "file")} <= found
    assert {("patient0001", "patient0001_4CH_half_sequence", "half_sequence")} <= found
    assert select_refs(clinic / "b" / "series")[0].image == clinic / "b" / "series"
    assert [r.name for r in select_refs(clinic / "c" / "loop.avi")] == ["loop"]


def test_same_names_of_one_patient_are_made_unique(tmp_path: Path) -> None:
    for folder in ("x", "y"):
        write_dicom(FRAMES, tmp_path / folder / "loop.dcm", patient_id="P9")
    assert sorted(r.name for r in recording_refs(tmp_path)) == ["loop", "loop_2"]


def test_load_settles_values_with_their_sources(clinic: Path) -> None:
    dicom = next(r for r in recording_refs(clinic / "a") if r.name == "loop")
    loaded = load_any(dicom, RecordingOptions(view=View.A4C, spacing=(0.5, 0.5), fps=10))
    assert loaded.seq.spacing == pytest.approx((0.25, 0.2)) and loaded.fps == pytest.approx(40)
    assert loaded.seq.ref.view == View.A2C and loaded.facts["view_source"] == "DICOM description"
    assert loaded.find_instants and loaded.facts["instants_source"].startswith("found")
    video = recording_refs(clinic / "c")[0]
    loaded = load_any(video, RecordingOptions(view=View.A4C, spacing=(0.5, 0.4), ed=2, es=4))
    assert loaded.seq.spacing == (0.5, 0.4) and loaded.facts["spacing_source"] == "--spacing"
    assert (loaded.seq.ed, loaded.seq.es, loaded.find_instants) == (1, 3, False)
    assert loaded.seq.ref.view == View.A4C and loaded.facts["view_source"] == "--view"
    with pytest.raises(InputError, match="--es 9 is past the last frame"):
        load_any(video, RecordingOptions(ed=1, es=9))


def test_options_and_spacing_text_are_checked() -> None:
    assert parse_spacing("0.3") == (0.3, 0.3) and parse_spacing(" .3 x 0.25 ") == (0.3, 0.25)
    for bad in ("", "0", "0.3x", "a", "-1"):
        with pytest.raises(ValueError, match="pixel size"):
            parse_spacing(bad)
    with pytest.raises(ValueError, match="go together"):
        RecordingOptions(ed=3)
    with pytest.raises(ValueError, match="start at 1"):
        RecordingOptions(ed=0, es=2)
    with pytest.raises(ValueError, match="--sector"):
        RecordingOptions(sector="maybe")
