"""Timestamp rendering with per-second caches (strftime once per second, not per event)."""

from __future__ import annotations

import time
from typing import Final

_MARK: Final = "\ue000"  # private-use character standing in for %f

#: ``"000"`` … ``"999"`` and ``"00"`` … ``"99"``: a timestamp's fraction digits are written as
#: look-ups in these (seven digits: ``DIGITS3[ns // 10**6]``, ``DIGITS2[ns // 10**4 % 100]``,
#: ``DIGITS2[ns // 100 % 100]``; six: two ``DIGITS3``), cheaper than ``"%07d"`` formatting (the
#: CLEF batch path keeps the text up to the milliseconds and adds the two ``DIGITS2``)
DIGITS3: Final = tuple(f"{i:03d}" for i in range(1000))
DIGITS2: Final = tuple(f"{i:02d}" for i in range(100))


class IsoUtc:
    """``2026-11-23T02:30:34.1234567Z`` (CLEF, 7 digits) or 6 digits (``digits=6``)."""

    __slots__ = ("_digits", "_divisor", "_prefix", "_second")

    def __init__(self, digits: int = 7) -> None:
        self._digits = digits
        self._divisor = 10 ** (9 - digits)
        self._second: int | None = None
        self._prefix = ""

    def __call__(self, timestamp_ns: int) -> str:
        second, fraction = divmod(timestamp_ns, 1_000_000_000)
        if second != self._second:
            self._second = second
            try:
                t = time.gmtime(second)
                self._prefix = (
                    f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
                    f"T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
                )
            except (OverflowError, OSError, ValueError):  # beyond what the platform can show
                self._prefix = f"{second}s"
        digits = self._digits
        if digits == 7:  # (CLEF) the text the CLEF batch path writes
            return (
                f"{self._prefix}.{DIGITS3[fraction // 1_000_000]}"
                f"{DIGITS2[fraction // 10_000 % 100]}{DIGITS2[fraction // 100 % 100]}Z"
            )
        if digits == 6:
            micro = f"{DIGITS3[fraction // 1_000_000]}{DIGITS3[fraction // 1000 % 1000]}"
            return f"{self._prefix}.{micro}Z"
        return f"{self._prefix}.{fraction // self._divisor:0{digits}d}Z"


class Strftime:
    """A strftime pattern (with ``%f`` microseconds) in local time or UTC, cached per second."""

    __slots__ = ("_convert", "_has_fraction", "_head", "_pattern", "_second", "_tail", "_text")

    def __init__(self, pattern: str, *, utc: bool = False) -> None:
        self._has_fraction = "%f" in pattern
        self._pattern = pattern.replace("%f", _MARK)
        self._convert = time.gmtime if utc else time.localtime
        self._second: int | None = None
        self._text = ""
        #: the second's text around its first ``%f`` (the rest of the text, when it has none)
        self._head = ""
        self._tail = ""

    def __call__(self, timestamp_ns: int) -> str:
        second, fraction = divmod(timestamp_ns, 1_000_000_000)
        if second != self._second:
            self._second = second
            try:
                self._text = time.strftime(self._pattern, self._convert(second))
            except (ValueError, OverflowError, OSError):
                self._text = str(second)
            self._head, _, self._tail = self._text.partition(_MARK)
        if self._has_fraction:
            micro = f"{DIGITS3[fraction // 1_000_000]}{DIGITS3[fraction // 1000 % 1000]}"
            if _MARK in self._tail:  # (a second %f: rare)
                return self._text.replace(_MARK, micro)
            return f"{self._head}{micro}{self._tail}"
        return self._text
