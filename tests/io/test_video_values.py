"""Video values: files written here with PyAV (lossless FFV1 grey, known frames and rate) read back exactly, the
frame-rate source of each stream attribute, names, metadata and refusals."""

from __future__ import annotations

import io
import logging
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
from PIL import Image

from echolatent.errors import InputError
from echolatent.io.video import VIDEO_READER, _stream_fps, decode_grey, is_video_file, read_video


def frames(t: int = 3, h: int = 16, w: int = 24) -> np.ndarray:
    """``(T, H, W)`` uint8 whose pixel (t, y, x) is (7 t + 3 y + x) mod 256: every frame and row differs."""
    tt, yy, xx = np.mgrid[:t, :h, :w]
    return ((7 * tt + 3 * yy + xx) % 256).astype(np.uint8)


def write_grey(path: Path, pixels: np.ndarray, rate: Fraction = Fraction(25), fmt: str = "avi") -> Path:
    """FFV1 grey, lossless: every frame written as it stands."""
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream("ffv1", rate=rate)
        stream.width, stream.height, stream.pix_fmt = pixels.shape[2], pixels.shape[1], "gray"
        container.start_encoding()  # the header, even for no frame
        for frame in pixels:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="gray")))
        container.mux(stream.encode())
    return path


@pytest.mark.parametrize("name", ["a.avi", "B.MP4", "c.Mov", "d.m4v", "e.f.avi"])
def test_video_suffixes(name: str) -> None:
    assert is_video_file(name) and is_video_file(Path("x") / name) and VIDEO_READER.can_read(Path(name))


@pytest.mark.parametrize("name", ["a.avi.txt", "avi", "b.mkv", "c.mp3", "d.dcm"])
def test_other_suffixes(name: str) -> None:
    assert not is_video_file(name) and not VIDEO_READER.can_read(Path(name))


def test_a_grey_video_reads_back_exactly_with_its_rate(tmp_path: Path) -> None:
    path = write_grey(tmp_path / "loop.v2.avi", frames(), Fraction(30000, 1001))
    rec = VIDEO_READER.read(path)
    assert rec.frames.dtype == np.uint8 and np.array_equal(rec.frames, frames())
    assert rec.fps == pytest.approx(30000 / 1001, rel=1e-9)
    assert (rec.patient, rec.name, rec.source, rec.spacing, rec.view) == ("loop.v2", "loop.v2", path, None, None)
    assert rec.meta == {"format": "video", "codec": "ffv1", "spacing_source": "unknown (a video holds no pixel size)",
                        "fps_source": "container (average_rate)", "view_source": "unknown"}
    assert rec.geometry.shape == (3, 16, 24) and rec.geometry.spacing == (1.0, 1.0)


def test_decode_grey_gives_frames_rate_source_and_codec(tmp_path: Path) -> None:
    path = write_grey(tmp_path / "one.avi", frames(1, 8, 10), Fraction(12))
    pixels, fps, source, codec = decode_grey(path)
    assert np.array_equal(pixels, frames(1, 8, 10)) and (fps, source, codec) == (12.0, "container (average_rate)",
                                                                                   "ffv1")


def test_the_rate_comes_from_the_first_positive_stream_attribute() -> None:
    assert _stream_fps(SimpleNamespace(average_rate=Fraction(50), guessed_rate=Fraction(25), base_rate=None)) == (
        50.0, "container (average_rate)")
    assert _stream_fps(SimpleNamespace(average_rate=None, guessed_rate=Fraction(25, 2), base_rate=Fraction(9))) == (
        12.5, "container (guessed_rate)")
    assert _stream_fps(SimpleNamespace(average_rate=Fraction(0), guessed_rate=Fraction(0),
                                       base_rate=Fraction(30000, 1001))) == (30000 / 1001, "container (base_rate)")
    assert _stream_fps(SimpleNamespace(average_rate=Fraction(0), guessed_rate=None)) == (
        None, "unknown (the container gives no frame rate)")
    assert _stream_fps(SimpleNamespace()) == (None, "unknown (the container gives no frame rate)")
    assert _stream_fps(SimpleNamespace(average_rate=Fraction(1, 2))) == (0.5, "container (average_rate)")


