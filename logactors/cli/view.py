"""``logactors view``: a pretty, coloured, filterable view of CLEF and JSON-lines log files.

Reads logactors' own ``clef``, ``clef-rendered`` and ``json`` formats and JSON lines written by
other tools: Serilog's CLEF (``@t``, ``@mt`` or ``@m``, ``@l``, ``@x``, ``@r``, ``@@`` escapes)
and common shapes (``timestamp``/``time``/``ts``, ``level``/``severity``, ``message``/``msg``/
``event``). Every event becomes one aligned line::

    2026-11-23 02:50:20.974 INF Handled GET /cart in 3.2 ms  worker=2 request_id=r-7
        Traceback (most recent call last): ...

Lines that are not JSON objects are reported on standard error with ``file:line`` and skipped.
Several files (a glob) are merged by event time. ``--follow`` keeps reading growing files and
follows them across rotation (:mod:`._tail`): a file replaced (another inode at the path) is
drained, every file rolled meanwhile is read once, oldest first, then the new file; a file
truncated in place is read again from its start; a partial last line waits for its end.

Everything shown is escaped (:mod:`._safe`): control, bidi and zero-width characters in values,
names, messages, exceptions and file names appear as ``\\x1b``/``\\u202e`` escapes, and
``--json`` writes them as JSON escapes (the same JSON value).
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC
from operator import itemgetter
from typing import IO, Any, Final

import orjson

from ..formatting import escape_control as escape_text
from ..formatting import escape_json_line as escape_json
from ..formatting.text import DIM, LEVEL_COLORS, RESET, value_color
from ..levels import round_level
from ..sinks.console import should_color
from ..templates import PropertyToken, TextToken, parse, render_value
from ._normalize import ViewEvent, level_number, normalize
from ._tail import Follower, Line, Tail

__all__ = ["View", "ViewEvent", "add_arguments", "escape_json", "escape_text", "normalize", "run"]

_KEY_COLOR: Final = "\x1b[2;37m"
_EXCEPTION_COLOR: Final = "\x1b[31m"
_FILE_COLOR: Final = "\x1b[2;34m"
_BARE: Final = re.compile(r"^[\w.\-/:@+]+$")
_NOT_JSON: Final = object()


# ---------------------------------------------------------------------------------------------
# Rendering.


def _exception_block(exception: str, color: str) -> str:
    lines = exception.replace("\r\n", "\n").rstrip("\n").split("\n")
    if color:
        return "".join(f"    {color}{escape_text(line)}{RESET}\n" for line in lines)
    return "".join(f"    {escape_text(line)}\n" for line in lines)


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
        return escape_text(event.message or ""), set()
    template = parse(event.template)
    props = event.properties
    used = {name for name in template.property_names if name in props}
    if (
        not colors
        and event.renderings is None
        and not any(isinstance(props[name], dict | list) for name in used)
    ):
        return escape_text(template.render(props)), used
    renderings = list(event.renderings or ())
    out: list[str] = []
    for token in template.tokens:
        if isinstance(token, TextToken):
            out.append(escape_text(token.text))
            continue
        assert isinstance(token, PropertyToken)
        rendered: str | None = None
        if token.format is not None and renderings:
            rendered = _align(str(renderings.pop(0)), token.alignment)
        if token.name not in props:
            out.append(escape_text(rendered if rendered is not None else token.raw))
            continue
        value = props[token.name]
        if rendered is None:
            # Structures read from JSON show as JSON, not as Python reprs.
            rendered = (
                _align(_json_text(value), token.alignment)
                if isinstance(value, dict | list) and token.format is None
                else render_value(value, token)
            )
        text = escape_text(rendered)
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
        text = escape_text(_format_value(value))
        name = escape_text(key)
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
            return escape_text(event.time_text)[:23].ljust(23)
        if ts.tzinfo is not None:
            ts = ts.astimezone(UTC) if self.utc else ts.astimezone()
        return ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:23]

    def render(self, event: ViewEvent, source: str = "") -> str:
        """One event: a line, then its exception indented by four spaces."""
        colors = self.colors
        message, used = render_message(event, colors=colors)
        extra = render_properties(event.properties, used, colors=colors)
        stamp = self.timestamp(event)
        label = escape_text(event.level_label)
        prefix = ""
        if self.prefix_width:
            prefix = escape_text(source).ljust(self.prefix_width) + " "
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
            line += _exception_block(event.exception, _EXCEPTION_COLOR if colors else "")
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
# Printing what the files hold, merged by time, following them across rotation (reading and
# rotation: :mod:`._tail`).

#: (sort key: the event's time as epoch seconds, the file's path, the event, the JSON line)
_Item = tuple[float, str, ViewEvent, bytes]


def _epoch(event: ViewEvent) -> float | None:
    """The event's time as a number to merge on (naive times are local, as shown)."""
    ts = event.timestamp
    if ts is None:
        return None
    try:
        return ts.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


