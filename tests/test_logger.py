"""The logger front end: levels, properties, context, bind, safety of calls."""

from __future__ import annotations

import copy
import gc
import pickle
import sys
import threading
import uuid
import weakref
from typing import Any

import pytest
import trio
import trio.testing

import logactors
from logactors import CustomSink, Level, LoggerClosedError, MemorySink, SupervisorConfig
from logactors.testing import capture

from .helpers import RecordingSink


def memory_config(**overrides: Any) -> SupervisorConfig:
    return SupervisorConfig(min_level="trace", sinks=[MemorySink(name="mem")], **overrides)


async def test_call_site_properties_and_template() -> None:
    """A call records its template, its keyword properties and the level."""
    async with capture() as cap:
        cap.log.info("Processing request {id} for {user}", id=42, user="bob")
    (event,) = cap.events
    assert event.level is Level.INFO
    assert event.template == "Processing request {id} for {user}"
    assert dict(event.properties) == {"id": 42, "user": "bob"}
    assert event.rendered == "Processing request 42 for bob"


async def test_positional_args_bind_left_to_right_and_surplus_kept() -> None:
    """Positional arguments fill holes in order; extra ones land in ``args``."""
    async with capture() as cap:
        cap.log.info("{a} then {b}", 1, 2, 3)
        cap.log.info("{1} {0}", "x", "y")
        cap.log.info("{a} {b}", "A", b="B")
    first, second, third = cap.events
    assert dict(first.properties) == {"a": 1, "b": 2, "args": [3]}
    assert second.rendered == "y x"
    assert dict(third.properties) == {"a": "A", "b": "B"}


async def test_levels_gate_and_set_level_applies_to_bound_children() -> None:
    """The gate drops lower levels; set_level changes it for every bind child."""
    async with capture(min_level="info") as cap:
        child = cap.log.bind(component="db")
        cap.log.debug("hidden")
        child.debug("hidden too")
        assert not cap.log.is_enabled("debug")
        cap.log.set_level("debug")
        assert cap.log.is_enabled(Level.DEBUG)
        child.debug("visible")
        cap.log.set_level(40)
        child.warning("hidden again")
        child.error("shown")
    assert [e.template for e in cap.events] == ["visible", "shown"]
    assert cap.events[0].properties["component"] == "db"


async def test_disabled_level_is_the_shared_noop() -> None:
    """A disabled level method is the same no-op function object (one call, no work), and a
    disabled call leaves a new logger unsettled."""
    async with capture(min_level="warning") as cap:
        child = cap.log.bind(a=1)
        assert type(child) is cap.log._rt.logger_types.unsettled
        for log in (cap.log, child):
            assert type(log).debug is type(log).info
            assert log.debug("x", a=1) is None
            assert log.debug("x %s", 1, exc_info=True, a=1) is None  # every call shape
            assert type(log).warning is not type(log).debug
        assert type(child) is cap.log._rt.logger_types.unsettled
    assert cap.events == []


async def test_a_logger_settles_on_its_first_enabled_call() -> None:
    """A new logger's enabled levels settle it (merge its properties once) on its first call,
    then it is an instance of its runtime's class for its kind; loggers of one kind share one
    class, and the gate reaches every logger whatever its class."""
    config = SupervisorConfig(sinks=(), properties={"app": "shop"})
    async with capture(config=config) as cap:
        types = cap.log._rt.logger_types
        first, second = cap.log.bind(user="ada"), cap.log.bind(user="bob", n=2)
        nested = cap.log.bind(tags=["a"])  # (not a plain scalar: a kind of its own)
        assert {type(first), type(second), type(nested)} == {types.unsettled}
        for log in (first, second, nested):
            log.info("hello {n}", n=1)
        assert type(first) is type(second) is types.of_kind(True, True)
        assert type(nested) is types.of_kind(True, False) is not type(first)
        assert isinstance(first, logactors.Logger) and type(first).__name__ == "Logger"
        assert first._base == {"app": "shop", "user": "ada"}
        cap.log.set_level("error")
        late = cap.log.bind(user="eve")
        for log in (first, nested, late):
            log.info("hidden")
        assert type(late) is types.unsettled
        cap.log.set_level("info")
        for log in (second, late):
            log.info("shown")
    assert [(e.template, e.properties.get("user")) for e in cap.events] == [
        ("hello {n}", "ada"),
        ("hello {n}", "bob"),
        ("hello {n}", None),
        ("shown", "bob"),
        ("shown", "eve"),
    ]
    assert cap.events[2].properties["tags"] == ["a"]


