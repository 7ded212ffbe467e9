"""JSON-lines formats: ``json``, ``clef`` and ``clef-rendered``.

``clef`` is exactly what Serilog's ``CompactJsonFormatter`` writes, so Seq and Serilog tools read
it natively, keys in Serilog's order: ``@t`` (UTC ISO-8601, 7 fractional digits, ``Z``),
``@mt``, ``@r`` (renderings of the holes that have a format, in order, present when any hole
has one), ``@l`` (omitted for Information; otherwise Verbose, Debug, Warning, Error, Fatal),
``@x``, ``@tr``/``@sp`` (from the ``trace_id``/``span_id`` properties: strings as they are,
integers as 32/16 lower-case hex digits, bytes as hex), then the properties, names starting with
``@`` escaped as ``@@``. ``clef-rendered`` is ``RenderedCompactJsonFormatter``: ``@m`` (the
rendered message) and ``@i`` (the template's event id: Jenkins one-at-a-time hash, 8 hex digits)
instead of ``@mt``/``@r``. The logger name travels as ``SourceContext``, as in Serilog.

One difference is deliberate: ``@r`` and ``@m`` hold logactors' renderings (Python's format
mini-language, strings unquoted), where Serilog would write .NET formats and quote strings.

``json`` is a plain, self-describing layout: ``timestamp``, ``level``, ``message``, ``template``,
``logger``, ``task``, ``exception`` and ``properties`` (nested, so they never collide).

Every line is one line: the control characters orjson leaves raw (DEL, C1, U+2028/U+2029) are
written as ``\\u`` escapes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from .._cache import remember
from .._events import EventTuple, LogEvent, as_event
from .._json import dumps, dumps_plain
from .._levels import SERILOG_NAMES, level_name, round_level
from ..templates import parse
from ._isolate import format_all, isolated, name_text, plain, substitute
from ._time import DIGITS2, IsoUtc

__all__ = ["ClefFormatter", "JsonFormatter", "clef_dict", "json_line", "json_text"]

_NEWLINE: Final = orjson.OPT_APPEND_NEWLINE
#: where one ``json`` object ends and the next begins in an encoded batch, and the same as lines
_JSON_CUT: Final = b'},{"timestamp":'
_JSON_CUT_LINE: Final = b'}\n{"timestamp":'
#: property, CLEF field, hex digits of an integer id (W3C trace context: 16 and 8 bytes)
_TRACE_KEYS: Final = (("trace_id", "@tr", 32), ("span_id", "@sp", 16))


def _trace_value(value: object, digits: int) -> str | None:
    """An id as Serilog writes it (``ToHexString()``: lower-case hex), or None if unusable."""
    if isinstance(value, str):
        return value if value and value.isprintable() else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return f"{value:0{digits}x}"
    if isinstance(value, bytes | bytearray) and value:
        return bytes(value).hex()
    return None


# orjson writes DEL, the C1 controls (NEL among them) and U+2028/U+2029 as raw characters: valid
# JSON, but line breaks to many readers and editors and escapes to some terminals; likewise the
# bidi controls (U+202A-202E, U+2066-2069) and zero-width characters (U+200B-200F, U+2060,
# U+FEFF), which reorder or hide text on screen. In UTF-8 these byte sequences can only be
# those characters, so they are replaced by their \\u escapes (the same JSON string).
_RAW_BREAKS: Final = re.compile(
    rb"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\x8b-\x8f\xa8-\xae]|\xe2\x81[\xa0\xa6-\xa9]|\xef\xbb\xbf"
)


def _escape_breaks(match: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(match.group().decode("utf-8"))


def escape_raw_breaks(data: bytes) -> bytes:
    """Escape DEL, C1 and U+2028/U+2029 in JSON output (one check for a whole batch: pure
    ASCII without DEL, the usual case, needs nothing)."""
    if data.isascii() and b"\x7f" not in data:
        return data
    return _RAW_BREAKS.sub(_escape_breaks, data)


def json_line(value: object) -> bytes:
    """``value`` as one JSON line: never raises, and no character in it can break the line."""
    return escape_raw_breaks(dumps(value, _NEWLINE))


def json_text(value: object) -> str:
    """``value`` as compact JSON text with every control character escaped; never raises."""
    return escape_raw_breaks(dumps(value)).decode("utf-8")


def _serilog_level(level: int) -> str | None:
    """``@l``: None for Information (omitted), else Serilog's name for the level."""
    name = SERILOG_NAMES.get(level)
    if name is None:
        name = SERILOG_NAMES[round_level(level)]
    return None if name == "Information" else name


def clef_dict(event: LogEvent, iso: IsoUtc, *, rendered: bool = False) -> dict[str, Any]:
    """The CLEF object for one event (``rendered``: the RenderedCompactJsonFormatter shape);
    never raises: an event that cannot be formatted gives its stand-in's object (see
    :mod:`logactors.formatting._isolate`)."""
    try:
        return _clef_object(event, iso, rendered)
    except Exception as exc:
        error = exc
    return substitute(
        lambda e: _clef_object(e, iso, rendered),
        event,
        error,
        "clef-rendered" if rendered else "clef",
    )


