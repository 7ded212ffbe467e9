"""``python -m benchmarks.stall [--events N] [--quick]``: does logging from threads hold the loop?

Thread-producer suite. For 1 and 4 plain threads (``trio.to_thread.run_sync``) that log
``--events`` events in total as fast as they can into a NullSink, a heartbeat task on the trio
loop sleeps 10 ms at a time and records how late each tick wakes. The same heartbeat is then
measured beside the same number of threads doing CPU work without logging (a busy loop building
a dict, for as long as the logging run took): with the GIL, CPU-bound threads delay the loop by
themselves, and that is the reference the logging run is compared with. One more row has one
thread log into a CLEF file with the default settings, and the last has one thread log into a
NullSink after ``gc.collect()`` and ``gc.freeze()`` (as a service can do after its start-up:
full collections then leave out what existed before), its reference frozen the same way.

Then an asyncio program bursts ``--burst`` events through ``start_in_thread`` into a NullSink
and into a file (default settings) and reports what was dropped.

Reported per row: heartbeat ticks seen and expected, lateness p50 and max (ms), events dropped
(sink drops plus rejected calls), throughput (events per second while the threads ran), and the
full (generation 2) garbage collections that ran meanwhile, with the longest. A full collection
holds the GIL, so it holds the loop, for as long as it walks the process's heap; the suite also
times one ``gc.collect()`` of the heap before the rows (``heap_collect_ms``), the floor of such
a pause. Wall-clock figures depend on the machine's load: compare the rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

import trio

import logactors
from logactors import FileSink, NullSink, SupervisorConfig

from ._util import full_collections

TICK = 0.01


class Heartbeat:
    """A trio task that sleeps ``TICK`` seconds in a loop and records each tick's lateness."""

    def __init__(self) -> None:
        self.late: list[float] = []
        self.stop = False

    async def run(self) -> None:
        while not self.stop:
            before = time.perf_counter()
            await trio.sleep(TICK)
            self.late.append(time.perf_counter() - before - TICK)

    def figures(self, seconds: float) -> dict[str, Any]:
        late = sorted(self.late) or [0.0]
        return {
            "ticks": len(self.late),
            "expected_ticks": round(seconds / TICK),
            "late_p50_ms": round(statistics.median(late) * 1000, 2),
            "late_max_ms": round(late[-1] * 1000, 2),
        }


class FullCollections:
    """Counts the full (generation 2) garbage collections while installed, and the longest."""

    def __init__(self) -> None:
        self.count = 0
        self.longest = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.count += 1
            self.longest = max(self.longest, time.perf_counter() - self._started)

    def figures(self) -> dict[str, Any]:
        return {"gc_full": self.count, "gc_full_max_ms": round(self.longest * 1000, 2)}


def heap_collect_ms() -> dict[str, Any]:
    """One full collection of this process's heap, timed (the floor of a full-collection
    pause here), and the number of objects it tracks."""
    started = time.perf_counter()
    gc.collect()
    took = time.perf_counter() - started
    return {"heap_collect_ms": round(took * 1000, 2), "heap_objects": len(gc.get_objects())}


async def _with_heartbeat(work: Any) -> tuple[float, Heartbeat, dict[str, Any]]:
    beat = Heartbeat()
    full = FullCollections()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(beat.run)
        await trio.sleep(TICK * 3)  # the heartbeat is running before the threads start
        beat.late.clear()
        gc.callbacks.append(full)
        try:
            started = time.perf_counter()
            await work()
            seconds = time.perf_counter() - started
        finally:
            gc.callbacks.remove(full)
        beat.stop = True
    return seconds, beat, full.figures()


async def logging_row(
    threads: int, events: int, path: str | None = None, *, freeze: bool = False
) -> dict[str, Any]:
    """``threads`` threads log ``events`` events in total into a NullSink (or a CLEF file at
    ``path``, default settings). ``freeze``: the process calls ``gc.collect()`` then
    ``gc.freeze()`` once the logger has started, as a service would after its start-up, so
    that full collections leave out what existed by then (unfrozen after the row)."""
    sink: Any = NullSink(name="out") if path is None else FileSink(name="out", path=path)
    config = SupervisorConfig(sinks=[sink], self_log="off")
    per_thread = events // threads
    async with logactors.open_logger(config) as log, _frozen(freeze):

        def produce(worker: int) -> None:
            for n in range(per_thread):
                log.info("event {n} from {worker}", n=n, worker=worker)

        async def work() -> None:
            async with trio.open_nursery() as nursery:
                for worker in range(threads):
                    nursery.start_soon(trio.to_thread.run_sync, produce, worker)

        seconds, beat, collections = await _with_heartbeat(work)
        await log.flush()
        metrics = log.metrics()
    out = metrics.sinks["out"]
    return {
        "sink": "null" if path is None else "file",
        **({"gc_freeze": True} if freeze else {}),
        "threads": threads,
        "events": per_thread * threads,
        "seconds": round(seconds, 3),
        **beat.figures(seconds),
        "dropped": out.dropped + metrics.rejected,
        "written": out.written,
        "balanced": out.balanced,
        "events_per_s": round(per_thread * threads / seconds),
        **collections,
    }


