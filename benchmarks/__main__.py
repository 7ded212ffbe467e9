"""``python -m benchmarks [--quick] [--rounds N] [--only caller,e2e,...]`` (``nox -s bench``).

Runs every suite in one process (the memory suite and each writers run in a child process of
it), prints the table with the ratios against the goals and writes
``benchmarks/results/<timestamp>.json``; ``python -m benchmarks.report --markdown <file>`` renders
that file as docs/performance.md. The stand-alone scripts ``benchmarks.stall``,
``benchmarks.writers``, ``benchmarks.bridge`` and ``benchmarks.shipping`` are the suites of the
same names.
``--quick`` is a smoke pass of a few seconds that asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import trio

from . import ablation, bridge, profile, shapes, shipping, stall, suites, writers
from ._util import loop_overhead, machine, source_state, speed_probe
from .report import goals, render, save

SUITES = (
    "caller",
    "e2e",
    "text",
    "disabled",
    "thread",
    "shapes",
    "latency",
    "memory",
    "metrics",
    "shutdown",
    "sinks",
    "fanout",
    "sizes",
    "stall",
    "writers",
    "bridge",
    "shipping",
    "ablation",
    "profile",
)
RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _progress(quiet: bool) -> suites.Progress:
    started = time.perf_counter()

    def progress(message: str) -> None:
        if not quiet:
            print(f"[{time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    return progress


async def run_all(settings: suites.Settings, only: Sequence[str], quiet: bool) -> dict[str, Any]:
    """Run the selected suites in this trio run and return the results (no goals yet)."""
    progress = _progress(quiet)
    loop = loop_overhead()
    results: dict[str, Any] = {
        "meta": {
            "quick": settings.quick,
            "rounds": settings.rounds,
            "block": settings.block,
            "yield_every": settings.yield_every,
            "loop_ns": loop.wall,
            "loop_cpu_ns": loop.cpu,
            "machine": machine(),
            "source": source_state(),
            "argv": sys.argv[1:],
            "suites": list(only),
            "load_before": os.getloadavg(),
            "probe_before": speed_probe(),
        }
    }
    started = time.perf_counter()
    if "caller" in only:
        results["caller"] = await suites.caller_suite(settings, loop, progress)
    if "e2e" in only:
        results["e2e"] = await suites.e2e_suite(settings, progress)
    if "text" in only:
        results["text"] = await suites.text_suite(settings, progress)
    if "disabled" in only:
        results["disabled"] = await suites.disabled_suite(settings, loop, progress)
    if "thread" in only:
        results["thread"] = await suites.thread_suite(settings, loop, progress)
    if "shapes" in only:
        results["shapes"] = await shapes.shapes_suite(settings, loop, progress)
    if "latency" in only:
        results["latency"] = await shapes.latency_suite(settings, progress)
    if "memory" in only:
        results["memory"] = await trio.to_thread.run_sync(suites.memory_suite, settings, progress)
    if "metrics" in only:
        results["metrics"] = await shapes.metrics_suite(settings, loop, progress)
    if "shutdown" in only:
        results["shutdown"] = await suites.shutdown_suite(settings, progress)
    if "sinks" in only:
        results["sinks"] = await suites.sinks_suite(settings, loop, progress)
    if "fanout" in only:
        results["fanout"] = await shapes.fanout_suite(settings, progress)
    if "sizes" in only:
        results["sizes"] = await suites.sizes_suite(settings, progress)
    if "stall" in only:
        results["stall"] = await stall.stall_suite(settings, progress)
    if "writers" in only:
        results["writers"] = await writers.writers_suite(settings, progress)
    if "bridge" in only:
        results["bridge"] = await bridge.bridge_suite(settings, progress)
    if "shipping" in only:
        results["shipping"] = await shipping.shipping_suite(settings, progress)
    if "ablation" in only:
        results["ablation"] = await ablation.ablation_suite(settings, progress)
    if "profile" in only:
        results["profile"] = await profile.profile_suite(settings, progress)
    results["meta"]["duration_s"] = round(time.perf_counter() - started, 1)
    results["meta"]["load_after"] = os.getloadavg()
    results["meta"]["probe_after"] = speed_probe()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fast smoke pass (small N, 1 round; figures not meaningful)",
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="rounds per measurement (default 5; quick: 1)"
    )
    parser.add_argument(
        "--only",
        default=",".join(SUITES),
        help=f"comma-separated suites to run (default all: {','.join(SUITES)})",
    )
    parser.add_argument(
        "--huge",
        action="store_true",
        help="add a 10^7-event run to the size scaling and log 10^7 events (not 10^6) in "
        "each writers run (full mode; minutes, and GBs of RAM if a sink falls behind)",
    )
    parser.add_argument("--no-picologging", action="store_true", help="leave picologging out")
    parser.add_argument(
        "--results",
        default=RESULTS_DIR,
        help="directory for the JSON results (default benchmarks/results)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)

    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SUITES))
    if unknown:
        parser.error(f"unknown suites: {', '.join(unknown)} (known: {', '.join(SUITES)})")
    scratch = tempfile.mkdtemp(prefix="logactors-bench-")
    try:
        if args.quick:
            settings = suites.Settings.quick_pass(scratch, rounds=args.rounds or 1)
        else:
            settings = suites.Settings.full(scratch, rounds=args.rounds or 5, huge=args.huge)
        if args.no_picologging:
            settings = suites.Settings(**{**settings.__dict__, "picologging": False})
        results = trio.run(run_all, settings, only, args.quiet)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["goals"] = goals(results)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    results["meta"]["timestamp"] = stamp
    path = save(results, args.results, stamp)
    print(render(results))
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
