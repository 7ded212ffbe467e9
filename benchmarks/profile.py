"""Where the time goes in logactors: ``python -m benchmarks.profile [--events N] [--cprofile]``.

Four views:

1. **Caller breakdown** (ns per call): the steps of ``Logger.info`` on the trio thread are
   replayed cumulatively against a live runtime (same objects, same order as
   ``logactors/_logger.py``'s ``emit``), so each step's cost is the difference between two
   stages. The last stage is the real ``log.info`` for comparison. Times are the thread's CPU
   time (``thread_time_ns``), so other processes on the machine do not inflate them.
2. **Consumer breakdown** (ns per event): formatting a batch (``ClefFormatter.format_batch``
   and its parts: ``clef_dict``, orjson, the timestamp, the template cache), ``Inbox.take``,
   one worker-thread hop per batch.
3. **Worker-thread starvation**: how long ``FileWriter.write_batch`` (one worker-thread hop)
   takes while a producer on the trio thread logs and checkpoints, and after it stopped.
4. **cProfile** of the end-to-end run (``--cprofile``): the functions with the most own time
   on the trio thread (deterministic profiling inflates small functions: read it as shares).
   For a sampling view use py-spy (``py-spy record --gil -f raw -o out.txt -- python -m
   benchmarks --only e2e``).

The replay mirrors the front end as of this commit; if the core's ``emit`` changes, the last
line (the real call) still measures the real thing, and the stages show the old split.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import trio

import logactors
from logactors import FileSink, LogEvent, QueueConfig, SupervisorConfig
from logactors._sizing import BASE_BYTES, _deep
from logactors.formatting.json import ClefFormatter, clef_dict

from .cases import IsoCache

Stage = Callable[..., None]


def _time_calls(call: Stage, n: int, rounds: int, reset: Callable[[], None]) -> float:
    """Fastest round's ns per ``call("Processing request {id} for {user}", id=i, user="bob")``
    (the minimum: interference from other processes only ever adds)."""
    results = []
    for _ in range(rounds):
        reset()
        t0 = time.thread_time_ns()
        for i in range(n):
            call("Processing request {id} for {user}", id=i, user="bob")
        results.append((time.thread_time_ns() - t0) / n)
    return min(results)


def _stages(log: logactors.Logger) -> list[tuple[str, Stage]]:
    """Cumulative replays of ``emit`` (see the module docstring)."""
    from logactors._logger import _CONTEXT, _SCALARS

    rt: Any = log._rt  # profiling the internals on purpose
    level = logactors.Level.INFO
    name = ""
    inbox = rt.routes[level][0]  # one FileSink: the inlined put of emit
    queue, queue_sizes, max_events, hard_cap = inbox.fast_path()
    counters = inbox.counters
    limit = rt.max_event_bytes
    get_ctx = _CONTEXT.get
    get_ident = threading.get_ident
    now = time.time_ns
    current_task = trio.lowlevel.current_task
    scalars = _SCALARS
    deep = _deep
    base = None

    def s0(template: str, /, *args: object, exc_info: Any = None, **props: Any) -> None:
        pass

    def s1(template: str, /, *args: object, exc_info: Any = None, **props: Any) -> None:
        try:
            if get_ident() != rt.gate_thread:  # another thread, or closed
                return
        except Exception:
            pass

    def s2(template: str, /, *args: object, exc_info: Any = None, **props: Any) -> None:
        try:
            if get_ident() != rt.gate_thread:  # another thread, or closed
                return
            handoff = rt.handoff
            if handoff is not None and handoff._items:
                handoff.pump(force=True)
            if args or exc_info is not None or template.__class__ is not str:
                return
            ctx = get_ctx()
            if ctx:
                props = {**ctx, **props}
            elif base is not None:
                props = {**base, **props}
        except Exception:
            pass

    def s3(template: str, /, *args: object, exc_info: Any = None, **props: Any) -> None:
        try:
            if get_ident() != rt.gate_thread:  # another thread, or closed
                return
            handoff = rt.handoff
            if handoff is not None and handoff._items:
                handoff.pump(force=True)
            if args or exc_info is not None or template.__class__ is not str:
                return
            ctx = get_ctx()
            if ctx:
                props = {**ctx, **props}
            elif base is not None:
                props = {**base, **props}
            try:
                task = current_task().name
            except RuntimeError:
                task = ""
            del task
        except Exception:
            pass

    def s4(template: str, /, *args: object, exc_info: Any = None, **props: Any) -> None:
        try:
            if get_ident() != rt.gate_thread:  # another thread, or closed
                return
            handoff = rt.handoff
            if handoff is not None and handoff._items:
                handoff.pump(force=True)
            if args or exc_info is not None or template.__class__ is not str:
                return
            ctx = get_ctx()
            if ctx:
                props = {**ctx, **props}
            elif base is not None:
                props = {**base, **props}
            try:
                task = current_task().name
            except RuntimeError:
                task = ""
            size = BASE_BYTES
            for value in props.values():
                cls = type(value)
                if cls is str:
                    size += 56 + len(value)
                elif cls in scalars:
                    size += 32
                else:
                    size += deep(value, limit)
            if size > limit:
                return
            del task
        except Exception:
            pass

    def s5(template: str, /, *args: object, exc_info: Any = None, **props: Any) -> None:
        try:
            if get_ident() != rt.gate_thread:  # another thread, or closed
                return
            handoff = rt.handoff
            if handoff is not None and handoff._items:
                handoff.pump(force=True)
            if args or exc_info is not None or template.__class__ is not str:
                return
            ctx = get_ctx()
            if ctx:
                props = {**ctx, **props}
            elif base is not None:
                props = {**base, **props}
            try:
                task = current_task().name
            except RuntimeError:
                task = ""
            size = BASE_BYTES
            for value in props.values():
                cls = type(value)
                if cls is str:
                    size += 56 + len(value)
                elif cls in scalars:
                    size += 32
                else:
                    size += deep(value, limit)
            if size > limit:
                return
            rt.events += 1
            fields = (now(), level, template, props, None, name, task)
            del fields
        except Exception:
            pass

    def s6(template: str, /, *args: object, exc_info: Any = None, **props: Any) -> None:
        try:
            if get_ident() != rt.gate_thread:  # another thread, or closed
                return
            handoff = rt.handoff
            if handoff is not None and handoff._items:
                handoff.pump(force=True)
            if args or exc_info is not None or template.__class__ is not str:
                return
            ctx = get_ctx()
            if ctx:
                props = {**ctx, **props}
            elif base is not None:
                props = {**base, **props}
            try:
                task = current_task().name
            except RuntimeError:
                task = ""
            size = BASE_BYTES
            for value in props.values():
                cls = type(value)
                if cls is str:
                    size += 56 + len(value)
                elif cls in scalars:
                    size += 32
                else:
                    size += deep(value, limit)
            if size > limit:
                return
            rt.events += 1
            fields = (now(), level, template, props, None, name, task)
            counters.accepted += 1
            if len(queue) < max_events and inbox.bytes + size <= hard_cap:
                queue.append(fields)
                queue_sizes.append(size - BASE_BYTES)
                inbox.bytes += size
                if inbox._waiter is not None and len(queue) >= inbox._wake_at:
                    inbox.wake()
            else:
                inbox.overflow(fields, level, size)
        except Exception:
            pass

    return [
        ("call a closure with this signature (template, /, *args, exc_info, **props)", s0),
        ("+ closed check, get_ident() == trio thread", s1),
        ("+ hand-off check, slow-path test, contextvar get", s2),
        ("+ current_task().name", s3),
        ("+ size estimate (loop over props)", s4),
        ("+ rt.events += 1, time_ns() + the plain tuple", s5),
        ("+ the inlined put: counter, bounds, two appends, wake check", s6),
        ("real log.info", log.info),
    ]


async def caller_breakdown(n: int, rounds: int) -> list[tuple[str, float]]:
    """ns per call of each cumulative stage (the queue is emptied between rounds)."""
    with tempfile.TemporaryDirectory() as directory:
        config = SupervisorConfig(
            min_level="info",
            sinks=[
                FileSink(
                    name="file",
                    path=os.path.join(directory, "p.clef"),
                    format="clef",
                    queue=QueueConfig(max_events=10 * n, overflow="drop_oldest"),
                )
            ],
        )
        async with logactors.open_logger(config) as log:
            inbox: Any = log._rt.actors["file"].inbox

            def reset() -> None:
                inbox.take(len(inbox) or 1)
                inbox.finished(inbox.in_flight)

            out = []
            for label, stage in _stages(log):
                out.append((label, _time_calls(stage, n, rounds, reset)))
                reset()
    return out


def consumer_breakdown(batch: int = 512, rounds: int = 15) -> list[tuple[str, float]]:
    """ns per event of the consumer's steps on a batch of ``batch`` events (fastest round)."""
    from logactors._json import dumps
    from logactors.formatting import json as json_formats
    from logactors.formatting._time import IsoUtc

    template = "Processing request {id} for {user}"
    events = [
        LogEvent(
            time.time_ns() + i * 1000,
            logactors.Level.INFO,
            template,
            {"id": i, "user": "bob"},
            None,
            "",
            "main",
        )
        for i in range(batch)
    ]
    formatter = ClefFormatter()
    iso = IsoUtc(7)
    cache = IsoCache()
    newline = orjson.OPT_APPEND_NEWLINE
    line: Callable[[object], bytes] = getattr(
        json_formats, "json_line", lambda value: dumps(value, newline)
    )

    def min_ns(fn: Callable[[], object]) -> float:
        values = []
        for _ in range(rounds):
            t0 = time.thread_time_ns()
            fn()
            values.append((time.thread_time_ns() - t0) / batch)
        return min(values)

    def into_bytearray(encode: Callable[[object], bytes], values: list[Any]) -> bytes:
        buffer = bytearray()
        for value in values:
            buffer += encode(value)
        return bytes(buffer)

    def bare() -> bytes:
        buffer = bytearray()
        for e in events:
            out = {"@t": cache(e.timestamp_ns), "@mt": e.template}
            out.update(e.properties)
            buffer += orjson.dumps(out, option=newline)
        return bytes(buffer)

    stamp = iso(events[0].timestamp_ns)[:-9] + ".%07dZ"

    def build() -> list[dict[str, Any]]:
        return [
            {
                "@t": stamp % (e.timestamp_ns % 1_000_000_000 // 100),
                "@mt": e.template,
                **e.properties,
            }
            for e in events
        ]

    objects = build()
    array = orjson.dumps(objects)[1:-1]
    return [
        ("ClefFormatter.format_batch (per event)", min_ns(lambda: formatter.format_batch(events))),
        ("  each event's dict (timestamp, template, properties)", min_ns(build)),
        (
            "  one orjson.dumps of the batch's dicts as an array",
            min_ns(lambda: orjson.dumps(objects)),
        ),
        (
            "  checks on the output ('@' count) and the cut into lines",
            min_ns(lambda: (array.count(b"@"), array.replace(b'},{"@t":', b'}\n{"@t":'))),
        ),
        (
            "  IsoUtc timestamp (the exact path's)",
            min_ns(lambda: [iso(e.timestamp_ns) for e in events]),
        ),
        (
            "clef_dict() + orjson per event: the exact path",
            min_ns(lambda: into_bytearray(line, [clef_dict(e, iso) for e in events])),
        ),
        ("bare pipeline: dict + orjson into one bytearray", min_ns(bare)),
    ]


async def hop_starvation(n: int = 50_000, yield_every: int = 100) -> tuple[float, float]:
    """Median ``FileWriter.write_batch`` duration (ms) of the writes that started while a
    producer on the trio thread logs and checkpoints, and of those that started after it
    stopped (the drain at exit).

    The worker thread of the hop needs the GIL to start, after each system call (which
    releases it) and to report back; the trio thread releases the GIL only for an instant
    at each checkpoint's ``epoll`` call and takes it straight back, which resets the
    worker's switch-interval timer: the worker starves while the producer keeps going.
    """
    from logactors.sinks import file as file_sink

    original = file_sink.FileWriter.write_batch
    durations: list[tuple[bool, float]] = []
    producing = True

    async def timed(self: Any, events: Sequence[LogEvent]) -> int:
        started = time.perf_counter()
        during = producing
        try:
            return await original(self, events)
        finally:
            durations.append((during, time.perf_counter() - started))

    with tempfile.TemporaryDirectory() as directory:
        config = SupervisorConfig(
            min_level="info",
            shutdown=logactors.ShutdownConfig(strategy="flush"),
            sinks=[
                FileSink(
                    name="file",
                    path=os.path.join(directory, "h.clef"),
                    format="clef",
                    queue=QueueConfig(max_events=10 * n, max_bytes=2**34, overflow="block"),
                )
            ],
        )
        file_sink.FileWriter.write_batch = timed  # type: ignore[method-assign]
        try:
            async with logactors.open_logger(config) as log:
                for start in range(0, n, yield_every):
                    for i in range(start, start + yield_every):
                        log.info("Processing request {id} for {user}", id=i, user="bob")
                    await trio.lowlevel.checkpoint()
                producing = False
        finally:
            file_sink.FileWriter.write_batch = original  # type: ignore[method-assign]

    def med(values: list[float]) -> float:
        values = sorted(values)
        return values[len(values) // 2] * 1000 if values else float("nan")

    return (med([d for p, d in durations if p]), med([d for p, d in durations if not p]))


async def thread_hop_us(n: int = 200) -> float:
    """µs per ``trio.to_thread.run_sync`` round trip (one per batch)."""
    t0 = time.perf_counter_ns()
    for _ in range(n):
        await trio.to_thread.run_sync(int)
    return (time.perf_counter_ns() - t0) / n / 1000


async def _e2e(n: int, yield_every: int, path: str) -> None:
    config = SupervisorConfig(
        min_level="info",
        sinks=[
            FileSink(
                name="file",
                path=path,
                format="clef",
                queue=QueueConfig(max_events=1_000_000, overflow="block"),
            )
        ],
    )
    async with logactors.open_logger(config) as log:
        for start in range(0, n, yield_every):
            for i in range(start, start + yield_every):
                log.info("Processing request {id} for {user}", id=i, user="bob")
            await trio.lowlevel.checkpoint()


def cprofile_e2e(n: int, yield_every: int, top: int = 30) -> str:
    """cProfile of the end-to-end run (trio thread): functions by own time."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "p.clef")
        profiler = cProfile.Profile()
        profiler.enable()
        trio.run(_e2e, n, yield_every, path)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


async def _main_async(n: int) -> tuple[list[tuple[str, float]], float, tuple[float, float]]:
    caller = await caller_breakdown(n, 101)
    hop = await thread_hop_us()
    starvation = await hop_starvation()
    return caller, hop, starvation


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    parser.add_argument(
        "--events",
        type=int,
        default=500,
        help="calls per stage round (the queue is emptied between rounds, as "
        "a running sink keeps it short)",
    )
    parser.add_argument("--cprofile", action="store_true", help="also cProfile an e2e run")
    parser.add_argument("--e2e-events", type=int, default=200_000)
    parser.add_argument("--yield-every", type=int, default=100)
    args = parser.parse_args(argv)

    caller, hop, starvation = trio.run(_main_async, args.events)
    print("CALLER (trio thread, FileSink clef): cumulative stages, ns per call")
    previous = 0.0
    for label, ns in caller:
        step = ns - previous if label != "real log.info" else ns
        print(f"  {label:<78}{ns:8.0f}  (step {step:+6.0f})")
        if label != "real log.info":
            previous = ns
    print("\nCONSUMER (per event, batch of 512)")
    for label, ns in consumer_breakdown():
        print(f"  {label:<78}{ns:8.0f}")
    print(
        f"  trio.to_thread.run_sync round trip: {hop:.1f} µs per batch "
        f"= {hop * 1000 / 512:.0f} ns/event at 512/batch (idle trio thread)"
    )
    print(
        f"  FileWriter.write_batch median: {starvation[0]:.1f} ms for writes started while a "
        f"producer logs and checkpoints, {starvation[1]:.2f} ms after it stopped "
        "(GIL starvation of the worker-thread hop)"
    )
    if args.cprofile:
        print("\nCPROFILE of the end-to-end run (trio thread, by own time)")
        print(cprofile_e2e(args.e2e_events, args.yield_every))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
