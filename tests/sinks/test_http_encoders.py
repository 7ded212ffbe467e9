"""The HTTP protocol encoders (pure functions): OTLP, Loki, Elasticsearch, CLEF; Retry-After;
endpoint paths; request splitting by size."""

from __future__ import annotations

import base64
import email.utils
import json
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1 import logs_pb2

from logactors import BatchConfig, HttpSink, Level, LogEvent
from logactors.formatting.elasticsearch import BulkEncoder
from logactors.formatting.loki import label_name, loki_push
from logactors.formatting.otlp import (
    any_value,
    export_request_bytes,
    hex_id,
    resource_attributes,
)
from logactors.sinks.http import HttpWriter, endpoint_url, parse_retry_after

TS = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20Z
TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


def event(
    template: str = "hello",
    level: Level = Level.INFO,
    exception: str | None = None,
    logger: str = "",
    ts: int = TS,
    **props: Any,
) -> LogEvent:
    return LogEvent(ts, level, template, props, exception, logger, "task")


def parse_otlp(body: bytes) -> ExportLogsServiceRequest:
    """Parse an OTLP/JSON body strictly into the protobuf message.

    OTLP/JSON spells traceId/spanId in hex, where protobuf's generic JSON mapping expects
    base64 for bytes fields (the collector special-cases them): convert before parsing.
    """
    data = json.loads(body)
    for resource_logs in data["resourceLogs"]:
        for scope_logs in resource_logs["scopeLogs"]:
            for record in scope_logs["logRecords"]:
                for key in ("traceId", "spanId"):
                    if key in record:
                        raw = bytes.fromhex(record[key])
                        record[key] = base64.b64encode(raw).decode()
    return json_format.Parse(json.dumps(data), ExportLogsServiceRequest())


# -- OTLP -----------------------------------------------------------------------------------------


def test_otlp_body_parses_as_export_logs_service_request() -> None:
    """Timestamps, severity, body, typed attributes, trace context, scope and resource all
    land in the right protobuf fields."""
    events = [
        event(
            "Paid {amount} by {user}",
            Level.WARNING,
            logger="shop.pay",
            amount=9.5,
            user="bob",
            count=3,
            ok=True,
            tags=["a", 1],
            meta={"k": "v", "n": None},
            raw=b"\x00\x01",
            big=2**70,
            trace_id=TRACE,
            span_id=SPAN,
        ),
        event(
            "plain",
            Level.CRITICAL,
            exception="Traceback (most recent call last):\n"
            '  File "x.py", line 1\nmod.BadThing: it broke',
        ),
    ]
    body = export_request_bytes(
        events,
        resource_attributes(
            {"service.name": "shop", "deployment": "prod", "host.name": None, "process.pid": None}
        ),
    )
    request = parse_otlp(body)
    [resource_logs] = request.resource_logs
    resource = {a.key: a.value.string_value for a in resource_logs.resource.attributes}
    assert resource == {"service.name": "shop", "deployment": "prod"}
    assert [s.scope.name for s in resource_logs.scope_logs] == ["shop.pay", "logactors"]
    first = resource_logs.scope_logs[0].log_records[0]
    assert first.time_unix_nano == TS
    assert first.severity_number == logs_pb2.SEVERITY_NUMBER_WARN
    assert first.severity_text == "WARN"
    assert first.body.string_value == "Paid 9.5 by bob"
    assert first.trace_id == bytes.fromhex(TRACE)
    assert first.span_id == bytes.fromhex(SPAN)
    attrs = {a.key: a.value for a in first.attributes}
    assert "trace_id" not in attrs and "span_id" not in attrs
    assert attrs["amount"].double_value == 9.5
    assert attrs["user"].string_value == "bob"
    assert attrs["count"].int_value == 3
    assert attrs["ok"].bool_value is True
    assert [v.string_value or v.int_value for v in attrs["tags"].array_value.values] == ["a", 1]
    kv = {x.key: x.value for x in attrs["meta"].kvlist_value.values}
    assert kv["k"].string_value == "v"
    assert kv["n"].WhichOneof("value") is None
    assert attrs["raw"].bytes_value == b"\x00\x01"
    assert attrs["big"].string_value == str(2**70)
    assert attrs["message_template.text"].string_value == "Paid {amount} by {user}"
    second = resource_logs.scope_logs[1].log_records[0]
    assert second.severity_number == logs_pb2.SEVERITY_NUMBER_FATAL
    assert second.severity_text == "FATAL"
    exc = {a.key: a.value.string_value for a in second.attributes}
    assert exc["exception.type"] == "mod.BadThing"
    assert exc["exception.message"] == "it broke"
    assert exc["exception.stacktrace"].startswith("Traceback")


