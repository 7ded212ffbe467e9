"""Logging from threads: the hand-off, ordering, back-pressure, and thread-hosted loggers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import trio
import trio.testing

import logactors
from logactors import (
    BatchConfig,
    CustomSink,
    LogEvent,
    MemorySink,
    QueueConfig,
    SupervisorConfig,
)
from logactors.testing import capture

from .helpers import GateSink, RecordingSink, assert_balanced


async def test_many_producer_threads_keep_order_per_thread() -> None:
    """Events from several plain threads all arrive; each thread's events stay in order."""
    async with capture() as cap:
        log = cap.log

        def produce(worker: int) -> None:
            for n in range(500):
                log.info("w{worker} n{n}", worker=worker, n=n)

        threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        await trio.to_thread.run_sync(lambda: [t.join() for t in threads])
        await log.flush()
        handoff = log._rt.handoff
        assert handoff is not None
        wakeups = handoff.wakeups
    by_worker: dict[int, list[int]] = {}
    for event in cap.events:
        by_worker.setdefault(event.properties["worker"], []).append(event.properties["n"])
    assert by_worker == {w: list(range(500)) for w in range(4)}
    assert all(e.task.startswith("Thread") for e in cap.events)
    assert wakeups < 2000  # wake-ups are batched, not one per event


async def test_thread_events_before_to_thread_returns_come_first() -> None:
    """Events a worker thread logged before to_thread returned precede the caller's next."""
    async with capture() as cap:
        for round_ in range(20):
            await trio.to_thread.run_sync(lambda r=round_: cap.log.info("thread {r}", r=r))
            cap.log.info("trio {r}", r=round_)
    expected = [s for r in range(20) for s in (f"thread {r}", f"trio {r}")]
    assert cap.messages() == expected


async def test_thread_outliving_the_run_is_counted_never_raises() -> None:
    """A thread that keeps logging after the logger closed never raises; calls are counted."""
    stop = threading.Event()
    errors: list[BaseException] = []
    calls = 0

    def chatter(log: logactors.Logger) -> None:
        nonlocal calls
        while not stop.is_set():
            try:
                log.info("still here")
            except BaseException as exc:  # the assertion is that none occurs
                errors.append(exc)
            calls += 1
            time.sleep(0.001)

    async with logactors.open_logger(SupervisorConfig(sinks=[MemorySink(name="m")])) as log:
        thread = threading.Thread(target=chatter, args=(log,), daemon=True)
        thread.start()
        while calls < 20:
            await trio.sleep(0.001)
    after_close = calls
    while calls < after_close + 20:
        await trio.sleep(0.001)
    stop.set()
    thread.join()
    assert errors == []
    metrics = log.metrics()
    assert metrics.rejected >= 20
    assert metrics.sinks["m"].written + metrics.rejected + metrics.handoff_depth == calls


class SlowSink(RecordingSink):
    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        await trio.sleep(0.01)
        return await super().write_batch(events)


async def test_block_policy_applies_back_pressure_to_threads() -> None:
    """With overflow=block, a thread waits for room (nothing dropped) when the sink is slow."""
    sink = SlowSink()
    config = SupervisorConfig(
        sinks=[
            CustomSink(
                name="slow",
                sink=sink,
                queue=QueueConfig(max_events=20, overflow="block", block_timeout=30),
                batch=BatchConfig(max_events=10, max_delay=0),
            )
        ]
    )
    async with logactors.open_logger(config) as log:

        def produce() -> None:
            for n in range(300):
                log.info("n{n}", n=n)

        await trio.to_thread.run_sync(produce)
        await log.flush()
        metrics = log.metrics()
    assert metrics.rejected == 0
    assert metrics.sinks["slow"].dropped == 0
    assert sink.values("n") == list(range(300))
    assert max(len(b) for b in sink.batches) <= 10
    assert_balanced(metrics.sinks["slow"])


