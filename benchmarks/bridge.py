"""``python -m benchmarks.bridge [--calls N] [--rounds R]``: the stdlib bridge per record.

On the trio thread, one stdlib logger (``propagate=False``) with one handler logs
``lib.info("GET %s -> %d", "/api", 200)``:

* ``bridge``: :class:`logactors.stdlib.LogactorsHandler` into a logger with a ``NullSink``;
* ``queue``: stdlib :class:`logging.handlers.QueueHandler` into a ``SimpleQueue``;
* ``none``: a handler whose ``handle`` does nothing (record creation and dispatch only).

Rounds interleave the three; queues are drained between timed blocks (not timed). Printed:
the median ns per call of each, the handler's own share (call minus ``none``), and the same for
``handler.handle(record)`` on one prepared record. The ratios are the figures to read (wall
time on a shared machine is not), each measured in this one process run.
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
    start = time.perf_counter_ns()
    for _ in range(n):
        info("GET %s -> %d", "/api", 200)
    return time.perf_counter_ns() - start


def _handles(handler: logging.Handler, record: logging.LogRecord, n: int) -> int:
    handle = handler.handle
    start = time.perf_counter_ns()
    for _ in range(n):
        handle(record)
    return time.perf_counter_ns() - start


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
    call = {key: statistics.median(v) for key, v in per_call.items()}
    handle = {key: statistics.median(v) for key, v in per_handle.items()}
    own = {key: call[key] - call["none"] for key in ("bridge", "queue")}
    return {
        "call_ns": call,
        "handle_ns": handle,
        "own_ns": own,
        "ratio_call": call["bridge"] / call["queue"],
        "ratio_own": own["bridge"] / own["queue"],
        "ratio_handle": handle["bridge"] / handle["queue"],
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
