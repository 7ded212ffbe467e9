"""Console sink: standard output (and standard error from ``stderr_level`` up), one write per
batch in a worker thread, coloured when the stream is a terminal (or when forced).

The worker-thread write is waited for as :func:`~logactors.sinks.base.wait_job` describes (the
worker is never starved of the GIL), and a write that outlived ``write_timeout`` is waited for
before the next one: a retry of its batch is not written again once it completed.

A closed pipe (``EPIPE``: ``python app.py | head`` after ``head`` exits) is a permanent failure
of the sink: the stream is pointed at ``/dev/null`` (so nothing complains at exit), the batch
and every later one fail permanently without a write attempt, and with
``on_broken_pipe="exit"`` (the default) the process then ends as a command-line tool does on
``EPIPE``: killed by ``SIGPIPE`` (exit status 141 in a shell), once the actor has reported it.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import sys
from collections.abc import Sequence
from typing import IO, Any

import trio

from .._events import LogEvent
from ..config import ConsoleSink
from ..exceptions import SinkError
from ..formatting import make_formatter
from .base import SinkBase, ThreadJob, start_job, wait_job

__all__ = ["ConsoleWriter", "should_color"]


def should_color(stream: IO[Any] | None, forced: bool | None) -> bool:
    """Colour decision: forced value, else ``NO_COLOR``/``FORCE_COLOR``, else ``isatty``."""
    if forced is not None:
        return forced
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _write(stream: IO[Any], data: bytes) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()
        buffer.write(data)
        buffer.flush()
    else:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        text = data.decode("utf-8", "replace")
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))
        stream.flush()


class ConsoleWriter(SinkBase):
    """Writes formatted batches to ``sys.stdout``/``sys.stderr`` (looked up at open)."""

    def __init__(self, config: ConsoleSink) -> None:
        self.config = config
        self._out: IO[Any] | None = None
        self._err: IO[Any] | None = None
        self._format_out = make_formatter(config.format, output_template=config.output_template)
        self._format_err = self._format_out
        self._broken: str | None = None  # which stream is a closed pipe
        self._pending: tuple[ThreadJob, Sequence[LogEvent], int] | None = None

    async def open(self) -> None:
        """Bind to the process's current streams."""
        cfg = self.config
        self._out = sys.stderr if cfg.stream == "stderr" else sys.stdout
        self._err = sys.stderr
        template = cfg.output_template
        colors_out = cfg.format == "text" and should_color(self._out, cfg.colors)
        colors_err = cfg.format == "text" and should_color(self._err, cfg.colors)
        self._format_out = make_formatter(cfg.format, output_template=template, colors=colors_out)
        self._format_err = make_formatter(cfg.format, output_template=template, colors=colors_err)

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        """Format on the trio thread, write in a worker thread (one hop per batch)."""
        if self._broken is not None:
            raise SinkError(f"{self._broken} is a closed pipe", permanent=True)
        pending = self._pending
        if pending is not None:
            job, batch, size = pending
            if not job.done.is_set():
                await wait_job(job, first_wait=0)  # never two writes at once (cancellable)
            self._pending = None
            if batch is events and job.error is None:
                return size  # the actor's retry of a write that completed: not written twice
        runs = self._runs(events)
        size = sum(len(d) for _, d in runs)

        def write_all() -> None:
            for stream, data in runs:
                _write(stream, data)

        job = start_job(write_all)
        self._pending = (job, events, size)
        await wait_job(job)
        self._pending = None
        error = job.error
        if isinstance(error, OSError) and error.errno == errno.EPIPE:
            self._closed_pipe(runs, error)
        job.result()
        return size

    def _runs(self, events: Sequence[LogEvent]) -> list[tuple[IO[Any], bytes]]:
        split = self.config.stderr_level
        out_stream = self._out or sys.stdout
        if split is None:
            return [(out_stream, self._format_out.format_batch(events))]
        # Keep the order across both streams: write runs of consecutive events per stream.
        runs: list[tuple[IO[Any], bytes]] = []
        start = 0
        for i in range(1, len(events) + 1):
            if i == len(events) or (events[i].level >= split) != (events[start].level >= split):
                chunk = events[start:i]
                to_err = chunk[0].level >= split
                fmt = self._format_err if to_err else self._format_out
                stream = (self._err or sys.stderr) if to_err else out_stream
                runs.append((stream, fmt.format_batch(chunk)))
                start = i
        return runs

    def _closed_pipe(self, runs: list[tuple[IO[Any], bytes]], error: OSError) -> None:
        """EPIPE: find the closed stream, silence it, fail for good (and end the process)."""
        for stream, _ in runs:
            try:
                fd = stream.fileno()
                os.fstat(fd)
                closed = _pipe_closed(fd)
            except (AttributeError, ValueError, OSError):
                continue
            if closed:
                self._broken = "standard error" if fd == 2 else "standard output"
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, fd)
                os.close(devnull)
                break
        else:
            self._broken = "the console stream"
        if self.config.on_broken_pipe == "exit":
            # After the actor has counted and reported this batch (its current step).
            trio.lowlevel.current_trio_token().run_sync_soon(_exit_on_sigpipe)
        raise SinkError(
            f"{self._broken} is a closed pipe ({error.strerror or error}): "
            f"on_broken_pipe={self.config.on_broken_pipe!r}",
            permanent=True,
        ) from error


def _pipe_closed(fd: int) -> bool:
    """Whether writing to ``fd`` fails with EPIPE (its reader is gone): a poll for POLLERR."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))


def _exit_on_sigpipe() -> None:
    """End the process as a command-line tool ends on EPIPE: by ``SIGPIPE``."""
    sys.stderr.flush()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
