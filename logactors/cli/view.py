"""``logactors view``: a pretty, coloured, filterable view of CLEF and JSON-lines log files.

Reads logactors' own ``clef``, ``clef-rendered`` and ``json`` formats and JSON lines written by
other tools: Serilog's CLEF (``@t``, ``@mt`` or ``@m``, ``@l``, ``@x``, ``@r``, ``@@`` escapes)
and common shapes (``timestamp``/``time``/``ts``, ``level``/``severity``, ``message``/``msg``/
``event``). Every event becomes one aligned line::

    2026-11-23 02:50:20.974 INF Handled GET /cart in 3.2 ms  worker=2 request_id=r-7
        Traceback (most recent call last): ...

Lines that are not JSON objects are reported on standard error with ``file:line`` and skipped.
``--follow`` keeps reading growing files and follows them across rotation: a file replaced
(another inode at the path) is drained and reopened; a file truncated in place is read again
from its start.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any, Final

import orjson

from .._levels import SHORT_NAMES, Level, parse_level, round_level
from ..formatting._escape import escape_control
from ..formatting.text import DIM, LEVEL_COLORS, RESET, format_exception_block, value_color
from ..sinks.console import should_color
from ..templates import PropertyToken, TextToken, parse, render_value
from ._tail import Tail

__all__ = ["ViewEvent", "add_arguments", "normalize", "run"]

_BOLD: Final = "\x1b[1m"
_KEY_COLOR: Final = "\x1b[2;37m"
_EXCEPTION_COLOR: Final = "\x1b[31m"
_FILE_COLOR: Final = "\x1b[2;34m"
_BARE: Final = re.compile(r"^[\w.\-/:@+]+$")
_NOT_JSON: Final = object()

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


# ---------------------------------------------------------------------------------------------
# Rendering.


def _json_text(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return str(value)


def _align(text: str, alignment: int | None) -> str:
    if alignment is None:
        return text
    return text.rjust(alignment) if alignment > 0 else text.ljust(-alignment)


def render_message(event: ViewEvent, *, colors: bool) -> tuple[str, set[str]]:
    """The message and the names of the properties it shows.

    The template is rendered with :func:`logactors.templates.parse`; holes with a format take
    CLEF's ``@r`` renderings when the file has them (a .NET format string means nothing to
    Python), property values are coloured when ``colors`` is on.
    """
    if event.template is None:
        return escape_control(event.message or ""), set()
    template = parse(event.template)
    props = event.properties
    used = {name for name in template.property_names if name in props}
    if (
        not colors
        and event.renderings is None
        and not any(isinstance(props[name], dict | list) for name in used)
    ):
        return escape_control(template.render(props)), used
    renderings = list(event.renderings or ())
    out: list[str] = []
    for token in template.tokens:
        if isinstance(token, TextToken):
            out.append(escape_control(token.text))
            continue
        assert isinstance(token, PropertyToken)
        rendered: str | None = None
        if token.format is not None and renderings:
            rendered = _align(str(renderings.pop(0)), token.alignment)
        if token.name not in props:
            out.append(escape_control(rendered if rendered is not None else token.raw))
            continue
        value = props[token.name]
        if rendered is None:
            # Structures read from JSON show as JSON, not as Python reprs.
            rendered = (
                _align(_json_text(value), token.alignment)
                if isinstance(value, dict | list) and token.format is None
                else render_value(value, token)
            )
        text = escape_control(rendered)
        out.append(value_color(value) + text + RESET if colors else text)
    return "".join(out), used


def _format_value(value: object) -> str:
    if isinstance(value, str):
        return value if _BARE.match(value) else _json_text(value)
    return _json_text(value)


def render_properties(props: Mapping[str, Any], skip: set[str], *, colors: bool) -> str:
    """``key=value`` pairs for the properties not shown in the message."""
    parts: list[str] = []
    for key, value in props.items():
        if key in skip:
            continue
        text = escape_control(_format_value(value))
        name = escape_control(key)
        if colors:
            parts.append(f"{_KEY_COLOR}{name}={RESET}{value_color(value)}{text}{RESET}")
        else:
            parts.append(f"{name}={text}")
    return " ".join(parts)


class Renderer:
    """Renders ViewEvents as aligned (optionally coloured) text lines."""

    def __init__(self, *, colors: bool, utc: bool = False, prefix_width: int = 0) -> None:
        self.colors = colors
        self.utc = utc
        self.prefix_width = prefix_width

    def timestamp(self, event: ViewEvent) -> str:
        """``YYYY-MM-DD HH:MM:SS.mmm`` in local time (or UTC), 23 columns."""
        ts = event.timestamp
        if ts is None:
            return escape_control(event.time_text)[:23].ljust(23)
        if ts.tzinfo is not None:
            ts = ts.astimezone(UTC) if self.utc else ts.astimezone()
        return ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:23]

    def render(self, event: ViewEvent, source: str = "") -> str:
        """One event: a line, then its exception indented by four spaces."""
        colors = self.colors
        message, used = render_message(event, colors=colors)
        extra = render_properties(event.properties, used, colors=colors)
        stamp = self.timestamp(event)
        label = escape_control(event.level_label)
        prefix = ""
        if self.prefix_width:
            prefix = escape_control(source).ljust(self.prefix_width) + " "
        if colors:
            level_color = LEVEL_COLORS.get(round_level(event.level), "")
            line = (
                f"{_FILE_COLOR + prefix + RESET if prefix else ''}{DIM}{stamp}{RESET} "
                f"{level_color}{label}{RESET} {message}"
            )
        else:
            line = f"{prefix}{stamp} {label} {message}"
        if extra:
            line += "  " + extra
        line += "\n"
        if event.exception:
            block = format_exception_block(event.exception.replace("\r\n", "\n"))
            line += _EXCEPTION_COLOR + block + RESET if colors else block
        return line


# ---------------------------------------------------------------------------------------------
# Filters.


class Where:
    """One ``--where key=value`` condition: equal as text, or equal as JSON."""

    def __init__(self, spec: str) -> None:
        key, sep, text = spec.partition("=")
        if not sep or not key:
            raise ValueError(f"--where wants key=value (got {spec!r})")
        self.key = key
        self.text = text
        try:
            self.parsed: object = json.loads(text)
        except ValueError:
            self.parsed = _NOT_JSON

    def _lookup(self, props: Mapping[str, Any]) -> tuple[bool, object]:
        if self.key in props:
            return True, props[self.key]
        current: object = props
        for part in self.key.split("."):
            if isinstance(current, Mapping) and part in current:
                current = current[part]
            else:
                return False, None
        return True, current

    def matches(self, event: ViewEvent) -> bool:
        """Whether the event has the property with this value."""
        found, value = self._lookup(event.properties)
        if not found:
            return False
        if isinstance(value, str):
            if value == self.text:
                return True
        elif _json_text(value) == self.text:
            return True
        parsed = self.parsed
        if parsed is _NOT_JSON or isinstance(parsed, bool) != isinstance(value, bool):
            return False
        return bool(parsed == value)


# ---------------------------------------------------------------------------------------------
# Printing what the files hold, following them across rotation (reading: :mod:`._tail`).


class Viewer:
    """Decodes, filters and prints lines; counts what it printed and what was malformed."""

    def __init__(
        self, args: argparse.Namespace, out: IO[str], err: IO[str], renderer: Renderer
    ) -> None:
        self.out = out
        self.err = err
        self.renderer = renderer
        self.as_json: bool = args.json
        self.min_level: int | None = args.level
        self.where: list[Where] = args.where
        self.max_events: int | None = args.max_events
        self.printed = 0
        self.malformed = 0
        self.show_source = renderer.prefix_width > 0

    @property
    def done(self) -> bool:
        """Whether ``--max-events`` has been reached."""
        return self.max_events is not None and self.printed >= self.max_events

    def _malformed(self, tail: Tail, lineno: int, reason: str, raw: bytes) -> None:
        self.malformed += 1
        excerpt = raw[:80].decode("utf-8", "backslashreplace")
        self.err.write(
            f"logactors view: {tail.path}:{lineno}: malformed line ({reason}): {excerpt!r}\n"
        )

    def feed(self, tail: Tail, lines: Iterator[tuple[int, bytes]]) -> None:
        """Handle the lines of one file."""
        for lineno, raw in lines:
            if self.done:
                return
            data = raw.strip()
            if lineno == 1 and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            if not data:
                continue
            try:
                obj = orjson.loads(data)
            except orjson.JSONDecodeError:
                try:  # what orjson rejects but JSON writers emit (NaN, Infinity)
                    obj = json.loads(data.decode("utf-8", "replace"))
                except ValueError as exc:
                    self._malformed(tail, lineno, f"not JSON: {exc.args[0]}", raw)
                    continue
            if not isinstance(obj, dict):
                self._malformed(tail, lineno, f"a JSON {type(obj).__name__}, not an object", raw)
                continue
            event = normalize(obj)
            if self.min_level is not None and event.level < self.min_level:
                continue
            if not all(w.matches(event) for w in self.where):
                continue
            if self.as_json:
                self.out.write(data.decode("utf-8", "backslashreplace") + "\n")
            else:
                self.out.write(self.renderer.render(event, tail.name))
            self.printed += 1


def _level_arg(text: str) -> int:
    try:
        return level_number(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _where_arg(text: str) -> Where:
    try:
        return Where(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``view`` command's options."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="CLEF or JSON-lines log files")
    parser.add_argument(
        "--level",
        "-l",
        type=_level_arg,
        default=None,
        metavar="LEVEL",
        help="minimum level to show (verbose/trace, debug, info, warning, "
        "error, fatal; VRB DBG INF WRN ERR FTL; or a number)",
    )
    parser.add_argument(
        "--where",
        "-w",
        type=_where_arg,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="show only events whose property KEY equals VALUE (compared as "
        'text and as JSON, so worker=3 matches 3 and "3"; dotted keys '
        "reach into nested objects); repeat to require several",
    )
    parser.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="keep reading as the files grow, across rotation (Ctrl-C stops)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print matching events as JSON lines (as read) instead of text",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour output: auto (when stdout is a terminal; honours "
        "NO_COLOR/FORCE_COLOR), always or never",
    )
    parser.add_argument(
        "--utc", action="store_true", help="show timestamps in UTC instead of local time"
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="with --follow: how often to look for new lines (default 0.2)",
    )
    parser.add_argument(
        "--idle-exit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --follow: exit after SECONDS without a new line (for scripts and tests)",
    )
    parser.add_argument(
        "--max-events",
        type=int,
        default=None,
        metavar="N",
        help="exit after printing N events (for scripts and tests)",
    )


def run(args: argparse.Namespace, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Run ``view`` with parsed arguments; returns the exit status (1: a file failed to open)."""
    if out is None:
        out = sys.stdout
        reconfigure = getattr(out, "reconfigure", None)
        if reconfigure is not None:  # never die on a character the terminal cannot show
            reconfigure(errors="backslashreplace")
    err = err if err is not None else sys.stderr
    forced = {"always": True, "never": False}.get(args.color)
    colors = should_color(out, forced) and not args.json
    tails = [Tail(path) for path in args.files]
    width = max(len(t.name) for t in tails) if len(tails) > 1 else 0
    viewer = Viewer(args, out, err, Renderer(colors=colors, utc=args.utc, prefix_width=width))
    status = 0
    for tail in tails:
        try:
            tail.open()
        except OSError as exc:
            err.write(f"logactors view: cannot open {tail.path}: {exc.strerror or exc}\n")
            status = 1
    try:
        for tail in tails:
            viewer.feed(tail, tail.read_lines(final=not args.follow))
        out.flush()
        if args.follow and not viewer.done and any(t.file is not None for t in tails):
            _follow(args, tails, viewer)
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, without a traceback at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return status
    finally:
        for tail in tails:
            tail.close()
    return status


def _follow(args: argparse.Namespace, tails: list[Tail], viewer: Viewer) -> None:
    last_data = time.monotonic()
    while not viewer.done:
        before = sum(t.seen for t in tails)
        for tail in tails:
            if tail.rotated():
                # Drain what was written to the old file before it was replaced, then reopen.
                viewer.feed(tail, tail.read_lines(final=True))
                try:
                    tail.open()
                except OSError:
                    tail.close()
                    continue
            viewer.feed(tail, tail.read_lines(final=False))
        if sum(t.seen for t in tails) != before:
            viewer.out.flush()
            last_data = time.monotonic()
        elif args.idle_exit is not None and time.monotonic() - last_data >= args.idle_exit:
            for tail in tails:
                viewer.feed(tail, tail.read_lines(final=True))
            viewer.out.flush()
            return
        time.sleep(args.poll_interval)
