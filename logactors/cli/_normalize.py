"""Normalising one decoded JSON line (CLEF, logactors' ``json``, other tools' JSON lines) into
a :class:`ViewEvent` for ``logactors view``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from ..levels import SHORT_NAMES, Level, parse_level, round_level

__all__ = ["ViewEvent", "level_number", "normalize"]

# Keys of generic JSON lines (first match wins), beyond CLEF and logactors' ``json`` layout.
_TIME_KEYS: Final = ("timestamp", "@timestamp", "time", "ts", "t", "datetime", "date")
_LEVEL_KEYS: Final = ("level", "lvl", "severity", "levelname", "loglevel", "log.level")
_MESSAGE_KEYS: Final = ("message", "msg", "event", "@message", "text")
_TEMPLATE_KEYS: Final = ("template", "message_template", "messageTemplate")
_EXCEPTION_KEYS: Final = ("exception", "exc_info", "stack_trace", "stacktrace", "error.stack")


class ViewEvent:
    """One event read from a file, normalised whatever layout it came in.

    Attributes:
        timestamp: the event time (aware when the file said which zone), or ``None``.
        time_text: the timestamp as written, when it could not be parsed.
        level: the level number (Information when the line has none).
        level_label: three letters to show (``INF``; the raw text's first letters when the
            file used a level name logactors does not know).
        template: the message template, when the line has one.
        message: the rendered message, when the line has one and no template.
        renderings: CLEF ``@r``: renderings of the template's holes that carry a format.
        properties: every property (CLEF ``@@`` escapes undone).
        exception: the exception text, or ``None``.
    """

    __slots__ = (
        "exception",
        "level",
        "level_label",
        "message",
        "properties",
        "renderings",
        "template",
        "time_text",
        "timestamp",
    )

    def __init__(self) -> None:
        self.timestamp: datetime | None = None
        self.time_text = ""
        self.level: int = Level.INFO
        self.level_label = "INF"
        self.template: str | None = None
        self.message: str | None = None
        self.renderings: list[Any] | None = None
        self.properties: dict[str, Any] = {}
        self.exception: str | None = None


# ---------------------------------------------------------------------------------------------
# Normalising one JSON object.


def _parse_time(value: object) -> tuple[datetime | None, str]:
    if isinstance(value, bool):
        return None, str(value)
    if isinstance(value, int | float):
        seconds = float(value)
        # Epoch seconds, milliseconds, microseconds or nanoseconds, by magnitude.
        for divisor in (1.0, 1e3, 1e6, 1e9):
            if abs(seconds / divisor) < 1e11:
                try:
                    return datetime.fromtimestamp(seconds / divisor, UTC), ""
                except (OverflowError, OSError, ValueError):
                    break
        return None, str(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromisoformat(text), ""
        except ValueError:
            pass
        # More than 6 fractional digits (CLEF has 7) on older Pythons, or a comma.
        match = re.match(r"^(.*?[T ]\d\d:\d\d:\d\d)[.,](\d+)(.*)$", text)
        if match:
            head, fraction, tail = match.groups()
            try:
                return datetime.fromisoformat(f"{head}.{fraction[:6]:0<6}{tail}"), ""
            except ValueError:
                pass
        return None, text
    return None, "" if value is None else str(value)


_SHORT: Final = {text.lower(): level for level, text in SHORT_NAMES.items()}


def level_number(value: object) -> int:
    """A level from a name (``warning``, Serilog's ``Warning``), an abbreviation (``WRN``) or
    a number.

    Raises:
        ValueError: no such level.
    """
    if isinstance(value, str) and value.strip().lower() in _SHORT:
        return _SHORT[value.strip().lower()]
    return parse_level(value)


def _set_level(event: ViewEvent, value: object) -> None:
    if value is None:
        return
    try:
        number = level_number(value)
    except ValueError:
        text = str(value).strip()
        event.level = Level.INFO
        event.level_label = (text[:3] or "???").upper()
        return
    event.level = number
    event.level_label = SHORT_NAMES.get(round_level(number), "???")


def _normalize_clef(obj: Mapping[str, Any]) -> ViewEvent:
    event = ViewEvent()
    props: dict[str, Any] = {}
    for key, value in obj.items():
        if key.startswith("@@"):
            props[key[1:]] = value
        elif not key.startswith("@"):
            props[key] = value
    for field, name in (("@tr", "trace_id"), ("@sp", "span_id")):
        if field in obj:
            props.setdefault(name, obj[field])
    event.properties = props
    event.timestamp, event.time_text = _parse_time(obj.get("@t"))
    _set_level(event, obj.get("@l", "Information"))
    mt, m = obj.get("@mt"), obj.get("@m")
    if isinstance(mt, str):
        event.template = mt
    elif isinstance(m, str):
        event.message = m
    renderings = obj.get("@r")
    if isinstance(renderings, list):
        event.renderings = renderings
    x = obj.get("@x")
    if x is not None:
        event.exception = x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
    return event


def _first(obj: Mapping[str, Any], keys: Sequence[str]) -> tuple[str | None, Any]:
    for key in keys:
        if key in obj:
            return key, obj[key]
    return None, None


def _normalize_generic(obj: Mapping[str, Any]) -> ViewEvent:
    """logactors' ``json`` layout, and JSON lines of other tools, by their usual key names."""
    event = ViewEvent()
    used: set[str] = set()
    key, value = _first(obj, _TIME_KEYS)
    if key is not None:
        used.add(key)
        event.timestamp, event.time_text = _parse_time(value)
    key, value = _first(obj, _LEVEL_KEYS)
    if key is not None:
        used.add(key)
        _set_level(event, value)
    key, value = _first(obj, _TEMPLATE_KEYS)
    if key is not None and isinstance(value, str):
        used.add(key)
        event.template = value
    key, value = _first(obj, _MESSAGE_KEYS)
    if key is not None and isinstance(value, str):
        used.add(key)
        if event.template is None:
            event.message = value
    key, value = _first(obj, _EXCEPTION_KEYS)
    if key is not None and value:
        used.add(key)
        event.exception = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    props: dict[str, Any] = {}
    nested = obj.get("properties")
    if isinstance(nested, dict):
        used.add("properties")
        props.update(nested)
    for k, v in obj.items():
        if k not in used:
            props.setdefault(k, v)
    event.properties = props
    return event


def normalize(obj: Mapping[str, Any]) -> ViewEvent:
    """Turn one decoded JSON object (CLEF, logactors ``json`` or similar) into a ViewEvent."""
    if "@t" in obj or "@mt" in obj or "@m" in obj:
        return _normalize_clef(obj)
    return _normalize_generic(obj)
