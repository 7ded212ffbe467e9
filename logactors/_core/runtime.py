"""The root supervisor: owns the sink actors, routes events, runs flush and shutdown.

Supervision. The runtime owns one :class:`~logactors._core.restart.RestartSupervisor`: an
actor whose sink crashes asks it whether to restart the sink or to mark it dead, and does what
it decides.

Lifecycle. :func:`start_logger` builds every sink (configuration problems raise here, before
anything runs) and starts the supervisor task in the caller's nursery. The supervisor task opens
an inner nursery for the actors and starts them one by one; start-up is cancellable (a caller
cancelled while sinks open gets a closed logger with its report, promptly). Once started, each
actor runs in its own *shielded* cancel scope, so that an outer cancellation cannot interrupt a
drain. The supervisor then waits until :meth:`Runtime.aclose` is called or its nursery is
cancelled, and in either case runs :meth:`Runtime.shutdown` under a shield:

1. close intake (plain calls now count as rejected), pump the thread hand-off one last time;
2. close the inboxes of sinks nobody falls back to; each fallback closes once every sink that
   routes to it has finished, so it can still take their last failures;
3. wait for the actors until the deadline (``graceful``: ``timeout``; ``flush``: none;
   ``immediate``: now), then stop the rest: a write under way gets ``spool_timeout`` to finish
   (so ``written`` is what reached the sink), what they still hold is spooled (within
   ``spool_timeout``) or counted as lost;
4. build the :class:`~logactors.ShutdownReport`.

A second ``KeyboardInterrupt`` during the drain switches to ``immediate``. :func:`open_logger`
re-raises the body's exception (or that second interrupt) as the same object, never wrapped in
the group of its own nursery.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from os import PathLike
from typing import TYPE_CHECKING, Any

import trio

from .._capture import Builder, Capture
from .._enrich import compile_filters, dynamic_enricher, per_call_builtins, static_properties
from .._events import LogEvent
from .._levels import parse_level
from .._selflog import SelfLog
from ..config import SupervisorConfig
from ..formatting._shared import SharedFormatters
from ..metrics import MetricsSnapshot, ShutdownReport, SinkMetrics
from ..sinks import sink_factory
from .actor import SinkActor
from .handoff import Handoff
from .restart import RestartSupervisor
from .router import RoutingTable, SyncCapture, routing_table
from .spool import Spool

if TYPE_CHECKING:
    from .._logger import Logger

ConfigSource = SupervisorConfig | Mapping[str, Any] | str | PathLike[str] | None


def coerce_config(config: ConfigSource) -> SupervisorConfig:
    """Accept a config object, a mapping, a TOML/JSON path, or None (console at info)."""
    if config is None:
        return SupervisorConfig()
    if isinstance(config, SupervisorConfig):
        return config
    from ..config import load_config

    return load_config(config)


class Runtime:
    """One running logger: configuration, actors, routing tables, counters and shutdown."""

    def __init__(self, config: SupervisorConfig, *, captures: tuple[SyncCapture, ...] = ()) -> None:
        self.config = config
        self.self_log = SelfLog(config.self_log)
        self.min_level: int = config.min_level
        self.max_event_bytes = config.max_event_bytes
        self.closed = False
        self.accepting_handoff = True
        self.events = 0
        self.rejected = 0
        #: the one event builder (capture, redaction, enrichers, size; filters and sequence
        #: in ``admit``), shared by every way into the logger
        self.builder = Builder(
            Capture(config.capture, config.redact, config.max_event_bytes),
            enrich=dynamic_enricher(config.enrichers),
            builtin_enrichers=per_call_builtins(config.enrichers),
            keep=compile_filters(config.filters, self.self_log),
            sequence="sequence" in config.enrichers,
            max_event_bytes=config.max_event_bytes,
            report=self.self_log,
            trace=config.trace_context,
        )
        self.redactor = self.builder.capture.redactor
        #: configuration and constant enricher properties, captured once
        self.static_properties: dict[str, object] = self.builder.bound(
            {**static_properties(config.enrichers), **config.properties}
        )
        self.captures = captures
        #: decides, per sink, whether a crashed sink restarts or is marked dead
        self.restarts = RestartSupervisor(config.restart)
        self.actors: dict[str, SinkActor] = {}
        #: file sinks writing the same format encode each event once (fan-out)
        self.formatters = SharedFormatters()
        # (every sink announced to ``formatters`` before the first is built)
        factories = [sink_factory(sink, self.formatters) for sink in config.sinks]
        for sink, factory in zip(config.sinks, factories, strict=True):
            spool = Spool(sink.spool, self.self_log) if sink.spool is not None else None
            self.actors[sink.name] = SinkActor(
                sink,
                factory,
                spool=spool,
                supervisor=self.restarts,
                self_log=self.self_log,
                latency_window=config.metrics.latency_window,
                spool_timeout=config.shutdown.spool_timeout,
            )
        for actor in self.actors.values():
            if actor.config.fallback is not None:
                actor.fallback = self.actors[actor.config.fallback]
                actor.fallback.sources.append(actor)
        self.order = _topological(list(self.actors.values()))
        self.routes: RoutingTable = routing_table(
            captures,
            [
                (
                    actor.inbox,
                    actor.config.min_level,
                    compile_filters(
                        actor.config.filters, self.self_log, f"sinks[{actor.name}].filters"
                    ),
                )
                for actor in self.actors.values()
            ],
        )
        self.thread_id = -1
        #: the trio thread while the logger takes events, -1 once closed (one comparison on
        #: the hot path answers both "is this the trio thread?" and "still open?")
        self.gate_thread = -1
        #: overrides ``shutdown.timeout`` (``ThreadedLogger.close(timeout)``)
        self.shutdown_timeout: float | None = None
        self.handoff: Handoff | None = None
        self.report: ShutdownReport | None = None
        self._started_at = time.monotonic()
        self._stop = trio.Event()
        self._shutdown_started = False
        self._shutdown_done = trio.Event()
        self._interrupted = False
        #: the supervisor task has given out ``root`` (``task_status.started``)
        self.handed_over = False
        from .._logger import Logger, LoggerTypes

        #: this runtime's logger classes, which hold the level methods
        self.logger_types = LoggerTypes(self)
        self.root = Logger(self, "", {})

    # -- routing (trio thread) -------------------------------------------------------------------

    def route(self, event: LogEvent, level: int, size: int) -> None:
        """Send one event to every sink that takes its level (and passes its filters)."""
        self.events += 1
        for target in self.routes[level]:
            target.put_nowait(event, level, size)

    def internal_error(self, exc: BaseException) -> None:
        """A bug in logactors' front end: report it, never raise into the caller."""
        self.rejected += 1
        self.self_log(f"internal error while logging (event dropped): {exc!r}", key="internal")

    # -- levels ----------------------------------------------------------------------------------

    def set_level(self, level: object) -> None:
        """Change the logger gate for every logger of this runtime."""
        self.min_level = parse_level(level)
        self.logger_types.apply()

    # -- lifecycle -------------------------------------------------------------------------------

    @trio.lowlevel.enable_ki_protection
    async def run(self, *, task_status: trio.TaskStatus[Logger] = trio.TASK_STATUS_IGNORED) -> None:
        """The supervisor task (started with ``nursery.start``).

        Protected from ``KeyboardInterrupt``, which trio then delivers to the main task (the
        body of ``open_logger``). Cancelled during start-up, it shuts down what it started
        (promptly, nothing is queued yet) and hands over a closed logger with its report.
        """
        self.thread_id = threading.get_ident()
        token = trio.lowlevel.current_trio_token()
        self.handoff = Handoff(token, self)
        handoff = self.handoff
        for actor in self.actors.values():
            actor.inbox.on_room = handoff.resume
        self.gate_thread = self.thread_id
        self.logger_types.apply(rebuild=True)  # the level methods again, around the hand-off
        async with trio.open_nursery() as actors:
            try:
                await self._start_actors(actors)
            except BaseException as exc:
                # (trio may give the cancellation as a group holding only Cancelled)
                if not _only_cancelled(exc):
                    raise
                self.self_log("cancelled while starting: shut down at once")
                with trio.CancelScope(shield=True):
                    await self.shutdown()
                # Not moved into the caller's nursery (it is being cancelled): start() waits
                # for this task to return, then raises the caller's Cancelled.
                self.handed_over = True
                task_status.started(self.root)
                return
            try:
                from .._proxy import register

                unregister = register(self)
                try:
                    self.handed_over = True
                    task_status.started(self.root)
                    # Not moved when the caller is being cancelled (start() then waits for
                    # this task): shut down at once rather than wait for aclose.
                    await trio.lowlevel.checkpoint_if_cancelled()
                    await self._stop.wait()
                finally:
                    unregister()
            finally:
                with trio.CancelScope(shield=True):
                    await self.shutdown()

    async def _start_actors(self, actors: trio.Nursery) -> None:
        for actor in self.actors.values():
            await actor.open_spool()
            await actors.start(actor.run)

    @trio.lowlevel.enable_ki_protection
    async def aclose(self) -> None:
        """Shut down and wait until the report is ready (shielded).

        A ``KeyboardInterrupt`` while waiting (a second Ctrl-C during a slow drain) switches
        the shutdown to ``immediate``; it is re-raised once the report is built. Protected
        from ``KeyboardInterrupt`` elsewhere: raised in this frame's own code, it would leave
        the drain running with nobody to switch it to ``immediate``; trio delivers it to the
        wait below instead.
        """
        self._stop.set()
        interrupted: BaseException | None = None
        with trio.CancelScope(shield=True):
            while not self._shutdown_done.is_set():
                try:
                    await self._shutdown_done.wait()
                except KeyboardInterrupt as exc:
                    interrupted = interrupted or exc
                    self.interrupt()
        if interrupted is not None:
            raise interrupted

    def interrupt(self) -> None:
        """Switch a running shutdown to ``immediate``: stop writing, spool what is left."""
        if not self._interrupted:
            self._interrupted = True
            self.self_log("interrupted during shutdown: switching to immediate (spooling)")
        self._cancel_actors()

    async def flush(self) -> None:
        """Wait until every event accepted before the call has left the queues."""
        if self.closed:
            await trio.lowlevel.checkpoint()
            return
        if self.handoff is not None:
            self.handoff.pump(force=True)
        for actor in self.order:
            await actor.inbox.request_flush().wait()

    async def shutdown(self) -> None:
        """Drain, flush, cancel what is left, and build the report (see module docstring)."""
        if self._shutdown_started:
            await self._shutdown_done.wait()
            return
        self._shutdown_started = True
        began = time.perf_counter()
        settings = self.config.shutdown
        strategy = settings.strategy
        self.closed = True
        self.gate_thread = -1
        if self.handoff is not None:
            self.handoff.close()
            self.handoff.pump(force=True)
        self.accepting_handoff = False
        now = trio.current_time()
        timeout = settings.timeout if self.shutdown_timeout is None else self.shutdown_timeout
        deadline = {"graceful": now + timeout, "flush": math.inf}.get(strategy, now)
        interrupted: BaseException | None = None
        deadline_hit = False
        try:
            if strategy == "immediate":
                self._cancel_actors()
            with trio.move_on_at(deadline) as scope:
                for actor in self.order:
                    for source in actor.sources:
                        await _finished(source)
                    actor.inbox.close()
                for actor in self.order:
                    await _finished(actor)
            deadline_hit = scope.cancelled_caught and strategy != "immediate"
        except KeyboardInterrupt as exc:
            interrupted = exc
            self.interrupt()
        if deadline_hit:
            self._cancel_actors()
        for actor in self.order:
            actor.inbox.close()
        try:
            for actor in self.order:
                await _finished(actor)
        except KeyboardInterrupt as exc:  # pragma: no cover - a third interrupt
            interrupted = interrupted or exc
        for actor in self.actors.values():
            if actor.spool is not None:
                await trio.to_thread.run_sync(actor.spool.close)
        if self.handoff is not None:
            self.handoff._run_finished()
        if self._interrupted:
            strategy = "immediate"
            deadline_hit = False
        metrics = self.snapshot()
        lost = sum(m.lost for m in metrics.sinks.values())
        self.report = ShutdownReport(
            sinks=metrics.sinks,
            duration_s=round(time.perf_counter() - began, 6),
            lost=lost,
            strategy=strategy,
            deadline_hit=deadline_hit,
            events=metrics.events,
            rejected=metrics.rejected,
        )
        if lost or deadline_hit:
            self.self_log(
                f"shutdown: {lost} events lost{' (deadline hit)' if deadline_hit else ''}"
            )
        self._shutdown_done.set()
        if interrupted is not None:
            raise interrupted

    def _cancel_actors(self) -> None:
        """Stop every actor: no new writes; a write in progress gets ``spool_timeout`` to
        finish (so that what reached the sink is counted as written), then its batch and
        the queue are spooled or counted as lost."""
        for actor in self.order:
            actor.stop(self.config.shutdown.spool_timeout)

    # -- metrics ---------------------------------------------------------------------------------

    def snapshot(self) -> MetricsSnapshot:
        """All counters now."""
        sinks: dict[str, SinkMetrics] = {c.name: c.snapshot() for c in self.captures}
        sinks.update((name, actor.snapshot()) for name, actor in self.actors.items())
        handoff = self.handoff
        return MetricsSnapshot(
            sinks=sinks,
            events=self.events,
            rejected=self.rejected + (handoff.rejected if handoff is not None else 0),
            handoff_depth=len(handoff) if handoff is not None else 0,
            uptime_s=round(time.monotonic() - self._started_at, 3),
        )


