"""The measurements. Each suite runs its cases in ``settings.rounds`` rounds (the order of the
libraries rotates from round to round, so that drift hits all of them alike) and keeps every
round's figure; the report takes medians.

Caller-side figures are nanoseconds per call measured with ``time.perf_counter_ns`` around
blocks of calls (``settings.block``), with the consumer allowed to catch up between blocks,
untimed; the cost of the bare ``for`` loop is subtracted. End-to-end figures are events per
second from the first call to the moment the logger has been left with everything on disk, with
a producer that yields to trio (``await trio.lowlevel.checkpoint()``, what ``trio.sleep(0)``
does) every ``settings.yield_every`` events; the file is then checked to hold exactly the
events logged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import trio

import logactors
from logactors import FileSink, QueueConfig, ShutdownConfig, SupervisorConfig

from ._util import (
    MIB,
    Blocks,
    Loop,
    collect,
    count_lines,
    frozen_heap,
    remove,
    rss_bytes,
    summary,
)
from .cases import Case, EmptyCallCase, LogactorsCase, library_cases, text_cases

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    """Sizes of every measurement (see ``Settings.full`` and ``Settings.quick``)."""

    quick: bool
    rounds: int
    directory: str
    block: int = 1000
    caller_n: int = 50_000
    e2e_n: int = 200_000
    yield_every: int = 100
    disabled_n: int = 200_000
    thread_n: int = 20_000
    memory_events: int = 5_000_000
    memory_max_bytes: int = 64 * MIB
    shutdown_n: int = 100_000
    metrics_n: int = 200_000
    sinks: tuple[int, ...] = (1, 2, 4, 8)
    sinks_n: int = 100_000
    sizes: tuple[int, ...] = (10**3, 10**4, 10**5, 10**6)
    huge: int | None = None
    #: thread producers (benchmarks.stall): events per row, events of the asyncio burst
    stall_events: int = 200_000
    stall_burst: int = 150_000
    #: file and console writers at full speed (benchmarks.writers; 10^7 with --huge)
    writers_events: int = 1_000_000
    #: the stdlib bridge (benchmarks.bridge): calls per block, rounds
    bridge_calls: int = 5_000
    bridge_rounds: int = 15
    #: the caller's parts (benchmarks.ablation): calls per round, rounds, interleaved passes
    ablation_calls: int = 2_000
    ablation_rounds: int = 50
    ablation_passes: int = 3
    #: shipping (benchmarks.shipping): events per batch, rounds
    shipping_events: int = 1_000
    shipping_rounds: int = 15
    #: the slow libraries log fewer events (their rates are still per event)
    scale: dict[str, float] = field(
        default_factory=lambda: {"loguru": 0.1, "stdlib-queue": 0.5, "pico-queue": 0.5}
    )
    picologging: bool | None = None

    @classmethod
    def full(cls, directory: str, rounds: int = 5, *, huge: bool = False) -> Settings:
        """The figures for the report."""
        return cls(
            quick=False,
            rounds=rounds,
            directory=directory,
            huge=10**7 if huge else None,
            writers_events=10**7 if huge else 10**6,
        )

    @classmethod
    def quick_pass(cls, directory: str, rounds: int = 1) -> Settings:
        """A smoke pass of a few seconds: small N, nothing asserted about time."""
        return cls(
            quick=True,
            rounds=rounds,
            directory=directory,
            block=500,
            caller_n=2_000,
            e2e_n=5_000,
            disabled_n=5_000,
            thread_n=1_000,
            memory_events=60_000,
            memory_max_bytes=4 * MIB,
            shutdown_n=5_000,
            metrics_n=5_000,
            sinks=(1, 2),
            sinks_n=2_000,
            sizes=(10**3, 10**4),
            huge=None,
            stall_events=4_000,
            stall_burst=4_000,
            writers_events=20_000,
            ablation_calls=500,
            ablation_rounds=2,
            ablation_passes=1,
            bridge_calls=500,
            bridge_rounds=2,
            shipping_events=100,
            shipping_rounds=2,
        )

    def n_for(self, case: Case, n: int) -> int:
        """``n`` scaled for slow libraries, at least two blocks."""
        return max(2 * self.block, int(n * self.scale.get(case.key, 1.0)) // 10 * 10)


def _rotate(cases: Sequence[Case], r: int) -> list[Case]:
    k = r % len(cases) if cases else 0
    return [*cases[k:], *cases[:k]]


def _path(settings: Settings, name: str) -> str:
    return os.path.join(settings.directory, f"{name}.log")


async def _leave(case: Case) -> None:
    await case.close()
    problems = case.problems()
    if problems:
        raise AssertionError(f"{case.key}: {'; '.join(problems)}")


def _check_lines(case: Case, path: str, expected: int) -> None:
    found = count_lines(path)
    if found != expected:
        raise AssertionError(f"{case.key}: {path} has {found} lines, expected {expected}")


# ---------------------------------------------------------------------------------------------
# 1. caller-side cost of an enabled call (trio thread)


async def _drained_blocks(case: Case, n: int, block: int) -> Blocks:
    """``n`` enabled calls timed in blocks of ``block``; the consumer drains between blocks,
    untimed."""
    collect()
    blocks = Blocks()
    done = 0
    while done < n:
        k = min(block, n - done)
        blocks.run(case.block, done, k)
        done += k
        await case.drain()
    return blocks


async def caller_once(case: Case, path: str, n: int, block: int, loop: Loop) -> dict[str, float]:
    """Mean wall and CPU ns per enabled call (loop overhead subtracted); the consumer drains
    between blocks, untimed (:func:`caller_round` of one case)."""
    return (await caller_round([(case, path, n)], block, loop))[case.key]


async def caller_round(
    runs: Sequence[tuple[Case, str, int]], block: int, loop: Loop
) -> dict[str, dict[str, float]]:
    """:func:`caller_once` for each ``(case, path, calls)``, the cases open at once and taking
    turns block by block (in the given order), so that a change of the machine's speed falls
    on all of them alike instead of on the one measured at that moment. A case that makes
    fewer calls (``Settings.scale``) stops taking turns when its calls are done. The turns run
    on a frozen heap (:func:`~benchmarks._util.frozen_heap`: a full collection of the heap
    of every open case would fall on one case by chance); each case's figures count the full
    collections its own blocks held."""
    warm = min(block, 200)
    for case, path, _calls in runs:
        remove(path)
        await case.open(path, e2e=False)
        case.block(-warm, warm)
        await case.drain()
    blocks = {case.key: Blocks() for case, _path, _calls in runs}
    done = {case.key: 0 for case, _path, _calls in runs}
    with frozen_heap():
        while any(done[case.key] < calls for case, _path, calls in runs):
            for case, _path, calls in runs:
                k = min(block, calls - done[case.key])
                if k > 0:
                    blocks[case.key].run(case.block, done[case.key], k)
                    done[case.key] += k
                    await case.drain()
    for case, path, calls in reversed(runs):  # (each holds nurseries: left in reverse order)
        await _leave(case)
        _check_lines(case, path, calls + warm)
        remove(path)
    return {key: b.per_call(loop) for key, b in blocks.items()}


async def caller_suite(settings: Settings, loop: Loop, progress: Progress) -> dict[str, Any]:
    """Caller-side ns per enabled call for every library (:func:`caller_round`, the order of
    the turns rotated from round to round)."""
    cases = library_cases(picologging=settings.picologging)
    runs: dict[str, list[dict[str, float]]] = {c.key: [] for c in cases}
    for r in range(settings.rounds):
        turns = [
            (case, _path(settings, f"caller-{case.key}"), settings.n_for(case, settings.caller_n))
            for case in _rotate(cases, r)
        ]
        for key, value in (await caller_round(turns, settings.block, loop)).items():
            runs[key].append(value)
        progress(f"caller round {r + 1}/{settings.rounds}")
    return _per_call_section(cases, runs)


def _per_call_section(
    cases: Sequence[Case], runs: dict[str, list[dict[str, float]]]
) -> dict[str, Any]:
    return {
        "unit": "ns/call",
        "labels": {c.key: c.label for c in cases},
        "results": {k: summary([x["wall"] for x in v]) for k, v in runs.items()},
        "cpu": {k: summary([x["cpu"] for x in v]) for k, v in runs.items()},
        "full_collections": {
            k: {
                "count": int(sum(x.get("full_gcs", 0) for x in v)),
                "ms": sum(x.get("full_gc_ms", 0.0) for x in v),
            }
            for k, v in runs.items()
        },
    }


# ---------------------------------------------------------------------------------------------
# 2. end-to-end throughput


async def e2e_once(case: Case, path: str, n: int, yield_every: int) -> dict[str, float]:
    """Events per second from the first call until the logger has been left with everything
    on disk (the file is checked to hold ``n`` lines less what the library counted as dropped:
    every event is accounted for); also the split between producing and leaving, the events
    dropped, and the largest backlog seen (sampled every ``10 * yield_every`` events)."""
    remove(path)
    await case.open(path, e2e=True, events=n)
    collect()
    peak = 0
    sample = 0
    c0 = time.process_time_ns()
    t0 = time.perf_counter()
    done = 0
    while done < n:
        k = min(yield_every, n - done)
        case.block(done, k)
        done += k
        await trio.lowlevel.checkpoint()
        sample += 1
        if sample == 10:
            sample = 0
            peak = max(peak, case.backlog())
    produced = time.perf_counter()
    peak = max(peak, case.backlog())
    await _leave(case)
    left = time.perf_counter()
    cpu = time.process_time_ns() - c0
    dropped = case.dropped()
    _check_lines(case, path, n - dropped)
    remove(path)
    return {
        "rate": n / (left - t0),
        "dropped": float(dropped),
        "produce_s": produced - t0,
        "leave_s": left - produced,
        "peak_backlog": float(peak),
        "cpu_ns": cpu / n,
    }


async def e2e_suite(settings: Settings, progress: Progress) -> dict[str, Any]:
    """End-to-end events/s for every library (logactors with its default configuration, and
    tuned, labelled as such).

    Each round runs logactors (default configuration) first and again after every other case,
    so that each case runs between two logactors runs: its ratio is the mean rate of those two
    runs over its own (``paired``; the report takes the median of the rounds). A run lasts
    one to a few seconds, about as long as this machine's changes of speed: two runs side by
    side see the same machine far more often than two runs minutes apart."""
    cases = library_cases(picologging=settings.picologging, tuned=True)
    reference, peers = cases[0], cases[1:]
    runs: dict[str, list[dict[str, float]]] = {c.key: [] for c in cases}
    paired: dict[str, list[float]] = {c.key: [] for c in peers}
    events: dict[str, int] = {}

    async def run(case: Case) -> float:
        n = events[case.key] = settings.n_for(case, settings.e2e_n)
        result = await e2e_once(case, _path(settings, f"e2e-{case.key}"), n, settings.yield_every)
        runs[case.key].append(result)
        return result["rate"]

    for r in range(settings.rounds):
        before = await run(reference)
        for case in _rotate(peers, r):
            rate = await run(case)
            after = await run(reference)
            paired[case.key].append((before + after) / 2 / rate)
            before = after
        progress(f"end-to-end round {r + 1}/{settings.rounds}")
    return {
        "unit": "events/s",
        "labels": {c.key: c.label for c in cases},
        "yield_every": settings.yield_every,
        "events": events,
        "results": {k: summary([x["rate"] for x in v]) for k, v in runs.items()},
        "paired": {k: summary(v) for k, v in paired.items()},
        "produce_s": {k: summary([x["produce_s"] for x in v]) for k, v in runs.items()},
        "leave_s": {k: summary([x["leave_s"] for x in v]) for k, v in runs.items()},
        "peak_backlog": {k: summary([x["peak_backlog"] for x in v]) for k, v in runs.items()},
        "cpu_ns_per_event": {k: summary([x["cpu_ns"] for x in v]) for k, v in runs.items()},
        "dropped": {k: max(x["dropped"] for x in v) for k, v in runs.items()},
    }


async def text_suite(settings: Settings, progress: Progress) -> dict[str, Any]:
    """End-to-end events/s writing the ``text`` format to a file: logactors and picologging's
    StreamHandler (same content: timestamp, level, rendered message)."""
    cases = text_cases(picologging=settings.picologging)
    runs: dict[str, list[dict[str, float]]] = {c.key: [] for c in cases}
    for r in range(settings.rounds):
        for case in _rotate(cases, r):
            n = settings.n_for(case, settings.e2e_n)
            runs[case.key].append(
                await e2e_once(case, _path(settings, f"text-{case.key}"), n, settings.yield_every)
            )
        progress(f"text round {r + 1}/{settings.rounds}")
    return {
        "unit": "events/s",
        "labels": {c.key: c.label for c in cases},
        "results": {k: summary([x["rate"] for x in v]) for k, v in runs.items()},
        "dropped": {k: max(x["dropped"] for x in v) for k, v in runs.items()},
    }


# ---------------------------------------------------------------------------------------------
# 3. disabled calls


async def disabled_suite(settings: Settings, loop: Loop, progress: Progress) -> dict[str, Any]:
    """ns per disabled call for every library with a level gate, and an empty function.

    A disabled call costs ~100 ns, so a burst of interference from another process would
    decide a whole round: all the loggers are opened at once and the libraries take turns
    block by block (``10 * settings.rounds`` blocks each); the figure is the median block.
    """
    cases = [c for c in library_cases(picologging=settings.picologging) if c.gated]
    cases.append(EmptyCallCase())
    runs: dict[str, list[dict[str, float]]] = {c.key: [] for c in cases}
    for case in cases:
        await case.open(_path(settings, f"disabled-{case.key}"), e2e=False)
        case.disabled_block(0, settings.block)
    n = max(settings.disabled_n // 10, settings.block)
    collect()
    for r in range(10 * settings.rounds):
        for case in _rotate(cases, r):
            blocks = Blocks()
            blocks.run(case.disabled_block, 0, n)
            runs[case.key].append(blocks.per_call(loop))
        if r % 10 == 9:
            progress(f"disabled round {r // 10 + 1}/{settings.rounds}")
    for case in cases:
        await _leave(case)
        if case.key != "empty-call":
            _check_lines(case, _path(settings, f"disabled-{case.key}"), 0)
        remove(_path(settings, f"disabled-{case.key}"))
    return _per_call_section(cases, runs)


# ---------------------------------------------------------------------------------------------
# 4. calls from a worker thread


async def thread_once(case: Case, path: str, n: int, block: int, loop: Loop) -> dict[str, float]:
    """Mean wall and CPU ns per enabled call made from a ``trio.to_thread.run_sync``
    thread."""
    remove(path)
    await case.open(path, e2e=False)
    warm = min(block, 200)

    def worker() -> Blocks:
        case.block(-warm, warm)
        trio.from_thread.run(case.drain)
        blocks = Blocks()
        done = 0
        while done < n:
            k = min(block, n - done)
            blocks.run(case.block, done, k)
            done += k
            trio.from_thread.run(case.drain)
        return blocks

    collect()
    blocks = await trio.to_thread.run_sync(worker)
    await _leave(case)
    _check_lines(case, path, n + warm)
    remove(path)
    return blocks.per_call(loop)


async def thread_suite(settings: Settings, loop: Loop, progress: Progress) -> dict[str, Any]:
    """Caller-side ns per call from a worker thread."""
    cases = [c for c in library_cases(picologging=settings.picologging) if c.threads]
    runs: dict[str, list[dict[str, float]]] = {c.key: [] for c in cases}
    for r in range(settings.rounds):
        for case in _rotate(cases, r):
            n = settings.n_for(case, settings.thread_n)
            runs[case.key].append(
                await thread_once(
                    case, _path(settings, f"thread-{case.key}"), n, settings.block, loop
                )
            )
        progress(f"thread round {r + 1}/{settings.rounds}")
    return _per_call_section(cases, runs)


# ---------------------------------------------------------------------------------------------
# 5. memory with a stalled sink (child process: a clean RSS baseline)


def memory_suite(settings: Settings, progress: Progress) -> dict[str, Any]:
    """Run :mod:`benchmarks.memory_child` and return what it measured."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.memory_child",
        "--events",
        str(settings.memory_events),
        "--max-bytes",
        str(settings.memory_max_bytes),
    ]
    # The child imports what this process imported: the same PYTHONPATH first (a scratch
    # build of logactors, say), then this checkout; the cwd is not on its path.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH", ""), root) if p),
    }
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.directory,
        env=env,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    progress("memory done")
    return result


