"""Escaping for ``logactors view``: what the reader's terminal shows is what the file holds.

Control characters (C0, DEL, C1, the line and paragraph separators) could forge lines or drive
the terminal; bidi controls and zero-width characters could make text read differently from what
it is (CVE-2021-42574, "Trojan Source"). The viewer keeps its own table here; the line formats
escape the same characters in :mod:`logactors.formatting`.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["escape_json", "escape_text"]

#: bidi embeddings, overrides, isolates and marks; zero-width and other invisible characters
_INVISIBLE: Final = (
    0x061C,  # Arabic letter mark
    0x180E,  # Mongolian vowel separator
    0xFEFF,  # zero-width no-break space (BOM)
    *range(0x200B, 0x2010),  # zero-width space, non-joiner, joiner; LRM, RLM
    *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
    *range(0x2060, 0x2065),  # word joiner, invisible operators
    *range(0x2066, 0x206A),  # LRI, RLI, FSI, PDI
)
_UNSAFE: Final = re.compile(
    "[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029" + "".join(f"\\u{c:04x}" for c in _INVISIBLE) + "]"
)
_TEXT_TABLE: Final[dict[int, str]] = {
    **{c: f"\\x{c:02x}" for c in range(0x20)},
    **{c: f"\\x{c:02x}" for c in range(0x7F, 0xA0)},
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    **{c: f"\\u{c:04x}" for c in (0x2028, 0x2029, *_INVISIBLE)},
}
#: In a JSON line that parsed, a raw tab or CR can only be whitespace between tokens (JSON
#: strings cannot hold raw C0 characters); every other character here can only be inside a
#: string, where its ``\uXXXX`` escape stands for the same character: the value is unchanged.
_JSON_TABLE: Final[dict[int, str]] = {
    **{c: f"\\u{c:04x}" for c in _TEXT_TABLE},
    0x09: " ",
    0x0D: " ",
}


def escape_text(text: str) -> str:
    """Replace control, bidi and invisible characters with visible escapes (``\\u202e``)."""
    if _UNSAFE.search(text) is None:
        return text
    return text.translate(_TEXT_TABLE)


def escape_json(line: str) -> str:
    """A JSON line with the same characters written as JSON escapes (the same JSON value)."""
    if _UNSAFE.search(line) is None:
        return line
    return line.translate(_JSON_TABLE)
