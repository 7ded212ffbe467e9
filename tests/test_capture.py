"""Capture at the call: values are copied (or stringified) on the caller's thread, with bounds,
destructuring, redaction and stdlib habits; one builder behind every way into the logger."""

from __future__ import annotations

import collections
import copy
import dataclasses
import datetime
import decimal
import enum
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logactors
from logactors import CaptureConfig, RedactConfig, SupervisorConfig
from logactors._capture import MAX_DEPTH_MARK, MORE_KEY, Capture
from logactors._events import LogEvent
from logactors._json import dumps
from logactors.formatting import make_formatter
from logactors.formatting.gelf import gelf_dict
from logactors.formatting.otlp import log_record
from logactors.testing import capture

from .helpers import built
from .strategies import json_values

LINE_FORMATS = ("text", "json", "clef", "clef-rendered", "logfmt", "csv")


def outputs(event: LogEvent) -> list[bytes]:
    """The event in every format (line formats, GELF and OTLP records)."""
    out = [make_formatter(name).format_batch([event]) for name in LINE_FORMATS]
    out.append(dumps(gelf_dict(event, "host")))
    out.append(dumps(log_record(event, observed_ns=1)))
    return out


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: list[int]


@attrs.define
class Account:
    name: str
    password: str


Pair = collections.namedtuple("Pair", "left right")


class User:
    def __init__(self) -> None:
        self.name = "ada"
        self.password_hash = "$2b$secret"

    def __str__(self) -> str:
        return "User(ada)"


# -- the rules ----------------------------------------------------------------------------------


async def test_scalars_kept_containers_copied_objects_stringified() -> None:
    """The capture table: scalars as they are, containers copied, objects as ``str()``."""
    when = datetime.datetime(2024, 1, 2, 3, 4, 5)
    ident = uuid.UUID(int=7)
    values: dict[str, Any] = {
        "s": "x",
        "i": 1,
        "f": 1.5,
        "b": True,
        "n": None,
        "dt": when,
        "d": when.date(),
        "t": when.time(),
        "u": ident,
        "dec": decimal.Decimal("1.10"),
        "e": Colour.RED,
        "raw": b"\x00\x01",
        "lst": [1, [2]],
        "tup": (1, "a"),
        "st": {1, 2},
        "fs": frozenset({"a"}),
        "dct": {"k": {"j": 1}},
        "obj": User(),
    }
    async with capture() as cap:
        cap.log.info("values", **values)
    props = cap.events[0].properties
    for key in ("s", "i", "f", "b", "n", "dt", "d", "t", "u", "dec", "e", "raw"):
        assert props[key] == values[key] and type(props[key]) is type(values[key]), key
    assert props["lst"] == [1, [2]] and props["lst"] is not values["lst"]
    assert props["lst"][1] is not values["lst"][1]
    assert props["tup"] == (1, "a") and type(props["tup"]) is tuple
    assert props["st"] == {1, 2} and props["st"] is not values["st"]
    assert props["fs"] == frozenset({"a"})
    assert props["dct"] == {"k": {"j": 1}} and props["dct"]["k"] is not values["dct"]["k"]
    assert props["obj"] == "User(ada)"


async def test_no_attribute_dump_in_any_format() -> None:
    """A plain object is written as its string in every format, never by attribute."""
    async with capture() as cap:
        cap.log.info("user {user}", user=User())
    for out in outputs(cap.events[0]):
        assert b"password_hash" not in out and b"$2b$" not in out
        assert b"User(ada)" in out


def test_json_default_hook_writes_stray_objects_as_strings() -> None:
    """An event built by hand with a raw object: the JSON hook writes ``str()``."""
    assert orjson.loads(dumps({"u": User()})) == {"u": "User(ada)"}
    assert orjson.loads(dumps({"a": Account("x", "pw")})) == {
        "a": "Account(name='x', password='pw')"
    }


async def test_destructuring_at_the_call() -> None:
    """``{@x}`` and ``@``-names destructure dataclasses, attrs, named tuples and mappings."""
    point = Point(1, [2])
    async with capture() as cap:
        cap.log.info("at {@p}", p=point)
        cap.log.info("pair", **{"@pair": Pair(1, Point(3, [4]))})
        cap.log.info("acct {@a}", a=Account("ada", "hunter2"))
        cap.log.info("map {@m}", m=collections.OrderedDict(a=1))
        cap.log.info("plain {p}", p=point)
        point.y.append(3)
    at, pair, acct, mapping, plain = (e.properties for e in cap.events)
    assert at["p"] == {"x": 1, "y": [2]}
    assert pair["pair"] == {"left": 1, "right": {"x": 3, "y": [4]}}
    assert acct["a"] == {"name": "ada", "password": "***"}
    assert mapping["m"] == {"a": 1}
    assert plain["p"] == "Point(x=1, y=[2])"


