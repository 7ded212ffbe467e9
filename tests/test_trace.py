"""Trace correlation without code: spans of the real OpenTelemetry SDK put their ids on the
events logged inside them, in trio tasks, worker threads, plain threads and through the stdlib
bridge; CLEF and OTLP carry them in their own fields; a config switch turns it off."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import trio
import trio.lowlevel
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Span, Tracer

import logactors
from logactors import HttpSink, LogEvent, MemorySink, SupervisorConfig, _capture, _trace
from logactors.formatting._time import IsoUtc
from logactors.formatting.json import clef_dict
from logactors.formatting.otlp import log_record

from .servers import HttpRecorder
from .sinks.test_http_encoders import parse_otlp


@pytest.fixture(scope="module")
def tracer() -> Tracer:
    """A tracer of the real SDK (its own provider; the global one is left alone)."""
    return TracerProvider().get_tracer("tests")


def config(**kwargs: Any) -> SupervisorConfig:
    kwargs.setdefault("self_log", "off")
    return SupervisorConfig(min_level="trace", sinks=[MemorySink(name="mem")], **kwargs)


def events(log: logactors.Logger) -> list[LogEvent]:
    return list(log.sink("mem").events)  # type: ignore[attr-defined]


def ids(span: Span) -> dict[str, object]:
    ctx = span.get_span_context()
    return {
        "trace_id": f"{ctx.trace_id:032x}",
        "span_id": f"{ctx.span_id:016x}",
        "trace_flags": int(ctx.trace_flags),
    }


def trace_of(event: LogEvent) -> dict[str, object]:
    keys = ("trace_id", "span_id", "trace_flags")
    return {k: event.properties[k] for k in keys if k in event.properties}


async def test_events_in_a_span_carry_its_ids(tracer: Tracer) -> None:
    """Inside a span: trace_id, span_id, trace_flags of the innermost active span; outside:
    none of them."""
    async with logactors.open_logger(config()) as log:
        log.info("before")
        with tracer.start_as_current_span("outer") as outer:
            log.info("in outer {n}", n=1)
            with tracer.start_as_current_span("inner") as inner:
                log.bind(user="bob").warning("in inner")
                await log.ainfo("awaiting, in inner")
            log.error("back in outer", exc_info=ValueError("x"))
        log.info("after")
        await log.flush()
        got = events(log)
    assert [trace_of(e) for e in got] == [{}, ids(outer), ids(inner), ids(inner), ids(outer), {}]
    assert ids(outer)["trace_id"] == ids(inner)["trace_id"]
    assert ids(outer)["span_id"] != ids(inner)["span_id"]
    assert ids(inner)["trace_flags"] & 1 == 1  # type: ignore[operator]  # sampled
    assert got[2].properties["user"] == "bob"


async def test_unsampled_span_has_flags_zero() -> None:
    """A span that is not sampled still has valid ids: they are added, the sampled bit of
    trace_flags clear."""
    tracer = TracerProvider(sampler=ALWAYS_OFF).get_tracer("tests")
    async with logactors.open_logger(config()) as log:
        with tracer.start_as_current_span("dropped") as span:
            log.info("x")
        await log.flush()
        [event] = events(log)
    assert not span.is_recording()
    assert trace_of(event) == ids(span) and event.properties["trace_flags"] & 1 == 0


async def test_an_explicit_trace_id_wins(tracer: Tracer) -> None:
    """An event that already has a trace_id (call site, bound or ambient) keeps its own."""
    async with logactors.open_logger(config()) as log:
        with tracer.start_as_current_span("s"):
            log.info("call site", trace_id="abc")
            log.bind(trace_id="bound").info("bound")
            with log.context(trace_id="ambient"):
                log.info("ambient")
        await log.flush()
        got = events(log)
    assert [e.properties["trace_id"] for e in got] == ["abc", "bound", "ambient"]
    assert all("span_id" not in e.properties for e in got)


async def test_switched_off_by_config(tracer: Tracer) -> None:
    """trace_context=False: no ids, on any path."""
    async with logactors.open_logger(config(trace_context=False)) as log:
        with tracer.start_as_current_span("s"):
            log.info("sync")
            await log.ainfo("awaiting")
            await trio.to_thread.run_sync(lambda: log.info("thread"))
        await log.flush()
        got = events(log)
    assert len(got) == 3 and all(trace_of(e) == {} for e in got)


async def test_each_trio_task_has_its_own_span(tracer: Tracer) -> None:
    """Concurrent tasks, each in its own span, interleaved at checkpoints: every event has
    the span of the task that logged it; a child task inherits its parent's span."""
    spans: dict[str, Span] = {}

    async with logactors.open_logger(config()) as log:

        async def worker(name: str) -> None:
            with tracer.start_as_current_span(name) as span:
                spans[name] = span
                for i in range(5):
                    log.info("{name} step {i}", name=name, i=i)
                    await trio.lowlevel.checkpoint()

        async with trio.open_nursery() as nursery:
            for name in ("a", "b", "c"):
                nursery.start_soon(worker, name)
        with tracer.start_as_current_span("parent") as parent:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(lambda: trio.to_thread.run_sync(log.info, "child thread"))
        await log.flush()
        got = events(log)
    steps = [e for e in got if "name" in e.properties]
    assert len(steps) == 15
    assert len({e.properties["name"] for e in steps[:3]}) == 3  # really interleaved
    for e in steps:
        assert trace_of(e) == ids(spans[e.properties["name"]])
    assert trace_of(got[-1]) == ids(parent)