async def test_log_with_level_names_numbers_and_rounding() -> None:
    """log() accepts Level, names, aliases and numbers (between levels rounds down)."""
    async with capture() as cap:
        cap.log.log("warn", "a")
        cap.log.log(25, "b")
        cap.log.log(Level.CRITICAL, "c")
        cap.log.log("fatal", "d")
        cap.log.log("nonsense", "dropped")
    assert [(e.template, e.level) for e in cap.events] == [
        ("a", Level.WARNING),
        ("b", Level.INFO),
        ("c", Level.CRITICAL),
        ("d", Level.CRITICAL),
    ]


async def test_bind_and_context_merge_with_call_site_winning() -> None:
    """config < context < bind < call site."""
    config = SupervisorConfig(min_level="trace", sinks=(), properties={"app": "shop", "k": 0})
    async with capture(config=config) as cap:
        log = cap.log.bind(k=1, bound=True)
        with cap.log.context(k=2, ambient=True):
            log.info("x", k=3)
            log.info("y")
            cap.log.info("z")
        log.info("after")
    x, y, z, after = (dict(e.properties) for e in cap.events)
    assert x == {"app": "shop", "k": 3, "bound": True, "ambient": True}
    assert y["k"] == 1 and y["ambient"] is True
    assert z == {"app": "shop", "k": 2, "ambient": True}
    assert "ambient" not in after


async def test_context_is_inherited_by_child_tasks_and_worker_threads() -> None:
    """Child tasks started inside a context, and to_thread workers, see its properties."""
    async with capture() as cap:
        log = cap.log

        async def child(n: int) -> None:
            log.info("child {n}", n=n)

        with log.context(request_id="r-1"):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(child, 1)
                async with trio.open_nursery() as inner:
                    inner.start_soon(child, 2)
            await trio.to_thread.run_sync(lambda: log.info("from thread"))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(child, 3)
        await log.flush()
    by_template = {e.rendered: e.properties for e in cap.events}
    assert by_template["child 1"]["request_id"] == "r-1"
    assert by_template["child 2"]["request_id"] == "r-1"
    assert by_template["from thread"]["request_id"] == "r-1"
    assert "request_id" not in by_template["child 3"]


async def test_tasks_logging_in_their_own_contexts_at_once_keep_their_values() -> None:
    """Tasks serving requests at once, each in its own context, logging in turns: every event
    carries its own task's context (the builder keeps the captured form per context, up to a
    bound, and a full cache starts again rather than growing)."""
    from logactors import _capture

    async with capture() as cap:
        log = cap.log
        steps = 3
        turn = [trio.Event() for _ in range(steps * 4 + 1)]
        turn[0].set()

        async def request(k: int) -> None:
            with log.context(request=f"r{k}", peer=k):
                for step in range(steps):
                    await turn[step * 4 + k].wait()
                    log.info("step {step}", step=step)
                    turn[step * 4 + k + 1].set()

        async with trio.open_nursery() as nursery:
            for k in range(4):
                nursery.start_soon(request, k)
        builder = cap.log._rt.builder
        assert 4 <= len(builder._contexts) <= _capture._CONTEXTS_MAX
        for k in range(_capture._CONTEXTS_MAX + 10):  # (one new context per call)
            with log.context(request=f"x{k}"):
                log.info("many")
        assert len(builder._contexts) <= _capture._CONTEXTS_MAX
    interleaved = [dict(e.properties) for e in cap.events if e.template == "step {step}"]
    assert [(p["request"], p["peer"], p["step"]) for p in interleaved] == [
        (f"r{k}", k, step) for step in range(steps) for k in range(4)
    ]
    many = [e.properties["request"] for e in cap.events if e.template == "many"]
    assert many == [f"x{k}" for k in range(_capture._CONTEXTS_MAX + 10)]


