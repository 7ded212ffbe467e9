"""Console sink: standard output (and standard error from ``stderr_level`` up), one write per
batch in a worker thread, coloured when the stream is a terminal (or when forced)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import IO, Any

import trio

from .._events import LogEvent
from ..config import ConsoleSink
from ..formatting import make_formatter
from .base import SinkBase

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
        split = self.config.stderr_level
        out_stream = self._out or sys.stdout
        if split is None:
            data = self._format_out.format_batch(events)
            await trio.to_thread.run_sync(_write, out_stream, data, abandon_on_cancel=True)
            return len(data)
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

        def write_all() -> None:
            for stream, data in runs:
                _write(stream, data)

        await trio.to_thread.run_sync(write_all, abandon_on_cancel=True)
        return sum(len(d) for _, d in runs)
