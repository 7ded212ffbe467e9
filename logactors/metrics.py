"""Metrics: per-sink counters, snapshots and the shutdown report.

Every metrics field is declared once, below, as an attrs field whose metadata (a
:class:`Metric`) says its kind (counter, gauge or state), its help text, and its place in the
conservation law that every sink keeps at every quiescent point and after shutdown::

    inflow  (accepted + received + replayed)
        == outflow  (written + rerouted + spooled + dropped + failed + lost + queue_depth)

The live counters (:class:`Counters`), the snapshot (:class:`SinkMetrics`), ``to_dict``/JSON,
the Prometheus families with their HELP lines, the shutdown report's columns, the law's sums,
the class docstrings and the metrics guide's tables (checked by a test) all come from those
declarations. The spool keeps its own ledger: ``spooled + spool_inherited == replayed +
spool_dropped + spool_depth``.

Words used with one meaning each: an event is **rejected** when the logger refuses it before
any sink has it (counted once per logger); **dropped** when logactors discards an event a sink
had taken in (its queue was full, or the event could not be processed) or, for
``spool_dropped``, from its spool; **failed** when the destination could not or would not take
it and nothing else could; **lost** when the shutdown deadline abandoned it.
"""

from __future__ import annotations

import inspect
import math
import operator
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final, Literal, get_args

import attrs
import orjson

from .formatting._escape import escape_control

__all__ = ["Metric", "MetricsSnapshot", "ShutdownReport", "SinkMetrics"]

CircuitState = Literal["closed", "open", "half_open"]
MetricKind = Literal["counter", "gauge", "state"]
Flow = Literal["in", "out"]

#: The attrs metadata key under which a field's :class:`Metric` is stored.
METRIC: Final = "logactors.metric"


@attrs.frozen(kw_only=True)
class Metric:
    """How one metrics field is declared (the attrs metadata of the field).

    Attributes:
        kind: ``counter`` (only grows; Prometheus ``<name>_total``), ``gauge`` (a value now) or
            ``state`` (one of ``states``; Prometheus ``<name>_state``, one series per state).
        help: what the field counts, one sentence (the Prometheus HELP line and the docs).
        flow: ``in`` or ``out`` for the two sides of the conservation law, else ``None``.
        loss: a non-zero value means events did not arrive (``ShutdownReport.ok`` is False).
        total: how ``totals`` combines the sinks: ``sum``, ``max``, or ``None`` (the default).
        prometheus: the Prometheus name when it is not the field's (``uptime_seconds``).
        states: the values of a ``state`` field.
    """

    kind: MetricKind
    help: str
    flow: Flow | None = None
    loss: bool = False
    total: Literal["sum", "max"] | None = "sum"
    prometheus: str | None = None
    states: tuple[str, ...] = ()

    def family(self, name: str) -> str:
        """The Prometheus family name (without the prefix) of the field ``name``."""
        base = self.prometheus or name
        return {"counter": f"{base}_total", "gauge": base, "state": f"{base}_state"}[self.kind]


def _counter(help: str, *, flow: Flow | None = None, loss: bool = False) -> Any:
    return attrs.field(
        default=0, metadata={METRIC: Metric(kind="counter", help=help, flow=flow, loss=loss)}
    )


def _gauge(
    help: str,
    *,
    default: object = 0,
    flow: Flow | None = None,
    total: Literal["sum", "max"] | None = "sum",
    prometheus: str | None = None,
) -> Any:
    metric = Metric(kind="gauge", help=help, flow=flow, total=total, prometheus=prometheus)
    return attrs.field(default=default, metadata={METRIC: metric})


def declared(cls: type) -> dict[str, Metric]:
    """The metrics fields of an attrs class, in declaration order: ``{name: Metric}``."""
    return {f.name: f.metadata[METRIC] for f in attrs.fields(cls) if METRIC in f.metadata}


