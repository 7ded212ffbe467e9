"""JSON-lines formats: ``json``, ``clef`` and ``clef-rendered``.

``clef`` is exactly what Serilog's ``CompactJsonFormatter`` writes, so Seq and Serilog tools read
it natively: ``@t`` (UTC, 7 fractional digits), ``@mt``, ``@r`` (renderings of holes that have a
format), ``@l`` (omitted for Information; otherwise Verbose, Debug, Warning, Error, Fatal),
``@x``, ``@tr``/``@sp`` (from the ``trace_id``/``span_id`` properties), then the properties, with
names starting with ``@`` escaped as ``@@``. ``clef-rendered`` is ``RenderedCompactJsonFormatter``:
``@m`` (the rendered message) and ``@i`` (the template's event id) instead of ``@mt``/``@r``.
The logger name travels as ``SourceContext``, as in Serilog.

``json`` is a plain, self-describing layout: ``timestamp``, ``level``, ``message``, ``template``,
``logger``, ``task``, ``exception`` and ``properties`` (nested, so they never collide).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from .._events import LogEvent
from .._json import dumps
from .._levels import SERILOG_NAMES, Level, level_name
from ..templates import parse
from ._time import IsoUtc

__all__ = ["ClefFormatter", "JsonFormatter", "clef_dict"]

_NEWLINE: Final = orjson.OPT_APPEND_NEWLINE
_TRACE_KEYS: Final = (("trace_id", "@tr"), ("span_id", "@sp"))


def _trace_value(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return f"{value:x}"
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return None


def clef_dict(event: LogEvent, iso: IsoUtc, *, rendered: bool = False) -> dict[str, Any]:
    """The CLEF object for one event (``rendered``: the RenderedCompactJsonFormatter shape)."""
    props: Mapping[str, Any] = event.properties
    if rendered:
        template = parse(event.template)
        out: dict[str, Any] = {
            "@t": iso(event.timestamp_ns),
            "@m": template.render(props),
            "@i": template.event_id,
        }
    else:
        out = {"@t": iso(event.timestamp_ns), "@mt": event.template}
        template = parse(event.template)
        if template.has_formats:
            out["@r"] = template.formatted_values(props)
    if event.level != Level.INFO:
        out["@l"] = SERILOG_NAMES.get(event.level, "Information")
    if event.exception:
        out["@x"] = event.exception
    moved: tuple[str, ...] = ()
    for key, field in _TRACE_KEYS:
        if key in props:
            value = _trace_value(props[key])
            if value is not None:
                out[field] = value
                moved += (key,)
    if event.logger and "SourceContext" not in props:
        out["SourceContext"] = event.logger
    for key, value in props.items():
        if key in moved:
            continue
        out["@" + key if key[:1] == "@" else key] = value
    return out


class ClefFormatter:
    """``clef`` / ``clef-rendered`` lines."""

    def __init__(self, *, rendered: bool = False) -> None:
        self._rendered = rendered
        self._iso = IsoUtc(7)

    def format_event(self, event: LogEvent) -> bytes:
        """One event as a CLEF line."""
        return dumps(clef_dict(event, self._iso, rendered=self._rendered), _NEWLINE)

    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        """A batch as CLEF lines."""
        iso = self._iso
        rendered = self._rendered
        return b"".join([dumps(clef_dict(e, iso, rendered=rendered), _NEWLINE) for e in events])


class JsonFormatter:
    """``json`` lines (see the module docstring)."""

    def __init__(self) -> None:
        self._iso = IsoUtc(6)

    def to_dict(self, event: LogEvent) -> dict[str, Any]:
        """The JSON object for one event."""
        out: dict[str, Any] = {
            "timestamp": self._iso(event.timestamp_ns),
            "level": level_name(event.level),
            "message": event.rendered,
            "template": event.template,
        }
        if event.logger:
            out["logger"] = event.logger
        if event.task:
            out["task"] = event.task
        if event.exception:
            out["exception"] = event.exception
        if event.properties:
            out["properties"] = event.properties
        return out

    def format_event(self, event: LogEvent) -> bytes:
        """One event as a JSON line."""
        return dumps(self.to_dict(event), _NEWLINE)

    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        """A batch as JSON lines."""
        to_dict = self.to_dict
        return b"".join([dumps(to_dict(e), _NEWLINE) for e in events])
