"""Sink configurations: the fields every sink shares, one class per kind of sink, and the
registry of sink types.

A sink type is one configuration class that names its writer: it subclasses
:class:`SinkConfig`, sets ``kind`` (its ``type`` in configuration files) and ``writer``
(``"package.module:Class"``, called with the configuration to build the sink), and is
registered with :func:`register_sink`. Nothing else needs to know about it: ``load_config``
finds it by ``type``, :func:`logactors.sinks.sink_factory` builds its writer.

A sink is a part of :class:`~logactors.config.SupervisorConfig`: building one never raises; the
configuration that holds it reports its problems under ``sinks[i]``, ``sink_factory`` and
``check()`` raise them for a sink used on its own. A sink type adds its own checks in
``_validate(problems)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final, Literal, TypeVar

import attrs

from .._levels import Level
from ..formatting.text import DEFAULT_OUTPUT_TEMPLATE
from .blocks import (
    BatchConfig,
    BreakerConfig,
    FilterConfig,
    QueueConfig,
    RetryConfig,
    SpoolConfig,
    _to_filters,
)
from .validate import (
    EMPTY,
    Checked,
    _identity,
    _Problems,
    _set,
    _show,
    _to_address,
    _to_duration,
    _to_mapping,
    _to_optional_level,
    _to_optional_size,
    _to_path,
    _to_sink_level,
    _to_str_tuple,
    convert_parts,
)


@attrs.frozen(kw_only=True)
class SinkConfig(Checked):
    """Fields shared by every sink (``name`` must be unique within a config).

    Attributes:
        name: unique sink name (metrics, fallback references); defaults to the sink's
            ``type`` (``console``, ``file`` …).
        min_level: lowest level this sink writes (``"off"`` writes nothing of its own; it can
            still serve as a fallback). Default: everything that passed the logger's gate.
        format: output format (``text``, ``json``, ``clef``, ``clef-rendered``, ``logfmt``,
            ``csv``, ``csv-raw``: csv without formula neutralising; network sinks have their
            own).
        output_template: the ``text`` format's line template.
        queue / batch / breaker / retry: inbox bound, batching, circuit breaker, retries.
        fallback: name of the sink that takes events this one could not write.
        spool: on-disk store for events this one could not write, replayed on recovery.
        write_timeout: seconds one ``write_batch`` may take before it counts as failed.
        filters: declarative filters (all must pass) applied before the event is queued.
    """

    #: the ``type`` name of the sink in configuration files
    kind: ClassVar[str] = ""
    #: ``"package.module:Class"`` of the sink, called with the configuration (imported when a
    #: sink of this type is built, so an optional dependency is needed only by its users)
    writer: ClassVar[str] = ""
    #: the extra that installs the writer's optional dependencies (named when it is missing)
    extra: ClassVar[str] = ""
    #: the sink object outlives restarts (built once; a memory sink keeps its events)
    keep_writer: ClassVar[bool] = False
    #: sinks of this type writing the same ``format`` (and ``output_template``) share one
    #: encoder, so each event is formatted once (the writer is called with the runtime's
    #: shared formatters as a second argument)
    shares_format: ClassVar[bool] = False
    #: the formats this sink writes (``None``: the line formats of
    #: :mod:`logactors.formatting`, including registered ones)
    formats: ClassVar[frozenset[str] | None] = None

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
        convert_parts(self)  # queue, batch, breaker, retry, spool, filters given as tables

    def _check(self, p: _Problems) -> None:
        p.string("name", self.name)
        p.level("min_level", self.min_level, allow_off=True)
        p.choice("format", sorted(self.accepted_formats()))
        p.string("output_template", self.output_template, empty=True)
        if self.fallback is not None:
            p.string("fallback", self.fallback)
            if self.fallback == self.name:
                p.add("fallback", f"a sink cannot be its own fallback ({self.name!r})")
        p.number("write_timeout", self.write_timeout, positive=True)
        p.booleans()
        self._validate(p)

    @classmethod
    def accepted_formats(cls) -> frozenset[str]:
        """The values ``format`` may take for this sink type."""
        if cls.formats is not None:
            return cls.formats
        from ..formatting import line_formats

        return line_formats()

    def _validate(self, problems: _Problems) -> None:
        """Sink-specific checks (subclasses)."""


_S = TypeVar("_S", bound=type[SinkConfig])

#: The sink types by their ``type`` name (filled by :func:`register_sink`).
SINK_TYPES: Final[dict[str, type[SinkConfig]]] = {}


def register_sink(cls: _S) -> _S:
    """Register a sink type (a class decorator, above ``@attrs.frozen``): its ``kind``
    becomes a ``type`` that configuration files can name.

    Raises:
        ValueError: the class has no ``kind``, or another class has its kind.
    """
    if not cls.kind:
        raise ValueError(f"{cls.__name__}: a sink type sets 'kind' (and 'writer')")
    known = SINK_TYPES.get(cls.kind)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"sink type {cls.kind!r} is already {known.__name__}")
    SINK_TYPES[cls.kind] = cls
    return cls


def sink_kinds() -> dict[str, type[SinkConfig]]:
    """The registered sink types by their ``type`` name."""
    return dict(SINK_TYPES)


@register_sink
@attrs.frozen(kw_only=True)
class ConsoleSink(SinkConfig):
    """Writes to standard output (or error), coloured when the stream is a terminal.

    Attributes:
        stream: ``"stdout"`` or ``"stderr"``.
        colors: ``True``/``False`` to force, ``None`` to colour only a terminal (and honour
            ``NO_COLOR`` / ``FORCE_COLOR``).
        stderr_level: events at or above this level go to standard error instead.
        on_broken_pipe: what a closed pipe (``EPIPE``, as in ``python app.py | head``) does.
            Always: the sink fails permanently (no retries; its events are counted failed or
            go to its fallback), reported by the self-log. ``"exit"`` (default): then the
            process ends as a command-line tool does on ``EPIPE``, killed by ``SIGPIPE``
            (status 141 in a shell; what is still queued for other sinks is not written).
            ``"fail"``: the process goes on (a service whose log reader went away).
    """

    kind: ClassVar[str] = "console"
    writer: ClassVar[str] = "logactors.sinks.console:ConsoleWriter"

    stream: Literal["stdout", "stderr"] = "stdout"
    colors: bool | None = None
    stderr_level: int | None = attrs.field(default=None, converter=_to_optional_level)
    on_broken_pipe: Literal["exit", "fail"] = "exit"

    def _validate(self, problems: _Problems) -> None:
        problems.choice("stream")
        problems.choice("on_broken_pipe")
        if self.stderr_level is not None:
            problems.level("stderr_level", self.stderr_level)


@register_sink
@attrs.frozen(kw_only=True)
class FileSink(SinkConfig):
    """Appends to a file, one write per batch; optional rolling.

    Attributes:
        path: the active file (directories are created; files are created 0o640).
        rolling: ``"never"``, ``"hourly"`` or ``"daily"`` (UTC boundaries).
        max_bytes: also roll when the file would exceed this size.
        retain: how many rolled files to keep (``None``: keep all).
        fsync: ``fsync`` after every batch.
        write_mode: where the blocking write runs. ``"thread"``: always in a worker thread.
            ``"inline"``: on the trio thread (a page-cache write of a batch takes tens of
            microseconds, less than a thread hop). ``"auto"`` (default): inline while writes
            to a regular file are fast, in a worker thread for 30 s after a write slower than
            2 ms, and always in a thread with ``fsync`` or for a pipe or device. A worker-thread
            write is waited for by blocking the trio thread up to 50 ms, then asynchronously
            with regular GIL hand-offs, so a busy trio thread cannot starve it; two writes
            never overlap, and a write that outlived ``write_timeout`` is waited for, never
            written twice (see the architecture page).
        shared: several processes append to the same file (workers of one service): each
            batch is one ``O_APPEND`` write of whole lines, made under an exclusive ``flock``
            on ``<path>.lock`` with the checks before it (reopen a file another process
            rolled; roll when due, then apply ``retain``). Local filesystems only (not NFS:
            ``O_APPEND`` and ``flock`` are not reliable there). Time rolling follows the
            active file's modification time.
        file_mode: permission bits of the log files (and the shared lock file) this sink
            creates, whatever the umask (default ``0o640``); existing files keep theirs.
    """

    kind: ClassVar[str] = "file"
    writer: ClassVar[str] = "logactors.sinks.file:FileWriter"
    shares_format: ClassVar[bool] = True

    path: str = attrs.field(default="", converter=_to_path)
    rolling: Literal["never", "hourly", "daily"] = "never"
    max_bytes: int | None = attrs.field(default=None, converter=_to_optional_size)
    retain: int | None = 7
    fsync: bool = False
    write_mode: Literal["auto", "thread", "inline"] = "auto"
    shared: bool = False
    file_mode: int = 0o640

    def _validate(self, problems: _Problems) -> None:
        problems.choice("write_mode")
        problems.file_mode("file_mode", self.file_mode)
        if self.path == "":
            problems.add("path", "missing (required: the file to write)")
        else:
            problems.string("path", self.path)
        problems.choice("rolling")
        problems.size("max_bytes", self.max_bytes, optional=True)
        problems.optional_positive_int("retain", self.retain)


@register_sink
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
        resource: OTLP resource attributes, over ``OTEL_RESOURCE_ATTRIBUTES`` /
            ``OTEL_SERVICE_NAME`` and the defaults ``service.name``
            (``unknown_service:<program>``), ``host.name`` and ``process.pid``; ``None``
            removes one.
        format: the line format of the ``json`` and ``loki`` protocols (``json``, ``clef``,
            ``clef-rendered``); ``clef``/``seq`` send ``clef`` unless it is ``clef-rendered``;
            ``otlp`` sends the JSON mapping (``json``) or binary ``protobuf`` (needs the
            ``otlp-proto`` extra).

    ``batch.max_bytes`` also caps the size of one request body: a bigger batch is sent as
    several requests.
    """

    kind: ClassVar[str] = "http"
    writer: ClassVar[str] = "logactors.sinks.http:HttpWriter"
    extra: ClassVar[str] = "http"
    formats: ClassVar[frozenset[str] | None] = frozenset(
        {"json", "clef", "clef-rendered", "loki", "otlp", "elasticsearch", "protobuf"}
    )

    url: str = ""
    protocol: Literal["json", "clef", "seq", "loki", "otlp", "elasticsearch"] = "json"
    headers: Mapping[str, str] = attrs.field(default=EMPTY, converter=_to_mapping)
    timeout: float = attrs.field(default=10.0, converter=_to_duration)
    compress: bool = False
    api_key: str | None = None
    bearer_token: str | None = None
    username: str | None = None
    password: str | None = None
    labels: tuple[str, ...] = attrs.field(default=("app",), converter=_to_str_tuple)
    index: str = "logs-%Y.%m.%d"
    resource: Mapping[str, object] = attrs.field(default=EMPTY, converter=_to_mapping)
    format: str = "json"

    def _validate(self, problems: _Problems) -> None:
        problems.string("url", self.url)
        if isinstance(self.url, str) and self.url and not re.match(r"^https?://", self.url):
            problems.add("url", f"must start with http:// or https:// (got {self.url!r})")
        problems.choice("protocol")
        problems.number("timeout", self.timeout, positive=True)
        if not isinstance(self.headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()
        ):
            problems.add(
                "headers",
                f"must be a table of header names to string values (got {self.headers!r})",
            )
        for field in ("api_key", "bearer_token", "username", "password"):
            value = getattr(self, field)
            if value is not None:
                problems.string(field, value)
        if self.bearer_token is not None and self.username is not None:
            problems.add("bearer_token", "give either bearer_token or username/password, not both")
        if self.password is not None and self.username is None:
            problems.add("password", "needs a username")
        if not isinstance(self.labels, tuple) or not all(
            isinstance(label, str) and label for label in self.labels
        ):
            problems.add("labels", f"must be a list of property names (got {self.labels!r})")
        problems.string("index", self.index)
        if self.protocol in ("json", "loki") and self.format not in (
            "json",
            "clef",
            "clef-rendered",
        ):
            problems.add(
                "format",
                f"the {self.protocol} protocol sends lines in 'json', "
                f"'clef' or 'clef-rendered' (got {self.format!r})",
            )
        if self.protocol == "otlp" and self.format not in ("json", "otlp", "protobuf"):
            problems.add(
                "format",
                f"the otlp protocol sends 'json' or 'protobuf' (got {self.format!r})",
            )
        elif self.format == "protobuf" and self.protocol != "otlp":
            problems.add("format", "'protobuf' is only for the otlp protocol")
        if not isinstance(self.resource, Mapping):
            problems.add("resource", f"must be a table of attributes (got {self.resource!r})")


