"""Property tests: conservation of events, exactly-once delivery and order per sink, under
random interleavings of calls, failures, overflow, clock jumps, flushes and shutdown."""

from __future__ import annotations

import tempfile
from collections import Counter
from typing import Any

import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

import logactors
from logactors import (
    BatchConfig,
    BreakerConfig,
    CustomSink,
    Level,
    QueueConfig,
    RestartPolicy,
    RetryConfig,
    ShutdownConfig,
    SpoolConfig,
    SupervisorConfig,
)
from logactors.metrics import SinkMetrics

from .helpers import ScriptedSink

LEVELS = st.sampled_from(list(Level))
OUTCOMES = st.sampled_from(["ok", "ok", "ok", "ok", "fail", "permanent", "crash", "slow:0.3"])
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("log"), LEVELS, st.integers(1, 40)),
        st.tuples(st.just("alog"), LEVELS, st.integers(1, 5)),
        st.tuples(st.just("thread"), LEVELS, st.integers(1, 20)),
        st.tuples(st.just("flush")),
        st.tuples(st.just("sleep"), st.sampled_from([0.0, 0.05, 0.5, 3.0, 20.0])),
    ),
    max_size=20,
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "operations": draw(OPERATIONS),
        "primary": draw(st.lists(OUTCOMES, max_size=30)),
        "fallback": draw(st.lists(OUTCOMES, max_size=10)),
        "use_fallback": draw(st.booleans()),
        "use_spool": draw(st.booleans()),
        "queue": QueueConfig(
            max_events=draw(st.integers(1, 25)),
            overflow=draw(st.sampled_from(["drop_oldest", "drop_newest", "block"])),
            never_drop_level=draw(LEVELS),
            max_bytes=draw(st.sampled_from([None, 4000, 20000])),
        ),
        "batch": BatchConfig(
            max_events=draw(st.integers(1, 10)),
            max_delay=draw(st.sampled_from([0.0, 0.1, 1.0])),
        ),
        "attempts": draw(st.integers(1, 3)),
        "breaker": draw(
            st.sampled_from([None, BreakerConfig(failure_threshold=2, reset_timeout=1.0)])
        ),
        "shutdown": ShutdownConfig(
            strategy=draw(st.sampled_from(["graceful", "flush", "immediate"])),
            timeout=draw(st.sampled_from([0.0, 0.5, 10.0])),
        ),
    }


def check(metrics: SinkMetrics, name: str, where: str) -> None:
    assert metrics.balanced, f"{where}: {name} unbalanced: {metrics}"
    assert metrics.spool_balanced, f"{where}: {name} spool ledger broken: {metrics}"


@given(scenarios())
def test_conservation_exactly_once_and_order(scenario: dict[str, Any]) -> None:
    """After every step: accepted + received + replayed == outflows + queue_depth, per sink;
    at the end: no event written twice, each sink writes its own events in order."""
    primary = ScriptedSink(scenario["primary"])
    fallback = ScriptedSink(scenario["fallback"])
    retry = RetryConfig(attempts=scenario["attempts"], initial_backoff=0.05, max_backoff=0.2)
    with tempfile.TemporaryDirectory() as directory:
        spool = SpoolConfig(path=f"{directory}/p.spool") if scenario["use_spool"] else None
        sinks = [
            CustomSink(
                name="p",
                sink=primary,
                queue=scenario["queue"],
                batch=scenario["batch"],
                retry=retry,
                breaker=scenario["breaker"],
                spool=spool,
                fallback="fb" if scenario["use_fallback"] else None,
                write_timeout=2.0,
            )
        ]
        if scenario["use_fallback"]:
            sinks.append(
                CustomSink(
                    name="fb",
                    sink=fallback,
                    min_level="off",
                    retry=retry,
                    batch=scenario["batch"],
                    write_timeout=2.0,
                )
            )
        config = SupervisorConfig(
            min_level="trace",
            sinks=sinks,
            shutdown=scenario["shutdown"],
            restart=RestartPolicy(max_restarts=3, window=60),
            self_log="off",
        )
        counter = iter(range(1_000_000))
        report = trio.run(
            _drive,
            config,
            scenario["operations"],
            counter,
            clock=trio.testing.MockClock(autojump_threshold=0),
        )

    for name, metrics in report.sinks.items():
        check(metrics, name, "after shutdown")
        assert metrics.queue_depth == 0
    written = [e for e in primary.events + fallback.events if e.logger != "logactors"]
    ids = Counter(e.properties["id"] for e in written)
    duplicates = [i for i, n in ids.items() if n > 1]
    assert not duplicates, f"written more than once: {duplicates}"
    p = report.sinks["p"]
    own = [e.properties["id"] for e in primary.events if e.logger != "logactors"]
    if not scenario["use_fallback"]:
        assert own == sorted(own), "primary wrote its events out of order"
    rerouted = [e.properties["id"] for e in fallback.events]
    assert rerouted == sorted(rerouted), "fallback wrote rerouted events out of order"
    total_written = p.written + (report.sinks["fb"].written if "fb" in report.sinks else 0)
    assert len(written) == total_written  # drop notices are written but counted nowhere


async def _drive(
    config: SupervisorConfig, operations: list[tuple[Any, ...]], counter: Any
) -> logactors.ShutdownReport:
    async with logactors.open_logger(config) as log:
        for op in operations:
            kind = op[0]
            if kind == "log":
                for _ in range(op[2]):
                    log.log(op[1], "event {id}", id=next(counter))
            elif kind == "alog":
                for _ in range(op[2]):
                    await log.alog(op[1], "event {id}", id=next(counter))
            elif kind == "thread":
                ids = [next(counter) for _ in range(op[2])]

                def in_thread(level: Level = op[1], ids: list[int] = ids) -> None:
                    for i in ids:
                        log.log(level, "event {id}", id=i)

                await trio.to_thread.run_sync(in_thread)
            elif kind == "flush":
                await log.flush()
            else:
                await trio.sleep(op[1])
            await trio.testing.wait_all_tasks_blocked()
            for name, metrics in log.metrics().sinks.items():
                check(metrics, name, f"after {op}")
    assert log.report is not None
    return log.report


@given(
    batches=st.lists(st.integers(1, 50), min_size=1, max_size=10),
    delays=st.lists(st.sampled_from([0.0, 0.01, 0.2]), min_size=1, max_size=10),
    max_events=st.integers(1, 64),
)
def test_order_is_kept_per_sink(batches: list[int], delays: list[float], max_events: int) -> None:
    """A healthy sink writes every event in the order it was logged, whatever the batching."""
    sink = ScriptedSink()

    async def main() -> list[int]:
        config = SupervisorConfig(
            min_level="trace",
            sinks=[
                CustomSink(
                    name="s",
                    sink=sink,
                    queue=QueueConfig(max_events=100_000),
                    batch=BatchConfig(max_events=max_events, max_delay=0.05),
                )
            ],
        )
        n = 0
        async with logactors.open_logger(config) as log:
            for size, delay in zip(batches, delays * len(batches), strict=False):
                for _ in range(size):
                    log.info("{n}", n=n)
                    n += 1
                await trio.sleep(delay)
        return [e.properties["n"] for e in sink.events]

    written = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert written == list(range(sum(batches)))
