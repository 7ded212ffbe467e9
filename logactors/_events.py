"""The immutable :class:`LogEvent` that flows from the logger to the sinks."""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from ._json import safe_repr
from ._levels import Level, level_name
from .templates import parse


class LogEvent(NamedTuple):
    """One log event: immutable and slotted (a named tuple, the cheapest immutable record).

    Attributes:
        timestamp_ns: UTC time of the call, nanoseconds since the epoch.
        level: the event's :class:`Level`.
        template: the message template, e.g. ``"Processing request {id}"``.
        properties: bound, ambient and call-site properties merged (call site wins), as
            captured at the call: plain data (see the templates guide), never the caller's
            objects, so treat it as read-only.
        exception: the formatted exception (traceback text), or ``None``.
        logger: the logger name (``get_logger(name)``), ``""`` for the root logger.
        task: the trio task name, or the thread name for calls from other threads.
    """

    timestamp_ns: int
    level: Level
    template: str
    properties: Mapping[str, Any]
    exception: str | None = None
    logger: str = ""
    task: str = ""

    @property
    def rendered(self) -> str:
        """The message rendered from the template and properties (computed when asked)."""
        return parse(self.template).render(self.properties)

    def __repr__(self) -> str:
        return (
            f"LogEvent(level={self.level.name}, template={self.template!r}, "
            f"properties={safe_repr(dict(self.properties))}, logger={self.logger!r})"
        )


#: A :class:`LogEvent`'s fields as a plain tuple. The logger's fast path queues events in this
#: form: a plain tuple is cheaper to build than a named tuple (no second copy) and comes from
#: CPython's free list, which spares the garbage collector most of its young-generation passes.
#: The sink actor turns them into LogEvents (:func:`as_events`) before any sink, fallback or
#: spool sees them, except for a sink whose batch path only unpacks tuples
#: (``takes_plain_tuples``: the file sink writing ``clef``, or sharing its format with another
#: file sink, see logactors.formatting._shared).
EventTuple = tuple[int, Level, str, Mapping[str, Any], "str | None", str, str]

_as_event = functools.partial(tuple.__new__, LogEvent)


def as_event(event: EventTuple) -> LogEvent:
    """``event`` as a :class:`LogEvent`."""
    return event if type(event) is LogEvent else _as_event(event)


def as_events(batch: Sequence[EventTuple]) -> list[LogEvent]:
    """A batch of queued events as a new list of LogEvents (the plain tuples among them
    converted, in C when there are only plain tuples)."""
    kinds = set(map(type, batch))
    if LogEvent not in kinds:
        return list(map(_as_event, batch))
    if len(kinds) == 1:
        return list(batch)  # type: ignore[arg-type]
    return [as_event(event) for event in batch]


#: the template of the synthetic event that reports drops (:func:`drop_notice`)
DROP_NOTICE_TEMPLATE: Final = "{dropped} events dropped ({levels})"


def drop_notice(counts: dict[int, int]) -> LogEvent:
    """The synthetic event a sink actor writes before a batch to say how many events were
    dropped before it (``counts``: level -> count)."""
    total = sum(counts.values())
    levels = ", ".join(f"{level_name(lv)}: {n}" for lv, n in sorted(counts.items()))
    return LogEvent(
        timestamp_ns=time.time_ns(),
        level=Level.WARNING,
        template=DROP_NOTICE_TEMPLATE,
        properties={"dropped": total, "levels": levels},
        logger="logactors",
        task="logactors",
    )


def is_drop_notice(event: EventTuple) -> bool:
    """Whether ``event`` is a :func:`drop_notice` (an event of no caller: never counted)."""
    return event[2] == DROP_NOTICE_TEMPLATE and event[5] == "logactors"
