"""Log levels: the :class:`Level` enum and the one function that parses level arguments.

Level arguments everywhere (``min_level``, ``set_level``, ``is_enabled``, ``log``) accept a
:class:`Level`, a name (case-insensitive, with Serilog's and stdlib's aliases) or a number. A
number between two levels rounds down to the lower one, so ``25`` means INFO.
"""

from __future__ import annotations

import enum
import math
import re
from typing import Final


class Level(enum.IntEnum):
    """Severity of an event; the numbers match the stdlib ``logging`` module (plus TRACE)."""

    TRACE = 5
    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40
    CRITICAL = 50


#: A sink level that lets nothing through ("off"); never a valid event level.
OFF: Final = 1_000

_ORDERED: Final = tuple(sorted(Level))

_NAMES: Final[dict[str, int]] = {
    **{level.name.lower(): level.value for level in Level},
    "verbose": Level.TRACE,
    "information": Level.INFO,
    "info": Level.INFO,
    "warn": Level.WARNING,
    "fatal": Level.CRITICAL,
}

#: Serilog's level names, used by CLEF (``@l``) and the text format.
SERILOG_NAMES: Final[dict[int, str]] = {
    Level.TRACE: "Verbose",
    Level.DEBUG: "Debug",
    Level.INFO: "Information",
    Level.WARNING: "Warning",
    Level.ERROR: "Error",
    Level.CRITICAL: "Fatal",
}

#: Three-letter upper-case abbreviations (Serilog's ``u3``).
SHORT_NAMES: Final[dict[int, str]] = {
    Level.TRACE: "VRB",
    Level.DEBUG: "DBG",
    Level.INFO: "INF",
    Level.WARNING: "WRN",
    Level.ERROR: "ERR",
    Level.CRITICAL: "FTL",
}


def round_level(number: int) -> Level:
    """Return the highest :class:`Level` at or below ``number`` (TRACE for anything lower)."""
    result = Level.TRACE
    for level in _ORDERED:
        if level <= number:
            result = level
    return result


_NUMBER: Final = re.compile(r"[+-]?[0-9]+")


def _accepted(allow_off: bool) -> str:
    names = sorted(_NAMES, key=lambda n: (_NAMES[n], n))
    return ", ".join([*names, *(["off"] if allow_off else [])])


def parse_level(value: object, *, allow_off: bool = False) -> int:
    """Turn a level argument into a level number.

    Args:
        value: a :class:`Level`, a name such as ``"info"``/``"WARN"``/``"verbose"`` (any case,
            surrounding spaces ignored), a number, or a numeric string. A number between two
            levels rounds down (``25`` is INFO); one below TRACE (e.g. stdlib's ``NOTSET``,
            0) means TRACE, one above CRITICAL means CRITICAL.
        allow_off: accept ``"off"`` (sinks only) and numbers from :data:`OFF` up, which
            return :data:`OFF`.

    Returns:
        A :class:`Level` member, or :data:`OFF`.

    Raises:
        ValueError: the value names no level; the message lists the accepted names.
    """
    if isinstance(value, Level):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a level: {value!r} (use a level name or number)")
    if isinstance(value, int):
        return OFF if allow_off and value >= OFF else round_level(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return OFF if allow_off and value >= OFF else round_level(math.floor(value))
        raise ValueError(f"not a level: {value!r} (use a level name or number)")
    if isinstance(value, str):
        key = value.strip().lower()
        found = _NAMES.get(key)
        if found is not None:
            return Level(found)
        if key == "off":
            if allow_off:
                return OFF
            raise ValueError("'off' is only accepted for a sink's min_level")
        if _NUMBER.fullmatch(key):
            return round_level(int(key))
        raise ValueError(f"unknown level {value!r} (accepted: {_accepted(allow_off)}, or a number)")
    raise ValueError(f"not a level: {value!r} (use a level name or number)")


#: the names of the levels themselves (every event's level is one), looked up per event
_LOWER_NAMES: Final[dict[int, str]] = {level.value: level.name.lower() for level in Level}


def level_name(level: int) -> str:
    """Return the lower-case name of a level number (``"off"`` for :data:`OFF`)."""
    name = _LOWER_NAMES.get(level)
    if name is not None:
        return name
    if level >= OFF:
        return "off"
    return round_level(level).name.lower()
