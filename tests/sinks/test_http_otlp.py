"""OTLP/HTTP: the binary protobuf encoding decoded with the official opentelemetry-proto
messages (from a real HTTP server on 127.0.0.1), the JSON and protobuf encodings compared field
by field, per-event stand-ins, resource attributes, and the OTLP/HTTP response rules (partial
success, 400 permanent, 429/502/503/504 retryable with Retry-After)."""

from __future__ import annotations

import email.utils
import math
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.logs.v1 import logs_pb2

import logactors
from logactors import (
    ConfigError,
    HttpSink,
    Level,
    LogEvent,
    RetryConfig,
    SupervisorConfig,
)
from logactors.formatting.otlp import (
    ENCODING_ERROR,
    export_request_bytes,
    resource_attributes,
    resource_values,
)
from logactors.formatting.otlp_proto import ProtoEncoder

from ..helpers import assert_balanced
from ..servers import HttpRecorder, Reply
from ..strategies import BadMapping, BadStr, any_values, log_events
from .test_http_encoders import parse_otlp

TS = 1_700_000_000_123_456_789
OBSERVED = 1_700_000_001_000_000_000
TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"
PROTOBUF = "application/x-protobuf"
FAST_RETRY = RetryConfig(attempts=3, initial_backoff=0.001, max_backoff=0.01, jitter=0)


def event(template: str = "hello", level: Level = Level.INFO, **props: Any) -> LogEvent:
    return LogEvent(TS, level, template, props, None, props.pop("logger", ""), "task")


def otlp(url: str, **kwargs: Any) -> HttpSink:
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("format", "protobuf")
    return HttpSink(name="otlp", url=url, protocol="otlp", **kwargs)


def config(*sinks: Any, **kwargs: Any) -> SupervisorConfig:
    kwargs.setdefault("self_log", "off")
    return SupervisorConfig(min_level="trace", sinks=sinks, **kwargs)


def decode(body: bytes) -> ExportLogsServiceRequest:
    return ExportLogsServiceRequest.FromString(body)


def records(request: ExportLogsServiceRequest) -> list[logs_pb2.LogRecord]:
    return [r for rl in request.resource_logs for sl in rl.scope_logs for r in sl.log_records]


def both(events: list[LogEvent], resource: Mapping[str, object] | None = None) -> tuple[Any, Any]:
    """The same events through the JSON and the protobuf encoder, each parsed into the
    official message."""
    values = resource_values(resource or {"service.name": "shop"})
    as_json = export_request_bytes(
        events,
        resource_attributes(values),
        scope_version="9.9",
        observed_ns=OBSERVED,
    )
    as_proto = ProtoEncoder(values, "9.9").encode(events, OBSERVED)
    return parse_otlp(as_json), decode(as_proto)


# -- the encodings ----------------------------------------------------------------------------


def test_json_and_protobuf_encodings_agree_field_by_field() -> None:
    """Every field of every record, scope and resource is the same in both encodings."""
    events = [
        event(
            "Paid {amount} by {user}",
            Level.WARNING,
            logger="shop.pay",
            amount=9.5,
            user="bob",
            count=-3,
            ok=True,
            tags=["a", 1, None],
            meta={"k": "v", "n": None, "deep": {"x": [1.5]}},
            raw=b"\x00\x01",
            big=2**70,
            trace_id=TRACE,
            span_id=SPAN,
            trace_flags=1,
        ),
        LogEvent(TS + 1, Level.CRITICAL, "boom", {}, "Traceback ...\nmod.Bad: it broke"),
        event("odd {x}", x="lone \ud800 surrogate", y={"k\udcff": "v"}),
        event("{n}", n=Level.ERROR, inf=math.inf),
    ]
    from_json, from_proto = both(events)
    assert from_json == from_proto
    # and the comparison is not vacuous
    first = records(from_proto)[0]
    assert first.trace_id == bytes.fromhex(TRACE) and first.span_id == bytes.fromhex(SPAN)
    assert first.flags == 1
    assert first.severity_number == logs_pb2.SEVERITY_NUMBER_WARN
    attrs = {a.key: a.value for a in first.attributes}
    assert {"trace_id", "span_id", "trace_flags"}.isdisjoint(attrs)
    assert attrs["big"].string_value == str(2**70)
    assert attrs["raw"].bytes_value == b"\x00\x01"
    odd = records(from_proto)[2]
    assert odd.body.string_value == "odd lone \\ud800 surrogate"
    assert [s.scope.version for s in from_proto.resource_logs[0].scope_logs] == ["9.9", "9.9"]
    assert [s.scope.name for s in from_proto.resource_logs[0].scope_logs] == [
        "shop.pay",
        "logactors",
    ]


_no_nan = any_values().filter(lambda v: not (isinstance(v, float) and math.isnan(v)))


@pytest.mark.slow
@settings(max_examples=50)
@given(st.lists(log_events(values=_no_nan), min_size=1, max_size=6))
def test_encodings_agree_for_any_events(events: list[LogEvent]) -> None:
    """For any events (nasty text, lone surrogates, hostile values), both encoders produce
    the same message, with one record per event."""
    from_json, from_proto = both(events)
    assert from_json == from_proto
    assert len(records(from_proto)) == len(events)