async def _finished(actor: SinkActor) -> None:
    """Wait for an actor's task to end (at once for one that never started)."""
    if actor.started:
        await actor.finished.wait()
    else:
        await trio.lowlevel.checkpoint()


def _topological(actors: list[SinkActor]) -> list[SinkActor]:
    """Actors ordered so that every sink comes before its fallback."""
    order: list[SinkActor] = []
    placed: set[str] = set()

    def place(actor: SinkActor) -> None:
        if actor.name in placed:
            return
        for source in actor.sources:
            place(source)
        placed.add(actor.name)
        order.append(actor)

    for actor in actors:
        place(actor)
    return order


# ---------------------------------------------------------------------------------------------
# Public entry points.


async def start_logger(nursery: trio.Nursery, config: ConfigSource = None) -> Logger:
    """Start the root supervisor inside ``nursery`` and return its :class:`Logger`.

    ``await log.aclose()`` shuts it down, and so does cancellation of the nursery (the drain
    runs shielded and never raises into the nursery).

    Raises:
        ConfigError: the configuration is invalid or a sink cannot be built.
    """
    runtime = Runtime(coerce_config(config))
    logger: Logger = await nursery.start(_run_runtime, runtime)
    return logger


async def _run_runtime(
    runtime: Runtime, *, task_status: trio.TaskStatus[Logger] = trio.TASK_STATUS_IGNORED
) -> None:
    await runtime.run(task_status=task_status)


