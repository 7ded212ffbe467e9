"""``python -m benchmarks.bridge [--calls N] [--rounds R]``: the stdlib bridge per record.

On the trio thread, one stdlib logger (``propagate=False``) with one handler logs
``lib.info("GET %s -> %d", path, status)``, as a web server's access log does: every call has
another path (never seen before in the run) and one of a few statuses, so every rendered message
is new, as in real traffic. All three handlers get the same sequence of arguments, so no side
profits from a cache hit that real traffic never gives (the bridge's logger keeps a cache keyed
by template text, which a constant message would hit on every call):

* ``bridge``: :class:`logactors.stdlib.LogactorsHandler` into a logger with a ``NullSink``;
* ``queue``: stdlib :class:`logging.handlers.QueueHandler` into a ``SimpleQueue``;
* ``none``: a handler whose ``handle`` does nothing (record creation and dispatch only).

Rounds interleave the three; queues are drained and the arguments (and, for ``handle``, the
records) made between timed blocks (not timed). Time is this thread's CPU time
(``time.thread_time_ns``), which other processes on a busy machine do not inflate. Printed: the
median ns per call of each and the bridge/QueueHandler ratios, each the median of per-round
ratios: of the whole call, of the handler's own share (call minus ``none``) and of
``handler.handle(record)`` on prepared records; and the floor of the whole-call ratio (``none``
against ``queue``: record creation and dispatch, which no handler avoids). The ratios are the
figures to read (wall time on a shared machine is not), each measured in this one process run.
"""

from __future__ import annotations

import argparse
import itertools
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


_STATUSES = (200, 200, 200, 201, 204, 304, 404, 500)
#: a number never used before in this process: every path of the run is new
_serial = itertools.count()


def _arguments(n: int) -> list[tuple[str, int]]:
    """``n`` (path, status) pairs, each path new."""
    return [
        (f"/api/orders/{k}/items", _STATUSES[k % len(_STATUSES)])
        for k in itertools.islice(_serial, n)
    ]


def _calls(lib: logging.Logger, arguments: list[tuple[str, int]]) -> int:
    info = lib.info
    start = time.thread_time_ns()
    for path, status in arguments:
        info("GET %s -> %d", path, status)
    return time.thread_time_ns() - start


def _records(arguments: list[tuple[str, int]]) -> list[logging.LogRecord]:
    make = logging.getLogger("bench").makeRecord
    return [
        make("bench", logging.INFO, __file__, 1, "GET %s -> %d", args, None) for args in arguments
    ]


def _handles(handler: logging.Handler, records: list[logging.LogRecord]) -> int:
    handle = handler.handle
    start = time.thread_time_ns()
    for record in records:
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
        per_call: dict[str, list[float]] = {key: [] for key in handlers}
        per_handle: dict[str, list[float]] = {key: [] for key in handlers}
        for _ in range(rounds):
            for key in handlers:
                per_call[key].append(_calls(loggers[key], _arguments(calls)) / calls)
                await log.flush()
                while not simple.empty():
                    simple.get_nowait()
                # fresh records with new arguments (QueueHandler.prepare formats the record it
                # gets; a record handled twice would give the bridge a repeated message)
                records = _records(_arguments(calls))
                per_handle[key].append(_handles(handlers[key], records) / calls)
                del records
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
        "workload": 'lib.info("GET %s -> %d", path, status), a new path every call',
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
        # the floor of ratio_call: a handler that does nothing, against QueueHandler
        "ratio_floor": statistics.median(
            per_call["none"][i] / per_call["queue"][i] for i in rounds_
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
    print(
        f"floor of the whole-call ratio (no-op handler / QueueHandler): {result['ratio_floor']:.2f}"
    )


if __name__ == "__main__":
    main()
