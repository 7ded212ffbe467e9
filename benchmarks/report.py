"""The printed table, the ratios against the goals, and the JSON file.

``python -m benchmarks.report RESULTS.json`` prints the table of a saved run;
``--markdown`` prints its Markdown instead (what docs/performance.md holds), and
``--update docs/performance.md README.md [--results RESULTS.json]`` rewrites the generated
sections of those files (see :mod:`benchmarks.markdown`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ._util import MIB, full_collections, probe_text

Goal = dict[str, Any]


def _med(section: dict[str, Any], key: str, field: str = "results") -> float:
    try:
        return float(section[field][key]["median"])
    except (KeyError, TypeError):
        return float("nan")


def _per_call_goal(name: str, section: dict[str, Any], other: str, op: str, target: float) -> Goal:
    """A per-call goal on wall-clock medians, with the thread-CPU ratio as a cross-check."""
    cpu = _ratio(_med(section, "logactors", "cpu"), _med(section, other, "cpu"))
    return _goal(
        name,
        _ratio(_med(section, "logactors"), _med(section, other)),
        op,
        target,
        f"thread-CPU ratio {_fmt(cpu, 3)}",
    )


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else float("nan")


def _goal(name: str, value: float, op: str, target: float, note: str = "") -> Goal:
    if math.isnan(value):
        verdict = "n/a"
    else:
        ok = {"<=": value <= target, "<": value < target, ">=": value >= target}[op]
        verdict = "PASS" if ok else "FAIL"
    return {
        "goal": name,
        "value": value,
        "op": op,
        "target": target,
        "verdict": verdict,
        "note": note,
    }


def _linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares ``y = a + b x``; returns (a, b, worst relative residual)."""
    n = len(xs)
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    a = my - b * mx
    worst = max(abs(y - (a + b * x)) / y for x, y in zip(xs, ys, strict=True) if y)
    return a, b, worst


def _vs(name: str, section: dict[str, Any], a: str, b: str, op: str, target: float) -> Goal:
    """A ratio of two libraries' medians in one section."""
    return _goal(name, _ratio(_med(section, a), _med(section, b)), op, target)


def _paired(name: str, section: dict[str, Any], a: str, b: str, op: str, target: float) -> Goal:
    """The median of the rounds' ratios of ``a`` to ``b``, the two run side by side (the
    section's ``paired`` figures, keyed by the case that is not the rounds' reference: ``b``
    in ``e2e``, ``a`` in ``fanout``), with the ratio of the medians in the note; the ratio of
    the medians alone where the results file has no pairs (before they were measured)."""
    paired = section.get("paired") or {}
    rounds = paired.get(b) or paired.get(a)
    if rounds is None:  # (an older file, or a case this run left out: its ratio is n/a)
        return _vs(name, section, a, b, op, target)
    return _goal(
        name,
        rounds["median"],
        op,
        target,
        f"median of {len(rounds['rounds'])} rounds' side-by-side ratios "
        f"({_fmt(rounds['min'], 2)} to {_fmt(rounds['max'], 2)}); "
        f"ratio of the medians {_fmt(_ratio(_med(section, a), _med(section, b)), 2)}",
    )


def _latency_note(latency: dict[str, Any]) -> str:
    """The bare pipeline's p99/p50 in the same turns (the machine's spread for such a call),
    and the minor page faults per 1,000 calls of each."""
    bare = latency["results"].get("bare-trio")
    parts = []
    if bare:
        parts.append(f"bare trio pipeline {_fmt(bare['p99'] / bare['p50'], 2)}")
    faults = latency.get("minor_faults_per_1000")
    if faults:
        parts.append(
            "minor page faults per 1,000 calls: "
            + ", ".join(f"{key} {_fmt(n, 1)}" for key, n in faults.items())
        )
    return "; ".join(parts)


