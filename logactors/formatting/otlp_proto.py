"""The ``otlp`` format in binary protobuf (OTLP/HTTP ``application/x-protobuf``).

The same ``ExportLogsServiceRequest`` as :mod:`logactors.formatting.otlp` (one ``scopeLogs``
per logger name, the same resource, severities, body, attributes, trace context and stand-in
records: both are built from :func:`~logactors.formatting.otlp.record_parts`), encoded with the
official generated messages of the ``opentelemetry-proto`` package (optional extra
``otlp-proto``), which run on protobuf's C implementation (upb).

Differences that the encodings themselves impose: 64-bit integers and byte strings are native
(no decimal strings, no base64), trace and span ids are raw bytes, and non-finite doubles are
IEEE values rather than the JSON mapping's ``"NaN"``/``"Infinity"`` strings.

Importing this module raises :class:`ImportError` when ``opentelemetry-proto`` is missing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from .._events import LogEvent
from .._json import safe_repr, safe_str
from .otlp import RecordParts, clean_parts, record_parts, stand_in_parts

__all__ = ["ProtoEncoder", "any_value_pb", "parse_partial_success", "parse_status_message"]

_INT64: Final = 2**63
_MAX_DEPTH: Final = 16


def any_value_pb(value: object, depth: int = 0) -> dict[str, Any]:
    """The ``AnyValue`` of a Python value, as the keyword arguments of the message (mirrors
    ``otlp.any_value``). Messages are built from such dicts in one call: protobuf's C code
    converts nested dicts several times faster than Python builds message objects."""
    if isinstance(value, str):
        return {"string_value": value}
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, int):
        if -_INT64 <= value < _INT64:
            return {"int_value": int.__index__(value)}
        return {"string_value": safe_str(value)}
    if isinstance(value, float):
        return {"double_value": float(value)}
    if value is None:
        return {}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes_value": bytes(value)}
    if depth >= _MAX_DEPTH:
        return {"string_value": safe_repr(value)}
    if isinstance(value, Mapping):
        try:
            items = list(value.items())
        except Exception:
            return {"string_value": safe_repr(value)}
        return {
            "kvlist_value": {
                "values": [
                    {
                        "key": k if isinstance(k, str) else safe_str(k),
                        "value": any_value_pb(v, depth + 1),
                    }
                    for k, v in items
                ]
            }
        }
    if isinstance(value, list | tuple | set | frozenset):
        return {"array_value": {"values": [any_value_pb(v, depth + 1) for v in value]}}
    return {"string_value": safe_str(value)}


def _fields(parts: RecordParts, observed_ns: int) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "time_unix_nano": parts.time_ns,
        "observed_time_unix_nano": observed_ns,
        "severity_number": parts.severity_number,
        "severity_text": parts.severity_text,
        "body": {"string_value": parts.body},
        "attributes": [{"key": k, "value": any_value_pb(v)} for k, v in parts.attributes],
    }
    if parts.trace_id is not None:
        fields["trace_id"] = bytes.fromhex(parts.trace_id)
    if parts.span_id is not None:
        fields["span_id"] = bytes.fromhex(parts.span_id)
    if parts.flags is not None:
        fields["flags"] = parts.flags
    return fields


def log_record_pb(event: LogEvent, observed_ns: int) -> LogRecord:
    """The ``LogRecord`` of one event: as built by :func:`record_parts`; if a value cannot be
    encoded (a string with lone surrogates), again from sanitised parts; if that fails too, the
    stand-in record. Never raises."""
    try:
        parts = record_parts(event)
    except Exception as exc:
        return LogRecord(**_fields(stand_in_parts(event, exc), observed_ns))
    try:
        return LogRecord(**_fields(parts, observed_ns))
    except Exception:
        pass
    try:
        return LogRecord(**_fields(clean_parts(parts), observed_ns))
    except Exception as exc:
        return LogRecord(**_fields(stand_in_parts(event, exc), observed_ns))


class ProtoEncoder:
    """Encodes batches as binary ``ExportLogsServiceRequest`` messages.

    Args:
        resource: the resource attributes (see ``otlp.resource_values``).
        scope_version: the instrumentation scope version.
    """

    def __init__(self, resource: Mapping[str, object], scope_version: str = "") -> None:
        attributes = []
        for key, value in resource.items():
            try:
                attributes.append(KeyValue(key=key, value=AnyValue(**any_value_pb(value))))
            except Exception:  # an unencodable resource value: left out, never fatal
                continue
        self._resource = Resource(attributes=attributes)
        self._scope_version = scope_version

    def request(
        self, events: Sequence[LogEvent], observed_ns: int | None = None
    ) -> ExportLogsServiceRequest:
        """The request message for ``events``.

        The records of a batch are built from their field dicts in one call per scope (the
        fast path); only if that fails (a value protobuf refuses) is each record built alone,
        so that one bad event is cleaned or replaced without costing the others.
        """
        observed = time.time_ns() if observed_ns is None else observed_ns
        scopes: dict[str, list[LogEvent]] = {}
        for event in events:
            scopes.setdefault(event.logger or "logactors", []).append(event)
        scope_logs = []
        for name, members in scopes.items():
            try:
                scope = InstrumentationScope(name=name, version=self._scope_version)
            except Exception:  # a logger name with lone surrogates
                text = name.encode("utf-8", "backslashreplace").decode("utf-8")
                scope = InstrumentationScope(name=text, version=self._scope_version)
            try:
                fields = [_fields(record_parts(event), observed) for event in members]
                # (the generated stubs do not know that dicts are accepted for messages)
                scope_logs.append(ScopeLogs(scope=scope, log_records=cast("Any", fields)))
            except Exception:
                records = [log_record_pb(event, observed) for event in members]
                scope_logs.append(ScopeLogs(scope=scope, log_records=records))
        return ExportLogsServiceRequest(
            resource_logs=[ResourceLogs(resource=self._resource, scope_logs=scope_logs)]
        )

    def encode(self, events: Sequence[LogEvent], observed_ns: int | None = None) -> bytes:
        """The serialised request for ``events``."""
        data: bytes = self.request(events, observed_ns).SerializeToString()
        return data


def parse_partial_success(body: bytes) -> tuple[int, str] | None:
    """``(rejected_log_records, error_message)`` of a binary ``ExportLogsServiceResponse``,
    or None when it has no ``partial_success`` (or cannot be parsed)."""
    try:
        response = ExportLogsServiceResponse.FromString(body)
    except Exception:
        return None
    if not response.HasField("partial_success"):
        return None
    partial = response.partial_success
    return max(0, int(partial.rejected_log_records)), partial.error_message


def parse_status_message(body: bytes) -> str | None:
    """The ``message`` of a binary ``google.rpc.Status`` (the body of an OTLP/HTTP failure),
    read as an unknown field (field 2, a string) so that no googleapis package is needed."""
    from google.protobuf.empty_pb2 import Empty
    from google.protobuf.unknown_fields import UnknownFieldSet

    try:
        fields = UnknownFieldSet(Empty.FromString(body))
        for field in fields:
            if field.field_number == 2 and field.wire_type == 2:
                data: bytes = field.data
                return data.decode("utf-8", "replace")
    except Exception:
        return None
    return None