async def test_pydantic_models_destructure() -> None:
    """Pydantic models (when installed) destructure to their fields."""
    pydantic = pytest.importorskip("pydantic")

    class Model(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        id: int
        tags: list[str]

    async with capture() as cap:
        cap.log.info("model {@m}", m=Model(id=1, tags=["a"]))
    assert cap.events[0].properties["m"] == {"id": 1, "tags": ["a"]}


async def test_stringify_and_bounds_are_marked() -> None:
    """``{$x}`` stringifies; depth and length bounds leave visible marks."""
    config = SupervisorConfig(sinks=(), capture=CaptureConfig(max_depth=2, max_items=3))
    deep: Any = [[[["bottom"]]]]
    async with capture(config=config) as cap:
        cap.log.info("{$v}", v=[1, 2])
        cap.log.info("long", items=list(range(10)), table={str(i): i for i in range(5)})
        cap.log.info("deep", deep=deep)
    stringified, long, nested = (e.properties for e in cap.events)
    assert stringified["v"] == "[1, 2]"
    assert long["items"] == [0, 1, 2, "…(+7 more)"]
    assert long["table"] == {"0": 0, "1": 1, "2": 2, MORE_KEY: "…(+2 more)"}
    assert nested["deep"] == [[MAX_DEPTH_MARK]]


async def test_large_str_template_and_exception_are_cut_with_a_marker() -> None:
    """An object's ``str()``, the template and the exception text are cut at the call."""

    class Huge:
        def __str__(self) -> str:
            return "x" * 100_000

    config = SupervisorConfig(sinks=(), max_event_bytes=4096)
    async with capture(config=config) as cap:
        cap.log.info("obj {o}", o=Huge())
        cap.log.info("t" * 100_000)
        try:
            raise ValueError("e" * 100_000)
        except ValueError:
            cap.log.exception("failed")
    obj, template, failed = cap.events
    assert len(obj.properties["o"]) < 4200 and "…[truncated" in obj.properties["o"]
    assert len(template.template) < 4200 and "…[truncated" in template.template
    assert failed.exception is not None
    assert len(failed.exception) < 4200 and "…[truncated" in failed.exception


async def test_hostile_values_never_raise() -> None:
    """A ``str()`` that raises and a ``str`` subclass with a bad ``__format__``."""

    class Bad:
        def __str__(self) -> str:
            raise RuntimeError("no")

    class Sneaky(str):
        def __format__(self, spec: str) -> str:
            raise RuntimeError("no")

    async with capture() as cap:
        cap.log.info("{a} {b}", a=Bad(), b=Sneaky("ok"))
    props = cap.events[0].properties
    assert props["a"] == "<unrenderable Bad>"
    assert props["b"] == "ok" and type(props["b"]) is str
    assert cap.events[0].rendered == "<unrenderable Bad> ok"


# -- capture time --------------------------------------------------------------------------------


def _mutate(value: Any) -> None:
    """Change every mutable part of ``value`` in place."""
    if isinstance(value, list):
        for item in value:
            _mutate(item)
        value.append("mutated")
    elif isinstance(value, dict):
        for item in value.values():
            _mutate(item)
        value["mutated"] = 1
    elif isinstance(value, set):
        value.add("mutated")
    elif isinstance(value, tuple):
        for item in value:
            _mutate(item)


nested_values = st.recursive(
    json_values(4),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.sets(st.integers(), max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "token"]), inner, max_size=3),
    ),
    max_leaves=10,
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_values, st.sampled_from(["v {v}", "v {@v}", "v"]))
def test_mutation_after_the_call_changes_nothing(value: Any, template: str) -> None:
    """Property: mutating the values after the call leaves every format's output equal to the
    output for a deep copy taken before the call."""
    snapshot = copy.deepcopy(value)

    async def main() -> tuple[LogEvent, LogEvent]:
        async with capture() as cap:
            cap.log.info(template, v=value, other=[value])
            _mutate(value)
            cap.log.info(template, v=snapshot, other=[snapshot])
        return cap.events[0], cap.events[1]

    logged, reference = trio.run(main)
    reference = reference._replace(timestamp_ns=logged.timestamp_ns)
    assert outputs(logged) == outputs(reference)


# -- one builder ---------------------------------------------------------------------------------