def _document(cls: type) -> None:
    """Append the declared fields to the ``Attributes:`` section of ``cls``'s docstring (the
    API reference reads it), creating the section when the class has none."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    if "\nAttributes:\n" not in doc:
        doc += "\n\nAttributes:"
    entries = [f"    {name}: {metric.help}" for name, metric in declared(cls).items()]
    cls.__doc__ = "\n".join([doc, *entries]) + "\n"


@attrs.define(kw_only=True, eq=False)
class _CounterFields:
    """The counters of one sink: declared once here, shared by the live :class:`Counters` and
    the frozen :class:`SinkMetrics`."""

    accepted: int = _counter("Events the logger routed to this sink.", flow="in")
    received: int = _counter(
        "Events rerouted to this sink by the sinks it is the fallback of, or handed back to its"
        " spool by its failed fallback chain.",
        flow="in",
    )
    replayed: int = _counter("Events read back from this sink's spool.", flow="in")
    written: int = _counter("Events the sink wrote.", flow="out")
    rerouted: int = _counter("Events handed to this sink's fallback.", flow="out")
    spooled: int = _counter("Events appended to this sink's spool.", flow="out")
    dropped: int = _counter(
        "Events this sink took in and dropped: its queue was full (evicted or refused by the"
        " overflow policy, on the trio thread or on the logging thread), or the event could not"
        " be processed.",
        flow="out",
        loss=True,
    )
    failed: int = _counter(
        "Events given up after retries or a permanent error, with no fallback or spool to take"
        " them.",
        flow="out",
        loss=True,
    )
    lost: int = _counter(
        "Events abandoned at the shutdown deadline with no spool to take them.",
        flow="out",
        loss=True,
    )
    spool_dropped: int = _counter(
        "Events dropped from this sink's spool: the oldest when it exceeded max_bytes, or"
        " records found damaged.",
        loss=True,
    )
    bytes: int = _counter("Bytes written, as reported by the sink.")
    batches: int = _counter("Batches written.")
    restarts: int = _counter("Times the sink's actor was restarted after a crash.")
    late_written: int = _counter(
        "Events of batches whose write timed out (counted failed, rerouted or spooled) that the"
        " sink later saw written after all: they are in the destination too. Not part of the"
        " conservation law."
    )


@attrs.define(kw_only=True, eq=False)
class Counters(_CounterFields):
    """One sink's live counters (mutated on the trio thread only; read via snapshots)."""

    def values(self) -> dict[str, Any]:
        """The counters as ``{name: value}`` (to build a :class:`SinkMetrics`)."""
        return dict(zip(COUNTERS, _counter_values(self), strict=True))


