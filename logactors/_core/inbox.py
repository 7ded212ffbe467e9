"""A sink actor's inbox: a bounded deque with overflow policies and a trio wake-up.

A deque rather than a memory channel, because the overflow policy has to evict from the middle
(the oldest event *below* ``never_drop_level``) and the queue is bounded in estimated bytes as
well as in events. Everything here runs on the trio thread; other threads go through the
hand-off (:mod:`logactors._core.handoff`).

Bookkeeping for ``flush()``: events do not always leave in arrival order (a fallback serves
rerouted batches first, eviction removes from the middle), so counting departures is not
enough. Each flush request remembers how many of *its* events are queued, rerouted-in and in
flight; every departure decrements exactly the requests it belongs to (the request's own
events are always the oldest ones of the queue), and the request is complete at zero.
"""

from __future__ import annotations

import collections
import itertools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio

from .._events import EventTuple, LogEvent
from .._sizing import BASE_BYTES
from ..metrics import Counters

if TYPE_CHECKING:
    from ..config import QueueConfig


class Rerouted:
    """A batch another sink could not write, queued at its fallback (not evictable).

    Attributes:
        events: the events, in order.
        size: their estimated bytes.
        origin: the actor that first accepted them (its spool takes them if the chain fails).
    """

    __slots__ = ("events", "origin", "size")

    def __init__(self, events: list[LogEvent], size: int, origin: Any) -> None:
        self.events = events
        self.size = size
        self.origin = origin


class FlushRequest:
    """One ``flush()`` waiting on one inbox: how many of the events it waits for are still
    queued, rerouted-in, or in flight."""

    __slots__ = ("done", "flight", "queued", "rerouted")

    def __init__(self, queued: int, rerouted: int, flight: int) -> None:
        self.queued = queued
        self.rerouted = rerouted
        self.flight = flight
        self.done = trio.Event()

    @property
    def complete(self) -> bool:
        return not (self.queued or self.rerouted or self.flight)


class InboxClosed(Exception):
    """The inbox no longer accepts events (shutdown)."""


_popleft = collections.deque.popleft


