"""Progress on stderr as the reader's terminal allows: a tqdm bar on a terminal, plain lines when stderr is
redirected (a log file gets ``segment: 3/10 file`` lines, no carriage returns or escape sequences), nothing with
``--quiet``.

Commands ask :func:`progress_bar` for a bar; the object answers the part of tqdm's interface they use
(``total``, ``n``, ``update``, ``close``, a context manager).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

#: Seconds between two plain progress lines (the first and the last are always written).
PLAIN_INTERVAL = 5.0
_settings = {"quiet": False}


def set_quiet(quiet: bool) -> None:
    """Silence every progress bar of this process (the root ``--quiet`` option)."""
    _settings["quiet"] = bool(quiet)


def is_quiet() -> bool:
    return _settings["quiet"]


class PlainBar:
    """tqdm's counting interface writing ``desc: n/total unit`` lines to ``stream``, at most one per
    :data:`PLAIN_INTERVAL` seconds, plus one when the count reaches the total and one when it closes."""

    def __init__(self, total: int | None = None, desc: str = "", unit: str = "it", stream: TextIO | None = None,
                 interval: float = PLAIN_INTERVAL, **_ignored) -> None:
        self.total, self.desc, self.unit = total, desc.strip(), unit
        self.n = 0
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self._last_time: float | None = None
        self._last_n: int | None = None

    def update(self, k: int = 1) -> None:
        self.n += k
        now = time.monotonic()
        finished = self.total is not None and self.n >= self.total
        if finished or self._last_time is None or now - self._last_time >= self.interval:
            self._write(now)

    def _write(self, now: float) -> None:
        if self.n == self._last_n:
            return
        count = f"{self.n}/{self.total}" if self.total else str(self.n)
        self.stream.write(f"{self.desc}: {count} {self.unit}\n")
        self.stream.flush()
        self._last_time, self._last_n = now, self.n

    def close(self) -> None:
        if self.n:
            self._write(time.monotonic())

    def __enter__(self) -> PlainBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress_bar(desc: str, unit: str = "it", total: int | None = None, stream: TextIO | None = None, **options):
    """A progress bar on ``stream`` (stderr): tqdm on a terminal, :class:`PlainBar` otherwise, disabled tqdm
    when quiet. ``options`` go to tqdm (``position``, ``leave``...)."""
    stream = stream if stream is not None else sys.stderr
    if is_quiet():
        return tqdm(total=total, desc=desc, unit=unit, disable=True)
    if not _is_terminal(stream):
        return PlainBar(total=total, desc=desc, unit=unit, stream=stream)
    return tqdm(total=total, desc=desc, unit=unit, file=stream, **options)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
