"""Small helpers: statistics, RSS, machine description, files."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
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


def loop_overhead_ns(n: int = 200_000, rounds: int = 5) -> float:
    """Per-iteration cost of the ``for i in range(...)`` loop the call blocks use."""
    best: list[float] = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _i in range(n):
            pass
        best.append((time.perf_counter_ns() - t0) / n)
    return median(best)


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
