"""File sink: one write per batch, rolling by time and size, retention, and reopening when the
file is moved away (external logrotate).

Where the write runs is ``FileSink.write_mode``: in ``"auto"`` (the default) a batch is written
on the trio thread while writes are fast (a page-cache write of a batch is tens of
microseconds), and in a worker thread for a while after a slow one or whenever ``fsync`` is
on. Always using a worker thread (``"thread"``) looks safer but stalls under load: while trio
tasks keep the trio thread busy, the worker waiting to re-acquire the GIL is starved (each
trio checkpoint releases and immediately retakes it), and a batch write measured 93-147 ms
instead of 2 ms (benchmarks, end-to-end suite).

Rolled files are named ``stem.YYYYMMDD[HH][.N]suffix`` after the UTC period of their content
(``app.20261123.clef``, ``app.2026112302.clef`` hourly, ``app.20261123.1.clef`` for a second
size roll in one period); ``retain`` keeps that many rolled files, the newest.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from typing import Final

import trio

from .._events import LogEvent
from .._files import open_file
from ..config import FileSink
from ..formatting import make_formatter
from .base import SinkBase

__all__ = ["FileWriter"]

#: ``write_mode="auto"``: a write slower than this moves writes to a worker thread ...
SLOW_WRITE: Final = 0.002
#: ... for this long, then inline writing is tried again.
THREAD_AFTER_SLOW: Final = 30.0
_PERIOD_NS: Final = {"hourly": 3_600 * 10**9, "daily": 86_400 * 10**9}
_PERIOD_FORMAT: Final = {"hourly": "%Y%m%d%H", "daily": "%Y%m%d", "never": "%Y%m%d"}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FileWriter(SinkBase):
    """Appends formatted batches to ``config.path`` (see the module docstring)."""

    def __init__(self, config: FileSink) -> None:
        self.config = config
        self.path = config.path
        directory, filename = os.path.split(config.path)
        self.directory = directory or "."
        stem, suffix = os.path.splitext(filename)
        self.stem = stem
        self.suffix = suffix
        self._formatter = make_formatter(config.format, output_template=config.output_template)
        #: the formatter's batch path only unpacks events: the actor may pass queued plain
        #: tuples (see logactors._events.EventTuple); this sink reads nothing else from them
        self.takes_plain_tuples = getattr(self._formatter, "takes_plain_tuples", False) is True
        self._period_ns = _PERIOD_NS.get(config.rolling)
        self._thread_until = 0.0  # write_mode="auto": use the worker thread until then
        self._fd = -1
        self._inode = -1
        self._size = 0
        self._period: int | None = None
        self._rolled_pattern = re.compile(
            rf"^{re.escape(stem)}\.(\d{{8}}(?:\d{{2}})?)(?:\.(\d+))?{re.escape(suffix)}$"
        )

    # -- trio side -------------------------------------------------------------------------------

    async def open(self) -> None:
        """Create directories and open the file (in a worker thread)."""
        await trio.to_thread.run_sync(self._open_sync)

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        """Format on the trio thread; write (and roll) in one call, inline or in a worker
        thread according to ``write_mode`` (see :class:`~logactors.FileSink`)."""
        runs = self._runs(events)
        if self._inline():
            started = time.monotonic()
            written = self._write_runs(runs)
            if time.monotonic() - started > SLOW_WRITE:
                self._thread_until = time.monotonic() + THREAD_AFTER_SLOW
            await trio.lowlevel.checkpoint()
            return written
        return await trio.to_thread.run_sync(self._write_runs, runs, abandon_on_cancel=True)

    def _inline(self) -> bool:
        mode = self.config.write_mode
        if mode == "inline":
            return True
        if mode == "thread" or self.config.fsync:
            return False
        return time.monotonic() >= self._thread_until

    async def flush(self) -> None:
        """``fsync`` when configured (writes are unbuffered otherwise)."""
        if self.config.fsync and self._fd >= 0:
            await trio.to_thread.run_sync(os.fsync, self._fd)

    async def aclose(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            await trio.to_thread.run_sync(os.close, fd)

    def _runs(self, events: Sequence[LogEvent]) -> list[tuple[int | None, list[bytes]]]:
        """Split a batch by rolling period; per-event chunks when ``max_bytes`` is set."""
        period_ns = self._period_ns
        per_event = self.config.max_bytes is not None
        fmt = self._formatter.format_batch
        if period_ns is None:
            groups: list[tuple[int | None, Sequence[LogEvent]]] = [(None, events)]
        else:
            groups = []
            start = 0
            key = events[0][0] // period_ns if events else None  # [0]: timestamp_ns
            for i, event in enumerate(events):
                k = event[0] // period_ns
                if k != key:
                    groups.append((key, events[start:i]))
                    start, key = i, k
            groups.append((key, events[start:]))
        if per_event:
            return [(k, [fmt([e]) for e in group]) for k, group in groups]
        return [(k, [fmt(group)]) for k, group in groups]

    # -- worker-thread side ----------------------------------------------------------------------

    def _open_sync(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        fd, _ = open_file(self.path, os.O_WRONLY | os.O_APPEND)  # no symlinks; 0o640
        st = os.fstat(fd)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = fd
        self._inode = st.st_ino
        self._size = st.st_size
        self._period = None
        if st.st_size and self._period_ns is not None:
            self._period = int(st.st_mtime * 1e9) // self._period_ns

    def _write_runs(self, runs: list[tuple[int | None, list[bytes]]]) -> int:
        if self._fd < 0:
            self._open_sync()
        else:
            self._reopen_if_moved()
        max_bytes = self.config.max_bytes
        total = 0
        for key, chunks in runs:
            if key is not None and self._period is not None and key != self._period:
                self._roll()
            if key is not None and self._period is None:
                self._period = key
            if max_bytes is None:
                data = chunks[0]
                _write_all(self._fd, data)
                self._size += len(data)
                total += len(data)
                continue
            pending: list[bytes] = []
            pending_size = 0
            for chunk in chunks:
                if self._size + pending_size + len(chunk) > max_bytes and (
                    self._size + pending_size > 0
                ):
                    if pending:
                        data = b"".join(pending)
                        _write_all(self._fd, data)
                        self._size += len(data)
                        total += len(data)
                        pending, pending_size = [], 0
                    self._roll()
                    if key is not None:
                        self._period = key
                pending.append(chunk)
                pending_size += len(chunk)
            if pending:
                data = b"".join(pending)
                _write_all(self._fd, data)
                self._size += len(data)
                total += len(data)
        if self.config.fsync:
            os.fsync(self._fd)
        return total

    def _reopen_if_moved(self) -> None:
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = -1
        if inode != self._inode:
            self._open_sync()

    def _roll(self) -> None:
        """Rename the active file after its period and start a new one."""
        os.close(self._fd)
        self._fd = -1
        if self._period is not None and self._period_ns is not None:
            seconds = self._period * self._period_ns // 10**9
        else:
            seconds = int(time.time())
        stamp = time.strftime(_PERIOD_FORMAT[self.config.rolling], time.gmtime(seconds))
        target = os.path.join(self.directory, f"{self.stem}.{stamp}{self.suffix}")
        n = 0
        while os.path.exists(target):
            n += 1
            target = os.path.join(self.directory, f"{self.stem}.{stamp}.{n}{self.suffix}")
        if os.path.exists(self.path):
            os.rename(self.path, target)
        self._open_sync()
        self._apply_retention()

    def rolled_files(self) -> list[str]:
        """Rolled files of this sink, oldest first."""
        found: list[tuple[str, int, str]] = []
        for name in os.listdir(self.directory):
            match = self._rolled_pattern.match(name)
            if match:
                found.append((match.group(1).ljust(10, "0"), int(match.group(2) or 0), name))
        return [os.path.join(self.directory, name) for _, _, name in sorted(found)]

    def _apply_retention(self) -> None:
        retain = self.config.retain
        if retain is None:
            return
        rolled = self.rolled_files()
        for old in rolled[: max(0, len(rolled) - retain)]:
            try:
                os.unlink(old)
            except FileNotFoundError:
                pass