async def test_exception_attaches_traceback() -> None:
    """exception() logs at error with the formatted traceback; exc_info accepts forms."""
    async with capture() as cap:
        try:
            raise ValueError("boom")
        except ValueError as exc:
            cap.log.exception("failed {step}", step=1)
            error = exc
        cap.log.warning("with instance", exc_info=error)
        cap.log.warning("with tuple", exc_info=(type(error), error, error.__traceback__))
        cap.log.error("no active exception", exc_info=True)
    failed, inst, tup, none = cap.events
    assert failed.level is Level.ERROR
    assert failed.exception is not None and "ValueError: boom" in failed.exception
    assert "Traceback" in failed.exception
    assert inst.exception is not None and "ValueError: boom" in inst.exception
    assert tup.exception == inst.exception
    assert none.exception is None


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __format__(self, spec: str) -> str:
        raise RuntimeError("no format")


async def test_calls_never_raise_for_hostile_values() -> None:
    """Bad __repr__/__str__, cycles, bytes, huge values and odd templates are all logged."""
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    huge = "x" * 1_000_000
    async with capture() as cap:
        cap.log.info("bad {v}", v=BadRepr())
        cap.log.info("cycle {v}", v=cyclic)
        cap.log.info("bytes {v}", v=b"\xff\x00")
        cap.log.info("huge {v}", v=huge)
        cap.log.info(12345)  # type: ignore[arg-type]
        cap.log.info(BadRepr())  # type: ignore[arg-type]
        cap.log.info("{unclosed", 1, 2)
        cap.log.info("big int {n}", n=2**200)
    assert len(cap.events) == 8
    bad, cycle, raw, big, number, hostile, unclosed, bigint = cap.events
    assert bad.rendered == "bad <unrenderable BadRepr>"
    assert "cycle" in cycle.rendered
    assert raw.rendered == "bytes b'\\xff\\x00'"
    assert "…[truncated" in big.properties["v"]
    assert len(big.properties["v"]) < 300_000
    assert number.template == "12345"
    assert hostile.template == "<unrenderable BadRepr>"
    assert unclosed.properties["args"] == [1, 2]
    assert bigint.rendered == f"big int {2**200}"


async def test_hostile_values_reach_file_formats(tmp_path: Any) -> None:
    """Every file format writes events with hostile values (formatters never raise)."""
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    sinks = [
        logactors.FileSink(name=fmt, path=str(tmp_path / f"out.{fmt}"), format=fmt)
        for fmt in ("text", "json", "clef", "clef-rendered", "logfmt", "csv")
    ]
    async with logactors.open_logger(SupervisorConfig(sinks=sinks)) as log:
        log.info("v={v} c={c} b={b} n={n}", v=BadRepr(), c=cyclic, b=b"\x00", n=2**100)
        await log.flush()
        metrics = log.metrics()
    for sink in sinks:
        assert metrics.sinks[sink.name].written == 1, sink.name
        assert (tmp_path / f"out.{sink.name}").read_text().count("\n") == 1


async def test_calls_after_close_are_counted_not_raised() -> None:
    """After close, plain calls count as rejected; awaiting calls raise LoggerClosedError."""
    async with logactors.open_logger(memory_config()) as log:
        log.info("before")
    log.info("after")
    log.error("after too")
    with pytest.raises(LoggerClosedError):
        await log.ainfo("awaiting after close")
    assert log.report is not None
    assert log.report.events == 1
    assert log.metrics().rejected == 2


async def test_get_logger_proxy_forwards_to_active_logger_and_sets_name() -> None:
    """Module-level proxies made at import time forward to the logger of this run."""
    proxy = logactors.get_logger("app.module")
    bound = proxy.bind(part="x")
    async with capture() as cap:
        proxy.info("hello {who}", who="proxy")
        bound.warning("bound")
        with proxy.context(cid=7):
            proxy.error("ctx")
        assert proxy.is_enabled("trace")
    hello, warned, ctx = cap.events
    assert hello.logger == "app.module" and hello.rendered == "hello proxy"
    assert warned.properties["part"] == "x"
    assert ctx.properties["cid"] == 7