@pytest.mark.parametrize(
    ("level", "number", "text"),
    [
        (Level.TRACE, 1, "TRACE"),
        (Level.DEBUG, 5, "DEBUG"),
        (Level.INFO, 9, "INFO"),
        (Level.WARNING, 13, "WARN"),
        (Level.ERROR, 17, "ERROR"),
        (Level.CRITICAL, 21, "FATAL"),
    ],
)
def test_otlp_severity_mapping(level: Level, number: int, text: str) -> None:
    """severityNumber/Text per the OpenTelemetry log data model."""
    record = json.loads(export_request_bytes([event(level=level)], []))["resourceLogs"][0][
        "scopeLogs"
    ][0]["logRecords"][0]
    assert (record["severityNumber"], record["severityText"]) == (number, text)
    assert record["timeUnixNano"] == str(TS)


def test_otlp_default_service_name() -> None:
    """Without a configured service.name the resource says unknown_service:<program>."""
    attrs = {a["key"]: a["value"] for a in resource_attributes({})}
    assert attrs["service.name"]["stringValue"].startswith("unknown_service:")


@pytest.mark.parametrize(
    ("value", "length", "expected"),
    [
        (TRACE, 32, TRACE),
        (TRACE.upper(), 32, TRACE),
        ("0x" + SPAN, 16, SPAN),
        ("abc", 16, "0000000000000abc"),
        (255, 16, "00000000000000ff"),
        (bytes.fromhex(SPAN), 16, SPAN),
        ("0" * 32, 32, None),
        ("xyz", 16, None),
        (TRACE, 16, None),
        (-1, 16, None),
        (b"\x01", 16, None),
        (1.5, 16, None),
    ],
)
def test_hex_ids(value: object, length: int, expected: str | None) -> None:
    """Trace/span ids from hex strings, ints or bytes; invalid and all-zero ids are refused."""
    assert hex_id(value, length) == expected


def test_otlp_invalid_trace_id_stays_an_attribute() -> None:
    """A trace_id that is not a valid id is kept as an attribute, not sent as traceId."""
    request = parse_otlp(export_request_bytes([event(trace_id="not-hex")], []))
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    assert record.trace_id == b""
    assert {a.key: a.value.string_value for a in record.attributes}["trace_id"] == "not-hex"


def test_any_value_non_finite_floats_and_cycles() -> None:
    """Non-finite doubles use the JSON mapping's names; deep or cyclic values terminate."""
    assert any_value(float("inf")) == {"doubleValue": "Infinity"}
    assert any_value(float("nan")) == {"doubleValue": "NaN"}
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    body = json.dumps(
        {
            "resourceLogs": [
                {
                    "scopeLogs": [
                        {"logRecords": [{"attributes": [{"key": "c", "value": any_value(cyclic)}]}]}
                    ]
                }
            ]
        }
    )
    json_format.Parse(body, ExportLogsServiceRequest())
    request = parse_otlp(export_request_bytes([event(x=float("-inf"))], []))
    attrs = request.resource_logs[0].scope_logs[0].log_records[0].attributes
    assert attrs[0].value.double_value == float("-inf")


# -- Loki -----------------------------------------------------------------------------------------


def test_loki_streams_by_label_set() -> None:
    """One stream per label set (configured properties + level), values as [ns string, line],
    events kept in order within a stream."""
    events = [
        event("a", app="shop", region="eu", other=1),
        event("b", Level.ERROR, app="shop", region="eu"),
        event("c", app="shop", region="eu", ts=TS + 1),
        event("d", app="shop"),
        event("e", app=42, region=""),
    ]
    body = json.loads(loki_push(events, ("app", "region"), lambda e: e.template))
    assert body == {
        "streams": [
            {
                "stream": {"app": "shop", "level": "info", "region": "eu"},
                "values": [[str(TS), "a"], [str(TS + 1), "c"]],
            },
            {
                "stream": {"app": "shop", "level": "error", "region": "eu"},
                "values": [[str(TS), "b"]],
            },
            {"stream": {"app": "shop", "level": "info"}, "values": [[str(TS), "d"]]},
            {"stream": {"app": "42", "level": "info"}, "values": [[str(TS), "e"]]},
        ]
    }
    for stream in body["streams"]:
        assert all(isinstance(v, str) for v in stream["stream"].values())
        for ts, line in stream["values"]:
            assert isinstance(ts, str) and ts.isdigit() and isinstance(line, str)


@pytest.mark.parametrize(
    ("name", "label"),
    [("app", "app"), ("service.name", "service_name"), ("1st", "_1st"), ("a-b", "a_b"), ("", "_")],
)
def test_loki_label_names(name: str, label: str) -> None:
    """Label names match [a-zA-Z_][a-zA-Z0-9_]*."""
    assert label_name(name) == label


