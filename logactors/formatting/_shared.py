"""Fan-out: sinks that write the same format encode each event once.

The logger queues *one* event object into the inbox of every sink the event goes to, and an event
is immutable once queued, so the record a formatter writes for it depends only on that object and
the formatter's configuration. A runtime keeps one :class:`SharedFormatters`: file sinks whose
format (name and options) another file sink of the runtime shares get the same
:class:`SharedEncoder`, which keeps the records of recently encoded events: each batch it
encodes is kept as a *chunk* (the events, the bytes, where each event's record starts), indexed by
each event object's identity (the chunk holds its events, so their identities stay valid while it
is kept). The first sink to write an event encodes it; its peers, whose batch boundaries differ,
find where their batch starts in a chunk, check the run of events that follows is the same
objects (in C), and write that run's bytes as one slice; only the events they miss are encoded.
A sink with no peer gets a formatter of its own, as before.

The output is byte-for-byte what the formatter writes for the batch: a record is what the
formatter writes for that event alone, a stand-in record (see :mod:`._isolate`) included.

Memory is bounded: chunks live in two generations; when the current one would pass half of
``max_events`` events or half of ``max_bytes`` of records, it becomes the previous one and the
previous one is dropped (with the events it held). A chunk larger than half of ``max_bytes`` is
not kept.

The encoder takes a lock around each batch (formatters keep per-instance state), so it is safe
whichever thread formats; the built-in sinks format on the trio thread.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import accumulate, chain, repeat
from operator import is_
from typing import Any, Final, Protocol

from .._events import EventTuple, LogEvent, as_events

__all__ = ["MAX_BYTES", "MAX_EVENTS", "SharedEncoder", "SharedFormatters"]

#: Default bounds of one encoder's cache: events kept, and bytes of their records.
MAX_EVENTS: Final = 8192
MAX_BYTES: Final = 8 * 1024 * 1024

Records = Callable[[Sequence[LogEvent]], list[bytes]]


class _Formatter(Protocol):
    def format_batch(self, events: Sequence[LogEvent]) -> bytes: ...


class _Chunk:
    """One encoded run of events: the bytes, and where each event's record starts
    (``offsets``; ``None`` while not needed for line records, then found at the newlines)."""

    __slots__ = ("data", "events", "ids", "offsets", "positions")

    def __init__(
        self, events: list[Any], ids: list[int], data: bytes, offsets: list[int] | None
    ) -> None:
        self.events = events
        self.ids = ids
        self.data = data
        self.offsets = offsets
        self.positions: dict[int, int] | None = None  # id -> index, built when first asked

    def position(self, key: int) -> int:
        """Where the event whose id is ``key`` is in this chunk (-1: not here)."""
        positions = self.positions
        if positions is None:
            positions = self.positions = dict(zip(self.ids, range(len(self.ids)), strict=True))
        return positions.get(key, -1)

    def records(self, start: int, stop: int) -> bytes:
        """The records of events ``start`` to ``stop`` (excluded), as one slice."""
        if start == 0 and stop == len(self.events):
            return self.data
        offsets = self.offsets
        if offsets is None:  # one line per event (checked when encoded)
            lines = self.data.splitlines(keepends=True)
            offsets = self.offsets = list(accumulate(map(len, lines), initial=0))
        return self.data[offsets[start] : offsets[stop]]


def _run(mine: Sequence[Any], i: int, theirs: list[Any], pos: int, most: int) -> int:
    """How many events from ``mine[i]`` on are the same objects as from ``theirs[pos]`` on
    (at most ``most``; the first is). A short prefix is compared first, so a batch whose runs
    are short (a sink that takes fewer levels than its peer) costs no more than its length."""
    probe = min(most, 32)
    same = list(map(is_, mine[i : i + probe], theirs[pos : pos + probe]))
    if False in same:
        return same.index(False)
    if most > probe:
        same = list(map(is_, mine[i + probe : i + most], theirs[pos + probe : pos + most]))
        return probe + same.index(False) if False in same else most
    return most


class SharedEncoder:
    """A formatter shared by sinks: keeps recently encoded batches and writes a peer's batch
    from them (see the module docstring). Takes queued plain tuples (it converts the events it
    encodes)."""

    #: the batch path only looks events up by identity: give it the queued tuples themselves
    takes_plain_tuples = True

    def __init__(
        self,
        formatter: _Formatter,
        *,
        plain: bool = False,
        max_events: int = MAX_EVENTS,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.formatter = formatter
        #: the formatter's batch path only unpacks events (the format registry says so)
        self._plain = plain
        self._lines = getattr(formatter, "line_records", False) is True
        self._own_records: Records | None = getattr(formatter, "format_records", None)
        self._lock = threading.Lock()
        self._current: dict[int, _Chunk] = {}  # id(event) -> its chunk
        self._previous: dict[int, _Chunk] = {}
        self._events = 0  # events and bytes of the chunks in the current generation
        self._bytes = 0
        self._half_events = max(1, max_events // 2)
        self._half_bytes = max(1, max_bytes // 2)
        #: events found in kept chunks, and events encoded (for tests and tuning)
        self.hits = 0
        self.encoded = 0

    def _chunks(self) -> list[_Chunk]:
        unique = {id(c): c for c in chain(self._current.values(), self._previous.values())}
        return list(unique.values())

    @property
    def kept_events(self) -> int:
        """Events kept (both generations)."""
        return sum(len(c.events) for c in self._chunks())

    @property
    def kept_bytes(self) -> int:
        """Bytes of the records kept (both generations)."""
        return sum(len(c.data) for c in self._chunks())

    def format_batch(self, events: Sequence[EventTuple]) -> bytes:
        """The batch as the formatter writes it: runs of events found in kept chunks are
        sliced from them, the rest is encoded (and kept)."""
        n = len(events)
        with self._lock:
            pieces: list[bytes] = []
            current, previous = self._current, self._previous
            i = 0
            while i < n:
                event = events[i]
                key = id(event)
                chunk = current.get(key) or previous.get(key)
                pos = -1 if chunk is None else chunk.position(key)
                if chunk is None or pos < 0 or chunk.events[pos] is not event:
                    pieces.append(self._encode(events[i:] if i else events))
                    break
                count = _run(events, i, chunk.events, pos, min(n - i, len(chunk.events) - pos))
                pieces.append(chunk.records(pos, pos + count))
                self.hits += count
                i += count
            if len(pieces) == 1:
                return pieces[0]
            return b"".join(pieces)

    def _encode(self, events: Sequence[Any]) -> bytes:
        """Encode ``events`` (in chunks of at most half of ``max_events``) and keep them."""
        half = self._half_events
        if len(events) > half:
            return b"".join(
                self._encode(events[start : start + half]) for start in range(0, len(events), half)
            )
        self.encoded += len(events)
        batch = list(events)
        converted = batch if self._plain else as_events(batch)
        fmt = self.formatter.format_batch
        offsets: list[int] | None = None
        if self._lines:
            data = fmt(converted)
            # each record ends with its one newline: n newlines (and no "\r", which
            # splitlines would also cut at) means each line is one event's record
            if not (data.count(b"\n") == len(batch) and data[-1:] == b"\n" and b"\r" not in data):
                records = [fmt([e]) for e in converted]
                data = b"".join(records)
                offsets = list(accumulate(map(len, records), initial=0))
        else:
            own = self._own_records
            records = own(converted) if own is not None else [fmt([e]) for e in converted]
            data = b"".join(records)
            offsets = list(accumulate(map(len, records), initial=0))
        self._keep(_Chunk(batch, list(map(id, batch)), data, offsets))
        return data

    def _keep(self, chunk: _Chunk) -> None:
        """Keep a chunk in the current generation (which first becomes the previous one when
        the chunk would take it past half the bounds); a chunk too large is not kept."""
        count, size = len(chunk.events), len(chunk.data)
        if size > self._half_bytes:
            return
        if self._events + count > self._half_events or self._bytes + size > self._half_bytes:
            self._previous = self._current
            self._current = {}
            self._events = self._bytes = 0
        self._current.update(zip(chunk.ids, repeat(chunk)))
        self._events += count
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
        from . import make_formatter, takes_plain_tuples

        key = _key(fmt, output_template)
        with self._lock:
            if self._sinks[key] < 2:
                return make_formatter(fmt, output_template=output_template)
            encoder = self._encoders.get(key)
            if encoder is None:
                encoder = self._encoders[key] = SharedEncoder(
                    make_formatter(fmt, output_template=output_template),
                    plain=takes_plain_tuples(fmt),
                    max_events=self._max_events,
                    max_bytes=self._max_bytes,
                )
            return encoder
