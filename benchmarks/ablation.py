"""``python -m benchmarks.ablation [--base DIR] [--rounds R]``: what each part of a call costs.

The caller-side cost of ``log.info("user {user} did {n}", user="ada", n=5)`` (one NullSink,
default configuration) with the real generated level method, and with one part of its template
(:data:`logactors._levelmethod.TEMPLATE`) taken out at a time: the difference is that part's
cost. The parts the capture rules need (the template lookup, the safe-name check, the redaction
hint, the ambient-context and span check) are what a call costs over the same call in a version
without capture: ``--base DIR`` adds that version (a checkout of an older commit, e.g.
``git worktree add /tmp/base 76372e7``), imported from ``DIR`` in a child process.

Figures: thread CPU ns per call, fastest of ``R`` rounds of 20,000 calls, the variants
interleaved. An ablated variant is not a working logger (it skips a check the rules need); it
only measures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

import trio

CALLS = 20_000
#: variant -> (text in the template, its replacement)
ABLATIONS: dict[str, tuple[str, str]] = {
    "template lookup": (
        "known = known_template(template)  # [fast]",
        "known = (template, len(template), ())  # [fast]",
    ),
    "safe-name check": ("if key not in safe:  # [fast]", "if False:  # [fast]"),
    "redaction hint": ("if HINT:  # [fast hint]", "if False:  # [fast hint]"),
    "span check": (
        "if values is not None and not otel():  # [fast otel]",
        "if values is not None:  # [fast otel]",
    ),
    "context check": ("ctx = get_ctx()  # [fast]", "ctx = None  # [fast]"),
    "task name": ("task = current_task().name  # [!thread]", "task = ''  # [!thread]"),
    "thread check": ("if get_ident() != rt.gate_thread:  # [!thread]", "if False:  # [!thread]"),
}


async def _time(module: Any, rounds: int) -> float:
    config = module.SupervisorConfig(
        sinks=[module.NullSink(name="null", queue=module.QueueConfig(max_events=1_000_000))]
    )
    async with module.open_logger(config) as log:
        info = log.info
        for _ in range(2):  # the first call teaches the capture the template and names
            info("user {user} did {n}", user="ada", n=5)
        best = float("inf")
        for _ in range(rounds):
            start = time.thread_time_ns()
            for _ in range(CALLS):
                info("user {user} did {n}", user="ada", n=5)
            best = min(best, (time.thread_time_ns() - start) / CALLS)
            await log.flush()
        return best


async def _variant(name: str, rounds: int) -> float:
    import logactors
    from logactors import _levelmethod

    original = _levelmethod.TEMPLATE
    try:
        if name != "full":
            old, new = ABLATIONS[name]
            if old not in original:
                raise RuntimeError(f"the template no longer has {old!r}")
            _levelmethod.TEMPLATE = original.replace(old, new)  # type: ignore[misc]
        return await _time(logactors, rounds)
    finally:
        _levelmethod.TEMPLATE = original  # type: ignore[misc]


def _base(directory: str, rounds: int) -> float:
    code = (  # this module first (the checkout has its own benchmarks), then its logactors
        "import sys, trio; from benchmarks.ablation import _time;"
        f"sys.path.insert(0, {directory!r}); import logactors;"
        f"print(trio.run(_time, logactors, {rounds}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    return float(done.stdout.split()[-1])


def main() -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ablation")
    parser.add_argument("--base", help="a checkout of an older commit to compare with")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved passes")
    args = parser.parse_args()
    names = ["full", *ABLATIONS]
    results: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        if args.base:
            results.setdefault("base", []).append(_base(args.base, args.rounds))
        for name in names:
            results.setdefault(name, []).append(trio.run(_variant, name, args.rounds))
    best = {key: min(values) for key, values in results.items()}
    full = best["full"]
    print("thread CPU ns per call (fastest); 'part' = full minus the call without that part")
    for key, value in best.items():
        label = key if key in ("full", "base") else f"without the {key}"
        part = "" if key in ("full", "base") else f"   part {full - value:+6.0f}"
        ratio = f"   ÷ base {value / best['base']:.3f}" if "base" in best else ""
        print(f"  {label:<40} {value:7.0f}{part}{ratio}")
    print(json.dumps({k: round(v, 1) for k, v in best.items()}))


if __name__ == "__main__":
    main()
