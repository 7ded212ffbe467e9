"""Formatters: CLEF exactly as Serilog writes it, text, json, logfmt, csv; one event, one line."""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
import pathlib
import re
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import logactors
from logactors import BatchConfig, FileSink, Level, LogEvent, SupervisorConfig
from logactors._levels import level_name
from logactors.formatting import _isolate, make_formatter
from logactors.formatting._escape import escape_control
from logactors.formatting._time import IsoUtc, Strftime
from logactors.formatting.elasticsearch import BulkEncoder
from logactors.formatting.gelf import GelfEncoder
from logactors.formatting.json import ClefFormatter, JsonFormatter, clef_dict, json_text
from logactors.formatting.logfmt import LogfmtFormatter, logfmt_key, logfmt_value
from logactors.formatting.loki import loki_push
from logactors.formatting.syslog import SyslogFormatter
from logactors.formatting.text import LEVEL_COLORS, RESET, TextFormatter, level_text
from logactors.templates import parse

from .strategies import (
    LINE_BREAKERS,
    BadStr,
    HostileStr,
    any_values,
    awkward_values,
    hostile_events,
    json_values,
    log_events,
    nasty_text,
    property_names,
)

TS = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z
ALL_FORMATS = ("text", "json", "clef", "clef-rendered", "logfmt", "csv", "csv-raw")


def event(
    template: str = "Hello {Name}",
    level: Level = Level.INFO,
    *,
    exception: str | None = None,
    logger: str = "",
    task: str = "",
    ts: int = TS,
    **props: Any,
) -> LogEvent:
    return LogEvent(ts, level, template, props, exception, logger, task)


def clef(e: LogEvent, *, rendered: bool = False) -> bytes:
    return ClefFormatter(rendered=rendered).format_event(e)


# ---------------------------------------------------------------------------------------------
# CLEF (CompactJsonFormatter) and clef-rendered (RenderedCompactJsonFormatter).


def test_clef_minimal_event_exact() -> None:
    """An Information event: @t, @mt, then the properties; no @l."""
    assert clef(event(Name="bob")) == (
        b'{"@t":"2023-11-14T22:13:20.1234567Z","@mt":"Hello {Name}","Name":"bob"}\n'
    )


def test_clef_full_event_exact_and_ordered() -> None:
    """@t @mt @r @l @x @tr @sp, SourceContext, then properties with @ doubled."""
    e = event(
        "Disk {pct:.1f}% on {disk} ({free,6:.0f} free) {missing:x}",
        Level.WARNING,
        exception="Traceback\n  boom",
        logger="app.disk",
        pct=93.456,
        disk="sda",
        free=12.2,
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
        span_id=0x00F067AA0BA902B7,
        **{"@odd": 1},
    )
    line = clef(e)
    assert line == (
        b'{"@t":"2023-11-14T22:13:20.1234567Z",'
        b'"@mt":"Disk {pct:.1f}% on {disk} ({free,6:.0f} free) {missing:x}",'
        b'"@r":["93.5","    12","{missing:x}"],'
        b'"@l":"Warning",'
        b'"@x":"Traceback\\n  boom",'
        b'"@tr":"4bf92f3577b34da6a3ce929d0e0e4736",'
        b'"@sp":"00f067aa0ba902b7",'
        b'"SourceContext":"app.disk",'
        b'"pct":93.456,"disk":"sda","free":12.2,"@@odd":1}\n'
    )


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Level.TRACE, "Verbose"),
        (Level.DEBUG, "Debug"),
        (Level.INFO, None),
        (Level.WARNING, "Warning"),
        (Level.ERROR, "Error"),
        (Level.CRITICAL, "Fatal"),
    ],
)
@pytest.mark.parametrize("rendered", [False, True])
def test_clef_level_names(level: Level, expected: str | None, rendered: bool) -> None:
    """@l is omitted for Information and otherwise Serilog's level name."""
    obj = json.loads(clef(event(level=level), rendered=rendered))
    assert obj.get("@l") == expected


def test_clef_level_between_levels_rounds_down() -> None:
    """A level number between two levels is named after the level below it."""
    assert json.loads(clef(event(level=35)))["@l"] == "Warning"  # type: ignore[arg-type]
    assert "@l" not in json.loads(clef(event(level=25)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (0, "1970-01-01T00:00:00.0000000Z"),
        (1, "1970-01-01T00:00:00.0000000Z"),  # 100 ns ticks, truncated
        (999_999_999, "1970-01-01T00:00:00.9999999Z"),
        (-1, "1969-12-31T23:59:59.9999999Z"),
        (TS, "2023-11-14T22:13:20.1234567Z"),
        (-62_135_596_800 * 10**9 + 5 * 10**9 + 100, "0001-01-01T00:00:05.0000001Z"),
        (253_402_300_799 * 10**9, "9999-12-31T23:59:59.0000000Z"),
    ],
)
def test_clef_timestamps(ts: int, expected: str) -> None:
    """@t is UTC ISO-8601 with 7 fractional digits and Z, as .NET's "O" format."""
    assert json.loads(clef(event(ts=ts)))["@t"] == expected


@given(st.lists(st.integers(0, 4 * 10**18), min_size=1, max_size=20), st.sampled_from([3, 6, 7, 9]))
def test_timestamp_digits_are_the_fraction_zero_padded(stamps: list[int], digits: int) -> None:
    """IsoUtc and Strftime write the fraction from digit tables; the text is the plain
    zero-padded fraction, whatever the order of the timestamps (the per-second caches)."""
    iso = IsoUtc(digits)
    local = Strftime("%H:%M:%S.%f|%f", utc=True)
    for ns in sorted(stamps) + stamps:
        second, fraction = divmod(ns, 10**9)
        head = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        assert iso(ns) == f"{head}.{fraction // 10 ** (9 - digits):0{digits}d}Z"
        micro = f"{fraction // 1000:06d}"
        assert local(ns) == f"{time.strftime('%H:%M:%S', time.gmtime(second))}.{micro}|{micro}"
        assert Strftime("%f")(ns) == micro


