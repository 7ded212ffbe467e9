"""Suites about logactors alone: call shapes, per-call latency, file fan-out, counter updates.

* ``shapes``: caller ns per call for the shapes users write (two scalar properties,
  positional arguments, one small nested dict, a printf-style call, ``bind()``), each block
  against the same running logger, the consumer drained between blocks (untimed), on a
  frozen heap (``_util.frozen_heap``).
* ``latency``: every call timed on its own (``perf_counter_ns`` around it): p50/p99/max for
  logactors and for the bare trio pipeline, the two taking turns block by block on a frozen
  heap.
* ``fanout``: end-to-end ns per event with 1 and 4 CLEF file sinks (same format: the batch
  can be encoded once), queue sized for the run (labelled tuned: nothing may drop).
* ``metrics``: how many counter updates the real event path makes per event, counted by
  running it with the sinks' counter objects switched to a counting subclass, times the cost
  of one update.

All of them call the library's real code: nothing here copies or recompiles it.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any

import trio

from ._util import Loop, count_lines, frozen_heap, remove, summary
from .cases import BareCase, Case, LogactorsCase
from .suites import Progress, Settings, _check_lines, _leave, _path, caller_once, e2e_once

perf_counter_ns = time.perf_counter_ns
Shape = Callable[[Any, int, int], int]


def _two_scalars(log: Any, start: int, n: int) -> int:
    t0 = perf_counter_ns()
    for i in range(start, start + n):
        log.info("Processing request {id} for {user}", id=i, user="bob")
    return perf_counter_ns() - t0


def _positional(log: Any, start: int, n: int) -> int:
    t0 = perf_counter_ns()
    for i in range(start, start + n):
        log.info("Processing request {id} for {user}", i, "bob")
    return perf_counter_ns() - t0


def _nested(log: Any, start: int, n: int) -> int:
    t0 = perf_counter_ns()
    for i in range(start, start + n):
        log.info("Processing request {request}", request={"id": i, "user": "bob"})
    return perf_counter_ns() - t0


def _printf(log: Any, start: int, n: int) -> int:
    t0 = perf_counter_ns()
    for i in range(start, start + n):
        log.info("Processing request %s for %s", i, "bob")
    return perf_counter_ns() - t0


def _bind(log: Any, start: int, n: int) -> int:
    t0 = perf_counter_ns()
    for i in range(start, start + n):
        log.bind(request_id=i, user="bob")
    return perf_counter_ns() - t0


SHAPES: dict[str, tuple[Shape, bool]] = {
    # name: (block, writes one line per call)
    "two scalars": (_two_scalars, True),
    "positional": (_positional, True),
    "nested dict": (_nested, True),
    "printf style": (_printf, True),
    "bind()": (_bind, False),
}


async def shapes_suite(settings: Settings, loop: Loop, progress: Progress) -> dict[str, Any]:
    """Caller ns per call for each shape (median of ``rounds``). The shapes take turns block
    by block on one logger (the order rotated from round to round), so that a change of the
    machine's speed falls on all of them alike."""
    runs: dict[str, list[float]] = {name: [] for name in SHAPES}
    path = _path(settings, "shapes")
    n = settings.caller_n
    names = list(SHAPES)
    for r in range(settings.rounds):
        remove(path)
        case = LogactorsCase()
        await case.open(path, e2e=False)
        log = case.log
        expected = 0
        for shape, writes in SHAPES.values():
            shape(log, -settings.block, settings.block)  # warm
            await case.drain()
            expected += (n + settings.block) if writes else 0
        totals = dict.fromkeys(SHAPES, 0)
        done = 0
        turn = r % len(names)
        with frozen_heap():  # (a full collection would fall on one shape by chance)
            while done < n:
                k = min(settings.block, n - done)
                for name in names[turn:] + names[:turn]:
                    totals[name] += SHAPES[name][0](log, done, k)
                    await case.drain()
                done += k
        for name, total in totals.items():
            runs[name].append(total / n - loop.wall)
        await _leave(case)
        found = count_lines(path)
        if found != expected:
            raise AssertionError(f"shapes: {found} lines written, expected {expected}")
        remove(path)
        progress(f"shapes round {r + 1}/{settings.rounds}")
    return {"unit": "ns/call", "results": {k: summary(v) for k, v in runs.items()}}


def _timed_calls(info: Callable[..., None], start: int, n: int, out: list[int]) -> None:
    append = out.append
    for i in range(start, start + n):
        t0 = perf_counter_ns()
        info("Processing request {id} for {user}", id=i, user="bob")
        append(perf_counter_ns() - t0)


