"""Where the time goes in logactors: ``python -m benchmarks.profile [--quick] [--cprofile]``.

Every figure here is measured by calling the library's own code, never a copy of it: when the
core changes, the figures follow. Four views:

1. **Caller** (ns per call, the calling thread's CPU time, fastest of the rounds):

   * *parts*: each piece of the event path called on its own, on the live objects of a
     logger opened with the default configuration (one ``FileSink`` in CLEF): the runtime's
     builder (``Builder.prepare``: capture, redaction, context, size; ``Builder.admit``:
     filters, sequence, the ``LogEvent``), the real ``Inbox.put_nowait`` (on an inbox of its
     own, so the sink's queue is untouched), ``_sizing.estimate`` and ``Capture.plain``, and
     the standard-library and trio calls the level method makes;
   * *whole calls*: the real ``log.info`` of loggers that differ in one setting each (a stage
     switched on or off through the configuration, a call shape, a bound logger, an ambient
     context, two sinks). A stage's cost is its row minus the default row. The loggers are all
     open at once and take turns round by round, with the parts, in an order rotated from round
     to round (``_util.fastest_turns``); each turn's events are flushed (untimed).

2. **Consumer** (ns per event of a 512-event batch): each format's ``format_batch`` as the
   sinks build it (``make_formatter``), the exact CLEF path (``clef_dict`` + ``json_line``),
   the ``IsoUtc`` timestamp, ``Inbox.take`` of the batch, taking turns as the loggers above
   do (the fastest turn of each), and one worker-thread hop.
3. **Worker-thread starvation**: how long ``FileWriter.write_batch`` takes while a producer on
   the trio thread logs and checkpoints, and after it stopped (the real method, timed by a
   wrapper around it).
4. **cProfile** of an end-to-end run (``--cprofile``): the functions with the most own time on
   the trio thread (deterministic profiling inflates small functions: read it as shares). For
   a sampling view use py-spy (``py-spy record --gil -f raw -o out.txt -- python -m benchmarks
   --only e2e``).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import io
import json
import os
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import trio

import logactors
from logactors import FileSink, FilterConfig, LogEvent, QueueConfig, SupervisorConfig
from logactors._capture import CONTEXT
from logactors._core.inbox import Inbox
from logactors._sizing import estimate
from logactors.formatting import make_formatter
from logactors.formatting._time import IsoUtc
from logactors.formatting.json import clef_dict, json_line
from logactors.metrics import Counters

from . import TEMPLATE
from ._util import Turn, fastest_turns

#: ``block(n)`` runs ``n`` calls and returns nothing; the harness times it
Block = Callable[[int], None]


@dataclass(frozen=True)
class Sizes:
    """How much to measure."""

    calls: int = 500  # calls per timed block (the queue is flushed between blocks)
    rounds: int = 101
    batch: int = 512
    consumer_rounds: int = 15
    starvation_events: int = 50_000

    @classmethod
    def quick(cls) -> Sizes:
        """A smoke pass: figures not meaningful."""
        return cls(calls=50, rounds=2, batch=64, consumer_rounds=2, starvation_events=2_000)


def _loop_cpu_ns(n: int) -> float:
    """Thread CPU ns per iteration of an empty ``for`` loop (subtracted from every block)."""
    best = float("inf")
    for _ in range(5):
        t0 = time.thread_time_ns()
        for _i in range(n):
            pass
        best = min(best, (time.thread_time_ns() - t0) / n)
    return best


def _config(directory: str, name: str, **options: Any) -> SupervisorConfig:
    sinks = options.pop("sinks", None) or [
        FileSink(name="file", path=os.path.join(directory, f"{name}.clef"), format="clef")
    ]
    return SupervisorConfig(min_level="info", sinks=sinks, self_log="off", **options)


def _two_files(directory: str) -> list[FileSink]:
    return [
        FileSink(name=f"file{k}", path=os.path.join(directory, f"fan{k}.clef"), format="clef")
        for k in (1, 2)
    ]


#: the whole-call rows: (label, configuration options, call shape)
WHOLE_CALLS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("log.debug below the gate (disabled call)", {}, "disabled"),
    ("log.info, default configuration (redaction and trace lookup on)", {}, "plain"),
    ("  redaction off (redact=None)", {"redact": None}, "plain"),
    ("  trace correlation off (trace_context=False)", {"trace_context": False}, "plain"),
    ("  a static property (properties={'app': 'shop'})", {"properties": {"app": "shop"}}, "plain"),
    ("  a per-call enricher (enrichers=['thread'])", {"enrichers": ["thread"]}, "plain"),
    ("  sequence numbers (enrichers=['sequence'])", {"enrichers": ["sequence"]}, "plain"),
    ("  a global filter (FilterConfig(min_level='info'))", {"filters": "filter"}, "plain"),
    ("  two file sinks (fan-out, one tuple)", {"sinks": "two"}, "plain"),
    ("  a bound logger (log.bind(request='r1'))", {}, "bound"),
    ("  inside log.context(request='r1')", {}, "context"),
    ("  positional args (log.info(template, i, 'bob'))", {}, "positional"),
    ("  a small nested dict value", {}, "nested"),
    ("  a secret-named property (password=...)", {}, "secret"),
)


def _block(log: logactors.Logger, shape: str) -> Block:
    """``n`` calls of ``shape`` through the real level method."""
    template = TEMPLATE
    if shape == "disabled":
        debug = log.debug

        def disabled(n: int) -> None:
            for i in range(n):
                debug(template, id=i, user="bob")

        return disabled
    target = log.bind(request="r1") if shape == "bound" else log
    info = target.info  # (the read settles the logger: the compiled method)
    if shape == "positional":

        def positional(n: int) -> None:
            for i in range(n):
                info(template, i, "bob")

        return positional
    if shape == "nested":

        def nested(n: int) -> None:
            for i in range(n):
                info(template, id=i, user={"name": "bob", "roles": ["a", "b"]})

        return nested
    if shape == "secret":

        def secret(n: int) -> None:
            for i in range(n):
                info(template, id=i, user="bob", password="hunter2")

        return secret

    def plain(n: int) -> None:
        for i in range(n):
            info(template, id=i, user="bob")

    if shape == "context":

        def in_context(n: int) -> None:
            with log.context(request="r1"):
                plain(n)

        return in_context
    return plain


def _parts(log: logactors.Logger) -> list[tuple[str, Block]]:
    """The pieces of the event path, each the real code called on its own."""
    rt: Any = log._rt  # the live runtime: profiling its parts on purpose
    builder = rt.builder
    prepare = builder.prepare
    admit = builder.admit
    capture = builder.capture
    level = logactors.Level.INFO
    props = {"id": 1, "user": "bob"}
    static = rt.static_properties
    bound: dict[str, Any] = {}
    limit = rt.max_event_bytes
    prepared = prepare(time.time_ns(), level, TEMPLATE, (), None, props, static, bound, "", "t")
    admitted = admit(prepared)
    assert admitted is not None
    fields = prepared[:7]
    size = prepared[7]
    inbox = Inbox(QueueConfig(max_events=10**9, max_bytes=2**40), Counters())
    put = inbox.put_nowait
    nested = {"name": "bob", "roles": ["a", "b"]}
    capture.name("name")  # names the capture has seen become "safe" (as after the first call)
    capture.name("roles")
    plain = capture.plain
    now = time.time_ns
    current_task = trio.lowlevel.current_task
    get_ident = threading.get_ident
    get_ctx = CONTEXT.get

    def b_prepare(n: int) -> None:
        for _ in range(n):
            prepare(0, level, TEMPLATE, (), None, props, static, bound, "", "t")

    def b_admit(n: int) -> None:
        for _ in range(n):
            admit(prepared)

    def b_put(n: int) -> None:
        for _ in range(n):
            put(fields, level, size)  # (a private inbox: it keeps every round's references)

    def b_estimate(n: int) -> None:
        for _ in range(n):
            estimate(props, limit)

    def b_plain(n: int) -> None:
        for _ in range(n):
            plain(nested, 0)

    def b_time(n: int) -> None:
        for _ in range(n):
            now()

    def b_task(n: int) -> None:
        for _ in range(n):
            current_task().name  # noqa: B018 - the attribute read is what is measured

    def b_ident(n: int) -> None:
        for _ in range(n):
            get_ident()

    def b_ctx(n: int) -> None:
        for _ in range(n):
            get_ctx()

    return [
        ("Builder.prepare (the whole capture of a two-property call)", b_prepare),
        ("Builder.admit (filters, sequence, the LogEvent)", b_admit),
        ("Inbox.put_nowait (the put the level method inlines)", b_put),
        ("_sizing.estimate of the two properties", b_estimate),
        ("Capture.plain of a small nested dict (fast-path copy)", b_plain),
        ("time.time_ns()", b_time),
        ("trio.lowlevel.current_task().name", b_task),
        ("threading.get_ident() (the trio-thread check)", b_ident),
        ("ContextVar.get() (the ambient context)", b_ctx),
    ]


@contextlib.contextmanager
def _directory() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="logactors-profile-") as directory:
        yield directory


async def caller_breakdown(sizes: Sizes) -> dict[str, list[tuple[str, float]]]:
    """ns per call of every part and whole-call row (fastest round, loop subtracted)."""
    loop = _loop_cpu_ns(sizes.calls * 10)
    with _directory() as directory:
        async with contextlib.AsyncExitStack() as stack:
            loggers: list[tuple[str, logactors.Logger, Block]] = []
            for k, (label, options, shape) in enumerate(WHOLE_CALLS):
                options = dict(options)
                if options.get("sinks") == "two":
                    options["sinks"] = _two_files(directory)
                if options.get("filters") == "filter":
                    options["filters"] = [FilterConfig(min_level="info")]
                log = await stack.enter_async_context(
                    logactors.open_logger(_config(directory, f"row{k}", **options))
                )
                loggers.append((label, log, _block(log, shape)))
            parts = _parts(loggers[1][1])
            # (the flush after a logger's turn is untimed: the sink writes what the turn queued)
            turns: dict[str, Turn] = {
                **{f"whole{k}": (block, log.flush) for k, (_, log, block) in enumerate(loggers)},
                **{f"part{k}": (part, None) for k, (_, part) in enumerate(parts)},
            }
            best = await fastest_turns(turns, sizes.rounds, sizes.calls)
            best_whole = [best[f"whole{k}"] for k in range(len(loggers))]
            best_part = [best[f"part{k}"] for k in range(len(parts))]
            written = {label: log.metrics().events for label, log, _ in loggers}
    expected = sizes.rounds * sizes.calls
    for label, events in written.items():
        disabled = label.startswith("log.debug")
        if events != (0 if disabled else expected):
            raise AssertionError(f"{label}: the logger took {events} events, expected {expected}")
    return {
        "parts": [(label, ns - loop) for (label, _), ns in zip(parts, best_part, strict=True)],
        "whole": [
            (label, ns - loop) for (label, _, _), ns in zip(loggers, best_whole, strict=True)
        ],
    }


def _events(batch: int) -> list[LogEvent]:
    start = time.time_ns()
    return [
        LogEvent(start + i * 1000, logactors.Level.INFO, TEMPLATE, {"id": i, "user": "bob"}, None)
        for i in range(batch)
    ]


async def consumer_breakdown(sizes: Sizes) -> list[tuple[str, float]]:
    """ns per event of the consumer's steps on one batch (fastest round; the steps take turns,
    :func:`fastest_turns`)."""
    batch = sizes.batch
    events = _events(batch)
    iso = IsoUtc(7)
    inbox = Inbox(QueueConfig(max_events=10**9, max_bytes=2**40), Counters())

    def once(fn: Callable[[], object]) -> Callable[[int], None]:
        def block(n: int) -> None:
            for _ in range(n):
                fn()

        return block

    async def fill() -> None:  # (untimed, after each turn of take)
        for e in events:
            inbox.put_nowait(e, e.level, 200)

    def take() -> None:
        inbox.take(batch)
        inbox.finished(inbox.in_flight)

    rows: dict[str, Turn] = {}
    for fmt in ("clef", "json", "text", "logfmt"):
        formatter = make_formatter(fmt)
        out = formatter.format_batch(events)
        lines = out.count(b"\n")
        if lines != batch:
            raise AssertionError(f"{fmt}: {lines} lines for {batch} events")
        encode = functools.partial(formatter.format_batch, events)
        rows[f"{fmt}: format_batch"] = (once(encode), None)
    rows["clef: clef_dict + json_line per event (the exact path)"] = (
        once(lambda: [json_line(clef_dict(e, iso)) for e in events]),
        None,
    )
    rows["IsoUtc timestamp (the exact path's)"] = (
        once(lambda: [iso(e.timestamp_ns) for e in events]),
        None,
    )
    rows["Inbox.take of the batch"] = (once(take), fill)
    await fill()
    per_batch = await fastest_turns(rows, sizes.consumer_rounds, 1)
    return [(label, ns / batch) for label, ns in per_batch.items()]


async def hop_starvation(n: int, yield_every: int = 100) -> tuple[float, float]:
    """Median ``FileWriter.write_batch`` duration (ms) of the writes that started while a
    producer on the trio thread logs and checkpoints, and of those that started after it
    stopped (the drain at exit).

    A worker thread needs the GIL to start, after each system call and to report back; the
    trio thread releases it only for an instant at each checkpoint: a worker waited for with
    ``trio.to_thread.run_sync`` starves while the producer keeps going. The file sink's
    ``write_mode="auto"`` writes on the trio thread while writes are fast; this forces
    ``"thread"`` to show why.
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

    with _directory() as directory:
        config = SupervisorConfig(
            min_level="info",
            self_log="off",
            shutdown=logactors.ShutdownConfig(strategy="flush"),
            sinks=[
                FileSink(
                    name="file",
                    path=os.path.join(directory, "h.clef"),
                    format="clef",
                    write_mode="thread",
                    queue=QueueConfig(max_events=10 * n, max_bytes=2**34, overflow="block"),
                )
            ],
        )
        file_sink.FileWriter.write_batch = timed  # type: ignore[method-assign]
        try:
            async with logactors.open_logger(config) as log:
                for start in range(0, n, yield_every):
                    for i in range(start, start + yield_every):
                        log.info(TEMPLATE, id=i, user="bob")
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
        min_level="info", sinks=[FileSink(name="file", path=path, format="clef")]
    )
    async with logactors.open_logger(config) as log:
        for start in range(0, n, yield_every):
            for i in range(start, start + yield_every):
                log.info(TEMPLATE, id=i, user="bob")
            await trio.lowlevel.checkpoint()


