"""Metrics exports: SinkMetrics ledgers, to_dict/to_json/to_prometheus, the ShutdownReport."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import logactors
from logactors import MetricsSnapshot, ShutdownReport, SinkMetrics
from logactors.metrics import (
    COUNTERS,
    GAUGES,
    INFLOW,
    LOGGER_METRICS,
    METRIC,
    OUTFLOW,
    REPORT_COLUMNS,
    SINK_METRICS,
    Counters,
)

# ---------------------------------------------------------------------------------------------
# A small parser for the Prometheus text exposition format 0.0.4, strict about what matters:
# names, label syntax and escapes, values, one HELP/TYPE per family before its samples,
# samples of a family together, no duplicate series.

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
_SAMPLE = re.compile(
    rf"(?P<name>{_NAME})(?:\{{(?P<labels>(?:{_LABEL})(?:,{_LABEL})*)?\}})? (?P<value>\S+)"
)
_VALUE = re.compile(r"[-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf)|NaN")
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_prometheus(text: str) -> tuple[dict[str, str], dict[str, str], Series]:
    """Return (types, helps, series) or fail an assertion where the text is invalid."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    helps: dict[str, str] = {}
    series: Series = {}
    done: set[str] = set()
    current: str | None = None
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert re.fullmatch(_NAME, name), line
            assert name not in helps, f"second HELP for {name}"
            helps[name] = help_text
            continue
        if line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert re.fullmatch(_NAME, name), line
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, f"second TYPE for {name}"
            assert name not in done, f"TYPE for {name} after its samples"
            types[name] = kind
            continue
        assert not line.startswith("#") or line.startswith("# "), line
        if line.startswith("#") or not line:
            continue
        match = _SAMPLE.fullmatch(line)
        assert match, f"not a sample line: {line!r}"
        name, value = match["name"], match["value"]
        assert _VALUE.fullmatch(value), f"bad value in {line!r}"
        labels = tuple(
            (k, re.sub(r'\\[\\"n]', lambda m: _UNESCAPE[m[0]], v))
            for k, v in re.findall(_LABEL, match["labels"] or "")
        )
        assert len({k for k, _ in labels}) == len(labels), f"repeated label in {line!r}"
        if name != current:
            assert name not in done, f"samples of {name} are not together"
            if current is not None:
                done.add(current)
            current = name
        key = (name, labels)
        assert key not in series, f"duplicate series {key}"
        series[key] = float(value.replace("Inf", "inf"))
    for name in {n for n, _ in series}:
        assert name in types, f"no TYPE for {name}"
        if types[name] == "counter":
            assert name.endswith("_total")
    return types, helps, series


# ---------------------------------------------------------------------------------------------
# Strategies.

_counts = st.integers(0, 10**12)
_latency = st.floats(0, 1e6, allow_nan=False)


def _values(field: attrs.Attribute[Any]) -> st.SearchStrategy[Any]:
    """Values for one declared SinkMetrics field, chosen by its kind and default."""
    metric = field.metadata[METRIC]
    if metric.kind == "state":
        return st.sampled_from(metric.states)
    if isinstance(field.default, bool):
        return st.booleans()
    if isinstance(field.default, float):
        return _latency
    return _counts


sink_metrics = st.builds(SinkMetrics, **{f.name: _values(f) for f in attrs.fields(SinkMetrics)})
sink_names = st.text(min_size=1, max_size=10)
snapshots = st.builds(
    MetricsSnapshot,
    sinks=st.dictionaries(sink_names, sink_metrics, max_size=4),
    events=_counts,
    rejected=_counts,
    handoff_depth=_counts,
    uptime_s=st.floats(0, 1e9, allow_nan=False),
)


# ---------------------------------------------------------------------------------------------
# The declaration: every export lists exactly the declared fields.

#: The public Prometheus family names (without the prefix), in declaration order: they must not
#: change when the declaration is reworded or reordered.
PROMETHEUS_FAMILIES = {
    "events": "events_total",
    "rejected": "rejected_total",
    "handoff_depth": "handoff_depth",
    "uptime_s": "uptime_seconds",
    **{name: f"sink_{name}_total" for name in COUNTERS},
    **{name: f"sink_{name}" for name in GAUGES},
    "circuit": "sink_circuit_state",
}
SINK_FIELD_NAMES = [
    "accepted",
    "received",
    "replayed",
    "written",
    "rerouted",
    "spooled",
    "dropped",
    "failed",
    "lost",
    "spool_dropped",
    "bytes",
    "batches",
    "restarts",
    "late_written",
    "queue_depth",
    "queue_bytes",
    "spool_depth",
    "spool_inherited",
    "latency_p50_ms",
    "latency_p99_ms",
    "circuit",
    "dead",
]


