"""Fan-out: sinks that write the same format encode each event once.

The logger queues *one* event object into the inbox of every sink the event goes to, and an event
is immutable once queued, so the record a formatter writes for it depends only on that object and
the formatter's configuration. A runtime keeps one :class:`SharedFormatters`: file sinks whose
format (name and options) another file sink of the runtime shares get the same
:class:`SharedEncoder`, which keeps the records of recently encoded events: each batch it
encodes is kept as a *chunk* (the events, the bytes, where each event's record starts; the chunk
holds its events, so their identities stay valid while it is kept). The first sink to write an
event encodes it; its peers, whose batch boundaries may differ, find where their batch starts in
a chunk, check the run of events that follows is the same objects (in C), and write that run's
bytes as one slice; only the events they miss are encoded. A sink with no peer gets a formatter
of its own, as before.

Finding where a batch starts costs one dictionary look-up per batch, not per event, when every
sharing sink takes the same events (the same ``min_level``, no filters: ``index=False``): a
sink's batch then starts where a chunk starts, or where its own previous batch stopped, and the
encoder remembers where each run a sink took stopped inside a chunk (a *cut*). Sinks that take
different events (other levels, filters) start anywhere in a peer's chunk: for them
(``index=True``) every kept event is also indexed by identity.

The output is byte-for-byte what the formatter writes for the batch: a record is what the
formatter writes for that event alone, a stand-in record (see :mod:`._isolate`) included. A
look-up that finds nothing only means the sink encodes those events itself.

Memory is bounded: the chunks kept hold at most ``max_events`` events and ``max_bytes`` of
records, the oldest dropped first (a batch is kept in chunks of at most half of ``max_events``;
a chunk larger than half of ``max_bytes`` is not kept). When the encoder knows how many sinks
share it (``peers``), a chunk is dropped as soon as the others have taken all its records, so
events are freed when the last sink has written them rather than when the bounds push them out
(events kept alive longer make the garbage collector's young generation run more often and
promote them to the older ones).

The encoder takes a lock around each batch (formatters keep per-instance state), so it is safe
whichever thread formats; the built-in sinks format on the trio thread.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from itertools import accumulate, repeat
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
    (``offsets``; ``None`` while not needed for line records, then found at the newlines).

    ``left``: records the peers have still to take before the chunk is dropped (``None``: kept
    until the bounds push it out); ``cuts``: the keys of the cuts into it; ``ids``: the identity
    of each event (``index=True`` only). A dropped chunk holds nothing (an index entry that
    still names it finds no event)."""

    __slots__ = ("cuts", "data", "events", "ids", "left", "offsets", "positions")

    def __init__(
        self, events: list[Any], data: bytes, offsets: list[int] | None, left: int | None
    ) -> None:
        self.events = events
        self.data = data
        self.offsets = offsets
        self.left = left
        self.cuts: list[int] = []
        self.ids: list[int] | None = None
        self.positions: dict[int, int] | None = None  # id -> index, built when first asked

    def position(self, key: int) -> int:
        """Where the event whose id is ``key`` is in this chunk (-1: not here)."""
        positions = self.positions
        if positions is None:
            ids = self.ids
            if not ids:
                return -1
            positions = self.positions = dict(zip(ids, range(len(ids)), strict=True))
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
    # a whole batch that is a whole chunk (the usual case): one pass, no slices
    if i == 0 and pos == 0 and most == len(mine) == len(theirs) and all(map(is_, mine, theirs)):
        return most
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
    encodes).

    Args:
        formatter: the format's formatter (used under the encoder's lock).
        plain: the formatter's batch path only unpacks events: give it plain tuples.
        max_events, max_bytes: bounds of what is kept.
        peers: how many sinks share the encoder (``None``: unknown). With it, a chunk is
            dropped once the ``peers - 1`` others have taken all its records.
        index: index every kept event (sinks that take different events); without it a batch
            is found where a chunk or a cut starts.
    """

    #: the batch path only looks events up by identity: give it the queued tuples themselves
    takes_plain_tuples = True

    def __init__(
        self,
        formatter: _Formatter,
        *,
        plain: bool = False,
        max_events: int = MAX_EVENTS,
        max_bytes: int = MAX_BYTES,
        peers: int | None = None,
        index: bool = True,
    ) -> None:
        self.formatter = formatter
        #: the formatter's batch path only unpacks events (the format registry says so)
        self._plain = plain
        self._lines = getattr(formatter, "line_records", False) is True
        self._own_records: Records | None = getattr(formatter, "format_records", None)
        self._lock = threading.Lock()
        self._kept: dict[_Chunk, None] = {}  # the chunks kept, oldest first
        self._starts: dict[int, _Chunk] = {}  # id(first event) -> its chunk
        self._cuts: dict[int, tuple[_Chunk, int]] = {}  # id(event) -> (chunk, position)
        #: index=True: id(event) -> its chunk, in two generations (the older is dropped, in
        #: one go, when the newer has taken in half of ``max_events``)
        self._index = index
        self._current: dict[int, _Chunk] = {}
        self._previous: dict[int, _Chunk] = {}
        self._indexed = 0
        self._events = 0  # events and bytes of the chunks kept
        self._bytes = 0
        self._max_events = max(1, max_events)
        self._max_bytes = max(1, max_bytes)
        self._half_events = max(1, max_events // 2)
        self._half_bytes = max(1, max_bytes // 2)
        self._takers = None if peers is None else max(0, peers - 1)
        self._done: list[_Chunk] = []  # chunks every peer took: dropped before the next encoding
        #: events found in kept chunks, and events encoded (for tests and tuning)
        self.hits = 0
        self.encoded = 0

    @property
    def kept_events(self) -> int:
        """Events kept."""
        return self._events

    @property
    def kept_bytes(self) -> int:
        """Bytes of the records kept."""
        return self._bytes

    def format_batch(self, events: Sequence[EventTuple]) -> bytes:
        """The batch as the formatter writes it: runs of events found in kept chunks are
        sliced from them, the rest is encoded (and kept)."""
        n = len(events)
        with self._lock:
            pieces: list[bytes] = []
            i = 0
            while i < n:
                found = self._find(events[i])
                if found is None:
                    # an event kept nowhere before a kept run (a drop notice) is encoded alone
                    if i + 1 < n and self._find(events[i + 1]) is not None:
                        pieces.append(self._encode(events[i : i + 1]))
                        i += 1
                        continue
                    pieces.append(self._encode(events[i:] if i else events))
                    break
                chunk, pos = found
                count = _run(events, i, chunk.events, pos, min(n - i, len(chunk.events) - pos))
                pieces.append(chunk.records(pos, pos + count))
                self.hits += count
                i += count
                self._taken(chunk, pos + count, count)
            if len(pieces) == 1:
                return pieces[0]
            return b"".join(pieces)

    def _find(self, event: Any) -> tuple[_Chunk, int] | None:
        """The kept chunk and position of ``event`` (None: not kept)."""
        key = id(event)
        chunk = self._starts.get(key)
        if chunk is not None:
            pos = 0
        else:
            cut = self._cuts.get(key)
            if cut is not None:
                chunk, pos = cut
            elif self._index:
                chunk = self._current.get(key) or self._previous.get(key)
                if chunk is None:
                    return None
                pos = chunk.position(key)
            else:
                return None
        kept = chunk.events
        if 0 <= pos < len(kept) and kept[pos] is event:
            return chunk, pos
        return None

    def _taken(self, chunk: _Chunk, stop: int, count: int) -> None:
        """A sink took ``count`` records of ``chunk``, up to ``stop``: remember where it stopped
        (its next batch starts there); drop the chunk once the peers took all of it."""
        left = chunk.left
        if left is not None:
            chunk.left = left - count
            if left <= count:  # all taken (a sink that formats a batch again takes it twice)
                if left > 0:
                    self._done.append(chunk)
                return
        if stop < len(chunk.events):
            key = id(chunk.events[stop])
            if key not in self._cuts:
                self._cuts[key] = (chunk, stop)
                chunk.cuts.append(key)

    def _encode(self, events: Sequence[Any]) -> bytes:
        """Encode ``events`` (in chunks of at most half of ``max_events``) and keep them."""
        done = self._done
        if done:
            self._done = []
            for chunk in done:
                if chunk in self._kept:
                    self._drop(chunk)
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
        takers = self._takers
        if takers != 0 and len(data) <= self._half_bytes:  # (no peer: nothing to keep)
            self._keep(
                _Chunk(batch, data, offsets, None if takers is None else takers * len(batch))
            )
        return data

    def _keep(self, chunk: _Chunk) -> None:
        """Keep a chunk, dropping the oldest ones while the bounds would be passed."""
        count, size = len(chunk.events), len(chunk.data)
        kept = self._kept
        while kept and (
            self._events + count > self._max_events or self._bytes + size > self._max_bytes
        ):
            self._drop(next(iter(kept)))
        kept[chunk] = None
        self._events += count
        self._bytes += size
        self._starts[id(chunk.events[0])] = chunk
        if self._index:
            ids = chunk.ids = list(map(id, chunk.events))
            if self._indexed + count > self._half_events:
                self._previous = self._current
                self._current = {}
                self._indexed = 0
            self._current.update(zip(ids, repeat(chunk)))
            self._indexed += count

    def _drop(self, chunk: _Chunk) -> None:
        """Stop keeping ``chunk`` (its events are released)."""
        del self._kept[chunk]
        events = chunk.events
        self._events -= len(events)
        self._bytes -= len(chunk.data)
        key = id(events[0])
        if self._starts.get(key) is chunk:
            del self._starts[key]
        cuts = self._cuts
        for key in chunk.cuts:
            cut = cuts.get(key)
            if cut is not None and cut[0] is chunk:
                del cuts[key]
        chunk.events = []
        chunk.data = b""
        chunk.offsets = chunk.ids = chunk.positions = None
        chunk.cuts = []


def _key(fmt: str, output_template: str) -> tuple[str, str]:
    return (fmt, output_template if fmt == "text" else "")


class SharedFormatters:
    """The formatters of one runtime's file sinks: one :class:`SharedEncoder` per format that
    two or more of them write; a sink without a peer gets a formatter of its own.

    Every sink is announced (:meth:`add`) before any formatter is asked for (:meth:`get`).
    """

    def __init__(self, *, max_events: int = MAX_EVENTS, max_bytes: int = MAX_BYTES) -> None:
        self._sinks: Counter[tuple[str, str]] = Counter()
        #: per format, the distinct selections of events its sinks take (see :meth:`add`)
        self._routes: dict[tuple[str, str], set[object]] = {}
        self._encoders: dict[tuple[str, str], SharedEncoder] = {}
        self._lock = threading.Lock()
        self._max_events = max_events
        self._max_bytes = max_bytes

    def add(self, fmt: str, output_template: str = "", route: Hashable | None = None) -> None:
        """Announce a sink that writes ``fmt`` (with ``output_template`` for ``text``).

        ``route``: which events the sink takes, such that sinks announced with equal routes
        are given the same events in the same order (its ``min_level`` when it has no
        filters); ``None``: a selection of its own. When all the sinks of a format share a
        route, their encoder needs no index of every event (see :class:`SharedEncoder`).
        """
        key = _key(fmt, output_template)
        with self._lock:
            self._sinks[key] += 1
            self._routes.setdefault(key, set()).add(object() if route is None else route)

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
                    peers=self._sinks[key],
                    index=len(self._routes[key]) > 1,
                )
            return encoder
