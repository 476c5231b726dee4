"""``run`` on real-recording formats written from one synthetic two-beat sequence: DICOM, AVI, MP4 and a NIfTI of any
name give the same masks and per-beat EF; ED/ES are found per beat; the sector keeps overlays out; options given on
the command line are used when the file does not say, and recorded (shipped weights, Gaussian smoothing: fast)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import JPEG2000Lossless

from echolatent.io.recordings import RecordingOptions
from echolatent.io.sector import detect_sector
from echolatent.io.volume import Geometry, read_image, write_like
from echolatent.jobs.run import run_job
from echolatent.jobs.segment import segment_path
from echolatent.labels import Label, View
from echolatent.pipeline import process_sequence
from echolatent.segment import load_segmenter
from echolatent.synth.export import UltrasoundRegion, write_dicom, write_video
from echolatent.synth.overlays import draw_overlays
from echolatent.synth.patient import synthesize_patient
from echolatent.temporal.strategy import make_smoother

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "echolatent" / "weights"
pytestmark = pytest.mark.skipif(not (SHIPPED / "unet.pt").is_file(), reason="shipped U-Net not present")


@pytest.fixture(scope="module")
def clip():
    """A 4CH two-beat synthetic clip: ``(frames with overlays, clean frames, masks, sector, truth, spacing, fps)``."""
    patient = synthesize_patient(2, frames=6, size=96, seed=0, beats=2)
    view = patient.views[View.A4C]
    sector = (view.cycle_images > 0).all(axis=0)
    shown = draw_overlays(view.cycle_images, sector)
    return shown, view.cycle_images, view.cycle_masks, sector, patient.truth(), patient.spacing, patient.frame_rate


@pytest.fixture(scope="module")
def files(clip, tmp_path_factory):
    shown, _, _, _, _, spacing, fps = clip
    folder = tmp_path_factory.mktemp("recordings")
    region = UltrasoundRegion((0, 0, shown.shape[2] - 1, shown.shape[1] - 1), spacing)
    return {
        "dicom": write_dicom(shown, folder / "series.dcm", regions=(region,), fps=fps, description="A4C"),
        "avi": write_video(shown, folder / "clip.avi", fps=fps),
        "mp4": write_video(shown, folder / "clip.mp4", fps=fps),
        "nifti": write_like(shown, Geometry.default(shown.shape, spacing), folder / "a4c_sequence.nii.gz"),
        "dicom_j2k": _jpeg2000(write_dicom(shown, folder / "plain.dcm", regions=(region,), fps=fps,
                                           description="A4C"), folder / "archive"),
    }


def _jpeg2000(path: Path, folder: Path) -> Path:
    """The DICOM file at ``path`` re-encoded as lossless JPEG 2000 (as PACS archives store it), as
    ``folder/IM0001``: no suffix, found by its DICM marker."""
    ds = dcmread(path)
    ds.compress(JPEG2000Lossless)
    folder.mkdir()
    ds.save_as(folder / "IM0001")
    return folder / "IM0001"


@pytest.fixture(scope="module")
def runs(clip, files, tmp_path_factory):
    """Each format run as a user would: the view given; the NIfTI, which holds no frame rate, with ``--fps`` (the
    DICOM and the videos carry theirs), so every run finds its beats with the same heart-rate bound."""
    out = tmp_path_factory.mktemp("runs")
    options = {name: RecordingOptions(view=View.A4C, fps=clip[6] if name == "nifti" else None) for name in files}
    return {name: (run_job(path, out / name, method="gaussian", max_figures=1, recording=options[name]), out / name)
            for name, path in files.items()}


def _post(out: Path) -> np.ndarray:
    return read_image(next(out.glob("*/*_post.nii.gz")))[0]


def test_every_format_gives_the_same_masks_and_ef(runs):
    reference, reference_out = runs["nifti"]
    reference_ef = [row["EF"] for row in next(iter(reference["beats"].values()))["beats"]]
    assert len(reference_ef) == 2
    for name, (summary, out) in runs.items():
        table = next(iter(summary["beats"].values()))
        ef = [row["EF"] for row in table["beats"]]
        assert np.allclose(ef, reference_ef, atol=0.5), name
        if name != "mp4":  # H.264 at qp 0 is 1 grey level off in places
            assert np.array_equal(_post(out), _post(reference_out)), name
        assert table["method"] == "single-plane 4CH"


def test_beats_found_within_one_frame_of_the_truth(runs, clip):
    truth = clip[4]["beats"]
    summary = runs["dicom"][0]
    found = summary["sequences"][0]["beats"]
    assert [b["ed"] for b in found] == pytest.approx([b["ED"] for b in truth], abs=1)
    assert [b["es"] for b in found] == pytest.approx([b["ES"] for b in truth], abs=1)
    assert found[0]["next_ed"] == pytest.approx(truth[0]["next_ED"], abs=1)


def test_what_was_read_given_or_found_is_recorded(runs, clip):
    spacing, fps = clip[5], clip[6]
    facts = {name: summary["sequences"][0]["recording"] for name, (summary, _) in runs.items()}
    assert facts["dicom"]["spacing"] == pytest.approx(list(spacing), abs=1e-6)
    assert facts["dicom"]["fps"] == pytest.approx(fps) and facts["dicom"]["view_source"] == "DICOM description"
    assert facts["avi"]["spacing"] is None and facts["avi"]["view_source"] == "--view"
    assert facts["avi"]["fps"] == pytest.approx(fps, rel=1e-3)
    assert facts["nifti"]["spacing_source"] == "header" and facts["nifti"]["fps"] == pytest.approx(fps)
    assert facts["nifti"]["fps_source"] == "--fps"
    assert all(f["instants_source"] == "found on the smoothed LV area curve" for f in facts.values())
    assert all(f["sector"].startswith("cone") and f["beats_found"] == 2 for f in facts.values())
    assert all(f["sector"].endswith("masks cut to it") for f in facts.values())  # the overlays show
    config = json.loads((runs["avi"][1] / "config.json").read_text())
    assert config["recording"] == {"view": "4CH", "spacing": None, "fps": None, "ed": None, "es": None,
                                   "sector": "auto"}
    assert runs["dicom"][0]["units"]["volume"] == "mL" and runs["avi"][0]["units"]["volume"] != "mL"


def test_overlays_stay_out_and_the_masks_inside_do_not_change(clip):
    shown, clean, _, sector, _, spacing, fps = clip
    segmenter, smoother = load_segmenter(), make_smoother("gaussian")
    found = detect_sector(shown).mask
    with_overlays = process_sequence(shown, spacing, segmenter, smoother, sector=found, fps=fps, find_instants=True)
    without = process_sequence(clean, spacing, segmenter, smoother, sector=detect_sector(clean).mask, fps=fps,
                               find_instants=True)
    for masks in (with_overlays.pred, with_overlays.post):
        assert not masks[:, ~sector].any()
    inside = [(with_overlays.post == label) & sector for label in Label.foreground()]
    reference = [(without.post == label) & sector for label in Label.foreground()]
    dice = [2 * (a & b).sum() / (a.sum() + b.sum()) for a, b in zip(inside, reference, strict=True)]
    assert min(dice) > 0.999
    assert with_overlays.instants == without.instants


def test_half_sequence_cfg_or_detection_agree(tmp_path, clip):
    patient = synthesize_patient(3, frames=8, size=96, seed=0)
    folder = tmp_path / "camus" / "database_nifti" / "patient0003"
    images = patient.views[View.A4C].images
    write_like(images, Geometry.default(images.shape, patient.spacing), folder / "patient0003_4CH_half_sequence.nii.gz")
    (folder / "Info_4CH.cfg").write_text(f"ED: 1\nES: {len(images)}\nNbFrame: {len(images)}\n")
    with_cfg = run_job(folder, tmp_path / "cfg", method="gaussian", max_figures=0)
    (folder / "Info_4CH.cfg").unlink()
    detected = run_job(folder, tmp_path / "found", method="gaussian", max_figures=0)
    assert with_cfg["sequences"][0]["recording"]["instants_source"] == "cfg"
    assert detected["sequences"][0]["recording"]["instants_source"].startswith("found")
    assert detected["sequences"][0]["beats"] == [{"ed": 0, "es": len(images) - 1, "next_ed": None}]
    ef = [s["after"]["clinical"]["patients"]["patient0003"]["pred"]["ef"] for s in (with_cfg, detected)]
    assert ef[0] == pytest.approx(ef[1], abs=1e-9)


def test_cli_run_on_a_video_with_options(files, tmp_path, monkeypatch, capsys):
    from echolatent.cli.app import main

    out = tmp_path / "cli"
    monkeypatch.setattr(sys, "argv", ["echolatent", "run", str(files["avi"]), "--view", "4CH", "--out", str(out),
                                      "--spacing", "0.4x0.3", "--ed", "1", "--es", "4", "--method", "gaussian"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code in (0, None)
    summary = json.loads((out / "summary.json").read_text())
    facts = summary["sequences"][0]["recording"]
    assert facts["spacing"] == [0.4, 0.3] and facts["spacing_source"] == "--spacing"
    assert facts["instants_source"] == "--ed/--es" and summary["units"]["volume"] == "mL"
    assert np.isfinite(summary["after"]["clinical"]["patients"]["clip"]["pred"]["ef"])
    assert "report:" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [(["--spacing", "0.3y"], "--spacing"), (["--view", "5CH"], "--view"),
                                               (["--ed", "2"], "--ed and --es"), (["--sector", "on"], "--sector")])
def test_cli_bad_recording_options_are_one_line(files, tmp_path, monkeypatch, capsys, args, message):
    from echolatent.cli.app import main

    monkeypatch.setattr(sys, "argv", ["echolatent", "run", str(files["avi"]), "--out", str(tmp_path / "o"), *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    error = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(error) == 1 and message in error[0]


def test_segment_a_dicom_cuts_masks_to_the_sector(files, clip, tmp_path):
    written = segment_path(files["dicom"], tmp_path / "seg", load_segmenter())
    masks = read_image(written[0])[0]
    assert written[0].name == "series_pred.nii.gz" and written[0].parent.name == "SYNTH0001"
    assert masks.shape == clip[0].shape and masks.any() and not masks[:, ~clip[3]].any()


def test_evaluate_against_echonet_file_list(files, tmp_path, monkeypatch, capsys):
    from echolatent.cli.app import main

    root = tmp_path / "EchoNet-Dynamic"
    (root / "Videos").mkdir(parents=True)
    names = ("0XA", "0XB", "0XC")
    for name in names:
        (root / "Videos" / f"{name}.avi").write_bytes(files["avi"].read_bytes())
    (root / "FileList.csv").write_text("FileName,EF,Split\n0XA,40,TEST\n0XB.avi,50,TEST\n0XC,60,TEST\n0XD,55,TEST\n")
    run_out = tmp_path / "run"
    summary = run_job(root, run_out, method="gaussian", max_figures=0, recording=RecordingOptions(view=View.A4C))
    tool = {name: summary["beats"][name]["mean"]["EF"] for name in names}
    monkeypatch.setattr(sys, "argv", ["echolatent", "evaluate", str(run_out), "--gt", str(root), "--out",
                                      str(tmp_path / "eval")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code in (0, None)
    result = json.loads((tmp_path / "eval" / "summary.json").read_text())
    agreement = result["agreement"]
    errors = np.array([tool[n] - ef for n, ef in zip(names, (40.0, 50.0, 60.0), strict=True)])
    assert result["videos"] == agreement["n"] == 3
    assert agreement["mae"] == pytest.approx(np.abs(errors).mean())
    assert agreement["bias"] == pytest.approx(errors.mean())
    assert "MAE" in capsys.readouterr().out


def test_smooth_finds_the_beats_of_masks_without_cfg(clip, tmp_path):
    from echolatent.jobs.smooth import smooth_folder

    masks, truth = clip[2], clip[4]["beats"]
    write_like(masks, Geometry.default(masks.shape), tmp_path / "in" / "p1" / "clip_pred.nii.gz")
    options = RecordingOptions(spacing=(0.4, 0.4), fps=clip[6])
    summary = smooth_folder(tmp_path / "in", tmp_path / "out", make_smoother("gaussian"), options=options)
    facts = summary["recordings"]["clip"]
    assert facts["spacing"] == [0.4, 0.4] and facts["spacing_source"] == "--spacing" and facts["fps_source"] == "--fps"
    assert [b["ed"] for b in facts["beats"]] == pytest.approx([b["ED"] for b in truth], abs=1)
    assert [b["es"] for b in facts["beats"]] == pytest.approx([b["ES"] for b in truth], abs=1)
    assert summary["units"]["volume"] == "mL" and summary["options"]["fps"] == pytest.approx(clip[6])


def test_report_shows_every_beat(runs):
    html = (runs["dicom"][1] / "report.html").read_text()
    assert "<h2>Every beat</h2>" in html and "mean ± SD" in html and "ED 1, ES" in html


def test_every_beat_is_also_measured_on_the_unet_masks(runs):
    from echolatent.measure.clinical import clinical_indices

    summary, out = runs["dicom"]
    table = next(iter(summary["beats"].values()))
    found = summary["sequences"][0]["beats"]
    pred, geometry = read_image(next(out.glob("*/*_pred.nii.gz")))
    spacing = {View.A4C: tuple(float(v) for v in geometry.spacing[:2][::-1])}
    assert len(table["unet"]["beats"]) == len(table["beats"]) == len(found) == 2
    for beat, row in zip(found, table["unet"]["beats"], strict=True):
        expected = clinical_indices({View.A4C: pred[beat["ed"]]}, {View.A4C: pred[beat["es"]]}, spacing)
        assert row["EF"] == pytest.approx(expected.ef, abs=0.05)
    assert table["unet"]["mean"]["EF"] == pytest.approx(np.mean([r["EF"] for r in table["unet"]["beats"]]))
    html = (out / "report.html").read_text()
    assert "EF, U-Net masks (%)" in html and f"{table['unet']['beats'][0]['EF']:.1f}" in html
