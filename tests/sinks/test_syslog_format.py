"""The syslog format: RFC 5424 header, structured data, BOM, truncation, RFC 3164, framing."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logactors import Level, LogEvent
from logactors.formatting.syslog import (
    SD_ID,
    SyslogFormatter,
    octet_frame,
    parse_facility,
    sd_element,
    sd_name,
    sd_value,
    syslog_severity,
    truncate_utf8,
)

TS = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456Z
BOM = "\ufeff"
NAME_CHARS = {chr(c) for c in range(33, 127)} - set('= ]"')


def event(
    template: str = "hello",
    level: Level = Level.INFO,
    logger: str = "",
    exception: str | None = None,
    **props: Any,
) -> LogEvent:
    return LogEvent(TS, level, template, props, exception, logger, "task")


# -- a tiny RFC 5424 parser, independent of the formatter ------------------------------------------

HEADER = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) "
    r"(?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) (?P<rest>.*)$",
    re.DOTALL,
)


def valid_sd_name(name: str) -> bool:
    return 1 <= len(name) <= 32 and set(name) <= NAME_CHARS


def parse_sd(text: str) -> tuple[list[tuple[str, list[tuple[str, str]]]], str]:
    """Parse STRUCTURED-DATA at the start of ``text``; returns the elements and what follows.

    Raises ValueError/IndexError on anything RFC 5424 does not allow.
    """
    if text.startswith("-"):
        return [], text[1:]
    elements: list[tuple[str, list[tuple[str, str]]]] = []
    i = 0
    if not text.startswith("["):
        raise ValueError("no structured data")
    while i < len(text) and text[i] == "[":
        j = i + 1
        while text[j] not in " ]":
            j += 1
        sd_id = text[i + 1 : j]
        if not valid_sd_name(sd_id):
            raise ValueError(f"bad SD-ID {sd_id!r}")
        i = j
        params: list[tuple[str, str]] = []
        while text[i] == " ":
            j = text.index("=", i)
            name = text[i + 1 : j]
            if not valid_sd_name(name):
                raise ValueError(f"bad PARAM-NAME {name!r}")
            if text[j + 1] != '"':
                raise ValueError("PARAM-VALUE not quoted")
            i = j + 2
            value: list[str] = []
            while True:
                c = text[i]
                if c == "\\":  # senders MUST escape a backslash: nothing else may follow one
                    if text[i + 1] not in '"\\]':
                        raise ValueError("unescaped backslash in PARAM-VALUE")
                    value.append(text[i + 1])
                    i += 2
                elif c == '"':
                    i += 1
                    break
                elif c == "]":
                    raise ValueError("unescaped ] in PARAM-VALUE")
                else:
                    value.append(c)
                    i += 1
            params.append((name, "".join(value)))
        if text[i] != "]":
            raise ValueError(f"expected ] at {i}")
        i += 1
        elements.append((sd_id, params))
    return elements, text[i:]


def parse_5424(data: bytes) -> dict[str, Any]:
    text = data.decode("utf-8")
    match = HEADER.match(text)
    assert match, text
    elements, rest = parse_sd(match["rest"])
    if rest:
        assert rest.startswith(" ")
        rest = rest[1:]
    return {**match.groupdict(), "sd": elements, "msg": rest}


# -- header ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        (Level.CRITICAL, 2),
        (Level.ERROR, 3),
        (Level.WARNING, 4),
        (Level.INFO, 6),
        (Level.DEBUG, 7),
        (Level.TRACE, 7),
    ],
)
def test_pri_is_facility_times_eight_plus_severity(level: Level, severity: int) -> None:
    """PRI = facility * 8 + severity, with the documented level → severity map."""
    assert syslog_severity(level) == severity
    fmt = SyslogFormatter(facility=parse_facility("local3"), app_name="a", hostname="h")
    assert parse_5424(fmt.format_event(event(level=level)))["pri"] == str(19 * 8 + severity)


def test_header_fields() -> None:
    """Timestamp in UTC with microseconds, hostname, app-name, procid, msgid = logger name."""
    fmt = SyslogFormatter(facility=1, app_name="shop", hostname="web-1", procid=4242)
    parsed = parse_5424(fmt.format_event(event(logger="app.db")))
    assert parsed["ts"] == "2023-11-14T22:13:20.123456Z"
    assert (parsed["host"], parsed["app"], parsed["procid"], parsed["msgid"]) == (
        "web-1",
        "shop",
        "4242",
        "app.db",
    )
    assert parse_5424(fmt.format_event(event()))["msgid"] == "-"


def test_header_fields_are_sanitized_and_bounded() -> None:
    """Spaces and non-ASCII in header fields cannot break the header; lengths are capped."""
    fmt = SyslogFormatter(facility=1, app_name="my app é" + "x" * 60, hostname="host name")
    parsed = parse_5424(fmt.format_event(event(logger="a logger " + "y" * 40)))
    assert parsed["host"] == "host_name"
    assert parsed["app"].startswith("my_app__") and len(parsed["app"]) == 48
    assert parsed["msgid"].startswith("a_logger_") and len(parsed["msgid"]) == 32


@pytest.mark.parametrize(
    ("name", "number"),
    [("kern", 0), ("USER", 1), ("daemon", 3), ("local0", 16), ("local7", 23), (5, 5), ("12", 12)],
)
def test_parse_facility(name: object, number: int) -> None:
    """Facility names (case-insensitive) and numbers."""
    assert parse_facility(name) == number


@pytest.mark.parametrize("bad", ["local8", "nope", 24, -1, True, None])
def test_parse_facility_rejects(bad: object) -> None:
    """Unknown facilities are errors."""
    with pytest.raises(ValueError, match="facility"):
        parse_facility(bad)


# -- message and BOM ------------------------------------------------------------------------------


def test_bom_only_for_non_ascii_message() -> None:
    """MSG starts with the UTF-8 BOM exactly when it holds non-ASCII text (RFC 5424 §6.4)."""
    fmt = SyslogFormatter(app_name="a", hostname="h")
    ascii_msg = parse_5424(fmt.format_event(event("plain text")))["msg"]
    assert ascii_msg == "plain text"
    utf8 = parse_5424(fmt.format_event(event("héllo {who}", who="wörld")))["msg"]
    assert utf8 == BOM + "héllo wörld"


def test_exception_and_newlines_are_kept_in_msg() -> None:
    """The exception follows the message after a newline; newlines are not escaped."""
    fmt = SyslogFormatter(app_name="a", hostname="h")
    data = fmt.format_event(
        event(
            "two\nlines",
            level=Level.ERROR,
            exception="Traceback (most recent call last):\nValueError: x",
        )
    )
    assert parse_5424(data)["msg"] == (
        "two\nlines\nTraceback (most recent call last):\nValueError: x"
    )


def test_no_properties_is_nil_structured_data() -> None:
    """Without properties STRUCTURED-DATA is ``-``."""
    data = SyslogFormatter(app_name="a", hostname="h").format_event(event())
    assert b" - hello" in data
    assert parse_5424(data)["sd"] == []


# -- structured data ------------------------------------------------------------------------------


def test_sd_escapes_quote_backslash_and_bracket() -> None:
    """``"``, ``\\`` and ``]`` are escaped in PARAM-VALUE; the element parses back."""
    element = sd_element({"a": 'say "hi"', "b": "back\\slash", "c": "x]y", "d": "[z"})
    assert element == (f'[{SD_ID} a="say \\"hi\\"" b="back\\\\slash" c="x\\]y" d="[z"]')
    assert parse_sd(element) == (
        [(SD_ID, [("a", 'say "hi"'), ("b", "back\\slash"), ("c", "x]y"), ("d", "[z")])],
        "",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("user id", "user_id"),
        ("a=b", "a_b"),
        ('q"', "q_"),
        ("x]", "x_"),
        ("", "_"),
        ("naïve", "na_ve"),
        ("n" * 40, "n" * 32),
        ("tab\there", "tab_here"),
        ("ok.name-1@x", "ok.name-1@x"),
    ],
)
def test_sd_names_are_sanitized(name: str, expected: str) -> None:
    """PARAM-NAMEs: 1-32 printable US-ASCII, none of ``=``, space, ``]``, ``"``."""
    assert sd_name(name) == expected


