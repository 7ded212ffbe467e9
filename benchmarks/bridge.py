"""``python -m benchmarks.bridge [--calls N] [--rounds R]``: the stdlib bridge per record.

On the trio thread, one stdlib logger (``propagate=False``) with one handler logs
``lib.info("GET %s -> %d", "/api", 200)``:

* ``bridge``: :class:`logactors.stdlib.LogactorsHandler` into a logger with a ``NullSink``;
* ``queue``: stdlib :class:`logging.handlers.QueueHandler` into a ``SimpleQueue``;
* ``none``: a handler whose ``handle`` does nothing (record creation and dispatch only).

Rounds interleave the three; queues are drained between timed blocks (not timed). Time is this
thread's CPU time (``time.thread_time_ns``), which other processes on a busy machine do not
inflate. Printed:
the median ns per call of each and the bridge/QueueHandler ratios, each the median of per-round
ratios: of the whole call, of the handler's own share (call minus ``none``) and of
``handler.handle(record)`` on a prepared record. The ratios are the figures to read (wall time
on a shared machine is not), each measured in this one process run.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import queue
import statistics
import time
from typing import Any

import trio

import logactors
from logactors import NullSink, SupervisorConfig
from logactors.stdlib import LogactorsHandler


class _Nothing(logging.Handler):
    def handle(self, record: logging.LogRecord) -> bool:
        return True

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - never called
        pass


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    lib = logging.getLogger(name)
    lib.handlers = [handler]
    lib.propagate = False
    lib.setLevel(logging.INFO)
    return lib


def _calls(lib: logging.Logger, n: int) -> int:
    info = lib.info
    start = time.thread_time_ns()
    for _ in range(n):
        info("GET %s -> %d", "/api", 200)
    return time.thread_time_ns() - start


def _handles(handler: logging.Handler, record: logging.LogRecord, n: int) -> int:
    handle = handler.handle
    start = time.thread_time_ns()
    for _ in range(n):
        handle(record)
    return time.thread_time_ns() - start


async def run(calls: int, rounds: int) -> dict[str, Any]:
    """Time the three handlers; returns medians in ns per call and the ratios."""
    config = SupervisorConfig(sinks=[NullSink(name="null")])
    async with logactors.open_logger(config) as log:
        simple: queue.SimpleQueue[Any] = queue.SimpleQueue()
        handlers: dict[str, logging.Handler] = {
            "bridge": LogactorsHandler(log),
            "queue": logging.handlers.QueueHandler(simple),
            "none": _Nothing(),
        }
        loggers = {key: _logger(f"bench.bridge.{key}", h) for key, h in handlers.items()}
        # One record per handler: QueueHandler.prepare sets ``message`` on the record it gets.
        records = {
            key: logging.getLogger("bench").makeRecord(
                "bench", logging.INFO, __file__, 1, "GET %s -> %d", ("/api", 200), None
            )
            for key in handlers
        }
        per_call: dict[str, list[float]] = {key: [] for key in handlers}
        per_handle: dict[str, list[float]] = {key: [] for key in handlers}
        for _ in range(rounds):
            for key in handlers:
                per_call[key].append(_calls(loggers[key], calls) / calls)
                await log.flush()
                while not simple.empty():
                    simple.get_nowait()
                per_handle[key].append(_handles(handlers[key], records[key], calls) / calls)
                await log.flush()
                while not simple.empty():
                    simple.get_nowait()
        for lib in loggers.values():
            lib.handlers = []
        expected = 2 * rounds * calls
        events = log.metrics().events
        if events != expected:  # the bridge must have forwarded every record it timed
            raise RuntimeError(f"the logger got {events} events, expected {expected}")
    call = {key: statistics.median(v) for key, v in per_call.items()}
    handle = {key: statistics.median(v) for key, v in per_handle.items()}
    # Ratios paired per round (the three ran back to back), then the median: load that drifts
    # over the run moves both sides of a pair alike.
    rounds_ = range(rounds)
    return {
        "call_ns": call,
        "handle_ns": handle,
        "ratio_call": statistics.median(
            per_call["bridge"][i] / per_call["queue"][i] for i in rounds_
        ),
        "ratio_own": statistics.median(
            (per_call["bridge"][i] - per_call["none"][i])
            / (per_call["queue"][i] - per_call["none"][i])
            for i in rounds_
        ),
        "ratio_handle": statistics.median(
            per_handle["bridge"][i] / per_handle["queue"][i] for i in rounds_
        ),
    }


async def bridge_suite(settings: Any, progress: Any) -> dict[str, Any]:
    """The suite as ``python -m benchmarks --only bridge`` runs it."""
    progress(f"bridge: {settings.bridge_rounds} rounds of {settings.bridge_calls:,} calls")
    return {
        "calls": settings.bridge_calls,
        "rounds": settings.bridge_rounds,
        **await run(settings.bridge_calls, settings.bridge_rounds),
    }


def main() -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bridge")
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    result = trio.run(run, args.calls, args.rounds)
    for key in ("bridge", "queue", "none"):
        print(
            f"{key:<7} call {result['call_ns'][key]:8.0f} ns   "
            f"handle(record) {result['handle_ns'][key]:8.0f} ns"
        )
    print(
        f"bridge / QueueHandler: whole call {result['ratio_call']:.2f}, handler's own share "
        f"(call minus no-op handler) {result['ratio_own']:.2f}, handle(record) "
        f"{result['ratio_handle']:.2f}"
    )


if __name__ == "__main__":
    main()