def test_an_unencodable_event_becomes_a_stand_in_alone() -> None:
    """An event whose record cannot be built (its properties raise when read) is replaced by
    a stand-in (template, level, timestamp, the error); the rest of the batch is intact."""
    bad = LogEvent(TS + 5, Level.ERROR, "bad {x}", BadMapping(), None, "", "task")
    events = [event("good {i}", i=i) for i in range(3)]
    events.insert(1, bad)
    for request in both(events):
        got = records(request)
        assert [r.body.string_value for r in got] == ["good 0", "bad {x}", "good 1", "good 2"]
        stand_in = got[1]
        attrs = {a.key: a.value.string_value for a in stand_in.attributes}
        assert attrs["message_template.text"] == "bad {x}"
        assert attrs[ENCODING_ERROR].startswith("RuntimeError: no ")
        assert stand_in.time_unix_nano == TS + 5
        assert stand_in.severity_number == logs_pb2.SEVERITY_NUMBER_ERROR
        assert [a.key for a in got[2].attributes] == ["i", "message_template.text"]


def test_hostile_values_keep_their_record() -> None:
    """Values whose str/repr raise are written as placeholders inside their own record."""
    for request in both([event("v {x}", x=BadStr())]):
        [record] = records(request)
        attrs = {a.key: a.value.string_value for a in record.attributes}
        assert attrs["x"] == "<unrenderable BadStr>"
        assert ENCODING_ERROR not in attrs


def test_resource_defaults_environment_and_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """service.name/host.name/process.pid by default, OTEL_RESOURCE_ATTRIBUTES over them,
    OTEL_SERVICE_NAME over that, the configuration over everything (None removes)."""
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=env,team=pay%20ments,bad,=x")
    values = resource_values({})
    assert values["service.name"] == "env" and values["team"] == "pay ments"
    assert values["host.name"] == socket.gethostname() and values["process.pid"] == os.getpid()
    assert "bad" not in values and "" not in values
    monkeypatch.setenv("OTEL_SERVICE_NAME", "svc")
    assert resource_values({})["service.name"] == "svc"
    configured = resource_values({"service.name": "cfg", "service.version": "2", "team": None})
    assert configured["service.name"] == "cfg" and configured["service.version"] == "2"
    assert "team" not in configured
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES")
    monkeypatch.delenv("OTEL_SERVICE_NAME")
    assert resource_values({})["service.name"].startswith("unknown_service:")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("protocol", "fmt"), [("json", "protobuf"), ("loki", "protobuf"), ("otlp", "clef")]
)
def test_protobuf_only_for_otlp(protocol: str, fmt: str) -> None:
    """format='protobuf' is for the otlp protocol, which sends nothing else but json."""
    with pytest.raises(ConfigError, match="format"):
        HttpSink(name="h", url="http://x", protocol=protocol, format=fmt).check()  # type: ignore[arg-type]


# -- against a real server ----------------------------------------------------------------------


@pytest.mark.network
@pytest.mark.parametrize("compress", [False, True])
async def test_protobuf_request_decodes_with_the_official_messages(compress: bool) -> None:
    """format='protobuf': /v1/logs, Content-Type application/x-protobuf (gzip when asked),
    a body the official ExportLogsServiceRequest parses, with the resource and scope."""
    with HttpRecorder() as server:
        sink = otlp(
            server.url,
            compress=compress,
            resource={"service.name": "checkout", "service.version": "1.2", "region": "eu"},
        )
        async with logactors.open_logger(config(sink)) as log:
            for i in range(20):
                log.named("shop.pay").info("Charged {amount} #{i}", amount=12.5, i=i)
            await log.flush()
            metrics = log.metrics().sinks["otlp"]
        [request] = server.requests
    assert request.path == "/v1/logs"
    assert request.headers["content-type"] == PROTOBUF
    assert (request.headers.get("content-encoding") == "gzip") is compress
    message = decode(request.body)
    [resource_logs] = message.resource_logs
    resource = {a.key: a.value for a in resource_logs.resource.attributes}
    assert resource["service.name"].string_value == "checkout"
    assert resource["service.version"].string_value == "1.2"
    assert resource["region"].string_value == "eu"
    assert resource["host.name"].string_value == socket.gethostname()
    assert resource["process.pid"].int_value == os.getpid()
    [scope_logs] = resource_logs.scope_logs
    assert scope_logs.scope.name == "shop.pay" and scope_logs.scope.version == logactors.__version__
    got = scope_logs.log_records
    assert [r.body.string_value for r in got] == [f"Charged 12.5 #{i}" for i in range(20)]
    assert [{a.key: a.value.int_value for a in r.attributes}["i"] for r in got] == list(range(20))
    assert all(r.time_unix_nano > 0 and r.observed_time_unix_nano > 0 for r in got)
    assert (metrics.written, metrics.failed) == (20, 0)
    assert metrics.bytes == len(request.raw)
    if compress:
        assert len(request.raw) < len(request.body)


