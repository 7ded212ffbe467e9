"""In-memory sinks: :class:`MemoryWriter` (an actor-driven sink) and :class:`NullWriter`."""

from __future__ import annotations

import collections
from collections.abc import Sequence

from .._events import LogEvent
from ..config import MemorySink, NullSink
from .base import SinkBase

__all__ = ["MemoryWriter", "NullWriter"]


class MemoryWriter(SinkBase):
    """Keeps written events in ``events`` (the newest ``capacity`` when set)."""

    def __init__(self, config: MemorySink | None = None) -> None:
        capacity = config.capacity if config is not None else None
        self.events: collections.deque[LogEvent] = collections.deque(maxlen=capacity)

    async def write_batch(self, events: Sequence[LogEvent]) -> None:
        """Append the batch."""
        self.events.extend(events)


class NullWriter(SinkBase):
    """Discards everything (and counts it as written)."""

    #: it never looks at its events: queued plain tuples need no LogEvent (see sinks.base)
    takes_plain_tuples = True

    def __init__(self, config: NullSink | None = None) -> None:
        self.config = config

    async def write_batch(self, events: Sequence[LogEvent]) -> None:
        """Do nothing."""
