"""The whole configuration (:class:`SupervisorConfig`) and its supervisor-level settings.

``SupervisorConfig`` checks itself when built and raises one :class:`~logactors.ConfigError`
listing *every* problem of the whole tree (its parts', each sink's and each block's), each with
its full path (``sinks[1].queue.max_events: must be > 0 (got -1)``), exactly as
:func:`logactors.load_config` reports the same data. Values that people write by hand are
converted leniently: levels by name or number, durations as seconds or ``"200ms"`` / ``"5s"`` /
``"1m"``, sizes as bytes or ``"64MiB"`` / ``"10MB"``.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal

import attrs

from .._levels import Level
from ..exceptions import ConfigError, Problem
from .blocks import (
    FilterConfig,
    QueueConfig,
    _to_filters,
)
from .sinks import (
    ConsoleSink,
    FileSink,
    MemorySink,
    SinkConfig,
)
from .validate import (
    EMPTY,
    Checked,
    _identity,
    _Problems,
    _set,
    _show,
    _to_duration,
    _to_level,
    _to_mapping,
    _to_size,
    _to_str_tuple,
    convert_parts,
)

#: the enrichers named in ``SupervisorConfig.enrichers`` that logactors implements
#: (:mod:`logactors._enrich`)
BUILTIN_ENRICHERS: Final = frozenset({"hostname", "process", "thread", "task", "sequence"})

DEFAULT_REDACT_KEYS: Final = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "access_key",
    "authorization",
    "auth",
    "cookie",
    "private_key",
    "credentials",
    "session",
    "passphrase",
    "signature",
    "client_secret",
)

# ---------------------------------------------------------------------------------------------
# Supervisor-level settings.


@attrs.frozen(kw_only=True)
class RestartPolicy(Checked):
    """Restart intensity (as OTP's): at most ``max_restarts`` crashes within ``window`` seconds;
    one more and the sink is marked dead (its events go to fallback/spool).

    Attributes:
        max_restarts: restarts allowed within ``window`` (``0``: the first crash marks the sink
            dead).
        window: length of the sliding window, in seconds.
    """

    max_restarts: int = 5
    window: float = attrs.field(default=60.0, converter=_to_duration)

    def _check(self, p: _Problems) -> None:
        p.positive_int("max_restarts", self.max_restarts, minimum=0)
        p.number("window", self.window, positive=True)


@attrs.frozen(kw_only=True)
class ShutdownConfig(Checked):
    """How the supervisor shuts down.

    Attributes:
        timeout: seconds to drain and flush (``graceful``) before what is left is spooled or
            counted as lost.
        strategy: ``"graceful"`` (drain within ``timeout``), ``"flush"`` (no deadline) or
            ``"immediate"`` (no writes: spool what is queued).
        spool_timeout: extra seconds allowed to spool what is left at the deadline.
    """

    timeout: float = attrs.field(default=5.0, converter=_to_duration)
    strategy: Literal["graceful", "flush", "immediate"] = "graceful"
    spool_timeout: float = attrs.field(default=1.0, converter=_to_duration)

    def _check(self, p: _Problems) -> None:
        p.number("timeout", self.timeout)
        p.choice("strategy")
        p.number("spool_timeout", self.spool_timeout)


@attrs.frozen(kw_only=True)
class RedactConfig(Checked):
    """Masks secrets at the call, before any sink, fallback or spool sees them (on by default).

    Attributes:
        enabled: ``False`` turns redaction off.
        keys: property names whose values are replaced, at any depth: matched case- and
            separator-insensitively, and inside compound names (``token`` masks
            ``refreshToken``; keys shorter than five characters match whole words only).
        patterns: regular expressions whose matches in string values, property names, the
            template, the exception text and logger names are replaced.
        value_rules: mask credentials in URLs (``scheme://user:***@host``) and ``Bearer`` /
            ``Basic`` authorization values in every string.
        replacement: the mask.
    """

    enabled: bool = True
    keys: tuple[str, ...] = attrs.field(default=DEFAULT_REDACT_KEYS, converter=_to_str_tuple)
    patterns: tuple[str, ...] = attrs.field(default=(), converter=_to_str_tuple)
    value_rules: bool = True
    replacement: str = "***"

    def _check(self, p: _Problems) -> None:
        p.strings("keys", self.keys, empty=False)
        p.strings("patterns", self.patterns, empty=False)
        for i, pattern in enumerate(self.patterns if isinstance(self.patterns, tuple) else ()):
            if isinstance(pattern, str):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    p.add(("patterns", i), f"invalid regular expression {pattern!r}: {exc}")
        p.string("replacement", self.replacement, empty=True)
        p.booleans()


@attrs.frozen(kw_only=True)
class CaptureConfig(Checked):
    """Bounds of the capture at the call (nested values are copied when logged).

    Attributes:
        max_depth: nesting levels of lists, tuples, sets and mappings kept; a container below
            it is written as the string ``"<max depth>"``.
        max_items: items kept per container; the rest is replaced by one final item
            ``"…(+N more)"`` (in a mapping, under the key ``"…"``).
    """

    max_depth: int = 8
    max_items: int = 100

    def _check(self, p: _Problems) -> None:
        p.positive_int("max_depth", self.max_depth)
        p.positive_int("max_items", self.max_items)


@attrs.frozen(kw_only=True)
class MetricsConfig(Checked):
    """Metrics settings: ``latency_window`` batches kept for the latency percentiles.

    Attributes:
        latency_window: how many recent batch writes ``latency_p50_ms``/``latency_p99_ms`` are
            computed over.
    """

    latency_window: int = 1024

    def _check(self, p: _Problems) -> None:
        p.positive_int("latency_window", self.latency_window)


def _default_sinks() -> tuple[SinkConfig, ...]:
    return (ConsoleSink(name="console"),)


def _to_sinks(value: Iterable[SinkConfig]) -> tuple[SinkConfig, ...]:
    """Sinks as a tuple (a list works too, as in ``SupervisorConfig(sinks=[...])``)."""
    return tuple(value) if isinstance(value, list | tuple) else value  # type: ignore[return-value]


@attrs.frozen(kw_only=True)
class SupervisorConfig(Checked):
    """The whole configuration of a logger and its root supervisor.

    Attributes:
        min_level: the logger's gate (shared by every ``bind`` child; ``set_level`` changes it).
        sinks: sink configurations (names unique; fallbacks must name sinks, without cycles).
        properties: properties added to every event.
        enrichers: built-in enricher names (``hostname``, ``process``, ``thread``, ``task``,
            ``sequence``), ``"module:callable"`` paths, or callables returning properties.
        filters: global filters (``FilterConfig``, ``"module:callable"`` or callables taking a
            :class:`LogEvent` and returning whether to keep it).
        redact: secret masking (on by default; ``RedactConfig(enabled=False)`` or ``None``
            turns it off).
        capture: bounds of the values captured at the call.
        restart: restart intensity for crashing sinks.
        shutdown: shutdown strategy and deadline.
        self_log: where logactors reports its own problems: ``"stderr"``, ``"off"`` or a
            callable taking one line.
        metrics: metrics settings.
        max_event_bytes: values making an event larger than this are truncated with a marker.
        trace_context: add the active OpenTelemetry span's ``trace_id``, ``span_id`` and
            ``trace_flags`` to every event logged inside it (needs ``opentelemetry-api``, the
            ``otel`` extra; without it this does nothing).
    """

    min_level: int = attrs.field(default=Level.INFO, converter=_to_level)
    sinks: tuple[SinkConfig, ...] = attrs.field(factory=_default_sinks, converter=_to_sinks)
    properties: Mapping[str, object] = attrs.field(default=EMPTY, converter=_to_mapping)
    enrichers: tuple[str | Callable[[], Mapping[str, object]], ...] = attrs.field(
        default=(), converter=_to_str_tuple
    )
    filters: tuple[FilterConfig | str | Callable[..., bool], ...] = attrs.field(
        default=(), converter=_to_filters
    )
    redact: RedactConfig | None = attrs.field(factory=RedactConfig)
    capture: CaptureConfig = attrs.field(factory=CaptureConfig)
    restart: RestartPolicy = attrs.field(factory=RestartPolicy)
    shutdown: ShutdownConfig = attrs.field(factory=ShutdownConfig)
    self_log: Any = attrs.field(default="stderr", converter=_identity)
    metrics: MetricsConfig = attrs.field(factory=MetricsConfig)
    max_event_bytes: int = attrs.field(default=256 * 1024, converter=_to_size)
    trace_context: bool = True

    def __attrs_post_init__(self) -> None:
        if isinstance(self.sinks, list):
            _set(self, "sinks", tuple(self.sinks))
        convert_parts(self)  # redact, restart, shutdown, metrics, sinks, filters as tables
        self.check()  # every problem of the tree, with its path

    def _check(self, p: _Problems) -> None:
        p.level("min_level", self.min_level)
        if isinstance(self.sinks, tuple):
            self._check_sinks(p)
        if not isinstance(self.properties, Mapping):
            p.add(
                "properties", f"must be a table of property values (got {_show(self.properties)})"
            )
        elif not all(isinstance(k, str) for k in self.properties):
            bad = [k for k in self.properties if not isinstance(k, str)]
            p.add("properties", f"property names must be strings (got {_show(bad)})")
        if not isinstance(self.enrichers, tuple):
            p.add(
                "enrichers",
                f"must be a list of enricher names or callables (got {_show(self.enrichers)})",
            )
        for i, enricher in enumerate(self.enrichers if isinstance(self.enrichers, tuple) else ()):
            if isinstance(enricher, str):
                if enricher not in BUILTIN_ENRICHERS and ":" not in enricher:
                    p.add(
                        ("enrichers", i),
                        f"unknown enricher {enricher!r} (built-in: "
                        f"{', '.join(sorted(BUILTIN_ENRICHERS))}; or 'module:callable')",
                    )
            elif not callable(enricher):
                p.add(("enrichers", i), f"must be a name or a callable (got {_show(enricher)})")
        if not (
            (isinstance(self.self_log, str) and self.self_log in ("stderr", "off"))
            or callable(self.self_log)
        ):
            p.add("self_log", f"must be 'stderr', 'off' or a callable (got {_show(self.self_log)})")
        p.size("max_event_bytes", self.max_event_bytes, minimum=1024)
        p.booleans()

    def _check_sinks(self, p: _Problems) -> None:
        """Problems between sinks: duplicate names, fallbacks that name no sink, cycles. Each
        sink's own problems are its own (reported as a part); an invalid sink takes part as far
        as its name and fallback can be read (:func:`_link`)."""
        links = [_link(sink) for sink in self.sinks]
        first: dict[str, int] = {}
        for i, (name, _fallback) in enumerate(links):
            if name is None:
                continue
            if name in first:
                p.add(
                    ("sinks", i, "name"),
                    f"duplicate sink name {name!r} (also sinks[{first[name]}])",
                )
            first.setdefault(name, i)
        # by name (the last sink of a duplicate name)
        fallback_of = {name: fallback for name, fallback in links if name is not None}
        reported: set[frozenset[str]] = set()
        for i, (name, fallback) in enumerate(links):
            if fallback is None:
                continue
            if fallback not in fallback_of:
                p.add(
                    ("sinks", i, "fallback"),
                    f"no sink named {_show(fallback)} (sinks: {', '.join(sorted(fallback_of))})",
                )
                continue
            if name is None:
                continue  # no other sink can name it: it is in no cycle
            chain = [name]
            current: str | None = fallback
            while current is not None and current not in chain:
                chain.append(current)
                after = fallback_of[current]
                current = after if after in fallback_of else None
            if current != name:
                continue  # no cycle, or one this sink only leads into
            cycle = frozenset(chain)
            if cycle not in reported:  # each cycle once, at its first sink
                reported.add(cycle)
                p.add(("sinks", i, "fallback"), f"fallback cycle: {' -> '.join([*chain, name])}")

    @classmethod
    def preset(
        cls, name: Literal["development", "production", "testing"], **overrides: Any
    ) -> SupervisorConfig:
        """A ready configuration for a common situation, with fields overridden by keyword.

        * ``development``: coloured console at debug.
        * ``production``: CLEF on stdout for collectors plus a daily rolling CLEF file
          (``logs/app.clef``), ``drop_oldest`` with ``never_drop_level="error"``, redaction on.
        * ``testing``: one memory sink at trace.
        """
        if name == "development":
            base = cls(min_level=Level.DEBUG, sinks=(ConsoleSink(name="console", colors=None),))
        elif name == "production":
            queue = QueueConfig(overflow="drop_oldest", never_drop_level=Level.ERROR)
            base = cls(
                min_level=Level.INFO,
                sinks=(
                    ConsoleSink(name="console", format="clef", queue=queue),
                    FileSink(
                        name="file",
                        path="logs/app.clef",
                        format="clef",
                        rolling="daily",
                        retain=14,
                        queue=queue,
                    ),
                ),
                redact=RedactConfig(),
            )
        elif name == "testing":
            base = cls(min_level=Level.TRACE, sinks=(MemorySink(name="memory"),))
        else:
            names = typing.get_args(typing.get_type_hints(cls.preset)["name"])
            raise ConfigError(Problem(("preset",), f"unknown preset {name!r} ({', '.join(names)})"))
        return attrs.evolve(base, **overrides) if overrides else base


def _link(sink: object) -> tuple[str | None, str | None]:
    """A sink's name and fallback as the checks between sinks see them, whether the sink is
    valid or not (a sink object, or a sink table that could not be built): the name only when
    it is usable (a non-empty string), the fallback only when it names another sink with a
    non-empty string (the sink itself reports a bad name or fallback)."""
    name: object = None
    fallback: object = None
    if isinstance(sink, SinkConfig):
        name, fallback = sink.name, sink.fallback
    elif isinstance(sink, Mapping):  # named as the sink built from it would be
        name, fallback = sink.get("name", ""), sink.get("fallback")
        if isinstance(name, str) and not name:
            name = sink.get("type")
    usable = name if isinstance(name, str) and name else None
    if not isinstance(fallback, str) or not fallback or fallback == name:
        return usable, None
    return usable, fallback