# ---------------------------------------------------------------------------------------------
# 7. shutdown


async def shutdown_once(
    path: str, n: int, strategy: Literal["graceful", "immediate"]
) -> dict[str, Any]:
    """Queue ``n`` events with no checkpoint, then time leaving the ``async with`` block."""
    remove(path)
    notes: list[str] = []  # the self-log: "N events abandoned (lost)" with immediate
    queue = QueueConfig(max_events=max(2 * n, 10_000), overflow="block")
    config = SupervisorConfig(
        min_level="info",
        sinks=[FileSink(name="file", path=path, format="clef", queue=queue)],
        shutdown=ShutdownConfig(strategy=strategy, timeout=60.0),
        self_log=notes.append,
    )
    collect()
    async with logactors.open_logger(config) as log:
        for i in range(n):
            log.info("Processing request {id} for {user}", id=i, user="bob")
        depth = log.metrics().sinks["file"].queue_depth
        t0 = time.perf_counter()
    elapsed = time.perf_counter() - t0
    report = log.report
    assert report is not None
    written = count_lines(path)
    sink = report.sinks["file"]
    if strategy == "graceful" and (written != n or sink.lost):
        raise AssertionError(f"graceful shutdown wrote {written} of {n} (lost {sink.lost})")
    if sink.written + sink.lost + sink.dropped != n:
        raise AssertionError(f"shutdown ledger: {sink}")
    remove(path)
    return {
        "seconds": elapsed,
        "queued": depth,
        "written": sink.written,
        "lost": sink.lost,
        "report_duration_s": report.duration_s,
    }