async def test_a_proxy_logs_what_its_named_logger_logs_and_follows_the_gate() -> None:
    """With one active logger, a proxy's calls (every shape: positional, printf, keywords,
    an exception) queue what the logger named like it queues, through the packed twin of its
    level method once its child has settled; a level below the gate returns at once, and
    the proxy follows ``set_level``. With two loggers active, the proxy finds this run's."""
    from logactors import _proxy

    proxy = logactors.get_logger("app.db")
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("first {n}",), {"n": 0}),
        (("hello {who}", "ada"), {}),
        (("x %s and %d", "a", 2), {}),
        (("plain text",), {"user": "bob", "when": uuid.UUID(int=3)}),
        (("failed {n}",), {"n": 1, "exc_info": ValueError("boom")}),
    ]
    async with capture(min_level="info") as cap:
        assert _proxy._sole is cap.log._rt
        named = cap.log.named("app.db")
        proxy.info("settles {n}", n=0)  # (makes and settles the proxy's child)
        named.info("settles {n}", n=0)
        child = proxy._cache[1]  # type: ignore[index]
        compiled = type(child).info
        packed, through = compiled.packed, []
        compiled.packed = lambda *a: (through.append(1), packed(*a))
        for args, kwargs in calls:
            proxy.info(*args, **kwargs)
            named.info(*args, **kwargs)
        compiled.packed = packed
        assert len(through) == len(calls)  # (each through the packed twin)
        proxy.debug("below the gate")
        cap.log.set_level("debug")
        proxy.debug("now shown")
        async with capture() as other:
            assert _proxy._sole is None  # (two active: each run finds its own)
            proxy.info("to the inner one")
        assert _proxy._sole is cap.log._rt
    assert _proxy._sole is None
    events = [(e.template, dict(e.properties), e.exception, e.logger) for e in cap.events]
    for index in range(0, 2 * len(calls) + 2, 2):
        assert events[index] == events[index + 1]
    assert [e.template for e in cap.events[2 * len(calls) + 2 :]] == ["now shown"]
    assert [e.template for e in other.events] == ["to the inner one"]


async def test_proxy_without_logger_prints_warnings_and_counts_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No active logger: warning+ go to stderr (last resort), the rest are counted."""
    from logactors._proxy import orphan_counts

    proxy = logactors.get_logger("lonely")
    dropped, printed = orphan_counts()
    proxy.info("nobody hears this")
    proxy.warning("disk {pct}%", pct=97)
    assert orphan_counts() == (dropped + 1, printed + 1)
    assert "WARNING lonely: disk 97%" in capsys.readouterr().err


async def test_sink_filters_and_min_level_route_per_sink() -> None:
    """Each sink gets only the levels (and filtered events) it asks for."""
    errors = RecordingSink()
    db_only = RecordingSink()
    config = SupervisorConfig(
        min_level="debug",
        sinks=[
            CustomSink(name="errors", sink=errors, min_level="error"),
            CustomSink(
                name="db",
                sink=db_only,
                filters=[logactors.FilterConfig(logger="app.db")],
            ),
            CustomSink(name="off", sink=RecordingSink(), min_level="off"),
        ],
    )
    async with logactors.open_logger(config) as log:
        log.named("app.db").debug("query")
        log.named("app.dbx").info("not db")
        log.named("app.web").error("bad request")
        await log.flush()
        metrics = log.metrics()
    assert errors.templates() == ["bad request"]
    assert db_only.templates() == ["query"]
    assert metrics.sinks["off"].accepted == 0


async def test_global_filters_callables_and_tables() -> None:
    """Global filters run before routing; a raising filter keeps the event."""

    def no_health(event: logactors.LogEvent) -> bool:
        return event.properties.get("path") != "/health"

    def broken(event: logactors.LogEvent) -> bool:
        raise RuntimeError("filter bug")

    lines: list[str] = []
    config = SupervisorConfig(
        min_level="trace",
        sinks=(),
        self_log=lines.append,
        filters=[
            no_health,
            broken,
            logactors.FilterConfig(properties={"noisy": True}, exclude=True),
        ],
    )
    async with capture(config=config) as cap:
        cap.log.info("req", path="/health")
        cap.log.info("req", path="/api")
        cap.log.info("spam", noisy=True)
    assert [e.properties.get("path") for e in cap.events] == ["/api"]
    assert any("filter bug" in line for line in lines)


async def test_enrichers_sequence_thread_task_and_callables() -> None:
    """Built-in and user enrichers add properties; sequence numbers follow routing order."""
    config = SupervisorConfig(
        min_level="trace",
        sinks=(),
        enrichers=["sequence", "thread", "task", "hostname", "process", lambda: {"region": "eu"}],
    )
    async with capture(config=config) as cap:
        cap.log.info("one")
        await trio.to_thread.run_sync(lambda: cap.log.info("two"))
        cap.log.info("three")
    props = [e.properties for e in cap.events]
    assert [p["sequence"] for p in props] == [1, 2, 3]
    assert props[0]["thread"] == threading.current_thread().name
    assert props[1]["thread"] != props[0]["thread"]
    assert props[0]["task"] == trio.lowlevel.current_task().name
    assert all(p["region"] == "eu" and "hostname" in p and "process" in p for p in props)


async def test_awaiting_calls_wait_for_room(autojump_clock: trio.testing.MockClock) -> None:
    """ainfo waits while the queue is full instead of dropping (back-pressure)."""
    sink = RecordingSink(delay=1.0)
    config = SupervisorConfig(
        sinks=[
            CustomSink(
                name="slow",
                sink=sink,
                queue=logactors.QueueConfig(max_events=2, overflow="drop_newest"),
                batch=logactors.BatchConfig(max_events=1, max_delay=0),
            )
        ],
    )
    async with logactors.open_logger(config) as log:
        for i in range(10):
            await log.ainfo("event {i}", i=i)
        await log.flush()
        metrics = log.metrics().sinks["slow"]
    assert metrics.dropped == 0
    assert sink.values("i") == list(range(10))


async def test_a_method_taken_before_the_first_call_is_the_compiled_method() -> None:
    """``info = log.bind(...).info`` before any call settles the logger once, on that read,
    and gives the method compiled for its kind (not a settling step run on every call): it
    logs the same events as the logger's own method. A disabled level read does not settle."""
    async with capture(min_level="info") as cap:
        types = cap.log._rt.logger_types
        child = cap.log.bind(user="ada")
        debug = child.debug
        assert type(child) is types.unsettled  # (a disabled level: the shared no-op)
        settled = []
        settle = logactors.Logger._settle

        def counting(self: Any) -> None:
            settled.append(self)
            settle(self)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(logactors.Logger, "_settle", counting)
            info = child.info
            assert type(child) is types.of_kind(True, True)
            assert info.__func__ is type(child).__dict__["info"]
            for i in range(3):
                info("call {i}", i=i)
            child.info("call {i}", i=3)
            debug("hidden")
    assert [(e.properties["i"], e.properties["user"]) for e in cap.events] == [
        (i, "ada") for i in range(4)
    ]
    assert settled == [child]