def goals(results: dict[str, Any]) -> list[Goal]:
    """Every goal the results allow checking (the performance goals in docs/performance.md)."""
    out: list[Goal] = []
    caller = results.get("caller")
    if caller:
        goal = _per_call_goal("caller: logactors/bare-trio", caller, "bare-trio", "<=", 1.5)
        ablation = results.get("ablation")
        if ablation:  # the floor: the same call with the capture rules' parts taken out
            from .ablation import EVERY_PART, FULL

            floor = ablation["ratio_to_bare"]
            goal["note"] += (
                f"; ablation (thread CPU): full call {_fmt(floor[FULL], 2)}, "
                f"without the capture rules' parts {_fmt(floor[EVERY_PART], 2)}"
            )
        out.append(goal)
        out.append(
            _per_call_goal("caller: logactors/stdlib-queue", caller, "stdlib-queue", "<=", 1 / 6)
        )
        out.append(_per_call_goal("caller: logactors/structlog", caller, "structlog", "<=", 1 / 3))
        out.append(_per_call_goal("caller: logactors/pico-queue", caller, "pico-queue", "<", 1.0))
    latency = results.get("latency")
    if latency:
        la = latency["results"].get("logactors", {})
        if la:
            out.append(
                _goal(
                    "caller latency: logactors p99/p50",
                    la["p99"] / la["p50"],
                    "<=",
                    2.0,
                    _latency_note(latency),
                )
            )
    e2e = results.get("e2e")
    if e2e:
        for other, target in (
            ("bare-trio", 1.0),
            ("pico-file", 2.5),
            ("structlog", 3.0),
            ("stdlib-queue", 8.0),
        ):
            out.append(_paired(f"e2e: logactors/{other}", e2e, "logactors", other, ">=", target))
        dropped = e2e.get("dropped", {}).get("logactors", float("nan"))
        out.append(
            _goal("e2e: events dropped with the default configuration", dropped, "<=", 0, "")
        )
    text = results.get("text")
    if text:
        out.append(
            _vs(
                "text: logactors/pico StreamHandler", text, "logactors-text", "pico-text", ">=", 1.0
            )
        )
    disabled = results.get("disabled")
    if disabled:
        out.append(
            _per_call_goal("disabled: logactors/stdlib", disabled, "stdlib-queue", "<=", 1.0)
        )
        goal = _per_call_goal("disabled: logactors/picologging", disabled, "pico-queue", "<=", 1.5)
        floor = _ratio(_med(disabled, "empty-call"), _med(disabled, "pico-queue"))
        if not math.isnan(floor):  # the floor: a Python function that does nothing
            goal["note"] += f"; an empty Python function of the same call shape {_fmt(floor, 2)}"
        out.append(goal)
    thread = results.get("thread")
    if thread:
        out.append(
            _per_call_goal("thread: logactors/stdlib-queue", thread, "stdlib-queue", "<=", 0.25)
        )
    shapes = results.get("shapes")
    if shapes:
        base = _med(shapes, "two scalars")
        for shape in ("positional", "nested dict"):
            out.append(
                _goal(f"shapes: {shape}/two scalars", _ratio(_med(shapes, shape), base), "<=", 1.5)
            )
        out.append(_goal("shapes: bind() (ns)", _med(shapes, "bind()"), "<=", 3000.0))
    fanout = results.get("fanout")
    if fanout:
        out.append(
            _paired(
                "fan-out: 4 file sinks/1 (e2e)", fanout, "4 file sinks", "1 file sink", "<=", 1.6
            )
        )
    memory = results.get("memory")
    if memory:
        cap = memory["max_bytes"]
        out.append(
            _goal(
                "memory: RSS growth / max_bytes",
                memory["rss_growth_bytes"] / cap,
                "<",
                1.2,
                f"max_bytes={cap / MIB:.0f} MiB, {memory['events']:,} events",
            )
        )
        if "measured_bytes_per_event" in memory:
            out.append(
                _goal(
                    "memory: RSS growth per queued event (B)",
                    memory["measured_bytes_per_event"],
                    "<=",
                    400,
                    f"{memory['queue_depth']:,} events queued; the queue's own estimate "
                    f"{memory['estimated_bytes_per_event']:.0f} B per event",
                )
            )
    metrics = results.get("metrics")
    if metrics:
        cpu = metrics["e2e_cpu_ns_per_event"]["median"]
        updates = metrics["updates_per_event"]
        share = updates * metrics["counter_update_ns"] / cpu
        out.append(
            _goal(
                "metrics: e2e CPU share of counter updates",
                share,
                "<",
                0.05,
                f"{updates:.2f} updates/event x {metrics['counter_update_ns']:.1f} ns "
                f"/ {cpu:.0f} ns",
            )
        )
    shutdown = results.get("shutdown")
    if shutdown:
        out.append(
            _goal(
                f"shutdown: graceful drain of {shutdown['events']:,} (s)",
                shutdown["graceful"]["seconds"]["median"],
                "<",
                0.5,
            )
        )
        out.append(
            _goal(
                f"shutdown: immediate with {shutdown['events']:,} queued (s)",
                shutdown["immediate"]["seconds"]["median"],
                "<",
                0.1,
            )
        )
    sinks = results.get("sinks")
    if sinks:
        e2e_ns = sinks["e2e_ns_per_event"]
        variants = sinks["variants"]
        matching = [v for v in variants if v["sinks"] == v["matching"]]
        if len(matching) >= 3:
            xs = [float(v["matching"]) for v in matching]
            ys = [e2e_ns[v["name"]]["median"] for v in matching]
            _, _, worst = _linear_fit(xs, ys)
            out.append(
                _goal(
                    "scaling: fan-out linear in matching sinks (worst residual)",
                    worst,
                    "<=",
                    0.10,
                    "e2e ns/event vs a + b*k, NullSinks",
                )
            )
        single = next((v for v in variants if v["sinks"] == 1), None)
        unmatched = next((v for v in variants if v["matching"] == 1 and v["sinks"] > 1), None)
        if single and unmatched:
            out.append(
                _goal(
                    f"scaling: {unmatched['sinks']} sinks 1 matching / 1 sink (e2e)",
                    _ratio(e2e_ns[unmatched["name"]]["median"], e2e_ns[single["name"]]["median"]),
                    "<=",
                    1.15,
                    "non-matching sinks cost nothing per event",
                )
            )
    sizes = results.get("sizes")
    if sizes:
        # The best round of each size: the same code at sizes whose runs last from 25 ms to
        # seconds, so a burst of interference from other processes (which only ever adds)
        # decides a median here but not a minimum; the medians' ratio is shown beside it.
        per_size = {
            int(n): v for n, v in sizes.get("cpu_ns_per_event", {}).items() if int(n) >= 10**4
        }
        best = [v["min"] for v in per_size.values()]
        medians = [v["median"] for v in per_size.values()]
        wall = [v["median"] for n, v in sizes["ns_per_event"].items() if int(n) >= 10**4]
        if len(per_size) >= 2:
            out.append(
                _goal(
                    f"scaling: CPU ns/event max/min over 10^4..10^{len(str(max(per_size))) - 1}"
                    " (best round of each size)",
                    max(best) / min(best),
                    "<=",
                    1.25,
                    f"10^3 excluded (fixed start/stop cost); medians' max/min "
                    f"{max(medians) / min(medians):.3f}, wall clock {max(wall) / min(wall):.3f}",
                )
            )
    out += _script_goals(results)
    return out


