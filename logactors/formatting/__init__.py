"""Formatters: turn a batch of events into bytes for a file, stream or socket.

Line formats (``text``, ``json``, ``clef``, ``clef-rendered``, ``logfmt``, ``csv``,
``csv-raw``) are here; the network formats (``syslog``, ``gelf``, ``otlp``, Loki,
Elasticsearch) live beside their sinks. Every formatter is precompiled once per sink and never
raises for a value it meets: an event it cannot format is written as a stand-in record
(:mod:`._isolate`), alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .._events import LogEvent
from ._escape import escape_control, escape_json_line
from .csv import CsvFormatter
from .json import ClefFormatter, JsonFormatter
from .logfmt import LogfmtFormatter
from .text import TextFormatter

__all__ = [
    "ClefFormatter",
    "CsvFormatter",
    "Formatter",
    "JsonFormatter",
    "LogfmtFormatter",
    "TextFormatter",
    "escape_control",
    "escape_json_line",
    "make_formatter",
]


class Formatter(Protocol):
    """Anything with ``format_batch(events) -> bytes``."""

    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        """The batch as bytes, one record per event."""
        ...


def make_formatter(fmt: str, *, output_template: str = "", colors: bool = False) -> Formatter:
    """The formatter for a line format name.

    Raises:
        ValueError: unknown format.
    """
    if fmt == "text":
        from ..config import DEFAULT_OUTPUT_TEMPLATE

        return TextFormatter(output_template or DEFAULT_OUTPUT_TEMPLATE, colors=colors)
    if fmt == "json":
        return JsonFormatter()
    if fmt == "clef":
        return ClefFormatter()
    if fmt == "clef-rendered":
        return ClefFormatter(rendered=True)
    if fmt == "logfmt":
        return LogfmtFormatter()
    if fmt == "csv":
        return CsvFormatter()
    if fmt == "csv-raw":
        return CsvFormatter(neutralize_formulas=False)
    raise ValueError(f"unknown format {fmt!r}")
