"""Metrics: per-sink counters, snapshots and the shutdown report.

Every sink keeps the conservation law (DESIGN §5) at every quiescent point and after shutdown::

    accepted + received + replayed
        == written + dropped + failed + rerouted + spooled + lost + queue_depth

and its spool keeps its own ledger: ``spooled == replayed + spool_dropped + spool_depth`` (plus
what a previous run left on disk, reported as ``spool_inherited``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final, Literal

import attrs
import orjson

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
GAUGES: Final = ("spool_depth", "queue_depth", "queue_bytes", "latency_p50_ms", "latency_p99_ms")
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
        """The snapshot in the Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str, samples: list[tuple[str, object]]) -> None:
            lines.append(f"# HELP {prefix}_{name} {help_text}")
            lines.append(f"# TYPE {prefix}_{name} {kind}")
            lines.extend(f"{prefix}_{name}{labels} {value}" for labels, value in samples)

        def label(sink: str, **extra: str) -> str:
            pairs = {"sink": sink, **extra}
            inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in pairs.items())
            return "{" + inner + "}"

        family("events_total", "counter", "Events that passed the logger's gate.",
               [("", self.events)])
        family("rejected_total", "counter", "Events dropped before reaching any sink.",
               [("", self.rejected)])
        family("handoff_depth", "gauge", "Events waiting in the thread hand-off.",
               [("", self.handoff_depth)])
        for name in COUNTERS:
            family(f"sink_{name}_total", "counter", f"Per-sink counter '{name}'.",
                   [(label(s), getattr(m, name)) for s, m in self.sinks.items()])
        for name in GAUGES:
            family(f"sink_{name}", "gauge", f"Per-sink gauge '{name}'.",
                   [(label(s), getattr(m, name)) for s, m in self.sinks.items()])
        family("sink_circuit_state", "gauge", "Breaker state (1 for the current state).",
               [(label(s, state=state), int(m.circuit == state))
                for s, m in self.sinks.items() for state in ("closed", "open", "half_open")])
        return "\n".join(lines) + "\n"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


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
        """True when nothing was dropped, failed, lost or rejected."""
        t = self.totals
        return t.dropped == 0 and t.failed == 0 and t.lost == 0 and self.rejected == 0

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
        columns = ("accepted", "received", "replayed", "written", "rerouted", "spooled",
                   "dropped", "failed", "lost")
        width = max([4, *(len(n) for n in self.sinks)])
        header = f"{'sink':<{width}}  " + "  ".join(f"{c:>8}" for c in columns) + "  circuit"
        rows = [
            f"{name:<{width}}  " + "  ".join(f"{getattr(m, c):>8}" for c in columns)
            + f"  {m.circuit}{' (dead)' if m.dead else ''}"
            for name, m in self.sinks.items()
        ]
        verdict = "nothing lost" if self.ok else "EVENTS WERE NOT DELIVERED"
        summary = (
            f"shutdown ({self.strategy}) in {self.duration_s:.3f}s: {self.events} events, "
            f"{self.lost} lost, {self.rejected} rejected"
            f"{', deadline hit' if self.deadline_hit else ''} — {verdict}"
        )
        return "\n".join([summary, header, *rows])