async def test_a_logger_that_cannot_settle_counts_every_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Settling raising (a bug): each call is an internal error, counted as rejected and
    reported on the self-log, never a silent no-op; a method read meanwhile tries again at
    each call, and logs once the logger can settle."""
    lines: list[str] = []
    async with capture(config=SupervisorConfig(sinks=(), self_log=lines.append)) as cap:
        child = cap.log.bind(user="ada")

        def broken(self: Any) -> None:
            raise RuntimeError("cannot settle")

        monkeypatch.setattr(logactors.Logger, "_settle", broken)
        info = child.info
        info("a")
        child.info("b")
        info("c")
        monkeypatch.undo()
        rt = cap.log._rt
        assert rt.rejected == 3
        info("d {n}", n=1)
        child.info("e {n}", n=2)
    assert [e.template for e in cap.events] == ["d {n}", "e {n}"]
    assert any("cannot settle" in line for line in lines)


async def test_a_level_method_called_through_the_class_logs() -> None:
    """``type(log).info(log, ...)`` and ``Logger.info(log, ...)`` log as ``log.info`` does,
    before and after the logger settles (never a TypeError into the caller)."""
    async with capture(min_level="info") as cap:
        types = cap.log._rt.logger_types
        first, second = cap.log.bind(user="ada"), cap.log.bind(user="bob")
        type(first).info(first, "class {n}", n=1)  # (unsettled: the settling step, called)
        logactors.Logger.info(second, "base {n}", n=2)
        assert type(first) is type(second) is types.of_kind(True, True)
        type(first).info(first, "class {n}", n=3)
        logactors.Logger.info(second, "base {n}", n=4)
        logactors.Logger.debug(first, "hidden")
        assert types.unsettled.__dict__["info"].__doc__ == "Log at info (see :class:`Logger`)."
    assert [(e.properties["n"], e.properties["user"]) for e in cap.events] == [
        (1, "ada"),
        (2, "bob"),
        (3, "ada"),
        (4, "bob"),
    ]


async def test_a_method_kept_is_the_one_of_the_gate_it_was_read_at() -> None:
    """A level method kept in a variable (``info = log.info``) is the one its class held when
    it was read: ``set_level`` changes what the logger's attributes give, not a method read
    before (read it again, or call ``log.info``, to follow the gate)."""
    async with capture(min_level="info") as cap:
        info, debug = cap.log.info, cap.log.debug
        cap.log.set_level("debug")
        debug("kept no-op")
        cap.log.debug("read again")
        cap.log.set_level("error")
        info("kept {n}", n=1)
        cap.log.info("hidden")
    assert [e.template for e in cap.events] == ["read again", "kept {n}"]


async def test_logger_objects_are_collectable() -> None:
    """Bound children are not kept alive by the runtime (it keeps no list of its loggers)."""
    async with capture() as cap:
        refs = []
        for i in range(100):
            child = cap.log.bind(i=i)
            child.info("x")
            refs.append(weakref.ref(child))
        del child
        gc.collect()
        assert [ref() for ref in refs] == [None] * 100


async def test_report_available_after_exit_and_user_exception_propagates_unwrapped() -> None:
    """The user's exception leaves open_logger as itself, not in an ExceptionGroup."""
    sink = RecordingSink()
    config = SupervisorConfig(sinks=[CustomSink(name="rec", sink=sink)])
    with pytest.raises(KeyError) as info:
        async with logactors.open_logger(config) as log:
            log.info("before the error")
            raise KeyError("user bug")
    assert type(info.value) is KeyError
    assert log.report is not None and log.report.ok
    assert sink.templates() == ["before the error"]


