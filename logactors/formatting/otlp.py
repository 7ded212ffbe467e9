"""The ``otlp`` format: OTLP/HTTP JSON log export requests (``POST /v1/logs``).

One request is an ``ExportLogsServiceRequest`` in the protobuf JSON mapping::

    {"resourceLogs": [{"resource": {"attributes": [...]},
                       "scopeLogs": [{"scope": {"name": "app.db"}, "logRecords": [...]}]}]}

* One ``scopeLogs`` per logger name (the instrumentation scope, as OpenTelemetry's own logging
  bridge does; ``logactors`` for the root logger), in order of first appearance.
* ``timeUnixNano``/``observedTimeUnixNano`` are decimal strings (64-bit integers are strings
  in the JSON mapping).
* ``severityNumber``/``severityText`` follow the OpenTelemetry log data model: TRACE=1, DEBUG=5,
  INFO=9, WARN=13, ERROR=17, FATAL=21 (CRITICAL is FATAL).
* ``body`` is the rendered message; ``attributes`` are the properties as typed ``AnyValue``s
  (``stringValue``, ``boolValue``, ``intValue`` as a string, ``doubleValue``, ``bytesValue`` in
  base64, ``arrayValue``, ``kvlistValue``), plus ``message_template.text`` and, for an exception,
  ``exception.stacktrace`` / ``exception.type`` / ``exception.message``.
* ``traceId``/``spanId`` come from the ``trace_id``/``span_id`` properties (hex strings, ints or
  bytes) as lower-case hex, as OTLP/JSON requires; values that are not valid ids stay ordinary
  attributes.
* The resource carries the configured attributes, with ``service.name`` defaulting to
  ``unknown_service:<program>`` as the OpenTelemetry SDKs do.
"""

from __future__ import annotations

import base64
import math
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .._events import LogEvent
from .._json import dumps, safe_repr, safe_str
from .._levels import Level, round_level

__all__ = [
    "SEVERITY",
    "any_value",
    "attributes",
    "export_request",
    "export_request_bytes",
    "hex_id",
    "log_record",
    "resource_attributes",
]

#: Level → (severityNumber, severityText).
SEVERITY: Final[dict[Level, tuple[int, str]]] = {
    Level.TRACE: (1, "TRACE"),
    Level.DEBUG: (5, "DEBUG"),
    Level.INFO: (9, "INFO"),
    Level.WARNING: (13, "WARN"),
    Level.ERROR: (17, "ERROR"),
    Level.CRITICAL: (21, "FATAL"),
}

_HEX: Final = re.compile(r"^[0-9a-fA-F]+$")
_INT64: Final = 2**63
_MAX_DEPTH: Final = 16
# The last line of a Python traceback: "module.TypeName: message" (or just "TypeName").
_EXCEPTION_LINE: Final = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$", re.DOTALL)