plain_scalars = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["a b", "x@y", "postgres://u:pw@h/db", "Bearer abcdefgh1"]),
)
call_values = st.recursive(
    plain_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["k", "pwd"]), inner)
    ),
    max_leaves=6,
)
call_props = st.dictionaries(
    st.sampled_from(["user", "n", "password", "Api-Key", "items"]), call_values, max_size=3
)


def _key(event: LogEvent) -> tuple[Any, ...]:
    return (event.level, event.template, dict(event.properties), event.exception, event.logger)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call_props, st.sampled_from(["hello {user}", "Bearer abcdefgh12 {n}", "plain"]))
def test_fast_path_equals_every_slow_path(props: dict[str, Any], template: str) -> None:
    """Property: the same call through the plain call (the fast path once the names are
    known), ``a*``, ``bind``, ``context``, another thread and ``Builder.prepare`` queues
    identical events."""

    async def main() -> list[LogEvent]:
        async with capture() as cap:
            log = cap.log
            log.info(template, **copy.deepcopy(props))  # learns the names
            log.info(template, **copy.deepcopy(props))  # the fast path where it applies
            await log.ainfo(template, **copy.deepcopy(props))
            log.bind(**copy.deepcopy(props)).info(template)
            with log.context(**copy.deepcopy(props)):
                log.info(template)
            await trio.to_thread.run_sync(lambda: log.info(template, **copy.deepcopy(props)))
            await log.flush()
            return [*cap.events, built(log, template, (), copy.deepcopy(props))[0]]

    events = trio.run(main)
    first = _key(events[0])
    for event in events[1:]:
        assert _key(event) == first


async def test_bound_values_captured_once_at_bind() -> None:
    """``bind`` copies its values when called; later mutation changes nothing."""
    tags = ["a"]
    async with capture() as cap:
        child = cap.log.bind(tags=tags, password="pw")
        tags.append("b")
        child.info("x")
        with cap.log.context(ctx=tags):
            tags.append("c")
            cap.log.info("y")
    first, second = cap.events
    assert first.properties == {"tags": ["a"], "password": "***"}
    assert second.properties == {"ctx": ["a", "b"]}


async def test_child_loggers_keep_what_their_parent_captured() -> None:
    """``bind`` and ``named`` children carry the parent's captured name and properties without
    capturing them again: a masked name stays masked, a bind of a bind merges (the later value
    wins), and the parent keeps its own properties."""
    async with capture() as cap:
        parent = cap.log.named("postgres://u:pw@h/db").bind(a=1, user="ada")
        child = parent.bind(a=2, token="t")
        renamed = child.named("svc")
        parent.info("p")
        child.info("c")
        renamed.info("r")
    p, c, r = cap.events
    assert (p.logger, c.logger, r.logger) == ("postgres://u:***@h/db",) * 2 + ("svc",)
    assert dict(p.properties) == {"a": 1, "user": "ada"}
    assert dict(c.properties) == {"a": 2, "user": "ada", "token": "***"}
    assert dict(r.properties) == dict(c.properties)


async def test_enricher_values_are_captured() -> None:
    """User enrichers' values go through the capture (copied, redacted)."""
    shared = {"k": [1]}
    config = SupervisorConfig(sinks=(), enrichers=(lambda: {"extra": shared, "token": "t"},))
    async with capture(config=config) as cap:
        cap.log.info("x")
        shared["k"].append(2)
    assert cap.events[0].properties == {"extra": {"k": [1]}, "token": "***"}


# -- stdlib habits -------------------------------------------------------------------------------


async def test_stdlib_habits() -> None:
    """printf-style, ``extra=``, ``stack_info=``, ``warn``/``fatal``; unsupported keywords
    produce one self-log line."""
    lines: list[str] = []
    config = SupervisorConfig(sinks=(), self_log=lines.append)
    async with capture(config=config) as cap:
        cap.log.info("x %s and %d", "a", 2)
        cap.log.info("ratio %(r).1f", {"r": 0.25})
        cap.log.info("with {a}", a=1, extra={"b": [2], "a": 0})
        cap.log.info("here", stack_info=True)
        cap.log.warn("w")
        cap.log.fatal("f")
        cap.log.info("one", stacklevel=2)
        cap.log.info("two", stacklevel=2)
    printf, mapping, extra, stack, warn, fatal, one, _ = cap.events
    assert printf.rendered == "x a and 2"
    assert mapping.rendered == "ratio 0.2"
    assert extra.properties == {"b": [2], "a": 1}
    assert stack.exception is not None and stack.exception.startswith("Stack (most recent")
    assert "test_stdlib_habits" in stack.exception
    assert (warn.level, fatal.level) == (logactors.Level.WARNING, logactors.Level.CRITICAL)
    assert "stacklevel" not in one.properties
    assert sum("stacklevel" in line for line in lines) == 1


