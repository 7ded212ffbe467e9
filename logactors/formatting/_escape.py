"""Control-character escaping: no value can start a new line or forge an event (CWE-117)."""

from __future__ import annotations

import re
from typing import Final

_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_TABLE: Final[dict[int, str]] = {
    **{c: f"\\x{c:02x}" for c in range(0x20)},
    **{c: f"\\x{c:02x}" for c in range(0x7F, 0xA0)},
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def escape_control(text: str) -> str:
    """Replace control characters (C0, DEL, C1, U+2028/2029) with visible escapes."""
    if _CONTROL.search(text) is None:
        return text
    return text.translate(_TABLE)
