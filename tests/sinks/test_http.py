"""The HTTP sink against real HTTP servers on 127.0.0.1: every protocol's request, auth,
gzip, retries, Retry-After, permanent rejections, refused connections and request splitting."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

import logactors
from logactors import (
    BatchConfig,
    BreakerConfig,
    HttpSink,
    Level,
    LogEvent,
    MemorySink,
    RetryConfig,
    SinkError,
    SupervisorConfig,
)
from logactors.sinks.http import HttpWriter

from ..helpers import assert_balanced
from ..servers import HttpRecorder, Reply, refused_port
from .test_http_encoders import parse_otlp

pytestmark = pytest.mark.network

FAST_RETRY = RetryConfig(attempts=3, initial_backoff=0.001, max_backoff=0.01, jitter=0)


@pytest.fixture
def server() -> Iterator[HttpRecorder]:
    with HttpRecorder() as recorder:
        yield recorder


def http(url: str, **kwargs: Any) -> HttpSink:
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("batch", BatchConfig(max_delay=0))
    return HttpSink(name="http", url=url, **kwargs)


def config(*sinks: Any, **kwargs: Any) -> SupervisorConfig:
    kwargs.setdefault("self_log", "off")
    return SupervisorConfig(min_level="trace", sinks=sinks, **kwargs)


def fallback() -> MemorySink:
    return MemorySink(name="mem", min_level="off")


def event(i: int) -> LogEvent:
    return LogEvent(1_700_000_000_000_000_000 + i, Level.INFO, "event {i}", {"i": i})


# -- protocols ------------------------------------------------------------------------------------


async def test_json_ndjson_post(server: HttpRecorder) -> None:
    """``json``: NDJSON lines of the json format, POSTed to the URL as given, with the
    configured headers; metrics count the bytes sent."""
    sink = http(server.url + "/ingest", headers={"X-Team": "payments"})
    async with logactors.open_logger(config(sink)) as log:
        log.info("Order {id} placed", id=1)
        log.error("Order {id} failed", id=2)
        await log.flush()
        metrics = log.metrics().sinks["http"]
    [request] = server.requests
    assert request.path == "/ingest"
    assert request.headers["content-type"] == "application/x-ndjson"
    assert request.headers["x-team"] == "payments"
    lines = request.ndjson()
    assert [(x["level"], x["message"], x["properties"]) for x in lines] == [
        ("info", "Order 1 placed", {"id": 1}),
        ("error", "Order 2 failed", {"id": 2}),
    ]
    assert metrics.written == 2 and metrics.batches == 1
    assert metrics.bytes == len(request.raw)


async def test_seq_raw_ingestion(server: HttpRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    """``seq``: CLEF lines to /ingest/clef with the CLEF content type and X-Seq-ApiKey taken
    from SEQ_API_KEY when the config has none."""
    monkeypatch.setenv("SEQ_API_KEY", "from-env")
    async with logactors.open_logger(config(http(server.url, protocol="seq"))) as log:
        log.warning("Disk at {pct}%", pct=93.5, trace_id="abc123")
        log.info("fine")
        await log.flush()
    [request] = server.requests
    assert request.path == "/ingest/clef"
    assert request.headers["content-type"] == "application/vnd.serilog.clef"
    assert request.headers["x-seq-apikey"] == "from-env"
    first, second = request.ndjson()
    assert first["@mt"] == "Disk at {pct}%" and first["@l"] == "Warning"
    assert first["pct"] == 93.5 and first["@tr"] == "abc123"
    assert first["@t"].endswith("Z") and len(first["@t"]) == 28
    assert second["@mt"] == "fine" and "@l" not in second


async def test_clef_api_key_from_config_wins(
    server: HttpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configured api_key is used over the environment's."""
    monkeypatch.setenv("SEQ_API_KEY", "from-env")
    sink = http(server.url, protocol="clef", api_key="from-config", format="clef-rendered")
    async with logactors.open_logger(config(sink)) as log:
        log.info("Hello {who}", who="seq")
        await log.flush()
    [request] = server.requests
    assert request.headers["x-seq-apikey"] == "from-config"
    [line] = request.ndjson()
    assert line["@m"] == "Hello seq" and "@mt" not in line and "@i" in line


