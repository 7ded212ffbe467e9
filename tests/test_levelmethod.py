"""The compiled level methods (logactors._levelmethod) and the inlining they use
(logactors._inline): the inlined put and scan hint behave exactly as the functions they come
from, the specialised methods queue exactly what the one builder builds, and each variant
carries only the code its runtime needs."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import decimal
import enum
import gc
import pathlib
import uuid
import weakref
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logactors
from logactors import (
    FilterConfig,
    NullSink,
    QueueConfig,
    RedactConfig,
    SupervisorConfig,
    _levelmethod,
)
from logactors._capture import Text
from logactors._core.inbox import Inbox
from logactors._inline import NotInlinable, inline_body, inline_expression
from logactors._redact import Redactor
from logactors.metrics import Counters

from .helpers import built

# -- the inlined functions equal the functions ----------------------------------------------------


def _inlined_put() -> Any:
    inlined = inline_body(
        Inbox.put_nowait,
        {"self": "inbox", "event": "fields", "level": "level", "size": "size"},
        prefix="_put_",
    )
    body = "\n".join("    " + line for line in inlined.source.splitlines())
    namespace = dict(inlined.namespace)
    exec(f"def put(inbox, fields, level, size):\n{body}\n", namespace)
    return namespace["put"]


def _state(inbox: Inbox) -> tuple[Any, ...]:
    return (
        list(inbox._events),
        list(inbox._sizes),
        inbox.bytes,
        inbox.counters.accepted,
        inbox.counters.dropped,
        inbox._waiter,
    )


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["drop_oldest", "drop_newest"]),
    st.integers(1, 6),
    st.lists(st.tuples(st.sampled_from([10, 20, 30, 40, 50]), st.integers(400, 3000)), max_size=30),
)
def test_the_inlined_put_is_the_put(policy: str, max_events: int, calls: list[Any]) -> None:
    """Property: the put inlined into the level methods leaves an inbox (events, sizes, bytes,
    counters, overflow decisions) exactly as ``Inbox.put_nowait`` does."""
    put = _inlined_put()
    config = QueueConfig(max_events=max_events, max_bytes=8000, overflow=policy)  # type: ignore[arg-type]
    called, inlined = Inbox(config, Counters()), Inbox(config, Counters())
    for index, (level, size) in enumerate(calls):
        event = (index, level)
        called.put_nowait(event, level, size)  # type: ignore[arg-type]
        put(inlined, event, level, size)
        assert _state(called) == _state(inlined)


@given(st.text(alphabet="ab @:/Bearer12", max_size=20) | st.text(max_size=12))
def test_the_inlined_hint_is_the_hint(text: str) -> None:
    """Property: the inlined redaction scan hint answers as ``Redactor._scan_hint``."""
    inlined = inline_expression(Redactor._scan_hint, {"text": "value"}, prefix="_h_")
    namespace = dict(inlined.namespace)
    exec(f"def hint(value):\n    return {inlined.source}\n", namespace)
    assert namespace["hint"](text) == Redactor._scan_hint(text)


def test_derived_source_is_made_once_and_follows_the_template(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Inlining and specialising are derived once per process (every runtime start builds its
    level methods): a second derivation gives the same source and a namespace of its own, and
    the specialised source follows the template it is given (the ablation benchmark swaps
    it)."""
    arguments = {"self": "inbox", "event": "fields", "level": "level", "size": "size"}
    first = inline_body(Inbox.put_nowait, arguments, prefix="_put_")
    first.namespace["changed"] = True
    second = inline_body(Inbox.put_nowait, arguments, prefix="_put_")
    assert second.source == first.source and "changed" not in second.namespace
    flags = {"a": True, "b": False}
    monkeypatch.setattr(_levelmethod, "TEMPLATE", "x = 1  # [a]\ny = 2  # [b]\nz = 3  # [!b]\n")
    assert _levelmethod.source_for(flags) == "x = 1\nz = 3\n"
    monkeypatch.setattr(_levelmethod, "TEMPLATE", "w = 0  # [!a]\n")
    assert _levelmethod.source_for(flags) == "\n"