async def test_worker_and_plain_threads(tracer: Tracer) -> None:
    """trio.to_thread.run_sync copies the context (the task's span); a plain thread logs
    with the span it started itself, captured in that thread at the call."""
    thread_span: list[Span] = []

    def in_thread() -> None:
        with tracer.start_as_current_span("thread-span") as span:
            thread_span.append(span)
            log.info("plain thread")
        log.info("plain thread, no span")

    async with logactors.open_logger(config()) as log:
        with tracer.start_as_current_span("task-span") as task_span:
            await trio.to_thread.run_sync(lambda: log.info("worker thread"))
            thread = threading.Thread(target=in_thread)
            thread.start()
            await trio.to_thread.run_sync(thread.join)
        await log.flush()
        got = {e.template: e for e in events(log)}
    assert trace_of(got["worker thread"]) == ids(task_span)
    assert trace_of(got["plain thread"]) == ids(thread_span[0])
    assert trace_of(got["plain thread, no span"]) == {}


async def test_stdlib_bridge(tracer: Tracer) -> None:
    """Records of the stdlib logging module carry the span active where they were logged."""
    async with logactors.open_logger(config()) as log:
        with log.capture_stdlib("info"), tracer.start_as_current_span("s") as span:
            logging.getLogger("lib").warning("from stdlib %d", 1)
            await trio.to_thread.run_sync(lambda: logging.getLogger("lib").info("in a thread"))
        await log.flush()
        got = events(log)
    assert [e.rendered for e in got] == ["from stdlib 1", "in a thread"]
    assert all(trace_of(e) == ids(span) for e in got)


async def test_clef_and_otlp_fields(tracer: Tracer) -> None:
    """CLEF writes the ids as @tr/@sp (flags as a property); OTLP as traceId/spanId/flags,
    to a real OTLP/HTTP endpoint."""
    with HttpRecorder() as server:
        sinks = [MemorySink(name="mem"), HttpSink(name="otlp", url=server.url, protocol="otlp")]
        async with logactors.open_logger(SupervisorConfig(sinks=sinks, self_log="off")) as log:
            with tracer.start_as_current_span("s") as span:
                log.info("hello")
            await log.flush()
            [event] = events(log)
        [request] = server.requests
    clef = orjson.loads(orjson.dumps(clef_dict(event, IsoUtc(7))))
    expected = ids(span)
    assert (clef["@tr"], clef["@sp"], clef["trace_flags"]) == (
        expected["trace_id"],
        expected["span_id"],
        expected["trace_flags"],
    )
    [record] = parse_otlp(request.body).resource_logs[0].scope_logs[0].log_records
    assert record.trace_id.hex() == expected["trace_id"]
    assert record.span_id.hex() == expected["span_id"]
    assert record.flags == expected["trace_flags"] and record.flags & 1 == 1
    assert {a.key for a in record.attributes}.isdisjoint({"trace_id", "span_id", "trace_flags"})
    assert log_record(event)["flags"] == expected["trace_flags"]


async def test_no_span_costs_only_the_context_lookup(
    tracer: Tracer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside any span the logger never calls into the span lookup (the empty context
    answers); inside one it does, once per call."""
    calls: list[int] = []
    real = _trace.add_trace

    def counting(props: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(1)
        return real(props, context)

    monkeypatch.setattr(_capture, "add_trace", counting)
    async with logactors.open_logger(config()) as log:
        for i in range(10):
            log.info("outside {i}", i=i)
        assert calls == []
        with tracer.start_as_current_span("s"):
            log.info("inside")
        assert len(calls) == 1
        await log.flush()


@pytest.fixture
def without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """opentelemetry made unimportable, and the lookup cache reset (before and after)."""
    for name in [m for m in sys.modules if m == "opentelemetry" or m.startswith("opentelemetry.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    monkeypatch.setattr(_trace, "_getter", _trace._UNSET)
    yield
    monkeypatch.setattr(_trace, "_getter", _trace._UNSET)


def test_off_without_opentelemetry(without_opentelemetry: None) -> None:
    """Without opentelemetry-api the logger holds no getter (nothing to do per call)."""
    assert _trace.context_getter() is None


def test_getter_is_the_context_var_get() -> None:
    """With the default runtime context, the per-call lookup is the ContextVar's own get."""
    from opentelemetry import context

    getter = _trace.context_getter()
    assert getter is not None and getter() is context.get_current()
    assert type(getter).__name__ == "builtin_function_or_method"
    assert _trace.context_getter(False) is None