async def test_loki_push(server: HttpRecorder) -> None:
    """``loki``: /loki/api/v1/push with streams per label set and ns string timestamps."""
    sink = http(server.url, protocol="loki", labels=["app", "env"])
    async with logactors.open_logger(config(sink, properties={"app": "shop"})) as log:
        log.info("a", env="prod")
        log.error("b", env="prod")
        log.info("c", env="prod")
        await log.flush()
    [request] = server.requests
    assert request.path == "/loki/api/v1/push"
    assert request.headers["content-type"] == "application/json"
    streams = request.json()["streams"]
    assert [s["stream"] for s in streams] == [
        {"app": "shop", "env": "prod", "level": "info"},
        {"app": "shop", "env": "prod", "level": "error"},
    ]
    assert [json.loads(line)["message"] for _, line in streams[0]["values"]] == ["a", "c"]
    for stream in streams:
        for ts, _ in stream["values"]:
            assert isinstance(ts, str) and len(ts) == 19 and ts.isdigit()


async def test_otlp_logs(server: HttpRecorder) -> None:
    """``otlp``: /v1/logs with a body that parses as ExportLogsServiceRequest."""
    sink = http(
        server.url, protocol="otlp", resource={"service.name": "checkout", "service.version": "1.2"}
    )
    async with logactors.open_logger(config(sink)) as log:
        log.bind(trace_id="5b8efff798038103d269b633813fc60c", span_id="eee19b7ec3c1b174").info(
            "Charged {amount}", amount=12
        )
        await log.flush()
    [request] = server.requests
    assert request.path == "/v1/logs"
    assert request.headers["content-type"] == "application/json"
    message = parse_otlp(request.body)
    [resource_logs] = message.resource_logs
    resource = {a.key: a.value for a in resource_logs.resource.attributes}
    assert resource["service.name"].string_value == "checkout"
    assert resource["service.version"].string_value == "1.2"
    assert resource["process.pid"].int_value == os.getpid()
    assert set(resource) == {"service.name", "service.version", "host.name", "process.pid"}
    [record] = resource_logs.scope_logs[0].log_records
    assert record.body.string_value == "Charged 12"
    assert record.severity_number == 9
    assert record.trace_id.hex() == "5b8efff798038103d269b633813fc60c"
    assert {a.key: a.value.int_value for a in record.attributes}["amount"] == 12


async def test_elasticsearch_bulk(server: HttpRecorder) -> None:
    """``elasticsearch``: /_bulk NDJSON of index actions and documents."""
    sink = http(server.url, protocol="elasticsearch", index="app-%Y.%m")
    async with logactors.open_logger(config(sink)) as log:
        log.info("one {n}", n=1)
        log.warning("two")
        await log.flush()
    [request] = server.requests
    assert request.path == "/_bulk"
    assert request.headers["content-type"] == "application/x-ndjson"
    lines = request.ndjson()
    assert len(lines) == 4
    assert lines[0]["index"]["_index"].startswith("app-20")
    assert lines[1]["message"] == "one 1" and lines[1]["fields"] == {"n": 1}
    assert lines[3]["log.level"] == "warning"


async def test_elasticsearch_item_errors_are_detected() -> None:
    """A 200 bulk response with ``errors: true``: item 4xx → permanent (fallback)."""
    rejected = json.dumps(
        {
            "errors": True,
            "items": [
                {"index": {"status": 201}},
                {"index": {"status": 400, "error": {"type": "mapper_parsing_exception"}}},
            ],
        }
    ).encode()
    lines: list[str] = []
    with HttpRecorder([Reply(200, {"Content-Type": "application/json"}, rejected)]) as srv:
        sink = http(srv.url, protocol="elasticsearch", fallback="mem")
        async with logactors.open_logger(config(sink, fallback(), self_log=lines.append)) as log:
            log.info("a")
            log.info("b")
            await log.flush()
            mem = list(log.sink("mem").events)  # type: ignore[attr-defined]
        assert len(srv.requests) == 1
    assert [e.template for e in mem] == ["a", "b"]
    assert any("mapper_parsing_exception" in line for line in lines)


async def test_elasticsearch_item_429_is_retried() -> None:
    """Item 429s in a bulk response make the batch retryable."""
    busy = json.dumps({"errors": True, "items": [{"index": {"status": 429}}]}).encode()
    with HttpRecorder([Reply(200, body=busy)]) as srv:
        async with logactors.open_logger(config(http(srv.url, protocol="elasticsearch"))) as log:
            log.info("a")
            await log.flush()
            metrics = log.metrics().sinks["http"]
        assert len(srv.requests) == 2
    assert (metrics.written, metrics.failed) == (1, 0)


# -- transport options ----------------------------------------------------------------------------


async def test_gzip_bodies(server: HttpRecorder) -> None:
    """compress=True: Content-Encoding gzip and a body that decompresses to the NDJSON."""
    async with logactors.open_logger(config(http(server.url, compress=True))) as log:
        for i in range(50):
            log.info("compressible {i}", i=i)
        await log.flush()
        metrics = log.metrics().sinks["http"]
    [request] = server.requests
    assert request.headers["content-encoding"] == "gzip"
    assert request.raw[:2] == b"\x1f\x8b"
    assert [x["message"] for x in request.ndjson()] == [f"compressible {i}" for i in range(50)]
    assert len(request.raw) < len(request.body) / 3
    assert metrics.bytes == len(request.raw)


