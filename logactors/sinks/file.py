"""File sink: one write per batch, rolling by time and size, retention, and reopening when the
file is moved away (external logrotate).

Where the write runs is ``FileSink.write_mode``: in ``"auto"`` (the default) a batch is written
on the trio thread while writes to a regular file are fast (a page-cache write of a batch is tens
of microseconds), and in a worker thread for a while after a slow one, whenever ``fsync`` is on,
and always for a pipe or device (whose writes can block for good). A worker-thread write is
waited for as :func:`~logactors.sinks.base.wait_job` describes, so the worker is never starved
of the GIL by a busy trio thread.

A write is written once. Two writes to the file never run at the same time: a write that
outlived ``write_timeout`` keeps running, and the next ``write_batch`` waits for it first. When
that call is the actor's retry of the same batch, the batch is counted by what happened: done
(returned as written, not written again), or failed part-way (continued from the first byte
that was not written). A write that completes after the actor gave up on its batch is counted
in :attr:`FileWriter.late_events`.

With ``shared=True`` several processes append to one file: a batch is one ``O_APPEND`` write
of whole lines, made under an exclusive ``flock`` on ``<path>.lock`` together with the checks
that precede it: whether another process rolled the file (its inode changed: reopen), and
whether it is due for rolling (then this process rolls it, applies ``retain`` and creates the
next one). The lock is held for a ``stat``, an ``fstat`` and one write: tens of microseconds.
Not for NFS (neither ``O_APPEND`` nor ``flock`` is reliable there).

Rolled files are named ``stem.YYYYMMDD[HH][.N]suffix`` after the UTC period of their content
(``app.20261123.clef``, ``app.2026112302.clef`` hourly, ``app.20261123.1.clef`` for a second
size roll in one period); ``retain`` keeps that many rolled files, the newest.
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
import time
from collections.abc import Sequence
from typing import Final

import trio

from .._events import LogEvent, is_drop_notice
from .._files import open_file
from ..config import FileSink
from ..formatting import make_formatter, takes_plain_tuples
from ..formatting._shared import SharedEncoder, SharedFormatters
from .base import SinkBase, ThreadJob, start_job, wait_job

__all__ = ["FileWriter"]

#: ``write_mode="auto"``: a write slower than this moves writes to a worker thread ...
SLOW_WRITE: Final = 0.002
#: ... for this long, then inline writing is tried again.
THREAD_AFTER_SLOW: Final = 30.0
_PERIOD_NS: Final = {"hourly": 3_600 * 10**9, "daily": 86_400 * 10**9}
_PERIOD_FORMAT: Final = {"hourly": "%Y%m%d%H", "daily": "%Y%m%d", "never": "%Y%m%d"}


Runs = list[tuple[int | None, list[bytes]]]


def _write_all(fd: int, data: bytes | memoryview) -> int:
    """Write all of ``data``; on an error, the bytes written so far are ``error.written``."""
    view = memoryview(data)
    done = 0
    while view:
        try:
            written = os.write(fd, view)
        except OSError as exc:
            exc.written = done  # type: ignore[attr-defined]
            raise
        view = view[written:]
        done += written
    return done


def _counted(events: Sequence[LogEvent]) -> int:
    """The events of a batch the actor counts: all but a leading synthetic drop notice."""
    return len(events) - 1 if events and is_drop_notice(events[0]) else len(events)


class _Write:
    """One batch's write: the formatted runs and how far it got (``at``: run and chunk index
    of the first chunk not yet written; ``rest``: the unwritten tail of a write that failed
    part-way, which ends at ``rest_end``)."""

    __slots__ = ("at", "bytes", "events", "job", "prefix", "rest", "rest_end", "runs")

    def __init__(self, events: Sequence[LogEvent], runs: Runs, prefix: bytes = b"") -> None:
        self.events = events
        self.runs = runs
        self.prefix = prefix  # the end of a line an abandoned write cut: written first
        self.at = (0, 0)
        self.rest = b""
        self.rest_end = (0, 0)
        self.bytes = 0
        self.job: ThreadJob | None = None


class FileWriter(SinkBase):
    """Appends formatted batches to ``config.path`` (see the module docstring)."""

    def __init__(self, config: FileSink, formatters: SharedFormatters | None = None) -> None:
        """``formatters``: the runtime's, to share the encoding of each event with the file
        sinks that write the same format (see :mod:`logactors.formatting._shared`)."""
        self.config = config
        self.path = config.path
        directory, filename = os.path.split(config.path)
        self.directory = directory or "."
        stem, suffix = os.path.splitext(filename)
        self.stem = stem
        self.suffix = suffix
        self._formatter = (
            make_formatter(config.format, output_template=config.output_template)
            if formatters is None
            else formatters.get(config.format, config.output_template)
        )
        #: the formatter's batch path only unpacks events (a shared one looks them up by
        #: identity): the actor may pass queued plain tuples (see logactors._events.EventTuple);
        #: this sink reads nothing else from them
        self.takes_plain_tuples = isinstance(self._formatter, SharedEncoder) or takes_plain_tuples(
            config.format
        )
        #: its batches' events are written by other sinks too: the shared encoder holds them
        #: until every one of them wrote them, so the actor keeps none (see SinkActor._loop)
        self.shares_batches = isinstance(self._formatter, SharedEncoder)
        self._period_ns = _PERIOD_NS.get(config.rolling)
        self._thread_until = 0.0  # write_mode="auto": use the worker thread until then
        self._regular = True  # the file is a regular file (not a pipe or device)
        self._write: _Write | None = None  # a write that timed out or failed, kept until settled
        #: events of batches whose write completed after the actor had given up on them
        #: (counted failed, spooled or rerouted there): they are in the file all the same
        self.late_events = 0
        self._late_taken = 0
        self._lock_fd = -1  # shared=True: the lock file
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

    def take_late(self) -> int:
        """:attr:`late_events` since the last call (the actor counts them in
        ``late_written``)."""
        late, self._late_taken = self.late_events - self._late_taken, self.late_events
        return late

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        """Format on the trio thread; write (and roll) in one call, inline or in a worker
        thread according to ``write_mode`` (see :class:`~logactors.FileSink`)."""
        pending = self._write
        if pending is not None:
            if pending.job is not None and not pending.job.done.is_set():
                await wait_job(pending.job, first_wait=0)  # never two at once (cancellable)
            self._write = None
            if pending.events is events:  # the actor's retry of that batch
                if pending.job is not None and not pending.job.failed:
                    await trio.lowlevel.checkpoint()
                    return pending.bytes  # it completed: written once, counted once
                return await self._run(pending)  # continue where it stopped
            if pending.job is not None and not pending.job.failed:
                self.late_events += _counted(pending.events)
            elif pending.rest:  # the actor gave up on a write that cut a line: end that line
                self.late_events += 1
                cut = pending.rest[: pending.rest.find(b"\n") + 1] or pending.rest
                return await self._run(_Write(events, self._runs(events), cut))
        return await self._run(_Write(events, self._runs(events)))

    async def _run(self, write: _Write) -> int:
        self._write = write  # until it is settled: a failure or a timeout leaves it here
        if self._inline():
            write.job = None
            started = time.monotonic()
            written = self._write_job(write)
            if time.monotonic() - started > SLOW_WRITE:
                self._thread_until = time.monotonic() + THREAD_AFTER_SLOW
            self._write = None
            await trio.lowlevel.checkpoint()
            return written
        write.job = start_job(lambda: self._write_job(write))
        await wait_job(write.job)
        result: int = write.job.result()
        self._write = None
        return result

    def _inline(self) -> bool:
        mode = self.config.write_mode
        if mode == "inline":
            return True
        if mode == "thread" or self.config.fsync or not self._regular:
            return False
        return time.monotonic() >= self._thread_until

    async def flush(self) -> None:
        """``fsync`` when configured (writes are unbuffered otherwise)."""
        if self.config.fsync and self._fd >= 0:
            await trio.to_thread.run_sync(os.fsync, self._fd)

    async def aclose(self) -> None:
        """Close the file (after a write still running in a worker thread, if any)."""
        pending = self._write
        if pending is not None and pending.job is not None:
            if not pending.job.done.is_set():
                await wait_job(pending.job, first_wait=0)
            self._write = None
            if not pending.job.failed:  # the actor had given up on it: it is in the file
                self.late_events += _counted(pending.events)
        if self._lock_fd >= 0:
            lock_fd, self._lock_fd = self._lock_fd, -1
            os.close(lock_fd)
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            await trio.to_thread.run_sync(os.close, fd)

    def _runs(self, events: Sequence[LogEvent]) -> Runs:
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
        fd, _ = open_file(self.path, os.O_WRONLY | os.O_APPEND, mode=self.config.file_mode)
        st = os.fstat(fd)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = fd
        self._inode = st.st_ino
        self._regular = stat.S_ISREG(st.st_mode)
        self._size = st.st_size
        self._period = None
        if st.st_size and self._period_ns is not None:
            self._period = int(st.st_mtime * 1e9) // self._period_ns

    def _emit(self, write: _Write, data: bytes, end: tuple[int, int]) -> None:
        """Append ``data`` (the chunks before ``end``); keep the unwritten tail on an error."""
        try:
            done = _write_all(self._fd, data)
        except OSError as exc:
            done = getattr(exc, "written", 0)
            self._size += done
            write.bytes += done
            if done:
                write.rest, write.rest_end = data[done:], end
            raise
        self._size += done
        write.bytes += done
        write.at = end

    def _write_job(self, write: _Write) -> int:
        """Write ``write`` from where it stands (in a worker thread, or inline)."""
        if self.config.shared:
            return self._write_shared(write)
        if self._fd < 0:
            self._open_sync()
        elif not write.rest:
            self._reopen_if_moved()
        if write.prefix:
            prefix, write.prefix = write.prefix, b""
            self._emit(write, prefix, write.at)
        if write.rest:  # a write that failed part-way: its tail first, in the same file
            rest, write.rest = write.rest, b""
            self._emit(write, rest, write.rest_end)
        max_bytes = self.config.max_bytes
        runs = write.runs
        i, j = write.at
        while i < len(runs):
            key, chunks = runs[i]
            if key is not None and self._period is not None and key != self._period:
                self._roll()
            if key is not None and self._period is None:
                self._period = key
            if max_bytes is None:
                self._emit(write, chunks[0], (i + 1, 0))
                i, j = i + 1, 0
                continue
            pending: list[bytes] = []
            pending_size = 0
            for k in range(j, len(chunks)):
                chunk = chunks[k]
                if self._size + pending_size + len(chunk) > max_bytes and (
                    self._size + pending_size > 0
                ):
                    if pending:
                        self._emit(write, b"".join(pending), (i, k))
                        pending, pending_size = [], 0
                    self._roll()
                    if key is not None:
                        self._period = key
                pending.append(chunk)
                pending_size += len(chunk)
            if pending:
                self._emit(write, b"".join(pending), (i + 1, 0))
            write.at = (i + 1, 0)
            i, j = i + 1, 0
        if self.config.fsync:
            os.fsync(self._fd)
        return write.bytes

    def _write_shared(self, write: _Write) -> int:
        """``shared=True``: one ``O_APPEND`` write per run; the reopen check, the roll check
        (and the roll) and the write under the exclusive lock (see the module docstring)."""
        if self._lock_fd < 0:
            os.makedirs(self.directory, exist_ok=True)
            self._lock_fd, _ = open_file(self.path + ".lock", os.O_RDWR, mode=self.config.file_mode)
        lock = self._lock_fd
        runs = write.runs
        for i in range(write.at[0], len(runs)):
            key, chunks = runs[i]
            data = write.rest or b"".join(chunks)
            write.rest = b""
            if write.prefix:
                data, write.prefix = write.prefix + data, b""
            fcntl.flock(lock, fcntl.LOCK_EX)  # the size check, a roll and the write: atomic
            try:
                self._reopen_if_moved() if self._fd >= 0 else self._open_sync()
                if self._roll_due(key, len(data)):
                    self._roll()
                self._emit(write, data, (i + 1, 0))
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        if self.config.fsync:
            os.fsync(self._fd)
        return write.bytes

    def _roll_due(self, key: int | None, size: int) -> bool:
        """``shared=True``: whether the active file must roll before ``size`` more bytes of
        period ``key``; its period is that of its last write (``st_mtime``)."""
        st = os.fstat(self._fd)
        if not st.st_size:
            return False
        if key is not None and self._period_ns is not None:
            self._period = st.st_mtime_ns // self._period_ns
            if key != self._period:
                return True
        max_bytes = self.config.max_bytes
        return max_bytes is not None and st.st_size + size > max_bytes

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
