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
    *range(0x200B, 0x2010),  # zero-width space / non-joiner / joiner, LRM, RLM
    *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
    0x2060,  # word joiner
    *range(0x2066, 0x206A),  # LRI, RLI, FSI, PDI
    0xFEFF,  # zero-width no-break space (BOM)
)
_CONTROL: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
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


def escape_control(text: str) -> str:
    """Replace control characters (C0, DEL, C1, U+2028/2029), bidi controls and zero-width
    characters with visible escapes; the result is an exact ``str``."""
    if type(text) is not str:
        text = str.__str__(text)
    if _CONTROL.search(text) is None:
        return text
    return text.translate(_TABLE)
