"""``python -m benchmarks.shipping [--events N] [--rounds R]``: what shipping one event costs.

For each HTTP protocol (OTLP JSON, OTLP protobuf, Loki, Elasticsearch) the request bodies of a
batch of typical events are built by the sink's own code (``HttpWriter.bodies``), and the table
gives, per event: CPU time to encode (``time.process_time``, best of the rounds, so that other
processes on the machine inflate it as little as possible), CPU time to gzip the body (level 6,
as the sink does), and the bytes sent raw and gzipped. All protocols are measured in the same
process, interleaved round by round, so their ratios are comparable even on a busy machine.
Nothing is sent over the network: this is the sender's cost, not the collector's.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import time
from collections.abc import Callable
from typing import Any

import trio

import logactors
from logactors import (
    BatchConfig,
    HttpSink,
    Level,
    LogEvent,
    NullSink,
    QueueConfig,
    SupervisorConfig,
)
from logactors.sinks.http import HttpWriter

from ._util import Turn, fastest_turns

PROTOCOLS: dict[str, dict[str, str]] = {
    "otlp-json": {"protocol": "otlp", "format": "json"},
    "otlp-protobuf": {"protocol": "otlp", "format": "protobuf"},
    "loki": {"protocol": "loki", "format": "json"},
    "elasticsearch": {"protocol": "elasticsearch", "format": "json"},
}


def typical_events(count: int) -> list[LogEvent]:
    """Events like a web service's: a template with three holes, five properties (one of them
    a request id that is unique per event), trace ids, two logger names."""
    start = 1_763_866_370_123_456_789
    return [
        LogEvent(
            start + i * 100_000,
            Level.WARNING if i % 10 == 0 else Level.INFO,
            "Order {order_id} placed by {user} for {amount}",
            {
                "order_id": 100_000 + i,
                "user": f"user-{i % 500}",
                "amount": 12.5 + i % 100,
                "request_id": f"req-{i:08x}",
                "app": "shop",
                "trace_id": f"{i:032x}",
                "span_id": f"{i + 1:016x}",
                "trace_flags": 1,
            },
            None,
            "shop.orders" if i % 2 else "shop.http",
            "handler",
        )
        for i in range(count)
    ]


def _cpu(fn: Callable[[], object]) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def _encode(writer: HttpWriter, events: list[LogEvent], bodies: list[bytes]) -> None:
    bodies.extend(body for _, body in writer.bodies(events))


def _squeeze(bodies: list[bytes], packed: list[bytes]) -> None:
    packed.extend(gzip.compress(body, compresslevel=6, mtime=0) for body in bodies)


def measure(count: int, rounds: int) -> dict[str, dict[str, float]]:
    events = typical_events(count)
    writers = {
        name: HttpWriter(
            HttpSink(
                name=name,
                url="http://127.0.0.1:1",
                batch=BatchConfig(max_events=count),
                **options,  # type: ignore[arg-type]
            )
        )
        for name, options in PROTOCOLS.items()
    }
    best: dict[str, list[float]] = {name: [float("inf"), float("inf")] for name in writers}
    sizes: dict[str, tuple[int, int]] = {}
    for _ in range(rounds):
        for name, writer in writers.items():
            bodies: list[bytes] = []
            packed: list[bytes] = []
            encode = _cpu(functools.partial(_encode, writer, events, bodies))
            squeeze = _cpu(functools.partial(_squeeze, bodies, packed))
            best[name][0] = min(best[name][0], encode)
            best[name][1] = min(best[name][1], squeeze)
            sizes[name] = (sum(map(len, bodies)), sum(map(len, packed)))
    return {
        name: {
            "encode_us": best[name][0] / count * 1e6,
            "gzip_us": best[name][1] / count * 1e6,
            "bytes": sizes[name][0] / count,
            "gzip_bytes": sizes[name][1] / count,
        }
        for name in writers
    }


def caller_costs(count: int, rounds: int) -> dict[bool, float]:
    """Thread-CPU µs of one ``log.info`` call with five properties (null sink; queue drained
    between rounds; no span active) with ``trace_context`` on and off: the application's side,
    the same for every protocol. Both loggers are open at once and take turns round by round,
    so that the machine's slow and fast phases fall on both alike (:func:`fastest_turns`); the
    fastest round of each."""

    def block(info: Callable[..., object]) -> Callable[[int], None]:
        def calls(n: int) -> None:
            for i in range(n):
                info(
                    "Order {order_id} placed by {user} for {amount}",
                    order_id=i,
                    user="bob",
                    amount=12.5,
                    request_id="req-1",
                    app="shop",
                )

        return calls

    async def run() -> dict[bool, float]:
        rows: dict[str, Turn] = {}
        async with contextlib.AsyncExitStack() as stack:
            for trace in (False, True):
                config = SupervisorConfig(
                    sinks=[NullSink(name="null", queue=QueueConfig(max_events=count * 2))],
                    self_log="off",
                    trace_context=trace,
                )
                log = await stack.enter_async_context(logactors.open_logger(config))
                rows[str(trace)] = (block(log.info), log.flush)
            best = await fastest_turns(rows, rounds, count)
        return {trace: best[str(trace)] / 1000 for trace in (False, True)}

    return trio.run(run)


def trace_cost(calls: int, rounds: int, repeats: int = 3) -> dict[str, float]:
    """CPU µs per call with the trace-correlation lookup (no span active) and with it switched
    off (:func:`caller_costs`, ``repeats`` times: the best of each); ``overhead`` is the
    relative cost."""
    with_trace = without = float("inf")
    for _ in range(repeats):
        costs = caller_costs(calls, rounds)
        without = min(without, costs[False])
        with_trace = min(with_trace, costs[True])
    return {"on_us": with_trace, "off_us": without, "overhead": with_trace / without - 1}


async def shipping_suite(settings: Any, progress: Any) -> dict[str, Any]:
    """The suite as ``python -m benchmarks --only shipping`` runs it (the caller cost in a
    worker thread: it runs loggers of its own)."""
    count, rounds = settings.shipping_events, settings.shipping_rounds
    progress(f"shipping: encode {count:,}-event batches, {rounds} rounds")
    encode = measure(count, rounds)
    progress("shipping: trace-context cost at the caller")
    trace = await trio.to_thread.run_sync(trace_cost, count * 10, rounds)
    return {"events": count, "rounds": rounds, "protocols": encode, "trace_context": trace}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1000, help="events per batch")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    results = measure(args.events, args.rounds)
    trace = trace_cost(args.events * 10, args.rounds)
    print(
        f"caller: {trace['on_us']:.2f} CPU µs per log.info call (trace_context off: "
        f"{trace['off_us']:.2f}, {trace['overhead'] * 100:+.1f}% with no span active)"
    )
    reference = results["otlp-json"]["encode_us"]
    print(
        f"{'protocol':<15}{'encode µs/ev':>14}{'vs otlp-json':>14}{'gzip µs/ev':>12}"
        f"{'bytes/ev':>10}{'gzip B/ev':>11}"
    )
    for name, row in results.items():
        print(
            f"{name:<15}{row['encode_us']:>14.2f}{row['encode_us'] / reference:>14.2f}"
            f"{row['gzip_us']:>12.2f}{row['bytes']:>10.0f}{row['gzip_bytes']:>11.1f}"
        )


if __name__ == "__main__":
    main()
