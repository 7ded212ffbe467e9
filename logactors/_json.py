"""JSON encoding that never raises: orjson first, a sanitising fallback for what it rejects.

orjson rejects cycles, integers beyond 64 bits, non-string keys it cannot coerce and objects it
does not know. Logging must still produce a line, so :func:`dumps` retries once over a sanitised
copy in which every such value is replaced by a string.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

import orjson

_OPTIONS: Final = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
_MAX_DEPTH: Final = 64


def safe_str(value: object) -> str:
    """Return ``str(value)``, or ``<unrenderable TypeName>`` when that raises."""
    try:
        return str(value)
    except Exception:
        return f"<unrenderable {type(value).__name__}>"


def safe_repr(value: object) -> str:
    """Return ``repr(value)``, or ``<unrenderable TypeName>`` when that raises."""
    try:
        return repr(value)
    except Exception:
        return f"<unrenderable {type(value).__name__}>"


def default(value: Any) -> Any:
    """orjson ``default`` hook: sets as lists, bytes as text, enums as their value, and every
    other object as its ``str()`` (never its attributes: the logger captures objects as
    strings unless they are destructured, and an event built by hand gets the same rule)."""
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {safe_str(value)}"
    return safe_str(value)


def _clean_str(text: str) -> str:
    """``text`` with lone surrogates (e.g. from ``surrogateescape``) backslash-escaped."""
    try:
        str.encode(text, "utf-8")
    except UnicodeEncodeError:
        return str.encode(text, "utf-8", "backslashreplace").decode("utf-8")
    return text


def sanitize(value: object, depth: int = 0, seen: frozenset[int] = frozenset()) -> object:
    """Return a copy of ``value`` that orjson can always encode (cycles, big ints and lone
    surrogates as text)."""
    if isinstance(value, str):
        return _clean_str(value)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        # Outside 64 bits orjson gives up; past 4300 digits even str() raises.
        return value if -(2**63) <= value < 2**64 else safe_str(value)
    if depth >= _MAX_DEPTH:
        return "<too deep>"
    if id(value) in seen:
        return "<cycle>"
    inner = seen | {id(value)}
    if isinstance(value, Mapping):
        try:
            items = list(value.items())
        except Exception:
            return safe_repr(value)
        return {_clean_str(safe_str(k)): sanitize(v, depth + 1, inner) for k, v in items}
    if isinstance(value, list | tuple | set | frozenset):
        return [sanitize(v, depth + 1, inner) for v in value]
    try:
        converted = default(value)
    except Exception:
        return f"<unrenderable {type(value).__name__}>"
    if converted is value or isinstance(converted, str):
        return _clean_str(converted if isinstance(converted, str) else safe_str(converted))
    return sanitize(converted, depth + 1, inner)


def dumps_plain(value: object, option: int = 0) -> bytes:
    """Encode ``value`` as :func:`dumps` does when it needs no fallback; raises where
    :func:`dumps` would sanitise (for a caller that falls back part by part)."""
    return orjson.dumps(value, default=default, option=_OPTIONS | option)


def dumps(value: object, option: int = 0) -> bytes:
    """Encode ``value`` as JSON; never raises (unencodable parts become strings)."""
    try:  # (dumps_plain's call, written out: this runs per event in most formats)
        return orjson.dumps(value, default=default, option=_OPTIONS | option)
    except Exception:
        pass
    try:
        return orjson.dumps(sanitize(value), default=safe_str, option=_OPTIONS | option)
    except Exception:
        # Last resort (a value that defeats even the sanitiser): still one valid JSON value.
        text = f"<unrenderable {type(value).__name__}>"
        return orjson.dumps(_clean_str(text), option=option & orjson.OPT_APPEND_NEWLINE)