def test_every_field_is_declared() -> None:
    """Every SinkMetrics field and every MetricsSnapshot field but ``sinks`` carries its
    declaration; the public names are the ones users rely on."""
    assert [f.name for f in attrs.fields(SinkMetrics)] == SINK_FIELD_NAMES
    assert list(SINK_METRICS) == SINK_FIELD_NAMES
    assert list(LOGGER_METRICS) == ["events", "rejected", "handoff_depth", "uptime_s"]
    assert set(COUNTERS) | set(GAUGES) | {"circuit"} == set(SINK_METRICS)
    assert (INFLOW, OUTFLOW) == (
        ("accepted", "received", "replayed"),
        ("written", "rerouted", "spooled", "dropped", "failed", "lost", "queue_depth"),
    )
    for name, metric in {**SINK_METRICS, **LOGGER_METRICS}.items():
        assert metric.help.endswith(".") and not metric.help[0].islower(), name
        assert "\\" not in metric.help and "\n" not in metric.help, name
    # ShutdownReport reuses the snapshot's declarations of the fields they share
    report_fields = attrs.fields_dict(ShutdownReport)
    for name in ("events", "rejected"):
        assert report_fields[name].metadata == attrs.fields_dict(MetricsSnapshot)[name].metadata


def test_live_counters_are_the_declared_counters() -> None:
    """The live Counters hold exactly the declared counters, and a snapshot copies them all."""
    assert [f.name for f in attrs.fields(Counters)] == list(COUNTERS)
    counters = Counters()
    for i, name in enumerate(COUNTERS):
        setattr(counters, name, i + 1)
    assert counters.values() == {name: i + 1 for i, name in enumerate(COUNTERS)}
    m = SinkMetrics(**counters.values())
    assert all(getattr(m, name) == i + 1 for i, name in enumerate(COUNTERS))
    with pytest.raises(AttributeError):
        counters.acepted = 1  # type: ignore[attr-defined]  # slotted: a typo cannot count


@settings(max_examples=30)  # a structural property: few examples show it
@given(snapshots)
def test_exports_list_exactly_the_declared_fields(snap: MetricsSnapshot) -> None:
    """to_dict, JSON, Prometheus (names, kinds and HELP) and totals: the declared fields."""
    data = snap.to_dict()
    assert list(data) == ["sinks", "totals", *LOGGER_METRICS]
    for m in [*data["sinks"].values(), data["totals"]]:
        assert list(m) == SINK_FIELD_NAMES
    assert set(orjson.loads(snap.to_json())) == set(data)
    types, helps, _ = parse_prometheus(snap.to_prometheus())
    declared = {**LOGGER_METRICS, **SINK_METRICS}
    assert list(types) == [f"logactors_{PROMETHEUS_FAMILIES[n]}" for n in declared]
    for name, metric in declared.items():
        family = f"logactors_{PROMETHEUS_FAMILIES[name]}"
        assert types[family] == ("counter" if metric.kind == "counter" else "gauge")
        assert helps[family].startswith(metric.help)


def test_report_columns_are_the_counters_of_the_law() -> None:
    """The shutdown report shows the in and out counters of the conservation law, in order."""
    assert tuple(n for n in (*INFLOW, *OUTFLOW) if n in COUNTERS) == REPORT_COLUMNS
    header = str(report(a=SinkMetrics())).split("\n")[1].split()
    assert header == ["sink", *REPORT_COLUMNS, "circuit"]


def test_ok_watches_every_loss() -> None:
    """ShutdownReport.ok is False for every field declared as a loss, and only for those."""
    losses = {n for n, m in SINK_METRICS.items() if m.loss}
    assert losses == {"dropped", "failed", "lost", "spool_dropped"}
    for name in COUNTERS:
        assert report(a=SinkMetrics(**{name: 1})).ok == (name not in losses), name


def test_docstrings_document_the_declared_fields() -> None:
    """The API reference (the classes' Attributes sections) gives each field its help text."""
    for cls in (SinkMetrics, MetricsSnapshot, ShutdownReport):
        doc = cls.__doc__ or ""
        documented = re.findall(r"^    (\w+): (.*)$", doc, re.MULTILINE)
        names = [name for name, _ in documented]
        assert names == [f.name for f in attrs.fields(cls)], cls
        fields = attrs.fields_dict(cls)
        for name, text in documented:
            if METRIC in fields[name].metadata:
                assert text == fields[name].metadata[METRIC].help, (cls, name)


ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guides" / "metrics.md"


