"""The router: which sink inboxes take an event of each level.

A route target is anything with ``put_nowait(event, level, size)`` and ``put(...)`` (a sink's
:class:`~logactors._core.inbox.Inbox`, an inbox behind its sink's filters, or the inline test
capture). The routing table maps every level to the targets that take it, computed once when the
runtime is built; the logger's level methods read it when they are built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from .._events import LogEvent
from .._levels import Level
from ..metrics import Counters, SinkMetrics

__all__ = ["FilteredInbox", "RouteTarget", "RoutingTable", "SyncCapture", "routing_table"]


class RouteTarget(Protocol):
    """Where the router puts an event."""

    def put_nowait(self, event: Any, level: int, size: int) -> None:
        """Queue ``event`` or apply the overflow policy; never waits, never raises."""

    async def put(self, event: Any, level: int, size: int) -> None:
        """Queue ``event``, waiting for room (the awaiting ``a*`` methods)."""


#: level -> the targets that take it, in configuration order (captures first)
RoutingTable = dict[int, tuple[RouteTarget, ...]]


class FilteredInbox:
    """Routes to an inbox only the events its sink's filters keep."""

    __slots__ = ("_inbox", "_keep")

    def __init__(self, inbox: Any, keep: Any) -> None:
        self._inbox = inbox
        self._keep = keep

    def put_nowait(self, event: LogEvent, level: int, size: int) -> None:
        if self._keep(event):
            self._inbox.put_nowait(event, level, size)

    async def put(self, event: LogEvent, level: int, size: int) -> None:
        if self._keep(event):
            await self._inbox.put(event, level, size)

    def has_room(self, size: int) -> bool:
        return bool(self._inbox.has_room(size))

    @property
    def block(self) -> bool:
        return bool(self._inbox.block)


class SyncCapture:
    """An inline sink written synchronously at the call (``logactors.testing.capture``)."""

    block = False

    def __init__(self, name: str, min_level: int) -> None:
        self.name = name
        self.min_level = min_level
        self.events: list[LogEvent] = []
        self.counters = Counters()

    def put_nowait(self, event: LogEvent, level: int, size: int) -> None:
        counters = self.counters
        counters.accepted += 1
        self.events.append(event)
        counters.written += 1
        counters.batches += 1  # written one by one

    async def put(self, event: LogEvent, level: int, size: int) -> None:
        self.put_nowait(event, level, size)

    def has_room(self, size: int) -> bool:
        return True

    def snapshot(self) -> SinkMetrics:
        return SinkMetrics(**self.counters.values())


def routing_table(
    captures: Sequence[SyncCapture],
    sinks: Iterable[tuple[RouteTarget, int, Callable[[LogEvent], bool] | None]],
) -> RoutingTable:
    """The routing table: for every level, the captures and then the sinks (``(inbox,
    min_level, filter or None)``) that take it; a sink with filters is routed through a
    :class:`FilteredInbox`."""
    entries: list[tuple[RouteTarget, int]] = [
        (inbox if keep is None else FilteredInbox(inbox, keep), min_level)
        for inbox, min_level, keep in sinks
    ]
    return {
        level: (
            *(c for c in captures if c.min_level <= level),
            *(target for target, min_level in entries if min_level <= level),
        )
        for level in Level
    }