# -- Elasticsearch --------------------------------------------------------------------------------


def test_bulk_body_pairs_actions_and_documents() -> None:
    """Each event is an index action naming the dated index, then its document."""
    encoder = BulkEncoder("Logs-%Y.%m.%d")
    next_day = TS + 86_400 * 10**9
    body = encoder.encode_batch(
        [
            event("Paid {amount}", Level.WARNING, logger="shop", amount=5),
            event("boom", Level.ERROR, exception="Traceback...", ts=next_day),
        ]
    )
    assert body.endswith(b"\n")
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert lines[0] == {"index": {"_index": "logs-2023.11.14"}}
    assert lines[1] == {
        "@timestamp": "2023-11-14T22:13:20.123456Z",
        "log.level": "warning",
        "message": "Paid 5",
        "message_template": "Paid {amount}",
        "log.logger": "shop",
        "fields": {"amount": 5},
    }
    assert lines[2] == {"index": {"_index": "logs-2023.11.15"}}
    assert lines[3]["error.stack_trace"] == "Traceback..."
    assert "fields" not in lines[3]


# -- HTTP helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "protocol", "expected"),
    [
        ("http://seq:5341", "seq", "http://seq:5341/ingest/clef"),
        ("http://seq:5341/", "clef", "http://seq:5341/ingest/clef"),
        ("http://seq:5341/api/events/raw?clef", "seq", "http://seq:5341/api/events/raw?clef"),
        ("http://loki:3100", "loki", "http://loki:3100/loki/api/v1/push"),
        ("https://otel:4318", "otlp", "https://otel:4318/v1/logs"),
        ("http://es:9200", "elasticsearch", "http://es:9200/_bulk"),
        ("http://es:9200/custom/_bulk", "elasticsearch", "http://es:9200/custom/_bulk"),
        ("http://h:1", "json", "http://h:1"),
    ],
)
def test_endpoint_url(url: str, protocol: str, expected: str) -> None:
    """A URL without a path gets the protocol's path; an explicit path is kept."""
    assert endpoint_url(url, protocol) == expected


def test_parse_retry_after() -> None:
    """Delay-seconds (fractions too) or an HTTP date; junk and absence give None."""
    now = 1_700_000_000.0
    assert parse_retry_after("5", now) == 5.0
    assert parse_retry_after(" 0.25 ", now) == 0.25
    assert parse_retry_after("-3", now) == 0.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("inf", now) is None
    assert parse_retry_after("", now) is None
    assert parse_retry_after(None, now) is None


@pytest.mark.parametrize("protocol", ["json", "seq", "elasticsearch", "loki", "otlp"])
def test_bodies_respect_max_bytes(protocol: str) -> None:
    """With batch.max_bytes, a batch becomes several bodies, each within the cap, covering
    every event once and in order."""
    config = HttpSink(
        name="h",
        url="http://x",
        protocol=protocol,  # type: ignore[arg-type]
        batch=BatchConfig(max_bytes=2000),
    )
    writer = HttpWriter(config)
    events = [event("event {pad}", tag=f"#{i:03d}#", pad="p" * (i % 7) * 20) for i in range(60)]
    bodies = list(writer.bodies(events))
    assert len(bodies) > 1
    assert all(len(body) <= 2000 for _, body in bodies)
    ends = [end for end, _ in bodies]
    assert ends == sorted(ends) and ends[-1] == 60
    whole = b"".join(body for _, body in bodies).decode()
    assert all(whole.count(f"#{i:03d}#") == 1 for i in range(60))
    positions = [whole.index(f"#{i:03d}#") for i in range(60)]
    assert positions == sorted(positions)


def test_bodies_resume_after_a_partial_write() -> None:
    """Bodies can start part-way through a batch (a retry skips what was sent)."""
    writer = HttpWriter(HttpSink(name="h", url="http://x", batch=BatchConfig(max_bytes=400)))
    events = [event("event {i}", i=i) for i in range(10)]
    bodies = list(writer.bodies(events, start=4))
    text = b"".join(b for _, b in bodies).decode()
    assert "event 3" not in text
    assert all(f"event {i}" in text for i in range(4, 10))


def test_one_event_larger_than_the_cap_goes_alone() -> None:
    """An event bigger than max_bytes is sent in a body of its own (not dropped)."""
    writer = HttpWriter(
        HttpSink(name="h", url="http://x", protocol="otlp", batch=BatchConfig(max_bytes=1000))
    )
    events = [event("small"), event("{big}", big="b" * 5000), event("small again")]
    bodies = list(writer.bodies(events))
    assert [end for end, _ in bodies] == [1, 2, 3]
    assert len(bodies[1][1]) > 5000
