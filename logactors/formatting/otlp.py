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
  bytes) as lower-case hex, as OTLP/JSON requires, and ``flags`` from ``trace_flags`` (an int
  0-255); values that are not valid stay ordinary attributes.
* The resource (:func:`resource_values`): ``service.name`` (default
  ``unknown_service:<program>``, as the OpenTelemetry SDKs do), ``host.name``, ``process.pid``,
  then ``OTEL_RESOURCE_ATTRIBUTES`` and ``OTEL_SERVICE_NAME`` from the environment, then the
  configured attributes (``None`` removes one).
* One event that cannot be encoded does not cost the batch: its record is built again from
  sanitised values, or replaced by a stand-in record (its template, level, timestamp and the
  error as ``logactors.encoding_error``).

The binary protobuf encoding of the same request is :mod:`logactors.formatting.otlp_proto`;
both are built from the same parts (:func:`record_parts`), so they carry the same fields.
"""

from __future__ import annotations

import base64
import math
import os
import re
import socket
import sys
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple, cast

import orjson

from .._events import LogEvent
from .._json import _clean_str, dumps, safe_repr, safe_str
from .._levels import Level, round_level

__all__ = [
    "ENCODING_ERROR",
    "SEVERITY",
    "RecordParts",
    "any_value",
    "attributes",
    "clean_parts",
    "export_request",
    "export_request_bytes",
    "hex_id",
    "log_record",
    "record_parts",
    "resource_attributes",
    "resource_values",
    "stand_in_parts",
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

#: The attribute of a stand-in record: why the event's own record could not be encoded.
ENCODING_ERROR: Final = "logactors.encoding_error"

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
            return {"intValue": int.__repr__(value)}  # (the number even if a subclass says else)
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


def _exception_attributes(text: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = [("exception.stacktrace", text)]
    lines = [line for line in text.strip().splitlines() if line and not line[0].isspace()]
    if lines:
        match = _EXCEPTION_LINE.match(lines[-1])
        if match:
            out.append(("exception.type", match.group(1)))
            if match.group(2):
                out.append(("exception.message", match.group(2)))
    return out


class RecordParts(NamedTuple):
    """What one ``LogRecord`` carries, before either encoding (JSON mapping or protobuf)."""

    time_ns: int
    severity_number: int
    severity_text: str
    body: str
    trace_id: str | None  # lower-case hex, 32 digits
    span_id: str | None  # lower-case hex, 16 digits
    flags: int | None  # W3C trace flags (0-255)
    attributes: list[tuple[str, object]]  # (key, Python value), in order


def record_parts(event: LogEvent) -> RecordParts:
    """The parts of ``event``'s record (may raise on a hostile value: see
    :func:`stand_in_parts`)."""
    number, text = SEVERITY[round_level(event.level)]
    props = event.properties
    trace = span = None
    flags: int | None = None
    moved: tuple[str, ...] = ()
    if "trace_id" in props or "span_id" in props or "trace_flags" in props:
        trace = hex_id(props["trace_id"], 32) if "trace_id" in props else None
        span = hex_id(props["span_id"], 16) if "span_id" in props else None
        raw_flags = props.get("trace_flags")
        if type(raw_flags) is int and 0 <= raw_flags <= 255:
            flags = raw_flags
        moved = tuple(
            key
            for key, value in (("trace_id", trace), ("span_id", span), ("trace_flags", flags))
            if value is not None
        )
    attrs: list[tuple[str, object]] = [
        (k if k.__class__ is str else safe_str(k), v) for k, v in props.items() if k not in moved
    ]
    extra: list[tuple[str, object]] = [("message_template.text", event.template)]
    if event.exception:
        extra.extend(_exception_attributes(event.exception))
    keys = {k for k, _ in attrs}
    attrs.extend(a for a in extra if a[0] not in keys)
    return RecordParts(event.timestamp_ns, number, text, event.rendered, trace, span, flags, attrs)


def stand_in_parts(event: LogEvent, error: BaseException) -> RecordParts:
    """The parts of the stand-in record for an event whose own record cannot be encoded: its
    template (as body and ``message_template.text``), level, timestamp and the error."""
    try:
        number, text = SEVERITY[round_level(event.level)]
    except Exception:
        number, text = SEVERITY[Level.INFO]
    template = _clean_str(safe_str(event.template))
    reason = _clean_str(f"{type(error).__name__}: {safe_str(error)}")
    stamp = event.timestamp_ns
    if not (isinstance(stamp, int) and 0 <= stamp < 2**64):
        stamp = time.time_ns()
    attrs: list[tuple[str, object]] = [
        ("message_template.text", template),
        (ENCODING_ERROR, reason),
    ]
    return RecordParts(int(stamp), number, text, template, None, None, None, attrs)


def _clean_value(value: object, depth: int = 0) -> object:
    """``value`` with every string (keys included) made encodable as UTF-8 (lone surrogates
    backslash-escaped, as the JSON encoder's sanitiser does); other values as they are."""
    if isinstance(value, str):
        return _clean_str(value)
    if depth >= _MAX_DEPTH or isinstance(value, bytes | bytearray | memoryview):
        return value
    if isinstance(value, Mapping):
        try:
            items = list(value.items())
        except Exception:
            return safe_repr(value)
        return {
            _clean_str(k if isinstance(k, str) else safe_str(k)): _clean_value(v, depth + 1)
            for k, v in items
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean_value(v, depth + 1) for v in value]
    return value


def clean_parts(parts: RecordParts) -> RecordParts:
    """``parts`` with every string made encodable (see :func:`_clean_value`)."""
    return parts._replace(
        body=_clean_str(parts.body),
        attributes=[(_clean_str(k), _clean_value(v)) for k, v in parts.attributes],
    )


def _json_record(parts: RecordParts, observed_ns: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "timeUnixNano": str(parts.time_ns),
        "observedTimeUnixNano": str(observed_ns),
        "severityNumber": parts.severity_number,
        "severityText": parts.severity_text,
        "body": {"stringValue": parts.body},
    }
    if parts.trace_id is not None:
        record["traceId"] = parts.trace_id
    if parts.span_id is not None:
        record["spanId"] = parts.span_id
    if parts.flags is not None:
        record["flags"] = parts.flags
    record["attributes"] = [{"key": k, "value": any_value(v)} for k, v in parts.attributes]
    return record


def log_record(
    event: LogEvent, observed_ns: int | None = None, *, clean: bool = False
) -> dict[str, Any]:
    """The ``LogRecord`` of one event (JSON mapping); a stand-in if it cannot be built.
    ``clean``: every string made encodable first (see :func:`clean_parts`)."""
    observed = observed_ns if observed_ns is not None else event.timestamp_ns
    try:
        parts = record_parts(event)
        return _json_record(clean_parts(parts) if clean else parts, observed)
    except Exception as exc:
        return _json_record(stand_in_parts(event, exc), observed)


def _program() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name or "python"


def _env_resource(environ: Mapping[str, str]) -> dict[str, object]:
    """``OTEL_RESOURCE_ATTRIBUTES`` (``k=v,k2=v2``, percent-encoded) and ``OTEL_SERVICE_NAME``,
    as the OpenTelemetry SDKs read them; malformed entries are skipped."""
    values: dict[str, object] = {}
    for item in environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if sep and key:
            values[urllib.parse.unquote(key)] = urllib.parse.unquote(value.strip())
    service = environ.get("OTEL_SERVICE_NAME", "").strip()
    if service:
        values["service.name"] = service
    return values


def resource_values(
    resource: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> dict[str, object]:
    """The resource attributes: ``service.name`` (``unknown_service:<program>``),
    ``host.name`` and ``process.pid``, overridden by the environment
    (``OTEL_RESOURCE_ATTRIBUTES``, then ``OTEL_SERVICE_NAME``), overridden by ``resource``
    (where ``None`` removes an attribute)."""
    values: dict[str, object] = {
        "service.name": f"unknown_service:{_program()}",
        "host.name": socket.gethostname(),
        "process.pid": os.getpid(),
    }
    values.update(_env_resource(os.environ if environ is None else environ))
    values.update(resource)
    return {k: v for k, v in values.items() if v is not None}


def resource_attributes(resource: Mapping[str, object]) -> list[dict[str, Any]]:
    """The resource's ``KeyValue`` list (see :func:`resource_values`)."""
    return attributes(resource_values(resource))


def export_request(
    events: Sequence[LogEvent],
    resource: Sequence[dict[str, Any]],
    *,
    scope_version: str = "",
    observed_ns: int | None = None,
    clean: bool = False,
) -> dict[str, Any]:
    """The ``ExportLogsServiceRequest`` (JSON mapping) for ``events``.

    Args:
        events: the batch.
        resource: the resource attributes (see :func:`resource_attributes`).
        scope_version: the instrumentation scope version.
        observed_ns: ``observedTimeUnixNano`` (default: now).
        clean: make every string encodable (lone surrogates backslash-escaped).
    """
    observed = time.time_ns() if observed_ns is None else observed_ns
    scopes: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        scopes.setdefault(event.logger or "logactors", []).append(
            log_record(event, observed, clean=clean)
        )
    scope_logs = []
    for name, records in scopes.items():
        scope: dict[str, Any] = {"name": _clean_str(name) if clean else name}
        if scope_version:
            scope["version"] = scope_version
        scope_logs.append({"scope": scope, "logRecords": records})
    return {"resourceLogs": [{"resource": {"attributes": resource}, "scopeLogs": scope_logs}]}


def export_request_bytes(
    events: Sequence[LogEvent],
    resource: Sequence[dict[str, Any]],
    *,
    scope_version: str = "",
    observed_ns: int | None = None,
) -> bytes:
    """:func:`export_request` encoded as JSON. When orjson rejects it (a string with lone
    surrogates), the request is built again with every string made encodable: the records
    keep their structure, only the offending characters are escaped."""
    observed = time.time_ns() if observed_ns is None else observed_ns
    document = export_request(events, resource, scope_version=scope_version, observed_ns=observed)
    try:
        return orjson.dumps(document)
    except Exception:
        pass
    document = export_request(
        events,
        cast("Sequence[dict[str, Any]]", _clean_value(resource)),
        scope_version=scope_version,
        observed_ns=observed,
        clean=True,
    )
    return dumps(document)
