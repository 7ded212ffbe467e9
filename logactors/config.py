"""Configuration: frozen, keyword-only attrs classes (the "supervisor config").

Every class validates itself when built and raises one :class:`~logactors.ConfigError` that
lists *every* problem it found, each with its field name; :func:`logactors.load_config` adds
the full path (``sinks[1].queue.max_events: must be > 0 (got -1)``). Values that people write
by hand are converted leniently: levels by name or number, durations as seconds or ``"200ms"``
/ ``"5s"`` / ``"1m"``, sizes as bytes or ``"64MiB"`` / ``"10MB"``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Final, Literal

import attrs

from ._levels import Level, parse_level
from .exceptions import ConfigError

__all__ = [
    "DEFAULT_OUTPUT_TEMPLATE",
    "DEFAULT_REDACT_KEYS",
    "BatchConfig",
    "BreakerConfig",
    "ConsoleSink",
    "CustomSink",
    "FileSink",
    "FilterConfig",
    "GelfSink",
    "HttpSink",
    "MemorySink",
    "MetricsConfig",
    "NullSink",
    "QueueConfig",
    "RedactConfig",
    "RestartPolicy",
    "RetryConfig",
    "ShutdownConfig",
    "SinkConfig",
    "SpoolConfig",
    "SupervisorConfig",
    "SyslogSink",
]

DEFAULT_OUTPUT_TEMPLATE: Final = (
    "{Timestamp:%Y-%m-%d %H:%M:%S.%f} [{Level:u3}] {Message}{NewLine}{Exception}"
)
DEFAULT_REDACT_KEYS: Final = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "authorization",
    "cookie",
)
FILE_FORMATS: Final = frozenset({"text", "json", "clef", "clef-rendered", "logfmt", "csv"})
_MIB: Final = 1024 * 1024

# ---------------------------------------------------------------------------------------------
# Lenient converters: they never raise; what they cannot convert stays as it is and the class
# validation reports it with the field name.

_UNITS: Final = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZES: Final = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}
_NUMBER_UNIT: Final = re.compile(
    r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Zµ]*)\s*$"
)


def _to_level(value: Any) -> Any:
    try:
        return parse_level(value)
    except ValueError:
        return value


def _to_sink_level(value: Any) -> Any:
    try:
        return parse_level(value, allow_off=True)
    except ValueError:
        return value


def _to_optional_level(value: Any) -> Any:
    return None if value is None else _to_level(value)


def _to_duration(value: Any) -> Any:
    if isinstance(value, str):
        match = _NUMBER_UNIT.match(value)
        if match and match.group(2).lower() in _UNITS | {"": 1.0}:
            unit = match.group(2).lower()
            return float(match.group(1)) * (_UNITS[unit] if unit else 1.0)
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _to_size(value: Any) -> Any:
    if isinstance(value, str):
        match = _NUMBER_UNIT.match(value)
        if match and match.group(2).lower() in _SIZES:
            return int(float(match.group(1)) * _SIZES[match.group(2).lower()])
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _to_optional_size(value: Any) -> Any:
    return None if value is None else _to_size(value)


def _to_tuple(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def _to_str_tuple(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return _to_tuple(value)


def _identity(value: Any) -> Any:
    return value


def _to_address(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 2:
        return (value[0], value[1])
    return value


def _to_filters(value: Any) -> Any:
    """Tables become FilterConfig objects; invalid ones stay tables (the validator says why)."""
    if not isinstance(value, list | tuple):
        return value
    out: list[Any] = []
    for item in value:
        if isinstance(item, Mapping):
            try:
                item = FilterConfig(**item)
            except (ConfigError, TypeError):
                pass
        out.append(item)
    return tuple(out)


def _check_filters(p: _Problems, value: object, *, callables: bool) -> None:
    """Report every problem of a ``filters`` list (tables left unconverted included)."""
    what = "filter tables, 'module:callable' names or callables" if callables else "filter tables"
    if not isinstance(value, tuple):
        p.add("filters", f"must be a list of {what} (got {_show(value)})")
        return
    known = {a.name for a in attrs.fields(FilterConfig)}
    for i, item in enumerate(value):
        field = f"filters[{i}]"
        if isinstance(item, FilterConfig) or (callables and (isinstance(item, str)
                                                               or callable(item))):
            continue
        if not isinstance(item, Mapping):
            p.add(field, f"must be one of {what} (got {_show(item)})")
            continue
        for key in item:
            if key not in known:
                p.add(field, f"unknown key {_show(key)}")
        try:
            FilterConfig(**{k: v for k, v in item.items() if k in known})
        except ConfigError as exc:
            p.nested(field, exc)


def _show(value: object) -> str:
    """A short repr for messages."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _to_path(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


