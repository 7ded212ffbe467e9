"""``python -m benchmarks.ablation [--base DIR] [--rounds R]``: what each part of a call costs.

The caller-side cost of ``log.info("user {user} did {n}", user="ada", n=5)`` (one NullSink,
default configuration) with the real generated level method, and with one part of its template
(:data:`logactors._levelmethod.TEMPLATE`) taken out at a time: the difference is that part's
cost. The parts the capture rules need (the template lookup, the safe-name check, the redaction
hint, the ambient-context and span check) are what a call costs over the same call in a version
without capture: ``--base DIR`` adds that version (a checkout of an older commit, e.g.
``git worktree add /tmp/base 76372e7``), imported from ``DIR`` in a child process.

Two more rows place the call between its floors: ``every rule part`` takes all the parts above
out at once (what is left is the call, the clock, each value's type and size, the tuple, the
counters and the bounded put), and ``bare trio pipeline`` is the benchmarks' bare pipeline
(:class:`benchmarks.cases.BareCase`: ``send_nowait`` of a tuple on a trio memory channel),
timed the same way in the same process. ``python -m benchmarks --only ablation`` runs the same
rows as a suite of the results file.
The ``caller`` goal compares the full call with the bare pipeline; the gap between the two
rows above shows how much of it the rules' parts are.

Figures: thread CPU ns per call, the fastest of ``R`` rounds of 2,000 calls per row and of the
passes. All rows are open at once and take turns round by round, so that this machine's slow and
fast phases fall on every row alike; the queue is flushed after each turn (untimed), so that no
turn holds enough queued events to start a full garbage collection. An ablated variant is not a
working logger (it skips a check the rules need); it only measures.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any, Final

import trio

from ._util import Turn, fastest_turns
from .cases import BareCase
from .suites import Progress, Settings

BARE: Final = "bare trio pipeline"

CALLS = 2_000
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
    "task name": (
        "task = run_context.task.name  # (trio.lowlevel.current_task().name)  [!thread]",
        "task = ''  # [!thread]",
    ),
    "thread check": ("if get_ident() != rt.gate_thread:  # [!thread]", "if False:  # [!thread]"),
}


#: the row of the real call, whole
FULL: Final = "full"
#: the row that takes every part of :data:`ABLATIONS` out at once
EVERY_PART: Final = "every rule part"
#: every row of a pass, in order
ROWS: Final = (FULL, *ABLATIONS, EVERY_PART, BARE)
WORKLOAD: Final = "user {user} did {n}"


def _block(info: Callable[..., object]) -> Callable[[int], None]:
    """``n`` calls of the workload through ``info``."""

    def block(n: int) -> None:
        for _ in range(n):
            info(WORKLOAD, user="ada", n=5)

    return block


async def _time(module: Any, rounds: int, calls: int = CALLS) -> float:
    """The full call of ``module`` (this checkout's logactors, or an older one's)."""
    config = module.SupervisorConfig(
        sinks=[module.NullSink(name="null", queue=module.QueueConfig(max_events=1_000_000))]
    )
    async with module.open_logger(config) as log:
        for _ in range(2):  # the first call teaches the capture the template and names
            log.info(WORKLOAD, user="ada", n=5)
        info = log.info
        await log.flush()
        gc.collect()
        return (await fastest_turns({FULL: (_block(info), log.flush)}, rounds, calls))[FULL]


def label(key: str) -> str:
    """A row as the reports name it."""
    if key == FULL:
        return "the full call"
    if key == EVERY_PART:
        return "without every part above"
    return key if key in (BARE, "base") else f"without the {key}"


def part(key: str, ns: dict[str, float]) -> float | None:
    """What the parts a row takes out cost (the full call minus the row); None for the rows
    that take nothing out of the full call."""
    return None if key in (FULL, BARE, "base") else ns[FULL] - ns[key]


def _ablated(template: str, name: str) -> str:
    """``template`` with the parts of row ``name`` taken out."""
    if name == FULL:
        return template
    for old, new in ABLATIONS.values() if name == EVERY_PART else [ABLATIONS[name]]:
        if old not in template:
            raise RuntimeError(f"the template no longer has {old!r}")
        template = template.replace(old, new)
    return template


async def _open_row(stack: contextlib.AsyncExitStack, name: str) -> Turn:
    """Row ``name``'s calls, open until ``stack`` closes: a logger whose level method was built
    from the ablated template (a NullSink with room for every round), or the bare pipeline."""
    if name == BARE:
        case = BareCase()
        await case.open(os.devnull, e2e=False)
        stack.push_async_callback(case.close)
        return _block(case.info), case.drain
    import logactors
    from logactors import _levelmethod

    config = logactors.SupervisorConfig(
        sinks=[logactors.NullSink(name="null", queue=logactors.QueueConfig(max_events=1_000_000))]
    )
    log = await stack.enter_async_context(logactors.open_logger(config))
    original = _levelmethod.TEMPLATE
    try:
        _levelmethod.TEMPLATE = _ablated(original, name)  # type: ignore[misc]
        # the first call settles the logger: its runtime builds the method, from this template
        log.info(WORKLOAD, user="ada", n=5)  # (and teaches the capture the template and names)
    finally:
        _levelmethod.TEMPLATE = original  # type: ignore[misc]
    info = log.info
    await log.flush()
    return _block(info), log.flush


async def _pass(rounds: int, calls: int) -> dict[str, float]:
    """One pass: every row open at once, taking turns round by round (:func:`fastest_turns`)."""
    async with contextlib.AsyncExitStack() as stack:
        rows = {name: await _open_row(stack, name) for name in ROWS}
        gc.collect()
        return await fastest_turns(rows, rounds, calls)


def _fastest(passes: list[dict[str, float]]) -> dict[str, float]:
    return {key: min(row[key] for row in passes if key in row) for key in passes[0]}


async def ablation_suite(settings: Settings, progress: Progress) -> dict[str, Any]:
    """The rows of :func:`main` (without ``--base``) in the running trio run: thread CPU ns
    per call, the fastest of every pass, and each row's ratio to the bare pipeline."""
    passes = []
    for n in range(settings.ablation_passes):
        passes.append(await _pass(settings.ablation_rounds, settings.ablation_calls))
        progress(f"ablation pass {n + 1}/{settings.ablation_passes}")
    best = _fastest(passes)
    return {
        "unit": "thread CPU ns per call (fastest)",
        "calls": settings.ablation_calls,
        "rounds": settings.ablation_rounds,
        "passes": settings.ablation_passes,
        "ns": best,
        "ratio_to_bare": {key: value / best[BARE] for key, value in best.items()},
    }


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
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved passes")
    args = parser.parse_args()
    passes = []
    for _ in range(args.repeat):
        row = {"base": _base(args.base, args.rounds)} if args.base else {}
        passes.append({**row, **trio.run(_pass, args.rounds, CALLS)})
    best = _fastest(passes)
    print("thread CPU ns per call (fastest); 'part' = full minus the call without that part")
    for key, value in best.items():
        cost = part(key, best)
        parts = "" if cost is None else f"   part {cost:+6.0f}"
        ratio = f"   ÷ base {value / best['base']:.3f}" if "base" in best else ""
        print(f"  {label(key):<40} {value:7.0f}{parts}{ratio}   ÷ bare {value / best[BARE]:.3f}")
    print(json.dumps({k: round(v, 1) for k, v in best.items()}))


if __name__ == "__main__":
    main()
