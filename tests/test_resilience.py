"""Supervision: retry, breaker, fallback, spool and replay, restart, shutdown strategies."""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import logactors
from logactors import (
    BatchConfig,
    BreakerConfig,
    CustomSink,
    LogEvent,
    RestartPolicy,
    RetryConfig,
    ShutdownConfig,
    SpoolConfig,
    SupervisorConfig,
)

from .helpers import (
    GateSink,
    RecordingSink,
    ScriptedSink,
    assert_all_balanced,
    assert_balanced,
    recovered,
)

NO_JITTER = RetryConfig(attempts=1, initial_backoff=0.1, max_backoff=5.0, jitter=0)
ONE_BY_ONE = BatchConfig(max_events=1, max_delay=0)


def sink(name: str, obj: Any, **kwargs: Any) -> CustomSink:
    kwargs.setdefault("retry", NO_JITTER)
    kwargs.setdefault("batch", ONE_BY_ONE)
    return CustomSink(name=name, sink=obj, **kwargs)


def config(*sinks: CustomSink, **kwargs: Any) -> SupervisorConfig:
    kwargs.setdefault("self_log", "off")
    return SupervisorConfig(min_level="trace", sinks=sinks, **kwargs)


class TimedSink(ScriptedSink):
    """Records the trio time of each attempt."""

    def __init__(self, script: Sequence[str] = (), default: str = "ok") -> None:
        super().__init__(script, default)
        self.times: list[float] = []

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        self.times.append(trio.current_time())
        return await super().write_batch(events)


# -- retry ---------------------------------------------------------------------------------------


async def test_retry_uses_capped_exponential_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """attempts=5: 0.1, 0.2, 0.4, 0.5 (capped) between tries, then success."""
    target = TimedSink(["fail", "fail", "fail", "fail"])
    retry = RetryConfig(attempts=5, initial_backoff=0.1, max_backoff=0.5, jitter=0)
    async with logactors.open_logger(config(sink("s", target, retry=retry))) as log:
        log.info("x")
        await log.flush()
        metrics = log.metrics()
    gaps = [round(b - a, 6) for a, b in zip(target.times, target.times[1:], strict=False)]
    assert gaps == [0.1, 0.2, 0.4, 0.5]
    assert metrics.sinks["s"].written == 1
    assert metrics.sinks["s"].circuit == "closed"
    assert_all_balanced(metrics)


async def test_jitter_stays_within_its_fraction(autojump_clock: trio.testing.MockClock) -> None:
    """Jitter draws each delay within ±jitter of the nominal value."""
    target = TimedSink(["fail"] * 6)
    retry = RetryConfig(attempts=7, initial_backoff=1.0, max_backoff=1.0, jitter=0.25)
    async with logactors.open_logger(config(sink("s", target, retry=retry))) as log:
        log.info("x")
        await log.flush()
    gaps = [b - a for a, b in zip(target.times, target.times[1:], strict=False)]
    assert len(gaps) == 6
    assert all(0.75 <= g <= 1.25 for g in gaps)
    assert len({round(g, 9) for g in gaps}) > 1


