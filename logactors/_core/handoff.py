"""The hand-off from threads other than the trio thread.

Threads never touch trio objects. A call from another thread builds its event fields there
(timestamp, properties, thread name), appends them to a deque and, only if no wake-up is
pending, wakes the pump task with ``TrioToken.run_sync_soon``: one wake-up per burst, not per
event. The pump task (a trio system task) routes the events into the sink inboxes, in order.

The loop is never held: the pump task moves at most :data:`SLICE_EVENTS` events (or works for
at most :data:`SLICE_SECONDS`) at a time and passes a checkpoint between two slices, so the
other tasks (timers, the sink actors) run between slices however fast threads log. Once the
queue is empty it lingers :data:`LINGER_SECONDS` before sleeping, so that a steady stream is
moved in slices rather than with one wake-up (and one GIL hand-over) per event.

Bounds, per sink: an event waiting here counts against the sink's queue bounds as if it were
already queued (its *share*: the inbox's events and bytes plus those waiting in the hand-off for
it). When the share is full the overflow policy applies on the producing thread, after a short
wait for room (at most :data:`ROOM_SECONDS`, only while the sink is moving: not again until it
has written something since a wait that found no room), so that a sink that keeps up drains
instead of dropping:

* ``block``: a plain thread waits (at most ``block_timeout``) until the share has room; past
  it, or where waiting is not allowed (a thread running an event loop, a sink's worker thread,
  shutdown), the rules below apply, except that a timed-out lower event is dropped.
* a protected event (at or above ``never_drop_level``) is queued while the share's bytes stay
  within ``max_bytes``;
* a lower event under ``drop_newest`` is dropped; under ``drop_oldest`` it is queued within
  ``max_bytes`` if the inbox holds events (the inbox evicts its oldest lower event when the
  pump delivers it), else dropped; under ``block`` (not waiting) it is queued within
  ``max_bytes``.

Such a drop is counted for that sink alone (``accepted`` and ``dropped``, and in the sink's next
"N events dropped" notice); the event still goes to the other sinks of its level.

Back-pressure on the producers: once :data:`YIELD_BACKLOG` events wait, a producing thread
waits for the pump to catch up (at most :data:`YIELD_SECONDS`, and not again until the pump has
moved), so threads that log flat out cannot starve the trio thread of the GIL. The pump task
does not push into a full ``block`` inbox: it stops and resumes when the actor makes
room. A plain call on the trio thread first pumps what was waiting at that moment (forced),
which keeps a thread's events that were logged before a ``to_thread`` call returned ahead of
the caller's next event.

Events for inline captures only (:mod:`logactors.testing`, unbounded by design) are limited to
:data:`CAPTURE_LIMIT` waiting events, past which calls are counted as rejected; an event for a
level no sink takes is not queued at all.

One item never blocks the queue: an event whose finishing (redaction, filters, routing) raises
is counted as dropped for its sinks, reported once to the self-log, and the pump goes on.
"""

from __future__ import annotations

import collections
import contextvars
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import trio

if TYPE_CHECKING:
    from .._capture import Prepared
    from .runtime import Runtime

#: Most events one pump slice moves before it returns to the loop.
SLICE_EVENTS: Final = 256
#: Longest one pump slice works before it returns to the loop.
SLICE_SECONDS: Final = 0.002
#: Most events waiting in the hand-off (what a sink's bounds do not limit: inline captures).
CAPTURE_LIMIT: Final = 100_000
#: How long the pump task waits for more events once the queue is empty.
LINGER_SECONDS: Final = 0.001
#: How often a pump stalled on a full ``block`` inbox looks again without being woken.
STALL_RECHECK_SECONDS: Final = 0.05
#: Waiting events past which producing threads yield to the pump.
YIELD_BACKLOG: Final = 2 * SLICE_EVENTS
#: Longest a producing thread waits for room in a full sink before its overflow policy
#: applies (only while that sink is moving: once per batch it writes).
ROOM_SECONDS: Final = 0.05
#: Longest a producing thread yields to the pump (once per pump slice).
YIELD_SECONDS: Final = 0.005

