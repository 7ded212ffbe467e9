"""The ``text`` format: one line per event from a Serilog-style output template.

Default template: ``{Timestamp:%Y-%m-%d %H:%M:%S.%f} [{Level:u3}] {Message}{NewLine}{Exception}``.

Names the output template understands: ``Timestamp`` (strftime pattern, ``%f`` for
microseconds, local time), ``Level`` (``u3``/``w3``/``t3`` for VRB DBG INF WRN ERR FTL in upper,
lower or title case; ``u``/``w``/``t`` for the full name; no format for Serilog's name),
``Message``, ``NewLine``, ``Exception``, ``Properties`` (those not in the message, as JSON),
``Logger`` (or ``SourceContext``), ``Task``, ``Template``; any other name is an event property.

Every event starts at column 0 and ends with a newline; control characters, bidi controls and
zero-width characters in everything that comes from the event (message, values, names) are
escaped, and the exception's lines follow indented by four spaces, so no value can forge a line
that looks like another event or hide what it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from .._events import LogEvent
from .._levels import SERILOG_NAMES, Level, round_level
from ..templates import PropertyToken, TextToken, parse, render_value
from ._escape import escape_control
from ._isolate import format_all, isolated
from ._time import Strftime
from .json import json_text

__all__ = ["DEFAULT_OUTPUT_TEMPLATE", "TextFormatter"]

#: the text format's output template when none is configured (Serilog's console default)
DEFAULT_OUTPUT_TEMPLATE: Final = (
    "{Timestamp:%Y-%m-%d %H:%M:%S.%f} [{Level:u3}] {Message}{NewLine}{Exception}"
)
RESET: Final = "\x1b[0m"
DIM: Final = "\x1b[2m"
LEVEL_COLORS: Final[dict[int, str]] = {
    Level.TRACE: "\x1b[2m",
    Level.DEBUG: "\x1b[36;2m",
    Level.INFO: "\x1b[32m",
    Level.WARNING: "\x1b[33;1m",
    Level.ERROR: "\x1b[31;1m",
    Level.CRITICAL: "\x1b[97;41;1m",
}
_STRING_COLOR: Final = "\x1b[36m"
_SCALAR_COLOR: Final = "\x1b[35m"
_OTHER_COLOR: Final = "\x1b[34m"
_EXCEPTION_COLOR: Final = "\x1b[31m"

Part = Callable[[LogEvent], str]


def _align(text: str, alignment: int | None) -> str:
    if alignment is None:
        return text
    return text.rjust(alignment) if alignment > 0 else text.ljust(-alignment)


#: Serilog's fixed-width level monikers, widths 1 to 5 (``LevelOutputFormat``), title case.
_MONIKERS: Final[dict[int, tuple[str, ...]]] = {
    Level.TRACE: ("V", "Vb", "Vrb", "Verb", "Verbo"),
    Level.DEBUG: ("D", "De", "Dbg", "Dbug", "Debug"),
    Level.INFO: ("I", "In", "Inf", "Info", "Info"),
    Level.WARNING: ("W", "Wn", "Wrn", "Warn", "Warn"),
    Level.ERROR: ("E", "Er", "Err", "Eror", "Error"),
    Level.CRITICAL: ("F", "Fa", "Ftl", "Fatl", "Fatal"),
}


def level_text(level: int, spec: str | None) -> str:
    """Render a level with a Serilog level format, as Serilog's ``LevelOutputFormat``.

    No format: Serilog's name (``Information``). ``u``/``w``: upper/lower case. ``u3``, ``w3``,
    ``t3``: the fixed-width monikers (``INF``, ``inf``, ``Inf``; widths 1 to 5 from Serilog's
    table, wider ones are the name cut to that width, in the case asked for). A level number
    between two levels is shown as the level below it.
    """
    if level not in SERILOG_NAMES:
        level = round_level(level)
    name = SERILOG_NAMES[level]
    if not spec:
        return name
    case = spec[0]
    digits = spec[1:]
    if case in "uwt" and len(spec) in (2, 3) and digits.isascii() and digits.isdigit():
        width = int(digits)
        if width < 1:
            return ""
        text = _MONIKERS[level][width - 1] if width <= 5 else name[:width]
    else:
        text = name
    if case == "u":
        return text.upper()
    if case == "w":
        return text.lower()
    return text


def value_color(value: object) -> str:
    """The ANSI colour for a property value: strings, scalars, anything else."""
    if isinstance(value, str):
        return _STRING_COLOR
    if value is None or isinstance(value, bool | int | float):
        return _SCALAR_COLOR
    return _OTHER_COLOR


def render_message_colored(event: LogEvent) -> str:
    """The rendered message with each property value coloured (values escaped first)."""
    template = parse(event.template)
    props = event.properties
    out: list[str] = []
    for token in template.tokens:
        if isinstance(token, TextToken):
            out.append(escape_control(token.text))
        elif token.name in props:
            value = props[token.name]
            out.append(value_color(value) + escape_control(render_value(value, token)) + RESET)
        else:
            out.append(escape_control(token.raw))
    return "".join(out)


def format_exception_block(exception: str, color: str = "") -> str:
    """Exception text as lines indented by four spaces (escaped), ending with a newline.

    With ``color``, each line's text is coloured (after the indent, reset before the newline),
    so every line still starts with the four spaces.
    """
    lines = exception.rstrip("\n").split("\n")
    if color:
        return "".join(f"    {color}{escape_control(line)}{RESET}\n" for line in lines)
    return "".join(f"    {escape_control(line)}\n" for line in lines)


class TextFormatter:
    """Formats events with an output template (see the module docstring).

    The output template is compiled into one function per formatter: each token becomes one
    expression of a single f-string (:meth:`_compile`), so a line costs one call, not one call
    per token.
    """

    def __init__(self, output_template: str, *, colors: bool = False) -> None:
        self.colors = colors
        namespace: dict[str, object] = {"align": _align, "escape": escape_control}
        fields = [
            self._compile(token, f"t{i}", namespace)
            for i, token in enumerate(parse(output_template).tokens)
        ]
        source = "def line(e):\n    return f'" + "".join("{(" + f + ")}" for f in fields) + "'\n"
        exec(compile(source, "<logactors text output template>", "exec"), namespace)
        self._render: Part = namespace["line"]  # type: ignore[assignment]

    def _compile(self, token: TextToken | PropertyToken, key: str, ns: dict[str, object]) -> str:
        """The expression (over the event ``e``) that writes ``token``; the values it needs are
        put in ``ns`` under names starting with ``key``."""
        if isinstance(token, TextToken):
            ns[key] = token.text
            return key
        name = token.name
        alignment = token.alignment
        colors = self.colors

        def aligned(expression: str) -> str:
            if alignment is None:
                return expression
            ns[key + "a"] = alignment
            return f"align({expression}, {key}a)"

        if name == "Timestamp":
            ns[key] = Strftime(token.format or "%Y-%m-%d %H:%M:%S.%f")
            stamp = aligned(f"{key}(e.timestamp_ns)")
            if colors:
                ns[key + "c"], ns[key + "r"] = DIM, RESET
                return f"{key}c + {stamp} + {key}r"
            return stamp
        if name == "Level":
            spec = token.format
            cache = {lv: _align(level_text(lv, spec), alignment) for lv in Level}
            if colors:
                cache = {lv: LEVEL_COLORS[lv] + text + RESET for lv, text in cache.items()}
            ns[key] = cache
            ns[key + "f"] = lambda level: _align(level_text(level, spec), alignment)
            return f"{key}.get(e.level) or {key}f(e.level)"
        if name == "Message":
            if colors:
                ns[key] = render_message_colored
                return aligned(f"{key}(e)")
            return aligned("escape(e.rendered)")
        if name == "NewLine":
            ns[key] = "\n"
            return key
        if name == "Exception":
            ns[key] = format_exception_block
            if colors:
                ns[key + "c"] = _EXCEPTION_COLOR
                return f'{key}(e.exception, {key}c) if e.exception else ""'
            return f'{key}(e.exception) if e.exception else ""'
        if name == "Properties":
            ns[key] = _extra_properties
            return aligned(f"escape({key}(e))")
        if name in ("Logger", "SourceContext"):
            return aligned("escape(e.logger)")
        if name in ("Task", "ThreadName"):
            return aligned("escape(e.task)")
        if name in ("Template", "MessageTemplate"):
            return aligned("escape(e.template)")

        def prop(event: LogEvent) -> str:
            props = event.properties
            if name not in props:
                return ""
            return escape_control(render_value(props[name], token))

        ns[key] = prop
        return f"{key}(e)"

    def format_event(self, event: LogEvent) -> str:
        """One event as text, ending with a newline; an event that cannot be formatted is
        written as its stand-in (see :mod:`logactors.formatting._isolate`)."""
        return isolated(self._line, event, "text")

    def _line(self, event: LogEvent) -> str:
        line = self._render(event)
        return line if line.endswith("\n") else line + "\n"

    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        """A batch as UTF-8 (unencodable characters backslash-escaped)."""
        lines = format_all(self._line, events, "text")
        return "".join(lines).encode("utf-8", "backslashreplace")

    def format_records(self, events: Sequence[LogEvent]) -> list[bytes]:
        """Each event's record, as :meth:`format_batch` writes it."""
        lines = format_all(self._line, events, "text")
        return [line.encode("utf-8", "backslashreplace") for line in lines]


def _extra_properties(event: LogEvent) -> str:
    used = set(parse(event.template).property_names)
    return json_text({k: v for k, v in event.properties.items() if k not in used})
