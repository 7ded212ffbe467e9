"""Metrics: per-sink counters, snapshots and the shutdown report.

Every sink keeps the conservation law at every quiescent point and after shutdown::

    accepted + received + replayed
        == written + dropped + failed + rerouted + spooled + lost + queue_depth

and its spool keeps its own ledger: ``spooled == replayed + spool_dropped + spool_depth`` (plus
what a previous run left on disk, reported as ``spool_inherited``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final, Literal

import attrs
import orjson

from .formatting._escape import escape_control

__all__ = ["MetricsSnapshot", "ShutdownReport", "SinkMetrics"]

CircuitState = Literal["closed", "open", "half_open"]

#: Counters that only grow (Prometheus counters); the rest are gauges.
COUNTERS: Final = (
    "accepted",
    "received",
    "replayed",
    "written",
    "dropped",
    "failed",
    "rerouted",
    "spooled",
    "lost",
    "spool_dropped",
    "bytes",
    "batches",
    "restarts",
)
GAUGES: Final = (
    "spool_depth",
    "spool_inherited",
    "queue_depth",
    "queue_bytes",
    "latency_p50_ms",
    "latency_p99_ms",
)
#: The HELP text of each per-sink series.
DESCRIPTIONS: Final[dict[str, str]] = {
    "accepted": "Events routed to the sink by the logger.",
    "received": "Events other sinks rerouted to this one (fallback).",
    "replayed": "Events read back from the sink's spool.",
    "written": "Events the sink wrote.",
    "dropped": "Events dropped for overflow or at shutdown intake.",
    "failed": "Events given up after retries with no fallback or spool to take them.",
    "rerouted": "Events handed to the fallback sink.",
    "spooled": "Events written to the sink's spool.",
    "lost": "Events abandoned at the shutdown deadline with no spool to take them.",
    "spool_dropped": "Spooled events discarded because the spool exceeded its size.",
    "bytes": "Bytes written.",
    "batches": "Batches written.",
    "restarts": "Times the sink actor was restarted after a crash.",
    "spool_depth": "Events in the spool now.",
    "spool_inherited": "Events a previous run left in the spool.",
    "queue_depth": "Events queued or in flight now.",
    "queue_bytes": "Estimated memory of the queue now, in bytes.",
    "latency_p50_ms": "Median write latency per batch over the recent window, in milliseconds.",
    "latency_p99_ms": "99th percentile write latency per batch, in milliseconds.",
}
_METRIC_NAME: Final = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_INFLOW: Final = ("accepted", "received", "replayed")
_OUTFLOW: Final = ("written", "dropped", "failed", "rerouted", "spooled", "lost", "queue_depth")


@attrs.frozen(kw_only=True)
class SinkMetrics:
    """One sink's counters at one moment.

    Attributes:
        accepted: events routed to this sink by the logger.
        received: events other sinks rerouted to this one (fallback), or handed back to this
            sink's spool by its failed fallback chain.
        replayed: events read back from this sink's spool.
        written: events the sink wrote.
        dropped: events dropped for overflow (queue full, memory cap) or at shutdown intake.
        failed: events given up after retries with no fallback or spool to take them.
        rerouted: events handed to the fallback sink.
        spooled: events written to this sink's spool.
        lost: events abandoned at the shutdown deadline with no spool to take them.
        spool_dropped: spooled events discarded because the spool exceeded ``max_bytes``.
        spool_depth: events in the spool now.
        spool_inherited: events a previous run left in the spool (replayed or dropped here).
        bytes: bytes written (as reported by the sink's formatter).
        batches: batches written.
        queue_depth: events queued or in flight now.
        queue_bytes: estimated memory of the queue now.
        latency_p50_ms / latency_p99_ms: write latency per batch over the recent window.
        restarts: times the actor was restarted after a crash.
        circuit: breaker state.
        dead: the sink exceeded its restart intensity and no longer writes.
    """

    accepted: int = 0
    received: int = 0
    replayed: int = 0
    written: int = 0
    dropped: int = 0
    failed: int = 0
    rerouted: int = 0
    spooled: int = 0
    lost: int = 0
    spool_dropped: int = 0
    spool_depth: int = 0
    spool_inherited: int = 0
    bytes: int = 0
    batches: int = 0
    queue_depth: int = 0
    queue_bytes: int = 0
    latency_p50_ms: float = 0.0
    latency_p99_ms: float = 0.0
    restarts: int = 0
    circuit: CircuitState = "closed"
    dead: bool = False

    @property
    def inflow(self) -> int:
        """``accepted + received + replayed``."""
        return self.accepted + self.received + self.replayed

    @property
    def outflow(self) -> int:
        """``written + dropped + failed + rerouted + spooled + lost + queue_depth``."""
        return sum(getattr(self, name) for name in _OUTFLOW)

    @property
    def balanced(self) -> bool:
        """Whether the conservation law holds for this snapshot."""
        return self.inflow == self.outflow

    @property
    def spool_balanced(self) -> bool:
        """Whether the spool ledger holds: spooled + inherited == replayed + dropped + depth."""
        return (
            self.spooled + self.spool_inherited
            == self.replayed + self.spool_dropped + self.spool_depth
        )

    def to_dict(self) -> dict[str, Any]:
        """The counters as a plain dict."""
        return attrs.asdict(self)


def _sum(items: Mapping[str, SinkMetrics]) -> SinkMetrics:
    totals = {name: sum(getattr(m, name) for m in items.values()) for name in COUNTERS}
    for name in ("spool_depth", "spool_inherited", "queue_depth", "queue_bytes"):
        totals[name] = sum(getattr(m, name) for m in items.values())
    latencies = [m.latency_p99_ms for m in items.values()]
    return SinkMetrics(
        **totals,
        latency_p50_ms=max((m.latency_p50_ms for m in items.values()), default=0.0),
        latency_p99_ms=max(latencies, default=0.0),
    )


@attrs.frozen(kw_only=True)
class MetricsSnapshot:
    """All counters at one moment (``log.metrics()``).

    Attributes:
        sinks: per-sink metrics by sink name.
        events: events that passed the logger's gate and filters.
        rejected: events dropped before reaching any sink (logged after close, thread
            hand-off full, or from a thread after the trio run ended).
        handoff_depth: events waiting in the thread hand-off.
        uptime_s: seconds since the logger started.
    """

    sinks: Mapping[str, SinkMetrics]
    events: int = 0
    rejected: int = 0
    handoff_depth: int = 0
    uptime_s: float = 0.0

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
            "events": self.events,
            "rejected": self.rejected,
            "handoff_depth": self.handoff_depth,
            "uptime_s": self.uptime_s,
        }

    def to_json(self) -> bytes:
        """The snapshot as JSON (orjson)."""
        return orjson.dumps(self.to_dict())

    def to_prometheus(self, prefix: str = "logactors") -> str:
        """The snapshot in the Prometheus text exposition format (version 0.0.4).

        Per-sink series carry a ``sink`` label; ``<prefix>_sink_circuit_state`` has one series
        per breaker state (1 for the current one).

        Raises:
            ValueError: ``prefix`` is not a valid metric name.
        """
        if not _METRIC_NAME.fullmatch(prefix):
            raise ValueError(f"not a valid Prometheus metric name prefix: {prefix!r}")
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str, samples: list[tuple[str, object]]) -> None:
            lines.append(f"# HELP {prefix}_{name} {help_text}")
            lines.append(f"# TYPE {prefix}_{name} {kind}")
            lines.extend(f"{prefix}_{name}{labels} {_sample(value)}" for labels, value in samples)

        def label(sink: str, **extra: str) -> str:
            pairs = {"sink": sink, **extra}
            inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in pairs.items())
            return "{" + inner + "}"

        family(
            "events_total", "counter", "Events that passed the logger's gate.", [("", self.events)]
        )
        family(
            "rejected_total",
            "counter",
            "Events dropped before reaching any sink.",
            [("", self.rejected)],
        )
        family(
            "handoff_depth",
            "gauge",
            "Events waiting in the thread hand-off.",
            [("", self.handoff_depth)],
        )
        family(
            "uptime_seconds", "gauge", "Seconds since the logger started.", [("", self.uptime_s)]
        )
        for name in COUNTERS:
            family(
                f"sink_{name}_total",
                "counter",
                DESCRIPTIONS[name],
                [(label(s), getattr(m, name)) for s, m in self.sinks.items()],
            )
        for name in GAUGES:
            family(
                f"sink_{name}",
                "gauge",
                DESCRIPTIONS[name],
                [(label(s), getattr(m, name)) for s, m in self.sinks.items()],
            )
        family(
            "sink_circuit_state",
            "gauge",
            "Breaker state (1 for the current state).",
            [
                (label(s, state=state), int(m.circuit == state))
                for s, m in self.sinks.items()
                for state in ("closed", "open", "half_open")
            ],
        )
        family(
            "sink_dead",
            "gauge",
            "1 when the sink exceeded its restart intensity.",
            [(label(s), int(m.dead)) for s, m in self.sinks.items()],
        )
        return "\n".join(lines) + "\n"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


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


@attrs.frozen(kw_only=True)
class ShutdownReport:
    """What shutdown did (``log.report`` after the logger closed).

    Attributes:
        sinks: per-sink metrics as of the end.
        duration_s: seconds the shutdown took.
        lost: events abandoned at the shutdown deadline with no spool to take them.
        strategy: the strategy that ran (``immediate`` if a second interrupt forced it).
        deadline_hit: whether the deadline expired before every actor drained.
        events: events that passed the logger's gate during the logger's life.
        rejected: events dropped before reaching any sink.
    """

    sinks: Mapping[str, SinkMetrics]
    duration_s: float
    lost: int
    strategy: str = "graceful"
    deadline_hit: bool = False
    events: int = 0
    rejected: int = 0

    @property
    def totals(self) -> SinkMetrics:
        """Counters summed over all sinks."""
        return _sum(self.sinks)

    @property
    def ok(self) -> bool:
        """True when every event was delivered or kept: nothing dropped, failed, lost (also
        from a full spool) or rejected. Events left in a spool count as kept."""
        t = self.totals
        return (
            t.dropped == 0
            and t.failed == 0
            and t.lost == 0
            and self.lost == 0
            and t.spool_dropped == 0
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
        columns = (
            "accepted",
            "received",
            "replayed",
            "written",
            "rerouted",
            "spooled",
            "dropped",
            "failed",
            "lost",
        )
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
        summary = (
            f"shutdown ({self.strategy}) in {self.duration_s:.3f}s: {self.events} events, "
            f"{self.lost} lost, {self.rejected} rejected"
            f"{f', {spool_dropped} dropped from full spools' if spool_dropped else ''}"
            f"{', deadline hit' if self.deadline_hit else ''} — {verdict}"
        )
        return "\n".join([summary, header + "  circuit", *rows])
