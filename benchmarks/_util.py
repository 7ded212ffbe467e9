"""Small helpers: statistics, RSS, machine description, files."""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

MIB = 1024 * 1024


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (NaN when empty)."""
    return float(statistics.median(values)) if values else float("nan")


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median, min, max and the raw per-round values."""
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "rounds": []}
    return {
        "median": median(values),
        "min": float(min(values)),
        "max": float(max(values)),
        "rounds": [float(v) for v in values],
    }


def rss_bytes() -> int:
    """Resident set size of this process now (``VmRSS`` of ``/proc/self/status``)."""
    return _status_field("VmRSS")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (``VmHWM``)."""
    return _status_field("VmHWM")


def _status_field(name: str) -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def count_lines(path: str) -> int:
    """Number of newline-terminated lines in ``path`` (0 when it does not exist)."""
    try:
        with open(path, "rb") as handle:
            count = 0
            while chunk := handle.read(1 << 20):
                count += chunk.count(b"\n")
            return count
    except FileNotFoundError:
        return 0


def remove(path: str) -> None:
    """Delete ``path`` if it exists."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def collect() -> None:
    """Full garbage collection before a timed section (not timed)."""
    gc.collect()


class FullCollections:
    """Counts the full (generation 2) garbage collections, and their wall time, while
    :func:`frozen_heap` has it installed (``gc.callbacks``)."""

    __slots__ = ("_t0", "count", "ns")

    def __init__(self) -> None:
        self.count = 0
        self.ns = 0
        self._t0 = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._t0 = time.perf_counter_ns()
        else:
            self.count += 1
            self.ns += time.perf_counter_ns() - self._t0


#: the counter :class:`Blocks` reads (installed by :func:`frozen_heap`)
FULL_COLLECTIONS = FullCollections()


@contextlib.contextmanager
def frozen_heap() -> Iterator[FullCollections]:
    """Timed turns of several cases open at once: ``gc.collect()`` then ``gc.freeze()`` before
    them, ``gc.unfreeze()`` after. A full collection walks the whole heap (every open case,
    the benchmark's own objects) and its cost falls on whichever case is taking its turn: on
    this machine one full collection of about 30 ms in a round of 50,000 calls moved a case's
    mean by some 600 ns a call, and so the caller ratio between 1.3 and 2.4 from round to round
    depending on which case it fell on. Frozen, the heap of start-up is out of the collector's
    walk, as a service can do after its start-up (the ``stall`` suite's frozen row); young
    collections, and full ones over what the turns allocate, still run and are still timed.
    The full collections each case's blocks held are counted (:class:`Blocks`)."""
    gc.collect()
    gc.freeze()
    gc.callbacks.append(FULL_COLLECTIONS)
    try:
        yield FULL_COLLECTIONS
    finally:
        gc.callbacks.remove(FULL_COLLECTIONS)
        gc.unfreeze()


@dataclass(frozen=True)
class Loop:
    """Per-iteration cost of the bare ``for i in range(...)`` loop of the call blocks, in wall
    and thread-CPU nanoseconds (the minimum of several rounds: interference only adds)."""

    wall: float
    cpu: float