#: True in a sink actor's task (set once when it starts) and therefore in the worker threads
#: it starts (``to_thread`` copies the context): code running on behalf of a sink must never
#: block on the hand-off, and its stdlib log records must not be fed back into the sinks.
IN_SINK: contextvars.ContextVar[bool] = contextvars.ContextVar("logactors_in_sink", default=False)


def _may_block() -> bool:
    if IN_SINK.get():
        return False
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and asyncio._get_running_loop() is not None:
        return False
    return not trio.lowlevel.in_trio_run()


class _Share:
    """One route target's part of the hand-off: its bounds and what waits here for it.

    ``charged*`` grow on producing threads (under the hand-off lock), ``pumped*`` on the trio
    thread only; their difference is what waits in the hand-off for this target.
    """

    __slots__ = (
        "block",
        "block_timeout",
        "bounded",
        "charged",
        "charged_bytes",
        "drop_newest",
        "drops",
        "hard_cap",
        "inbox",
        "never_drop",
        "pumped",
        "pumped_bytes",
        "stale",
        "target",
    )

    def __init__(self, target: Any, inbox: Any, block_timeout: float) -> None:
        self.target = target
        self.inbox = inbox
        self.bounded = inbox is not None
        self.hard_cap: int = inbox.hard_cap if inbox is not None else 0
        self.never_drop: int = inbox.never_drop if inbox is not None else 0
        self.block: bool = bool(inbox.block) if inbox is not None else False
        self.drop_newest: bool = bool(inbox.drop_newest) if inbox is not None else False
        self.block_timeout = block_timeout
        self.charged = 0
        self.charged_bytes = 0
        self.pumped = 0
        self.pumped_bytes = 0
        #: level -> events dropped on producing threads, not yet counted at the inbox
        self.drops: dict[int, int] = {}
        #: the sink's outflow when a producer last waited for room in vain
        self.stale = -1

    def outflow(self) -> int:
        """Events that have left the sink's queue so far (it is moving while this grows)."""
        c = self.inbox.counters
        return int(c.written + c.dropped + c.failed + c.rerouted + c.spooled + c.lost)

    @property
    def waiting(self) -> int:
        """Events waiting in the hand-off for this target."""
        return self.charged - self.pumped

    @property
    def waiting_bytes(self) -> int:
        """Estimated bytes waiting in the hand-off for this target."""
        return self.charged_bytes - self.pumped_bytes

    def fits(self, size: int) -> bool:
        """Whether one more event of ``size`` bytes stays within both bounds (an empty queue
        admits one event of any size)."""
        fits: bool = self.inbox.admits_after(
            self.charged - self.pumped, self.charged_bytes - self.pumped_bytes, size
        )
        return fits

    def bytes_fit(self, size: int) -> bool:
        """Whether one more event of ``size`` bytes stays within ``max_bytes``."""
        inbox = self.inbox
        if len(inbox) + self.charged - self.pumped == 0:
            return True
        return bool(inbox.bytes + self.charged_bytes - self.pumped_bytes + size <= self.hard_cap)


