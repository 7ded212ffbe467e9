"""Elasticsearch / OpenSearch ``_bulk`` bodies (NDJSON).

Each event is an action line and a document line::

    {"index":{"_index":"logs-2024.01.02"}}
    {"@timestamp":"2024-01-02T03:04:05.123456Z","log.level":"info","message":"…", …}

The index name is ``strftime(pattern)`` of the event's UTC date (``"logs-%Y.%m.%d"``), in lower
case as Elasticsearch requires. The
document follows the Elastic Common Schema where it has a field: ``@timestamp``, ``log.level``,
``log.logger``, ``message``, ``error.stack_trace``; plus ``message_template`` and the
properties nested under ``fields`` (so they never collide with the fixed fields).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import orjson

from .._cache import remember
from .._events import LogEvent
from .._json import dumps
from .._levels import level_name
from ._isolate import format_all, isolated, plain
from ._time import IsoUtc, Strftime

__all__ = ["BulkEncoder", "bulk_document"]

_NEWLINE: Final = orjson.OPT_APPEND_NEWLINE


def bulk_document(event: LogEvent, iso: IsoUtc) -> dict[str, Any]:
    """The document indexed for one event."""
    doc: dict[str, Any] = {
        "@timestamp": iso(event.timestamp_ns),
        "log.level": level_name(event.level),
        "message": plain(event.rendered),
        "message_template": plain(event.template),
    }
    if event.logger:
        doc["log.logger"] = plain(event.logger)
    if event.exception:
        doc["error.stack_trace"] = plain(event.exception)
    if event.properties:
        doc["fields"] = event.properties
    return doc


class BulkEncoder:
    """Encodes events as ``_bulk`` action/document line pairs.

    Args:
        index: the index name pattern (strftime, applied to the event's UTC date).
    """

    def __init__(self, index: str) -> None:
        self._index = Strftime(index, utc=True)
        self._iso = IsoUtc(6)
        self._actions: dict[str, bytes] = {}

    def encode(self, event: LogEvent) -> bytes:
        """The two lines (with newlines) for one event; an event that cannot be formatted is
        sent as its stand-in (see :mod:`logactors.formatting._isolate`)."""
        return isolated(self._lines, event, "elasticsearch")

    def _lines(self, event: LogEvent) -> bytes:
        name = self._index(event.timestamp_ns).lower()  # index names must be lower-case
        action = self._actions.get(name)
        if action is None:  # (at most 65 index names kept)
            action = remember(self._actions, name, dumps({"index": {"_index": name}}, _NEWLINE), 65)
        return action + dumps(bulk_document(event, self._iso), _NEWLINE)

    def encode_batch(self, events: Sequence[LogEvent]) -> bytes:
        """The whole ``_bulk`` body for ``events``."""
        return b"".join(format_all(self._lines, events, "elasticsearch"))
