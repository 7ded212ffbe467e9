"""The hand-off from threads other than the trio thread.

Threads never touch trio objects. A call from another thread builds its event fields there
(timestamp, properties, thread name), appends them to a deque and, only if no wake-up is
pending, schedules one pump with ``TrioToken.run_sync_soon``: one wake-up per burst, not per
event. The pump runs on the trio thread and routes the events into the sink inboxes, in order.

Bounds and back-pressure: the hand-off holds at most ``limit`` events. Past it, a call from a
plain thread waits (with ``overflow="block"`` sinks, for at most ``block_timeout``; never during
shutdown, from a thread running an event loop, or from a sink's own worker thread) and is then
counted as rejected. A pump from the wake-up does not push into a full ``block`` inbox: it stops
and resumes when the actor makes room, so threads feel the back-pressure. A plain call on the
trio thread pumps everything first (forced), which keeps a thread's events that were logged
before a ``to_thread`` call returned ahead of the caller's next event.
"""

from __future__ import annotations

import collections
import contextvars
import sys
import threading
from collections.abc import Callable
from typing import Any

import trio

#: (timestamp_ns, level, template, properties, exception, logger, task, size)
RawEvent = tuple[int, Any, str, dict[str, Any], "str | None", str, str, int]

#: True in a sink actor's task (set once when it starts) and therefore in the worker threads
#: it starts (``to_thread`` copies the context): code running on behalf of a sink must never
#: block on the hand-off, and its stdlib log records must not be fed back into the sinks.
IN_SINK: contextvars.ContextVar[bool] = contextvars.ContextVar("logactors_in_sink", default=False)


def in_sink() -> bool:
    """Whether the current task or thread is working for a sink."""
    return IN_SINK.get()


def _may_block() -> bool:
    if IN_SINK.get():
        return False
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and asyncio._get_running_loop() is not None:
        return False
    return not trio.lowlevel.in_trio_run()


class Handoff:
    """Thread-safe queue of raw events from other threads (see the module docstring)."""

    def __init__(
        self,
        token: trio.lowlevel.TrioToken,
        route: Callable[[RawEvent, bool], bool],
        report: Callable[..., None],
        *,
        limit: int,
        blocking: bool,
        block_timeout: float,
    ) -> None:
        self._items: collections.deque[RawEvent] = collections.deque()
        self._token = token
        self._route = route
        self._report = report
        self._limit = limit
        self._blocking = blocking
        self._block_timeout = block_timeout
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._wake_pending = False
        self._stalled = False
        self.closed = False
        self.rejected = 0
        #: run_sync_soon wake-ups scheduled (one per burst, not per event)
        self.wakeups = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def pending(self) -> bool:
        """Whether events are waiting to be pumped."""
        return bool(self._items)

    @property
    def pending_events(self) -> collections.deque[RawEvent]:
        """The queue itself (loggers test its truthiness on their hot path)."""
        return self._items

    # -- other threads ---------------------------------------------------------------------------

    def submit(self, raw: RawEvent) -> None:
        """Queue one event from a non-trio thread; never raises, never blocks past the bound."""
        if self.closed:
            self._reject()
            return
        if (self._stalled or len(self._items) >= self._limit) and not self._wait_for_room():
            self._reject()
            return
        self._items.append(raw)
        if not self._wake_pending:
            self._wake_pending = True
            self._wake()

    def _wait_for_room(self) -> bool:
        """Wait (``block`` policy, plain threads only) until the pump runs freely again.

        Past the hard ``limit`` the event is rejected unless room appears in time; a stalled
        pump (a ``block`` inbox is full) makes blocking callers wait up to ``block_timeout``,
        while non-blocking callers still queue up to the limit.
        """
        if not (self._blocking and _may_block()):
            return len(self._items) < self._limit
        with self._room:
            return (
                self._room.wait_for(
                    lambda: self.closed or (not self._stalled and len(self._items) < self._limit),
                    self._block_timeout,
                )
                and not self.closed
            )

    def _wake(self) -> None:
        self.wakeups += 1
        try:
            self._token.run_sync_soon(self._pump_from_wakeup)
        except trio.RunFinishedError:
            self._run_finished()

    def _reject(self, count: int = 1) -> None:
        with self._lock:
            self.rejected += count

    def _run_finished(self) -> None:
        """The trio run ended: nothing will pump again; count what is left as rejected."""
        self.closed = True
        count = 0
        while True:
            try:
                self._items.popleft()
            except IndexError:
                break
            count += 1
        if count:
            self._reject(count)

    # -- trio thread -----------------------------------------------------------------------------

    def _pump_from_wakeup(self) -> None:
        try:
            self.pump(force=False)
        except BaseException as exc:  # a run_sync_soon callback must never raise
            self._report(f"internal error in the thread hand-off: {exc!r}")

    def pump(self, *, force: bool = True) -> None:
        """Route pending events into the inboxes (trio thread only).

        With ``force=False`` the pump stops at an event whose ``block`` inbox is full and
        resumes when :meth:`resume` is called (the actor made room).
        """
        self._wake_pending = False
        items = self._items
        route = self._route
        moved = 0
        while items:
            raw = items[0]
            if not route(raw, force):
                self._stalled = True
                break
            items.popleft()
            moved += 1
        else:
            self._stalled = False
        if self._blocking and (moved or not self._stalled):
            with self._room:
                self._room.notify_all()

    def resume(self) -> None:
        """An inbox made room: continue a stalled pump (trio thread)."""
        if self._stalled and self._items:
            self.pump(force=False)

    def close(self) -> None:
        """Stop accepting events (shutdown); waiting threads give up at once."""
        self.closed = True
        with self._room:
            self._room.notify_all()