class Viewer:
    """Decodes, filters and prints lines; counts what it printed, reports malformed lines.

    Several files are merged by event time (each file keeps its own order; an event without a
    time sorts with the one before it in its file).
    """

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
        #: lines read from every file so far (a follow step that read none was idle)
        self.lines_read = 0

    @property
    def done(self) -> bool:
        """Whether ``--max-events`` has been reached."""
        return self.max_events is not None and self.printed >= self.max_events

    def _malformed(self, path: str, lineno: int, reason: str, raw: bytes) -> None:
        excerpt = raw[:80].decode("utf-8", "backslashreplace")
        self.err.write(
            f"logactors view: {escape_text(path)}:{lineno}: malformed line "
            f"({escape_text(reason)}): {escape_text(repr(excerpt))}\n"
        )

    def decode(self, lines: Iterator[Line]) -> Iterator[_Item]:
        """The events of one file's lines that pass the filters, with their sort keys."""
        key = float("-inf")
        for path, lineno, raw in lines:
            self.lines_read += 1
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
                    self._malformed(path, lineno, f"not JSON: {exc.args[0]}", raw)
                    continue
            if not isinstance(obj, dict):
                self._malformed(path, lineno, f"a JSON {type(obj).__name__}, not an object", raw)
                continue
            event = normalize(obj)
            if self.min_level is not None and event.level < self.min_level:
                continue
            if not all(w.matches(event) for w in self.where):
                continue
            epoch = _epoch(event)
            if epoch is not None:
                key = epoch
            yield key, path, event, data

    def show(self, streams: Sequence[Iterator[Line]]) -> None:
        """Print the events of several files' lines, merged by time."""
        decoded = [self.decode(lines) for lines in streams]
        items: Iterator[_Item] = (
            decoded[0] if len(decoded) == 1 else heapq.merge(*decoded, key=itemgetter(0))
        )
        out = self.out
        for _, path, event, data in items:
            if self.done:
                return
            if self.as_json:
                out.write(escape_json(data.decode("utf-8", "replace")) + "\n")
            else:
                out.write(self.renderer.render(event, os.path.basename(path) or path))
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
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="CLEF or JSON-lines log files (several are merged by event time)",
    )
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
        help="keep reading as the files grow, across rotation: every file rolled meanwhile is "
        "read once, in order (Ctrl-C stops)",
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


class View:
    """One ``logactors view`` run: the files, the viewer and (with ``--follow``) the follower.

    Raises nothing for a file that cannot be opened: it is reported and ``status`` becomes 1.
    """

    def __init__(self, args: argparse.Namespace, out: IO[str], err: IO[str]) -> None:
        self.args = args
        self.out = out
        forced = {"always": True, "never": False}.get(args.color)
        colors = should_color(out, forced) and not args.json
        self.tails = [Tail(path) for path in args.files]
        width = max(len(t.name) for t in self.tails) if len(self.tails) > 1 else 0
        renderer = Renderer(colors=colors, utc=args.utc, prefix_width=width)
        self.viewer = Viewer(args, out, err, renderer)
        # Before the files are opened: what is rolled from now on is new.
        self.follower = Follower(self.tails) if args.follow else None
        self.status = 0
        for tail in self.tails:
            try:
                tail.open()
            except OSError as exc:
                err.write(
                    f"logactors view: cannot open {escape_text(tail.path)}: "
                    f"{escape_text(exc.strerror or str(exc))}\n"
                )
                self.status = 1

    def read(self) -> None:
        """Print what the files hold now (an unterminated last line too, unless following)."""
        self.viewer.show([tail.lines(final=self.follower is None) for tail in self.tails])
        self.out.flush()

    def step(self) -> bool:
        """One ``--follow`` poll: print what is new in every file; whether anything was read."""
        assert self.follower is not None
        before = self.viewer.lines_read
        self.viewer.show(self.follower.poll())
        if self.viewer.lines_read == before:
            return False
        self.out.flush()
        return True

    def finish(self) -> None:
        """Print what is left, unterminated last lines included."""
        assert self.follower is not None
        self.viewer.show(self.follower.finish())
        self.out.flush()

    def follow(
        self,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Poll until ``--max-events`` or ``--idle-exit`` (or Ctrl-C).

        ``sleep`` and ``clock`` are the waits between polls and the idle timer (tests pass
        their own to drive the loop step by step).
        """
        args = self.args
        last_data = clock()
        while not self.viewer.done:
            if self.step():
                last_data = clock()
            elif args.idle_exit is not None and clock() - last_data >= args.idle_exit:
                self.finish()
                return
            sleep(args.poll_interval)

    def close(self) -> None:
        """Close the files."""
        if self.follower is not None:
            self.follower.close()
        for tail in self.tails:
            tail.close()


def run(args: argparse.Namespace, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Run ``view`` with parsed arguments; returns the exit status (1: a file failed to open)."""
    if out is None:
        out = sys.stdout
        reconfigure = getattr(out, "reconfigure", None)
        if reconfigure is not None:  # never die on a character the terminal cannot show
            reconfigure(errors="backslashreplace")
    err = err if err is not None else sys.stderr
    view = View(args, out, err)
    try:
        view.read()
        if args.follow and not view.viewer.done and any(t.file is not None for t in view.tails):
            view.follow()
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, without a traceback at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return view.status
    finally:
        view.close()
    return view.status