def test_timestamps_beyond_the_platform_never_raise() -> None:
    """A timestamp too large for the platform still formats (as seconds)."""
    assert IsoUtc(7)(10**30).endswith("Z")
    assert Strftime("%Y")(10**30)


@pytest.mark.parametrize(
    ("props", "tr", "sp"),
    [
        ({"trace_id": "abc", "span_id": "def"}, "abc", "def"),
        ({"trace_id": 1, "span_id": 2}, "0" * 31 + "1", "0" * 15 + "2"),
        ({"trace_id": b"\x01\xff", "span_id": bytearray(b"\x0a")}, "01ff", "0a"),
        ({"trace_id": -1, "span_id": ""}, None, None),
        ({"trace_id": True, "span_id": None}, None, None),
        ({"trace_id": "a\nb"}, None, None),
    ],
)
def test_clef_trace_and_span(props: dict[str, Any], tr: str | None, sp: str | None) -> None:
    """trace_id/span_id become @tr/@sp (hex); unusable ids stay ordinary properties."""
    obj = json.loads(clef(event("x", **props)))
    assert obj.get("@tr") == tr
    assert obj.get("@sp") == sp
    for key, field in (("trace_id", "@tr"), ("span_id", "@sp")):
        if key in props:
            assert (key in obj) == (field not in obj)


def test_clef_r_only_when_some_hole_has_a_format() -> None:
    """@r appears iff a hole has a format; an empty format (``{x:}``) is no format."""
    assert "@r" not in json.loads(clef(event("{a} {b,5} {c:}", a=1, b=2, c=3)))
    assert json.loads(clef(event("{a:x} {a}", a=255)))["@r"] == ["ff"]
    assert json.loads(clef(event("{a:x} {b:.1f}", a=255, b=2)))["@r"] == ["ff", "2.0"]


def test_clef_source_context() -> None:
    """The logger name is SourceContext, unless a property of that name is there already."""
    assert json.loads(clef(event("x", logger="app")))["SourceContext"] == "app"
    assert json.loads(clef(event("x", logger="app", SourceContext="mine")))["SourceContext"] == (
        "mine"
    )
    assert "SourceContext" not in json.loads(clef(event("x")))


def test_clef_rendered_exact() -> None:
    """clef-rendered: @t, @m, @i (event id), @l, @x, then properties."""
    e = event("Hello {Name} {n:05d}", Level.ERROR, exception="E", Name="bob", n=7)
    line = clef(e, rendered=True)
    event_id = parse("Hello {Name} {n:05d}").event_id
    assert line == (
        b'{"@t":"2023-11-14T22:13:20.1234567Z","@m":"Hello bob 00007",'
        + f'"@i":"{event_id}",'.encode()
        + b'"@l":"Error","@x":"E","Name":"bob","n":7}\n'
    )
    assert json.loads(clef(event("a"), rendered=True))["@i"] == "ca2e9442"  # Jenkins("a")


def test_clef_batches_are_the_lines_of_their_events() -> None:
    """format_batch is the concatenation of format_event, for both shapes."""
    events = [event(level=lv, Name=str(lv)) for lv in Level]
    for rendered in (False, True):
        fmt = ClefFormatter(rendered=rendered)
        assert fmt.format_batch(events) == b"".join(fmt.format_event(e) for e in events)


_plain_events = st.builds(
    lambda ts, level, props, exception, logger: LogEvent(
        ts, level, "Processing {id} for {user}", props, exception, logger, "main"
    ),
    st.integers(TS, TS + 3 * 10**9),
    st.sampled_from([Level.INFO, Level.INFO, Level.INFO, Level.WARNING, 25, 5]),
    st.dictionaries(property_names(), json_values(4), max_size=4),
    st.one_of(st.none(), st.just("Traceback: @decorated line")),
    st.sampled_from(["", "", "app.db"]),
)
#: properties that each defeat one of the batch path's shortcuts
_ODD_PROPS: list[dict[Any, Any]] = [
    {"@x": 1},
    {"@t": "mine", "user": "bob"},
    {"email": "bob@example.com"},
    {"tags": ["@alice", "@bob"]},
    {"items": [{"@t": 1}, {"@t": 2}]},
    {"nested": {"a": [{"b": 1}, {"@t": "x", "@mt": "y"}]}},
    {"trace_id": 2**100, "span_id": "abc"},
    {"span_id": b"\x01\x02"},
    {1: "one", None: "none"},
    {"deep": {2: "two"}},
    {"big": 2**70},
    {"obj": object()},
    {"SourceContext": "given"},
    {"text": "line\u2028break\x7f"},
    {"_under": 1, "9digit": 2},
]
_odd_props = st.sampled_from(_ODD_PROPS)
_odd_events = st.builds(
    lambda e, props: e._replace(properties={**e.properties, **props}), _plain_events, _odd_props
)