@asynccontextmanager
async def open_logger(config: ConfigSource = None) -> AsyncIterator[Logger]:
    """Run a logger for the duration of the ``async with`` block.

    ``config`` is a :class:`SupervisorConfig`, a mapping, a path to a ``.toml``/``.json`` file,
    or ``None`` (a console sink at info). Leaving the block (normally, by an exception, or by
    cancellation of the enclosing scope) shuts the logger down; ``log.report`` then holds the
    :class:`ShutdownReport`. An exception raised in the block propagates unchanged (never
    wrapped in an ``ExceptionGroup`` by logactors).
    """
    runtime = Runtime(coerce_config(config))
    async with _supervised(runtime) as logger:
        yield logger


@asynccontextmanager
@trio.lowlevel.enable_ki_protection
async def _supervised(runtime: Runtime) -> AsyncIterator[Logger]:
    """Run ``runtime`` around the block (see :func:`open_logger`).

    Protected from ``KeyboardInterrupt`` while its own code runs (the block is not: it runs in
    the caller's frame): a Ctrl-C between the block and the shutdown is then delivered to the
    shutdown's wait, which switches a drain to ``immediate``, instead of escaping with the
    drain still running.
    """
    raised: list[BaseException] = []  # by the body, then by the shutdown (a second Ctrl-C)
    to_raise: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            try:
                logger: Logger = await nursery.start(_run_runtime, runtime)
            except BaseException as exc:
                # (trio may give the cancellation as a group holding only Cancelled)
                if not _only_cancelled(exc):  # Ctrl-C while starting: raised as it is
                    raised.append(exc)
                    raise
                if not runtime.handed_over:
                    raise
                # Cancelled while starting: the block still runs (until its first checkpoint)
                # with the logger, closed already if its start-up was cut short, so that
                # ``log.report`` exists whatever happened.
                logger = runtime.root
            try:
                yield logger
            except BaseException as exc:
                raised.append(exc)
                raise
            finally:
                with trio.CancelScope(shield=True):
                    try:
                        await runtime.aclose()
                    except BaseException as exc:
                        raised.append(exc)
                        raise
    except BaseExceptionGroup as group:
        to_raise = _unwrap(group, raised)
        if to_raise is None:
            raise
    if to_raise is not None:
        try:
            raise to_raise
        finally:
            to_raise = None


