"""The ``gelf`` format (GELF 1.1, Graylog) and GELF UDP chunking.

A message is one JSON object: ``version`` ("1.1"), ``host``, ``short_message`` (the rendered
message), ``full_message`` (the exception text, when there is one), ``timestamp`` (seconds
since the epoch, microsecond precision), ``level`` (the syslog severity, always sent), the logger
name as ``_logger`` and every property as an additional ``_name`` field.

Additional field names must match ``^[\\w\\.\\-]*$``: other characters become ``_``. ``_id`` is
reserved by Graylog, so a property ``id`` is sent as ``_id_``; names that collide after these
rules get a ``_2``, ``_3`` … suffix. GELF values are strings or numbers: booleans, ``None`` and
non-finite floats are sent as strings (``"true"``, ``"null"``, ``"nan"``), containers as JSON
text, integers beyond 64 bits as text.

Chunking (UDP): a message larger than the datagram size is split into chunks, each prefixed by
the magic bytes ``0x1e 0x0f``, an 8-byte message id, the sequence number and the sequence count.
GELF allows at most 128 chunks; a message that would need more is reduced (properties dropped,
texts cut, ``_truncated`` and ``_original_bytes`` added) until it fits — the receiver sees that
it was cut.
"""

from __future__ import annotations

import gzip
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from .._events import LogEvent
from .._json import dumps, safe_str
from ._isolate import isolated, name_text, plain
from .syslog import syslog_severity

__all__ = [
    "CHUNK_HEADER_BYTES",
    "CHUNK_MAGIC",
    "MAX_CHUNKS",
    "GelfEncoder",
    "chunk",
    "field_name",
    "gelf_dict",
]

CHUNK_MAGIC: Final = b"\x1e\x0f"
CHUNK_HEADER_BYTES: Final = 12
MAX_CHUNKS: Final = 128

_BAD_NAME: Final = re.compile(r"[^\w.\-]", re.ASCII)
_RESERVED: Final = frozenset({"_id", "_logger"})
_INT64: Final = 2**63


def field_name(name: str) -> str:
    """The GELF additional-field name (with its ``_`` prefix) of a property name."""
    key = "_" + _BAD_NAME.sub("_", name)
    if key in _RESERVED:
        key += "_"
    return key


def _field_value(value: object) -> str | int | float:
    if isinstance(value, str):
        return plain(value)
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else safe_str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return dumps(value).decode("utf-8", "replace")
    return plain(safe_str(value))


def gelf_dict(event: LogEvent, host: str, *, properties: bool = True) -> dict[str, Any]:
    """The GELF object for one event (``properties=False`` leaves out the additional fields)."""
    message = plain(event.rendered) or plain(event.template) or "-"
    out: dict[str, Any] = {
        "version": "1.1",
        "host": host,
        "short_message": message,
        "timestamp": round(event.timestamp_ns / 1e9, 6),
        "level": syslog_severity(event.level),
    }
    if event.exception:
        out["full_message"] = plain(event.exception)
    if event.logger:
        out["_logger"] = plain(event.logger)
    if properties:
        for key, value in event.properties.items():
            name = field_name(key if type(key) is str else name_text(key))
            if name in out:
                base, n = name, 2
                while name in out:
                    name = f"{base}_{n}"
                    n += 1
            out[name] = _field_value(value)
    return out


def chunk(payload: bytes, message_id: bytes, datagram_size: int) -> list[bytes]:
    """Split ``payload`` into GELF chunks of at most ``datagram_size`` bytes each.

    Raises:
        ValueError: more than 128 chunks would be needed.
    """
    room = datagram_size - CHUNK_HEADER_BYTES
    count = -(-len(payload) // room)
    if count > MAX_CHUNKS:
        raise ValueError(f"{len(payload)} bytes need {count} chunks (GELF allows {MAX_CHUNKS})")
    head = CHUNK_MAGIC + message_id
    return [head + bytes((i, count)) + payload[i * room : (i + 1) * room] for i in range(count)]


class GelfEncoder:
    """Encodes events as GELF payloads (optionally gzip-compressed).

    Args:
        host: the ``host`` field.
        compress: gzip each payload.
        max_bytes: the largest payload allowed (e.g. 128 chunks' worth over UDP); bigger
            messages are reduced to fit.
    """

    def __init__(self, host: str, *, compress: bool = False, max_bytes: int | None = None) -> None:
        self.host = host
        self.compress = compress
        self.max_bytes = max_bytes
        #: how many messages had to be reduced to fit ``max_bytes``
        self.truncated = 0

    def _encode(self, obj: Mapping[str, Any]) -> bytes:
        data = dumps(obj)
        return gzip.compress(data, compresslevel=6, mtime=0) if self.compress else data

    def encode(self, event: LogEvent) -> bytes:
        """One event's payload (no framing); an event that cannot be formatted is sent as its
        stand-in (see :mod:`logactors.formatting._isolate`)."""
        return isolated(self._payload, event, "gelf")

    def json(self, event: LogEvent) -> bytes:
        """One event's GELF JSON, never compressed nor reduced (TCP); stand-in as ``encode``."""
        return isolated(self._json, event, "gelf")

    def _json(self, event: LogEvent) -> bytes:
        return dumps(gelf_dict(event, self.host))

    def _payload(self, event: LogEvent) -> bytes:
        payload = self._encode(gelf_dict(event, self.host))
        if self.max_bytes is None or len(payload) <= self.max_bytes:
            return payload
        self.truncated += 1
        return self._reduce(event, len(payload))

    def _reduce(self, event: LogEvent, original: int) -> bytes:
        """A smaller message for an event too big to send: no properties, texts cut."""
        assert self.max_bytes is not None
        obj = gelf_dict(event, self.host, properties=False)
        obj["_truncated"] = "true"
        obj["_original_bytes"] = original
        for budget in self._budgets(obj):
            obj["short_message"] = _cut(obj["short_message"], budget)
            if "full_message" in obj:
                obj["full_message"] = _cut(obj["full_message"], budget)
            payload = self._encode(obj)
            if len(payload) <= self.max_bytes:
                return payload
        obj.pop("full_message", None)
        obj["short_message"] = "(message too large for GELF: truncated)"
        return self._encode(obj)

    def _budgets(self, obj: Mapping[str, Any]) -> Iterator[int]:
        assert self.max_bytes is not None
        budget = max(len(obj["short_message"]), len(obj.get("full_message", "")))
        budget = min(budget, self.max_bytes)
        while budget >= 16:
            yield budget
            budget //= 2


def _cut(text: str, budget: int) -> str:
    if len(text) <= budget:
        return text
    return text[: max(0, budget - 14)] + "…[truncated]"
