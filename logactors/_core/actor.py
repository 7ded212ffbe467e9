"""One sink actor: a trio task that owns an inbox, batches events and writes them.

The actor classifies what its sink raises (``OSError``/``SinkError``: write failures; anything
else, any ``BaseException`` included: a crash of that sink, never raised further) and handles
its write failures: retry with capped exponential backoff, the circuit breaker, rerouting to the
fallback, spooling, replay of the spool, and the shutdown abandonment. After a crash it asks the
runtime's :class:`~logactors._core.restart.RestartSupervisor` whether to restart or to stop writing
(dead), and does what it is told.

Actors hand events to each other through methods of the receiving actor
(:meth:`SinkActor.accept_rerouted`, :meth:`SinkActor.accept_diverted`), and each one writes only
its own counters. Every event that leaves the queue is counted exactly once, so the
conservation law holds whenever the actor is idle (and after shutdown):

    accepted + received + replayed == written + rerouted + spooled + dropped + failed + lost
                                      + queue_depth
"""

from __future__ import annotations

import collections
import enum
import math
import random
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

import trio

from .._events import EventTuple, LogEvent, as_events, drop_notice
from ..exceptions import SinkError
from ..metrics import Counters, SinkMetrics
from ..sinks.base import late_reporter, rejection_reporter, takes_plain_tuples
from .breaker import CircuitBreaker
from .handoff import IN_SINK
from .inbox import Inbox, InboxClosed, Rerouted
from .restart import Dead

if TYPE_CHECKING:
    from ..config import SinkConfig
    from ..sinks.base import Sink
    from .restart import RestartSupervisor
    from .spool import Spool

#: Estimated bytes per rerouted event (exact sizes are not kept once a batch is taken).
REROUTED_EVENT_BYTES = 512


class Outcome(enum.Enum):
    """How a write attempt sequence ended."""

    OK = "ok"
    FAILED = "failed"
    PERMANENT = "permanent"


class Accepted(enum.Enum):
    """What the sink that first accepted diverted events did with them."""

    SPOOLED = "spooled"
    FAILED = "failed"
    LOST = "lost"