def _only_cancelled(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_cancelled(e) for e in exc.exceptions)
    return isinstance(exc, trio.Cancelled)


def _unwrap(
    group: BaseExceptionGroup[BaseException], raised: list[BaseException]
) -> BaseException | None:
    """The exception to raise instead of the nursery's ``group``: the one the block raised
    (or the shutdown re-raised: a second Ctrl-C), as the same object, when nothing but
    cancellations is beside it; None when logactors must not hide what is in the group.

    The supervisor task never raises (its sinks' errors are theirs), so the group normally
    holds the block's exception alone.
    """
    rest = [e for e in group.exceptions if not _only_cancelled(e)]
    if not rest:
        if raised:
            return raised[-1]
        cancelled: BaseException = group
        while isinstance(cancelled, BaseExceptionGroup) and cancelled.exceptions:
            cancelled = cancelled.exceptions[0]
        return cancelled
    if len(rest) == 1:
        for exc in raised:
            if _same(rest[0], exc):
                return exc
    return None


def _same(seen: BaseException, raised: BaseException) -> bool:
    """Whether ``seen`` (in a nursery's group) is ``raised``: trio strips cancellations from
    the groups passing its cancel scopes by rebuilding them (``split``), so a group the body
    raised may come back as an equal copy holding the same leaves."""
    if seen is raised:
        return True
    if not (isinstance(seen, BaseExceptionGroup) and isinstance(raised, BaseExceptionGroup)):
        return False
    if type(seen) is not type(raised) or seen.message != raised.message:
        return False
    if len(seen.exceptions) != len(raised.exceptions):
        return False
    return all(_same(a, b) for a, b in zip(seen.exceptions, raised.exceptions, strict=True))