#: the trio loop stays "within a few milliseconds" of the same CPU work without logging
STALL_MAX_MS = 5.0


def stall_label(row: dict[str, Any]) -> str:
    """A row of the stall suite as the reports name it."""
    log = row["logging"]
    frozen = ", gc.freeze() after start-up" if log.get("gc_freeze") else ""
    return f"{log['threads']} thread{'s' if log['threads'] > 1 else ''} → {log['sink']}{frozen}"


def _script_goals(results: dict[str, Any]) -> list[Goal]:
    """The goals of the thread-producer, writer, bridge and shipping suites."""
    out: list[Goal] = []
    stall = results.get("stall")
    if stall:
        for row in stall["threads"]:
            log, ref = row["logging"], row["no_logging"]
            out.append(
                _goal(
                    f"stall: {stall_label(row)}, max loop lateness minus no-logging run (ms)",
                    log["late_max_ms"] - ref["late_max_ms"],
                    "<=",
                    STALL_MAX_MS,
                    f"p50 {log['late_p50_ms']:.2f} vs {ref['late_p50_ms']:.2f} ms; "
                    f"{log['dropped']:,} dropped of {log['events']:,}"
                    + (
                        f"; {log['gc_full']} full GCs, longest {log['gc_full_max_ms']:.1f} ms"
                        if log.get("gc_full")
                        else ""
                    ),
                )
            )
    writers = results.get("writers")
    if writers:
        for run in writers["runs"]:
            out.append(
                _goal(
                    f"writers: {run['kind']} write_mode={run['mode']}, events dropped "
                    f"of {run['events']:,}",
                    run["dropped"],
                    "<=",
                    0,
                    f"longest gap between writes {run['max_gap_ms']} ms, "
                    f"peak RSS {run['peak_rss_mib']} MiB",
                )
            )
    bridge = results.get("bridge")
    if bridge:
        out.append(
            _goal(
                "bridge: stdlib record through LogactorsHandler / QueueHandler",
                bridge["ratio_call"],
                "<=",
                0.5,
                f"handler's own share {bridge['ratio_own']:.2f}, "
                f"handle(record) {bridge['ratio_handle']:.2f}"
                + (
                    f", floor (no-op handler) {bridge['ratio_floor']:.2f}"
                    if "ratio_floor" in bridge
                    else ""
                ),
            )
        )
    shipping = results.get("shipping")
    if shipping:
        trace = shipping["trace_context"]
        out.append(
            _goal(
                "shipping: caller cost of trace correlation with no span",
                trace["overhead"],
                "<",
                0.03,
                f"{trace['on_us']:.2f} vs {trace['off_us']:.2f} CPU µs per call",
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# printing


def _fmt(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _library_table(
    title: str,
    section: dict[str, Any],
    convert: Callable[[float], float],
    unit: str,
    *,
    digits: int = 2,
    base: str = "logactors",
) -> list[str]:
    lines = [f"\n{title}"]
    la = _med(section, base)
    cpu = section.get("cpu")
    head = f"  {'library':<32}{'median':>10}{'min':>10}{'max':>10}  {unit:<8}{'la/this':>8}"
    if cpu:
        head += f"{'cpu med':>10}{'la/this':>8}"
    lines.append(head)
    for key, res in section["results"].items():
        label = section["labels"].get(key, key)
        med = res["median"]
        line = (
            f"  {label:<32}{_fmt(convert(med), digits):>10}"
            f"{_fmt(convert(res['min']), digits):>10}{_fmt(convert(res['max']), digits):>10}"
            f"  {unit:<8}{_fmt(_ratio(la, med), 3):>8}"
        )
        if cpu:
            c = cpu[key]["median"]
            line += f"{_fmt(convert(c), digits):>10}{_fmt(_ratio(cpu[base]['median'], c), 3):>8}"
        lines.append(line)
    return lines


def render(results: dict[str, Any]) -> str:
    """The whole report as text."""
    meta = results["meta"]
    m = meta["machine"]
    lines = [
        "logactors benchmarks"
        + (" (QUICK smoke pass: figures not meaningful)" if meta["quick"] else ""),
        f"  machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; "
        f"Python {m['python']}; {m['os']}",
        "  versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        f"  source: commit {meta.get('source', {}).get('commit')}, "
        f"{meta.get('source', {}).get('logactors_modified_files')} uncommitted files in "
        "logactors/",
        f"  rounds: {meta['rounds']} (medians); per-call figures: wall clock (perf_counter_ns),"
        " 'cpu' = the calling thread's CPU time (thread_time_ns), loop overhead "
        f"({meta['loop_ns']:.1f} / {meta.get('loop_cpu_ns', 0):.1f} ns) subtracted",
        "  load average before/after: "
        + ", ".join(f"{meta[k][0]:.2f}" for k in ("load_before", "load_after") if k in meta)
        + (
            f" (more than {m['cores']} cores' worth: other processes competed for the CPU)"
            if max(meta.get("load_before", [0])[0], meta.get("load_after", [0])[0])
            > (m["cores"] or 1)
            else ""
        ),
        *(
            [f"  speed probe (plain-Python loop, ms, min/median/max of 9): {probe_text(meta)}"]
            if "probe_before" in meta
            else []
        ),
    ]
    if "caller" in results:
        lines += _library_table(
            "1. CALLER-SIDE cost of an enabled call on the trio thread (blocks of "
            f"{meta['block']} calls, consumer drains between blocks)",
            results["caller"],
            lambda v: v / 1000,
            "µs/call",
        )
    if "e2e" in results:
        e2e = results["e2e"]
        lines += _library_table(
            f"2. END-TO-END: log N events (yield every {e2e['yield_every']}), leave, all on disk",
            e2e,
            lambda v: v / 1000,
            "k ev/s",
            digits=1,
        )
        lines.append(
            f"  {'':<32}{'N':>10}{'produce s':>10}{'leave s':>10}  "
            f"{'peak backlog':>14}{'CPU µs/ev':>11}{'this/la':>8}"
        )
        cpu = e2e.get("cpu_ns_per_event", {})
        la_cpu = cpu.get("logactors", {}).get("median", float("nan"))
        for key in e2e["results"]:
            c = cpu.get(key, {}).get("median", float("nan"))
            lines.append(
                f"  {e2e['labels'].get(key, key):<32}{e2e['events'][key]:>10,}"
                f"{_fmt(e2e['produce_s'][key]['median'], 3):>10}"
                f"{_fmt(e2e['leave_s'][key]['median'], 3):>10}"
                f"  {_fmt(e2e['peak_backlog'][key]['median'], 0):>14}"
                f"{_fmt(c / 1000, 2):>11}{_fmt(_ratio(c, la_cpu), 3):>8}"
            )
        lines.append(
            "  (CPU µs/ev: process CPU time, all threads, per event; this/la > 1: "
            "logactors uses less CPU than this library)"
        )
        starved = [
            e2e["labels"].get(k, k)
            for k in e2e["results"]
            if e2e["peak_backlog"][k]["median"] >= 0.9 * e2e["events"][k]
        ]
        if starved:
            lines.append(
                "  peak backlog ≈ N for: " + ", ".join(starved) + " — their consumer thread "
                "got (almost) no GIL while the producer ran: the trio thread releases the GIL "
                "only for an instant at each checkpoint and takes it straight back, which "
                "resets the waiting thread's switch interval (python -m benchmarks.profile "
                "measures it); everything was written after the producer stopped"
            )
    if "disabled" in results:
        lines += _library_table(
            "3. DISABLED call (debug below the gate; libraries take turns "
            "block by block, median block)",
            results["disabled"],
            lambda v: v,
            "ns/call",
            digits=1,
        )
    if "thread" in results:
        lines += _library_table(
            "4. FROM A WORKER THREAD (trio.to_thread.run_sync), caller-side cost",
            results["thread"],
            lambda v: v / 1000,
            "µs/call",
        )
    if "memory" in results:
        mem = results["memory"]
        lines += [
            "\n5. MEMORY: stalled sink, QueueConfig(max_bytes="
            f"{mem['max_bytes'] / MIB:.0f} MiB, overflow='drop_oldest', max_events=10^9), "
            f"{mem['events']:,} events (child process)",
            f"  RSS growth {mem['rss_growth_bytes'] / MIB:.1f} MiB (peak "
            f"{(mem['peak_growth_bytes'] or 0) / MIB:.1f} MiB); queue depth "
            f"{mem['queue_depth']:,}, dropped {mem['dropped']:,}",
            f"  bytes per queued event: estimated {_fmt(mem['estimated_bytes_per_event'], 0)}"
            f" (queue_bytes/queue_depth), measured {_fmt(mem['measured_bytes_per_event'], 0)}"
            " (RSS growth/depth)",
            f"  caller cost while evicting: {mem['caller_ns_per_event'] / 1000:.2f} µs/call; "
            f"immediate shutdown {mem['immediate_shutdown_s'] * 1000:.1f} ms",
        ]
    if "metrics" in results:
        met = results["metrics"]
        lines += [
            "\n6. METRICS COST: " + met["method"],
            f"  {met['updates_per_event']:.2f} counter updates per event x "
            f"{met['counter_update_ns']:.1f} ns each; end-to-end CPU "
            f"{met['e2e_cpu_ns_per_event']['median']:.0f} ns/event; caller "
            f"{met['caller_ns']['median']:.0f} ns/call",
        ]
    if "shutdown" in results:
        sh = results["shutdown"]
        g, i = sh["graceful"], sh["immediate"]
        lines += [
            f"\n7. SHUTDOWN with {sh['events']:,} events queued (FileSink clef)",
            f"  graceful: {g['seconds']['median'] * 1000:.1f} ms (min "
            f"{g['seconds']['min'] * 1000:.1f}, max {g['seconds']['max'] * 1000:.1f}); "
            f"written {g['written']:,}, lost {g['lost']:,}",
            f"  immediate: {i['seconds']['median'] * 1000:.1f} ms (min "
            f"{i['seconds']['min'] * 1000:.1f}, max {i['seconds']['max'] * 1000:.1f}); "
            f"written {i['written']:,}, lost {i['lost']:,} (no spool)",
        ]
    if "sinks" in results:
        sk = results["sinks"]
        lines.append(f"\n8a. SCALING by sinks ({sk['sink']}): ns per event")
        lines.append(f"  {'variant':<28}{'e2e':>12}{'caller':>12}")
        for v in sk["variants"]:
            name = v["name"]
            lines.append(
                f"  {name:<28}{_fmt(sk['e2e_ns_per_event'][name]['median'], 0):>12}"
                f"{_fmt(sk['caller_ns_per_event'][name]['median'], 0):>12}"
            )
    if "sizes" in results:
        sz = results["sizes"]
        lines.append(f"\n8b. SCALING by events ({sz['sink']}): ns per event")
        lines.append(
            f"  {'N':>12}{'e2e wall':>10}{'e2e CPU':>10}{'producer':>10}"
            f"{'peak backlog':>14}{'RSS after':>12}{'rounds':>8}"
        )
        for n, res in sz["ns_per_event"].items():
            rss = sz["rss_after_bytes"].get(n, 0) / MIB
            cpu = sz.get("cpu_ns_per_event", {}).get(n, {}).get("median", float("nan"))
            lines.append(
                f"  {int(n):>12,}{_fmt(res['median'], 0):>10}{_fmt(cpu, 0):>10}"
                f"{_fmt(sz['caller_side_ns_per_event'][n]['median'], 0):>10}"
                f"{_fmt(sz['peak_backlog'][n]['median'], 0):>14}{rss:>9.0f} MiB"
                f"{len(res['rounds']):>8}"
            )
    if "text" in results:
        lines += _library_table(
            "9. TEXT FORMAT to a file, end to end (same content: timestamp, level, message)",
            {**results["text"], "results": results["text"]["results"]},
            lambda v: v / 1000,
            "k ev/s",
            digits=1,
            base="logactors-text",
        )
    if "shapes" in results:
        sh = results["shapes"]["results"]
        lines.append("\n10. CALL SHAPES (logactors, caller side, ns/call)")
        for name, res in sh.items():
            lines.append(f"  {name:<28}{_fmt(res['median'], 0):>10}")
    if "latency" in results:
        lat = results["latency"]
        lines.append(
            f"\n11. PER-CALL LATENCY (ns, timer {lat['timer_ns']:.0f} ns included)"
            f"\n  {'':<20}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>10}"
        )
        for key, res in lat["results"].items():
            lines.append(
                f"  {key:<20}{res['p50']:>8.0f}{res['p90']:>8.0f}{res['p99']:>8.0f}"
                f"{res['max']:>10.0f}"
            )
    if "fanout" in results:
        fo = results["fanout"]["results"]
        lines.append("\n12. FAN-OUT to CLEF file sinks (tuned queue), e2e ns/event")
        for name, res in fo.items():
            lines.append(f"  {name:<28}{_fmt(res['median'], 0):>10}")
    lines += _script_lines(results)
    lines.append("\nGOALS" + (" — quick pass: not meaningful" if meta["quick"] else ""))
    for g in results.get("goals", []):
        op = {"<=": "≤", "<": "<", ">=": "≥"}[g["op"]]
        note = f"  [{g['note']}]" if g["note"] else ""
        lines.append(
            f"  {g['goal']} = {_fmt(g['value'], 3)} (goal {op} {g['target']:.3g})"
            f" {g['verdict']}{note}"
        )
    return "\n".join(lines)


def _script_lines(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if "stall" in results:
        st = results["stall"]
        lines.append(
            f"\n13. THREAD PRODUCERS: {st['events']:,} events per row from "
            "trio.to_thread.run_sync threads, heartbeat every 10 ms on the loop"
        )
        width = max(22, *(len(stall_label(row)) + 1 for row in st["threads"]))
        lines.append(
            f"  {'row':<{width}}{'p50 ms':>8}{'max ms':>9}{'ref p50':>9}{'ref max':>9}"
            f"{'dropped':>9}{'events/s':>10}  full GCs (longest ms), ref"
        )
        for row in st["threads"]:
            log, ref = row["logging"], row["no_logging"]
            collections = (
                f"  {full_collections(log)}, {full_collections(ref)}" if "gc_full" in log else ""
            )
            lines.append(
                f"  {stall_label(row):<{width}}{log['late_p50_ms']:>8.2f}"
                f"{log['late_max_ms']:>9.2f}"
                f"{ref['late_p50_ms']:>9.2f}{ref['late_max_ms']:>9.2f}{log['dropped']:>9,}"
                f"{log['events_per_s']:>10,}{collections}"
            )
        lines.append("  (ref: the same threads doing CPU work without logging)")
        if "heap_collect_ms" in st:
            lines.append(
                f"  one gc.collect() of the heap ({st['heap_objects']:,} objects) before the rows: "
                f"{st['heap_collect_ms']:.2f} ms"
            )
        for b in st["asyncio_burst"]:
            lines.append(
                f"  asyncio burst via start_in_thread → {b['sink']}: {b['events']:,} events, "
                f"dropped {b['dropped']:,}, {b['events_per_s']:,} events/s"
            )
    if "writers" in results:
        wr = results["writers"]
        lines.append(f"\n14. WRITERS at full speed, default configuration, {wr['events']:,} events")
        lines.append(
            f"  {'sink':<22}{'written':>12}{'dropped':>9}{'max gap ms':>12}"
            f"{'longest write':>15}{'peak RSS':>10}{'wall s':>8}"
        )
        for run in wr["runs"]:
            lines.append(
                f"  {run['kind'] + ' ' + run['mode']:<22}{run['written']:>12,}"
                f"{run['dropped']:>9,}{_fmt(run['max_gap_ms']):>12}"
                f"{_fmt(run['longest_write_ms']):>12} ms"
                f"{run['peak_rss_mib']:>7} MiB{run['wall_s']:>8}"
            )
    if "bridge" in results:
        br = results["bridge"]
        lines.append("\n15. STDLIB BRIDGE, thread CPU ns per record (median of rounds)")
        if "workload" in br:
            lines.append(f"  each record: {br['workload']}")
        for key, label in BRIDGE_LABELS.items():
            lines.append(f"  {label:<44}{br['call_ns'][key]:>10,.0f}{br['handle_ns'][key]:>10,.0f}")
        lines.append(
            f"  bridge / QueueHandler: call {br['ratio_call']:.2f}, own share "
            f"{br['ratio_own']:.2f}, handle(record) {br['ratio_handle']:.2f}"
            + (f", floor (no-op handler) {br['ratio_floor']:.2f}" if "ratio_floor" in br else "")
        )
    if "shipping" in results:
        sh = results["shipping"]
        lines.append(f"\n16. SHIPPING: encode {sh['events']:,}-event batches, CPU µs per event")
        ref = sh["protocols"]["otlp-json"]["encode_us"]
        for name, row in sh["protocols"].items():
            lines.append(
                f"  {name:<16}{row['encode_us']:>8.2f} µs ({row['encode_us'] / ref:.2f}x "
                f"otlp-json), gzip {row['gzip_us']:.2f} µs, {row['bytes']:.0f} B "
                f"({row['gzip_bytes']:.1f} B gzipped)"
            )
        tr = sh["trace_context"]
        lines.append(
            f"  caller with trace correlation, no span: {tr['on_us']:.2f} µs, off: "
            f"{tr['off_us']:.2f} µs ({tr['overhead'] * 100:+.1f}%)"
        )
    if "ablation" in results:
        ab = results["ablation"]
        lines.append(
            f"\n17. THE CALL'S PARTS (python -m benchmarks.ablation), {ab['unit']}, "
            f"{ab['passes']} passes"
        )
        from . import ablation

        for key, ns in ab["ns"].items():
            cost = ablation.part(key, ab["ns"])
            parts = "" if cost is None else f"  part {cost:+6.0f}"
            lines.append(
                f"  {ablation.label(key):<44}{ns:>8,.0f}{parts}   ÷ bare "
                f"{ab['ratio_to_bare'][key]:.3f}"
            )
    if "profile" in results:
        from .profile import render as render_profile

        lines.append("\n18. WHERE THE TIME GOES (python -m benchmarks.profile)")
        lines += ["  " + line for line in render_profile(results["profile"]).splitlines()]
    return lines


BRIDGE_LABELS = {
    "bridge": "LogactorsHandler → logger (NullSink)",
    "queue": "stdlib QueueHandler → SimpleQueue",
    "none": "a handler that does nothing",
}


def save(results: dict[str, Any], directory: str, stamp: str) -> str:
    """Write ``results`` to ``directory/<stamp>.json``; returns the path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{stamp}.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2, sort_keys=False, default=str)
        handle.write("\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    from . import markdown

    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument("file", nargs="?", help="a results JSON file")
    parser.add_argument("--markdown", action="store_true", help="print Markdown, not text")
    parser.add_argument(
        "--update", nargs="+", metavar="DOC", help="rewrite the generated sections of DOC"
    )
    parser.add_argument(
        "--results", help="with --update: the results file the sections are rendered from"
    )
    args = parser.parse_args(argv)
    if args.update:
        for doc in args.update:
            with open(doc, encoding="utf-8") as handle:
                text = handle.read()
            if not markdown.sections(text):
                parser.error(f"{doc} has no generated section")
            with open(doc, "w", encoding="utf-8") as handle:
                handle.write(markdown.update(text, args.results))
        return 0
    if not args.file:
        parser.error("a results file is needed (or --update)")
    with open(args.file, encoding="utf-8") as handle:
        results = json.load(handle)
    if args.markdown:
        path = os.path.relpath(os.path.abspath(args.file), markdown.ROOT)
        print(markdown.render_full(results, path))
    else:
        print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