def cprofile_e2e(n: int, yield_every: int, top: int = 30) -> str:
    """cProfile of the end-to-end run (trio thread, default configuration): own time."""
    with _directory() as directory:
        profiler = cProfile.Profile()
        profiler.enable()
        trio.run(_e2e, n, yield_every, os.path.join(directory, "p.clef"))
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


async def profile(sizes: Sizes) -> dict[str, Any]:
    """Every view but cProfile, as one dict (what ``--json`` writes)."""
    caller = await caller_breakdown(sizes)
    hop = await thread_hop_us(20 if sizes.rounds < 5 else 200)
    during, after = await hop_starvation(sizes.starvation_events)
    return {
        "caller_parts_ns": dict(caller["parts"]),
        "caller_whole_ns": dict(caller["whole"]),
        "consumer_ns_per_event": dict(await consumer_breakdown(sizes)),
        "thread_hop_us": hop,
        "write_batch_ms": {"while_producing": during, "after": after},
        "sizes": sizes.__dict__,
    }


async def profile_suite(settings: Any, progress: Any) -> dict[str, Any]:
    """The suite as ``python -m benchmarks --only profile`` runs it."""
    sizes = Sizes.quick() if settings.quick else Sizes()
    progress(f"profile: {sizes.rounds} rounds of {sizes.calls} calls per row")
    return await profile(sizes)


