"""Sink implementations and the factory that builds one from its configuration.

Built-in sinks are configured with the classes in :mod:`logactors.config` (``ConsoleSink``,
``FileSink`` …), each naming its writer here (``writer = "logactors.sinks.file:FileWriter"``);
this package holds what does the writing. Third-party sinks implement
:class:`~logactors.sinks.base.Sink` and are configured with ``CustomSink`` or registered under
the ``logactors.sinks`` entry-point group (then usable as ``type = "<name>"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .._plugins import ENTRY_POINT_GROUP, entry_point_sinks, load_object
from ..config import CustomSink, SinkConfig
from ..exceptions import ConfigError
from .base import Sink, SinkBase

if TYPE_CHECKING:
    from ..formatting._shared import SharedFormatters

__all__ = [
    "ENTRY_POINT_GROUP",
    "Sink",
    "SinkBase",
    "entry_point_sinks",
    "load_object",
    "sink_factory",
]


def sink_factory(
    config: SinkConfig, formatters: SharedFormatters | None = None
) -> Callable[[], Sink]:
    """A callable that builds the sink for ``config`` (called again on restart); sinks whose
    type ``shares_format`` share their encoder through ``formatters`` (the runtime's).

    Raises:
        ConfigError: the configuration has problems (``config.check()``), or the sink cannot be
            built (missing optional dependency, bad factory).
    """
    config.check()
    if isinstance(config, CustomSink):
        return _custom_factory(config)
    if not config.writer:
        raise ConfigError(f"sink {config.name!r}: no writer for {type(config).__name__}")
    try:
        writer: Callable[[SinkConfig], Sink] = load_object(config.writer)
    except ImportError as exc:
        module = config.writer.partition(":")[0]
        if exc.name is not None and (module + ".").startswith(exc.name + "."):
            raise ConfigError(
                f"sink {config.name!r}: writer {config.writer!r} cannot be imported: {exc}"
            ) from exc
        hint = f": pip install 'logactors[{config.extra}]'" if config.extra else ""
        raise ConfigError(
            f"sink {config.name!r}: the {config.kind} sink needs a missing dependency{hint} ({exc})"
        ) from exc
    except (AttributeError, ValueError) as exc:
        raise ConfigError(
            f"sink {config.name!r}: writer {config.writer!r} cannot be imported: {exc}"
        ) from exc
    if config.keep_writer:
        sink = writer(config)
        return lambda: sink
    if config.shares_format and formatters is not None:
        # sinks writing the same format to files encode each event once (formatting._shared)
        # (sinks of one min_level and no filters are given the same events, in the same order)
        route = None if config.filters else ("min_level", config.min_level)
        formatters.add(config.format, config.output_template, route)
        shared: Callable[..., Sink] = writer
        return lambda: shared(config, formatters)
    return lambda: writer(config)


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