def _table(header: str, names: list[str]) -> str:
    rows = [f"| `{name}` | {SINK_METRICS[name].help} |" for name in names]
    return "\n".join([f"| {header} | meaning |", "|---|---|", *rows]) + "\n"


def test_metrics_guide_tables_are_the_declaration() -> None:
    """docs/guides/metrics.md lists every declared field once, with its help text, and the
    SinkMetrics tables verbatim (the failure message shows the table to paste)."""
    page = GUIDE.read_text(encoding="utf-8")
    counters = _table("counter", list(COUNTERS))
    gauges = _table("gauge", [n for n in SINK_METRICS if n not in COUNTERS])
    assert counters in page, f"the counters table of {GUIDE} must read:\n{counters}"
    assert gauges in page, f"the gauges table of {GUIDE} must read:\n{gauges}"
    for name, metric in LOGGER_METRICS.items():
        assert f"| `{name}` | {metric.help} |\n" in page, name
    rows = re.findall(r"^\| `(\w+)` \|", page, re.MULTILINE)
    assert sorted(rows) == sorted([*LOGGER_METRICS, *SINK_METRICS, "sinks", "totals"])


def test_metrics_guide_help_lines_are_real() -> None:
    """The Prometheus example in the guide shows HELP lines the export really writes."""
    page = GUIDE.read_text(encoding="utf-8")
    shown = re.findall(r"^# HELP .*$", page, re.MULTILINE)
    assert shown
    real = MetricsSnapshot(sinks={"file": SinkMetrics()}).to_prometheus().splitlines()
    assert set(shown) <= set(real)


_LAW = re.compile(
    r"accepted \+ received \+ replayed\)?\s*==\s*(?:outflow\s*\()?(\w+(?:\s*\+\s*\w+)*)"
)


def test_the_law_is_stated_as_declared() -> None:
    """Wherever the docs, the README or the code state the conservation law, its outflow side
    lists the declared outflow fields, in their order."""
    files = [ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("logactors/**/*.py")]
    found = 0
    for path in files:
        for match in _LAW.finditer(path.read_text(encoding="utf-8")):
            names = tuple(re.split(r"\s*\+\s*", match.group(1)))
            assert names == OUTFLOW, f"{path}: {match.group(0)!r}"
            found += 1
    assert found >= 5


# ---------------------------------------------------------------------------------------------
# SinkMetrics.


def test_balanced_is_the_conservation_law() -> None:
    """inflow == written + rerouted + spooled + dropped + failed + lost + queue_depth."""
    m = SinkMetrics(
        accepted=10,
        received=3,
        replayed=2,
        written=6,
        dropped=1,
        failed=1,
        rerouted=2,
        spooled=2,
        lost=1,
        queue_depth=2,
    )
    assert (m.inflow, m.outflow) == (15, 15)
    assert m.balanced
    for name in (
        "written",
        "dropped",
        "failed",
        "rerouted",
        "spooled",
        "lost",
        "queue_depth",
        "accepted",
        "received",
        "replayed",
    ):
        assert not attrs.evolve(m, **{name: getattr(m, name) + 1}).balanced, name
    # bytes, batches, restarts and the spool's own counters are not part of the law
    assert attrs.evolve(m, bytes=99, batches=7, restarts=2, spool_dropped=5).balanced


def test_spool_ledger() -> None:
    """spooled + inherited == replayed + spool_dropped + spool_depth."""
    m = SinkMetrics(spooled=5, spool_inherited=3, replayed=4, spool_dropped=1, spool_depth=3)
    assert m.spool_balanced
    assert not attrs.evolve(m, spool_depth=2).spool_balanced


@given(sink_metrics)
def test_sink_metrics_to_dict_round_trip(m: SinkMetrics) -> None:
    """to_dict has every field and rebuilds an equal SinkMetrics."""
    data = m.to_dict()
    assert set(data) == {a.name for a in attrs.fields(SinkMetrics)}
    assert SinkMetrics(**data) == m


# ---------------------------------------------------------------------------------------------
# MetricsSnapshot.


