"""Formatters: turn a batch of events into bytes for a file, stream or socket.

Line formats (``text``, ``json``, ``clef``, ``clef-rendered``, ``logfmt``, ``csv``,
``csv-raw``) are entries of one registry (:data:`FORMATS`, extended with
:func:`register_format`): each names its formatter factory and its capabilities; the file,
console and custom sinks accept every registered line format. The network formats
(``syslog``, ``gelf``, ``otlp``, Loki, Elasticsearch) live beside their sinks. Every formatter
is precompiled once per sink and never raises for a value it meets: an event it cannot format
is written as a stand-in record (:mod:`._isolate`), alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Protocol

import attrs

from .._events import LogEvent
from ._escape import escape_control, escape_json_line
from .csv import CsvFormatter
from .json import ClefFormatter, JsonFormatter
from .logfmt import LogfmtFormatter
from .text import DEFAULT_OUTPUT_TEMPLATE, TextFormatter

__all__ = [
    "ClefFormatter",
    "CsvFormatter",
    "FORMATS",
    "FormatEntry",
    "Formatter",
    "JsonFormatter",
    "LogfmtFormatter",
    "TextFormatter",
    "escape_control",
    "escape_json_line",
    "line_formats",
    "make_formatter",
    "register_format",
    "takes_plain_tuples",
]


class Formatter(Protocol):
    """Anything with ``format_batch(events) -> bytes``."""

    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        """The batch as bytes, one record per event."""
        ...


#: Builds a formatter: ``factory(output_template=..., colors=...)`` (the text format's line
#: template, or ``""`` for the default one; whether to colour for a terminal).
FormatterFactory = Callable[..., Formatter]


@attrs.frozen
class FormatEntry:
    """One format of the registry.

    Attributes:
        name: the ``format`` value that selects it.
        factory: builds the formatter (see :data:`FormatterFactory`).
        line: a line format (one record per line): file, console and custom sinks accept it.
        plain_tuples: its ``format_batch`` only unpacks its events, so a sink writing it may
            be given the queued plain tuples (see :class:`logactors.sinks.base.TakesPlainTuples`).
    """

    name: str
    factory: FormatterFactory
    line: bool = True
    plain_tuples: bool = False


#: The formats by name.
FORMATS: Final[dict[str, FormatEntry]] = {}


def register_format(
    name: str, factory: FormatterFactory, *, line: bool = True, plain_tuples: bool = False
) -> FormatEntry:
    """Add a format (or replace the one of that name); returns its entry."""
    entry = FormatEntry(name, factory, line=line, plain_tuples=plain_tuples)
    FORMATS[name] = entry
    return entry


def line_formats() -> frozenset[str]:
    """The names of the registered line formats."""
    return frozenset(name for name, entry in FORMATS.items() if entry.line)


def _text(*, output_template: str = "", colors: bool = False) -> Formatter:
    return TextFormatter(output_template or DEFAULT_OUTPUT_TEMPLATE, colors=colors)


register_format("text", _text)
register_format("json", lambda **_: JsonFormatter())
register_format("clef", lambda **_: ClefFormatter(), plain_tuples=True)
register_format("clef-rendered", lambda **_: ClefFormatter(rendered=True))
register_format("logfmt", lambda **_: LogfmtFormatter())
register_format("csv", lambda **_: CsvFormatter())
register_format("csv-raw", lambda **_: CsvFormatter(neutralize_formulas=False))


def make_formatter(fmt: str, *, output_template: str = "", colors: bool = False) -> Formatter:
    """The formatter for a format name (an entry of :data:`FORMATS`).

    Raises:
        ValueError: unknown format.
    """
    entry = FORMATS.get(fmt)
    if entry is None:
        raise ValueError(f"unknown format {fmt!r}")
    return entry.factory(output_template=output_template, colors=colors)


def takes_plain_tuples(fmt: str) -> bool:
    """Whether the formatter of ``fmt`` may be given queued plain tuples."""
    entry = FORMATS.get(fmt)
    return entry is not None and entry.plain_tuples