@register_sink
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
    writer: ClassVar[str] = "logactors.sinks.syslog:SyslogWriter"
    formats: ClassVar[frozenset[str] | None] = frozenset({"syslog"})

    address: str | tuple[str, int] = attrs.field(default="127.0.0.1:514", converter=_to_address)
    transport: Literal["udp", "tcp", "unix"] = "udp"
    facility: str | int = attrs.field(default="user", converter=_identity)
    app_name: str | None = None
    hostname: str | None = None
    rfc3164: bool = False
    max_message_bytes: int = 2048
    format: str = "syslog"

    def _validate(self, problems: _Problems) -> None:
        from .._address import parse_host_port
        from ..formatting.syslog import parse_facility

        problems.choice("transport")
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
            problems.add(
                "max_message_bytes",
                f"must be <= 65507, the largest UDP payload (got {self.max_message_bytes})",
            )


@register_sink
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
    writer: ClassVar[str] = "logactors.sinks.gelf:GelfWriter"
    formats: ClassVar[frozenset[str] | None] = frozenset({"gelf"})

    address: str | tuple[str, int] = attrs.field(default="127.0.0.1:12201", converter=_to_address)
    transport: Literal["udp", "tcp"] = "udp"
    compress: bool = False
    host: str | None = None
    chunk_size: int = 1420
    format: str = "gelf"

    def _validate(self, problems: _Problems) -> None:
        from .._address import parse_host_port

        problems.choice("transport")
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
            problems.add(
                "chunk_size", f"must be <= 65507, the largest UDP payload (got {self.chunk_size})"
            )