def test_a_file_without_a_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=8000)
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        samples.sample_rate = 8000
        for packet in stream.encode(samples):
            container.mux(packet)
        container.mux(stream.encode(None))
    with pytest.raises(InputError, match=r"sound\.mp4: no video stream$"):
        read_video(path)


def test_a_video_without_frames(tmp_path: Path) -> None:
    path = write_grey(tmp_path / "none.avi", frames(0))
    with pytest.raises(InputError, match=r"none\.avi: zero frames in the video$"):
        read_video(path)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"gone\.avi: file not found$"):
        decode_grey(tmp_path / "gone.avi")
    (tmp_path / "empty.avi").write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.avi: empty file$"):
        decode_grey(tmp_path / "empty.avi")
    (tmp_path / "noise.mp4").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"noise\.mp4: cannot decode the video \(\w+Error: "):
        decode_grey(tmp_path / "noise.mp4")


def test_reader_name_and_repr() -> None:
    assert VIDEO_READER.name == "video"
    assert repr(VIDEO_READER) == "<reader video ('.avi', '.mp4', '.mov', '.m4v')>"


def jpeg(h: int, w: int, value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((h, w), value, np.uint8), "L").save(buffer, format="JPEG")
    return buffer.getvalue()


def test_frames_of_different_sizes_are_refused(tmp_path: Path) -> None:
    # MJPEG packets are whole JPEG images: one of another size decodes to a frame of that size
    path = tmp_path / "sizes.avi"
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("mjpeg", rate=25)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuvj420p"
        container.start_encoding()
        for index, (h, w) in enumerate([(16, 16), (16, 24), (16, 16)]):  # two sizes
            packet = av.Packet(jpeg(h, w, 100))
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, index, index, Fraction(1, 25)
            container.mux(packet)
    with pytest.raises(InputError) as err:
        decode_grey(path)
    assert (err.value.path, err.value.problem) == (path, "frames of different sizes in one video: [(16, 16), (16, 24)]")


def test_only_the_first_video_stream_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "with_sound.avi"
    with av.open(str(path), "w", format="avi") as container:
        video = container.add_stream("ffv1", rate=25)
        video.width, video.height, video.pix_fmt = 16, 8, "gray"
        audio = container.add_stream("pcm_s16le", rate=8000)
        container.start_encoding()
        for index in range(3):
            container.mux(video.encode(av.VideoFrame.from_ndarray(frames(3, 8, 16)[index], format="gray")))
            sound = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
            sound.sample_rate, sound.pts = 8000, 800 * index
            container.mux(audio.encode(sound))
        container.mux(video.encode())
        container.mux(audio.encode())
    pixels, fps, _, _ = decode_grey(path)
    assert np.array_equal(pixels, frames(3, 8, 16)) and fps == 25.0


def test_decoder_errors_are_cut_at_160_characters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_grey(tmp_path / "a.avi", frames())

    def fail(*args, **kwargs):
        raise OSError("o" * 200)

    monkeypatch.setattr("echolatent.io.video.av.open", fail)
    with pytest.raises(InputError) as err:
        decode_grey(path)
    assert err.value.problem == f"cannot decode the video (OSError: {'o' * 160})"


def test_reading_is_logged_with_size_rate_and_codec(tmp_path: Path, caplog) -> None:
    path = write_grey(tmp_path / "a.avi", frames(2, 8, 10), Fraction(25))
    with caplog.at_level(logging.DEBUG, logger="echolatent.io.video"):
        read_video(path)
    assert [r.getMessage() for r in caplog.records] == [f"{path}: 2 frames 8x10 at 25.0 fps (ffv1)"]