def test_colliding_names_get_suffixes() -> None:
    """Two properties that sanitize to the same name both survive, with distinct names."""
    elements, _ = parse_sd(sd_element({"a b": 1, "a=b": 2, "a_b": 3}))
    assert elements[0][1] == [("a_b", "1"), ("a_b_2", "2"), ("a_b_3", "3")]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("s", "s"),
        (3, "3"),
        (2.5, "2.5"),
        (True, "true"),
        (None, "null"),
        ({"k": [1, "x"]}, '{"k":[1,"x"]}'),
        ((1, 2), "[1,2]"),
    ],
)
def test_sd_values(value: object, text: str) -> None:
    """Strings as they are, scalars in their usual spelling, containers as JSON."""
    assert sd_value(value) == text


names = st.text(min_size=0, max_size=40)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
values = st.one_of(
    texts,
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.lists(texts, max_size=3),
)


@given(st.dictionaries(names, values, max_size=8), texts)
def test_structured_data_always_parses_back(props: dict[str, Any], message: str) -> None:
    """For any property names and values the message is valid RFC 5424: every SD-PARAM has a
    valid name, names are unique, and each value parses back to what was sent."""
    fmt = SyslogFormatter(app_name="app", hostname="host")
    source = LogEvent(TS, Level.INFO, message, props)
    parsed = parse_5424(fmt.format_event(source))
    assert parsed["msg"] == ("" if source.rendered.isascii() else BOM) + source.rendered
    if not props:
        assert parsed["sd"] == []
        return
    [(sd_id, params)] = parsed["sd"]
    assert sd_id == SD_ID
    assert len(params) == len(props)
    assert len({name for name, _ in params}) == len(params)
    for (name, text), (key, value) in zip(params, props.items(), strict=True):
        assert valid_sd_name(name)
        suffixed = re.fullmatch(r"(.*)_([0-9]+)", name)
        assert name == sd_name(key) or (
            suffixed is not None and sd_name(key).startswith(suffixed[1])
        )
        assert text == sd_value(value)