def test_inlining_refuses_what_it_cannot_inline() -> None:
    """A body with ``return`` is no procedure; a missing source or a foreign argument name
    is refused too, so the level method calls the function instead."""

    def returns(a: int) -> int:
        if a:
            return 1
        return 2

    with pytest.raises(NotInlinable):
        inline_body(returns, {"a": "x"}, prefix="_")
    with pytest.raises(NotInlinable):
        inline_expression(returns, {"a": "x"}, prefix="_")
    with pytest.raises(NotInlinable):
        inline_body(len, {"obj": "x"}, prefix="_")
    with pytest.raises(NotInlinable):
        inline_body(Inbox.put_nowait, {"self": "inbox"}, prefix="_")


# -- each variant carries only what it needs ------------------------------------------------------


async def _method(config: SupervisorConfig, **bound: Any) -> Any:
    async with logactors.open_logger(config) as log:
        target = log.bind(**bound) if bound else log
        return target.info  # (the read settles the logger: the compiled method)


def _config(**options: Any) -> SupervisorConfig:
    return SupervisorConfig(sinks=(NullSink(name="a"),), **options)


async def test_no_stages_is_the_shortest_code() -> None:
    """Without enrichers, filters, sequence, trace correlation or bound properties, the method
    names none of them; the one put is inlined (no call to ``put_nowait``)."""
    plain = await _method(_config(trace_context=False))
    names = set(plain.__code__.co_names)
    assert not names & {"admit", "otel", "put_nowait", "base", "inboxes", "single", "routes"}
    assert "prepare" in names and "known_template" in names
    numbered = await _method(_config(enrichers=("sequence",)), user="ada")
    assert "number" in numbered.__code__.co_names  # (the only stage: no admit)
    assert "admit" not in numbered.__code__.co_names
    filtered = await _method(
        _config(enrichers=("sequence",), filters=(FilterConfig(min_level="debug"),))
    )
    assert {"admit"} <= set(filtered.__code__.co_names)
    fanned = await _method(SupervisorConfig(sinks=(NullSink(name="a"), NullSink(name="b"))))
    assert "inboxes" in fanned.__code__.co_names
    assert "put_nowait" not in fanned.__code__.co_names  # inlined in the loop too


async def test_a_put_that_cannot_be_inlined_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the inbox's put cannot be inlined, the level method calls it: same events."""

    def refuse(*args: object, **kwargs: object) -> Any:
        raise NotInlinable("test")

    monkeypatch.setattr(_levelmethod, "inline_body", refuse)
    monkeypatch.setattr(_levelmethod, "inline_expression", refuse)
    config = SupervisorConfig(sinks=(logactors.MemorySink(name="m"),), trace_context=False)
    async with logactors.open_logger(config) as log:
        method: Any = log.info
        assert "put_nowait" in method.__code__.co_names
        log.info("a {x}", x="ada")
        log.info("a {x}", x="mail ada@example.org", token="t")
        await log.flush()
        events = log.sink("m").events  # type: ignore[attr-defined]
    assert [dict(e.properties) for e in events] == [
        {"x": "ada"},
        {"x": "mail ada@example.org", "token": "***"},
    ]


# -- the specialised methods queue what the builder builds ----------------------------------------


class _Color(enum.Enum):
    RED = "postgres://u:pw@h/db"  # (a str value to mask: captured as its masked text)
    BLUE = "blue"


class _Priority(enum.IntEnum):
    HIGH = 3