def render(result: dict[str, Any]) -> str:
    """The text report."""
    sizes = result["sizes"]
    lines = [
        f"CALLER: thread CPU ns per call, fastest of {sizes['rounds']} rounds of "
        f"{sizes['calls']} calls, loop overhead subtracted",
        "  parts (the real code, called on its own):",
    ]
    for label, ns in result["caller_parts_ns"].items():
        lines.append(f"    {label:<72}{ns:8.0f}")
    lines.append("  whole calls (the real log.info; 'vs default' = the stage's cost):")
    whole = result["caller_whole_ns"]
    default = next(ns for label, ns in whole.items() if label.startswith("log.info"))
    for label, ns in whole.items():
        diff = f"{ns - default:+7.0f}" if label.startswith(" ") else ""
        lines.append(f"    {label:<72}{ns:8.0f} {diff}")
    lines.append(f"\nCONSUMER: ns per event of a {sizes['batch']}-event batch (fastest round)")
    for label, ns in result["consumer_ns_per_event"].items():
        lines.append(f"    {label:<72}{ns:8.0f}")
    hop = result["thread_hop_us"]
    lines.append(
        f"    trio.to_thread.run_sync round trip: {hop:.1f} µs per batch "
        f"= {hop * 1000 / sizes['batch']:.0f} ns/event (idle trio thread)"
    )
    w = result["write_batch_ms"]
    lines.append(
        f"    FileWriter.write_batch in a worker thread (write_mode='thread'), median: "
        f"{w['while_producing']:.2f} ms while a producer logs and checkpoints, "
        f"{w['after']:.2f} ms after it stopped"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="smoke pass (tiny sizes)")
    parser.add_argument(
        "--events", type=int, default=None, help="calls per timed block (default 500)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 101)")
    parser.add_argument("--cprofile", action="store_true", help="also cProfile an e2e run")
    parser.add_argument("--e2e-events", type=int, default=200_000)
    parser.add_argument("--yield-every", type=int, default=100)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    sizes = Sizes.quick() if args.quick else Sizes()
    if args.events or args.rounds:
        sizes = Sizes(
            **{
                **sizes.__dict__,
                "calls": args.events or sizes.calls,
                "rounds": args.rounds or sizes.rounds,
            }
        )
    result = trio.run(profile, sizes)
    print(render(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(result, out, indent=2)
    if args.cprofile:
        print("\nCPROFILE of the end-to-end run (trio thread, by own time)")
        print(cprofile_e2e(2_000 if args.quick else args.e2e_events, args.yield_every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
