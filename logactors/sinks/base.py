"""The sink protocol and a base class for sinks that format events into bytes.

A sink is anything with these four coroutine methods (``open``, ``flush`` and ``aclose`` may be
no-ops). The actor guarantees that they are never called concurrently for one sink, that
``write_batch`` gets events in order, and that its exceptions are handled:

* ``OSError`` (including ``ConnectionError``/``TimeoutError``) or :class:`~logactors.SinkError`:
  a failed write, retried with backoff, then counted by the breaker and sent to the fallback or
  spool; ``SinkError(permanent=True)`` is not retried and never spooled.
* anything else: a bug in the sink; the actor is restarted (``open`` is called again).

``write_batch`` must not block the trio loop: do blocking I/O in a worker thread, once per batch.
It may return the number of bytes it wrote (for the ``bytes`` metric).

A sink gets :class:`~logactors.LogEvent` objects. One that only unpacks its events as tuples
(``timestamp_ns, level, template, properties, exception, logger, task = event``) may set the
attribute ``takes_plain_tuples = True`` to be given the queued tuples as they are, which spares
the actor building a LogEvent per event; the events it cannot write still reach its fallback
or spool as LogEvents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .._events import LogEvent

__all__ = ["Sink", "SinkBase"]


@runtime_checkable
class Sink(Protocol):
    """What a sink implements (see the module docstring)."""

    async def open(self) -> None:
        """Acquire resources (files, connections); called before the first write and after a
        restart. ``OSError`` here counts as a failed write and is retried."""

    async def write_batch(self, events: Sequence[LogEvent]) -> int | None:
        """Write ``events`` (in order); return the bytes written, or ``None``."""

    async def flush(self) -> None:
        """Push out anything buffered (called by ``log.flush()`` and at shutdown)."""

    async def aclose(self) -> None:
        """Release resources (called once at shutdown, and before a restart)."""


class SinkBase:
    """Convenience base: no-op ``open``/``flush``/``aclose``; subclasses add ``write_batch``."""

    async def open(self) -> None:
        """Nothing to open."""

    async def flush(self) -> None:
        """Nothing buffered."""

    async def aclose(self) -> None:
        """Nothing to close."""
