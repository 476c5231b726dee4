"""Video recordings (AVI, MP4, MOV) through PyAV: grey frames ``(T, H, W)`` uint8 and the container's frame rate.

A video says nothing about the pixel size (``spacing`` None: volumes in pixels, EF is scale-free) nor the view;
the command line's ``--spacing`` and ``--view`` give them. Colour frames (EchoNet-Dynamic stores grey as RGB) are
converted to grey by FFmpeg's luma conversion. The source is only read.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np

from echolatent.errors import InputError
from echolatent.io.readers import Recording
from echolatent.io.volume import Geometry

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".m4v")


def is_video_file(path: str | Path) -> bool:
    """True for a name ending with a video suffix (case-insensitive)."""
    return Path(path).name.lower().endswith(VIDEO_SUFFIXES)


def _stream_fps(stream) -> tuple[float | None, str]:
    for source in ("average_rate", "guessed_rate", "base_rate"):
        rate = getattr(stream, source, None)
        if rate is not None and float(rate) > 0:
            return float(rate), f"container ({source})"
    return None, "unknown (the container gives no frame rate)"


def decode_grey(path: Path) -> tuple[np.ndarray, float | None, str, str]:
    """``(frames (T, H, W) uint8, fps or None, fps source, codec name)`` of the first video stream.

    Raises:
        InputError: missing, empty or undecodable file, no video stream, zero frames.
    """
    if not path.is_file():
        raise InputError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(path, "no video stream")
            stream = container.streams.video[0]
            fps, fps_source = _stream_fps(stream)
            codec = stream.codec_context.name
            frames = [frame.to_ndarray(format="gray") for frame in container.decode(stream)]
    except InputError:
        raise
    except (av.FFmpegError, OSError, ValueError) as err:
        raise InputError(path, f"cannot decode the video ({type(err).__name__}: {str(err)[:160]})") from None
    if not frames:
        raise InputError(path, "zero frames in the video")
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise InputError(path, f"frames of different sizes in one video: {sorted(shapes)}")
    return np.stack(frames).astype(np.uint8, copy=False), fps, fps_source, codec


def read_video(path: str | Path) -> Recording:
    """One video file -> :class:`Recording` (spacing and view unknown; patient and name: the file stem)."""
    path = Path(path)
    frames, fps, fps_source, codec = decode_grey(path)
    stem = path.name[: -len(path.suffix)]
    meta = {
        "format": "video",
        "codec": codec,
        "spacing_source": "unknown (a video holds no pixel size)",
        "fps_source": fps_source,
        "view_source": "unknown",
    }
    log.debug("%s: %d frames %dx%d at %s fps (%s)", path, *frames.shape, fps, codec)
    return Recording(frames, None, fps, None, Geometry.default(frames.shape), path, stem, stem, meta)


class VideoReader:
    """AVI / MP4 / MOV / M4V files."""

    name = "video"

    def can_read(self, path: Path) -> bool:
        """True for a video suffix."""
        return is_video_file(path)

    def read(self, path: Path) -> Recording:
        """Read the file. Raises InputError on bad input."""
        return read_video(path)

    def __repr__(self) -> str:
        return f"<reader video {VIDEO_SUFFIXES}>"


VIDEO_READER = VideoReader()