class Crashed(Exception):
    """The sink raised something that is not a write failure: a bug; restart the actor."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


def _classify(exc: BaseException) -> Outcome | None:
    """FAILED/PERMANENT for write failures, None for crashes (bugs)."""
    if isinstance(exc, SinkError):
        return Outcome.PERMANENT if exc.permanent else Outcome.FAILED
    if isinstance(exc, OSError):
        return Outcome.FAILED
    if isinstance(exc, BaseExceptionGroup):
        kinds = {_classify(e) for e in exc.exceptions}
        if None in kinds:
            return None
        return Outcome.PERMANENT if Outcome.PERMANENT in kinds else Outcome.FAILED
    return None


class SinkActor:
    """The actor of one sink (created and supervised by the root supervisor)."""

    def __init__(
        self,
        config: SinkConfig,
        factory: Callable[[], Sink],
        *,
        spool: Spool | None,
        supervisor: RestartSupervisor,
        self_log: Callable[..., None],
        latency_window: int,
        spool_timeout: float = 1.0,
    ) -> None:
        self.config = config
        self.name = config.name
        self._factory = factory
        self.sink: Sink = factory()
        self.counters = Counters()
        self.inbox = Inbox(config.queue, self.counters)
        self.spool = spool
        self.fallback: SinkActor | None = None
        self.sources: list[SinkActor] = []
        self._supervisor = supervisor
        self._self_log = self_log
        self.breaker = CircuitBreaker(config.breaker, self._report_breaker)
        self.latencies: collections.deque[float] = collections.deque(maxlen=latency_window)
        self.dead = False
        self.finished = trio.Event()
        #: set once the task runs: the shutdown waits only for actors that started
        self.started = False
        self.scope = trio.CancelScope(shield=True)
        self._write_scope: trio.CancelScope | None = None
        #: seconds to spool what is left once stopped (``shutdown.spool_timeout``)
        self.spool_timeout = spool_timeout
        self._opened = False
        self._retry: tuple[list[LogEvent], SinkActor | None] | None = None
        self._retried_after_restart = False
        #: the error of a write that failed permanently, said by ``_divert`` with its events' fate
        self._permanent = ""
        self._in_flight: tuple[list[LogEvent], SinkActor | None] | None = None
        self._replay_after = -math.inf
        #: records in the spool, as counted on the trio thread (the spool object itself is
        #: updated from worker threads; the metrics read this mirror so they always balance)
        self.spool_depth = 0
        self._random = random.Random()

    # -- reporting -------------------------------------------------------------------------------

    def log(self, message: str, *, key: str | None = None) -> None:
        """A self-log line about this sink."""
        self._self_log(f"sink {self.name!r}: {message}", key=key and f"{self.name}:{key}")

    def _report_breaker(self, message: str) -> None:
        self.log(message)

    def snapshot(self) -> SinkMetrics:
        """This sink's metrics now."""
        latencies = sorted(self.latencies)
        return SinkMetrics(
            **self.counters.values(),
            queue_depth=self.inbox.depth,
            queue_bytes=self.inbox.bytes + self.inbox.rerouted_count * REROUTED_EVENT_BYTES,
            spool_depth=self.spool_depth,
            spool_inherited=self.spool.inherited if self.spool else 0,
            latency_p50_ms=_percentile(latencies, 0.50),
            latency_p99_ms=_percentile(latencies, 0.99),
            circuit=self.breaker.current_state,
            dead=self.dead,
        )

    # -- the task --------------------------------------------------------------------------------

    @trio.lowlevel.enable_ki_protection
    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The actor task.

        Start-up (opening the sink) is not shielded: a caller cancelled while the logger
        starts stops it promptly. Once started (moved into the supervisor's nursery) the actor
        runs in its shielded ``self.scope``, which only :meth:`stop` cancels.
        """
        IN_SINK.set(True)  # this task's context only: marks everything it does as sink work
        self.started = True
        try:
            with trio.move_on_after(self.config.write_timeout):
                await self._open_sink()
            task_status.started()
            # started() leaves the task where it was when the caller is being cancelled
            # (nursery.start would then wait for it forever): leave now, unshielded.
            await trio.lowlevel.checkpoint_if_cancelled()
            with self.scope:
                try:
                    await self._supervise()
                except BaseException as exc:
                    self._last_resort(exc)
        finally:
            with trio.CancelScope(shield=True) as cleanup:
                cleanup.deadline = trio.current_time() + self.spool_timeout
                await self._abandon()
            self.finished.set()

    def _last_resort(self, exc: BaseException) -> None:
        """Something escaped the supervision loop: re-raise the actor's own cancellation,
        report anything else once and stop this sink (never raised into the supervisor)."""
        if isinstance(exc, trio.Cancelled):
            raise exc
        if isinstance(exc, BaseExceptionGroup):
            cancelled, rest = exc.split(trio.Cancelled)
            if rest is not None:
                self._last_resort(rest)
            if cancelled is not None:
                raise cancelled
            return
        self.dead = True
        details = "".join(traceback.format_exception(exc)).rstrip()
        self.log(f"stopped by an unexpected error: marked dead.\n{details}")

    def stop(self, grace: float) -> None:
        """Cancel the actor (shutdown deadline, ``immediate``, interrupt); its queue is then
        spooled or counted as lost. A write already in progress gets up to ``grace`` seconds
        to finish, so that what it wrote is counted as written."""
        self.scope.cancel()
        write = self._write_scope
        if write is not None:
            write.deadline = min(write.deadline, trio.current_time() + grace)

    async def _supervise(self) -> None:
        while True:
            try:
                await self._loop()
                return
            except Crashed as crash:
                await self._after_crash(crash)

    async def _loop(self) -> None:
        inbox = self.inbox
        batch_config = self.config.batch
        if self._retry is not None:
            batch, origin = self._retry
            self._retry = None
            await self._deliver(batch, origin)
            self._retried_after_restart = False
        while True:
            await self._housekeeping()
            rerouted = inbox.take_rerouted()
            if rerouted is not None:
                await self._deliver(rerouted.events, rerouted.origin)
                continue
            if self._replay_due():
                await self._replay_one()
                continue
            count = len(inbox)
            if count == 0:
                if inbox.closed:
                    await self._housekeeping()
                    return
                await inbox.wait(1, self._timer())
                continue
            if count < batch_config.max_events and not inbox.urgent and batch_config.max_delay:
                await inbox.wait(
                    batch_config.max_events, trio.current_time() + batch_config.max_delay
                )
            taken = inbox.take(batch_config.max_events, batch_config.max_bytes)
            await self._deliver(self._for_sink(taken), None)
            # ``taken`` keeps the batch until the next take, so its events are freed just
            # before the sink builds the next batch's records: CPython's young-generation count
            # (allocations less frees, never below zero) sees these frees offset the new
            # allocations, where frees made after a collection would count for nothing. The
            # events of a sink that shares its batches with other sinks (a file sink with a
            # shared encoder, which frees them just before it encodes again) are let go now:
            # kept here, they would outlive the next encoding (architecture: fan-out).
            if getattr(self.sink, "shares_batches", False) is True:
                taken = []
            await trio.lowlevel.checkpoint()

    def _for_sink(self, taken: list[EventTuple]) -> list[LogEvent]:
        """Queued events as this sink takes them: LogEvents, or the plain tuples themselves
        for a sink whose batch path only unpacks them (``takes_plain_tuples``). Plain tuples
        never go further: ``_divert`` and ``spool_events`` convert what they pass on."""
        if takes_plain_tuples(self.sink):
            return cast("list[LogEvent]", taken)  # (a LogEvent unpacks as its plain tuple)
        return as_events(taken)

    async def _housekeeping(self) -> None:
        self.breaker.poll()
        if self.inbox.flush_due:
            await self._sink_call("flush")
            self.inbox.release_due_flushes()

    def _timer(self) -> float:
        """When the actor must wake on its own: the breaker's half-open time, or when a
        paced replay of the spool becomes due (never for a dead sink: nothing is due)."""
        if self.dead:
            return math.inf
        if self.breaker.state == "open":
            return self.breaker.reopen_at
        if self.spool_depth:
            return max(self._replay_after, trio.current_time())
        return math.inf

    # -- delivery --------------------------------------------------------------------------------

    async def _deliver(self, batch: list[LogEvent], origin: SinkActor | None) -> None:
        """Write one batch taken from the inbox (own events, or rerouted from ``origin``).

        The batch stays "in flight" until it is counted: if a crash or the shutdown deadline
        interrupts this, ``_after_crash`` or ``_abandon`` takes it over.
        """
        self._in_flight = (batch, origin)
        if origin is None and self.spool_depth and await self.spool_events(batch):
            self.counters.spooled += len(batch)  # older events wait there: queue behind them
        elif self.dead or not self.breaker.allows_write():
            await self._divert(batch, origin, permanent=False)
        else:
            notice = self.inbox.take_drop_notice() if origin is None else {}
            to_write: Sequence[LogEvent] = [drop_notice(notice), *batch] if notice else batch
            try:
                outcome, written_bytes = await self._attempt(to_write)
            except BaseException:
                self.inbox.restore_drop_notice(notice)
                raise
            if outcome is Outcome.OK:
                rejected = self._take_rejected(len(batch))
                self.counters.written += len(batch) - rejected
                self.counters.failed += rejected
                self.counters.batches += 1
                self.counters.bytes += written_bytes
            else:
                self.inbox.restore_drop_notice(notice)
                await self._divert(batch, origin, permanent=outcome is Outcome.PERMANENT)
        self._in_flight = None
        self.inbox.finished(len(batch))

    async def _attempt(self, batch: Sequence[LogEvent]) -> tuple[Outcome, int]:
        """Write with retries; returns the outcome and bytes written. Raises Crashed."""
        retry = self.config.retry
        failure: BaseException | None = None
        kind: Outcome | None = Outcome.FAILED
        for attempt in range(1, retry.attempts + 1):
            await trio.lowlevel.checkpoint_if_cancelled()  # stopped: no new write starts
            started = time.perf_counter()
            written = await self._write_once(batch)
            if isinstance(written, BaseException):
                failure = written
                kind = _classify(written)
                if kind is None:
                    raise Crashed(written) from written
            else:
                self.latencies.append((time.perf_counter() - started) * 1000.0)
                self.breaker.success()
                self._replay_after = -math.inf
                return Outcome.OK, written
            if kind is Outcome.PERMANENT:  # no retry: said once, with the events' fate
                self._permanent = f"{type(failure).__name__}: {failure}"
                break
            self.log(
                f"write of {len(batch)} events failed (attempt {attempt}/{retry.attempts}): "
                f"{type(failure).__name__}: {failure}",
                key="write",
            )
            if attempt < retry.attempts:
                await trio.sleep(self._backoff(attempt, failure))
        self.breaker.failure()
        # Pace the next replay of the spool (the breaker paces it once it opens); meanwhile
        # newer events queue behind in the spool.
        self._replay_after = trio.current_time() + retry.max_backoff
        return (Outcome.PERMANENT if kind is Outcome.PERMANENT else Outcome.FAILED), 0

    async def _write_once(self, batch: Sequence[LogEvent]) -> int | BaseException:
        """One write (opening the sink first if needed): bytes written, or what it raised.

        The write runs shielded, bounded by ``write_timeout``: stopping the actor shortens
        that deadline (:meth:`stop`) rather than cancelling a write that may already have
        reached the sink, so what the sink wrote is counted as written. Anything the sink
        raises, any ``BaseException`` (``KeyboardInterrupt``, ``SystemExit``, asyncio's
        ``CancelledError``, a stray ``trio.Cancelled``), is returned as this sink's failure:
        none of the actor's own cancellations can reach into the shielded write.
        """
        write = trio.CancelScope(
            shield=True, deadline=trio.current_time() + self.config.write_timeout
        )
        outcome: int | BaseException = 0
        with write:
            self._write_scope = write
            try:
                if not self._opened:
                    await self._open_sink(raise_failure=True)
                written = await self.sink.write_batch(batch)
                outcome = written if isinstance(written, int) else 0
            except Crashed as crash:
                outcome = crash.error
            except BaseException as exc:
                if isinstance(exc, trio.Cancelled) and write.cancel_called:
                    raise  # our deadline: caught by ``write`` just below
                outcome = exc
            finally:
                self._write_scope = None
        self._take_late()
        if write.cancelled_caught:
            if self.scope.cancel_called:
                await trio.lowlevel.checkpoint()  # stopped during the write: abandon it
            return TimeoutError(
                f"write_batch took longer than write_timeout={self.config.write_timeout:g}s"
            )
        return outcome

    def _take_late(self) -> None:
        """Events of an earlier batch that this sink counted failed or passed on (its write
        timed out) but whose write completed afterwards, as the sink learnt when it settled that
        write (``SinkBase.take_late``): counted in ``late_written``, said once."""
        reporter = late_reporter(self.sink)
        if reporter is None:
            return
        try:
            late = max(0, int(reporter.take_late()))
        except Exception as exc:  # a sink's bug must not stop the actor
            self.log(f"take_late failed: {type(exc).__name__}: {exc}", key="late")
            return
        if late:
            self.counters.late_written += late
            if not self.counters.late_written - late:  # the first time only; then the counter
                self.log(
                    f"{late} events whose write timed out reached the destination after all"
                    " (they were counted failed, rerouted or spooled; late_written counts them)",
                    key="late",
                )

    def _take_rejected(self, limit: int) -> int:
        """Events of the batch just written that the peer accepted but discarded (a sink may
        report them with ``take_rejected() -> (count, messages)``: OTLP partial success);
        counted as failed by the caller, the peer's messages go to the self-log."""
        reporter = rejection_reporter(self.sink)
        if reporter is None:
            return 0
        try:
            count, messages = reporter.take_rejected()
            rejected = max(0, min(int(count), limit))
        except Exception as exc:  # a sink's bug must not unbalance the counters
            self.log(f"take_rejected failed: {type(exc).__name__}: {exc}", key="rejected")
            return 0
        for message in messages:
            self.log(f"peer: {message}", key="peer")
        if rejected:
            self.log(
                f"{rejected} events rejected by the peer (partial success): counted as failed",
                key="rejected",
            )
        return rejected

    def _backoff(self, attempt: int, failure: BaseException | None) -> float:
        """Capped exponential backoff with jitter; a peer's ``retry_after`` is honoured up to
        ``max(max_backoff, 30 s)``."""
        retry = self.config.retry
        delay = min(retry.max_backoff, retry.initial_backoff * 2 ** (attempt - 1))
        if retry.jitter:
            delay *= 1 + retry.jitter * (2 * self._random.random() - 1)
        wanted: object = getattr(failure, "retry_after", None)
        if isinstance(wanted, int | float) and wanted > delay:
            delay = min(float(wanted), max(retry.max_backoff, 30.0))
        return max(0.0, float(delay))

    async def _divert(
        self, batch: list[LogEvent], origin: SinkActor | None, *, permanent: bool
    ) -> None:
        """Send events this sink could not write onwards: fallback, else the origin's spool,
        else count them as failed at the origin."""
        batch = as_events(batch)  # (plain tuples of a sink that takes them go no further)
        count = len(batch)
        fallback = self.fallback
        # a permanent failure is said once, here, with where its events went
        reason, self._permanent = (self._permanent, "") if permanent else ("", self._permanent)
        # (a fallback that already gave up (shutdown) refuses: handled as a failed chain)
        if fallback is not None and await fallback.accept_rerouted(batch, origin or self):
            self.counters.rerouted += count
            if reason:
                self.log(
                    f"write failed permanently ({reason}): {count} events rerouted", key="write"
                )
            return
        target = origin if origin is not None else self
        accepted = await target.accept_diverted(batch, sender=self, permanent=permanent)
        if target is not self:
            self.counters.rerouted += count
        if accepted is Accepted.SPOOLED:
            if reason:
                self.log(
                    f"write failed permanently ({reason}): {count} events spooled", key="write"
                )
            return
        if permanent:
            self.log(
                f"{count} events rejected permanently (no fallback): counted as failed"
                + (f" ({reason})" if reason else ""),
                key="failed",
            )
        else:
            self.log(
                f"{count} events could not be written (no fallback or spool): counted as failed",
                key="failed",
            )

    async def accept_rerouted(self, batch: list[LogEvent], origin: SinkActor) -> bool:
        """Queue a batch that another sink could not write (this sink is its fallback),
        waiting for room; ``origin`` is the sink that first accepted the events. Counted as
        ``received`` here (the sender counts it as ``rerouted`` when this returns True).

        Returns:
            False when this sink no longer takes rerouted batches (it gave up at shutdown).
        """
        await self.inbox.wait_room()
        try:
            self.inbox.put_rerouted(Rerouted(batch, len(batch) * REROUTED_EVENT_BYTES, origin))
        except InboxClosed:
            return False
        return True

    async def accept_diverted(
        self,
        batch: Sequence[LogEvent],
        *,
        sender: SinkActor,
        permanent: bool = False,
        abandoned: bool = False,
    ) -> Accepted:
        """Take back events this sink first accepted, which ``sender`` (this sink, or the
        last fallback they were rerouted to) could not write and cannot pass on: spool them,
        else count them as failed (as lost when ``abandoned`` at shutdown). Events from
        another sink are counted as ``received`` here; the sender counts them as ``rerouted``
        and reports what happened (the returned value) in its self-log lines.

        Args:
            batch: the events.
            sender: the actor that hands them back.
            permanent: the sink rejected them for good: never spooled.
            abandoned: shutdown: a cancelled spool append counts them as lost.
        """
        stored = False
        if not permanent:
            try:
                stored = await self.spool_events(batch)
            except trio.Cancelled:
                if not abandoned:
                    raise
        count = len(batch)
        if sender is not self:
            self.counters.received += count
        if stored:
            self.counters.spooled += count
            return Accepted.SPOOLED
        if abandoned:
            self.counters.lost += count
            return Accepted.LOST
        self.counters.failed += count
        return Accepted.FAILED

    async def open_spool(self) -> None:
        """Open this sink's spool before the actor starts: what it holds is replayed, its
        damaged records count as ``spool_dropped``; a spool that cannot be opened is left
        out (reported)."""
        spool = self.spool
        if spool is None:
            return
        try:
            await trio.to_thread.run_sync(spool.open)
            self.spool_depth = spool.depth
            self.counters.spool_dropped += spool.corrupt  # damaged records
        except OSError as exc:
            self.log(f"spool cannot be opened ({exc}); running without it")
            self.spool = None

    async def spool_events(self, batch: Sequence[LogEvent]) -> bool:
        """Append to this sink's spool; True if stored (the caller counts ``spooled``)."""
        spool = self.spool
        if spool is None:
            return False
        try:
            dropped = await trio.to_thread.run_sync(
                spool.append, as_events(batch), abandon_on_cancel=False
            )
        except OSError as exc:
            self.log(f"spool append failed: {exc}", key="spool")
            return False
        self.spool_depth += len(batch) - dropped
        if dropped:
            self.counters.spool_dropped += dropped
            self.log(f"spool over max_bytes: {dropped} oldest events dropped", key="spool-drop")
        return True

    # -- replay ----------------------------------------------------------------------------------

    def _replay_due(self) -> bool:
        spool = self.spool
        if spool is None or self.spool_depth == 0 or self.dead or self.inbox.closed:
            return False
        if trio.current_time() < self._replay_after:
            return False
        return self.breaker.allows_write()

    async def _replay_one(self) -> None:
        spool = self.spool
        assert spool is not None
        limit = self.config.batch.max_events
        batch = await trio.to_thread.run_sync(spool.read, limit)
        if not batch:
            return
        try:
            outcome, written_bytes = await self._attempt(batch)
        except BaseException:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(spool.release)
            raise
        # The outcome is decided: the bookkeeping that follows must not be cancelled (a
        # written batch left uncommitted would be replayed again by the next run).
        with trio.CancelScope(shield=True):
            if outcome is Outcome.FAILED:
                await trio.to_thread.run_sync(spool.release)
                return
            consumed = await trio.to_thread.run_sync(spool.commit, len(batch))
        self.spool_depth -= consumed
        self.counters.replayed += consumed
        if outcome is Outcome.OK:
            rejected = self._take_rejected(consumed)
            self.counters.written += consumed - rejected
            self.counters.failed += rejected
            self.counters.batches += 1
            self.counters.bytes += written_bytes
            return
        # Permanently rejected: never back to the spool; fallback or failed.
        replayed = list(batch[len(batch) - consumed :])
        if self.fallback is not None:
            self.inbox.adopt(len(replayed))  # in flight (queue_depth) while being rerouted
            self._in_flight = (replayed, None)
            await self._divert(replayed, None, permanent=True)
            self._in_flight = None
            self.inbox.finished(len(replayed))
        else:
            reason, self._permanent = self._permanent, ""
            self.counters.failed += consumed
            self.log(
                f"{consumed} replayed events rejected permanently: counted as failed"
                + (f" ({reason})" if reason else "")
            )

    # -- restart ---------------------------------------------------------------------------------

    async def _after_crash(self, crash: Crashed) -> None:
        """Do what the supervisor decides: restart the sink, or mark it dead.

        The batch in flight stays in flight (so a shutdown deadline here cannot lose track of
        it) until it is diverted, handed to the retry after the restart, or counted as failed.
        """
        error = crash.error
        details = "".join(traceback.format_exception(error)).rstrip()
        decision = self._supervisor.on_crash(self, error)
        if isinstance(decision, Dead):
            self.dead = True
            self.log(
                f"crashed {decision.crashes} times within {decision.window:g}s "
                f"(max_restarts={decision.max_restarts}): marked dead; its events now go "
                f"to the fallback or spool.\n{details}"
            )
            if self._in_flight is not None:
                batch, origin = self._in_flight
                await self._divert(batch, origin, permanent=False)
                self._in_flight = None
                self.inbox.finished(len(batch))
            await self._sink_call("aclose")
            return
        self.log(f"crashed; restarting the actor.\n{details}", key="crash")
        await self._sink_call("aclose")
        try:
            self.sink = self._factory()
        except Exception as exc:
            self.log(f"could not rebuild the sink: {exc!r}")
        self._opened = False
        self.counters.restarts += 1
        with trio.move_on_after(self.config.write_timeout):
            await self._open_sink()
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is None:
            return
        batch, _origin = in_flight
        if self._retried_after_restart:
            self._retried_after_restart = False
            self.counters.failed += len(batch)
            self.inbox.finished(len(batch))
            self.log(f"{len(batch)} events crashed the sink twice: counted as failed")
        else:
            self._retry = in_flight  # still in flight: retried once after the restart
            self._retried_after_restart = True

    # -- sink calls ------------------------------------------------------------------------------

    async def _open_sink(self, *, raise_failure: bool = False) -> None:
        if self._opened:
            return
        try:
            await self.sink.open()
        except trio.Cancelled:
            raise
        except BaseException as exc:  # any BaseException of the sink is its own failure
            if _classify(exc) is None:
                if raise_failure:
                    raise Crashed(exc) from exc
                self.log(f"open() raised {type(exc).__name__}: {exc}")
                return
            if raise_failure:
                raise
            self.log(f"could not open: {type(exc).__name__}: {exc} (will retry)", key="open")
            return
        self._opened = True

    async def _sink_call(self, method: str) -> None:
        """Call ``flush``/``aclose`` on the sink; failures go to the self-log only."""
        function = getattr(self.sink, method, None)
        if function is None or (method == "flush" and not self._opened):
            return
        try:
            with trio.move_on_after(self.config.write_timeout):
                await function()
        except trio.Cancelled:
            raise
        except BaseException as exc:  # any BaseException of the sink is its own failure
            self.log(f"{method}() raised {type(exc).__name__}: {exc}", key=method)
        if method == "aclose":
            self._opened = False
            self._take_late()  # a timed-out write the close waited for may have completed

    # -- shutdown --------------------------------------------------------------------------------

    async def _abandon(self) -> None:
        """After a drain or at the deadline: spool or count as lost what is still here.

        Events are grouped by the sink that accepted them (rerouted ones belong to their
        origin's spool) and each group is spooled in one worker-thread call.
        """
        groups: list[tuple[list[LogEvent], SinkActor | None]] = []
        if self._in_flight is not None:
            groups.append(self._in_flight)
            self._in_flight = None
        if self._retry is not None:
            groups.append(self._retry)
            self._retry = None
        own, rerouted = self.inbox.take_all_remaining()
        if own:  # (plain tuples among them become LogEvents only if spooled: spool_events)
            groups.append((cast("list[LogEvent]", own), None))
        groups.extend((r.events, r.origin) for r in rerouted)
        by_target: dict[int, tuple[SinkActor, list[LogEvent]]] = {}
        for batch, origin in groups:
            target = origin if origin is not None else self
            by_target.setdefault(id(target), (target, []))[1].extend(batch)
        for target, events in by_target.values():
            accepted = await target.accept_diverted(events, sender=self, abandoned=True)
            count = len(events)
            if target is not self:
                self.counters.rerouted += count
            if accepted is Accepted.LOST:
                self.log(f"shutdown: {count} events abandoned (lost)")
            self.inbox.finished(count)
        self.inbox.release_all_flushes()
        await self._sink_call("flush")
        await self._sink_call("aclose")


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return round(sorted_values[index], 3)