def test_sys_modules_has_no_heavy_imports() -> None:
    """Importing logactors does not import httpx (optional extra)."""
    assert "logactors" in sys.modules
    assert "logactors.sinks.http" not in sys.modules or "httpx" in sys.modules


def test_a_logger_logging_while_a_method_compiles_does_not_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A finalizer or signal handler may run while the runtime compiles a level method (its
    lock held) and log through a logger of a kind not made yet: the same thread takes the
    lock again, and both events arrive."""
    from logactors import _logger

    log = logactors.start_in_thread({"sinks": [{"type": "memory", "name": "m"}]})
    try:
        rt = log._host.runtime
        real = _logger.build_level_method
        nested: list[int] = []

        def build(*args: Any) -> Any:
            if not nested:
                nested.append(1)
                _logger.Logger(rt, "res", {"tags": ["a"]}).info("freed")  # another kind
            return real(*args)

        monkeypatch.setattr(_logger, "build_level_method", build)
        done = threading.Event()

        def first_call() -> None:
            _logger.Logger(rt, "app", {}).info("first")
            done.set()

        threading.Thread(target=first_call, daemon=True).start()
        assert done.wait(30), "the first call hung"
        log.flush()
        events = rt.actors["m"].sink.events  # type: ignore[attr-defined]
        assert sorted(e.template for e in events) == ["first", "freed"]
    finally:
        log.close()


async def test_set_level_changes_only_the_levels_that_cross_the_gate() -> None:
    """Each compiled method is made once per runtime start and kept: setting the level again,
    or back and forth, puts back the same objects and leaves a level that did not cross the
    gate untouched (CPython 3.13 stops caching look-ups on a class set too often)."""
    async with capture(min_level="info") as cap:
        child = cap.log.bind(user="ada")
        child.info("settle")
        cls = type(child)
        before = dict(cls.__dict__)
        for level in ("info", "debug", "info", "info"):
            cap.log.set_level(level)
        assert all(cls.__dict__[attr] is before[attr] for attr in before)
        cap.log.set_level("debug")
        assert cls.__dict__["info"] is before["info"]
        assert cls.__dict__["debug"] is not before["debug"]


async def test_a_logger_copies_but_does_not_pickle_or_subclass() -> None:
    """``copy`` gives a logger of the same runtime, name and properties; pickling and
    subclassing say why they cannot work."""
    async with capture() as cap:
        child = cap.log.bind(user="ada").named("app")
        for copied in (
            copy.copy(child),
            copy.deepcopy(child),
            type(child)._child(child._rt, child._name, child._bound),
        ):
            assert copied is not child and copied._rt is child._rt
            copied.info("copied")
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(child)
        with pytest.raises(TypeError, match="cannot be subclassed"):

            class Mine(logactors.Logger):  # pragma: no cover (never made)
                pass

        again = type(child)(cap.log._rt, "again", {"n": 1})
        again.info("made from its class")
    assert [(e.logger, dict(e.properties)) for e in cap.events] == [
        ("app", {"user": "ada"})
    ] * 3 + [("again", {"n": 1})]