class Handoff:
    """Thread-safe queue of raw events from other threads (see the module docstring)."""

    def __init__(
        self, token: trio.lowlevel.TrioToken, runtime: Runtime, *, limit: int = CAPTURE_LIMIT
    ) -> None:
        #: (raw event, the shares it goes to or None for all of its level's)
        self._items: collections.deque[tuple[Prepared, tuple[_Share, ...] | None]] = (
            collections.deque()
        )
        self._token = token
        self._rt = runtime
        #: finishes one raw event on the trio thread: ``(event, size)``, or None if filtered
        self._admit = _admitter(runtime)
        self._report = runtime.self_log
        self._limit = limit
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._shares = _build_shares(runtime)
        self._all_shares = tuple({id(s): s for ss in self._shares.values() for s in ss}.values())
        self._blocking = any(s.block for s in self._all_shares)
        self._wake_pending = False
        self._stalled = False
        self._waiters = 0
        #: events pumped so far (a yielding producer waits for it to grow)
        self._progress = 0
        #: the progress at which a producer's yield found the pump not moving (no yield again
        #: until it moves)
        self._stale = -1
        self._drops_waiting = False
        #: events that go to no sink (dropped for all of them, or a level nobody takes),
        #: still to be counted in the runtime's ``events``
        self._unrouted = 0
        self._notify_due = False
        self.closed = False
        self._wakeup = trio.Event()
        trio.lowlevel.spawn_system_task(self._run, name="logactors thread hand-off")
        self.rejected = 0
        #: run_sync_soon wake-ups scheduled (one per burst, not per event)
        self.wakeups = 0
        #: events the pump could not finish (counted as dropped at their sinks)
        self.failed = 0
        self._causes: set[str] = set()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def pending(self) -> bool:
        """Whether events are waiting to be pumped."""
        return bool(self._items)

    @property
    def pending_events(self) -> collections.deque[Any]:
        """The queue itself (loggers test its truthiness on their hot path)."""
        return self._items

    def waiting_bytes(self, inbox: Any) -> int:
        """Estimated bytes waiting here for the sink whose inbox is ``inbox``."""
        return sum(s.waiting_bytes for s in self._all_shares if s.inbox is inbox)

    # -- other threads ---------------------------------------------------------------------------

    def submit(self, raw: Prepared) -> None:
        """Queue one event from a non-trio thread; never raises, waits only within bounds."""
        shares = self._shares.get(raw[1], ())
        size = raw[7]
        wake = False
        with self._lock:
            if self.closed:
                self.rejected += 1
                return
            items = self._items
            if len(items) >= YIELD_BACKLOG and self._progress != self._stale:
                self._yield_to_pump()
            keep: tuple[_Share, ...] | None = None
            for share in shares:
                if not share.bounded or share.fits(size):
                    continue
                admit = self._overflow(share, raw[1], size)
                if admit is None:  # closed while waiting
                    self.rejected += 1
                    return
                if not admit:
                    share.drops[raw[1]] = share.drops.get(raw[1], 0) + 1
                    self._drops_waiting = True
                    keep = tuple(s for s in (shares if keep is None else keep) if s is not share)
            if not shares or (keep is not None and not keep):
                self._unrouted += 1
                self._drops_waiting = True
            elif len(items) >= self._limit:
                self.rejected += 1
                return
            else:
                for share in shares if keep is None else keep:
                    share.charged += 1
                    share.charged_bytes += size
                items.append((raw, keep))
            if not self._wake_pending:
                self._wake_pending = wake = True
            if self._notify_due:
                self._notify_due = False
                self._cond.notify_all()
        if wake:
            self._wake()

    def _reject(self, count: int = 1) -> None:
        with self._lock:
            self.rejected += count

    def _yield_to_pump(self) -> None:
        """Wait (lock held) until the pump has moved the backlog down, within bounds."""
        if IN_SINK.get():
            return
        progress = self._progress
        low = YIELD_BACKLOG // 2
        self._waiters += 1
        try:
            self._cond.wait_for(lambda: self.closed or len(self._items) <= low, YIELD_SECONDS)
        finally:
            self._waiters -= 1
        if self._progress == progress:
            self._stale = progress  # the pump is not moving: do not wait again until it does

    def _overflow(self, share: _Share, level: int, size: int) -> bool | None:
        """The overflow policy for a full share (lock held): True admits the event, False
        drops it for this share, None means the hand-off closed while the thread waited."""
        timed_out = False
        if not IN_SINK.get() and not (share.block and _may_block()):
            # Back-pressure first: while the sink is moving, give it (and the GIL) a moment.
            moved = share.outflow()
            if moved != share.stale:
                self._waiters += 1
                try:
                    if self._cond.wait_for(lambda: self.closed or share.fits(size), ROOM_SECONDS):
                        return None if self.closed else True
                finally:
                    self._waiters -= 1
                if share.outflow() == moved:
                    share.stale = moved  # not moving: no more waiting until it does
        if share.block and _may_block():
            self._waiters += 1
            try:
                if self._cond.wait_for(
                    lambda: self.closed or share.fits(size), share.block_timeout
                ):
                    return None if self.closed else True
            finally:
                self._waiters -= 1
            timed_out = True
        if level >= share.never_drop:
            return share.bytes_fit(size)
        if share.block:
            return not timed_out and share.bytes_fit(size)
        if share.drop_newest:
            return False
        return len(share.inbox) > 0 and share.bytes_fit(size)

    def _wake(self) -> None:
        self.wakeups += 1
        try:
            self._token.run_sync_soon(self._set_wakeup)
        except trio.RunFinishedError:
            self._run_finished()

    def _run_finished(self) -> None:
        """The trio run ended: nothing will pump again; count what is left as rejected."""
        with self._cond:
            self.closed = True
            count = len(self._items)
            self._items.clear()
            self.rejected += count
            self._cond.notify_all()
        self._count_drops()

    # -- trio thread -----------------------------------------------------------------------------

    def _set_wakeup(self) -> None:
        self._wakeup.set()

    async def _run(self) -> None:
        """The pump task (a trio system task, started with the hand-off): pumps slices while
        events wait, with a checkpoint between two slices, and lingers :data:`LINGER_SECONDS`
        once the queue is empty, so a steady stream is moved in slices rather than with one
        wake-up (and one GIL hand-over) per event."""
        while not self.closed:
            await self._wakeup.wait()
            self._wakeup = trio.Event()
            while not self.closed:
                self._pump_slice()
                if self._stalled:  # resume() wakes the task; re-check now and then anyway
                    with trio.move_on_after(STALL_RECHECK_SECONDS):
                        await self._wakeup.wait()
                    self._wakeup = trio.Event()
                    continue
                if self._items:
                    await trio.lowlevel.checkpoint()
                    continue
                await trio.sleep(LINGER_SECONDS)
                if self._items or self._drops_waiting:
                    continue
                # Without the lock (producers hold it often; the trio thread must never wait
                # for it): a producer appends, then looks at the flag; here the flag is
                # cleared, then the queue looked at. One of the two sees the other.
                self._wake_pending = False
                if not (self._items or self._drops_waiting):
                    break
                self._wake_pending = True

    def _pump_slice(self) -> None:
        try:
            self._pump(SLICE_EVENTS, force=False)
        except Exception as exc:  # the pump task must never raise
            self._report(f"internal error in the thread hand-off: {exc!r}", key="handoff")

    def pump(self, *, force: bool = True) -> None:
        """Route the events waiting now into the inboxes (trio thread only).

        Forced (a plain call on the trio thread, ``flush``, shutdown): everything that was
        waiting when called, past full ``block`` inboxes. Not forced: one slice, stopping at an
        event whose ``block`` inbox is full (resumed by :meth:`resume`).
        """
        self._pump(len(self._items) if force else SLICE_EVENTS, force=force)

    def _pump(self, limit: int, *, force: bool) -> None:
        if self._drops_waiting:
            self._count_drops(wait=force)
        items = self._items
        shares_for = self._shares
        rt = self._rt
        blocking = self._blocking
        clock = time.perf_counter
        give_up = clock() + SLICE_SECONDS
        moved = 0
        stalled = False
        while moved < limit and items:
            raw, keep = items[0]
            level = raw[1]
            shares = shares_for.get(level, ()) if keep is None else keep
            if (
                blocking
                and not force
                and any(s.block and not s.target.has_room(raw[7]) for s in shares)
            ):
                stalled = True
                break
            items.popleft()
            moved += 1
            size = raw[7]
            for share in shares:
                share.pumped += 1
                share.pumped_bytes += size
            if not rt.accepting_handoff:
                self.rejected += 1
                continue
            self._deliver(raw, level, shares)
            if not moved & 31 and not force and clock() > give_up:
                break
        self._stalled = stalled
        self._progress += moved
        if self._waiters:
            self._notify()

    def _notify(self) -> None:
        """Wake the waiting producers, without waiting for the lock (trio thread): when a
        producer holds it, the next producer to release it does the notifying."""
        if self._lock.acquire(blocking=False):
            try:
                self._cond.notify_all()
            finally:
                self._lock.release()
        else:
            self._notify_due = True

    def _deliver(self, raw: Prepared, level: int, shares: tuple[_Share, ...]) -> None:
        """Finish one event and put it in its inboxes; a failure costs this event only."""
        rt = self._rt
        try:
            admitted = self._admit(raw)
        except Exception as exc:
            self._failed(exc, level, shares)
            return
        if admitted is None:
            return
        event, size = admitted
        rt.events += 1
        for share in shares:
            try:
                share.target.put_nowait(event, level, size)
            except Exception as exc:
                self._failed(exc, level, (share,))

    def _failed(self, exc: Exception, level: int, shares: tuple[_Share, ...]) -> None:
        self.failed += 1
        for share in shares:
            if share.bounded:
                share.inbox.refused({level: 1})
            else:
                self._rt.rejected += 1
        cause = type(exc).__qualname__
        if cause not in self._causes:  # once per cause; the drops themselves are all counted
            self._causes.add(cause)
            self._report(
                f"an event logged from a thread could not be processed (dropped): {exc!r}",
                key="handoff-item",
            )

    def _count_drops(self, *, wait: bool = True) -> None:
        """Count the drops made on producing threads at their inboxes (trio thread, or after
        the run): ``accepted`` and ``dropped`` together, so every snapshot balances. Unless
        ``wait``, a busy lock postpones this to the next slice."""
        if not self._lock.acquire(blocking=wait):
            return
        try:
            self._drops_waiting = False
            taken = [(s, s.drops) for s in self._all_shares if s.drops]
            for share, _ in taken:
                share.drops = {}
            unrouted, self._unrouted = self._unrouted, 0
        finally:
            self._lock.release()
        for share, drops in taken:
            share.inbox.refused(drops)
        self._rt.events += unrouted

    def resume(self) -> None:
        """An inbox made room (trio thread): continue a stalled pump, wake waiting threads."""
        if self._waiters:
            self._notify()
        if self._stalled:
            self._stalled = False
            self._wakeup.set()

    def close(self) -> None:
        """Stop accepting events (shutdown); waiting threads give up at once."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()
        self._wakeup.set()  # the pump task ends


def _admitter(runtime: Runtime) -> Callable[[Prepared], Any]:
    """The runtime's event builder finishes a raw tuple built on the producing thread."""
    return runtime.builder.admit


def _build_shares(runtime: Runtime) -> dict[int, tuple[_Share, ...]]:
    """One share per route target, the same object for every level that routes to it."""
    timeouts = {id(a.inbox): a.config.queue.block_timeout for a in runtime.actors.values()}
    made: dict[int, _Share] = {}
    shares: dict[int, tuple[_Share, ...]] = {}
    for level, targets in runtime.routes.items():
        row = []
        for target in targets:
            share = made.get(id(target))
            if share is None:
                inbox = getattr(target, "_inbox", target)
                if id(inbox) not in timeouts:
                    inbox = None  # an inline capture: unbounded
                timeout = timeouts.get(id(inbox), 1.0)
                share = made[id(target)] = _Share(target, inbox, timeout)
            row.append(share)
        shares[int(level)] = tuple(row)
    return shares
