"""Fan-out: sinks that write the same format encode each event once.

The logger queues *one* event object into the inbox of every sink the event goes to, and an event
is immutable once queued, so the record a formatter writes for it depends only on that object and
the formatter's configuration. A runtime keeps one :class:`SharedFormatters`: file sinks whose
format (name and options) another file sink of the runtime shares get the same
:class:`SharedEncoder`, which keeps the record of each recently encoded event, keyed by the event
object's identity (the entry holds the event, so its identity stays valid while it is kept). The
first sink to write an event encodes it; its peers, whose batch boundaries differ, look their
records up (in C when the whole batch is known) and encode only the events they miss. A sink with
no peer gets a formatter of its own, as before.

The output is byte-for-byte what the formatter writes for the batch: a record is what the
formatter writes for that event alone, a stand-in record (see :mod:`._isolate`) included.

Memory is bounded: entries live in two generations; when the current one reaches half of
``max_events`` events or half of ``max_bytes`` of records, it becomes the previous one and the
previous one is dropped (with the events it held). A record larger than half of ``max_bytes`` is
not kept.

The encoder takes a lock around each batch (formatters keep per-instance state), so it is safe
whichever thread formats; the built-in sinks format on the trio thread.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import is_, itemgetter, not_
from typing import Any, Final, Protocol

from .._events import EventTuple, LogEvent, as_events

__all__ = ["MAX_BYTES", "MAX_EVENTS", "SharedEncoder", "SharedFormatters", "records_function"]

#: Default bounds of one encoder's cache: events kept, and bytes of their records.
MAX_EVENTS: Final = 8192
MAX_BYTES: Final = 8 * 1024 * 1024

Entry = tuple[Any, bytes]  # (event, record)
Records = Callable[[Sequence[LogEvent]], list[bytes]]
_MISS: Final[Entry] = (None, b"")
_event_of = itemgetter(0)
_record_of = itemgetter(1)


class _Formatter(Protocol):
    def format_batch(self, events: Sequence[LogEvent]) -> bytes: ...


def records_function(formatter: _Formatter) -> Records:
    """How to get one record per event from ``formatter``, each exactly what it writes for
    that event alone: its ``format_records`` if it has one; else, for a formatter whose records
    are single lines (``line_records = True``), one ``format_batch`` cut at the newlines (when
    the batch holds exactly one per event, else event by event); else ``format_batch`` per
    event."""
    own: Records | None = getattr(formatter, "format_records", None)
    if own is not None:
        return own
    fmt = formatter.format_batch
    if getattr(formatter, "line_records", False) is True:

        def by_lines(events: Sequence[LogEvent]) -> list[bytes]:
            data = fmt(events)
            # each record ends with its one newline: n newlines (and no "\r", which
            # splitlines would also cut at) means each is exactly one record
            if data.count(b"\n") == len(events) and data[-1:] == b"\n" and b"\r" not in data:
                return data.splitlines(keepends=True)
            return [fmt([e]) for e in events]

        return by_lines
    return lambda events: [fmt([e]) for e in events]


class SharedEncoder:
    """A formatter shared by sinks: remembers each recently encoded event's record (see the
    module docstring). Takes queued plain tuples (it converts the events it encodes)."""

    #: the batch path only looks events up by identity: give it the queued tuples themselves
    takes_plain_tuples = True

    def __init__(
        self, formatter: _Formatter, *, max_events: int = MAX_EVENTS, max_bytes: int = MAX_BYTES
    ) -> None:
        self.formatter = formatter
        self._plain = getattr(formatter, "takes_plain_tuples", False) is True
        self._records = records_function(formatter)
        self._lock = threading.Lock()
        self._current: dict[int, Entry] = {}
        self._previous: dict[int, Entry] = {}
        self._bytes = 0  # bytes of the records in the current generation
        self._half_events = max(1, max_events // 2)
        self._half_bytes = max(1, max_bytes // 2)
        #: events found in the cache, and events encoded (for tests and tuning)
        self.hits = 0
        self.encoded = 0

    @property
    def kept_events(self) -> int:
        """Events kept (both generations)."""
        return len(self._current) + len(self._previous)

    @property
    def kept_bytes(self) -> int:
        """Bytes of the records kept (both generations)."""
        return sum(len(r) for _, r in self._current.values()) + sum(
            len(r) for _, r in self._previous.values()
        )

    def format_batch(self, events: Sequence[EventTuple]) -> bytes:
        """The batch as the formatter writes it; known events are looked up, the others
        encoded (and kept)."""
        with self._lock:
            entries = list(map(self._current.get, map(id, events), repeat(_MISS)))
            found = list(map(is_, map(_event_of, entries), events))
            if False not in found:  # every event known: all in C
                self.hits += len(entries)
                return b"".join(map(_record_of, entries))
            return self._assemble(events, entries, found)

    def _assemble(
        self, events: Sequence[EventTuple], entries: list[Entry], found: list[bool]
    ) -> bytes:
        """Look the events not in the current generation up in the previous one, encode the
        rest (kept in the current generation), and join the batch's records."""
        n = len(events)
        missing = list(compress(range(n), map(not_, found))) if True in found else list(range(n))
        batch: list[Any] = list(map(events.__getitem__, missing))
        ids = list(map(id, batch))
        if self._previous:
            older = list(map(self._previous.get, ids, repeat(_MISS)))
            if True in map(is_, map(_event_of, older), batch):  # (a lagging sink: rare)
                for i, entry in zip(missing, older, strict=True):
                    if entry[0] is events[i]:
                        entries[i] = entry
                missing = [i for i in missing if entries[i][0] is not events[i]]
                batch = list(map(events.__getitem__, missing))
                ids = list(map(id, batch))
        self.hits += n - len(missing)
        if not missing:
            return b"".join(map(_record_of, entries))
        self.encoded += len(missing)
        records = self._records(batch if self._plain else as_events(batch))
        new = list(zip(batch, records, strict=True))
        if len(missing) == n:
            entries = new
        elif missing[-1] - missing[0] + 1 == len(missing):  # one run (the usual case)
            entries[missing[0] : missing[-1] + 1] = new
        else:
            for i, entry in zip(missing, new, strict=True):
                entries[i] = entry
        self._keep(ids, new, records)
        return b"".join(map(_record_of, entries))

    def _keep(self, ids: list[int], new: list[Entry], records: list[bytes]) -> None:
        """Keep new entries in the current generation (which first becomes the previous one
        when they would take it past its bounds)."""
        half_events, half_bytes = self._half_events, self._half_bytes
        size = sum(map(len, records))
        if size > half_bytes or len(new) > half_events:  # keep what fits, the newest
            pairs = [(i, e) for i, e in zip(ids, new, strict=True) if len(e[1]) <= half_bytes]
            del pairs[:-half_events]
            while sum(len(e[1]) for _, e in pairs) > half_bytes:
                del pairs[: max(1, len(pairs) // 2)]
            ids = [i for i, _ in pairs]
            new = [e for _, e in pairs]
            size = sum(len(e[1]) for e in new)
        if len(self._current) + len(new) > half_events or self._bytes + size > half_bytes:
            self._previous = self._current
            self._current = {}
            self._bytes = 0
        self._current.update(zip(ids, new, strict=True))
        self._bytes += size


def _key(fmt: str, output_template: str) -> tuple[str, str]:
    return (fmt, output_template if fmt == "text" else "")


class SharedFormatters:
    """The formatters of one runtime's file sinks: one :class:`SharedEncoder` per format that
    two or more of them write; a sink without a peer gets a formatter of its own.

    Every sink is announced (:meth:`add`) before any formatter is asked for (:meth:`get`).
    """

    def __init__(self, *, max_events: int = MAX_EVENTS, max_bytes: int = MAX_BYTES) -> None:
        self._sinks: Counter[tuple[str, str]] = Counter()
        self._encoders: dict[tuple[str, str], SharedEncoder] = {}
        self._lock = threading.Lock()
        self._max_events = max_events
        self._max_bytes = max_bytes

    def add(self, fmt: str, output_template: str = "") -> None:
        """Announce a sink that writes ``fmt`` (with ``output_template`` for ``text``)."""
        with self._lock:
            self._sinks[_key(fmt, output_template)] += 1

    def get(self, fmt: str, output_template: str = "") -> Any:
        """The formatter for a sink announced with these options: shared when another
        announced sink writes the same, else a new one.

        Raises:
            ValueError: unknown format.
        """
        from . import make_formatter

        key = _key(fmt, output_template)
        with self._lock:
            if self._sinks[key] < 2:
                return make_formatter(fmt, output_template=output_template)
            encoder = self._encoders.get(key)
            if encoder is None:
                encoder = self._encoders[key] = SharedEncoder(
                    make_formatter(fmt, output_template=output_template),
                    max_events=self._max_events,
                    max_bytes=self._max_bytes,
                )
            return encoder
