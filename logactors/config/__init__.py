"""Configuration: frozen, keyword-only attrs classes (the "supervisor config").

:class:`SupervisorConfig` checks itself when built and raises one
:class:`~logactors.ConfigError` that lists *every* problem of the whole tree, each with its full
path (``sinks[1].queue.max_events: must be > 0 (got -1)``; ``ConfigError.details`` holds them as
:class:`~logactors.exceptions.Problem` objects), exactly as :func:`load_config` reports the same
data. The other classes (blocks, sinks) are its parts: building one never raises (Python builds
them before the configuration that holds them); that configuration reports their problems under
their paths, and ``check()`` raises for a part used on its own.
Values that people write by hand are converted leniently: levels by name or number, durations
as seconds or ``"200ms"`` / ``"5s"`` / ``"1m"``, sizes as bytes or ``"64MiB"`` / ``"10MB"``.

Modules: :mod:`.validate` (lenient converters, problem collection), :mod:`.blocks` (queue,
batch, breaker, retry, spool, filter), :mod:`.sinks` (the sink types and their registry),
:mod:`.supervisor` (the top level and its settings), :mod:`.convert` (tables and files to
objects and back).
"""

from __future__ import annotations

from ..exceptions import ConfigError, Problem
from ..formatting.text import DEFAULT_OUTPUT_TEMPLATE
from .blocks import (
    BatchConfig,
    BreakerConfig,
    FilterConfig,
    QueueConfig,
    RetryConfig,
    SpoolConfig,
)
from .convert import load_config, unstructure_config
from .sinks import (
    ConsoleSink,
    CustomSink,
    FileSink,
    GelfSink,
    HttpSink,
    MemorySink,
    NullSink,
    SinkConfig,
    SyslogSink,
    register_sink,
    sink_kinds,
)
from .supervisor import (
    BUILTIN_ENRICHERS,
    DEFAULT_REDACT_KEYS,
    CaptureConfig,
    MetricsConfig,
    RedactConfig,
    RestartPolicy,
    ShutdownConfig,
    SupervisorConfig,
)

__all__ = [
    "BUILTIN_ENRICHERS",
    "DEFAULT_OUTPUT_TEMPLATE",
    "DEFAULT_REDACT_KEYS",
    "BatchConfig",
    "BreakerConfig",
    "CaptureConfig",
    "ConfigError",
    "ConsoleSink",
    "CustomSink",
    "FileSink",
    "FilterConfig",
    "GelfSink",
    "HttpSink",
    "MemorySink",
    "MetricsConfig",
    "NullSink",
    "Problem",
    "QueueConfig",
    "RedactConfig",
    "RestartPolicy",
    "RetryConfig",
    "ShutdownConfig",
    "SinkConfig",
    "SpoolConfig",
    "SupervisorConfig",
    "SyslogSink",
    "load_config",
    "register_sink",
    "sink_kinds",
    "unstructure_config",
]