# -- redaction -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "passWord",
        "PassWord",
        "APIKEY",
        "apikey",
        "accesstoken",
        "refreshtoken",
        "secretkey",
        "sessioncookie",
        "Set-Cookie",
        "private_key",
        "x_auth",
        "credentials",
    ],
)
async def test_compound_secret_names_are_masked(name: str) -> None:
    """Case, separators and compound names are all matched."""
    async with capture() as cap:
        cap.log.info("x", **{name: "s3cret"}, nested={"deeper": [{name: "s3cret"}]})
    props = cap.events[0].properties
    assert props[name] == "***"
    assert props["nested"]["deeper"][0][name] == "***"


async def test_non_secret_names_stay() -> None:
    """Whole words that contain a key but name no secret are kept (documented list)."""
    async with capture() as cap:
        cap.log.info("x", secretary="ada", author="bo", tokenizer="bpe")
    assert cap.events[0].properties == {"secretary": "ada", "author": "bo", "tokenizer": "bpe"}


async def test_no_depth_escape_and_every_place_is_masked() -> None:
    """A secret below the depth bound is cut, never passed through; sets, bytes, names and
    logger names are masked."""
    deep: Any = {"password": "pw"}
    for _ in range(40):
        deep = {"d": deep}
    async with capture() as cap:
        cap.log.named("postgres://u:pw@h/db").info(
            "connect postgres://u:pw@h/db",
            deep=deep,
            urls={"postgres://u:pw@h/a"},
            raw=b"postgres://u:pw@h/b",
            **{"http://a:pw@h": 1},
        )
    event = cap.events[0]
    text = b"".join(outputs(event))
    assert b":pw@" not in text and b"'pw'" not in text and b'"pw"' not in text
    assert event.logger == "postgres://u:***@h/db"
    assert event.properties["urls"] == {"postgres://u:***@h/a"}
    assert event.properties["raw"] == b"postgres://u:***@h/b"
    assert MAX_DEPTH_MARK in repr(event.properties["deep"])


async def test_redaction_can_be_turned_off() -> None:
    """``RedactConfig(enabled=False)`` writes values as they are."""
    config = SupervisorConfig(sinks=(), redact=RedactConfig(enabled=False))
    async with capture(config=config) as cap:
        cap.log.info("x postgres://u:pw@h", password="pw", url="postgres://u:pw@h")
    event = cap.events[0]
    assert event.properties == {"password": "pw", "url": "postgres://u:pw@h"}
    assert event.template == "x postgres://u:pw@h"


async def test_authorization_values_masked_but_prose_kept() -> None:
    """Bearer/Basic credentials are masked; "basic configuration" is prose."""
    async with capture() as cap:
        cap.log.info(
            "h",
            header="Bearer abc.DEF-123",
            other="Basic dXNlcjpwYXNz",
            prose="basic configuration",
        )
    props = cap.events[0].properties
    assert props == {"header": "Bearer ***", "other": "Basic ***", "prose": "basic configuration"}


def _count_prepare(log: logactors.Logger) -> list[int]:
    """A list that grows by one at each ``Builder.prepare`` call of ``log``'s runtime (the
    level methods compiled again around the counting one)."""
    builder = log._rt.builder
    calls: list[int] = []
    prepare = builder.prepare

    def counting(*args: Any) -> Any:
        calls.append(1)
        return prepare(*args)

    builder.prepare = counting  # type: ignore[method-assign]
    log._rt.logger_types.apply(rebuild=True)  # the methods bind prepare when built
    return calls


@pytest.mark.parametrize(
    "enrichers", [("thread", "task"), ("task",), ("thread", "tests.test_capture:_pid")]
)
async def test_enrichers_keep_the_fast_path(enrichers: tuple[str, ...]) -> None:
    """The per-call enrichers are added by the level method's fast case as the builder's
    stage adds them (a call's own value wins): the built-in ones (``thread``, ``task``) from
    a cache, a user enricher's mapping captured at each call. Only the first call, which
    teaches the capture the template and names, takes the builder."""
    config = SupervisorConfig(sinks=(), enrichers=enrichers)
    async with capture(config=config) as cap:
        calls = _count_prepare(cap.log)
        for _ in range(3):
            cap.log.info("hello {user}", user="ada")
        assert len(calls) == 1
        cap.log.info("hello {user}", user="ada", task="mine")
        task = trio.lowlevel.current_task().name
    expected: dict[str, object] = {"user": "ada"}
    if "thread" in enrichers:
        expected["thread"] = "MainThread"
    if "task" in enrichers:
        expected["task"] = task
    if len(enrichers) == 2 and "task" not in enrichers:
        expected["pid"] = 7
    assert [dict(e.properties) for e in cap.events[:3]] == [expected] * 3
    assert cap.events[3].properties["task"] == "mine"


