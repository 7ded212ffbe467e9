"""File and console writers under a producer at full speed (default configuration).

One child process per run: ``N`` events logged by one trio task that checkpoints every
``--yield-every`` events, to a ``FileSink`` (``write_mode`` auto/thread/inline) or a
``ConsoleSink`` whose standard output is a pipe drained by a reader thread. Reported per run:
events written and dropped (goal: 0 dropped), the longest gap between two completed writes
while the producer ran (in seconds, and in events the producer logged meanwhile: the queue
holds 10,000, and a writer starved for long would show that many), peak RSS, and the wall
time.

    python -m benchmarks.writers                 # 10^6 events per run
    python -m benchmarks.writers --huge          # 10^7 events per run (minutes)
    python -m benchmarks.writers --shared-cost --events 200000   # FileSink(shared=True) cost

``python -m benchmarks --only writers`` runs the same (10^7 with its ``--huge``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import trio

import logactors
from logactors import ConsoleSink, FileSink, SupervisorConfig

from ._util import MIB, peak_rss_bytes


async def produce(kind: str, mode: str, events: int, yield_every: int, path: str) -> dict[str, Any]:
    from logactors.sinks import console, file

    stamps: list[float] = []
    produced = [0]  # events logged so far (updated per block)
    longest = [0.0]  # the longest single write (os.write calls, in the writing thread)
    marks: list[int] = [0]  # ``produced`` at each completed write
    producing = True
    if kind == "file":
        original = file._write_all

        def timed(fd: int, data: Any) -> int:
            began = time.perf_counter()
            done = original(fd, data)
            longest[0] = max(longest[0], time.perf_counter() - began)
            if producing:
                stamps.append(time.perf_counter())
                marks.append(produced[0])
            return done

        file._write_all = timed
        sink: Any = FileSink(name="out", path=path, write_mode=mode)  # type: ignore[arg-type]
    else:
        write = console._write

        def timed_console(stream: Any, data: bytes) -> None:
            write(stream, data)
            if producing:
                stamps.append(time.perf_counter())
                marks.append(produced[0])

        console._write = timed_console
        sink = ConsoleSink(name="out")
    t0 = time.perf_counter()
    async with logactors.open_logger(SupervisorConfig(sinks=[sink])) as log:
        stamps.append(time.perf_counter())
        for start in range(0, events, yield_every):
            for i in range(start, min(start + yield_every, events)):
                log.info("Processing request {id} for {user}", id=i, user="bob")
            produced[0] = i + 1
            await trio.lowlevel.checkpoint()
        stamps.append(time.perf_counter())
        producing = False
    assert log.report is not None
    m = log.report.sinks["out"]
    marks.append(produced[0])
    most = max(b - a for a, b in itertools.pairwise(marks))
    return {
        "stamps": stamps,
        "t0": t0,
        "written": m.written,
        "dropped": m.dropped,
        "max_events_between_writes": most,
        "longest_write_ms": round(longest[0] * 1000, 2),
    }


def child(kind: str, mode: str, events: int, yield_every: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "w.log")
        holder: dict[str, Any] = {}

        async def main() -> None:
            holder.update(await produce(kind, mode, events, yield_every, path))

        t0 = time.perf_counter()
        trio.run(main)
        wall = time.perf_counter() - t0
        lines = 0
        if kind == "file":
            with open(path, "rb") as f:
                for _ in f:
                    lines += 1
        stamps = holder["stamps"]
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        result = {
            "kind": kind,
            "mode": mode,
            "events": events,
            "lines": lines,
            "written": holder["written"],
            "dropped": holder["dropped"],
            "writes": len(stamps) - 2,
            "max_events_between_writes": holder["max_events_between_writes"],
            # (timed for files only: the console's writes are not wrapped)
            "longest_write_ms": holder["longest_write_ms"] if kind == "file" else None,
            "max_gap_ms": round(max(gaps) * 1000, 2) if gaps else None,
            # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over an exec, so a
            # child started by a bigger parent (python -m benchmarks) would report the parent's
            "peak_rss_mib": round(peak_rss_bytes() / MIB, 1),
            "wall_s": round(wall, 2),
        }
        print(json.dumps(result), file=sys.stderr if kind == "console" else sys.stdout)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = "file:auto,file:thread,file:inline,console:thread"


def run(kind: str, mode: str, events: int, yield_every: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.writers", "--child", kind, mode]
    cmd += ["--events", str(events), "--yield-every", str(yield_every)]
    if kind == "file":
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
        return dict(json.loads(out.stdout.splitlines()[-1]), stderr=out.stderr[-2000:])
    # console: stdout is a pipe read by a thread that counts lines; the result goes to stderr
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    counted = [0]

    def drain() -> None:
        assert proc.stdout is not None
        for _ in proc.stdout:
            counted[0] += 1

    reader = threading.Thread(target=drain)
    reader.start()
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    proc.wait()
    reader.join()
    lines = [x for x in err.splitlines() if x.startswith("{")]
    result = json.loads(lines[-1])
    result["lines"] = counted[0]
    result["stderr"] = "\n".join(x for x in err.splitlines() if not x.startswith("{"))[-2000:]
    return dict(result)


async def writers_suite(settings: Any, progress: Any) -> dict[str, Any]:
    """The suite as ``python -m benchmarks --only writers`` runs it: every run in ``RUNS``,
    one child process each (started from a worker thread)."""
    rows = []
    for spec in RUNS.split(","):
        kind, mode = spec.split(":")
        progress(f"writers: {kind} {mode}, {settings.writers_events:,} events")
        rows.append(
            await trio.to_thread.run_sync(
                run, kind, mode, settings.writers_events, settings.yield_every
            )
        )
    return {"events": settings.writers_events, "runs": rows}


async def shared_cost(events: int, rounds: int) -> dict[str, float]:
    """CPU ns per event (whole process) of a file rolled every 1 MiB, default vs shared=True,
    alternated in one process; the median of ``rounds``."""
    results: dict[str, list[float]] = {"default": [], "shared": []}
    for _ in range(rounds):
        for shared in (False, True):
            with tempfile.TemporaryDirectory() as directory:
                sink = FileSink(
                    name="f",
                    path=os.path.join(directory, "s.clef"),
                    format="clef",
                    max_bytes="1MiB",
                    retain=None,
                    shared=shared,
                )
                c0 = time.process_time_ns()
                async with logactors.open_logger(SupervisorConfig(sinks=[sink])) as log:
                    for start in range(0, events, 100):
                        for i in range(start, start + 100):
                            log.info("Processing request {id} for {user}", id=i, user="bob")
                        await trio.lowlevel.checkpoint()
                cpu = time.process_time_ns() - c0
                assert log.report is not None
                assert log.report.sinks["f"].written == events
            results["shared" if shared else "default"].append(cpu / events)
    median = {k: sorted(v)[len(v) // 2] for k, v in results.items()}
    return {**median, "ratio": median["shared"] / median["default"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=None, help="events per run (10^6)")
    parser.add_argument("--huge", action="store_true", help="10^7 events per run")
    parser.add_argument("--yield-every", type=int, default=100)
    parser.add_argument("--child", nargs=2)
    parser.add_argument("--runs", default=RUNS)
    parser.add_argument("--shared-cost", action="store_true", help="default vs shared=True")
    args = parser.parse_args()
    if args.events is None:
        args.events = 10**7 if args.huge else 10**6
    if args.shared_cost:
        print(json.dumps(trio.run(shared_cost, args.events, 5)))
        return
    if args.child:
        kind, mode = args.child
        child(kind, mode, args.events, args.yield_every)
        return
    for spec in args.runs.split(","):
        kind, mode = spec.split(":")
        result = run(kind, mode, args.events, args.yield_every)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