class _Problems:
    """Collects the problems of one config object, each prefixed with its field name."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(f"{field}: {message}")

    def nested(self, field: str, error: ConfigError) -> None:
        self.items.extend(f"{field}.{p}" for p in error.problems)

    def positive_int(self, field: str, value: object, *, minimum: int = 1) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(field, f"must be an integer (got {_show(value)})")
        elif value < minimum:
            self.add(field, f"must be >= {minimum} (got {value})" if minimum != 1
                     else f"must be > 0 (got {value})")

    def optional_positive_int(self, field: str, value: object) -> None:
        if value is not None:
            self.positive_int(field, value)

    def size(self, field: str, value: object, *, minimum: int = 1, optional: bool = False) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(field, f"must be a number of bytes or a size like '64MiB' "
                            f"(got {_show(value)})")
        else:
            self.positive_int(field, value, minimum=minimum)

    def number(self, field: str, value: object, *, positive: bool = False) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            self.add(field, f"must be a number of seconds or a duration like '200ms' "
                            f"(got {_show(value)})")
        elif value < 0 or (positive and value == 0):
            shown = int(value) if isinstance(value, float) and value.is_integer() else value
            self.add(field, f"must be {'> 0' if positive else '>= 0'} (got {shown})")

    def boolean(self, field: str, value: object, *, optional: bool = False) -> None:
        if not (isinstance(value, bool) or (optional and value is None)):
            what = "true, false or unset" if optional else "true or false"
            self.add(field, f"must be {what} (got {_show(value)})")

    def strings(self, field: str, value: object, *, empty: bool = True) -> None:
        """A list of strings (converted to a tuple)."""
        if not isinstance(value, tuple):
            self.add(field, f"must be a list of strings (got {_show(value)})")
            return
        for i, item in enumerate(value):
            self.string(f"{field}[{i}]", item, empty=empty)

    def booleans_of(self, obj: attrs.AttrsInstance) -> None:
        """Check every field annotated ``bool`` (or ``bool | None``) of an attrs object."""
        for a in attrs.fields(type(obj)):
            if a.type in ("bool", "bool | None"):
                self.boolean(a.name, getattr(obj, a.name), optional=a.type != "bool")

    def level(self, field: str, value: object, *, allow_off: bool = False) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                parse_level(value, allow_off=allow_off)
            except ValueError as exc:
                self.add(field, str(exc))
            else:  # pragma: no cover - converters already parsed it
                self.add(field, f"not a level: {value!r}")

    def choice(self, field: str, value: object, choices: tuple[str, ...]) -> None:
        if value not in choices:
            self.add(field, f"must be one of {', '.join(map(repr, choices))} "
                            f"(got {_show(value)})")

    def string(self, field: str, value: object, *, empty: bool = False) -> None:
        if not isinstance(value, str):
            self.add(field, f"must be a string (got {_show(value)})")
        elif not value and not empty:
            self.add(field, "must not be empty")

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


# ---------------------------------------------------------------------------------------------
# Building blocks.


@attrs.frozen(kw_only=True)
class QueueConfig:
    """A sink's inbox: its bound, and what a full inbox does to a non-blocking call.

    Attributes:
        max_events: soft bound on queued events; past it the ``overflow`` policy applies.
        max_bytes: hard cap on the estimated memory of the queue (64 MiB when ``None``).
        overflow: ``"drop_oldest"`` (evict the oldest lower-level event), ``"drop_newest"``
            (drop the new event) or ``"block"`` (wait for room where waiting is possible).
        never_drop_level: events at or above this level are never dropped for overflow below
            the hard cap; lower events are evicted first.
        block_timeout: with ``"block"``, how long a call from a plain thread waits for room.
    """

    max_events: int = 10_000
    max_bytes: int | None = attrs.field(default=None, converter=_to_optional_size)
    overflow: Literal["drop_oldest", "drop_newest", "block"] = "drop_oldest"
    never_drop_level: int = attrs.field(default=Level.ERROR, converter=_to_sink_level)
    block_timeout: float = attrs.field(default=1.0, converter=_to_duration)

    def __attrs_post_init__(self) -> None:
        p = _Problems()
        p.positive_int("max_events", self.max_events)
        p.size("max_bytes", self.max_bytes, optional=True)
        p.choice("overflow", self.overflow, ("drop_oldest", "drop_newest", "block"))
        p.level("never_drop_level", self.never_drop_level, allow_off=True)
        p.number("block_timeout", self.block_timeout)
        p.raise_if_any()

    @property
    def hard_cap_bytes(self) -> int:
        """The memory cap that applies (``max_bytes``, or 64 MiB when unset)."""
        return self.max_bytes if self.max_bytes is not None else 64 * _MIB


@attrs.frozen(kw_only=True)
class BatchConfig:
    """How a sink actor groups events: up to ``max_events`` or ``max_delay`` seconds after the
    first one, whichever comes first; ``max_bytes`` also caps a batch's estimated size.

    Attributes:
        max_events: most events in one batch (one ``write_batch`` call).
        max_delay: seconds to wait for more events after the first one before writing a partial
            batch (``0``: write what is queued at once).
        max_bytes: cap on a batch's estimated size in bytes (``None``: no cap).
    """

    max_events: int = 512
    max_delay: float = attrs.field(default=0.2, converter=_to_duration)
    max_bytes: int | None = attrs.field(default=None, converter=_to_optional_size)

    def __attrs_post_init__(self) -> None:
        p = _Problems()
        p.positive_int("max_events", self.max_events)
        p.number("max_delay", self.max_delay)
        p.size("max_bytes", self.max_bytes, optional=True)
        p.raise_if_any()


@attrs.frozen(kw_only=True)
class BreakerConfig:
    """Circuit breaker: open after ``failure_threshold`` consecutive failed batches, half-open
    ``reset_timeout`` seconds later, closed again after one good batch.

    Attributes:
        failure_threshold: consecutive failed batches (each after its retries) that open the
            breaker.
        reset_timeout: seconds an open breaker waits before it turns half-open on its own.
    """

    failure_threshold: int = 5
    reset_timeout: float = attrs.field(default=5.0, converter=_to_duration)

    def __attrs_post_init__(self) -> None:
        p = _Problems()
        p.positive_int("failure_threshold", self.failure_threshold)
        p.number("reset_timeout", self.reset_timeout)
        p.raise_if_any()


@attrs.frozen(kw_only=True)
class RetryConfig:
    """Retries of a failed batch: ``attempts`` tries in total (1 means no retry), with capped
    exponential backoff from ``initial_backoff`` up to ``max_backoff`` and ``jitter`` (a
    fraction of the delay, drawn uniformly).

    Attributes:
        attempts: tries per batch in total (``1``: no retry).
        initial_backoff: seconds before the second try; doubled for each further try.
        max_backoff: cap on the delay between tries (a peer's ``retry_after`` may ask for more,
            honoured up to 30 s).
        jitter: fraction of each delay added or removed at random (``0.1``: ±10%).
    """

    attempts: int = 3
    initial_backoff: float = attrs.field(default=0.1, converter=_to_duration)
    max_backoff: float = attrs.field(default=5.0, converter=_to_duration)
    jitter: float = 0.1

    def __attrs_post_init__(self) -> None:
        p = _Problems()
        p.positive_int("attempts", self.attempts)
        p.number("initial_backoff", self.initial_backoff)
        p.number("max_backoff", self.max_backoff)
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, int | float):
            p.add("jitter", f"must be a number between 0 and 1 (got {self.jitter!r})")
        elif not 0 <= self.jitter <= 1:
            p.add("jitter", f"must be between 0 and 1 (got {self.jitter})")
        p.raise_if_any()


@attrs.frozen(kw_only=True)
class SpoolConfig:
    """An on-disk store for events a sink could not write, replayed when it recovers.

    Attributes:
        path: the spool file (its directory is created; a ``.cursor`` file sits beside it).
        max_bytes: bound on the spool's live records; the oldest are dropped (and counted).
        fsync: ``fsync`` after each append (survives power loss, not only process crashes).
    """

    path: str = attrs.field(converter=_to_path)
    max_bytes: int = attrs.field(default=256 * _MIB, converter=_to_size)
    fsync: bool = False

    def __attrs_post_init__(self) -> None:
        p = _Problems()
        p.string("path", self.path)
        p.size("max_bytes", self.max_bytes)
        p.booleans_of(self)
        p.raise_if_any()


@attrs.frozen(kw_only=True)
class FilterConfig:
    """A declarative filter: an event matches when every given condition holds.

    Attributes:
        min_level / max_level: inclusive level range.
        logger: logger-name prefix (``"app.db"`` matches ``app.db`` and ``app.db.pool``).
        properties: property values the event must carry (equality).
        exclude: reject matching events instead of keeping only them.
    """

    min_level: int | None = attrs.field(default=None, converter=_to_optional_level)
    max_level: int | None = attrs.field(default=None, converter=_to_optional_level)
    logger: str | None = None
    properties: Mapping[str, object] = attrs.field(factory=dict)
    exclude: bool = False

    def __attrs_post_init__(self) -> None:
        p = _Problems()
        if self.min_level is not None:
            p.level("min_level", self.min_level)
        if self.max_level is not None:
            p.level("max_level", self.max_level)
        if self.logger is not None:
            p.string("logger", self.logger, empty=True)
        if not isinstance(self.properties, Mapping):
            p.add("properties", f"must be a table of property values "
                                f"(got {_show(self.properties)})")
        p.booleans_of(self)
        p.raise_if_any()


# ---------------------------------------------------------------------------------------------
# Sinks.


@attrs.frozen(kw_only=True)
class SinkConfig:
    """Fields shared by every sink (``name`` must be unique within a config).

    Attributes:
        name: unique sink name (metrics, fallback references); defaults to the sink's
            ``type`` (``console``, ``file`` …).
        min_level: lowest level this sink writes (``"off"`` writes nothing of its own; it can
            still serve as a fallback). Default: everything that passed the logger's gate.
        format: output format (``text``, ``json``, ``clef``, ``clef-rendered``, ``logfmt``,
            ``csv``; network sinks have their own).
        output_template: the ``text`` format's line template.
        queue / batch / breaker / retry: inbox bound, batching, circuit breaker, retries.
        fallback: name of the sink that takes events this one could not write.
        spool: on-disk store for events this one could not write, replayed on recovery.
        write_timeout: seconds one ``write_batch`` may take before it counts as failed.
        filters: declarative filters (all must pass) applied before the event is queued.
    """

    kind: ClassVar[str] = ""
    formats: ClassVar[frozenset[str]] = FILE_FORMATS

    name: str = ""
    min_level: int = attrs.field(default=Level.TRACE, converter=_to_sink_level)
    format: str = "text"
    output_template: str = DEFAULT_OUTPUT_TEMPLATE
    queue: QueueConfig = attrs.field(factory=QueueConfig)
    batch: BatchConfig = attrs.field(factory=BatchConfig)
    breaker: BreakerConfig | None = attrs.field(factory=BreakerConfig)
    retry: RetryConfig = attrs.field(factory=RetryConfig)
    fallback: str | None = None
    spool: SpoolConfig | None = None
    write_timeout: float = attrs.field(default=30.0, converter=_to_duration)
    filters: tuple[FilterConfig, ...] = attrs.field(default=(), converter=_to_filters)

    def __attrs_post_init__(self) -> None:
        if self.name == "":
            _set(self, "name", self.kind)
        p = _Problems()
        p.string("name", self.name)
        p.level("min_level", self.min_level, allow_off=True)
        p.choice("format", self.format, tuple(sorted(self.formats)))
        p.string("output_template", self.output_template, empty=True)
        for field, cls in (("queue", QueueConfig), ("batch", BatchConfig),
                           ("retry", RetryConfig)):
            if not isinstance(getattr(self, field), cls):
                p.add(field, f"must be a {cls.__name__}")
        if self.breaker is not None and not isinstance(self.breaker, BreakerConfig):
            p.add("breaker", "must be a BreakerConfig or None")
        if self.spool is not None and not isinstance(self.spool, SpoolConfig):
            p.add("spool", "must be a SpoolConfig or None")
        if self.fallback is not None:
            p.string("fallback", self.fallback)
            if self.fallback == self.name:
                p.add("fallback", f"a sink cannot be its own fallback ({self.name!r})")
        p.number("write_timeout", self.write_timeout, positive=True)
        _check_filters(p, self.filters, callables=False)
        p.booleans_of(self)
        self._validate(p)
        p.raise_if_any()

    def _validate(self, problems: _Problems) -> None:
        """Sink-specific checks (subclasses)."""


@attrs.frozen(kw_only=True)
class ConsoleSink(SinkConfig):
    """Writes to standard output (or error), coloured when the stream is a terminal.

    Attributes:
        stream: ``"stdout"`` or ``"stderr"``.
        colors: ``True``/``False`` to force, ``None`` to colour only a terminal (and honour
            ``NO_COLOR`` / ``FORCE_COLOR``).
        stderr_level: events at or above this level go to standard error instead.
    """

    kind: ClassVar[str] = "console"

    stream: Literal["stdout", "stderr"] = "stdout"
    colors: bool | None = None
    stderr_level: int | None = attrs.field(default=None, converter=_to_optional_level)

    def _validate(self, problems: _Problems) -> None:
        problems.choice("stream", self.stream, ("stdout", "stderr"))
        if self.stderr_level is not None:
            problems.level("stderr_level", self.stderr_level)


@attrs.frozen(kw_only=True)
class FileSink(SinkConfig):
    """Appends to a file, one write per batch in a worker thread; optional rolling.

    Attributes:
        path: the active file (directories are created; files are created 0o640).
        rolling: ``"never"``, ``"hourly"`` or ``"daily"`` (UTC boundaries).
        max_bytes: also roll when the file would exceed this size.
        retain: how many rolled files to keep (``None``: keep all).
        fsync: ``fsync`` after every batch.
    """

    kind: ClassVar[str] = "file"

    path: str = attrs.field(default="", converter=_to_path)
    rolling: Literal["never", "hourly", "daily"] = "never"
    max_bytes: int | None = attrs.field(default=None, converter=_to_optional_size)
    retain: int | None = 7
    fsync: bool = False

    def _validate(self, problems: _Problems) -> None:
        if self.path == "":
            problems.add("path", "missing (required: the file to write)")
        else:
            problems.string("path", self.path)
        problems.choice("rolling", self.rolling, ("never", "hourly", "daily"))
        problems.size("max_bytes", self.max_bytes, optional=True)
        problems.optional_positive_int("retain", self.retain)


@attrs.frozen(kw_only=True)
class HttpSink(SinkConfig):
    """Ships batches over HTTP (needs the ``http`` extra: httpx).

    Attributes:
        url: endpoint; for ``loki``/``otlp``/``elasticsearch``/``seq`` a base URL is completed
            with the protocol's path when it has none.
        protocol: ``json`` (NDJSON), ``clef``/``seq``, ``loki``, ``otlp`` or ``elasticsearch``.
        headers: extra request headers.
        timeout: per-request timeout in seconds.
        compress: gzip request bodies.
        api_key: Seq API key (``X-Seq-ApiKey``); default from ``SEQ_API_KEY``.
        bearer_token / username / password: authentication.
        labels: property names that become Loki stream labels (with ``level``).
        index: Elasticsearch index name pattern (strftime, UTC event date).
        resource: OTLP resource attributes (``service.name`` defaults to
            ``unknown_service:<program>``).
        format: the line format of the ``json`` and ``loki`` protocols (``json``, ``clef``,
            ``clef-rendered``); ``clef``/``seq`` send ``clef`` unless it is ``clef-rendered``.

    ``batch.max_bytes`` also caps the size of one request body: a bigger batch is sent as
    several requests.
    """

    kind: ClassVar[str] = "http"
    formats: ClassVar[frozenset[str]] = frozenset(
        {"json", "clef", "clef-rendered", "loki", "otlp", "elasticsearch"}
    )

    url: str = ""
    protocol: Literal["json", "clef", "seq", "loki", "otlp", "elasticsearch"] = "json"
    headers: Mapping[str, str] = attrs.field(factory=dict)
    timeout: float = attrs.field(default=10.0, converter=_to_duration)
    compress: bool = False
    api_key: str | None = None
    bearer_token: str | None = None
    username: str | None = None
    password: str | None = None
    labels: tuple[str, ...] = attrs.field(default=("app",), converter=_to_str_tuple)
    index: str = "logs-%Y.%m.%d"
    resource: Mapping[str, object] = attrs.field(factory=dict)
    format: str = "json"

    def _validate(self, problems: _Problems) -> None:
        problems.string("url", self.url)
        if isinstance(self.url, str) and self.url and not re.match(r"^https?://", self.url):
            problems.add("url", f"must start with http:// or https:// (got {self.url!r})")
        problems.choice(
            "protocol", self.protocol, ("json", "clef", "seq", "loki", "otlp", "elasticsearch")
        )
        problems.number("timeout", self.timeout, positive=True)
        if not isinstance(self.headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()
        ):
            problems.add("headers", f"must be a table of header names to string values "
                                    f"(got {self.headers!r})")
        for field in ("api_key", "bearer_token", "username", "password"):
            value = getattr(self, field)
            if value is not None:
                problems.string(field, value)
        if self.bearer_token is not None and self.username is not None:
            problems.add("bearer_token", "give either bearer_token or username/password, "
                                         "not both")
        if self.password is not None and self.username is None:
            problems.add("password", "needs a username")
        if not isinstance(self.labels, tuple) or not all(
            isinstance(label, str) and label for label in self.labels
        ):
            problems.add("labels", f"must be a list of property names (got {self.labels!r})")
        problems.string("index", self.index)
        if self.protocol in ("json", "loki") and self.format not in (
            "json", "clef", "clef-rendered"
        ):
            problems.add("format", f"the {self.protocol} protocol sends lines in 'json', "
                                   f"'clef' or 'clef-rendered' (got {self.format!r})")
        if not isinstance(self.resource, Mapping):
            problems.add("resource", f"must be a table of attributes (got {self.resource!r})")


@attrs.frozen(kw_only=True)
class SyslogSink(SinkConfig):
    """Sends RFC 5424 (or RFC 3164) syslog messages over UDP, TCP or a unix datagram socket.

    Attributes:
        address: ``"host:port"`` or ``(host, port)`` for udp/tcp, a socket path for unix.
        transport: ``"udp"`` (one datagram per event), ``"tcp"`` (RFC 6587 octet counting) or
            ``"unix"``.
        facility: syslog facility name (``user``, ``daemon``, ``local0`` … ``local7``) or number.
        app_name: APP-NAME field (default: the program name).
        hostname: HOSTNAME field (default: this machine's name).
        rfc3164: use the old BSD format for old relays.
        max_message_bytes: UDP and unix datagrams are truncated (safely, on a UTF-8
            boundary) to this; TCP messages are never truncated.
    """

    kind: ClassVar[str] = "syslog"
    formats: ClassVar[frozenset[str]] = frozenset({"syslog"})

    address: str | tuple[str, int] = attrs.field(default="127.0.0.1:514", converter=_to_address)
    transport: Literal["udp", "tcp", "unix"] = "udp"
    facility: str | int = attrs.field(default="user", converter=_identity)
    app_name: str | None = None
    hostname: str | None = None
    rfc3164: bool = False
    max_message_bytes: int = 2048
    format: str = "syslog"

    def _validate(self, problems: _Problems) -> None:
        from ._address import parse_host_port
        from .formatting.syslog import parse_facility

        problems.choice("transport", self.transport, ("udp", "tcp", "unix"))
        if self.transport == "unix":
            problems.string("address", self.address)
        else:
            try:
                parse_host_port(self.address, 514)
            except ValueError as exc:
                problems.add("address", str(exc))
        try:
            parse_facility(self.facility)
        except ValueError as exc:
            problems.add("facility", str(exc))
        for field in ("app_name", "hostname"):
            value = getattr(self, field)
            if value is not None:
                problems.string(field, value)
        problems.positive_int("max_message_bytes", self.max_message_bytes, minimum=480)
        if isinstance(self.max_message_bytes, int) and self.max_message_bytes > 65_507:
            problems.add("max_message_bytes", f"must be <= 65507, the largest UDP payload "
                                              f"(got {self.max_message_bytes})")


@attrs.frozen(kw_only=True)
class GelfSink(SinkConfig):
    """Sends GELF 1.1 messages (Graylog) over UDP (chunked, optionally compressed) or TCP.

    Attributes:
        address: ``"host:port"`` or ``(host, port)``.
        transport: ``"udp"`` or ``"tcp"`` (NUL-framed).
        compress: gzip UDP payloads (GELF over TCP is never compressed).
        host: the GELF ``host`` field (default: this machine's name).
        chunk_size: the largest UDP datagram sent, in bytes; bigger messages are split into
            GELF chunks of at most this size (at most 128 of them).
    """

    kind: ClassVar[str] = "gelf"
    formats: ClassVar[frozenset[str]] = frozenset({"gelf"})

    address: str | tuple[str, int] = attrs.field(
        default="127.0.0.1:12201", converter=_to_address
    )
    transport: Literal["udp", "tcp"] = "udp"
    compress: bool = False
    host: str | None = None
    chunk_size: int = 1420
    format: str = "gelf"

    def _validate(self, problems: _Problems) -> None:
        from ._address import parse_host_port

        problems.choice("transport", self.transport, ("udp", "tcp"))
        try:
            parse_host_port(self.address, 12201)
        except ValueError as exc:
            problems.add("address", str(exc))
        if self.compress and self.transport == "tcp":
            problems.add("compress", "GELF over TCP cannot be compressed (use transport='udp')")
        if self.host is not None:
            problems.string("host", self.host)
        problems.positive_int("chunk_size", self.chunk_size, minimum=64)
        if isinstance(self.chunk_size, int) and self.chunk_size > 65_507:
            problems.add("chunk_size",
                         f"must be <= 65507, the largest UDP payload (got {self.chunk_size})")


@attrs.frozen(kw_only=True)
class MemorySink(SinkConfig):
    """Keeps events in memory (tests, diagnostics); ``capacity`` keeps only the newest N.

    Attributes:
        capacity: keep only the newest N events (``None``: keep all).
    """

    kind: ClassVar[str] = "memory"

    capacity: int | None = None

    def _validate(self, problems: _Problems) -> None:
        problems.optional_positive_int("capacity", self.capacity)


@attrs.frozen(kw_only=True)
class NullSink(SinkConfig):
    """Accepts and discards everything (counted as written)."""

    kind: ClassVar[str] = "null"


@attrs.frozen(kw_only=True)
class CustomSink(SinkConfig):
    """A user-defined sink implementing the :class:`logactors.Sink` protocol.

    Attributes:
        factory: ``"package.module:Name"``, called as ``factory(**options)``; or
        sink: a ready sink object (Python configuration only).
        options: keyword arguments for the factory.
    """

    kind: ClassVar[str] = "custom"
    formats: ClassVar[frozenset[str]] = FILE_FORMATS

    factory: str | Callable[..., Any] | None = attrs.field(default=None, converter=_identity)
    options: Mapping[str, Any] = attrs.field(factory=dict)
    sink: Any = attrs.field(default=None, eq=False, repr=False)

    def _validate(self, problems: _Problems) -> None:
        if (self.factory is None) == (self.sink is None):
            problems.add("factory", "give exactly one of factory='module:Name' or sink=<object>")
        elif isinstance(self.factory, str):
            if not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$", self.factory):
                problems.add("factory", f"must look like 'package.module:Name' "
                                        f"(got {_show(self.factory)})")
        elif self.factory is not None and not callable(self.factory):
            problems.add("factory", f"must be 'package.module:Name' or a callable "
                                    f"(got {_show(self.factory)})")
        if not isinstance(self.options, Mapping):
            problems.add("options", f"must be a table of keyword arguments "
                                    f"(got {_show(self.options)})")


SINK_TYPES: Final[dict[str, type[SinkConfig]]] = {
    cls.kind: cls
    for cls in (ConsoleSink, FileSink, HttpSink, SyslogSink, GelfSink, MemorySink, NullSink,
                CustomSink)
}

# ---------------------------------------------------------------------------------------------
# Supervisor-level settings.


@attrs.frozen(kw_only=True)
class RestartPolicy:
    """Restart intensity (as OTP's): at most ``max_restarts`` crashes within ``window`` seconds;
    one more and the sink is marked dead (its events go to fallback/spool).

    Attributes:
        max_restarts: restarts allowed within ``window`` (``0``: the first crash marks the sink
            dead).
        window: length of the sliding window, in seconds.
    """

    max_restarts: int = 5
    window: float = attrs.field(default=60.0, converter=_to_duration)

    def __attrs_post_init__(self) -> None:
        p = _Problems()
        p.positive_int("max_restarts", self.max_restarts, minimum=0)
        p.number("window", self.window, positive=True)
        p.raise_if_any()


@attrs.frozen(kw_only=True)
class ShutdownConfig:
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

    def __attrs_post_init__(self) -> None:
        p = _Problems()
        p.number("timeout", self.timeout)
        p.choice("strategy", self.strategy, ("graceful", "flush", "immediate"))
        p.number("spool_timeout", self.spool_timeout)
        p.raise_if_any()


@attrs.frozen(kw_only=True)
class RedactConfig:
    """Masks secrets before any sink (or the spool) sees them.

    Attributes:
        keys: property names (case-insensitive, at any depth of nested mappings) whose values
            are replaced.
        patterns: regular expressions whose matches in string values and rendered messages
            are replaced.
        replacement: the mask.
    """

    keys: tuple[str, ...] = attrs.field(default=DEFAULT_REDACT_KEYS, converter=_to_str_tuple)
    patterns: tuple[str, ...] = attrs.field(default=(), converter=_to_str_tuple)
    replacement: str = "***"

    def __attrs_post_init__(self) -> None:
        p = _Problems()
        p.strings("keys", self.keys, empty=False)
        p.strings("patterns", self.patterns, empty=False)
        for i, pattern in enumerate(self.patterns if isinstance(self.patterns, tuple) else ()):
            if isinstance(pattern, str):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    p.add(f"patterns[{i}]", f"invalid regular expression {pattern!r}: {exc}")
        p.string("replacement", self.replacement, empty=True)
        p.raise_if_any()


@attrs.frozen(kw_only=True)
class MetricsConfig:
    """Metrics settings: ``latency_window`` batches kept for the latency percentiles.

    Attributes:
        latency_window: how many recent batch writes ``latency_p50_ms``/``latency_p99_ms`` are
            computed over.
    """

    latency_window: int = 1024

    def __attrs_post_init__(self) -> None:
        p = _Problems()
        p.positive_int("latency_window", self.latency_window)
        p.raise_if_any()


SelfLogTarget = Literal["stderr", "off"] | Callable[[str], None]


def _default_sinks() -> tuple[SinkConfig, ...]:
    return (ConsoleSink(name="console"),)


def _to_sinks(value: Iterable[SinkConfig]) -> tuple[SinkConfig, ...]:
    """Sinks as a tuple (a list works too, as in ``SupervisorConfig(sinks=[...])``)."""
    return tuple(value) if isinstance(value, list | tuple) else value  # type: ignore[return-value]


@attrs.frozen(kw_only=True)
class SupervisorConfig:
    """The whole configuration of a logger and its root supervisor.

    Attributes:
        min_level: the logger's gate (shared by every ``bind`` child; ``set_level`` changes it).
        sinks: sink configurations (names unique; fallbacks must name sinks, without cycles).
        properties: properties added to every event.
        enrichers: built-in enricher names (``hostname``, ``process``, ``thread``, ``task``,
            ``sequence``), ``"module:callable"`` paths, or callables returning properties.
        filters: global filters (``FilterConfig``, ``"module:callable"`` or callables taking a
            :class:`LogEvent` and returning whether to keep it).
        redact: secret masking, or ``None``.
        restart: restart intensity for crashing sinks.
        shutdown: shutdown strategy and deadline.
        self_log: where logactors reports its own problems: ``"stderr"``, ``"off"`` or a
            callable taking one line.
        metrics: metrics settings.
        max_event_bytes: values making an event larger than this are truncated with a marker.
    """

    min_level: int = attrs.field(default=Level.INFO, converter=_to_level)
    sinks: tuple[SinkConfig, ...] = attrs.field(factory=_default_sinks, converter=_to_sinks)
    properties: Mapping[str, object] = attrs.field(factory=dict)
    enrichers: tuple[str | Callable[[], Mapping[str, object]], ...] = attrs.field(
        default=(), converter=_to_str_tuple
    )
    filters: tuple[FilterConfig | str | Callable[..., bool], ...] = attrs.field(
        default=(), converter=_to_filters
    )
    redact: RedactConfig | None = None
    restart: RestartPolicy = attrs.field(factory=RestartPolicy)
    shutdown: ShutdownConfig = attrs.field(factory=ShutdownConfig)
    self_log: Any = attrs.field(default="stderr", converter=_identity)
    metrics: MetricsConfig = attrs.field(factory=MetricsConfig)
    max_event_bytes: int = attrs.field(default=256 * 1024, converter=_to_size)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.sinks, list):
            _set(self, "sinks", tuple(self.sinks))
        p = _Problems()
        p.level("min_level", self.min_level)
        if not isinstance(self.sinks, tuple):
            p.add("sinks", f"must be a list of sinks (got {self.sinks!r})")
        else:
            self._check_sinks(p)
        if not isinstance(self.properties, Mapping):
            p.add("properties", f"must be a table of property values "
                                f"(got {_show(self.properties)})")
        elif not all(isinstance(k, str) for k in self.properties):
            bad = [k for k in self.properties if not isinstance(k, str)]
            p.add("properties", f"property names must be strings (got {_show(bad)})")
        from ._enrich import BUILTIN_ENRICHERS

        if not isinstance(self.enrichers, tuple):
            p.add("enrichers", f"must be a list of enricher names or callables "
                               f"(got {_show(self.enrichers)})")
        for i, enricher in enumerate(self.enrichers if isinstance(self.enrichers, tuple) else ()):
            if isinstance(enricher, str):
                if enricher not in BUILTIN_ENRICHERS and ":" not in enricher:
                    p.add(f"enrichers[{i}]", f"unknown enricher {enricher!r} (built-in: "
                          f"{', '.join(sorted(BUILTIN_ENRICHERS))}; or 'module:callable')")
            elif not callable(enricher):
                p.add(f"enrichers[{i}]", f"must be a name or a callable (got {_show(enricher)})")
        _check_filters(p, self.filters, callables=True)
        if not (
            (isinstance(self.self_log, str) and self.self_log in ("stderr", "off"))
            or callable(self.self_log)
        ):
            p.add("self_log", f"must be 'stderr', 'off' or a callable "
                              f"(got {_show(self.self_log)})")
        p.size("max_event_bytes", self.max_event_bytes, minimum=1024)
        p.raise_if_any()

    def _check_sinks(self, p: _Problems) -> None:
        names: dict[str, int] = {}
        for i, sink in enumerate(self.sinks):
            if not isinstance(sink, SinkConfig):
                p.add(f"sinks[{i}]", f"must be a sink configuration (got {sink!r})")
                continue
            if sink.name in names:
                p.add(f"sinks[{i}].name", f"duplicate sink name {sink.name!r} "
                      f"(also sinks[{names[sink.name]}])")
            names.setdefault(sink.name, i)
        by_name = {s.name: s for s in self.sinks if isinstance(s, SinkConfig)}
        reported: set[frozenset[str]] = set()
        for i, sink in enumerate(self.sinks):
            if not isinstance(sink, SinkConfig) or sink.fallback is None:
                continue
            if sink.fallback not in by_name:
                p.add(f"sinks[{i}].fallback", f"no sink named {_show(sink.fallback)} "
                      f"(sinks: {', '.join(sorted(by_name))})")
                continue
            if sink.fallback == sink.name:
                continue  # reported by the sink itself
            chain = [sink.name]
            current: SinkConfig | None = by_name[sink.fallback]
            while current is not None and current.name not in chain:
                chain.append(current.name)
                current = by_name.get(current.fallback) if current.fallback else None
            if current is None or current.name != sink.name:
                continue  # no cycle, or one this sink only leads into
            cycle = frozenset(chain)
            if cycle not in reported:  # each cycle once, at its first sink
                reported.add(cycle)
                p.add(f"sinks[{i}].fallback",
                      f"fallback cycle: {' -> '.join([*chain, sink.name])}")

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
                    FileSink(name="file", path="logs/app.clef", format="clef",
                             rolling="daily", retain=14, queue=queue),
                ),
                redact=RedactConfig(),
            )
        elif name == "testing":
            base = cls(min_level=Level.TRACE, sinks=(MemorySink(name="memory"),))
        else:
            raise ConfigError(f"preset: unknown preset {name!r} "
                              "(development, production, testing)")
        return attrs.evolve(base, **overrides) if overrides else base


def sink_kinds() -> dict[str, type[SinkConfig]]:
    """The built-in sink types by their ``type`` name."""
    return dict(SINK_TYPES)

