"""Memory with a stalled sink, in a process of its own (a clean RSS baseline).

A custom sink whose ``write_batch`` never returns holds its first batch forever, so everything
logged after it stays queued until ``QueueConfig(max_bytes=..., overflow="drop_oldest")`` evicts
the oldest. ``max_events`` is set far above what fits, so the byte cap is the bound under test.
After logging ``--events`` events the child prints one JSON line: RSS growth (``VmRSS``), peak
growth (``VmHWM``), the queue's depth and estimated bytes, and bytes per queued event both as
estimated by logactors and as measured (RSS growth / depth). The logger is then left with the
``immediate`` strategy (the queued events are counted as lost).

``python -m benchmarks.memory_child --events 5000000 --max-bytes 67108864``
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Sequence

import trio

import logactors
from logactors import (
    CustomSink,
    LogEvent,
    QueueConfig,
    RetryConfig,
    ShutdownConfig,
    SupervisorConfig,
)

from ._util import peak_rss_bytes, rss_bytes


class StalledSink:
    """A sink whose writes never complete (until cancelled at shutdown)."""

    def __init__(self) -> None:
        self.calls = 0

    async def open(self) -> None:
        """Nothing to open."""

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        """Block forever."""
        self.calls += 1
        await trio.sleep_forever()

    async def flush(self) -> None:
        """Nothing buffered."""

    async def aclose(self) -> None:
        """Nothing to close."""


async def measure(events: int, max_bytes: int, yield_every: int) -> dict[str, object]:
    """Log ``events`` events into a stalled sink capped at ``max_bytes``."""
    sink = StalledSink()
    config = SupervisorConfig(
        min_level="info",
        sinks=[
            CustomSink(
                name="stalled",
                sink=sink,
                queue=QueueConfig(max_events=10**9, max_bytes=max_bytes, overflow="drop_oldest"),
                breaker=None,
                retry=RetryConfig(attempts=1),
                write_timeout=86_400.0,
            )
        ],
        shutdown=ShutdownConfig(strategy="immediate"),
    )
    async with logactors.open_logger(config) as log:
        await trio.lowlevel.checkpoint()
        gc.collect()
        rss0 = rss_bytes()
        peak0 = peak_rss_bytes()
        t0 = time.perf_counter_ns()
        for start in range(0, events, yield_every):
            for i in range(start, min(start + yield_every, events)):
                log.info("Processing request {id} for {user}", id=i, user="bob")
            await trio.lowlevel.checkpoint()
        elapsed_ns = time.perf_counter_ns() - t0
        rss1 = rss_bytes()
        peak1 = peak_rss_bytes()
        m = log.metrics().sinks["stalled"]
        leave0 = time.perf_counter()
    leave_s = time.perf_counter() - leave0
    growth = rss1 - rss0
    depth = m.queue_depth
    return {
        "events": events,
        "max_bytes": max_bytes,
        "rss_before_bytes": rss0,
        "rss_after_bytes": rss1,
        "rss_growth_bytes": growth,
        "peak_growth_bytes": peak1 - peak0 if peak0 else None,
        "queue_depth": depth,
        "queue_bytes": m.queue_bytes,
        "estimated_bytes_per_event": m.queue_bytes / depth if depth else None,
        "measured_bytes_per_event": growth / depth if depth else None,
        "accepted": m.accepted,
        "dropped": m.dropped,
        "caller_ns_per_event": elapsed_ns / events,
        "stalled_writes": sink.calls,
        "immediate_shutdown_s": leave_s,
        "python": sys.version.split()[0],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print one JSON line with the measurement."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory_child")
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--max-bytes", type=int, default=64 * 1024 * 1024)
    parser.add_argument("--yield-every", type=int, default=1000)
    args = parser.parse_args(argv)
    result = trio.run(measure, args.events, args.max_bytes, args.yield_every)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