async def shutdown_suite(settings: Settings, progress: Progress) -> dict[str, Any]:
    """Drain time of ``shutdown_n`` queued events (graceful) and ``immediate`` time."""
    out: dict[str, Any] = {"events": settings.shutdown_n}
    strategies: tuple[Literal["graceful", "immediate"], ...] = ("graceful", "immediate")
    for strategy in strategies:
        runs = [
            await shutdown_once(
                _path(settings, f"shutdown-{strategy}"), settings.shutdown_n, strategy
            )
            for _ in range(settings.rounds)
        ]
        out[strategy] = {
            "seconds": summary([r["seconds"] for r in runs]),
            "queued": runs[-1]["queued"],
            "written": runs[-1]["written"],
            "lost": runs[-1]["lost"],
        }
    progress("shutdown done")
    return out


# ---------------------------------------------------------------------------------------------
# 8. scaling


async def sinks_suite(settings: Settings, loop: Loop, progress: Progress) -> dict[str, Any]:
    """Per-event cost with 1…8 matching null sinks, and with 8 sinks of which 1 matches."""
    variants: list[tuple[str, int, int]] = [(f"{k} matching", k, k) for k in settings.sinks]
    top = max(settings.sinks)
    variants.append((f"{top} sinks, 1 matching", top, 1))
    e2e: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    caller: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    for r in range(settings.rounds):
        for name, sinks, matching in variants:
            case = LogactorsCase(sinks=sinks, matching=matching, null=True)
            path = _path(settings, "sinks")
            case_e2e = await _null_e2e_ns(case, path, settings.sinks_n, settings.yield_every)
            e2e[name].append(case_e2e)
            caller[name].append(
                await _null_caller_ns(case, path, settings.sinks_n // 2, settings.block, loop)
            )
        progress(f"sinks round {r + 1}/{settings.rounds}")
    return {
        "sink": "NullSink",
        "variants": [{"name": n, "sinks": s, "matching": m} for n, s, m in variants],
        "e2e_ns_per_event": {k: summary(v) for k, v in e2e.items()},
        "caller_ns_per_event": {k: summary(v) for k, v in caller.items()},
    }


async def _null_e2e_ns(case: LogactorsCase, path: str, n: int, yield_every: int) -> float:
    await case.open(path, e2e=True, events=n)
    collect()
    t0 = time.perf_counter_ns()
    done = 0
    while done < n:
        k = min(yield_every, n - done)
        case.block(done, k)
        done += k
        await trio.lowlevel.checkpoint()
    await _leave(case)
    elapsed = time.perf_counter_ns() - t0
    assert case.report is not None
    for name, m in case.report.sinks.items():
        expected = n if int(name.removeprefix("null")) < case.matching else 0
        if m.written != expected:
            raise AssertionError(f"{name}: wrote {m.written}, expected {expected}")
    return elapsed / n


async def _null_caller_ns(case: LogactorsCase, path: str, n: int, block: int, loop: Loop) -> float:
    await case.open(path, e2e=False)
    case.block(-block, block)
    await case.drain()
    blocks = await _drained_blocks(case, n, block)
    await _leave(case)
    return blocks.per_call(loop)["wall"]


async def sizes_suite(settings: Settings, progress: Progress) -> dict[str, Any]:
    """End-to-end ns per event (file sink) from 10^3 to 10^6 (10^7 once, in full mode)."""
    sizes = list(settings.sizes)
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in sizes}
    rss: dict[int, int] = {}
    path = _path(settings, "sizes")
    for r in range(settings.rounds):
        for n in sizes:
            runs[n].append(await e2e_once(LogactorsCase(), path, n, settings.yield_every))
            rss[n] = rss_bytes()
        progress(f"sizes round {r + 1}/{settings.rounds}")
    if settings.huge:
        n = settings.huge
        runs[n] = [await e2e_once(LogactorsCase(), path, n, settings.yield_every)]
        rss[n] = rss_bytes()
        progress(f"sizes 10^{len(str(n)) - 1} done")
    return {
        "sink": "FileSink clef",
        "ns_per_event": {str(n): summary([1e9 / x["rate"] for x in v]) for n, v in runs.items()},
        "caller_side_ns_per_event": {
            str(n): summary([x["produce_s"] * 1e9 / n for x in v]) for n, v in runs.items()
        },
        "cpu_ns_per_event": {str(n): summary([x["cpu_ns"] for x in v]) for n, v in runs.items()},
        "peak_backlog": {str(n): summary([x["peak_backlog"] for x in v]) for n, v in runs.items()},
        "rss_after_bytes": {str(n): v for n, v in rss.items()},
    }
