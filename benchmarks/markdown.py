"""The results file as Markdown: the generated sections of docs/performance.md and the README.

A generated section sits between two markers that name the results file it comes from::

    <!-- BEGIN benchmark results: benchmarks/results/<stamp>.json -->
    ...
    <!-- END benchmark results -->

(``summary`` instead of ``results`` for the README's short form). ``python -m benchmarks.report
--update docs/performance.md README.md`` re-renders every section from the file its marker
names; with ``--results FILE`` it points the markers at ``FILE`` first. Nothing between the
markers is written by hand: tests/test_benchmarks_smoke.py checks that each section equals
what its results file renders.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from ._util import MIB, full_collections, probe_text

TIMES = "\N{MULTIPLICATION SIGN}"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECTION = re.compile(
    r"<!-- BEGIN benchmark (?P<kind>results|summary): (?P<path>\S+) -->\n"
    r"(?P<body>.*?)"
    r"<!-- END benchmark (?P=kind) -->",
    re.DOTALL,
)


def _f(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: list[str], rows: Sequence[Sequence[object]]) -> list[str]:
    return [_row(*head), _row(*["---"] * len(head)), *(_row(*r) for r in rows), ""]


def _med(section: dict[str, Any], key: str, field: str = "results") -> float:
    try:
        return float(section[field][key]["median"])
    except (KeyError, TypeError):
        return float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else float("nan")


def _libraries(
    section: dict[str, Any],
    convert: Callable[[float], float],
    unit: str,
    *,
    digits: int = 2,
    base: str = "logactors",
    higher_is_better: bool = False,
) -> list[str]:
    la = _med(section, base)
    has_cpu = "cpu" in section
    ratio_head = "library / logactors" if higher_is_better else "logactors / library"
    head = ["library", f"{unit} (median)", "min", "max", ratio_head]
    if has_cpu:
        head += ["thread CPU (median)", "logactors / library (CPU)"]
    rows = []
    for key, res in section["results"].items():
        label = section.get("labels", {}).get(key, key)
        if key == base:
            label = f"**{label}**"
        row: list[object] = [
            label,
            _f(convert(res["median"]), digits),
            _f(convert(res["min"]), digits),
            _f(convert(res["max"]), digits),
            _f(_ratio(res["median"], la) if higher_is_better else _ratio(la, res["median"]), 3),
        ]
        if has_cpu:
            cpu = section["cpu"][key]["median"]
            row += [_f(convert(cpu), digits), _f(_ratio(section["cpu"][base]["median"], cpu), 3)]
        rows.append(row)
    return _table(head, rows)


def _meta(results: dict[str, Any], path: str) -> list[str]:
    meta = results["meta"]
    m = meta["machine"]
    load = [meta[k][0] for k in ("load_before", "load_after") if k in meta]
    busy = max(load, default=0.0) > (m["cores"] or 1)
    return [
        f"Results file: `{path}` (`{' '.join(['python -m benchmarks', *meta.get('argv', [])])}`"
        f", {meta['rounds']} rounds, medians; run {meta.get('timestamp', '?')}, "
        f"{meta.get('duration_s', '?')} s).",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; "
        f"{m['implementation']} {m['python']}; {m['os']}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        f"- source: commit `{meta.get('source', {}).get('commit')}`, "
        f"{meta.get('source', {}).get('logactors_modified_files')} uncommitted files in "
        "`logactors/`",
        "- load average (1 min) before / after the run: "
        + " / ".join(f"{x:.2f}" for x in load)
        + (
            f" — more than {m['cores']} cores' worth: other processes competed for the CPU, "
            "so wall-clock figures are inflated; ratios within one suite are what to read"
            if busy
            else ""
        ),
        *(
            [
                "- speed probe (one plain-Python loop, ms, min / median / max of 9 runs; the "
                "same machine has varied twofold between runs): " + probe_text(meta)
            ]
            if "probe_before" in meta
            else []
        ),
        "",
    ]


def _goals(results: dict[str, Any]) -> list[str]:
    op = {"<=": "≤", "<": "<", ">=": "≥"}
    rows = [
        [g["goal"], _f(g["value"], 3), f"{op[g['op']]} {g['target']:.3g}", g["verdict"], g["note"]]
        for g in results.get("goals", [])
    ]
    return _table(["goal", "measured", "goal", "verdict", "note"], rows)


def _e2e(e2e: dict[str, Any]) -> list[str]:
    la = _med(e2e, "logactors")
    paired = e2e.get("paired", {})
    rows = []
    for key, res in e2e["results"].items():
        cpu = e2e["cpu_ns_per_event"][key]["median"]
        label = e2e["labels"].get(key, key)
        ratio = paired[key]["median"] if key in paired else _ratio(la, res["median"])
        rows.append(
            [
                f"**{label}**" if key == "logactors" else label,
                _f(res["median"] / 1000, 1),
                _f(ratio, 3),
                _f(cpu / 1000, 2),
                _f(e2e["peak_backlog"][key]["median"], 0),
                _f(int(e2e.get("dropped", {}).get(key, 0))),
                _f(e2e["events"][key]),
            ]
        )
    intro = (
        [
            "Each round runs logactors (default configuration) before the first library and "
            "again after each one: a library's ratio is the mean rate of the two logactors runs "
            "beside it over its own, the median of the rounds (logactors' rate is the median "
            "of all its runs).",
            "",
        ]
        if paired
        else []
    )
    return intro + _table(
        [
            "library",
            "k events/s (median)",
            "logactors / library",
            "CPU µs/event",
            "peak backlog",
            "dropped",
            "N",
        ],
        rows,
    )


def _stall(st: dict[str, Any]) -> list[str]:
    from .report import stall_label

    rows = []
    for row in st["threads"]:
        log, ref = row["logging"], row["no_logging"]
        rows.append(
            [
                stall_label(row),
                f"{log['ticks']}/{log['expected_ticks']}",
                _f(log["late_p50_ms"]),
                _f(log["late_max_ms"]),
                _f(ref["late_p50_ms"]),
                _f(ref["late_max_ms"]),
                _f(log["dropped"]),
                _f(log["events_per_s"]),
                *(
                    [full_collections(log) or "0", full_collections(ref) or "0"]
                    if "gc_full" in log
                    else []
                ),
            ]
        )
    gc_columns = ["full GCs (longest ms)", "no-logging full GCs"]
    has_gc = any("gc_full" in row["logging"] for row in st["threads"])
    lines = _table(
        [
            "producers",
            "ticks seen/expected",
            "lateness p50 ms",
            "max ms",
            "no-logging p50 ms",
            "no-logging max ms",
            "dropped",
            "events/s",
            *(gc_columns if has_gc else []),
        ],
        rows,
    )
    if "heap_collect_ms" in st:
        lines += [
            f"One `gc.collect()` of the benchmark process's heap ({_f(st['heap_objects'])} "
            f"objects), timed before the rows: {_f(st['heap_collect_ms'])} ms. A full collection "
            "holds the GIL, and so the loop, that long (why logging starts them: see "
            '"Where a goal stops at a floor" below).',
            "",
        ]
    bursts = [
        [b["sink"], _f(b["events"]), _f(b["dropped"]), _f(b["written"]), _f(b["events_per_s"])]
        for b in st["asyncio_burst"]
    ]
    return lines + _table(
        ["asyncio burst via start_in_thread", "events", "dropped", "written", "events/s"], bursts
    )


def _writers(wr: dict[str, Any]) -> list[str]:
    rows = [
        [
            f"{r['kind']}, write_mode={r['mode']}",
            _f(r["written"]),
            _f(r["dropped"]),
            _f(r["max_gap_ms"]),
            _f(r["max_events_between_writes"]),
            _f(r["longest_write_ms"]),
            _f(r["peak_rss_mib"], 1),
            _f(r["wall_s"]),
        ]
        for r in wr["runs"]
    ]
    return _table(
        [
            "sink",
            "written",
            "dropped",
            "longest gap between writes (ms)",
            "most events logged between writes",
            "longest write (ms)",
            "peak RSS (MiB)",
            "wall (s)",
        ],
        rows,
    )


def _bridge(br: dict[str, Any]) -> list[str]:
    from .report import BRIDGE_LABELS

    rows = [
        [label, _f(br["call_ns"][key], 0), _f(br["handle_ns"][key], 0)]
        for key, label in BRIDGE_LABELS.items()
    ]
    lines = _table(["stdlib logger with…", "ns per record", "handle(record) ns"], rows)
    workload = br.get("workload")
    return [
        *(
            [f"Each record: `{workload}` (the same arguments for each handler).", ""]
            if workload
            else []
        ),
        *lines,
        f"Bridge / `QueueHandler`: whole call {_f(br['ratio_call'])}, the handler's own share "
        f"(call minus the no-op handler) {_f(br['ratio_own'])}, `handle(record)` "
        f"{_f(br['ratio_handle'])} (medians of per-round ratios, {br['rounds']} rounds of "
        f"{br['calls']:,} calls).",
        *(
            [
                "",
                f"The floor of the whole-call ratio, a handler that does nothing against "
                f"`QueueHandler` (record creation and dispatch alone): {_f(br['ratio_floor'])}.",
            ]
            if "ratio_floor" in br
            else []
        ),
        "",
    ]


def _shipping(sh: dict[str, Any]) -> list[str]:
    ref = sh["protocols"]["otlp-json"]["encode_us"]
    rows = [
        [
            name,
            _f(row["encode_us"]),
            _f(row["encode_us"] / ref),
            _f(row["gzip_us"]),
            _f(row["bytes"], 0),
            _f(row["gzip_bytes"], 1),
        ]
        for name, row in sh["protocols"].items()
    ]
    tr = sh["trace_context"]
    table = _table(
        [
            "protocol",
            "encode CPU µs/event",
            "vs otlp-json",
            "gzip µs/event",
            "bytes/event",
            "gzipped B/event",
        ],
        rows,
    )
    return [
        *table,
        f"Caller cost of `log.info` with trace correlation on and no span active: "
        f"{_f(tr['on_us'])} CPU µs, off: {_f(tr['off_us'])} µs ({tr['overhead'] * 100:+.1f}%).",
        "",
    ]


def _ablation(ab: dict[str, Any]) -> list[str]:
    from .ablation import label, part

    rows = [
        [
            label(key),
            _f(ns, 0),
            "" if (cost := part(key, ab["ns"])) is None else f"{cost:+,.0f}",
            _f(ab["ratio_to_bare"][key]),
        ]
        for key, ns in ab["ns"].items()
    ]
    return [
        f"`log.info` with two properties (one `NullSink`, default configuration), the real "
        f"generated level method with parts of its template taken out (an ablated method "
        f"is not a working logger: it only measures), and the bare trio pipeline's call; "
        f"thread CPU ns, fastest of {ab['passes']} interleaved passes of {ab['rounds']} "
        f"rounds of {ab['calls']:,} calls:",
        "",
        *_table(["call", "ns per call", "part", "÷ bare pipeline"], rows),
    ]


def _profile(pr: dict[str, Any]) -> list[str]:
    sizes = pr["sizes"]
    whole = pr["caller_whole_ns"]
    default = next(ns for label, ns in whole.items() if label.startswith("log.info"))
    parts = [[label, _f(ns, 0)] for label, ns in pr["caller_parts_ns"].items()]
    rows = [
        [label.strip(), _f(ns, 0), f"{ns - default:+,.0f}" if label.startswith(" ") else ""]
        for label, ns in whole.items()
    ]
    consumer = [[label, _f(ns, 0)] for label, ns in pr["consumer_ns_per_event"].items()]
    w = pr["write_batch_ms"]
    return [
        f"Thread CPU time, fastest of {sizes['rounds']} rounds of {sizes['calls']} calls, "
        "loop overhead subtracted. Each part is the library's own code called on its own:",
        "",
        *_table(["part of the call", "ns"], parts),
        "The whole `log.info` of loggers that differ in one setting each (a stage's cost is "
        "its row minus the default row):",
        "",
        *_table(["logger", "ns per call", "vs default"], rows),
        f"The consumer, per event of a {sizes['batch']}-event batch:",
        "",
        *_table(["step", "ns per event"], consumer),
        f"One `trio.to_thread.run_sync` round trip: {_f(pr['thread_hop_us'], 1)} µs. "
        f'`FileWriter.write_batch` in a worker thread (`write_mode="thread"`), median: '
        f"{_f(w['while_producing'])} ms while a producer on the trio thread logs and "
        f"checkpoints, {_f(w['after'])} ms after it stopped.",
        "",
    ]


def render_full(results: dict[str, Any], path: str) -> str:
    """The generated part of docs/performance.md."""
    out = _meta(results, path)
    if results["meta"].get("quick"):
        out += ["**A quick smoke pass: the figures are not meaningful.**", ""]
    out += ["### Goals", "", *_goals(results)]
    sections: list[tuple[str, str, Callable[[dict[str, Any]], list[str]]]] = [
        ("caller", "Caller-side cost of one enabled call (trio thread)", _caller),
        ("e2e", "End to end: log N events, leave the block, all on disk", _e2e),
        (
            "disabled",
            "Disabled call (below the gate)",
            lambda s: _libraries(s, lambda v: v, "ns/call", digits=1),
        ),
        (
            "thread",
            "From a worker thread (`trio.to_thread.run_sync`), caller side",
            lambda s: _libraries(s, lambda v: v / 1000, "µs/call"),
        ),
        (
            "text",
            "Text format to a file, end to end",
            lambda s: _libraries(
                s,
                lambda v: v / 1000,
                "k events/s",
                digits=1,
                base="logactors-text",
                higher_is_better=True,
            ),
        ),
        ("shapes", "Call shapes (logactors, caller side)", _shapes),
        ("latency", "Per-call latency", _latency),
        ("memory", "Memory with a stalled sink", _memory),
        ("metrics", "Metrics cost", _metrics),
        ("shutdown", "Shutdown", _shutdown),
        ("sinks", "Scaling by sinks", _sinks),
        ("sizes", "Scaling by events", _sizes),
        ("fanout", "Fan-out to CLEF file sinks", _fanout),
        ("stall", "Thread producers and the trio loop", _stall),
        ("writers", "Writers at full speed (default configuration)", _writers),
        ("bridge", "The stdlib bridge", _bridge),
        ("shipping", "Shipping: encoding for HTTP collectors", _shipping),
        ("ablation", "The call's parts (`python -m benchmarks.ablation`)", _ablation),
        ("profile", "Where the time goes (`python -m benchmarks.profile`)", _profile),
    ]
    for key, title, render in sections:
        if key in results:
            out += [f"### {title}", "", *render(results[key])]
    return "\n".join(out)


def _caller(section: dict[str, Any]) -> list[str]:
    out = _libraries(section, lambda v: v / 1000, "µs/call")
    full = section.get("full_collections")
    if full:  # (results files from before the frozen heap have none)
        counts = ", ".join(f"{key} {v['count']:,} ({_f(v['ms'], 1)} ms)" for key, v in full.items())
        out += [
            "The libraries take turns on a frozen heap (`gc.freeze()` after start-up). Full "
            f"garbage collections inside each library's timed blocks, all rounds: {counts}.",
            "",
        ]
    return out


def _simple(unit: str) -> Callable[[dict[str, Any]], list[str]]:
    def render(section: dict[str, Any]) -> list[str]:
        rows = [
            [name, _f(res["median"], 0), _f(res["min"], 0), _f(res["max"], 0)]
            for name, res in section["results"].items()
        ]
        return _table(["case", f"{unit} (median)", "min", "max"], rows)

    return render


def _fanout(section: dict[str, Any]) -> list[str]:
    out = _simple("e2e ns/event")(section)
    paired = section.get("paired", {}).get("4 file sinks")
    if paired:
        out += [
            "Each round runs one sink, four sinks, one sink; four sinks over the mean of the "
            f"one-sink runs beside them: {_f(paired['median'], 2)} (median of the rounds; "
            f"{_f(paired['min'], 2)} to {_f(paired['max'], 2)}).",
            "",
        ]
    return out


def _shapes(section: dict[str, Any]) -> list[str]:
    return _simple("ns/call")(section)


def _latency(lat: dict[str, Any]) -> list[str]:
    head = ["library", "p50", "p90", "p99", "max"]
    rows = [
        [key, _f(r["p50"], 0), _f(r["p90"], 0), _f(r["p99"], 0), _f(r["max"], 0)]
        for key, r in lat["results"].items()
    ]
    intro = f"Nanoseconds per call, the timer's {_f(lat['timer_ns'], 0)} ns included"
    faults = lat.get("minor_faults_per_1000")
    if faults is None:  # (a file from before the two took turns)
        return [f"{intro}.", "", *_table(head, rows)]
    head += ["p99/p50", "page faults per 1,000"]
    for row, (key, r) in zip(rows, lat["results"].items(), strict=True):
        row += [_f(r["p99"] / r["p50"], 2), _f(faults[key], 1)]
    return [
        f"{intro}; the two take turns block by block on a frozen heap. A call that takes a "
        "minor page fault (memory the allocator touches for the first time since it had it "
        "from the system) is several times slower: with about one such call in a hundred, they "
        "set the 99th percentile.",
        "",
        *_table(head, rows),
    ]


def _memory(mem: dict[str, Any]) -> list[str]:
    return [
        f'`QueueConfig(max_bytes={mem["max_bytes"] / MIB:.0f} MiB, overflow="drop_oldest")`, '
        f"{mem['events']:,} events into a stalled sink (child process): RSS growth "
        f"{_f(mem['rss_growth_bytes'] / MIB, 1)} MiB (peak "
        f"{_f((mem['peak_growth_bytes'] or 0) / MIB, 1)} MiB); queue depth "
        f"{mem['queue_depth']:,}, dropped {mem['dropped']:,}; bytes per queued event: "
        f"{_f(mem['estimated_bytes_per_event'], 0)} estimated, "
        f"{_f(mem['measured_bytes_per_event'], 0)} measured.",
        "",
    ]


def _metrics(met: dict[str, Any]) -> list[str]:
    return [
        f"{_f(met['updates_per_event'])} counter updates per event {TIMES} "
        f"{_f(met['counter_update_ns'], 1)} ns each; end-to-end CPU "
        f"{_f(met['e2e_cpu_ns_per_event']['median'], 0)} ns/event ({met['method']}).",
        "",
    ]


def _shutdown(sh: dict[str, Any]) -> list[str]:
    rows = [
        [
            mode,
            _f(sh[mode]["seconds"]["median"] * 1000, 1),
            _f(sh[mode]["written"]),
            _f(sh[mode]["lost"]),
        ]
        for mode in ("graceful", "immediate")
    ]
    return [
        f"{sh['events']:,} events queued for a CLEF `FileSink`.",
        "",
        *_table(["strategy", "ms (median)", "written", "lost"], rows),
    ]


def _sinks(sk: dict[str, Any]) -> list[str]:
    rows = [
        [
            v["name"],
            _f(sk["e2e_ns_per_event"][v["name"]]["median"], 0),
            _f(sk["caller_ns_per_event"][v["name"]]["median"], 0),
        ]
        for v in sk["variants"]
    ]
    return _table([f"sinks ({sk['sink']})", "e2e ns/event", "caller ns/event"], rows)


def _sizes(sz: dict[str, Any]) -> list[str]:
    rows = []
    for n, res in sz["ns_per_event"].items():
        cpu = sz["cpu_ns_per_event"][n]
        rows.append(
            [
                f"{int(n):,}",
                _f(res["median"], 0),
                _f(cpu["median"], 0),
                _f(cpu["min"], 0),
                _f(sz["peak_backlog"][n]["median"], 0),
                _f(sz["rss_after_bytes"][n] / MIB, 0),
            ]
        )
    return _table(
        [
            f"events ({sz['sink']})",
            "e2e wall ns/event",
            "e2e CPU ns/event",
            "best round CPU",
            "peak backlog",
            "RSS after (MiB)",
        ],
        rows,
    )


def render_summary(results: dict[str, Any], path: str) -> str:
    """The README's benchmark lines."""
    caller = results.get("caller", {})
    e2e = results.get("e2e", {})
    la_call = _med(caller, "logactors") / 1000
    queue_call = _med(caller, "stdlib-queue") / 1000
    la = _med(e2e, "logactors")
    paired = e2e.get("paired", {})

    def times(other: str) -> float:  # (side by side where the run has pairs)
        return paired[other]["median"] if other in paired else _ratio(la, _med(e2e, other))

    passed = sum(g["verdict"] == "PASS" for g in results.get("goals", []))
    total = len(results.get("goals", []))
    return (
        f"Benchmarks: in the run of `{path}` ({results['meta']['machine']['cores']} cores, "
        f"load average "
        f"{results['meta']['load_before'][0]:.1f}), an enabled call cost the trio thread "
        f"{_f(la_call)} µs (stdlib's `QueueHandler`: {_f(queue_call)} µs), and logging "
        f"{e2e.get('events', {}).get('logactors', 0):,} events to a CLEF file with the default "
        f"configuration ran at {_f(la / 1000, 0)}k events/s: "
        f"{_f(times('stdlib-queue'), 1)}{TIMES} stdlib's queue setup, "
        f"{_f(times('structlog'), 1)}{TIMES} structlog, "
        f"{_f(times('pico-file'), 1)}{TIMES} picologging's file handler"
        f"{' (each run beside logactors runs)' if paired else ''}; "
        f"{passed} of {total} goals met (see docs/performance.md).\n"
    )


def render_section(kind: str, path: str) -> str:
    """The body of one generated section, from the results file at ``path`` (relative to the
    repository root)."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        results = json.load(handle)
    if kind == "summary":
        return render_summary(results, path)
    return render_full(results, path) + "\n"


def update(document: str, results: str | None = None) -> str:
    """``document`` with every generated section re-rendered (from ``results`` when given)."""

    def replace(match: re.Match[str]) -> str:
        kind = match["kind"]
        path = results or match["path"]
        return (
            f"<!-- BEGIN benchmark {kind}: {path} -->\n"
            f"{render_section(kind, path)}"
            f"<!-- END benchmark {kind} -->"
        )

    return SECTION.sub(replace, document)


def sections(document: str) -> list[tuple[str, str, str]]:
    """``(kind, results path, body)`` of each generated section of ``document``."""
    return [(m["kind"], m["path"], m["body"]) for m in SECTION.finditer(document)]