def any_value(value: object, depth: int = 0) -> dict[str, Any]:
    """The OTLP JSON ``AnyValue`` of a Python value (never raises)."""
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        if -_INT64 <= value < _INT64:
            return {"intValue": str(value)}
        return {"stringValue": safe_str(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return {"doubleValue": value}
        return {
            "doubleValue": "NaN"
            if math.isnan(value)
            else ("Infinity" if value > 0 else "-Infinity")
        }
    if value is None:
        return {}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytesValue": base64.b64encode(bytes(value)).decode("ascii")}
    if depth >= _MAX_DEPTH:
        return {"stringValue": safe_repr(value)}
    if isinstance(value, Mapping):
        try:
            items = list(value.items())
        except Exception:
            return {"stringValue": safe_repr(value)}
        return {
            "kvlistValue": {
                "values": [
                    {
                        "key": k if isinstance(k, str) else safe_str(k),
                        "value": any_value(v, depth + 1),
                    }
                    for k, v in items
                ]
            }
        }
    if isinstance(value, list | tuple | set | frozenset):
        return {"arrayValue": {"values": [any_value(v, depth + 1) for v in value]}}
    return {"stringValue": safe_str(value)}


def attributes(values: Mapping[str, object]) -> list[dict[str, Any]]:
    """A ``KeyValue`` list for a mapping."""
    return [
        {"key": k if isinstance(k, str) else safe_str(k), "value": any_value(v)}
        for k, v in values.items()
    ]


def hex_id(value: object, length: int) -> str | None:
    """``value`` as a lower-case hex id of ``length`` digits, or None if it is not a valid,
    non-zero id (a hex string, a non-negative int or bytes)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text.startswith("0x"):
            text = text[2:]
        if not text or len(text) > length or _HEX.match(text) is None:
            return None
        text = text.rjust(length, "0")
    elif isinstance(value, int) and not isinstance(value, bool):
        if value < 0 or value >= 16**length:
            return None
        text = f"{value:0{length}x}"
    elif isinstance(value, bytes | bytearray):
        if len(value) * 2 != length:
            return None
        text = bytes(value).hex()
    else:
        return None
    return None if text.strip("0") == "" else text


def _exception_attributes(text: str) -> list[dict[str, Any]]:
    out = [{"key": "exception.stacktrace", "value": {"stringValue": text}}]
    lines = [line for line in text.strip().splitlines() if line and not line[0].isspace()]
    if lines:
        match = _EXCEPTION_LINE.match(lines[-1])
        if match:
            out.append({"key": "exception.type", "value": {"stringValue": match.group(1)}})
            if match.group(2):
                out.append({"key": "exception.message", "value": {"stringValue": match.group(2)}})
    return out


def log_record(event: LogEvent, observed_ns: int | None = None) -> dict[str, Any]:
    """The ``LogRecord`` of one event."""
    number, text = SEVERITY[round_level(event.level)]
    props = event.properties
    record: dict[str, Any] = {
        "timeUnixNano": str(event.timestamp_ns),
        "observedTimeUnixNano": str(observed_ns if observed_ns is not None else event.timestamp_ns),
        "severityNumber": number,
        "severityText": text,
        "body": {"stringValue": event.rendered},
    }
    moved: set[str] = set()
    for key, field, length in (("trace_id", "traceId", 32), ("span_id", "spanId", 16)):
        if key in props:
            ident = hex_id(props[key], length)
            if ident is not None:
                record[field] = ident
                moved.add(key)
    attrs = [
        {"key": k if isinstance(k, str) else safe_str(k), "value": any_value(v)}
        for k, v in props.items()
        if k not in moved
    ]
    keys = {a["key"] for a in attrs}
    extra = [{"key": "message_template.text", "value": {"stringValue": event.template}}]
    if event.exception:
        extra.extend(_exception_attributes(event.exception))
    attrs.extend(a for a in extra if a["key"] not in keys)
    record["attributes"] = attrs
    return record


def _program() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name or "python"


def resource_attributes(resource: Mapping[str, object]) -> list[dict[str, Any]]:
    """The resource's ``KeyValue`` list, with a default ``service.name``."""
    values = dict(resource)
    values.setdefault("service.name", f"unknown_service:{_program()}")
    return attributes(values)


def export_request(
    events: Sequence[LogEvent],
    resource: Sequence[dict[str, Any]],
    *,
    scope_version: str = "",
    observed_ns: int | None = None,
) -> dict[str, Any]:
    """The ``ExportLogsServiceRequest`` (JSON mapping) for ``events``.

    Args:
        events: the batch.
        resource: the resource attributes (see :func:`resource_attributes`).
        scope_version: the instrumentation scope version.
        observed_ns: ``observedTimeUnixNano`` (default: now).
    """
    observed = time.time_ns() if observed_ns is None else observed_ns
    scopes: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        scopes.setdefault(event.logger or "logactors", []).append(log_record(event, observed))
    scope_logs = []
    for name, records in scopes.items():
        scope: dict[str, Any] = {"name": name}
        if scope_version:
            scope["version"] = scope_version
        scope_logs.append({"scope": scope, "logRecords": records})
    return {"resourceLogs": [{"resource": {"attributes": resource}, "scopeLogs": scope_logs}]}


def export_request_bytes(
    events: Sequence[LogEvent], resource: Sequence[dict[str, Any]], *, scope_version: str = ""
) -> bytes:
    """:func:`export_request` encoded as JSON."""
    return dumps(export_request(events, resource, scope_version=scope_version))