def partial(rejected: int, message: str, content_type: str = PROTOBUF) -> Reply:
    response = ExportLogsServiceResponse(
        partial_success=ExportLogsPartialSuccess(
            rejected_log_records=rejected, error_message=message
        )
    )
    if content_type == PROTOBUF:
        body = response.SerializeToString()
    else:
        from google.protobuf import json_format

        body = json_format.MessageToJson(response).encode()
    return Reply(200, {"Content-Type": content_type}, body)


@pytest.mark.network
@pytest.mark.parametrize(
    ("fmt", "content_type"), [("protobuf", PROTOBUF), ("json", "application/json")]
)
async def test_partial_success_counts_the_rejected_as_failed(fmt: str, content_type: str) -> None:
    """A 200 with partial_success: not retried; rejected_log_records of the batch count as
    failed, the rest as written; error_message is in the self-log once."""
    lines: list[str] = []
    with HttpRecorder([partial(2, "2 records had no body", content_type)]) as server:
        sink = otlp(server.url, format=fmt)
        async with logactors.open_logger(config(sink, self_log=lines.append)) as log:
            for i in range(5):
                log.info("event {i}", i=i)
            await log.flush()
            log.info("later")
            await log.flush()
            metrics = log.metrics().sinks["otlp"]
        assert len(server.requests) == 2  # the partial success was not retried
    assert (metrics.written, metrics.failed) == (4, 2)
    assert sum("2 records had no body" in line for line in lines) == 1, lines
    assert sum("2 events rejected by the peer" in line for line in lines) == 1, lines
    assert_balanced(metrics, "otlp")


@pytest.mark.network
async def test_partial_success_warning_writes_everything() -> None:
    """rejected_log_records 0 with a message is a warning: all written, message self-logged."""
    lines: list[str] = []
    with HttpRecorder([partial(0, "attribute names are deprecated")]) as server:
        async with logactors.open_logger(config(otlp(server.url), self_log=lines.append)) as log:
            log.info("a")
            log.info("b")
            await log.flush()
            metrics = log.metrics().sinks["otlp"]
    assert (metrics.written, metrics.failed) == (2, 0)
    assert any("attribute names are deprecated" in line for line in lines)


def status_body(message: str) -> bytes:
    """A binary google.rpc.Status {code: 3, message} (fields 1 and 2)."""
    data = message.encode()
    return bytes([0x08, 3, 0x12, len(data)]) + data


@pytest.mark.network
@pytest.mark.parametrize("status", [400, 401, 413, 500])
async def test_other_failures_are_permanent(status: int) -> None:
    """400 (and every status but 429/502/503/504) is permanent: one request, the events count
    as failed (no fallback), the Status message is in the self-log."""
    lines: list[str] = []
    reply = Reply(status, {"Content-Type": PROTOBUF}, status_body("field body is invalid"))
    with HttpRecorder([reply]) as server:
        async with logactors.open_logger(config(otlp(server.url), self_log=lines.append)) as log:
            log.info("x")
            log.info("y")
            await log.flush()
            metrics = log.metrics().sinks["otlp"]
        assert len(server.requests) == 1
    assert (metrics.written, metrics.failed) == (0, 2)
    assert any(f"HTTP {status}" in line and "field body is invalid" in line for line in lines)
    assert_balanced(metrics, "otlp")


@pytest.mark.network
@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_retryable_statuses(status: int) -> None:
    """429, 502, 503 and 504 are retried, then the batch is written."""
    with HttpRecorder([status]) as server:
        async with logactors.open_logger(config(otlp(server.url))) as log:
            log.info("x")
            await log.flush()
            metrics = log.metrics().sinks["otlp"]
        assert len(server.requests) == 2
        first, second = (decode(r.body) for r in server.requests)
    for message in (first, second):  # (observed time is when each request was built)
        for record in records(message):
            record.observed_time_unix_nano = 0
    assert first == second
    assert (metrics.written, metrics.failed) == (1, 0)


@pytest.mark.network
@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_429_waits_for_retry_after(autojump_clock: trio.testing.MockClock, form: str) -> None:
    """429 with Retry-After (seconds or an HTTP date): the retry comes no sooner (virtual
    time; the backoff alone would retry after 1 ms)."""
    # Jump only after real idleness: the server thread answers in real time.
    autojump_clock.autojump_threshold = 0.3
    value = "20" if form == "seconds" else email.utils.formatdate(time.time() + 20, usegmt=True)
    with HttpRecorder([Reply(429, {"Retry-After": value})]) as server:
        sink = otlp(server.url, timeout=3600, write_timeout=3600)
        async with logactors.open_logger(config(sink)) as log:
            started = trio.current_time()
            log.info("x")
            await log.flush()
            waited = trio.current_time() - started
            metrics = log.metrics().sinks["otlp"]
        assert len(server.requests) == 2
    assert 18.5 <= waited < 60
    assert metrics.written == 1