@given(st.lists(st.one_of(_plain_events, _plain_events, _odd_events, log_events()), max_size=30))
def test_clef_batch_path_equals_the_exact_path(events: list[LogEvent]) -> None:
    """The batch path (one orjson call per batch, checks on its output) writes byte for byte
    what the exact path writes event by event, whatever the batch holds."""
    events.sort(key=lambda e: e.timestamp_ns)
    fmt = ClefFormatter()
    assert fmt.format_batch(events) == b"".join(clef(e) for e in events)
    assert fmt.format_batch(events[::-1]) == b"".join(clef(e) for e in events[::-1])


@given(st.lists(_plain_events, max_size=30), st.integers(0, 10**9 - 1))
def test_clef_batch_path_writes_plain_events_itself(events: list[LogEvent], shift: int) -> None:
    """Plain events, at any fraction of a second, are written by the batch path itself, not by
    the per-event fallback (which would hide a batch path that raises)."""
    events = sorted(
        (e._replace(timestamp_ns=e.timestamp_ns + shift) for e in events),
        key=lambda e: e.timestamp_ns,
    )
    assert ClefFormatter()._batch(events) == b"".join(clef(e) for e in events)


@given(
    st.one_of(
        st.integers(TS - 10**9, TS + 10**9),
        st.integers(-(10**9), 10**9),  # (around the epoch, before it too)
        st.integers(-(10**18) - 10**7, -(10**18) + 10**7),  # (in 1938)
    ),
    st.lists(
        st.one_of(
            st.integers(0, 5_000),  # (events microseconds apart: one millisecond's prefix)
            st.integers(-3_000_000, 3_000_000),  # (across milliseconds, either way)
            st.sampled_from([999_999, 1_000_000, 1_000_001, -1, 10**9]),
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_clef_batch_path_timestamps_within_and_across_milliseconds(
    start: int, steps: list[int]
) -> None:
    """The batch path's cached millisecond prefix gives the exact path's timestamp for events
    in one millisecond, across millisecond and second boundaries, out of order, before 1970,
    from a new formatter's first event, and from one batch to the next (the cache outlives a
    batch)."""
    events = []
    ts = start
    for i, step in enumerate(steps):
        ts += step
        events.append(event("Processing {id}", id=i, ts=ts))
    fmt = ClefFormatter()
    for batch in (events, events[::-1], events[: len(events) // 2], events):
        assert fmt._batch(batch) == b"".join(clef(e) for e in batch)


def test_clef_batch_path_first_event_of_a_new_formatter() -> None:
    """A new formatter's cache holds a real millisecond (the epoch's first) with its text, so
    a first event in that millisecond, or in any other, gets its own timestamp."""
    for ts in (0, 999_999, 1_000_000, -1, -(10**18), -(10**18) + 1, TS):
        batch = [event("Processing {id}", id=1, ts=ts)]
        assert ClefFormatter()._batch(batch) == clef(batch[0]), ts


def test_clef_batch_path_with_each_odd_property() -> None:
    """Each shortcut-defeating property, alone in a batch of plain events, comes out exact."""
    for odd in _ODD_PROPS:
        plain = [event("Processing {id}", id=i, ts=TS + i) for i in range(5)]
        batch = [*plain[:2], event("Odd {x}", ts=TS + 2, x=1), *plain[3:]]
        batch[2] = batch[2]._replace(properties={**batch[2].properties, **odd})
        assert ClefFormatter().format_batch(batch) == b"".join(clef(e) for e in batch), odd


def test_clef_odd_property_names() -> None:
    """Non-string keys are written as strings; "@x" and "@@x" stay distinct."""
    e = LogEvent(TS, Level.INFO, "x", {1: "one", "@x": 1, "@@x": 2}, None, "", "")
    obj = json.loads(clef(e))
    assert obj["1"] == "one"
    assert (obj["@@x"], obj["@@@x"]) == (1, 2)


@given(st.dictionaries(property_names(), json_values(), max_size=5), nasty_text())
def test_clef_properties_round_trip(props: dict[str, Any], template: str) -> None:
    """Every property comes back from the CLEF line unchanged, after the @ fields."""
    obj = json.loads(clef(event(template, **props)))
    assert list(obj)[:2] == ["@t", "@mt"]
    assert obj["@mt"] == _clean(template)
    user = {k: v for k, v in obj.items() if not k.startswith("@")}
    assert user == {k: v for k, v in props.items() if k not in ("trace_id", "span_id")}


# ---------------------------------------------------------------------------------------------
# json.


def test_json_exact() -> None:
    """The json layout: timestamp, level, message, template, logger, task, exception, props."""
    e = event("Hi {n}", Level.ERROR, exception="boom", logger="app", task="main", n=1)
    assert JsonFormatter().format_event(e) == (
        b'{"timestamp":"2023-11-14T22:13:20.123456Z","level":"error","message":"Hi 1",'
        b'"template":"Hi {n}","logger":"app","task":"main","exception":"boom",'
        b'"properties":{"n":1}}\n'
    )
    assert JsonFormatter().format_event(event("plain")) == (
        b'{"timestamp":"2023-11-14T22:13:20.123456Z","level":"info","message":"plain",'
        b'"template":"plain"}\n'
    )


@given(log_events(values=json_values()))
def test_json_parses_back(e: LogEvent) -> None:
    """Each json line parses back to the event's fields and the same properties."""
    line = JsonFormatter().format_event(e)
    assert line.count(b"\n") == 1
    assert len(line.decode().splitlines()) == 1
    obj = json.loads(line)
    assert obj["level"] == level_name(e.level)
    assert obj["template"] == _clean(e.template)
    assert obj["message"] == _clean(e.rendered)
    assert obj.get("logger", "") == _clean(e.logger)
    assert obj.get("exception") == (_clean(e.exception) if e.exception else None)
    assert obj.get("properties", {}) == {_clean(k): v for k, v in e.properties.items()}


def _clean(text: str) -> str:
    """Lone surrogates cannot be UTF-8; they are written backslash-escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def test_json_escapes_every_line_breaker() -> None:
    """NEL, U+2028/U+2029, DEL and C1 controls are \\u-escaped, and still parse back."""
    text = "a\x85b\u2028c\u2029d\x7fe\x9bf\n\r"
    line = JsonFormatter().format_event(event("{x}", x=text))
    assert line.count(b"\n") == 1
    assert all(c not in line.decode()[:-1] for c in LINE_BREAKERS + "\x7f\x9b")
    assert json.loads(line)["properties"]["x"] == text
    assert json_text({"x": text}) == '{"x":"a\\u0085b\\u2028c\\u2029d\\u007fe\\u009bf\\n\\r"}'


# ---------------------------------------------------------------------------------------------
# text.


def local(ts: int, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    moment = datetime.datetime.fromtimestamp(ts // 10**9)
    return moment.strftime(pattern)


def test_text_default_template() -> None:
    """The default template: local timestamp with microseconds, [INF], message, newline."""
    fmt = make_formatter("text")
    assert fmt.format_batch([event(Name="bob")]) == (
        f"{local(TS)}.123456 [INF] Hello bob\n".encode()
    )


def test_text_exception_lines_are_indented() -> None:
    """The exception follows the event line, every line indented by four spaces."""
    fmt = TextFormatter("{Level:u3} {Message}{NewLine}{Exception}")
    e = event(
        "failed",
        Level.ERROR,
        exception="Traceback (most recent call last):\n"
        '  File "x", line 1\r\nValueError: bad\x1b[2J\n',
    )
    assert fmt.format_event(e) == (
        "ERR failed\n"
        "    Traceback (most recent call last):\n"
        '      File "x", line 1\\r\n'
        "    ValueError: bad\\x1b[2J\n"
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, ["Verbose", "Debug", "Information", "Warning", "Error", "Fatal"]),
        ("u3", ["VRB", "DBG", "INF", "WRN", "ERR", "FTL"]),
        ("w3", ["vrb", "dbg", "inf", "wrn", "err", "ftl"]),
        ("t3", ["Vrb", "Dbg", "Inf", "Wrn", "Err", "Ftl"]),
        ("u", ["VERBOSE", "DEBUG", "INFORMATION", "WARNING", "ERROR", "FATAL"]),
        ("w", ["verbose", "debug", "information", "warning", "error", "fatal"]),
        ("u1", ["V", "D", "I", "W", "E", "F"]),
        ("w2", ["vb", "de", "in", "wn", "er", "fa"]),
        ("u4", ["VERB", "DBUG", "INFO", "WARN", "EROR", "FATL"]),
        ("t5", ["Verbo", "Debug", "Info", "Warn", "Error", "Fatal"]),
        ("u6", ["VERBOS", "DEBUG", "INFORM", "WARNIN", "ERROR", "FATAL"]),
        ("u0", ["", "", "", "", "", ""]),
        ("x3", ["Verbose", "Debug", "Information", "Warning", "Error", "Fatal"]),
    ],
)
def test_level_formats(spec: str | None, expected: list[str]) -> None:
    """Level formats follow Serilog's LevelOutputFormat table."""
    assert [level_text(lv, spec) for lv in Level] == expected


def test_text_alignment_and_names() -> None:
    """Alignment pads (left with a negative width); Logger, Task, Template, properties."""
    fmt = TextFormatter(
        "[{Level,-5:u3}|{Level,6:w3}] {Logger,-6}|{Task}|{Template}|"
        "{n:03d}|{n,4}|{absent}|{Message}"
    )
    line = fmt.format_event(event("n is {n}", logger="db", task="t1", n=7))
    assert line == "[INF  |   inf] db    |t1|n is {n}|007|   7||n is 7\n"


def test_text_template_literals_and_names_are_never_code() -> None:
    """The output template is compiled into one function: its literal text (quotes,
    backslashes, escaped braces, a line break) and its property names are data, not code."""
    template = "a'b\"c\\d {{e}} '''{x}\"\"\" {{0}} {Message}|{e.x}|{__import__}|{t2}\n"
    fmt = TextFormatter(template)
    line = fmt.format_event(event("m {x}", x="X", t2="two", **{"e.x": 1, "__import__": 2}))
    assert line == "a'b\"c\\d {e} '''X\"\"\" {0} m X|1|2|two\n"
    assert TextFormatter("").format_event(event()) == "\n"
    between = LogEvent(TS, 21, "m", {}, None, "", "")  # a level between two: rounds down
    assert TextFormatter("{Level,3}").format_event(between) == "Information\n"


def test_text_properties_token() -> None:
    """{Properties} lists, as JSON, the properties the message does not use."""
    fmt = TextFormatter("{Message} {Properties}")
    line = fmt.format_event(event("user {user}", user="ada", req="r-1", n=2, nl="a\nb\x85"))
    assert line == 'user ada {"req":"r-1","n":2,"nl":"a\\nb\\u0085"}\n'


def test_text_escapes_control_characters() -> None:
    """Values cannot start a new line or drive the terminal: controls are escaped."""
    fmt = TextFormatter("{Level:u3} {Logger} {Message}")
    line = fmt.format_event(
        event("login {user}", logger="a\nb", user="x\n2026-01-01 [ERR] forged\x1b[31m\u2028")
    )
    assert line == "INF a\\nb login x\\n2026-01-01 [ERR] forged\\x1b[31m\\u2028\n"


def test_text_colors() -> None:
    """With colours, the level and each property value are coloured; escapes still apply."""
    fmt = TextFormatter("{Level:u3} {Message}", colors=True)
    line = fmt.format_event(event("n={n} s={s} {missing}", Level.WARNING, n=1, s="a\nb"))
    assert line == (
        f"{LEVEL_COLORS[Level.WARNING]}WRN{RESET} "
        f"n=\x1b[35m1{RESET} s=\x1b[36ma\\nb{RESET} {{missing}}\n"
    )


def test_text_timestamp_formats() -> None:
    """Timestamp takes a strftime pattern with %f for microseconds (local time)."""
    fmt = TextFormatter("{Timestamp:%H:%M:%S.%f}|{Timestamp:%Y}")
    assert fmt.format_event(event()) == f"{local(TS, '%H:%M:%S')}.123456|{local(TS, '%Y')}\n"


TEXT_FORMATTERS = [
    make_formatter("text", output_template=template, colors=colors)
    for template in (
        "",  # the default
        "{Timestamp} [{Level,-5:u3}] {Logger} {Task} {Message} {Properties} {a}{NewLine}"
        "{Exception}",
        "{Message} {Exception}",
    )
    for colors in (False, True)
]


@given(e=log_events())
def test_text_one_event_one_line(e: LogEvent) -> None:
    """No value makes one event span two lines; exception lines start with four spaces."""
    for i, fmt in enumerate(TEXT_FORMATTERS):
        text = fmt.format_batch([e]).decode("utf-8")
        lines = text.splitlines(keepends=True)
        assert text.endswith("\n")
        if not e.exception:
            assert len(lines) == 1
            assert text.count("\n") == 1
            continue
        if i < 4:  # "{NewLine}{Exception}": the event line, then one line per exception line
            assert len(lines) == 1 + len(e.exception.rstrip("\n").split("\n"))
        for line in lines[1:]:
            assert line.startswith("    ")
            assert line.endswith("\n")


# ---------------------------------------------------------------------------------------------
# logfmt.

_UNESCAPE = re.compile(r"\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|(.))")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


def parse_logfmt(line: str) -> list[tuple[str, str]]:
    """A tiny logfmt parser: key=bare or key="quoted \\" \\\\ \\n \\xNN \\uNNNN"."""
    assert line.endswith("\n")
    line = line[:-1]
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(line):
        eq = line.index("=", i)
        key = line[i:eq]
        assert key
        assert " " not in key
        i = eq + 1
        if line[i : i + 1] == '"':
            end = i + 1
            while line[end] != '"':
                end += 2 if line[end] == "\\" else 1
            raw = line[i + 1 : end]
            value = _UNESCAPE.sub(
                lambda m: chr(int(m[1] or m[2], 16)) if (m[1] or m[2]) else _SIMPLE[m[3]], raw
            )
            i = end + 1
        else:
            end = line.find(" ", i)
            end = len(line) if end == -1 else end
            value = line[i:end]
            i = end
        pairs.append((key, value))
        if i < len(line):
            assert line[i] == " "
            i += 1
    return pairs


def test_logfmt_exact() -> None:
    """The logfmt layout: ts, level, logger, msg, properties, exception last."""
    e = event(
        "user {u} said {q}",
        Level.WARNING,
        exception="E\nF",
        logger="app",
        u="ada",
        q='hi "there"',
        n=3,
        f=1.5,
        b=True,
        z=None,
        d={"k": [1]},
        e="",
    )
    assert LogfmtFormatter().format_event(e) == (
        "ts=2023-11-14T22:13:20.123456Z level=warning logger=app "
        'msg="user ada said hi \\"there\\"" u=ada q="hi \\"there\\"" n=3 f=1.5 b=true '
        'z=null d="{\\"k\\":[1]}" e="" exception="E\\nF"\n'
    )


LOGFMT_VALUES = [
    (1, "1"),
    (-2.5, "-2.5"),
    (True, "true"),
    (None, "null"),
    ("plain", "plain"),
    ("a b", '"a b"'),
    ("a=b", '"a=b"'),
    ("back\\slash", '"back\\\\slash"'),
    ("\x1b[31m", '"\\x1b[31m"'),
    ("\u2028", '"\\u2028"'),
    (Level.ERROR, "40"),
    (10**5000, '"<unrenderable int>"'),
    (BadStr(), '"<unrenderable BadStr>"'),
    (float("nan"), "nan"),
    ([1, "a b"], '"[1,\\"a b\\"]"'),
]


@pytest.mark.parametrize(("value", "expected"), LOGFMT_VALUES, ids=lambda _: "")
def test_logfmt_values(value: object, expected: str) -> None:
    """Values are bare when safe, else quoted with escapes; odd values never raise."""
    assert logfmt_value(value) == expected


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("user", "user"),
        ("http.method", "http.method"),
        ("a b", "a_b"),
        ("", "_"),
        ("ts", "_ts"),
        ("msg", "_msg"),
        ("level", "_level"),
        ("é", "_"),
        ("a=b", "a_b"),
    ],
)
def test_logfmt_keys(name: str, key: str) -> None:
    """Keys keep [A-Za-z0-9_.-/]; fixed keys used as property names get a "_" prefix."""
    assert logfmt_key(name) == key


_LOGFMT_PROPS = st.dictionaries(
    property_names(), st.one_of(nasty_text(), json_values()), max_size=5
).filter(lambda d: len({logfmt_key(k) for k in d}) == len(d))


@given(_LOGFMT_PROPS, nasty_text(), st.one_of(st.none(), nasty_text(20)), nasty_text(10))
def test_logfmt_parses_back(
    props: dict[str, Any], template: str, exception: str | None, logger: str
) -> None:
    """One line per event that a logfmt parser reads back to the right keys and values."""
    e = event(template, Level.DEBUG, exception=exception, logger=logger, **props)
    line = LogfmtFormatter().format_batch([e]).decode("utf-8")
    assert len(line.splitlines()) == 1
    pairs = parse_logfmt(line)
    expected: list[tuple[str, str]] = [("ts", "2023-11-14T22:13:20.123456Z"), ("level", "debug")]
    if logger:
        expected.append(("logger", logger))
    expected.append(("msg", e.rendered))
    expected.extend((logfmt_key(k), _logfmt_text(v)) for k, v in props.items())
    if exception:
        expected.append(("exception", exception))
    assert pairs == expected


def _logfmt_text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


# ---------------------------------------------------------------------------------------------
# csv.


def test_csv_exact() -> None:
    """Columns: timestamp, level, logger, message, template, exception, properties."""
    e = event('say "{w}", ok', Level.ERROR, exception="E\nF", logger="app", w="hi")
    assert make_formatter("csv").format_batch([e]) == (
        b'2023-11-14T22:13:20.123456Z,error,app,"say ""hi"", ok","say ""{w}"", ok",'
        b'E\\nF,"{""w"":""hi""}"\n'
    )


@given(
    st.lists(log_events(values=st.one_of(json_values(), nasty_text())), max_size=3),
    st.sampled_from(["csv", "csv-raw"]),
)
def test_csv_parses_back(events: list[LogEvent], fmt: str) -> None:
    """Each event is one physical line; the csv module reads back every field (``csv``: with
    a ``'`` before each formula-like text cell)."""
    data = make_formatter(fmt).format_batch(events).decode("utf-8")
    assert len(data.splitlines()) == len(events)
    rows = list(csv.reader(io.StringIO(data)))
    assert len(rows) == len(events)

    def cell(text: str) -> str:
        mark = "'" if fmt == "csv" and text.startswith(("=", "+", "-", "@", "\t", "\r")) else ""
        return mark + _clean(escape_control(text))

    for row, e in zip(rows, events, strict=True):
        assert row[1:6] == [
            level_name(e.level),
            cell(e.logger),
            cell(e.rendered),
            cell(e.template),
            cell(e.exception or ""),
        ]
        assert json.loads(row[6]) == {_clean(k): _cleaned(v) for k, v in e.properties.items()}


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _cleaned(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Every format: never raises, one event per line.


FORMATTERS = {name: make_formatter(name) for name in ALL_FORMATS}


@given(st.lists(log_events(values=awkward_values()), min_size=1, max_size=3))
def test_awkward_values_never_raise(events: list[LogEvent]) -> None:
    """Cycles, huge ints, bad __str__, bytes, sets, NaN, lone surrogates: still valid output."""
    for name, fmt in FORMATTERS.items():
        text = fmt.format_batch(events).decode("utf-8")
        if name in ("json", "clef", "clef-rendered"):
            lines = text.splitlines()
            assert len(lines) == len(events)
            for line in lines:
                assert isinstance(json.loads(line), dict)
        elif name != "text":
            assert len(text.splitlines()) == len(events)


@given(e=log_events(values=any_values(), exceptions=False))
def test_every_format_is_one_line_per_event(e: LogEvent) -> None:
    """Without an exception, every format writes exactly one line for one event."""
    for fmt in FORMATTERS.values():
        text = fmt.format_batch([e]).decode("utf-8")
        assert text.endswith("\n")
        assert len(text.splitlines()) == 1


def test_unknown_format() -> None:
    """make_formatter rejects names it does not know."""
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        make_formatter("xml")


# ---------------------------------------------------------------------------------------------
# Per-event isolation: a hostile event costs only itself, in every format.


def _line_records(data: bytes) -> list[str]:
    return data.decode("utf-8").splitlines()


def _text_records(data: bytes) -> list[str]:
    return [line for line in _line_records(data) if not line.startswith("    ")]


def _batch(name: str) -> Callable[[list[LogEvent]], list[str]]:
    """The records a format writes for a batch, as texts (one per event expected)."""
    if name in ALL_FORMATS:
        fmt = make_formatter(name)
        split = _text_records if name == "text" else _line_records
        return lambda events: split(fmt.format_batch(events))
    if name == "syslog":
        syslog = SyslogFormatter(hostname="h", app_name="app", procid=1)
        return lambda events: [syslog.format_event(e).decode("utf-8") for e in events]
    if name == "syslog-udp":
        udp = SyslogFormatter(hostname="h", app_name="app", procid=1, max_bytes=2048)
        return lambda events: [udp.format_event(e).decode("utf-8") for e in events]
    if name == "gelf":
        gelf = GelfEncoder("h", max_bytes=4096)
        return lambda events: [gelf.encode(e).decode("utf-8") for e in events]
    if name == "gelf-tcp":
        gelf_tcp = GelfEncoder("h")
        return lambda events: [gelf_tcp.json(e).decode("utf-8") for e in events]
    if name == "loki":
        clef_line = ClefFormatter().format_event

        def loki(events: list[LogEvent]) -> list[str]:
            body = json.loads(loki_push(events, ["a", "app"], lambda e: clef_line(e).decode()))
            return [line for stream in body["streams"] for _ts, line in stream["values"]]

        return loki
    assert name == "elasticsearch"
    bulk = BulkEncoder("logs-%Y.%m")  # NDJSON: lines end at "\n" only
    return lambda events: bulk.encode_batch(events).decode("utf-8").split("\n")[1:-1:2]


ISOLATED_FORMATS = (*ALL_FORMATS, "syslog", "syslog-udp", "gelf", "gelf-tcp", "loki")
ISOLATED_FORMATS += ("elasticsearch",)


@st.composite
def _mixed_batches(draw: st.DrawFn) -> tuple[list[LogEvent], set[int]]:
    """Good events (marker ``good<i>z``) with hostile ones (``bad<i>z``) at random places.

    The hostile events' names include CLEF's own (``@t``, ``@mt``, ``trace_id``), so both the
    batch path and the exact path of ``clef`` meet them."""
    goods = draw(st.integers(1, 8))
    bads = draw(st.integers(1, 3))
    places = draw(st.permutations(range(goods + bads)))
    hostile = set(places[:bads])
    events = []
    for i in range(goods + bads):
        if i in hostile:
            events.append(draw(hostile_events(f"bad{i}z")))
        else:
            value = draw(st.one_of(json_values(), nasty_text(10)))
            # (every third with a trace id: CLEF's exact path)
            extra = {"trace_id": i} if i % 3 == 0 else {}
            events.append(event(f"good{i}z {{a}}", logger="app", a=value, n=i, **extra))
    return events, hostile


WRITERS = {name: _batch(name) for name in ISOLATED_FORMATS}


@pytest.mark.slow
@settings(max_examples=60)
@given(batch=_mixed_batches())
def test_hostile_events_cost_only_themselves(batch: tuple[list[LogEvent], set[int]]) -> None:
    """For every format, a batch with hostile events at random places writes one record per
    event: each good event exactly once and exactly as it would be written alone, each
    hostile one once (formatted, or as its stand-in)."""
    events, hostile = batch
    for name, write in WRITERS.items():
        records = write(events)
        assert len(records) == len(events), name
        for i, e in enumerate(events):
            marker = f"{'bad' if i in hostile else 'good'}{i}z"
            [record] = [r for r in records if marker in r]
            if name != "loki":  # (Loki groups the events by stream)
                assert record == records[i], name
            if i not in hostile:
                assert "format_error" not in record, name
                assert write([e]) == [record], name


def test_a_hostile_str_is_written_as_its_text() -> None:
    """A ``str`` subclass whose methods raise is written as its text (never through its own
    ``__format__``/``__str__``) in every format that writes values as text."""
    e = event("v {a}", logger="app", a="ok", b=HostileStr("sneaky value"))
    for name in ("logfmt", "json", "clef", "csv"):
        assert "sneaky value" in _batch(name)([e])[0]
    assert 'b="sneaky value"' in _batch("syslog")([e])[0]
    assert json.loads(_batch("gelf")([e])[0])["_b"] == "sneaky value"


def test_stand_in_record_carries_template_level_time_and_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What cannot be formatted at all becomes a stand-in record: template, level,
    timestamp, logger and the error, in the format's own syntax; the events around it are
    written as they are."""

    class Exploding(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError("cannot list")

    e = LogEvent(TS, Level.WARNING, "user {id} failed", Exploding(id=1), None, "app", "")
    good = event("fine", logger="app")
    first, line, last = _batch("logfmt")([good, e, good])
    assert first == last == _batch("logfmt")([good])[0]
    pairs = dict(parse_logfmt(line + "\n"))
    assert pairs["format_error"] == "RuntimeError: cannot list"
    assert (pairs["ts"], pairs["level"], pairs["logger"]) == (
        "2023-11-14T22:13:20.123456Z",
        "warning",
        "app",
    )
    assert pairs["msg"] == "user {id} failed"
    [message] = _batch("syslog")([e])
    assert message.startswith("<12>1 2023-11-14T22:13:20.123456Z h app 1 app ")
    assert 'format_error="RuntimeError: cannot list"] user {id} failed' in message
    assert json.loads(_batch("gelf")([e])[0])["_format_error"] == "RuntimeError: cannot list"

    real = JsonFormatter.to_dict

    def flaky(self: JsonFormatter, event: LogEvent) -> dict[str, Any]:
        if "id" in event.properties:
            raise MemoryError("no room")
        return real(self, event)

    monkeypatch.setattr(JsonFormatter, "to_dict", flaky)
    lines = JsonFormatter().format_batch([good, e, good]).decode().splitlines()
    assert [json.loads(x)["template"] for x in lines] == ["fine", "user {id} failed", "fine"]
    obj = json.loads(lines[1])
    assert obj["properties"] == {"format_error": "MemoryError: no room"}
    assert (obj["level"], obj["timestamp"]) == ("warning", "2023-11-14T22:13:20.123456Z")


# ---------------------------------------------------------------------------------------------
# Output safe for its reader: formula cells, bidi and zero-width characters.


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_neutralises_formula_cells(first: str) -> None:
    """A text cell starting like a formula gets a ``'`` in front (``csv``), not in
    ``csv-raw``; the other cells are untouched."""
    e = event(first + "HYPERLINK({url})", logger=first + "x", url="http://e.test")
    [row] = csv.reader(io.StringIO(make_formatter("csv").format_batch([e]).decode()))
    shown = escape_control(first)
    assert row[2] == "'" + shown + "x"
    assert row[3] == "'" + shown + "HYPERLINK(http://e.test)"
    assert row[4] == "'" + shown + "HYPERLINK({url})"
    assert row[0][0].isdigit() and row[1] == "info"
    [raw] = csv.reader(io.StringIO(make_formatter("csv-raw").format_batch([e]).decode()))
    assert raw[3] == shown + "HYPERLINK(http://e.test)"


def test_csv_keeps_ordinary_cells() -> None:
    """Cells that do not start like a formula are written as they are."""
    e = event("a=b -c", logger="app.db")
    [row] = csv.reader(io.StringIO(make_formatter("csv").format_batch([e]).decode()))
    assert row[2:5] == ["app.db", "a=b -c", "a=b -c"]


INVISIBLE = [*map(chr, range(0x200B, 0x2010)), *map(chr, range(0x202A, 0x202F)), "\u2060"]
INVISIBLE += [*map(chr, range(0x2066, 0x206A)), "\ufeff"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_bidi_and_zero_width_characters_are_escaped(char: str) -> None:
    """Every line format writes bidi controls and zero-width characters as ``\\uXXXX``
    (text, logfmt, csv: as text; the JSON formats: as JSON escapes), wherever they come from
    (message, values, names, logger, exception)."""
    escaped = f"\\u{ord(char):04x}"
    e = event(
        f"pay {{amount}} to{char}",
        exception=f"Error{char}",
        logger=f"app{char}",
        amount=f"10{char}0",
        **{f"k{char}": 1},
    )
    for name in ALL_FORMATS:
        fmt = make_formatter(name, output_template="{Logger} {Message} {Properties}{NewLine}")
        text = fmt.format_batch([e]).decode("utf-8")
        assert char not in text, name
        assert escaped in text, name
    assert escape_control(f"a{char}b") == f"a{escaped}b"


def test_escape_control_returns_an_exact_str() -> None:
    """escape_control never hands a str subclass on."""
    assert type(escape_control(HostileStr("x"))) is str
    assert escape_control(HostileStr("a\nb")) == "a\\nb"


@pytest.mark.parametrize("fmt", ALL_FORMATS)
async def test_file_sink_writes_the_good_events_around_hostile_ones(
    tmp_path: pathlib.Path, fmt: str
) -> None:
    """Through a file sink: hostile values among good events (four of them, which used to
    mark a logfmt sink dead) cost nothing: every event is one line, ``written`` counts them
    all, nothing failed, no restart."""
    path = tmp_path / f"app.{fmt}"
    sink = FileSink(name="f", path=str(path), format=fmt, batch=BatchConfig(max_events=1000))
    config = SupervisorConfig(sinks=[sink], self_log="off")
    async with logactors.open_logger(config) as log:
        for i in range(300):
            value: object = HostileStr("x") if i % 75 == 0 else i
            log.info(f"ev{i}z {{v}}", v=value)
        await log.flush()
        metrics = log.metrics().sinks["f"]
    lines = path.read_text("utf-8").splitlines()
    assert len(lines) == 300
    assert [re.findall(r"ev\d+z", line)[0] for line in lines] == [f"ev{i}z" for i in range(300)]
    assert (metrics.written, metrics.failed, metrics.restarts, metrics.dead) == (300, 0, 0, False)


def test_formatting_errors_are_reported_once_per_cause(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Each kind of formatting error is reported once per format (stdlib logger
    ``logactors.formatting``, which the self-log receives); every occurrence is a stand-in."""
    monkeypatch.setattr(_isolate, "_reported", set())

    class Exploding(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError("cannot list")

    bad = LogEvent(TS, Level.INFO, "bad", Exploding(a=1), None, "", "")
    with caplog.at_level(logging.WARNING, logger="logactors.formatting"):
        lines = _batch("logfmt")([bad, event("ok"), bad, bad])
        _batch("syslog")([bad, bad])
    assert sum("format_error" in line for line in lines) == 3
    reports = [r.getMessage() for r in caplog.records if r.name == "logactors.formatting"]
    assert len(reports) == 2
    assert reports[0].startswith("logfmt: an event could not be formatted (RuntimeError: cannot")
    assert reports[1].startswith("syslog: an event could not be formatted")


@pytest.mark.parametrize("rendered", [False, True])
def test_clef_dict_never_raises(rendered: bool) -> None:
    """clef_dict (which the HTTP sink's CLEF lines are built from) gives the stand-in's object
    for an event it cannot format."""

    class Exploding(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError("cannot list")

    bad = LogEvent(TS, Level.ERROR, "user {id} failed", Exploding(id=1), None, "app", "")
    obj = clef_dict(bad, IsoUtc(7), rendered=rendered)
    assert obj["format_error"] == "RuntimeError: cannot list"
    assert (obj["@t"], obj["@l"], obj["SourceContext"]) == (
        "2023-11-14T22:13:20.1234567Z",
        "Error",
        "app",
    )
    assert obj["@m" if rendered else "@mt"] == "user {id} failed"


#: values that put a json object's start (``},{"timestamp":``) inside a batch's encoding
_JSON_LOOKALIKES: list[dict[Any, Any]] = [
    {"items": [{"a": 1}, {"timestamp": 2}]},
    {"nested": {"x": [{"timestamp": "t", "level": "info"}, {"timestamp": 3}]}},
    {"text": '},{"timestamp":'},
    {"obj": object()},
    {"big": 2**70},
    {1: "one"},
]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            _plain_events,
            st.builds(
                lambda e, props: e._replace(properties={**e.properties, **props}),
                _plain_events,
                st.sampled_from(_JSON_LOOKALIKES),
            ),
        ),
        max_size=6,
    )
)
def test_json_batches_are_the_lines_of_their_events(events: list[LogEvent]) -> None:
    """The json batch path (one encoding, cut at each object's start) writes exactly the
    lines of the events written one by one, also when a value holds an object's start."""
    fmt = JsonFormatter()
    assert fmt.format_batch(events) == b"".join(fmt.format_event(e) for e in events)
