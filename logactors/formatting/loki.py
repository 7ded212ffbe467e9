"""Grafana Loki push bodies (``POST /loki/api/v1/push``, JSON).

::

    {"streams": [{"stream": {"app": "shop", "level": "info"},
                  "values": [["1700000000123456789", "<line>"], ...]}, ...]}

Each event goes to the stream of its label set: the configured property names that the event
carries (names reduced to ``[a-zA-Z_][a-zA-Z0-9_]*``, values as text, empty values left out)
plus ``level`` (lower-case level name). Streams appear in the order of their first event and keep
the events' order. Timestamps are nanoseconds since the epoch as decimal strings; the line is the
event in a line format (``json``, ``clef`` …) without its newline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from .._events import LogEvent
from .._json import dumps, safe_str
from .._levels import level_name
from ._isolate import format_all, plain

__all__ = ["label_name", "loki_push", "loki_streams"]

_BAD_LABEL: Final = re.compile(r"[^a-zA-Z0-9_]")


def label_name(name: str) -> str:
    """A valid Loki label name for a property name."""
    label = _BAD_LABEL.sub("_", name) or "_"
    return "_" + label if label[0].isdigit() else label


def loki_streams(
    events: Sequence[LogEvent], labels: Sequence[str], line: Callable[[LogEvent], str]
) -> list[dict[str, Any]]:
    """The ``streams`` array for ``events``.

    Args:
        events: the batch.
        labels: property names that become stream labels (with ``level``).
        line: renders one event as its log line.
    """
    names = [(key, label_name(key)) for key in labels]
    Entry = tuple[tuple[tuple[str, str], ...], list[str]]

    def entry(event: LogEvent) -> Entry:
        props = event.properties
        stream = [("level", level_name(event.level))]
        for key, label in names:
            if key in props:
                value = props[key]
                text = plain(value) if isinstance(value, str) else plain(safe_str(value))
                if text and label != "level":
                    stream.append((label, text))
        return tuple(sorted(stream)), [str(int(event.timestamp_ns)), plain(line(event))]

    streams: dict[tuple[tuple[str, str], ...], list[list[str]]] = {}
    for key, value in format_all(entry, events, "loki"):
        streams.setdefault(key, []).append(value)
    return [{"stream": dict(key), "values": values} for key, values in streams.items()]


def loki_push(
    events: Sequence[LogEvent], labels: Sequence[str], line: Callable[[LogEvent], str]
) -> bytes:
    """The JSON push body for ``events`` (see :func:`loki_streams`)."""
    return dumps({"streams": loki_streams(events, labels, line)})
