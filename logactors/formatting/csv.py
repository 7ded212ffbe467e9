"""The ``csv`` format: ``timestamp,level,logger,message,template,exception,properties``.

RFC 4180 quoting; control characters inside fields are escaped as well (``\\n``, ``\\x1b``),
so every event is one physical line (safe for ``tail`` and ``grep``). ``properties`` is a JSON
object with every control character ``\\u``-escaped, so it parses back exactly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Final

from .._events import LogEvent
from .._levels import level_name
from ._escape import escape_control
from ._time import IsoUtc
from .json import json_text

__all__ = ["COLUMNS", "CsvFormatter"]

COLUMNS: Final = ("timestamp", "level", "logger", "message", "template", "exception", "properties")


class CsvFormatter:
    """``csv`` rows (no header row: files are appended to across runs)."""

    def __init__(self) -> None:
        self._iso = IsoUtc(6)

    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        """A batch as CSV rows."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        iso = self._iso
        writer.writerows(
            [
                iso(e.timestamp_ns),
                level_name(e.level),
                escape_control(e.logger),
                escape_control(e.rendered),
                escape_control(e.template),
                escape_control(e.exception or ""),
                json_text(e.properties),
            ]
            for e in events
        )
        return buffer.getvalue().encode("utf-8", "backslashreplace")