@register_sink
@attrs.frozen(kw_only=True)
class MemorySink(SinkConfig):
    """Keeps events in memory (tests, diagnostics); ``capacity`` keeps only the newest N.

    Attributes:
        capacity: keep only the newest N events (``None``: keep all).
    """

    kind: ClassVar[str] = "memory"
    writer: ClassVar[str] = "logactors.sinks.memory:MemoryWriter"
    keep_writer: ClassVar[bool] = True

    capacity: int | None = None

    def _validate(self, problems: _Problems) -> None:
        problems.optional_positive_int("capacity", self.capacity)


@register_sink
@attrs.frozen(kw_only=True)
class NullSink(SinkConfig):
    """Accepts and discards everything (counted as written)."""

    kind: ClassVar[str] = "null"
    writer: ClassVar[str] = "logactors.sinks.memory:NullWriter"


@register_sink
@attrs.frozen(kw_only=True)
class CustomSink(SinkConfig):
    """A user-defined sink implementing the :class:`logactors.Sink` protocol.

    Attributes:
        factory: ``"package.module:Name"``, called as ``factory(**options)``; or
        sink: a ready sink object (Python configuration only).
        options: keyword arguments for the factory.
    """

    kind: ClassVar[str] = "custom"

    factory: str | Callable[..., Any] | None = attrs.field(default=None, converter=_identity)
    options: Mapping[str, Any] = attrs.field(default=EMPTY, converter=_to_mapping)
    sink: Any = attrs.field(default=None, eq=False, repr=False)

    def _validate(self, problems: _Problems) -> None:
        if (self.factory is None) == (self.sink is None):
            problems.add("factory", "give exactly one of factory='module:Name' or sink=<object>")
        elif isinstance(self.factory, str):
            if not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$", self.factory):
                problems.add(
                    "factory", f"must look like 'package.module:Name' (got {_show(self.factory)})"
                )
        elif self.factory is not None and not callable(self.factory):
            problems.add(
                "factory",
                f"must be 'package.module:Name' or a callable (got {_show(self.factory)})",
            )
        if not isinstance(self.options, Mapping):
            problems.add(
                "options", f"must be a table of keyword arguments (got {_show(self.options)})"
            )