def _clef_object(event: LogEvent, iso: IsoUtc, rendered: bool) -> dict[str, Any]:
    props: Mapping[str, Any] = event.properties
    text = plain(event.template)
    if rendered:
        template = parse(text)
        out: dict[str, Any] = {
            "@t": iso(event.timestamp_ns),
            "@m": template.render(props),
            "@i": template.event_id,
        }
    else:
        out = {"@t": iso(event.timestamp_ns), "@mt": text}
        template = parse(text)
        if template.has_formats:
            out["@r"] = template.formatted_values(props)
    level = _serilog_level(event.level)
    if level is not None:
        out["@l"] = level
    if event.exception:
        out["@x"] = plain(event.exception)
    moved: tuple[str, ...] = ()
    for key, field, digits in _TRACE_KEYS:
        if key in props:
            value = _trace_value(props[key], digits)
            if value is not None:
                out[field] = value
                moved += (key,)
    if event.logger and "SourceContext" not in props:
        out["SourceContext"] = plain(event.logger)
    for key, value in props.items():
        if key in moved:
            continue
        name = key if type(key) is str else name_text(key)
        out["@" + name if name[:1] == "@" else name] = value
    return out


_CLEF_LEVEL: Final[dict[int, str | None]] = {
    level: (None if name == "Information" else name) for level, name in SERILOG_NAMES.items()
}
_FAST_OPTIONS: Final = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
_CUT: Final = b'},{"@t":'
_CUT_LINE: Final = b'}\n{"@t":'


