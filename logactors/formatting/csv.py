"""The ``csv`` format: ``timestamp,level,logger,message,template,exception,properties``.

RFC 4180 quoting; control characters inside fields are escaped as well (``\\n``, ``\\x1b``),
and so are bidi controls and zero-width characters (``\\u202e``), so every event is one
physical line (safe for ``tail`` and ``grep``) that shows what it holds. ``properties`` is a JSON
object with every control character ``\\u``-escaped, so it parses back exactly.

Formula cells are neutralised (CWE-1236, as OWASP recommends for CSV injection): a text cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a ``'`` in front,
so a spreadsheet shows it as text instead of evaluating it (``=HYPERLINK(…)`` is written
``'=HYPERLINK(…)``). ``CsvFormatter(neutralize_formulas=False)`` (the ``csv-raw`` format
name) writes cells as they are, for readers that are not spreadsheets.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Final

from .._events import LogEvent
from .._levels import level_name
from ._escape import escape_control
from ._isolate import format_all
from ._time import IsoUtc
from .json import json_text

__all__ = ["COLUMNS", "FORMULA_PREFIXES", "CsvFormatter", "neutralize_formula"]

COLUMNS: Final = ("timestamp", "level", "logger", "message", "template", "exception", "properties")
#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")

_Row = tuple[str, str, str, str, str, str, str]


def neutralize_formula(cell: str) -> str:
    """``cell`` with a ``'`` in front when it starts like a formula."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


class CsvFormatter:
    """``csv`` rows (no header row: files are appended to across runs).

    Args:
        neutralize_formulas: prefix formula-like text cells with ``'`` (see the module
            docstring).
    """

    def __init__(self, *, neutralize_formulas: bool = True) -> None:
        self._iso = IsoUtc(6)
        self.neutralize_formulas = neutralize_formulas

    def _row(self, e: LogEvent) -> _Row:
        neutralize = self.neutralize_formulas
        cells = []
        for text in (e.logger, e.rendered, e.template, e.exception or ""):
            if type(text) is not str:
                text = str.__str__(text)
            cell = escape_control(text)
            # (checked on the raw text: a leading tab or CR is escaped, but still marked)
            cells.append("'" + cell if neutralize and text.startswith(FORMULA_PREFIXES) else cell)
        return (
            self._iso(e.timestamp_ns),
            level_name(e.level),
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            json_text(e.properties),
        )

    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        """A batch as CSV rows."""
        rows = format_all(self._row, events, "csv")
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue().encode("utf-8", "backslashreplace")