def test_totals() -> None:
    """Totals sum the counters and depths; latencies are the worst sink's."""
    snap = MetricsSnapshot(
        sinks={
            "a": SinkMetrics(
                accepted=3,
                written=2,
                queue_depth=1,
                latency_p50_ms=1.0,
                latency_p99_ms=9.0,
                spool_inherited=2,
            ),
            "b": SinkMetrics(accepted=4, written=4, latency_p50_ms=3.0, latency_p99_ms=5.0),
        }
    )
    t = snap.totals
    assert (t.accepted, t.written, t.queue_depth, t.spool_inherited) == (7, 6, 1, 2)
    assert (t.latency_p50_ms, t.latency_p99_ms) == (3.0, 9.0)
    assert t.balanced
    assert MetricsSnapshot(sinks={}).totals == SinkMetrics()
    assert dict(iter(snap)) == snap.sinks


@pytest.mark.slow
@given(snapshots)
def test_snapshot_to_dict_and_json(snap: MetricsSnapshot) -> None:
    """to_json is the JSON of to_dict, with per-sink metrics and totals."""
    data = snap.to_dict()
    assert list(data) == ["sinks", "totals", "events", "rejected", "handoff_depth", "uptime_s"]
    assert data["sinks"] == {name: m.to_dict() for name, m in snap.sinks.items()}
    assert data["totals"] == snap.totals.to_dict()
    assert orjson.loads(snap.to_json()) == _json_clean(data)