async def test_basic_auth(server: HttpRecorder) -> None:
    """username/password: HTTP basic authentication."""
    sink = http(server.url, username="user", password="pa:ss")
    async with logactors.open_logger(config(sink)) as log:
        log.info("x")
        await log.flush()
    expected = base64.b64encode(b"user:pa:ss").decode()
    assert server.requests[0].headers["authorization"] == f"Basic {expected}"


async def test_bearer_auth(server: HttpRecorder) -> None:
    """bearer_token: an Authorization: Bearer header."""
    async with logactors.open_logger(config(http(server.url, bearer_token="t0k"))) as log:
        log.info("x")
        await log.flush()
    assert server.requests[0].headers["authorization"] == "Bearer t0k"


async def test_body_size_cap_splits_requests(server: HttpRecorder) -> None:
    """batch.max_bytes: one batch becomes several requests, each within the cap; every event
    arrives once, in order."""
    sink = http(server.url, batch=BatchConfig(max_events=100, max_delay=0, max_bytes=3000))
    async with logactors.open_logger(config(sink)) as log:
        for i in range(60):
            log.info("event {i}", i=i)
        await log.flush()
        metrics = log.metrics().sinks["http"]
    assert len(server.requests) > 1
    assert all(len(r.raw) <= 3000 for r in server.requests)
    got = [x["properties"]["i"] for r in server.requests for x in r.ndjson()]
    assert got == list(range(60))
    assert metrics.bytes == sum(len(r.raw) for r in server.requests)


async def test_writer_splits_one_batch_into_capped_requests(server: HttpRecorder) -> None:
    """The sink itself splits a batch whose body exceeds batch.max_bytes (whatever the
    actor's own batching did), and returns the bytes of all requests."""
    writer = HttpWriter(http(server.url, batch=BatchConfig(max_bytes=3000)))
    await writer.open()
    try:
        sent = await writer.write_batch([event(i) for i in range(60)])
    finally:
        await writer.aclose()
    assert len(server.requests) > 2
    assert all(len(r.raw) <= 3000 for r in server.requests)
    assert [x["properties"]["i"] for r in server.requests for x in r.ndjson()] == list(range(60))
    assert sent == sum(len(r.raw) for r in server.requests)


async def test_split_batch_retry_resumes_after_sent_requests() -> None:
    """When a later request of a split batch fails, the retry of that batch (the same
    sequence, as the actor passes it) does not resend the requests that succeeded."""
    with HttpRecorder([200, 503]) as srv:
        writer = HttpWriter(http(srv.url, batch=BatchConfig(max_bytes=1500)))
        await writer.open()
        batch = [event(i) for i in range(30)]
        try:
            with pytest.raises(SinkError, match="HTTP 503") as failure:
                await writer.write_batch(batch)
            assert not failure.value.permanent
            await writer.write_batch(batch)
            await writer.write_batch([event(99)])  # a new batch starts from its beginning
        finally:
            await writer.aclose()
        accepted = [r for i, r in enumerate(srv.requests) if i != 1]
        got = [x["properties"]["i"] for r in accepted for x in r.ndjson()]
    assert len(srv.requests) > 3
    assert got == [*range(30), 99]


# -- failures -------------------------------------------------------------------------------------


async def test_503_is_retried_then_succeeds() -> None:
    """A 5xx is a retryable failure: the same body is sent again and then counts as written."""
    lines: list[str] = []
    with HttpRecorder([503, 503]) as srv:
        async with logactors.open_logger(config(http(srv.url), self_log=lines.append)) as log:
            log.info("important {n}", n=1)
            await log.flush()
            metrics = log.metrics().sinks["http"]
        assert len(srv.requests) == 3
        assert srv.requests[0].raw == srv.requests[1].raw == srv.requests[2].raw
    assert (metrics.written, metrics.failed, metrics.rerouted) == (1, 0, 0)
    assert sum("HTTP 503" in line for line in lines) == 2


@pytest.mark.parametrize("status", [408, 500, 502])
async def test_other_retryable_statuses(status: int) -> None:
    """408 and every 5xx are retried."""
    with HttpRecorder([status]) as srv:
        async with logactors.open_logger(config(http(srv.url))) as log:
            log.info("x")
            await log.flush()
            metrics = log.metrics().sinks["http"]
        assert len(srv.requests) == 2
    assert metrics.written == 1


