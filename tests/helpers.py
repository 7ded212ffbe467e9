"""Fault-injecting sinks and small utilities shared by the tests.

All sinks here are pure trio (no worker threads), so timing tests can run on the autojump
clock: virtual time only advances when every task is blocked.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import trio

from logactors import Level, LogEvent, SinkError
from logactors.metrics import MetricsSnapshot, ShutdownReport, SinkMetrics


def built(
    log: Any,
    template: object,
    args: Sequence[object] = (),
    props: dict[str, Any] | None = None,
    *,
    bound: dict[str, Any] | None = None,
    config_properties: bool = False,
    task: str = "",
) -> tuple[LogEvent, int]:
    """The event (and its estimated size) that the runtime's one builder makes for an info
    call, ``Builder.prepare`` then ``admit``: what every faster path must queue. The
    runtime's configuration properties are merged when ``config_properties``; ``task``: the
    calling task's name."""
    rt = log._rt
    static = rt.static_properties if config_properties else {}
    prepared = rt.builder.prepare(
        0, Level.INFO, template, tuple(args), None, dict(props or {}), static, bound or {}, "", task
    )
    admitted = rt.builder.admit(prepared)
    assert admitted is not None
    event, size = admitted
    return event, size


class RecordingSink:
    """Records every batch written; optionally sleeps ``delay`` seconds per batch."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[LogEvent]] = []
        self.delay = delay
        self.opened = 0
        self.closed = 0
        self.flushed = 0

    @property
    def events(self) -> list[LogEvent]:
        return [e for batch in self.batches for e in batch]

    def templates(self) -> list[str]:
        return [e.template for e in self.events]

    def values(self, key: str) -> list[Any]:
        return [e.properties.get(key) for e in self.events]

    async def open(self) -> None:
        self.opened += 1

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        if self.delay:
            await trio.sleep(self.delay)
        self.batches.append(list(events))
        return 10 * len(events)

    async def flush(self) -> None:
        self.flushed += 1

    async def aclose(self) -> None:
        self.closed += 1


class ScriptedSink(RecordingSink):
    """Each write takes the next outcome from a script; when the script runs out, ``default``.

    Outcomes: ``"ok"``, ``"fail"`` (OSError), ``"permanent"`` (SinkError permanent),
    ``"crash"`` (RuntimeError: a bug), ``"hang"`` (sleeps forever), ``"slow:<seconds>"``.
    """

    def __init__(self, script: Iterable[str] = (), default: str = "ok") -> None:
        super().__init__()
        self.script = list(script)
        self.default = default
        self.attempts: list[tuple[str, int]] = []

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        outcome = self.script.pop(0) if self.script else self.default
        self.attempts.append((outcome, len(events)))
        if outcome == "fail":
            raise OSError("injected failure")
        if outcome == "permanent":
            raise SinkError("injected rejection", permanent=True)
        if outcome == "crash":
            raise RuntimeError("injected bug")
        if outcome == "hang":
            await trio.sleep_forever()
        if outcome.startswith("slow:"):
            await trio.sleep(float(outcome.split(":", 1)[1]))
        return await super().write_batch(events)


class GateSink(RecordingSink):
    """Blocks every write until ``release()`` (to build a backlog deterministically)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = trio.Event()
        self.waiting = 0

    def release(self) -> None:
        self.gate.set()

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        self.waiting += 1
        await self.gate.wait()
        self.waiting -= 1
        return await super().write_batch(events)


def assert_balanced(metrics: SinkMetrics, name: str = "") -> None:
    """The conservation law and the spool ledger hold for one sink."""
    assert metrics.balanced, (
        f"{name}: inflow {metrics.inflow} != outflow {metrics.outflow}: {metrics}"
    )
    assert metrics.spool_balanced, f"{name}: spool ledger broken: {metrics}"


def assert_all_balanced(snapshot: MetricsSnapshot | ShutdownReport) -> None:
    """:func:`assert_balanced` for every sink of a snapshot or a shutdown report."""
    for name, metrics in snapshot.sinks.items():
        assert_balanced(metrics, name)


async def recovered(condition: Any, *, step: float = 1.0, real_limit: float = 20.0) -> None:
    """Let virtual time pass (autojump clock) until ``condition()`` holds.

    For recovery that is driven by the clock (breaker reset, paced replay) and goes through
    worker threads (the spool), which the autojump clock cannot see: virtual time may race
    ahead while a thread runs, so tests wait for the outcome, not for a moment. The safety
    limit is therefore in real seconds.
    """
    give_up = time.monotonic() + real_limit
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"condition not reached within {real_limit} real seconds")
        await trio.sleep(step)
