"""Video reader (AVI, MP4 through PyAV) and the EchoNet-Dynamic layout, on files the tests write themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from echolatent.errors import InputError
from echolatent.io.echonet import echonet_videos, is_echonet_root, read_file_list, reference_ef
from echolatent.io.video import VIDEO_READER, read_video
from echolatent.synth.export import write_video


def frames(t: int = 7, h: int = 48, w: int = 64) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return np.stack([np.clip(100 + 60 * np.sin(xx / 7 + t) + 40 * np.cos(yy / 9), 0, 255)
                     for t in range(t)]).astype(np.uint8)


@pytest.mark.parametrize(("name", "fps", "max_error"), [("clip.avi", 50.0, 0), ("clip.mp4", 29.97, 1)])
def test_lossless_video_read_back(tmp_path: Path, name: str, fps: float, max_error: int) -> None:
    path = write_video(frames(), tmp_path / name, fps=fps)
    assert VIDEO_READER.can_read(path)
    rec = read_video(path)
    assert rec.frames.dtype == np.uint8 and rec.frames.shape == (7, 48, 64)
    assert np.abs(rec.frames.astype(int) - frames()).max() <= max_error
    assert rec.fps == pytest.approx(fps, rel=1e-3)
    assert rec.spacing is None and rec.view is None and rec.geometry.shape == (7, 48, 64)
    assert (rec.patient, rec.name, rec.meta["format"]) == ("clip", "clip", "video")


def test_echonet_style_mjpeg_rgb_avi(tmp_path: Path) -> None:
    path = write_video(frames(), tmp_path / "0X1A.avi", fps=50.0, codec="mjpeg", pix_fmt="yuvj420p",
                       options={"q:v": "2"}, rgb=True)
    rec = read_video(path)
    error = np.abs(rec.frames.astype(int) - frames())
    assert rec.meta["codec"] == "mjpeg" and error.mean() < 2.5
    assert rec.fps == pytest.approx(50.0)


def test_bad_videos_raise_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.avi"
    bad.write_text("no video here")
    with pytest.raises(InputError, match=r"bad\.avi: cannot decode"):
        read_video(bad)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        read_video(empty)
    with pytest.raises(InputError, match="not found"):
        read_video(tmp_path / "missing.avi")


def write_echonet(root: Path) -> None:
    (root / "Videos").mkdir(parents=True)
    for name in ("0XA", "0XB"):
        write_video(frames(), root / "Videos" / f"{name}.avi", fps=50.0)
    (root / "FileList.csv").write_text(
        "FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split\n"
        "0XA,55.5,40,90,48,64,50,7,TRAIN\n0XB.avi,31.0,69,100,48,64,50,7,TEST\n0XC,60,1,2,48,64,50,7,TEST\n")
    (root / "VolumeTracings.csv").write_text(
        "FileName,X1,Y1,X2,Y2,Frame\n"
        "0XA.avi,30,5,30,40,2\n0XA.avi,20,10,40,10,2\n0XA.avi,18,20,42,20,2\n"
        "0XA.avi,30,8,30,36,5\n0XA.avi,24,12,36,12,5\n0XA.avi,23,20,37,20,5\n")


def test_echonet_layout_as_a_dataset(tmp_path: Path) -> None:
    root = tmp_path / "EchoNet-Dynamic"
    write_echonet(root)
    assert is_echonet_root(root) and not is_echonet_root(tmp_path)
    cases = {case.name: case for case in read_file_list(root)}
    assert sorted(cases) == ["0XA", "0XB", "0XC"]
    assert (cases["0XA"].ef, cases["0XA"].split, cases["0XB"].fps) == (55.5, "TRAIN", 50.0)
    assert cases["0XA"].traced_instants() == (2, 5) and cases["0XB"].traced_instants() == (None, None)
    assert [c.name for c in read_file_list(root, "test")] == ["0XB", "0XC"]
    assert reference_ef(root) == {"0XA": 55.5, "0XB": 31.0, "0XC": 60.0}
    assert [p.name for p in echonet_videos(root)] == ["0XA.avi", "0XB.avi"]  # 0XC.avi is missing
    assert read_video(echonet_videos(root, "TEST")[0]).frames.shape == (7, 48, 64)


def test_echonet_malformed_list_names_the_file(tmp_path: Path) -> None:
    root = tmp_path / "echonet"
    (root / "Videos").mkdir(parents=True)
    (root / "FileList.csv").write_text("Name,EF\nx,1\n")
    with pytest.raises(InputError, match="FileList.csv: missing column"):
        read_file_list(root)
    (root / "FileList.csv").write_text("FileName,EF\nx,abc\n")
    with pytest.raises(InputError, match="EF 'abc'"):
        read_file_list(root)