async def test_429_honours_retry_after() -> None:
    """429 with Retry-After: the next attempt waits at least that long (the backoff alone
    would retry after 1 ms)."""
    with HttpRecorder([Reply(429, {"Retry-After": "0.3"})]) as srv:
        async with logactors.open_logger(config(http(srv.url))) as log:
            log.info("x")
            await log.flush()
            metrics = log.metrics().sinks["http"]
        first, second = srv.requests
    assert second.at - first.at >= 0.3
    assert metrics.written == 1


async def test_400_is_permanent_goes_to_fallback_and_self_log() -> None:
    """A 400 is not retried; the events go to the fallback sink and the response body is in
    the self-log."""
    lines: list[str] = []
    reply = Reply(
        400,
        {"Content-Type": "application/json"},
        b'{"error": "field \\"user\\" has the wrong type"}',
    )
    with HttpRecorder([reply]) as srv:
        sink = http(srv.url, fallback="mem")
        async with logactors.open_logger(config(sink, fallback(), self_log=lines.append)) as log:
            log.info("rejected {n}", n=1)
            log.info("rejected {n}", n=2)
            await log.flush()
            mem = list(log.sink("mem").events)  # type: ignore[attr-defined]
            snap = log.metrics()
        assert len(srv.requests) == 1
    assert [e.properties["n"] for e in mem] == [1, 2]
    assert snap.sinks["http"].rerouted == 2 and snap.sinks["http"].written == 0
    assert snap.sinks["mem"].written == 2
    assert any(
        "HTTP 400" in line and 'field \\"user\\" has the wrong type' in line for line in lines
    ), lines
    assert_balanced(snap.sinks["http"], "http")


async def test_404_without_fallback_counts_as_failed() -> None:
    """A permanent rejection without a fallback is counted as failed (never spooled)."""
    with HttpRecorder([Reply(404, body=b"no such index")]) as srv:
        async with logactors.open_logger(config(http(srv.url))) as log:
            log.info("x")
            await log.flush()
            metrics = log.metrics().sinks["http"]
        assert len(srv.requests) == 1
    assert (metrics.failed, metrics.written) == (1, 0)


async def test_connection_refused_opens_the_breaker() -> None:
    """Nothing listening: ConnectionError, retried; the breaker opens and the events go to the
    fallback."""
    lines: list[str] = []
    sink = http(
        f"http://127.0.0.1:{refused_port()}/logs",
        fallback="mem",
        retry=RetryConfig(attempts=2, initial_backoff=0.001, jitter=0),
        breaker=BreakerConfig(failure_threshold=2, reset_timeout=60),
        batch=BatchConfig(max_events=1, max_delay=0),
    )
    async with logactors.open_logger(config(sink, fallback(), self_log=lines.append)) as log:
        for i in range(4):
            log.info("event {i}", i=i)
        await log.flush()
        snap = log.metrics()
        mem = list(log.sink("mem").events)  # type: ignore[attr-defined]
    assert snap.sinks["http"].circuit == "open"
    assert [e.properties["i"] for e in mem] == [0, 1, 2, 3]
    assert snap.sinks["http"].written == 0
    assert any("ConnectionError" in line for line in lines)
    assert_balanced(snap.sinks["http"], "http")


async def test_timeout_is_a_retryable_failure() -> None:
    """A server slower than ``timeout``: TimeoutError, retried, then written."""
    lines: list[str] = []
    with HttpRecorder([Reply(200, delay=1.5)]) as srv:
        sink = http(srv.url, timeout=0.3)
        async with logactors.open_logger(config(sink, self_log=lines.append)) as log:
            log.info("x")
            await log.flush()
            metrics = log.metrics().sinks["http"]
        assert len(srv.requests) >= 2  # more only if this machine stalls for 0.3 s
    assert metrics.written == 1
    assert any("TimeoutError" in line for line in lines)


async def test_httpx_own_logs_do_not_feed_back(server: HttpRecorder) -> None:
    """With the stdlib captured, httpx/httpcore's request logs (emitted inside the sink)
    are counted, never forwarded: the sinks see just what the application logged."""
    lines: list[str] = []
    sinks = (http(server.url), MemorySink(name="mem"))
    async with logactors.open_logger(config(*sinks, self_log=lines.append)) as log:
        with log.capture_stdlib("debug"):
            log.info("one")
            await log.flush()
            log.info("two")
            await log.flush()
        mem = [e.template for e in log.sink("mem").events]  # type: ignore[attr-defined]
    assert mem == ["one", "two"]
    assert [x["message"] for r in server.requests for x in r.ndjson()] == ["one", "two"]
    assert len([line for line in lines if "feedback loop" in line]) == 1
