"""The ``logfmt`` format: ``ts=… level=info logger=app msg="…" key=value …``, one event a line.

Values that need it are double-quoted with ``\\"`` and ``\\\\`` escaped, control characters
escaped (``\\n``, ``\\xNN``, ``\\u2028``; bidi controls and zero-width characters as
``\\uXXXX``) and lone surrogates written ``\\udNNN``, so no value can start a new line or
inject a key, and a logfmt parser reads every value back exactly. Keys are reduced to
``[A-Za-z0-9_.-/]``; property names that collide with the fixed keys get a ``_`` prefix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from .._cache import remember
from .._events import LogEvent
from .._json import dumps, safe_str
from .._levels import level_name
from ._escape import escape_control
from ._isolate import format_all, isolated, name_text, plain
from ._time import IsoUtc

__all__ = ["LogfmtFormatter", "logfmt_value"]

_BAD_KEY: Final = re.compile(r"[^A-Za-z0-9_.\-/]")
_NEEDS_QUOTES: Final = re.compile(
    r'[\s="\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff'
    r"\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")
_RESERVED: Final = frozenset({"ts", "level", "logger", "task", "msg", "exception"})


def logfmt_key(name: str) -> str:
    """A safe logfmt key for a property name."""
    key = _KEYS.get(name)
    if key is None:
        key = _BAD_KEY.sub("_", name) or "_"
        if key in _RESERVED:
            key = "_" + key
        if len(name) <= _KEY_CHARS_MAX:  # (a huge name is not kept)
            remember(_KEYS, name, key, _KEYS_MAX)
    return key


#: property names already made keys (names repeat from one event to the next), up to
#: ``_KEYS_MAX`` names of at most ``_KEY_CHARS_MAX`` characters
_KEYS: Final[dict[str, str]] = {}
_KEYS_MAX: Final = 4096
_KEY_CHARS_MAX: Final = 256


def logfmt_value(value: object) -> str:
    """A logfmt value: bare when safe, else quoted and escaped."""
    kind = type(value)
    if kind is str:
        text: str = value  # type: ignore[assignment]
    elif value is None:
        return "null"
    elif value is True:
        return "true"
    elif value is False:
        return "false"
    elif kind is int or kind is float:  # not subclasses: an IntEnum's repr is "<Level.ERROR: 40>"
        try:
            return repr(value)
        except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
            text = f"<unrenderable {kind.__name__}>"
    elif isinstance(value, str):
        text = plain(value)  # a subclass's __format__/__str__ never runs
    elif isinstance(value, dict | list | tuple):
        text = dumps(value).decode()
    else:
        text = plain(safe_str(value))
    if text and _NEEDS_QUOTES.search(text) is None:
        return text
    quoted = escape_control(text.replace("\\", "\\\\").replace('"', '\\"'))
    if _SURROGATE.search(quoted):  # lone surrogates (surrogateescape) cannot be UTF-8
        quoted = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)
    return f'"{quoted}"'


class LogfmtFormatter:
    """``logfmt`` lines."""

    def __init__(self) -> None:
        self._iso = IsoUtc(6)

    def format_event(self, event: LogEvent) -> str:
        """One event as a logfmt line (with newline); an event that cannot be formatted is
        written as its stand-in (see :mod:`logactors.formatting._isolate`)."""
        return isolated(self._line, event, "logfmt")

    def _line(self, event: LogEvent) -> str:
        parts = [f"ts={self._iso(event.timestamp_ns)}", f"level={level_name(event.level)}"]
        if event.logger:
            parts.append(f"logger={logfmt_value(event.logger)}")
        parts.append(f"msg={logfmt_value(event.rendered)}")
        parts.extend(
            f"{logfmt_key(k if type(k) is str else name_text(k))}={logfmt_value(v)}"
            for k, v in event.properties.items()
        )
        if event.exception:
            parts.append(f"exception={logfmt_value(event.exception)}")
        return " ".join(parts) + "\n"

    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        """A batch as logfmt lines."""
        lines = format_all(self._line, events, "logfmt")
        return "".join(lines).encode("utf-8", "backslashreplace")

    def format_records(self, events: Sequence[LogEvent]) -> list[bytes]:
        """Each event's record, as :meth:`format_batch` writes it."""
        lines = format_all(self._line, events, "logfmt")
        return [line.encode("utf-8", "backslashreplace") for line in lines]