surrogate_texts = st.text(
    st.one_of(st.characters(categories=["Cs"]), st.characters()), min_size=1, max_size=30
)


@given(st.dictionaries(surrogate_texts, surrogate_texts, min_size=1, max_size=5))
def test_lone_surrogates_never_break_the_message(props: dict[str, str]) -> None:
    """Names and values with lone surrogates still give valid UTF-8 and parsable structured
    data with one SD-PARAM per property."""
    data = SyslogFormatter(app_name="a", hostname="h").format_event(
        LogEvent(TS, Level.INFO, "m", props)
    )
    [(_, params)] = parse_5424(data)["sd"]  # decodes as UTF-8 and parses
    assert len(params) == len(props)


# -- truncation -----------------------------------------------------------------------------------


def test_truncate_utf8_never_splits_a_character() -> None:
    """Cuts land on character boundaries, at or below the limit."""
    data = "aé€😀".encode()  # 1 + 2 + 3 + 4 bytes
    for limit in range(len(data) + 2):
        cut = truncate_utf8(data, limit)
        assert len(cut) <= limit
        assert data.startswith(cut)
        cut.decode("utf-8")  # no partial character
    assert truncate_utf8(data, 4) == "aé".encode()


def test_datagram_is_truncated_to_max_bytes_on_a_character_boundary() -> None:
    """A long message is cut to max_bytes and still decodes and parses."""
    fmt = SyslogFormatter(app_name="a", hostname="h", max_bytes=480)
    data = fmt.format_event(event("€" * 400, user="bob"))
    assert len(data) <= 480
    parsed = parse_5424(data)
    assert parsed["sd"] == [(SD_ID, [("user", "bob")])]
    assert parsed["msg"].startswith(BOM + "€€€")


def test_huge_structured_data_is_trimmed_by_whole_params() -> None:
    """When properties alone exceed max_bytes, SD-PARAMs that do not fit are left out whole
    (smaller later ones are kept), so the element stays well-formed and the message keeps
    some room."""
    fmt = SyslogFormatter(app_name="a", hostname="h", max_bytes=480)
    props = {f"p{i}": "v" * 50 for i in range(20)}
    data = fmt.format_event(event("the message", big="x" * 1000, **props, last="small"))
    assert len(data) <= 480
    parsed = parse_5424(data)
    [(_, params)] = parsed["sd"]
    assert params[-1] == ("last", "small")
    kept = params[:-1]
    assert 0 < len(kept) < 20
    assert kept == [(f"p{i}", "v" * 50) for i in range(len(kept))]
    assert parsed["msg"] == "the message"


def test_tcp_messages_are_not_truncated() -> None:
    """Without max_bytes (TCP) nothing is cut."""
    data = SyslogFormatter(app_name="a", hostname="h").format_event(event("x" * 10_000))
    assert parse_5424(data)["msg"] == "x" * 10_000


def test_octet_counting_frame() -> None:
    """RFC 6587: the byte length, a space, the message."""
    assert octet_frame("é".encode()) == b"2 \xc3\xa9"
    assert octet_frame(b"<14>1 - - - - - -") == b"17 <14>1 - - - - - -"


# -- RFC 3164 -------------------------------------------------------------------------------------


def test_rfc3164_format() -> None:
    """``<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`` in local time, English month names."""
    fmt = SyslogFormatter(facility=3, app_name="my app", hostname="box", procid=77, rfc3164=True)
    data = fmt.format_event(event("hi {n}", level=Level.WARNING, n=1)).decode()
    t = time.localtime(TS // 1_000_000_000)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert data == (
        f"<{3 * 8 + 4}>{months[t.tm_mon - 1]} {t.tm_mday:2d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} box my_app[77]: hi 1"
    )