def _minor_faults() -> int:
    """This process's minor page faults so far, every thread's (memory the allocator touches
    for the first time since it had it from the system: on this VM a few µs each). The
    timed calls run on the trio thread; a worker thread still writing counts too."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _percentiles(values: list[int]) -> dict[str, float]:
    ordered = sorted(values)
    last = len(ordered) - 1
    return {
        "p50": float(ordered[last // 2]),
        "p90": float(ordered[last * 9 // 10]),
        "p99": float(ordered[last * 99 // 100]),
        "max": float(ordered[last]),
    }


async def latency_suite(settings: Settings, progress: Progress) -> dict[str, Any]:
    """Per-call latency percentiles (ns, timer included) for logactors and the bare pipeline.

    Both are open at once and take turns block by block (the first of each turn alternating),
    the consumers drained between blocks (untimed), on a frozen heap: a change of the
    machine's speed, or a full collection of the heap of start-up, falls on both alike. The
    bare pipeline's percentiles are the machine's own spread for a call of that kind; the
    minor page faults inside each one's blocks are counted (a call that takes one is several
    times slower: they fall around the 99th percentile)."""
    cases: list[Case] = [LogactorsCase(), BareCase()]
    paths = {case.key: _path(settings, f"latency-{case.key}") for case in cases}
    infos: dict[str, Callable[..., None]] = {}
    times: dict[str, list[int]] = {case.key: [] for case in cases}
    block = settings.block
    for case in cases:
        remove(paths[case.key])
        await case.open(paths[case.key], e2e=False)
        if isinstance(case, LogactorsCase):
            assert case.log is not None
            infos[case.key] = case.log.info
        elif isinstance(case, BareCase):
            infos[case.key] = case.info
        _timed_calls(infos[case.key], -block, block, [])  # (warm, not kept)
        await case.drain()
    faults = dict.fromkeys(times, 0)
    with frozen_heap():
        for turn, start in enumerate(range(0, settings.caller_n, block)):
            k = min(block, settings.caller_n - start)
            for case in cases if turn % 2 == 0 else cases[::-1]:
                before = _minor_faults()
                _timed_calls(infos[case.key], start, k, times[case.key])
                faults[case.key] += _minor_faults() - before
                await case.drain()
    for case in reversed(cases):  # (each holds nurseries: left in reverse order)
        await _leave(case)
        _check_lines(case, paths[case.key], block + settings.caller_n)
        remove(paths[case.key])
    out: dict[str, Any] = {
        "unit": "ns/call (timer overhead included)",
        "results": {key: _percentiles(values) for key, values in times.items()},
        # page faults per 1,000 calls: each costs a few µs here, enough to be a p99
        "minor_faults_per_1000": {key: 1000 * n / settings.caller_n for key, n in faults.items()},
    }
    t0 = perf_counter_ns()
    for _ in range(100_000):
        perf_counter_ns()
    out["timer_ns"] = (perf_counter_ns() - t0) / 100_000
    progress("latency done")
    return out


async def fanout_suite(settings: Settings, progress: Progress) -> dict[str, Any]:
    """End-to-end ns per event with 1 and 4 CLEF file sinks (tuned queue). Each round runs
    one sink, four sinks, one sink: the round's ratio (``paired``) is the four sinks' figure
    over the mean of the one-sink runs on either side of it (see :func:`e2e_suite`)."""
    runs: dict[str, list[float]] = {"1 file sink": [], "4 file sinks": []}
    paired: list[float] = []
    n = settings.sinks_n

    async def run(sinks: int) -> float:
        path = _path(settings, f"fanout-{sinks}")
        result = await e2e_once(
            LogactorsCase(sinks=sinks, tuned=True), path, n, settings.yield_every
        )
        for i in range(1, sinks):
            remove(f"{path}.{i}")
        ns = 1e9 / result["rate"]
        runs["1 file sink" if sinks == 1 else f"{sinks} file sinks"].append(ns)
        return ns

    for r in range(settings.rounds):
        before = await run(1)
        four = await run(4)
        after = await run(1)
        paired.append(four / ((before + after) / 2))
        progress(f"fanout round {r + 1}/{settings.rounds}")
    return {
        "unit": "ns/event",
        "results": {k: summary(v) for k, v in runs.items()},
        "paired": {"4 file sinks": summary(paired)},
    }


async def metrics_suite(settings: Settings, loop: Loop, progress: Progress) -> dict[str, Any]:
    """Counter updates per event on the real event path, the cost of one update, and the
    share of the end-to-end CPU per event they take."""
    from logactors.metrics import Counters

    tally = [0]

    class Counting(Counters):
        __slots__ = ()

        def __setattr__(self, name: str, value: Any) -> None:
            tally[0] += 1
            Counters.__setattr__(self, name, value)

    path = _path(settings, "metrics")
    n = settings.metrics_n
    case = LogactorsCase()
    remove(path)
    await case.open(path, e2e=False)
    assert case.log is not None
    actors = list(case.log._rt.actors.values())
    for actor in actors:
        actor.counters.__class__ = Counting
        inbox_counters = getattr(actor.inbox, "counters", None)
        if inbox_counters is not None and type(inbox_counters) is Counters:
            inbox_counters.__class__ = Counting
    tally[0] = 0
    done = 0
    while done < n:
        k = min(settings.block, n - done)
        case.block(done, k)
        done += k
        await case.drain()
    updates = tally[0] / n
    for actor in actors:
        actor.counters.__class__ = Counters
    await _leave(case)
    remove(path)
    cpu = [
        (await e2e_once(LogactorsCase(), path, n, settings.yield_every))["cpu_ns"]
        for _ in range(settings.rounds)
    ]
    caller = [
        (await caller_once(LogactorsCase(), path, n, settings.block, loop))["wall"]
        for _ in range(settings.rounds)
    ]
    micro = _counter_micro_ns()
    progress("metrics done")
    await trio.lowlevel.checkpoint()
    return {
        "method": "counter updates counted on the real event path (counters switched to a "
        "counting subclass for one run) x the cost of one update",
        "updates_per_event": updates,
        "counter_update_ns": micro,
        "e2e_cpu_ns_per_event": summary(cpu),
        "caller_ns": summary(caller),
    }


def _counter_micro_ns(n: int = 1_000_000) -> float:
    """Cost of one ``obj.counters.accepted += 1`` on the real counters class."""
    from logactors.metrics import Counters

    class Holder:
        __slots__ = ("counters",)

        def __init__(self) -> None:
            self.counters = Counters()

    holder = Holder()
    best = []
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for _i in range(n):
            holder.counters.accepted += 1
        t1 = time.perf_counter_ns()
        for _i in range(n):
            pass
        t2 = time.perf_counter_ns()
        best.append(((t1 - t0) - (t2 - t1)) / n)
    return sorted(best)[len(best) // 2]
