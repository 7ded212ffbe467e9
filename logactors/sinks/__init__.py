"""Sink implementations and the factory that builds one from its configuration.

Built-in sinks are configured with the classes in :mod:`logactors.config` (``ConsoleSink``,
``FileSink`` …); this package holds what does the writing. Third-party sinks implement
:class:`~logactors.sinks.base.Sink` and are configured with ``CustomSink`` or registered under
the ``logactors.sinks`` entry-point group (then usable as ``type = "<name>"``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib import metadata
from typing import Any

from ..config import (
    ConsoleSink,
    CustomSink,
    FileSink,
    GelfSink,
    HttpSink,
    MemorySink,
    NullSink,
    SinkConfig,
    SyslogSink,
)
from ..exceptions import ConfigError
from .base import Sink, SinkBase

__all__ = ["Sink", "SinkBase", "entry_point_sinks", "load_object", "sink_factory"]

ENTRY_POINT_GROUP = "logactors.sinks"


def load_object(path: str) -> Any:
    """Import ``"package.module:Name"`` (dotted attributes allowed after the colon)."""
    module_name, _, attribute = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def entry_point_sinks() -> dict[str, metadata.EntryPoint]:
    """Sinks registered by installed packages under the ``logactors.sinks`` group."""
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def sink_factory(config: SinkConfig, formatters: Any = None) -> Callable[[], Sink]:
    """A callable that builds the sink for ``config`` (called again on restart); file sinks
    share their formatter through ``formatters`` (a runtime's ``SharedFormatters``).

    Raises:
        ConfigError: the sink cannot be built (missing optional dependency, bad factory).
    """
    if isinstance(config, CustomSink):
        return _custom_factory(config)
    if isinstance(config, ConsoleSink):
        from .console import ConsoleWriter

        return lambda: ConsoleWriter(config)
    if isinstance(config, FileSink):
        from .file import FileWriter

        if formatters is not None:
            formatters.add(config.format, config.output_template)
        return lambda: FileWriter(config, formatters)
    if isinstance(config, MemorySink):
        from .memory import MemoryWriter

        writer = MemoryWriter(config)
        return lambda: writer
    if isinstance(config, NullSink):
        from .memory import NullWriter

        return NullWriter
    if isinstance(config, HttpSink):
        try:
            from .http import HttpWriter
        except ImportError as exc:
            raise ConfigError(
                f"sink {config.name!r}: the http sink needs httpx: "
                f"pip install 'logactors[http]' ({exc})"
            ) from exc
        return lambda: HttpWriter(config)
    if isinstance(config, SyslogSink):
        from .syslog import SyslogWriter

        return lambda: SyslogWriter(config)
    if isinstance(config, GelfSink):
        from .gelf import GelfWriter

        return lambda: GelfWriter(config)
    raise ConfigError(f"sink {config.name!r}: no implementation for {type(config).__name__}")


def _custom_factory(config: CustomSink) -> Callable[[], Sink]:
    if config.sink is not None:
        obj = config.sink
        return lambda: obj
    factory = config.factory
    if isinstance(factory, str):
        try:
            factory = load_object(factory)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigError(
                f"sink {config.name!r}: factory {config.factory!r} cannot be imported: {exc}"
            ) from exc
    if not callable(factory):
        raise ConfigError(f"sink {config.name!r}: factory {config.factory!r} is not callable")
    options = dict(config.options)
    build: Callable[..., Sink] = factory
    return lambda: build(**options)