async def test_enrichers_the_capture_gives_one_name_are_captured_together() -> None:
    """A masking pattern that matches both enricher names gives them one name: the builder
    keeps the later value, so such a runtime captures the enrichers together at each call
    (not one by one from the cache), and queues what the builder builds."""
    config = SupervisorConfig(
        sinks=(), enrichers=("thread", "task"), redact=RedactConfig(patterns=("thread|task",))
    )
    async with capture(config=config) as cap:
        assert cap.log._rt.builder.builtin_enrichers is None
        cap.log.info("x {user}", user=1)
        expected, _ = built(
            cap.log, "x {user}", props={"user": 1}, task=trio.lowlevel.current_task().name
        )
    assert dict(cap.events[0].properties) == dict(expected.properties)
    assert len(cap.events[0].properties) == 2


def _pid() -> dict[str, object]:
    return {"pid": 7}


async def test_the_fast_path_is_taken_once_names_are_known() -> None:
    """The property above compares real fast-path events: a call with plain values under
    known names skips ``Builder.prepare``; a string that may hold a credential does not."""
    async with capture() as cap:
        calls = _count_prepare(cap.log)
        for _ in range(3):
            cap.log.info("hello {user}", user="ada", n=1, items={"k": [1, None]})
        assert len(calls) == 1
        cap.log.info("hello {user}", user="mail ada@example.org")  # (no credential shape)
        assert len(calls) == 1
        cap.log.info("hello {user}", user="db postgres://ada:pw@db")
        assert len(calls) == 2
    assert [e.properties["user"] for e in cap.events] == ["ada"] * 3 + [
        "mail ada@example.org",
        "db postgres://ada:***@db",
    ]


async def test_values_kept_as_they_are_take_the_fast_path() -> None:
    """A datetime, a UUID, a Decimal or an Enum member (its class learnt at its first call
    through the builder) is kept as it is by the fast path too: no ``Builder.prepare``."""

    class Mode(enum.Enum):
        FAST = 1

    when = datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC)
    ident = uuid.UUID(int=7)
    async with capture() as cap:
        cap.log.info("at {a} {b} {c} {d}", a=1, b=2, c=3, d=Mode.FAST)  # (template, names, Mode)
        calls = _count_prepare(cap.log)
        for _ in range(2):
            cap.log.info(
                "at {a} {b} {c} {d}", a=when, b=ident, c=decimal.Decimal("1.5"), d=Mode.FAST
            )
        assert len(calls) == 0
    assert dict(cap.events[-1].properties) == {
        "a": when,
        "b": ident,
        "c": decimal.Decimal("1.5"),
        "d": Mode.FAST,
    }


async def test_an_object_written_as_text_takes_the_fast_path() -> None:
    """An object the capture writes as its ``str()`` (its type learnt at its first call
    through the builder) is written so by the fast path too, taken at the call, cut and
    masked; under a ``{@x}`` hole it still takes the builder, which destructures it."""

    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    class Url:
        def __str__(self) -> str:
            return "https://u:pw@h/x"

    async with capture() as cap:
        cap.log.info("at {p} {u}", p=Point(1, 2), u=Url())  # (template, names, the types)
        calls = _count_prepare(cap.log)
        point = Point(3, 4)
        cap.log.info("at {p} {u}", p=point, u=Url())
        point.x = 99
        assert len(calls) == 0
        for _ in range(2):  # (the first call teaches the capture the template)
            cap.log.info("at {@p} {u}", p=Point(5, 6), u=Url())
        assert len(calls) == 2
    assert [dict(e.properties) for e in cap.events[1:]] == [
        {"p": str(Point(3, 4)), "u": "https://u:***@h/x"},
        {"p": {"x": 5, "y": 6}, "u": "https://u:***@h/x"},
        {"p": {"x": 5, "y": 6}, "u": "https://u:***@h/x"},
    ]


async def test_an_object_taken_by_the_builder_has_its_str_taken_once() -> None:
    """An object among values the fast case gives up on (a string that needs masking after
    it, positional or keyword) has its ``str()`` taken once, by the builder: the fast case
    takes it only once every check has passed."""
    taken: list[int] = []

    class Counted:
        def __str__(self) -> str:
            taken.append(1)
            return "counted"

    async with capture() as cap:
        cap.log.info("v {a} {b}", a=Counted(), b="x")  # (template, names, the type)
        taken.clear()
        cap.log.info("v {a} {b}", a=Counted(), b="db postgres://u:pw@h/x")
        cap.log.info("v {a} {b}", Counted(), "db postgres://u:pw@h/x")
        assert len(taken) == 2
    for event in cap.events[1:]:
        assert dict(event.properties) == {"a": "counted", "b": "db postgres://u:***@h/x"}