class ClefFormatter:
    """``clef`` / ``clef-rendered`` lines.

    The batch path is written for speed: the common event (standard level, string keys that
    start with a letter, no trace ids, values orjson encodes) is built with one dict merge and
    one ``orjson.dumps``; anything else takes :func:`clef_dict`, the exact general path.
    """

    def __init__(self, *, rendered: bool = False) -> None:
        self._rendered = rendered
        self._name = "clef-rendered" if rendered else "clef"
        #: each event's record is one line (see logactors.formatting._shared)
        self.line_records = True
        self._iso = IsoUtc(7)
        #: the batch path's timestamp cache: the millisecond of the last event (its first ns)
        #: and its text up to the fraction's last four digits (a real pair from the start: the
        #: epoch's first millisecond)
        self._start = 0
        self._stamp = self._iso(0)[:-5]
        self._formats: dict[str, bool] = {}

    def format_event(self, event: LogEvent) -> bytes:
        """One event as a CLEF line; an event that cannot be formatted is written as its
        stand-in (see :mod:`logactors.formatting._isolate`)."""
        return isolated(self._line, event, self._name)

    def _line(self, event: EventTuple) -> bytes:
        return json_line(clef_dict(as_event(event), self._iso, rendered=self._rendered))

    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        """A batch as CLEF lines."""
        if self._rendered:
            iso = self._iso
            rendered = bytearray()
            try:
                for e in events:
                    rendered += json_line(clef_dict(e, iso, rendered=True))
            except Exception:  # an event that cannot be formatted: each event on its own
                return b"".join(format_all(self._line, events, self._name))
            return bytes(rendered)
        try:
            return self._batch(events)
        except Exception:  # an event the batch path cannot take: each event on its own
            return b"".join([isolated(self._line, e, self._name) for e in events])

    def _batch(self, events: Sequence[LogEvent]) -> bytes:
        # Each event becomes a dict; one orjson call encodes the whole batch as a JSON array,
        # which is cut into lines where one object ends and the next begins (``},{"@t":``).
        # Checks on the result replace per-event checks:
        # - when the batch holds no "@" but those of the fields written here, no property
        #   name needs "@@" and no nested value can look like a cut (the usual case);
        # - else a JSON string holds no raw newline and no unescaped quote, so ``,"@`` marks
        #   a name starting with "@" (counted against the fields written here: one more
        #   means a property needing "@@"), and one newline per event after cutting means no
        #   cut fell inside a value;
        # - without OPT_NON_STR_KEYS a key that is not a string raises.
        # Any surprise sends the batch through the per-event checks, and each event that
        # fails them takes the exact path. Events with trace ids take the exact path and join
        # the array as a Fragment.
        objects: list[Any] = []
        append = objects.append
        levels = _CLEF_LEVEL
        formats = self._formats
        start = self._start  # the millisecond of the cached stamp, in ns
        stamp = self._stamp  # its text up to the fraction's last four digits
        d2 = DIGITS2
        fields = 0  # ',"@' names written after "@mt" ("@r", "@l", "@x")
        surplus = 0  # other "@" in exact-path lines
        for event in events:
            timestamp, level, template, props, exception, logger, _task = event
            sub = timestamp - start  # (ns within the cached millisecond)
            if not 0 <= sub < 1_000_000:
                sub = timestamp % 1_000_000
                start = timestamp - sub
                stamp = self._iso(timestamp)[:-5]  # (up to the fraction's last four digits)
            # "@tr"/"@sp", or names clashing with the fields, take the exact path (below)
            if not ("trace_id" in props or "span_id" in props or "@t" in props or "@mt" in props):
                # IsoUtc(7)'s text, from the millisecond's cached prefix (events a few
                # microseconds apart share it)
                at = f"{stamp}{d2[sub // 10_000]}{d2[sub // 100 % 100]}Z"
                if level == 20 and not (exception or logger) and formats.get(template) is False:
                    append({"@t": at, "@mt": template, **props})
                    continue
                out: dict[Any, Any] = {"@t": at, "@mt": template}
                has_formats = formats.get(template)
                if has_formats is None:
                    has_formats = self._learn(template)
                if has_formats:
                    out["@r"] = parse(template).formatted_values(props)
                name = levels.get(level) if level in levels else _serilog_level(level)
                if name is not None:
                    out["@l"] = name
                if exception:
                    out["@x"] = exception
                added = len(out) - 2  # "@r", "@l", "@x"
                if logger and "SourceContext" not in props:
                    out["SourceContext"] = logger
                keys = len(out)
                out.update(props)
                if len(out) == keys + len(props):  # else a property named like a field
                    fields += added
                    append(out)
                    continue
            part, more, other = self._exact(event)
            fields += more
            surplus += other
            append(part)
        self._start = start
        self._stamp = stamp
        try:
            data = orjson.dumps(objects)[1:-1]
        except Exception:  # a non-string key, or a value orjson cannot encode
            data = b""
        n = len(objects)
        if data and data.count(b"@") == 2 * n + fields + surplus:
            return escape_raw_breaks(data.replace(_CUT, _CUT_LINE) + b"\n")
        if data and data.count(b',"@') == n + fields:
            data = data.replace(_CUT, _CUT_LINE) + b"\n"
            if data.count(b"\n") == n:  # no cut inside a value
                return escape_raw_breaks(data)
        return escape_raw_breaks(b"".join(map(self._checked, objects, events)))

    def _exact(self, event: EventTuple) -> tuple[orjson.Fragment, int, int]:
        """The exact path's line as an array element, with its ``,"@`` names beyond "@mt" and
        its other "@" characters (for the batch path's counts)."""
        line = self.format_event(event)[:-1]  # type: ignore[arg-type]
        names = line.count(b',"@')
        return orjson.Fragment(line), names - 1, line.count(b"@") - names - 1

    def _checked(self, out: Any, event: EventTuple) -> bytes:
        """One line from the batch path's dict when the event passes the per-event checks,
        else from the exact path."""
        props = event[3]
        try:
            if isinstance(out, dict) and not (props and min(props) < "A"):
                return orjson.dumps(out, option=_FAST_OPTIONS)
        except Exception:
            pass
        # (min: a key needing '@@', or an unusual one)
        return self.format_event(event)  # type: ignore[arg-type]

    def _learn(self, template: str) -> bool:
        """Cache whether ``template`` has holes with formats (``@r``)."""
        return remember(self._formats, template, parse(template).has_formats, 4096)


class JsonFormatter:
    """``json`` lines (see the module docstring)."""

    def __init__(self) -> None:
        self._iso = IsoUtc(6)
        #: each event's record is one line (see logactors.formatting._shared)
        self.line_records = True

    def to_dict(self, event: LogEvent) -> dict[str, Any]:
        """The JSON object for one event."""
        out: dict[str, Any] = {
            "timestamp": self._iso(event.timestamp_ns),
            "level": level_name(event.level),
            "message": event.rendered,
            "template": event.template,  # (orjson writes a str subclass as its characters)
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
        """One event as a JSON line; an event that cannot be formatted is written as its
        stand-in (see :mod:`logactors.formatting._isolate`)."""
        return escape_raw_breaks(isolated(self._line, event, "json"))

    def _line(self, event: LogEvent) -> bytes:
        return dumps(self.to_dict(event), _NEWLINE)

    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        """A batch as JSON lines: one orjson call encodes the whole batch as an array, cut
        into lines where one object ends and the next begins (``},{"timestamp":``, every
        object's start). Where that text also occurs inside a value (a nested object whose
        first key is ``timestamp``: more cuts than boundaries), or the batch cannot be encoded
        as a whole, each event is written on its own, as :meth:`format_event` writes it."""
        if not events:
            return b""
        to_dict = self.to_dict
        try:
            data = dumps_plain([to_dict(e) for e in events])
        except Exception:
            data = b""
        if data and data.count(_JSON_CUT) == len(events) - 1:
            return escape_raw_breaks(data[1:-1].replace(_JSON_CUT, _JSON_CUT_LINE) + b"\n")
        return escape_raw_breaks(b"".join(format_all(self._line, events, "json")))