class _Shown:
    """An object the capture writes as its ``str()``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


class _Broken:
    def __str__(self) -> str:
        raise RuntimeError("no text")


@dataclasses.dataclass
class _Point:
    x: int
    y: int


#: objects written as their str() (or destructured under a "{@" hole)
object_values = st.sampled_from(
    [
        _Shown("plain text"),
        _Shown("db postgres://u:pw@h/db"),
        _Shown("{braces}"),
        _Broken(),
        pathlib.PurePosixPath("/srv/app"),
        ValueError("boom"),
        _Point(1, 2),
    ]
)


#: values the capture keeps as they are (the fast case counts them without the walk)
kept_values = st.sampled_from(
    [
        datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        datetime.date(2024, 1, 2),
        datetime.time(3, 4),
        datetime.timedelta(seconds=3),
        uuid.UUID(int=5),
        decimal.Decimal("1.5"),
        _Color.RED,
        _Color.BLUE,
        _Priority.HIGH,
        enum.IntFlag("Perm", "R W")(3),
    ]
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["ada", "a b", "mail ada@example.org", "postgres://u:pw@h/db", "x" * 9]),
    kept_values,
    object_values,
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.sampled_from(["k", "password"]), st.integers(0, 3), max_size=2),
)
call_props = st.dictionaries(
    st.sampled_from(["user", "n", "token", "items", "thread"]), values, max_size=3
)


def _user_enricher() -> dict[str, object]:
    return {
        "pid": 7,
        "task": "from a user enricher",
        "tags": ["a", {"b": 1}],
        "password": "hunter2",
        "db": "postgres://u:pw@h/db",
        "user": "enriched",
    }


#: per-call enrichers: the built-in ones (the fast case adds them from a cache) and a user one
#: (every enricher captured at each call)
enricher_sets = st.sampled_from(
    [(), ("thread",), ("task",), ("task", "thread"), ("thread", _user_enricher)]
)
variants = st.fixed_dictionaries(
    {
        "sinks": st.integers(1, 2),
        "redact": st.sampled_from(["default", "off", "patterns"]),
        "sequence": st.booleans(),
        "enrichers": enricher_sets,
        "filter": st.booleans(),
        "bound": st.sampled_from([{}, {"app": "demo"}, {"app": "demo", "task": "bound"}]),
        "trace": st.booleans(),
        "static": st.sampled_from(
            [{}, {"svc": "a"}, {"svc": "a", "user": "cfg"}, {"thread": "cfg"}]
        ),
        "context": st.sampled_from(
            [
                None,
                {"req": "r1"},
                {"req": "r1", "n": 7},
                {"app": "ctx", "tags": [1, "a b"]},
                {"task": "ctx", "thread": "ctx"},
            ]
        ),
    }
)


def _variant_config(variant: dict[str, Any]) -> SupervisorConfig:
    redact = {
        "default": RedactConfig(),
        "off": RedactConfig(enabled=False),
        "patterns": RedactConfig(patterns=("s3cr3t",)),
    }[variant["redact"]]
    return SupervisorConfig(
        sinks=tuple(
            NullSink(name=f"s{i}", queue=QueueConfig(max_events=100))
            for i in range(variant["sinks"])
        ),
        redact=redact,
        enrichers=(*variant.get("enrichers", ()), *(("sequence",) if variant["sequence"] else ())),
        trace_context=variant["trace"],
        properties=variant.get("static", {}),
        filters=(FilterConfig(min_level="debug"),) if variant.get("filter") else (),
    )


@pytest.mark.slow
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variants,
    call_props,
    st.lists(values, max_size=2),
    st.sampled_from(["hello {user}", "{0} and {1}", "plain %s", "hello {@user} {n}"]),
)
def test_every_variant_queues_what_the_builder_builds(
    variant: dict[str, Any], props: dict[str, Any], args: list[Any], template: str
) -> None:
    """Property: for every specialisation (one inbox or fan-out, redaction default/off/with
    patterns, stages after the capture (a filter, sequence numbers) or none, configuration,
    bound and ambient properties or none (some named like an enricher), trace correlation on
    or off, built-in or user per-call enrichers or none), the level method queues
    into each real inbox the tuple (its properties in the same order) and size
    ``Builder.prepare`` (and ``admit``) gives for the same call, whether the call takes the
    fast case or not."""

    async def main() -> None:
        context = variant["context"]
        async with logactors.open_logger(_variant_config(variant)) as log:
            with log.context(**context) if context else contextlib.nullcontext(log):
                await check(log)

    async def check(log: logactors.Logger) -> None:
        target = log.bind(**variant["bound"]) if variant["bound"] else log
        for _ in range(2):  # the first call teaches the capture the template and names
            target.info(template, *copy.deepcopy(args), **copy.deepcopy(props))
        rt = log._rt
        inboxes = [actor.inbox for actor in rt.actors.values()]
        queued = [(list(i._events), list(i._sizes)) for i in inboxes]  # not yet taken
        sequence = rt.builder.sequence  # the second call's number (the builder takes the next)
        event, size = built(
            log,
            template,
            copy.deepcopy(args),
            copy.deepcopy(props),
            bound=variant["bound"],
            config_properties=True,
            task=trio.lowlevel.current_task().name,
        )
        for events, sizes in queued:
            assert len(events) == 2
            last = events[-1]
            expected_props = dict(event.properties)
            if variant["sequence"]:
                expected_props["sequence"] = sequence
            assert (last[1], last[2], last[3], last[4]) == (
                event.level,
                event.template,
                expected_props,
                event.exception,
            )
            assert list(last[3]) == list(expected_props)  # the same order
            assert sizes[-1] + logactors._sizing.BASE_BYTES == size
        # the packed twin (what a module-level proxy calls) queues the same again
        packed = type(target).info.packed  # type: ignore[attr-defined]
        packed(target, template, tuple(copy.deepcopy(args)), None, copy.deepcopy(props))
        for inbox in inboxes:
            before, after = inbox._events[-2], inbox._events[-1]
            if variant["sequence"]:  # (the builder above took the number between them)
                assert after[3]["sequence"] == before[3]["sequence"] + 2
            assert [(k, v) for k, v in after[3].items() if k != "sequence"] == [
                (k, v) for k, v in before[3].items() if k != "sequence"
            ]
            assert after[1:3] == before[1:3] and after[4:] == before[4:]
            assert inbox._sizes[-1] == inbox._sizes[-2]
        await log.flush()

    trio.run(main)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=30),
        st.sampled_from(["x %s and %d", "%(k)s", "100%", "{user} %s", "Bearer abcdefgh12 %s"]),
    ),
    st.lists(values, max_size=2),
    call_props,
)
def test_a_new_template_queues_what_the_builder_builds(
    template: str, args: list[Any], props: dict[str, Any]
) -> None:
    """Property: a template the capture has not seen (text without braces, a printf-style
    call, anything else), with or without positional arguments, once the names are known:
    the inbox gets the tuple (its properties in the same order) and the size the builder
    gives for the same call."""

    async def main() -> None:
        async with logactors.open_logger(_config()) as log:
            log.info("warm {user}", **copy.deepcopy(props))  # (learns the names)
            log.info(template, *copy.deepcopy(args), **copy.deepcopy(props))
            (inbox,) = [actor.inbox for actor in log._rt.actors.values()]
            last, size = inbox._events[-1], inbox._sizes[-1] + logactors._sizing.BASE_BYTES
            event, expected = built(  # (after the call: the builder remembers the template)
                log,
                template,
                copy.deepcopy(args),
                copy.deepcopy(props),
                task=trio.lowlevel.current_task().name,
            )
            assert (last[1], last[2], last[3], last[4]) == (
                event.level,
                event.template,
                dict(event.properties),
                event.exception,
            )
            assert list(last[3]) == list(event.properties)
            assert size == expected
            await log.flush()

    trio.run(main)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["GET /a -> 200", "x {y} }{", "db postgres://u:pw@h/db", "Bearer abc.DEF-123"])
    | st.text(max_size=30),
    st.sampled_from(["default", "off", "patterns"]),
)
def test_rendered_text_takes_the_fast_case_as_the_builder(text: str, redact: str) -> None:
    """Property: a rendered message (``Text``, the stdlib bridge's) queues what the builder
    builds for it: braces doubled, masked, cut; never remembered as a template."""

    async def main() -> None:
        config = _variant_config(
            {"sinks": 1, "redact": redact, "sequence": False, "bound": False, "trace": False}
        )
        async with logactors.open_logger(config) as log:
            log.info(Text(text))
            rt = log._rt
            (inbox,) = [actor.inbox for actor in rt.actors.values()]
            queued, size = inbox._events[-1], inbox._sizes[-1]
            event, expected_size = built(log, Text(text))
            assert (queued[2], queued[3]) == (event.template, event.properties)
            assert size + logactors._sizing.BASE_BYTES == expected_size
            assert text not in rt.builder.capture.templates or text == ""
            await log.flush()

    trio.run(main)


def test_a_closed_runtime_and_its_level_methods_are_collected() -> None:
    """The compiled methods live on their runtime's logger classes: once the logger is closed
    and dropped, nothing the level methods made keeps the runtime (its actors, its queues)
    alive."""
    refs: list[weakref.ref[Any]] = []

    async def main() -> None:
        for _ in range(3):
            async with logactors.open_logger(_config()) as log:
                log.info("x {a}", a=1)
                log.bind(b=2).warning("y")
                refs.append(weakref.ref(log._rt))

    trio.run(main)
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]


# -- the calling task ---------------------------------------------------------------------------


async def test_events_name_the_task_that_logged_them() -> None:
    """The level method reads the task from trio's run context: each event names the task
    ``trio.lowlevel.current_task`` names at the call (the fast case and the builder's path
    alike), and a call from outside any task on the trio thread (an instrument's hook)
    names none."""
    from logactors.testing import capture

    async with capture() as cap:
        log = cap.log

        async def worker(n: int) -> None:
            log.info("fast {n}", n=n)
            log.info("builder {n}", n=n, exc_info=ValueError("x"))

        async with trio.open_nursery() as nursery:
            for n in range(2):
                nursery.start_soon(worker, n, name=f"worker-{n}")
        log.info("main")
        main = trio.lowlevel.current_task().name
        await _outside_any_task(lambda: log.info("outside"))
    tasks = {e.template: e.task for e in cap.events}
    assert tasks == {
        "fast {n}": tasks["fast {n}"],
        "builder {n}": tasks["builder {n}"],
        "main": main,
        "outside": "",
    }
    by_task = sorted((e.task, e.template) for e in cap.events if "{n}" in e.template)
    assert by_task == [
        ("worker-0", "builder {n}"),
        ("worker-0", "fast {n}"),
        ("worker-1", "builder {n}"),
        ("worker-1", "fast {n}"),
    ]


async def test_the_task_comes_from_the_public_function_where_the_run_context_differs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where trio's run context does not give the current task (another trio version), a
    runtime's level methods take it from ``trio.lowlevel.current_task`` instead; that object
    gives the same task, and none outside a task."""

    class Stale:
        task = None

    assert _levelmethod.run_context() is _levelmethod.RUN_CONTEXT  # this trio: its own
    monkeypatch.setattr(_levelmethod, "RUN_CONTEXT", Stale())
    public = _levelmethod.run_context()
    assert isinstance(public, _levelmethod._PublicRunContext)
    assert public.task is trio.lowlevel.current_task()
    from logactors.testing import capture

    async with capture() as cap:
        cap.log.info("x")
    assert cap.events[0].task == trio.lowlevel.current_task().name
    outside: list[str] = []

    def read() -> None:
        try:
            public.task  # noqa: B018 - the attribute read is the test
        except AttributeError as exc:
            outside.append(str(exc))

    await _outside_any_task(read)
    assert outside == ["task"]


async def _outside_any_task(call: Any) -> None:
    """Run ``call`` once on the trio thread outside any task: in an instrument's
    ``before_io_wait`` hook (trio runs ``run_sync_soon`` callbacks in a system task). The
    loop has chosen its timeout by then: a ``run_sync_soon`` wakes it to see the event set."""
    done = trio.Event()
    token = trio.lowlevel.current_trio_token()

    class Once(trio.abc.Instrument):
        def before_io_wait(self, timeout: float) -> None:
            if not done.is_set():
                call()
                done.set()
                token.run_sync_soon(lambda: None)

    instrument = Once()
    trio.lowlevel.add_instrument(instrument)
    try:
        await done.wait()
    finally:
        trio.lowlevel.remove_instrument(instrument)


def test_the_other_thread_path_takes_the_level_methods_arguments_as_they_are() -> None:
    """The other-thread path is the template under another first line, which takes the level
    method's arguments without packing them again; a template whose first line changed is
    refused at build time rather than compiled with the wrong parameters."""
    from logactors import _levelmethod

    assert _levelmethod.TEMPLATE.startswith(_levelmethod._EMIT + "\n")
    retitled = _levelmethod._retitled(_levelmethod.TEMPLATE, _levelmethod._FROM_THREAD)
    assert retitled.splitlines()[0] == _levelmethod._FROM_THREAD
    assert retitled.splitlines()[1:] == _levelmethod.TEMPLATE.splitlines()[1:]
    with pytest.raises(RuntimeError, match="no longer starts with"):
        _levelmethod._retitled("def emit(self, template):\n    pass\n", "def x():")