async def test_a_proxy_object_is_not_taken_as_its_type() -> None:
    """A type that defines ``__class__`` (a lazy or wrapping proxy, which ``isinstance``
    takes for what it wraps) is never learnt as one written as its ``str()``: a proxy of a
    mapping is still captured as a mapping, its secrets masked."""
    from logactors._capture import STRINGIFIED

    class Lazy:
        def __init__(self, wrapped: object) -> None:
            self._wrapped = wrapped

        @property  # type: ignore[misc]
        def __class__(self) -> type:
            return type(self._wrapped)

        def __str__(self) -> str:
            return str(self._wrapped)

        def items(self) -> Any:
            return self._wrapped.items()  # type: ignore[attr-defined]

        def __iter__(self) -> Any:
            return iter(self._wrapped)  # type: ignore[call-overload]

        def __len__(self) -> int:
            return len(self._wrapped)  # type: ignore[arg-type]

    class Plain:
        def __str__(self) -> str:
            return "plain"

    async with capture() as cap:
        for _ in range(2):
            cap.log.info("v {v}", v=Lazy(Plain()))
        cap.log.info("v {v}", v=Lazy({"password": "hunter2", "user": "ada"}))
        assert Lazy not in STRINGIFIED
    assert [e.properties["v"] for e in cap.events] == [
        "plain",
        "plain",
        {"password": "***", "user": "ada"},
    ]


def test_the_stringified_types_are_a_bounded_cache() -> None:
    """The types learnt as written by their ``str()`` are kept in a cache emptied when
    full."""
    from logactors import _capture

    saved = dict(_capture.STRINGIFIED)
    try:
        for i in range(_capture._STRINGIFIED_MAX + 5):
            _capture._learn_stringified(type(f"T{i}", (), {}))
        assert 0 < len(_capture.STRINGIFIED) <= _capture._STRINGIFIED_MAX
    finally:
        _capture.STRINGIFIED.clear()
        _capture.STRINGIFIED.update(saved)


def test_the_kept_types_learnt_are_bounded() -> None:
    """The Enum classes added to the kept types stop at ``KEPT_MAX``; an Enum with a ``str``
    (or other non-scalar) value is refused, and so is a class that is not an Enum."""
    from logactors import _sizing

    kept, refused = set(_sizing.KEPT_TYPES), set()
    _sizing.learn_kept(enum.Enum("Words", {"A": "a"}), kept, refused)
    _sizing.learn_kept(enum.Enum("Pairs", {"A": (1, 2)}), kept, refused)
    _sizing.learn_kept(int, kept, refused)
    assert kept == _sizing.KEPT_TYPES and len(refused) == 2
    for i in range(_sizing.KEPT_MAX + 10):
        _sizing.learn_kept(enum.Enum(f"E{i}", "A"), kept, refused)
    assert len(kept) == _sizing.KEPT_MAX and kept >= _sizing.KEPT_TYPES


async def test_an_enum_value_that_holds_a_credential_is_masked() -> None:
    """An Enum member is kept as it is, unless its value is a string the redaction rules
    mask: then it is captured as that masked text (what the formats would have written)."""

    class Target(enum.Enum):
        DB = "postgres://u:pw@db/app"
        CACHE = "redis"

    class Priority(enum.IntEnum):
        HIGH = 3

    async with capture() as cap:
        for _ in range(2):
            cap.log.info("to {t} {u} {p}", t=Target.DB, u=Target.CACHE, p=Priority.HIGH)
    for event in cap.events:
        assert dict(event.properties) == {
            "t": "postgres://u:***@db/app",
            "u": Target.CACHE,
            "p": Priority.HIGH,
        }
    off = SupervisorConfig(sinks=(), redact=RedactConfig(enabled=False))
    async with capture(config=off) as cap:
        cap.log.info("to {t}", t=Target.DB)
    assert cap.events[0].properties["t"] is Target.DB
    patterns = SupervisorConfig(sinks=(), redact=RedactConfig(patterns=("s3cr3t",)))
    async with capture(config=patterns) as cap:  # (every string scanned: only a match changes)
        cap.log.info("to {t} {u}", t=Target.DB, u=Target.CACHE)
    assert dict(cap.events[0].properties) == {"t": "postgres://u:***@db/app", "u": Target.CACHE}