async def test_permanent_failure_is_not_retried_and_never_spooled(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """SinkError(permanent=True): one attempt, counted as failed even with a spool."""
    target = ScriptedSink(default="permanent")
    retry = RetryConfig(attempts=5, jitter=0)
    spool = SpoolConfig(path=str(tmp_path / "s.spool"))
    async with logactors.open_logger(config(sink("s", target, retry=retry, spool=spool))) as log:
        log.info("rejected")
        await log.flush()
        metrics = log.metrics().sinks["s"]
    assert target.attempts == [("permanent", 1)]
    assert metrics.failed == 1 and metrics.spooled == 0
    assert_balanced(metrics)


async def test_write_timeout_counts_as_failure(autojump_clock: trio.testing.MockClock) -> None:
    """A hanging write_batch runs out of write_timeout and is a retryable failure."""
    target = ScriptedSink(["hang"])
    fallback = RecordingSink()
    async with logactors.open_logger(
        config(
            sink("s", target, write_timeout=2.0, fallback="fb"),
            sink("fb", fallback, min_level="off"),
        )
    ) as log:
        log.info("x")
        await log.flush()
        metrics = log.metrics()
    assert [a for a, _ in target.attempts] == ["hang"]
    assert fallback.templates() == ["x"]
    assert metrics.sinks["s"].rerouted == 1
    assert_all_balanced(metrics)


# -- breaker -------------------------------------------------------------------------------------


async def test_breaker_opens_half_opens_on_its_own_and_closes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """closed → open after N failures → half_open after reset_timeout (no traffic needed)
    → closed after one good batch; while open, no write is attempted."""
    target = TimedSink(["fail", "fail"])
    fallback = RecordingSink()
    breaker = BreakerConfig(failure_threshold=2, reset_timeout=5.0)
    lines: list[str] = []
    async with logactors.open_logger(
        config(
            sink("s", target, breaker=breaker, fallback="fb"),
            sink("fb", fallback, min_level="off"),
            self_log=lines.append,
        )
    ) as log:
        log.info("a")
        log.info("b")
        await log.flush()
        assert log.metrics().sinks["s"].circuit == "open"
        opened = trio.current_time()
        log.info("c")  # breaker open: straight to the fallback, no attempt
        await log.flush()
        assert len(target.attempts) == 2
        await trio.sleep(5.0)
        assert log.metrics().sinks["s"].circuit == "half_open"
        log.info("d")
        await log.flush()
        metrics = log.metrics()
    assert target.times[-1] >= opened + 5.0
    assert metrics.sinks["s"].circuit == "closed"
    assert target.templates() == ["d"]
    assert fallback.templates() == ["a", "b", "c"]
    assert any("circuit open" in line for line in lines)
    assert any("half-open" in line for line in lines)
    assert any("circuit closed" in line for line in lines)
    assert_all_balanced(metrics)


async def test_failed_probe_reopens_the_breaker(autojump_clock: trio.testing.MockClock) -> None:
    """A failure while half-open opens the breaker again at once."""
    target = ScriptedSink(["fail", "fail"])
    breaker = BreakerConfig(failure_threshold=1, reset_timeout=1.0)
    async with logactors.open_logger(config(sink("s", target, breaker=breaker))) as log:
        log.info("a")
        await log.flush()
        assert log.metrics().sinks["s"].circuit == "open"
        await trio.sleep(1.5)
        log.info("probe")
        await log.flush()
        assert log.metrics().sinks["s"].circuit == "open"
        metrics = log.metrics().sinks["s"]
    assert metrics.failed == 2
    assert_balanced(metrics)


# -- fallback ------------------------------------------------------------------------------------


async def test_fallback_chain_takes_events_whatever_its_min_level(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A → B → C: A and B fail, C (min_level off) writes A's events."""
    a, b, c = ScriptedSink(default="fail"), ScriptedSink(default="fail"), RecordingSink()
    async with logactors.open_logger(
        config(
            sink("a", a, fallback="b"),
            sink("b", b, fallback="c", min_level="critical"),
            sink("c", c, min_level="off"),
        )
    ) as log:
        for i in range(3):
            log.info("e{i}", i=i)
        await log.flush()
        metrics = log.metrics()
    assert c.values("i") == [0, 1, 2]
    m = metrics.sinks
    assert (m["a"].rerouted, m["b"].received, m["b"].rerouted, m["c"].received) == (3, 3, 3, 3)
    assert m["c"].written == 3 and m["c"].accepted == 0
    assert_all_balanced(metrics)


async def test_failed_chain_spools_to_the_first_sinks_spool(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """When the whole chain fails, events land in the spool of the sink that accepted them."""
    a, b = ScriptedSink(default="fail"), ScriptedSink(default="fail")
    spool = SpoolConfig(path=str(tmp_path / "a.spool"))
    async with logactors.open_logger(
        config(
            sink("a", a, fallback="b", spool=spool, breaker=None),
            sink("b", b, min_level="off"),
        )
    ) as log:
        log.info("x")
        log.info("y")
        await log.flush()
        metrics = log.metrics()
    m = metrics.sinks
    assert m["a"].spooled == 2 and m["a"].spool_depth == 2
    assert m["b"].rerouted == 2 and m["a"].received == 2
    assert m["a"].failed == 0
    assert_all_balanced(metrics)


async def test_failed_chain_without_spool_counts_failed_at_first_sink(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Without a spool, a failed chain counts the events as failed at the first sink."""
    a, b = ScriptedSink(default="fail"), ScriptedSink(default="fail")
    async with logactors.open_logger(
        config(sink("a", a, fallback="b"), sink("b", b, min_level="off"))
    ) as log:
        log.info("x")
        await log.flush()
        metrics = log.metrics()
    assert metrics.sinks["a"].failed == 1
    assert metrics.sinks["b"].failed == 0
    assert_all_balanced(metrics)


# -- spool and replay ----------------------------------------------------------------------------


async def test_spool_is_replayed_in_order_before_new_events(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """After a failure, newer events queue behind the spooled ones; replay (paced, then the
    half-open probe) delivers everything in order."""
    target = ScriptedSink(["fail"] * 3)
    spool = SpoolConfig(path=str(tmp_path / "s.spool"))
    breaker = BreakerConfig(failure_threshold=2, reset_timeout=2.0)
    async with logactors.open_logger(
        config(
            sink(
                "s",
                target,
                spool=spool,
                breaker=breaker,
                batch=BatchConfig(max_events=2, max_delay=0),
            ),
        )
    ) as log:
        for i in range(6):
            log.info("old {i}", i=i)
            await log.flush()
        m = log.metrics().sinks["s"]
        assert (m.spool_depth, m.written) == (6, 0)
        assert len(target.attempts) == 1  # later events queued behind without a write
        log.info("new")  # still behind the spooled ones
        await recovered(lambda: log.metrics().sinks["s"].spool_depth == 0)
        await log.flush()
        metrics = log.metrics()
    m = metrics.sinks["s"]
    assert [e.properties.get("i") for e in target.events] == [0, 1, 2, 3, 4, 5, None]
    assert target.templates()[-1] == "new"
    assert [a for a, _ in target.attempts] == ["fail", "fail", "fail", "ok", "ok", "ok", "ok"]
    assert (m.spooled, m.replayed, m.spool_depth, m.written) == (7, 7, 0, 7)
    assert m.circuit == "closed"
    assert_all_balanced(metrics)


async def test_spool_survives_restart_of_the_logger(tmp_path: Path) -> None:
    """What is on disk at exit is replayed by the next logger with the same spool."""
    path = str(tmp_path / "s.spool")
    failing = ScriptedSink(default="fail")
    async with logactors.open_logger(
        config(
            sink("s", failing, spool=SpoolConfig(path=path), breaker=None),
        )
    ) as log:
        for i in range(5):
            log.info("e{i}", i=i, payload={"nested": [i, "x"]})
        await log.flush()
    assert log.report is not None and log.report.sinks["s"].spool_depth == 5

    healthy = RecordingSink()
    async with logactors.open_logger(
        config(
            sink("s", healthy, spool=SpoolConfig(path=path)),
        )
    ) as log2:
        await recovered(lambda: log2.metrics().sinks["s"].spool_depth == 0, step=0.01)
        log2.info("after")
        await log2.flush()
        metrics = log2.metrics().sinks["s"]
    assert healthy.values("i") == [0, 1, 2, 3, 4, None]
    assert healthy.events[2].properties["payload"] == {"nested": [2, "x"]}
    assert (metrics.spool_inherited, metrics.replayed, metrics.spool_depth) == (5, 5, 0)
    assert_balanced(metrics)


async def test_spool_bound_drops_oldest_and_counts(tmp_path: Path) -> None:
    """Past max_bytes the oldest spooled records are dropped and counted."""
    failing = ScriptedSink(default="fail")
    spool = SpoolConfig(path=str(tmp_path / "s.spool"), max_bytes=2000)
    async with logactors.open_logger(
        config(
            sink("s", failing, spool=spool, breaker=None),
        )
    ) as log:
        for i in range(50):
            log.info("event number {i} with some padding text", i=i)
        await log.flush()
        metrics = log.metrics().sinks["s"]
    assert metrics.spool_dropped > 0
    assert metrics.spooled == 50
    assert metrics.spool_depth == 50 - metrics.spool_dropped
    assert os.path.getsize(tmp_path / "s.spool") <= 2000 * 1.5 + 8
    assert_balanced(metrics)


# -- restart -------------------------------------------------------------------------------------


async def test_crash_restarts_actor_and_retries_batch_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A bug in a sink restarts its actor; the batch in flight is retried once."""
    target = ScriptedSink(["crash"])
    lines: list[str] = []
    async with logactors.open_logger(config(sink("s", target), self_log=lines.append)) as log:
        log.info("survives")
        await log.flush()
        metrics = log.metrics().sinks["s"]
    assert target.templates() == ["survives"]
    assert metrics.restarts == 1 and metrics.written == 1
    assert target.opened == 2 and target.closed >= 2
    assert any("crashed; restarting" in line and "injected bug" in line for line in lines)
    assert_balanced(metrics)


async def test_batch_crashing_twice_is_counted_failed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A batch that crashes the sink again after the restart counts as failed."""
    target = ScriptedSink(["crash", "crash"])
    async with logactors.open_logger(config(sink("s", target))) as log:
        log.info("poison")
        log.info("fine")
        await log.flush()
        metrics = log.metrics().sinks["s"]
    assert target.templates() == ["fine"]
    assert (metrics.restarts, metrics.failed, metrics.written) == (2, 1, 1)
    assert_balanced(metrics)


async def test_restart_intensity_marks_sink_dead_and_routes_to_fallback(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Past max_restarts within window, the sink is dead; events go to its fallback; the
    other sinks never notice."""
    target = ScriptedSink(default="crash")
    fallback, bystander = RecordingSink(), RecordingSink()
    lines: list[str] = []
    async with logactors.open_logger(
        config(
            sink("s", target, fallback="fb"),
            sink("fb", fallback, min_level="off"),
            sink("other", bystander),
            restart=RestartPolicy(max_restarts=2, window=60),
            self_log=lines.append,
        )
    ) as log:
        for i in range(5):
            log.info("e{i}", i=i)
            await log.flush()
        metrics = log.metrics()
    m = metrics.sinks["s"]
    assert m.dead
    assert bystander.values("i") == [0, 1, 2, 3, 4]
    # e0 crashes twice (two restarts, then counted failed); e1's crash is one too many.
    assert fallback.values("i") == [1, 2, 3, 4]
    assert (m.written, m.failed, m.rerouted, m.restarts) == (0, 1, 4, 2)
    assert any("marked dead" in line for line in lines)
    assert_all_balanced(metrics)


# -- shutdown ------------------------------------------------------------------------------------


async def test_graceful_shutdown_bounded_by_deadline_with_stuck_sink(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A hanging sink cannot hang shutdown: at the deadline its events count as lost."""
    stuck = ScriptedSink(default="hang")
    healthy = RecordingSink()
    async with logactors.open_logger(
        config(
            sink("stuck", stuck, write_timeout=3600),
            sink("ok", healthy),
            shutdown=ShutdownConfig(timeout=2.0),
        )
    ) as log:
        for i in range(4):
            log.info("e{i}", i=i)
        started = trio.current_time()
    report = log.report
    assert report is not None
    assert trio.current_time() - started < 5
    assert report.deadline_hit
    assert report.sinks["stuck"].lost == 4 and report.lost == 4
    assert healthy.values("i") == [0, 1, 2, 3]
    assert_all_balanced(report)


async def test_deadline_spools_what_is_left_when_spool_configured(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """At the deadline, queued and in-flight events go to the spool instead of being lost."""
    stuck = ScriptedSink(default="hang")
    spool = SpoolConfig(path=str(tmp_path / "stuck.spool"))
    async with logactors.open_logger(
        config(
            sink("stuck", stuck, spool=spool, write_timeout=3600),
            shutdown=ShutdownConfig(timeout=1.0),
        )
    ) as log:
        for i in range(3):
            log.info("e{i}", i=i)
    report = log.report
    assert report is not None
    m = report.sinks["stuck"]
    assert (m.lost, m.spooled, m.spool_depth) == (0, 3, 3)
    assert report.lost == 0
    assert_balanced(m)


async def test_immediate_strategy_writes_nothing_and_spools(tmp_path: Path) -> None:
    """strategy=immediate spools what is queued without writing it."""
    gate = GateSink()
    spool = SpoolConfig(path=str(tmp_path / "g.spool"))
    async with logactors.open_logger(
        config(
            sink("g", gate, spool=spool, batch=BatchConfig(max_events=100, max_delay=0)),
            shutdown=ShutdownConfig(strategy="immediate"),
        )
    ) as log:
        for i in range(10):
            log.info("e{i}", i=i)
        await trio.testing.wait_all_tasks_blocked()
    report = log.report
    assert report is not None and report.strategy == "immediate"
    m = report.sinks["g"]
    assert gate.events == []
    assert (m.written, m.spooled, m.lost) == (0, 10, 0)
    assert_balanced(m)


async def test_flush_strategy_has_no_deadline(autojump_clock: trio.testing.MockClock) -> None:
    """strategy=flush waits for a slow sink however long it takes."""
    slow = RecordingSink(delay=100.0)
    async with logactors.open_logger(
        config(
            sink("slow", slow, write_timeout=1000),
            shutdown=ShutdownConfig(strategy="flush", timeout=1.0),
        )
    ) as log:
        for i in range(3):
            log.info("e{i}", i=i)
    assert log.report is not None and not log.report.deadline_hit
    assert slow.values("i") == [0, 1, 2]


async def test_cancelled_parent_scope_still_drains(autojump_clock: trio.testing.MockClock) -> None:
    """Cancelling the enclosing scope drains the queues under a shield."""
    slow = RecordingSink(delay=0.5)
    with trio.move_on_after(1.0) as scope:
        async with logactors.open_logger(config(sink("slow", slow))) as log:
            for i in range(5):
                log.info("e{i}", i=i)
            await trio.sleep_forever()
    assert scope.cancelled_caught
    assert slow.values("i") == [0, 1, 2, 3, 4]
    assert log.report is not None and log.report.ok


async def test_start_logger_in_user_nursery_drains_on_cancel(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """start_logger: cancelling the user's nursery shuts the logger down cleanly."""
    target = RecordingSink(delay=0.1)
    async with trio.open_nursery() as nursery:
        log = await logactors.start_logger(nursery, config(sink("s", target)))
        log.info("one")
        log.info("two")
        nursery.cancel_scope.cancel()
    assert target.templates() == ["one", "two"]
    assert log.report is not None and log.report.ok

    async with trio.open_nursery() as nursery:
        log = await logactors.start_logger(nursery, config(sink("s", RecordingSink())))
        log.info("x")
        await log.aclose()
    assert log.report is not None and log.report.sinks["s"].written == 1


async def test_user_exception_and_cancellation_are_not_wrapped() -> None:
    """Exceptions from the body, including KeyboardInterrupt, leave unwrapped."""
    for error in (ValueError("v"), KeyboardInterrupt()):
        with pytest.raises(type(error)) as info:
            async with logactors.open_logger(config(sink("s", RecordingSink()))):
                raise error
        assert info.value is error


async def test_fallback_stays_open_until_sources_drained(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """At shutdown a fallback keeps accepting until every sink routing to it has drained."""
    primary = ScriptedSink(["slow:1", "fail", "fail", "fail"], default="fail")
    fallback = RecordingSink()
    async with logactors.open_logger(
        config(
            sink("p", primary, fallback="fb", breaker=None),
            sink("fb", fallback, min_level="off"),
            shutdown=ShutdownConfig(timeout=30),
        )
    ) as log:
        for i in range(4):
            log.info("e{i}", i=i)
    assert log.report is not None
    assert fallback.values("i") == [1, 2, 3]
    assert primary.values("i") == [0]
    assert log.report.ok


@pytest.mark.parametrize("timeout", [0.0, math.inf])
async def test_report_always_built(timeout: float, autojump_clock: trio.testing.MockClock) -> None:
    """Whatever the deadline, the report exists and balances."""
    async with logactors.open_logger(
        config(
            sink("s", RecordingSink(delay=0.01)),
            shutdown=ShutdownConfig(timeout=timeout),
        )
    ) as log:
        for i in range(20):
            log.info("e{i}", i=i)
    assert log.report is not None
    assert_all_balanced(log.report)


async def test_dead_sink_with_spooled_events_stays_idle(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A sink marked dead while its spool holds events does not spin: virtual time advances
    and the rest of the logger keeps working."""
    target = ScriptedSink(["fail"], default="crash")
    spool = SpoolConfig(path=str(tmp_path / "d.spool"))
    other = RecordingSink()
    async with logactors.open_logger(
        config(
            sink("d", target, spool=spool, breaker=None),
            sink("other", other),
            restart=RestartPolicy(max_restarts=0, window=60),
        )
    ) as log:
        log.info("spooled")  # fails: spooled
        await log.flush()
        # the paced replay crashes the sink: dead, spool still full
        await recovered(lambda: log.metrics().sinks["d"].dead)
        before = trio.current_time()
        await trio.sleep(100)  # would never return if the dead actor spun
        assert trio.current_time() - before >= 100
        log.info("after")
        await log.flush()
        metrics = log.metrics()
    assert other.templates() == ["spooled", "after"]
    assert metrics.sinks["d"].spool_depth >= 1
    assert_all_balanced(metrics)


async def test_flush_is_not_fooled_by_rerouted_batches_served_first(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A fallback serves rerouted batches before its own queue; events rerouted *after* the
    flush call must not count towards it: flush returns only once the fallback's own earlier
    events are written too."""
    primary = ScriptedSink(default="fail")
    fallback = RecordingSink(delay=1.0)
    async with logactors.open_logger(
        config(
            sink("p", primary, fallback="fb", breaker=None),
            sink("fb", fallback),
        )
    ) as log:
        for i in range(5):
            log.info("before {i}", i=i)
        flushed = trio.Event()

        async def flush() -> None:
            await log.flush()
            flushed.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(flush)
            for i in range(20):  # keep the primary failing: reroutes keep arriving at fb
                await trio.sleep(0.3)
                if flushed.is_set():
                    break
                log.info("during {i}", i=i)
            await flushed.wait()
            written = [e.rendered for e in fallback.events]
            own_before = [f"before {i}" for i in range(5)]
            assert [w for w in written if w.startswith("before")].count("before 0") == 2
            assert all(written.count(m) == 2 for m in own_before), written


# -- a sink never reaches the caller ----------------------------------------------------------


class CustomInterrupt(BaseException):
    """A BaseException subclass of the sink's own (not an Exception)."""


HOSTILE = [
    pytest.param(lambda: asyncio.CancelledError(), id="asyncio.CancelledError"),
    pytest.param(lambda: KeyboardInterrupt(), id="KeyboardInterrupt"),
    pytest.param(lambda: SystemExit(3), id="SystemExit"),
    pytest.param(lambda: CustomInterrupt("custom"), id="custom-BaseException"),
    pytest.param(lambda: GeneratorExit(), id="GeneratorExit"),
    pytest.param(
        lambda: BaseExceptionGroup("sink's group", [KeyboardInterrupt(), OSError()]),
        id="BaseExceptionGroup",
    ),
]


class HostileSink(RecordingSink):
    """Raises ``make()`` from ``method`` ``times`` times (then behaves)."""

    def __init__(self, make: Any, method: str, times: int | float = 1) -> None:
        super().__init__()
        self.make = make
        self.method = method
        self.left = times

    def _maybe_raise(self, method: str) -> None:
        if method == self.method and self.left > 0:
            self.left -= 1
            raise self.make()

    async def open(self) -> None:
        self._maybe_raise("open")
        await super().open()

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        await trio.lowlevel.checkpoint()
        self._maybe_raise("write_batch")
        return await super().write_batch(events)

    async def flush(self) -> None:
        self._maybe_raise("flush")
        await super().flush()

    async def aclose(self) -> None:
        self._maybe_raise("aclose")
        await super().aclose()


async def _log_1000(hostile: HostileSink, **kwargs: Any) -> logactors.ShutdownReport:
    batch = BatchConfig(max_events=20, max_delay=0)
    async with logactors.open_logger(config(sink("h", hostile, batch=batch, **kwargs))) as log:
        for i in range(1000):
            log.info("event {i}", i=i)
            if i % 10 == 0:
                await trio.lowlevel.checkpoint()
        await log.flush()
    assert log.report is not None
    return log.report


@pytest.mark.parametrize("make", HOSTILE)
async def test_any_base_exception_from_write_is_the_sinks_crash(
    make: Any, autojump_clock: trio.testing.MockClock
) -> None:
    """A write raising any BaseException once (not the actor's own cancellation) is a crash of
    that sink: restart, the batch retried once; the body finishes and all 1000 are written."""
    hostile = HostileSink(make, "write_batch")
    report = await _log_1000(hostile)
    h = report.sinks["h"]
    assert_balanced(h)
    assert (h.accepted, h.written, h.restarts, h.failed) == (1000, 1000, 1, 0)
    assert [e.properties["i"] for e in hostile.events] == list(range(1000))


@pytest.mark.parametrize("make", HOSTILE)
async def test_sink_raising_base_exceptions_forever_ends_dead_not_in_the_body(
    make: Any, autojump_clock: trio.testing.MockClock
) -> None:
    """Always raising: restarts up to the intensity limit, then dead; every event is
    accounted for (failed), nothing reaches the body."""
    hostile = HostileSink(make, "write_batch", times=math.inf)
    report = await _log_1000(hostile)
    h = report.sinks["h"]
    assert_balanced(h)
    assert h.accepted == 1000 and h.written == 0 and h.failed == 1000
    assert h.dead


@pytest.mark.parametrize("method", ["open", "flush", "aclose"])
@pytest.mark.parametrize("make", HOSTILE)
async def test_base_exceptions_from_open_flush_aclose_stay_in_the_sink(
    make: Any, method: str, autojump_clock: trio.testing.MockClock
) -> None:
    """open/flush/aclose raising any BaseException: reported, never raised into the body;
    every event still written (an open that failed is retried at the first write)."""
    hostile = HostileSink(make, method)
    report = await _log_1000(hostile)
    h = report.sinks["h"]
    assert_balanced(h)
    assert (h.accepted, h.written) == (1000, 1000)
