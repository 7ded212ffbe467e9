"""Escaping for line formats: no value can start a new line or forge an event (CWE-117), nor
hide or reorder what a reader sees.

Escaped as visible text: the C0 controls, DEL and C1 controls (``\\n``, ``\\r``, ``\\t``,
``\\xNN``), the Unicode line and paragraph separators (``\\u2028``, ``\\u2029``), the bidi
embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069, "Trojan Source") and
the zero-width and direction marks (U+200B-U+200F, U+2060, U+FEFF), each as ``\\uXXXX``.
"""

from __future__ import annotations

import re
from typing import Final

_INVISIBLE: Final = (
    0x061C,  # Arabic letter mark
    0x180E,  # Mongolian vowel separator
    *range(0x200B, 0x2010),  # zero-width space / non-joiner / joiner, LRM, RLM
    *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
    *range(0x2060, 0x2065),  # word joiner, invisible operators
    *range(0x2066, 0x206A),  # LRI, RLI, FSI, PDI
    0xFEFF,  # zero-width no-break space (BOM)
)
_CONTROL: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029" + "".join(f"\\u{c:04x}" for c in _INVISIBLE) + "]"
)
_TABLE: Final[dict[int, str]] = {
    **{c: f"\\x{c:02x}" for c in range(0x20)},
    **{c: f"\\x{c:02x}" for c in range(0x7F, 0xA0)},
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
    **{c: f"\\u{c:04x}" for c in _INVISIBLE},
}


#: In a JSON line that parsed, a raw tab or CR can only be whitespace between tokens (JSON
#: strings cannot hold raw C0 characters); every other character here can only be inside a
#: string, where its ``\uXXXX`` escape stands for the same character: the value is unchanged.
_JSON_TABLE: Final[dict[int, str]] = {
    **{c: f"\\u{c:04x}" for c in _TABLE},
    0x09: " ",
    0x0D: " ",
}


def escape_json_line(line: str) -> str:
    """A JSON line with the same characters written as JSON escapes (the same JSON value)."""
    if _CONTROL.search(line) is None:
        return line
    return line.translate(_JSON_TABLE)


def escape_control(text: str) -> str:
    """Replace control characters (C0, DEL, C1, U+2028/2029), bidi controls and zero-width
    characters with visible escapes; the result is an exact ``str``."""
    if type(text) is not str:
        text = str.__str__(text)
    if _CONTROL.search(text) is None:
        return text
    return text.translate(_TABLE)