async def test_block_timeout_counts_a_drop_instead_of_waiting_forever() -> None:
    """A stalled block sink makes a thread wait at most block_timeout, then count a drop."""
    gate = GateSink()
    config = SupervisorConfig(
        sinks=[
            CustomSink(
                name="gate",
                sink=gate,
                queue=QueueConfig(max_events=5, overflow="block", block_timeout=0.05),
                batch=BatchConfig(max_events=1, max_delay=0),
            )
        ]
    )
    async with logactors.open_logger(config) as log:
        log.info("held at the gate")
        await trio.testing.wait_all_tasks_blocked()
        for n in range(5):
            log.info("queued {n}", n=n)  # the inbox is now full
        handoff = log._rt.handoff
        assert handoff is not None

        def produce() -> tuple[float, int]:
            log.info("first from thread")  # the pump stalls on it
            give_up = time.monotonic() + 10
            while not handoff._stalled and time.monotonic() < give_up:
                time.sleep(0.001)
            started = time.monotonic()
            for n in range(4):
                log.info("later {n}", n=n)
            return time.monotonic() - started, handoff.rejected

        took, rejected = await trio.to_thread.run_sync(produce)
        gate.release()
        await log.flush()
        metrics = log.metrics()
    assert rejected == 4
    assert took < 4 * 0.05 + 5  # each wait was bounded by block_timeout
    assert metrics.rejected == 4
    assert "first from thread" in gate.templates()  # stalled, not lost
    assert_balanced(metrics.sinks["gate"])


# -- start_in_thread ----------------------------------------------------------------------------


def test_start_in_thread_from_plain_threads_and_asyncio(tmp_path: Path) -> None:
    """The thread-hosted logger works from threads and asyncio; close() drains and reports."""
    import asyncio

    path = tmp_path / "hosted.clef"
    log = logactors.start_in_thread(
        SupervisorConfig(sinks=[logactors.FileSink(name="file", path=str(path), format="clef")])
    )
    try:
        log.info("main {n}", n=0)
        threads = [
            threading.Thread(target=lambda w=w: [log.info("t {w}", w=w) for _ in range(50)])
            for w in range(3)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        async def from_asyncio() -> None:
            await log.ainfo("asyncio {x}", x=1)
            with log.context(request="r1"):
                log.bind(part="b").warning("ctx")

        asyncio.run(from_asyncio())
        assert log.flush(timeout=10)
        assert path.read_text().count("\n") == 153
    finally:
        report = log.close(timeout=5)
    assert report is not None and report.ok
    assert report.sinks["file"].written == 153
    assert log.close() is report  # idempotent
    log.info("after close")  # counted, never raised
    assert log.metrics().rejected == 1


def test_flush_timeout_reports_false_on_a_stuck_sink() -> None:
    """flush(timeout) returns False when the sink cannot finish in time."""
    gate = GateSink()
    log = logactors.start_in_thread(SupervisorConfig(sinks=[CustomSink(name="g", sink=gate)]))
    log.info("stuck")
    assert log.flush(timeout=0.2) is False
    report = log.close(timeout=0.2)
    assert report is not None
    assert report.sinks["g"].lost == 1


SCRIPT_ATEXIT = textwrap.dedent(
    """
    import sys, logactors
    log = logactors.start_in_thread(logactors.SupervisorConfig(sinks=[logactors.FileSink(
        name="f", path=sys.argv[1], format="clef",
        batch=logactors.BatchConfig(max_delay=10))]))
    for i in range(1000):
        log.info("event {i}", i=i)
    """
)

SCRIPT_FORK = textwrap.dedent(
    """
    import os, sys, logactors
    log = logactors.start_in_thread(logactors.SupervisorConfig(sinks=[logactors.FileSink(
        name="f", path=sys.argv[1], format="clef")]))
    log.info("parent before fork")
    log.flush(5)
    pid = os.fork()
    if pid == 0:
        log.info("child")
        report = log.close(5)
        os._exit(0 if report is not None and report.sinks["f"].written == 1 else 3)
    log.info("parent after fork")
    _, status = os.waitpid(pid, 0)
    report = log.close(5)
    sys.exit(os.waitstatus_to_exitcode(status) or (0 if report.sinks["f"].written == 2 else 4))
    """
)


def test_atexit_drains_what_is_left(tmp_path: Path) -> None:
    """A script that never closes its logger still gets every event written at exit."""
    path = tmp_path / "exit.clef"
    subprocess.run([sys.executable, "-c", SCRIPT_ATEXIT, str(path)], check=True, timeout=60)
    assert path.read_text().count("\n") == 1000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_restarts_its_supervisor(tmp_path: Path) -> None:
    """After fork the child logs through a fresh supervisor thread of its own."""
    path = tmp_path / "fork.clef"
    result = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", SCRIPT_FORK, str(path)],
        timeout=60,
    )
    assert result.returncode == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert sum('"child"' in line for line in lines) == 1