@attrs.frozen(kw_only=True)
class SinkMetrics(_CounterFields):
    """One sink's counters at one moment."""

    queue_depth: int = _gauge("Events queued, rerouted-in or in flight now.", flow="out")
    queue_bytes: int = _gauge("Estimated memory of the queue now, in bytes.")
    spool_depth: int = _gauge("Events in the spool now.")
    spool_inherited: int = _gauge("Events a previous run left in the spool.")
    latency_p50_ms: float = _gauge(
        "Median write latency per batch over the last metrics.latency_window batches, in"
        " milliseconds.",
        default=0.0,
        total="max",
    )
    latency_p99_ms: float = _gauge(
        "99th percentile write latency per batch over the last metrics.latency_window batches,"
        " in milliseconds.",
        default=0.0,
        total="max",
    )
    circuit: CircuitState = attrs.field(
        default="closed",
        metadata={
            METRIC: Metric(
                kind="state",
                help="Circuit breaker state: closed, open or half_open.",
                total=None,
                states=get_args(CircuitState),
            )
        },
    )
    dead: bool = _gauge(
        "Whether the sink exceeded its restart intensity and no longer writes.",
        default=False,
        total=None,
    )

    @property
    def inflow(self) -> int:
        """The events that entered the sink: the sum of the ``in`` fields."""
        return sum(getattr(self, name) for name in INFLOW)

    @property
    def outflow(self) -> int:
        """Where they went: the sum of the ``out`` fields."""
        return sum(getattr(self, name) for name in OUTFLOW)

    @property
    def balanced(self) -> bool:
        """Whether the conservation law (``inflow == outflow``) holds for this snapshot."""
        return self.inflow == self.outflow

    @property
    def spool_balanced(self) -> bool:
        """Whether the spool ledger holds: spooled + inherited == replayed + dropped + depth."""
        return (
            self.spooled + self.spool_inherited
            == self.replayed + self.spool_dropped + self.spool_depth
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field as a plain dict."""
        return attrs.asdict(self)


#: The metrics of one sink, in declaration order.
SINK_METRICS: Final = declared(SinkMetrics)
COUNTERS: Final = tuple(n for n, m in SINK_METRICS.items() if m.kind == "counter")
GAUGES: Final = tuple(n for n, m in SINK_METRICS.items() if m.kind == "gauge")
INFLOW: Final = tuple(n for n, m in SINK_METRICS.items() if m.flow == "in")
OUTFLOW: Final = tuple(n for n, m in SINK_METRICS.items() if m.flow == "out")
_counter_values = operator.attrgetter(*COUNTERS)
_document(SinkMetrics)


def _sum(items: Mapping[str, SinkMetrics]) -> SinkMetrics:
    values = list(items.values())
    totals: dict[str, Any] = {}
    for name, metric in SINK_METRICS.items():
        if metric.total == "sum":
            totals[name] = sum(getattr(m, name) for m in values)
        elif metric.total == "max":
            totals[name] = max((getattr(m, name) for m in values), default=0.0)
    return SinkMetrics(**totals)


@attrs.frozen(kw_only=True)
class MetricsSnapshot:
    """All counters at one moment (``log.metrics()``).

    Attributes:
        sinks: per-sink metrics by sink name.
    """

    sinks: Mapping[str, SinkMetrics]
    events: int = _counter("Events that passed the logger's gate and filters.")
    rejected: int = _counter(
        "Events the logger refused before any sink had them: logged after close or after the"
        " trio run ended, past the thread hand-off's hard limit, or met by an internal error.",
        loss=True,
    )
    handoff_depth: int = _gauge("Events waiting in the thread hand-off now.")
    uptime_s: float = _gauge(
        "Seconds since the logger started.", default=0.0, prometheus="uptime_seconds"
    )

    @property
    def totals(self) -> SinkMetrics:
        """Counters summed over all sinks (latencies: the worst sink's)."""
        return _sum(self.sinks)

    def __iter__(self) -> Iterator[tuple[str, SinkMetrics]]:
        return iter(self.sinks.items())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"sinks": {...}, "totals": {...}, "events": …}``."""
        return {
            "sinks": {name: m.to_dict() for name, m in self.sinks.items()},
            "totals": self.totals.to_dict(),
            **{name: getattr(self, name) for name in LOGGER_METRICS},
        }

    def to_json(self) -> bytes:
        """The snapshot as JSON (orjson)."""
        return orjson.dumps(self.to_dict())

    def to_prometheus(self, prefix: str = "logactors") -> str:
        """The snapshot in the Prometheus text exposition format (version 0.0.4).

        One family per declared field: ``<prefix>_<name>_total`` for a counter,
        ``<prefix>_<name>`` for a gauge; per-sink ones are ``<prefix>_sink_…`` with a ``sink``
        label, and ``<prefix>_sink_circuit_state`` has one series per breaker state (1 for the
        current one). The HELP line is the field's help text.

        Raises:
            ValueError: ``prefix`` is not a valid metric name.
        """
        if not _METRIC_NAME.fullmatch(prefix):
            raise ValueError(f"not a valid Prometheus metric name prefix: {prefix!r}")
        lines: list[str] = []

        def family(name: str, metric: Metric, samples: list[tuple[str, object]]) -> None:
            kind = "counter" if metric.kind == "counter" else "gauge"
            lines.append(f"# HELP {prefix}_{name} {_escape_help(_help_line(metric))}")
            lines.append(f"# TYPE {prefix}_{name} {kind}")
            lines.extend(f"{prefix}_{name}{labels} {_sample(value)}" for labels, value in samples)

        for name, metric in LOGGER_METRICS.items():
            family(metric.family(name), metric, [("", getattr(self, name))])
        sinks = [(_label(sink), sink, m) for sink, m in self.sinks.items()]
        for name, metric in SINK_METRICS.items():
            if metric.kind == "state":
                samples: list[tuple[str, object]] = [
                    (_label(sink, state), int(getattr(m, name) == state))
                    for _, sink, m in sinks
                    for state in metric.states
                ]
            else:
                samples = [(label, getattr(m, name)) for label, _, m in sinks]
            family(f"sink_{metric.family(name)}", metric, samples)
        return "\n".join(lines) + "\n"


#: The logger-wide metrics of a snapshot, in declaration order.
LOGGER_METRICS: Final = declared(MetricsSnapshot)
_METRIC_NAME: Final = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_document(MetricsSnapshot)


def _help_line(metric: Metric) -> str:
    if metric.kind == "state":
        return f"{metric.help} One series per state, 1 for the current one."
    return metric.help


def _label(sink: str, state: str | None = None) -> str:
    inner = f'sink="{_escape_label(sink)}"'
    if state is not None:
        inner += f',state="{_escape_label(state)}"'
    return "{" + inner + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _sample(value: object) -> str:
    """A sample value as the exposition format spells it (``+Inf``, ``NaN``)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return repr(value)
    return str(value)


#: The shutdown report's columns: the counters of the conservation law.
REPORT_COLUMNS: Final = tuple(n for n, m in SINK_METRICS.items() if m.flow and m.kind == "counter")
_SINK_LOSSES: Final = tuple(n for n, m in SINK_METRICS.items() if m.loss)


@attrs.frozen(kw_only=True)
class ShutdownReport:
    """What shutdown did (``log.report`` after the logger closed).

    Attributes:
        sinks: per-sink metrics as of the end.
        duration_s: seconds the shutdown took.
        lost: events abandoned at the shutdown deadline with no spool to take them (the sum of
            the sinks' ``lost``).
        strategy: the strategy that ran (``immediate`` if a second interrupt forced it).
        deadline_hit: whether the deadline expired before every actor drained.
    """

    sinks: Mapping[str, SinkMetrics]
    duration_s: float
    lost: int
    strategy: str = "graceful"
    deadline_hit: bool = False
    events: int = attrs.field(default=0, metadata=attrs.fields(MetricsSnapshot).events.metadata)
    rejected: int = attrs.field(default=0, metadata=attrs.fields(MetricsSnapshot).rejected.metadata)

    @property
    def totals(self) -> SinkMetrics:
        """Counters summed over all sinks."""
        return _sum(self.sinks)

    @property
    def ok(self) -> bool:
        """True when every event was delivered or kept: none rejected, and no sink dropped,
        failed or lost any (also from a full spool). Events left in a spool count as kept."""
        t = self.totals
        return (
            not any(getattr(t, name) for name in _SINK_LOSSES)
            and self.lost == 0
            and self.rejected == 0
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "sinks": {name: m.to_dict() for name, m in self.sinks.items()},
            "totals": self.totals.to_dict(),
            "duration_s": self.duration_s,
            "lost": self.lost,
            "strategy": self.strategy,
            "deadline_hit": self.deadline_hit,
            "events": self.events,
            "rejected": self.rejected,
            "ok": self.ok,
        }

    def __str__(self) -> str:
        columns = REPORT_COLUMNS
        names = {name: escape_control(name) for name in self.sinks}
        widths = {  # at least 8, wider for big numbers
            c: max([8, len(c), *(len(str(getattr(m, c))) for m in self.sinks.values())])
            for c in columns
        }
        width = max([4, *(len(n) for n in names.values())])
        header = f"{'sink':<{width}}  " + "  ".join(f"{c:>{widths[c]}}" for c in columns)
        rows = [
            f"{names[name]:<{width}}  "
            + "  ".join(f"{getattr(m, c):>{widths[c]}}" for c in columns)
            + f"  {m.circuit}{' (dead)' if m.dead else ''}"
            for name, m in self.sinks.items()
        ]
        verdict = "nothing lost" if self.ok else "EVENTS WERE NOT DELIVERED"
        spool_dropped = self.totals.spool_dropped
        late = self.totals.late_written
        summary = (
            f"shutdown ({self.strategy}) in {self.duration_s:.3f}s: {self.events} events, "
            f"{self.lost} lost, {self.rejected} rejected"
            f"{f', {spool_dropped} dropped from spools' if spool_dropped else ''}"
            f"{f', {late} written late after a timed-out write' if late else ''}"
            f"{', deadline hit' if self.deadline_hit else ''} — {verdict}"
        )
        return "\n".join([summary, header + "  circuit", *rows])


_document(ShutdownReport)