class Inbox:
    """Bounded queue of one sink actor (see module docstring)."""

    __slots__ = (
        "_events",
        "_flushes",
        "_free",
        "_kicked",
        "_notice",
        "_sizes",
        "_skip",
        "_space",
        "_waiter",
        "_wake_after",
        "block",
        "closed",
        "counters",
        "drop_newest",
        "hard_cap",
        "in_flight",
        "max_events",
        "never_drop",
        "on_room",
        "rerouted",
        "rerouted_count",
        "sealed",
    )

    def __init__(self, config: QueueConfig, counters: Counters) -> None:
        self._events: collections.deque[EventTuple] = collections.deque()
        self._sizes: collections.deque[int] = collections.deque()
        self._skip = 0  # leading events known to be at/above never_drop (eviction hint)
        self._waiter: trio.Event | None = None
        #: a put wakes the waiting actor once more events than this were queued before it
        #: (``sys.maxsize`` while the actor is not waiting: one comparison per put)
        self._wake_after = sys.maxsize
        self._kicked = False
        self._space = trio.lowlevel.ParkingLot()
        self._flushes: list[FlushRequest] = []
        self._notice: dict[int, int] = {}
        self.counters = counters
        self.max_events = config.max_events
        self.hard_cap = config.hard_cap_bytes
        self.never_drop = config.never_drop_level
        self.block = config.overflow == "block"
        self.drop_newest = config.overflow == "drop_newest"
        #: bytes left below the hard cap (``bytes`` is what it is not: one field per put)
        self._free = config.hard_cap_bytes
        self.in_flight = 0
        self.closed = False
        self.sealed = False  # emptied for good (abandonment): takes no more rerouted batches
        self.rerouted: collections.deque[Rerouted] = collections.deque()
        self.rerouted_count = 0
        #: called when the actor makes room (resumes a stalled thread hand-off)
        self.on_room: Callable[[], None] | None = None

    # -- producer side -------------------------------------------------------------------------

    def put_nowait(self, event: EventTuple, level: int, size: int) -> None:
        """Queue ``event`` without waiting; apply the overflow policy when full (the one put:
        every way into the logger reaches an inbox through here or :meth:`put`)."""
        self.counters.accepted += 1
        events = self._events
        queued = len(events)
        free = self._free - size
        if free >= 0 and queued < self.max_events:
            self._free = free
            events.append(event)
            # Sizes are kept above the fixed part: a small (cached) int for a typical event,
            # so the queue holds no int object per event. Byte accounting is unchanged.
            self._sizes.append(size - BASE_BYTES)
            if queued >= self._wake_after:
                self.wake()
        else:
            self.overflow(event, level, size)

    @property
    def bytes(self) -> int:
        """Estimated bytes of the events queued."""
        return self.hard_cap - self._free

    def wake(self) -> None:
        """Wake the actor's wait for events (the wait decides whether enough are queued)."""
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            self._wake_after = sys.maxsize
            waiter.set()

    def overflow(self, event: EventTuple, level: int, size: int) -> None:
        """Queue ``event`` (already counted as accepted) in a full queue: apply the overflow
        policy, which may evict an older event or drop this one."""
        if not self._make_room(level, size):
            self._count_drop(level)
            return
        self._events.append(event)
        self._sizes.append(size - BASE_BYTES)
        self._free -= size
        if len(self._events) > self._wake_after:
            self.wake()

    def has_room(self, size: int) -> bool:
        """Whether an awaiting put of ``size`` bytes would be admitted now."""
        return len(self._events) < self.max_events and size <= self._free

    def admits_after(self, ahead: int, ahead_bytes: int, size: int) -> bool:
        """Whether one more event of ``size`` bytes, behind ``ahead`` events of ``ahead_bytes``
        on their way here (a thread's hand-off), stays within both bounds; an empty queue with
        nothing ahead admits one event of any size."""
        queued = len(self._events) + ahead
        if queued == 0:
            return True
        return queued < self.max_events and ahead_bytes + size <= self._free

    async def put(self, event: EventTuple, level: int, size: int) -> None:
        """Queue ``event``, waiting for room (back-pressure); raises InboxClosed after close.

        An empty queue admits one event of any size.
        """
        while not self.has_room(size) and self._events:
            if self.closed:
                raise InboxClosed
            await self._space.park()
        if self.closed:
            raise InboxClosed
        self.put_nowait(event, level, size)

    async def wait_room(self) -> None:
        """Wait until the queue is below ``max_events`` (used for rerouted batches).

        Always checks for cancellation first: a cancelled actor must not hand over a batch.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        while len(self._events) + self.rerouted_count >= self.max_events and not self.closed:
            await self._space.park()

    def put_rerouted(self, batch: Rerouted) -> None:
        """Queue a batch rerouted from another sink (counted as ``received``).

        Raises:
            InboxClosed: the actor has already abandoned its queue (shutdown deadline).
        """
        if self.sealed:
            raise InboxClosed
        self.rerouted.append(batch)
        self.rerouted_count += len(batch.events)
        self.counters.received += len(batch.events)
        self.kick()

    def _make_room(self, level: int, size: int) -> bool:
        """Evict or admit past the soft bound; False means the new event must be dropped.

        * ``block``: admitted past ``max_events`` up to the byte cap (a plain call on the trio
          thread cannot wait); at the cap a protected event evicts a lower one, else the new
          event is dropped.
        * ``drop_newest``: a new event below ``never_drop_level`` is dropped.
        * otherwise the oldest event below ``never_drop_level`` is evicted; with nothing lower
          queued, a protected event is admitted past ``max_events`` (never dropped below the
          byte cap), a lower one is dropped. At the byte cap with only protected events
          queued, ``drop_oldest`` drops the oldest of them.
        """
        high = level >= self.never_drop
        if self.drop_newest and not high:
            return False
        events = self._events
        while True:
            over_bytes = size > self._free
            if not events or not (over_bytes or len(events) >= self.max_events):
                return True
            if self.block and not over_bytes:
                return True
            if (high or not self.block) and self._evict_low():
                continue
            if self.block or not over_bytes:
                return high and not over_bytes
            if high and not self.drop_newest:
                self._evict_at(0)
                continue
            return False

    def _evict_low(self) -> bool:
        events = self._events
        never_drop = self.never_drop
        i = self._skip
        n = len(events)
        while i < n and events[i][1] >= never_drop:
            i += 1
        self._skip = i
        if i >= n:
            return False
        self._evict_at(i)
        return True

    def _evict_at(self, index: int) -> None:
        events = self._events
        if index == 0:
            event = events.popleft()
            size = self._sizes.popleft() + BASE_BYTES
            self._skip = max(0, self._skip - 1)
        else:
            event = events[index]
            size = self._sizes[index] + BASE_BYTES
            del events[index]
            del self._sizes[index]
        self._free += size
        for request in self._flushes:
            if index < request.queued:
                request.queued -= 1
        self._count_drop(event[1])

    def _count_drop(self, level: int) -> None:
        self.counters.dropped += 1
        self._notice[level] = self._notice.get(level, 0) + 1

    def refused(self, drops: dict[int, int]) -> None:
        """Events for this inbox that were dropped before reaching it (on a producing thread,
        or failing on their way): counted as accepted and dropped together, so every snapshot
        balances, and announced in the next drop notice. ``drops``: level -> count."""
        count = sum(drops.values())
        self.counters.accepted += count
        self.counters.dropped += count
        self.restore_drop_notice(drops)

    def restore_drop_notice(self, notice: dict[int, int]) -> None:
        """Put back a drop notice that could not be delivered (it goes with the next batch)."""
        for level, count in notice.items():
            self._notice[level] = self._notice.get(level, 0) + count

    def adopt(self, count: int) -> None:
        """Count events that did not come through this queue as in flight (e.g. replayed
        events being rerouted), so ``queue_depth`` keeps the conservation law exact."""
        self.in_flight += count

    def take_drop_notice(self) -> dict[int, int]:
        """Levels and counts dropped since the last call (for the synthetic notice event)."""
        notice = self._notice
        if notice:
            self._notice = {}
        return notice

    # -- consumer side -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._events)

    @property
    def depth(self) -> int:
        """Events queued, rerouted-in or in flight (the ``queue_depth`` of the metrics)."""
        return len(self._events) + self.rerouted_count + self.in_flight

    @property
    def urgent(self) -> bool:
        """A flush or close is waiting: do not hold a partial batch back."""
        return self.closed or bool(self._flushes)

    def take(self, limit: int, max_bytes: int | None = None) -> list[EventTuple]:
        """Remove and return up to ``limit`` events (and at most ``max_bytes``); in flight.

        Events may be plain tuples (see :data:`~logactors._events.EventTuple`).
        """
        events = self._events
        sizes = self._sizes
        n = min(limit, len(events))
        if max_bytes is None and n == len(events):
            batch = list(events)
            events.clear()
            sizes.clear()
            self._free = self.hard_cap
        elif max_bytes is None and len(events) - n <= n:
            # Most of the queue (the producer kept logging while the actor woke up): copy all
            # of it and put the rest back, in C; the bytes left are those of the rest.
            batch = list(events)
            rest = batch[n:]
            del batch[n:]
            rest_sizes = list(sizes)[n:]
            events.clear()
            events.extend(rest)
            sizes.clear()
            sizes.extend(rest_sizes)
            self._free = self.hard_cap - sum(rest_sizes) - len(rest_sizes) * BASE_BYTES
        elif max_bytes is None:
            # A small part of a backlog: n pops, done in C rather than one Python iteration
            # per event.
            batch = list(map(_popleft, itertools.repeat(events, n)))
            self._free += sum(map(_popleft, itertools.repeat(sizes, n))) + n * BASE_BYTES
        else:
            batch = []
            total = 0
            popleft = events.popleft
            popsize = sizes.popleft
            for _ in range(n):
                if max_bytes is not None and batch and total + sizes[0] + BASE_BYTES > max_bytes:
                    break
                batch.append(popleft())
                total += popsize() + BASE_BYTES
            self._free += total
        self._skip = max(0, self._skip - len(batch))
        self.in_flight += len(batch)
        for request in self._flushes:
            moved = min(len(batch), request.queued)
            request.queued -= moved
            request.flight += moved
        if self._space:
            self._space.unpark_all()
        if self.on_room is not None and batch:
            self.on_room()
        return batch

    def take_rerouted(self) -> Rerouted | None:
        """Remove and return the oldest rerouted batch (now in flight), if any."""
        if not self.rerouted:
            return None
        batch = self.rerouted.popleft()
        n = len(batch.events)
        self.rerouted_count -= n
        self.in_flight += n
        for request in self._flushes:
            moved = min(n, request.rerouted)
            request.rerouted -= moved
            request.flight += moved
        if self._space:
            self._space.unpark_all()
        return batch

    def take_all_remaining(self) -> tuple[list[EventTuple], list[Rerouted]]:
        """Empty the queue for good (shutdown abandonment); the events become in flight."""
        self.sealed = True
        own = self.take(len(self._events) or 1)
        rerouted = list(self.rerouted)
        self.rerouted.clear()
        moved = sum(len(r.events) for r in rerouted)
        self.rerouted_count -= moved
        self.in_flight += moved
        for request in self._flushes:
            request.flight += request.rerouted
            request.rerouted = 0
        return own, rerouted

    def finished(self, count: int) -> None:
        """``count`` in-flight events have left (written, rerouted, spooled, failed, lost).

        The actor has one batch in flight at a time, so every flush request's in-flight
        events belong to the batch that just left.
        """
        self.in_flight -= count
        for request in self._flushes:
            request.flight = max(0, request.flight - count)

    async def wait(self, count: int, deadline: float) -> None:
        """Wait until ``count`` events are queued, a kick arrives, or ``deadline`` passes.

        A kick (flush, close, rerouted batch, timer) is consumed by the wait it ends, or by the
        next wait if it came while the actor was busy.
        """
        if self._kicked:
            self._kicked = False
            return
        if len(self._events) >= count:
            return
        waiter = trio.Event()
        self._waiter = waiter
        self._wake_after = count - 1
        try:
            with trio.move_on_at(deadline):
                await waiter.wait()
        finally:
            self._waiter = None
            self._wake_after = sys.maxsize
            self._kicked = False

    def kick(self) -> None:
        """Wake the actor now (flush, close, rerouted batch, timer)."""
        self._kicked = True
        self.wake()

    def close(self) -> None:
        """Stop accepting awaiting puts and let the actor drain and exit."""
        self.closed = True
        self.kick()
        self._space.unpark_all()

    # -- flush -----------------------------------------------------------------------------------

    def request_flush(self) -> trio.Event:
        """An event the actor sets once every event queued, rerouted-in or in flight now has
        left the queue (and the sink's own ``flush()`` ran)."""
        request = FlushRequest(len(self._events), self.rerouted_count, self.in_flight)
        self._flushes.append(request)
        self.kick()
        return request.done

    @property
    def flush_due(self) -> bool:
        """Some flush request's events have all left the queue."""
        return any(request.complete for request in self._flushes)

    def release_due_flushes(self) -> None:
        """Wake the flush requests whose events have all left the queue."""
        waiting = []
        for request in self._flushes:
            if request.complete:
                request.done.set()
            else:
                waiting.append(request)
        self._flushes = waiting

    def release_all_flushes(self) -> None:
        """Wake every flush waiter (shutdown)."""
        for request in self._flushes:
            request.done.set()
        self._flushes = []