def _json_clean(value: Any) -> Any:
    """What JSON can say (orjson writes non-finite floats as null)."""
    if isinstance(value, dict):
        return {k: _json_clean(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@pytest.mark.slow
@given(snapshots)
def test_prometheus_text_is_valid_and_complete(snap: MetricsSnapshot) -> None:
    """Valid exposition text with every counter and gauge of every sink, values exact."""
    types, helps, series = parse_prometheus(snap.to_prometheus())
    assert series[("logactors_events_total", ())] == snap.events
    assert series[("logactors_rejected_total", ())] == snap.rejected
    assert series[("logactors_handoff_depth", ())] == snap.handoff_depth
    assert series[("logactors_uptime_seconds", ())] == snap.uptime_s
    for name in COUNTERS:
        assert types[f"logactors_sink_{name}_total"] == "counter"
    for name in GAUGES:
        assert types[f"logactors_sink_{name}"] == "gauge"
    assert set(types) == set(helps)
    for sink, m in snap.sinks.items():
        label = (("sink", sink),)
        for name in COUNTERS:
            assert series[(f"logactors_sink_{name}_total", label)] == getattr(m, name)
        for name in GAUGES:
            assert series[(f"logactors_sink_{name}", label)] == getattr(m, name)
        states = {
            state: series[("logactors_sink_circuit_state", (("sink", sink), ("state", state)))]
            for state in ("closed", "open", "half_open")
        }
        assert states == {s: float(s == m.circuit) for s in states}
        assert series[("logactors_sink_dead", label)] == float(m.dead)
    per_sink = len(COUNTERS) + len(GAUGES) + 3  # the circuit: one series per state
    assert len(series) == 4 + per_sink * len(snap.sinks)


def test_prometheus_escapes_and_special_values() -> None:
    """Label values escape \\ " and newlines; infinities and NaN use Prometheus spellings."""
    snap = MetricsSnapshot(
        sinks={
            'we"ird\\name\n': SinkMetrics(latency_p50_ms=math.nan, latency_p99_ms=math.inf),
        }
    )
    text = snap.to_prometheus(prefix="app_log")
    assert "logactors" not in text
    assert 'app_log_sink_written_total{sink="we\\"ird\\\\name\\n"} 0' in text
    assert 'app_log_sink_latency_p99_ms{sink="we\\"ird\\\\name\\n"} +Inf' in text
    assert 'app_log_sink_latency_p50_ms{sink="we\\"ird\\\\name\\n"} NaN' in text
    _, _, series = parse_prometheus(text)
    assert series[("app_log_sink_written_total", (("sink", 'we"ird\\name\n'),))] == 0


@pytest.mark.parametrize("prefix", ["", "1abc", "a-b", "a b", "a\nb"])
def test_prometheus_rejects_bad_prefixes(prefix: str) -> None:
    """A prefix that would make invalid metric names is refused."""
    with pytest.raises(ValueError, match="not a valid Prometheus metric name prefix"):
        MetricsSnapshot(sinks={}).to_prometheus(prefix=prefix)


# ---------------------------------------------------------------------------------------------
# ShutdownReport.


def report(**sinks: SinkMetrics) -> ShutdownReport:
    return ShutdownReport(sinks=sinks, duration_s=0.25, lost=0, events=10)


def test_report_ok() -> None:
    """ok is True only when nothing was dropped, failed, lost, spool-dropped or rejected."""
    good = SinkMetrics(accepted=10, written=8, spooled=2, spool_depth=2)
    assert report(a=good).ok  # spooled events are kept, not lost
    for field in ("dropped", "failed", "lost", "spool_dropped"):
        assert not report(a=good, b=SinkMetrics(**{field: 1})).ok, field
    assert not attrs.evolve(report(a=good), rejected=1).ok
    assert not attrs.evolve(report(a=good), lost=1).ok


def test_report_str() -> None:
    """A summary line, then one aligned row per sink with its circuit state."""
    r = ShutdownReport(
        sinks={
            "console": SinkMetrics(accepted=12, written=12),
            "http\nx": SinkMetrics(
                accepted=123456789012, rerouted=5, failed=1, circuit="open", dead=True
            ),
        },
        duration_s=1.5,
        lost=0,
        events=123456789024,
        rejected=2,
        deadline_hit=True,
    )
    lines = str(r).split("\n")
    assert lines[0] == (
        "shutdown (graceful) in 1.500s: 123456789024 events, 0 lost, "
        "2 rejected, deadline hit — EVENTS WERE NOT DELIVERED"
    )
    header, console, http = lines[1:]
    assert header.split() == [
        "sink",
        "accepted",
        "received",
        "replayed",
        "written",
        "rerouted",
        "spooled",
        "dropped",
        "failed",
        "lost",
        "circuit",
    ]
    assert console.split() == ["console", "12", "0", "0", "12", "0", "0", "0", "0", "0", "closed"]
    assert http.split() == [
        "http\\nx",
        "123456789012",
        "0",
        "0",
        "0",
        "5",
        "0",
        "0",
        "1",
        "0",
        "open",
        "(dead)",
    ]
    # columns line up: every number ends where its header ends
    for column in ("accepted", "written", "lost"):
        end = header.index(column) + len(column)
        assert console[end - 1].isdigit()
        assert http[end - 1].isdigit()
    quiet = str(report(a=SinkMetrics())).split("\n")
    assert len(quiet) == 3
    assert quiet[0] == "shutdown (graceful) in 0.250s: 10 events, 0 lost, 0 rejected — nothing lost"


def test_report_to_dict() -> None:
    """to_dict carries every field, the totals and the verdict, and is JSON-ready."""
    r = ShutdownReport(
        sinks={"a": SinkMetrics(accepted=2, written=1, dropped=1)},
        duration_s=0.5,
        lost=0,
        strategy="flush",
        events=2,
        rejected=0,
    )
    data = r.to_dict()
    assert data == {
        "sinks": {"a": r.sinks["a"].to_dict()},
        "totals": r.totals.to_dict(),
        "duration_s": 0.5,
        "lost": 0,
        "strategy": "flush",
        "deadline_hit": False,
        "events": 2,
        "rejected": 0,
        "ok": False,
    }
    assert orjson.loads(orjson.dumps(data)) == data


async def test_exports_from_a_running_logger() -> None:
    """A real logger's snapshot and report export and balance."""
    config = {"sinks": [{"type": "null", "name": "null"}, {"type": "memory", "name": "mem"}]}
    async with logactors.open_logger(config) as log:
        for i in range(5):
            log.info("event {i}", i=i)
        await log.flush()
        snap = log.metrics()
        _, _, series = parse_prometheus(snap.to_prometheus())
        assert series[("logactors_sink_written_total", (("sink", "mem"),))] == 5
        assert snap.totals.written == 10
        assert all(m.balanced for m in snap.sinks.values())
    assert log.report is not None
    assert log.report.ok
    assert "nothing lost" in str(log.report)
    assert log.report.to_dict()["totals"]["written"] == 10


@pytest.mark.parametrize(
    "text",
    [
        "# TYPE a_total counter\na_total inf\n",  # Python's spelling of infinity
        '# TYPE a gauge\na{sink="x\ny"} 1\n',  # raw newline in a label
        '# TYPE a gauge\na{sink="x\\q"} 1\n',  # unknown escape
        "a 1\n",  # no TYPE
        "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n",  # family split
        "# TYPE a gauge\na 1\na 1\n",  # duplicate series
        "# TYPE a counter\na 1\n",  # counter without _total
        "# TYPE a gauge\na 1",  # no final newline
        "# TYPE 1a gauge\n",
    ],
)
def test_the_test_parser_rejects_invalid_text(text: str) -> None:
    """The exposition parser used above is strict enough to catch real mistakes."""
    with pytest.raises(AssertionError):
        parse_prometheus(text)