async def test_a_new_template_without_braces_takes_the_fast_path_kept_apart() -> None:
    """A template the capture has not seen that has no braces (an f-string's text) takes the
    fast path and is kept in a cache of its own, not among the templates (one-off texts would
    fill and empty that); one with braces, one that needs masking or one too long for the
    capture takes the builder. The texts' cache is bounded: longer texts are not kept, and it
    is emptied when full."""
    async with capture() as cap:
        cap.log.info("warm {user}", user="ada")  # (learns the name)
        calls = _count_prepare(cap.log)
        capture_ = cap.log._rt.builder.capture
        before = dict(capture_.templates)
        for i in range(3):
            cap.log.info(f"request {i} done", user="ada")
        cap.log.info("request 0 done", user="ada")  # (again: from the texts' cache)
        cap.log.info("y" * 600)  # (taken, not kept: over 512 characters)
        assert len(calls) == 0 and capture_.templates == before
        assert list(capture_.plain_texts) == [f"request {i} done" for i in range(3)]
        cap.log.info("token Bearer abcdefgh12345 sent")
        cap.log.info("a {{literal}} brace")
        cap.log.info("x" * (capture_.max_text + 1))
        assert len(calls) == 3
        for i in range(4096):
            capture_.as_plain(f"text {i}")
        # (4,093 more filled it; the next emptied it and was kept, then two more)
        assert list(capture_.plain_texts) == ["text 4093", "text 4094", "text 4095"]
    assert [e.template[:20] for e in cap.events[1:]] == [
        "request 0 done",
        "request 1 done",
        "request 2 done",
        "request 0 done",
        "y" * 20,
        "token Bearer *** sen",
        "a {{literal}} brace",
        "x" * 20,
    ]


async def test_a_printf_call_takes_the_fast_path_as_its_text() -> None:
    """A printf-style call is rendered at the call and takes the fast path as that text (its
    braces doubled, as the builder writes it); a text that needs masking takes the builder,
    and a template with holes binds its arguments as before."""
    async with capture() as cap:
        cap.log.info("warm {user}", user="ada")  # (learns the name)
        calls = _count_prepare(cap.log)
        arg = ["a"]
        cap.log.info("x %s and %d {not a hole}", arg, 2, user="ada")
        arg.append("later")  # (rendered at the call)
        cap.log.info("map %(k)s", {"k": "v"})
        assert len(calls) == 0
        cap.log.info("auth %s", "Bearer abcdefgh12345")
        cap.log.info("hole {user} %s", "ada")
        assert len(calls) == 2
    assert [(e.template, dict(e.properties)) for e in cap.events[1:]] == [
        ("x ['a'] and 2 {{not a hole}}", {"user": "ada"}),
        ("map v", {}),
        ("auth Bearer ***", {}),
        ("hole {user} %s", {"user": "ada"}),
    ]


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "Bearer abcdefgh12",
                "db postgres://u:pw@h/db",
                "}{",
                "{{",
                "x" * 1100,
                "x %s and %d",
                "%s",
                "%(k)s!",
                "%d%% {n}",
                "100%",
                "{user} %s",
                "%r",
            ]
        ),
    ),
    st.lists(
        st.one_of(
            st.integers(),
            st.text(max_size=8),
            st.sampled_from(["{x}", "Bearer abcdefgh12", "db postgres://u:pw@h/db", "x" * 1100]),
            st.dictionaries(st.sampled_from(["k", "n"]), st.integers(), max_size=2),
        ),
        max_size=3,
    ),
    call_props,
)
def test_a_new_template_equals_the_builder(
    template: str, args: list[Any], props: dict[str, Any]
) -> None:
    """Property: a template the capture has not seen (printed text: any characters, braces,
    credentials, longer than the capture keeps; printf style or not: any specifiers, a
    mapping, too few or too many arguments) queues the event the builder makes, from the trio
    thread and from another thread, whichever path it takes (the sizes: in
    tests/test_levelmethod.py)."""
    config = SupervisorConfig(sinks=(), max_event_bytes=1024)

    async def main() -> list[LogEvent]:
        async with capture(config=config) as cap:
            log = cap.log
            log.info("warm {user}", **copy.deepcopy(props))  # (learns the names)
            cap.events.clear()
            log.info(template, *copy.deepcopy(args), **copy.deepcopy(props))
            await trio.to_thread.run_sync(
                lambda: log.info(template, *copy.deepcopy(args), **copy.deepcopy(props))
            )
            await log.flush()
            # (last: the builder remembers the template, the fast path would then know it)
            reference = built(log, template, tuple(copy.deepcopy(args)), copy.deepcopy(props))
            return [*cap.events, reference[0]]

    events = trio.run(main)
    assert len(events) == 3
    first = _key(events[-1])
    for event in events[:-1]:
        assert _key(event) == first