@contextlib.asynccontextmanager
async def _frozen(freeze: bool) -> AsyncIterator[None]:
    if not freeze:
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def baseline_row(threads: int, seconds: float, *, freeze: bool = False) -> dict[str, Any]:
    """``threads`` threads busy with CPU work (no logging) for ``seconds`` (``freeze``: as in
    :func:`logging_row`)."""

    def spin(worker: int) -> None:
        deadline = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < deadline:
            for _ in range(100):
                n += len(str({"n": n, "worker": worker}))

    async def work() -> None:
        async with trio.open_nursery() as nursery:
            for worker in range(threads):
                nursery.start_soon(trio.to_thread.run_sync, spin, worker)

    async with _frozen(freeze):
        took, beat, collections = await _with_heartbeat(work)
    return {"threads": threads, "seconds": round(took, 3), **beat.figures(took), **collections}


def asyncio_burst(events: int, sink: str, directory: str) -> dict[str, Any]:
    """An asyncio task logs ``events`` events through ``start_in_thread`` (defaults)."""
    if sink == "file":
        path = os.path.join(directory, "burst.clef")
        chosen: Any = FileSink(name="out", path=path, format="clef")
    else:
        chosen = NullSink(name="out")
    log = logactors.start_in_thread(SupervisorConfig(sinks=[chosen], self_log="off"))

    async def burst() -> float:
        started = time.perf_counter()
        for n in range(events):
            log.info("burst {n}", n=n)
        return time.perf_counter() - started

    seconds = asyncio.run(burst())
    log.flush(timeout=120)
    report = log.close(timeout=60)
    assert report is not None
    out = report.sinks["out"]
    return {
        "sink": sink,
        "events": events,
        "seconds": round(seconds, 3),
        "dropped": out.dropped + report.rejected,
        "written": out.written,
        "balanced": out.balanced,
        "events_per_s": round(events / seconds),
    }


async def thread_suite(events: int, directory: str) -> list[dict[str, Any]]:
    rows = []
    for threads in (1, 4):
        logged = await logging_row(threads, events)
        reference = await baseline_row(threads, logged["seconds"])
        rows.append({"logging": logged, "no_logging": reference})
    to_file = await logging_row(1, events, os.path.join(directory, "thread.clef"))
    rows.append({"logging": to_file, "no_logging": await baseline_row(1, to_file["seconds"])})
    frozen = await logging_row(1, events, freeze=True)
    rows.append(
        {"logging": frozen, "no_logging": await baseline_row(1, frozen["seconds"], freeze=True)}
    )
    return rows


async def stall_suite(settings: Any, progress: Any) -> dict[str, Any]:
    """The suite as ``python -m benchmarks --only stall`` runs it (``settings``: the runner's
    ``Settings``; the asyncio bursts run in a worker thread, outside this trio run)."""
    progress(f"stall: 1 and 4 threads, {settings.stall_events:,} events per row")
    heap = heap_collect_ms()
    rows = await thread_suite(settings.stall_events, settings.directory)
    bursts = []
    for sink in ("null", "file"):
        progress(f"stall: asyncio burst of {settings.stall_burst:,} into {sink}")
        bursts.append(
            await trio.to_thread.run_sync(
                asyncio_burst, settings.stall_burst, sink, settings.directory
            )
        )
    return {"events": settings.stall_events, "threads": rows, "asyncio_burst": bursts, **heap}


def render(
    rows: list[dict[str, Any]], bursts: list[dict[str, Any]], heap: dict[str, Any] | None = None
) -> str:
    lines = [
        "thread producers (NullSink, then a file with default settings), heartbeat every 10 ms",
        f"{'threads':>7} {'run':<24} {'ticks':>11} {'p50 ms':>7} {'max ms':>8} "
        f"{'dropped':>8} {'events/s':>9} {'full GCs (longest ms)':>22}",
    ]
    for row in rows:
        for name in ("logging", "no_logging"):
            r = row[name]
            label = f"{name} ({r['sink']})" if "sink" in r else name
            if row["logging"].get("gc_freeze"):
                label += ", frozen"
            dropped = f"{r['dropped']:>8}" if "dropped" in r else f"{'':>8}"
            rate = f"{r['events_per_s']:>9}" if "events_per_s" in r else f"{'':>9}"
            lines.append(
                f"{r['threads']:>7} {label:<24} {r['ticks']:>5}/{r['expected_ticks']:<5} "
                f"{r['late_p50_ms']:>7.2f} {r['late_max_ms']:>8.2f} {dropped} {rate} "
                f"{full_collections(r):>22}"
            )
        log_max, ref_max = row["logging"]["late_max_ms"], row["no_logging"]["late_max_ms"]
        lines.append(f"{'':>7} max lateness, logging minus no logging: {log_max - ref_max:+.2f} ms")
    if heap:
        lines.append(
            f"one gc.collect() of this process's heap ({heap['heap_objects']:,} objects) "
            f"before the rows: {heap['heap_collect_ms']:.2f} ms"
        )
    lines.append("asyncio burst through start_in_thread (default settings)")
    for b in bursts:
        lines.append(
            f"  {b['sink']:<5} {b['events']} events: dropped {b['dropped']}, written "
            f"{b['written']}, {b['events_per_s']} events/s while logging"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stall", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000, help="events per thread row")
    parser.add_argument("--burst", type=int, default=150_000, help="events of the asyncio burst")
    parser.add_argument("--quick", action="store_true", help="a smoke pass (small counts)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    events, burst = (4_000, 4_000) if args.quick else (args.events, args.burst)
    with tempfile.TemporaryDirectory() as directory:
        heap = heap_collect_ms()
        rows = trio.run(thread_suite, events, directory)
        bursts = [asyncio_burst(burst, sink, directory) for sink in ("null", "file")]
    print(render(rows, bursts, heap))
    print(f"(1-minute load average after the run: {os.getloadavg()[0]:.1f})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"threads": rows, "asyncio_burst": bursts, **heap}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