def loop_overhead(n: int = 200_000, rounds: int = 7) -> Loop:
    """Measure :class:`Loop`."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        for _i in range(n):
            pass
        wall.append((time.perf_counter_ns() - t0) / n)
        cpu.append((time.thread_time_ns() - c0) / n)
    return Loop(wall=min(wall), cpu=min(cpu))


class Blocks:
    """Accumulates timed blocks of calls: wall time (``perf_counter_ns``, what the block
    returns) and the calling thread's CPU time (``thread_time_ns``, immune to other processes
    taking the CPU, blind to time spent waiting for the GIL), and the full garbage collections
    that ran inside the blocks (counted while :func:`frozen_heap` is on)."""

    __slots__ = ("calls", "cpu", "full_gc_ns", "full_gcs", "wall")

    def __init__(self) -> None:
        self.wall = 0
        self.cpu = 0
        self.calls = 0
        self.full_gcs = 0
        self.full_gc_ns = 0

    def run(self, block: Callable[[int, int], int], start: int, n: int) -> None:
        """Run ``block(start, n)`` (which returns its wall nanoseconds) and account it."""
        full = FULL_COLLECTIONS
        g0, gns0 = full.count, full.ns
        c0 = time.thread_time_ns()
        self.wall += block(start, n)
        self.cpu += time.thread_time_ns() - c0
        self.calls += n
        self.full_gcs += full.count - g0
        self.full_gc_ns += full.ns - gns0

    def per_call(self, loop: Loop) -> dict[str, float]:
        """Mean ns per call, loop overhead subtracted, and the full collections the blocks
        held: ``{"wall": ..., "cpu": ..., "full_gcs": ..., "full_gc_ms": ...}``."""
        calls = self.calls or 1
        return {
            "wall": self.wall / calls - loop.wall,
            "cpu": self.cpu / calls - loop.cpu,
            "full_gcs": float(self.full_gcs),
            "full_gc_ms": self.full_gc_ns / 1e6,
        }


#: a turn of :func:`fastest_turns`: ``block(n)`` makes ``n`` calls, ``settle()`` then lets the
#: queues drain (not timed; ``None``: nothing to drain)
Turn = tuple[Callable[[int], object], "Callable[[], Awaitable[object]] | None"]


async def fastest_turns(rows: Mapping[str, Turn], rounds: int, calls: int) -> dict[str, float]:
    """Thread-CPU ns per call of each row, the fastest of ``rounds`` turns of ``calls`` calls.
    The rows take turns round by round, the order rotated from round to round, so that a
    change of the machine's speed (seconds at a time on the benchmarks' VM) falls on every row
    alike instead of on the one measured at that moment."""
    names = list(rows)
    best = dict.fromkeys(names, float("inf"))
    for r in range(rounds):
        turn = r % len(names) if names else 0
        for name in names[turn:] + names[:turn]:
            block, settle = rows[name]
            started = time.thread_time_ns()
            block(calls)
            best[name] = min(best[name], (time.thread_time_ns() - started) / calls)
            if settle is not None:
                await settle()
    return best


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def source_state() -> dict[str, Any]:
    """The commit measured and whether ``logactors/`` had uncommitted changes."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "logactors"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "logactors_modified_files": None}
    return {"commit": commit, "logactors_modified_files": len([d for d in dirty if d.strip()])}


def speed_probe(runs: int = 9, n: int = 200_000) -> dict[str, float]:
    """How fast this machine runs plain Python right now: ``runs`` timings (ms) of one fixed
    loop, min/median/max. Load average misses a noisy neighbour on a virtual machine (the
    loop, ten times longer, took 82 ms and 154 ms minutes apart on the 2-core machine of the
    committed results); the probe, taken before and after a run, says whether two results
    files were measured on a machine in the same state."""

    def loop() -> int:
        total = 0
        for i in range(n):
            total += i
        return total

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        loop()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"min_ms": times[0], "median_ms": times[len(times) // 2], "max_ms": times[-1]}


def full_collections(row: dict[str, Any]) -> str:
    """A row's full collections and the longest, as the tables show them (the stall suite)."""
    if "gc_full" not in row:
        return ""
    return f"{row['gc_full']} ({row['gc_full_max_ms']:.1f})" if row["gc_full"] else "0"


def probe_text(meta: dict[str, Any]) -> str:
    """The speed probes of a results file's ``meta``, before and after the run."""
    parts = []
    for key, label in (("probe_before", "before"), ("probe_after", "after")):
        probe = meta.get(key)
        if probe:
            parts.append(
                f"{label} {probe['min_ms']:.0f} / {probe['median_ms']:.0f} / {probe['max_ms']:.0f}"
            )
    return ", ".join(parts)


def machine() -> dict[str, Any]:
    """Where the numbers come from: CPU, cores, memory, OS, Python and library versions."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            total_kib = int(meminfo.readline().split()[1])
    except (OSError, ValueError, IndexError):
        total_kib = 0
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(total_kib / MIB, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "versions": {
            dist: _version(dist)
            for dist in ("logactors", "trio", "orjson", "loguru", "structlog", "picologging")
        },
    }