@pytest.mark.slow
def test_memory_stays_within_the_queue_cap_for_large_templates_exceptions_objects() -> None:
    """In a child process, with the sink stalled: 4,000 events of 20 KB templates, exception
    texts, object strings and strings grow peak RSS by at most the queue's ``max_bytes``
    plus 20% (the estimate counts template and exception text, objects as their strings)."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-m", "tests._memory_child", "4000"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    growth, cap, dropped, depth = map(int, done.stdout.split())
    assert dropped > 3000 and depth > 0  # the queue really filled
    assert growth <= cap * 1.2, (growth, cap)


async def test_proxies_and_config_properties_follow_the_same_rules() -> None:
    """``get_logger`` proxies (``bind``, ``warn``, ``fatal``) and configuration properties
    are captured like everything else."""
    tags = ["a"]
    settings_ = {"db": {"password": "pw"}}
    config = SupervisorConfig(sinks=(), properties=settings_)
    proxy = logactors.get_logger("mod").bind(tags=tags)
    tags.append("b")
    async with capture(config=config) as cap:
        settings_["db"]["password"] = "changed"
        proxy.warn("w", url="postgres://u:pw@h/db")
        proxy.fatal("f")
    warn, fatal = cap.events
    assert (warn.level, fatal.level) == (logactors.Level.WARNING, logactors.Level.CRITICAL)
    assert warn.properties == {
        "db": {"password": "***"},
        "tags": ["a"],
        "url": "postgres://u:***@h/db",
    }
    assert warn.logger == "mod"


def test_capture_and_redact_blocks_load_and_validate() -> None:
    """``[capture]`` and ``[redact]`` load from a mapping; bad bounds name their path."""
    config = logactors.load_config({"capture": {"max_depth": 3}, "redact": {"enabled": False}})
    assert config.capture == CaptureConfig(max_depth=3)
    assert config.redact is not None and not config.redact.enabled
    assert SupervisorConfig().redact == RedactConfig()  # on by default
    with pytest.raises(logactors.ConfigError, match=r"capture\.max_items: must be > 0"):
        logactors.load_config({"capture": {"max_items": 0}})


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(call_values, max_size=4),
    call_props,
    st.sampled_from(["{user} did {n}", "{0} and {1}", "{0}", "no holes %s", "plain"]),
)
def test_positional_fast_path_equals_the_builder(
    args: list[Any], props: dict[str, Any], template: str
) -> None:
    """Property: a call with positional arguments queues, once its template and names are
    known (the logger's fast path), the event ``Builder.prepare`` builds for it."""

    async def main() -> list[LogEvent]:
        async with capture() as cap:
            log = cap.log
            for _ in range(2):  # the first call teaches the capture the template and names
                log.info(template, *copy.deepcopy(args), **copy.deepcopy(props))
            event = built(log, template, copy.deepcopy(args), copy.deepcopy(props))[0]
            return [*cap.events, event]

    events = trio.run(main)
    first = _key(events[0])
    for event in events[1:]:
        assert _key(event) == first


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["user", "n", "password", "@point", "$n", "Api-Key", "items", "a b"]),
        call_values | st.sampled_from(["postgres://u:pw@h/db", "Bearer abc.DEF-123", "s3cr3t x"]),
        max_size=4,
    ),
    st.sampled_from(["default", "off", "patterns"]),
)
def test_known_names_capture_as_unknown_names(props: dict[str, Any], redact: str) -> None:
    """Property: ``Capture.properties`` gives the same result once it has learnt which names
    need nothing (its shortcut for them) as for names it has never seen."""
    config = {
        "default": RedactConfig(),
        "off": RedactConfig(enabled=False),
        "patterns": RedactConfig(patterns=("s3cr3t",)),
    }[redact]
    fresh = Capture(CaptureConfig(), config, 4096)
    warm = Capture(CaptureConfig(), config, 4096)
    warm.properties(copy.deepcopy(props))  # learns the names
    assert warm.properties(copy.deepcopy(props)) == fresh.properties(copy.deepcopy(props))


def test_a_bounded_cache_is_emptied_when_full_and_keeps_the_new_entry() -> None:
    """``remember`` (every bounded cache's store): at its limit the cache starts again with
    just the new entry; below it, entries accumulate."""
    from logactors._cache import remember

    cache: dict[str, int] = {}
    for i in range(3):
        assert remember(cache, f"k{i}", i, 3) == i
    assert cache == {"k0": 0, "k1": 1, "k2": 2}
    assert remember(cache, "k3", 3, 3) == 3
    assert cache == {"k3": 3}
