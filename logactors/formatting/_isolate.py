"""Per-event isolation: one event that cannot be formatted never costs the batch around it.

Every formatter builds its text from exact ``str`` objects (:func:`plain`): a ``str`` subclass
may override ``__format__``, ``__str__``, ``__eq__`` … and raise from inside an f-string, a
``join`` or a dict lookup. What still raises for an event (a hostile value the formatter did not
foresee) is caught per event by :func:`isolated`, and the event is written as a *stand-in*: its
template, level, timestamp, logger and task as exact strings, and one property,
``format_error``, naming the error. The stand-in is a well-formed record of the same format, so
the sink writes the batch, counts each event once, and is neither restarted nor marked dead.

Each formatting error is reported once per formatter and error type through the
``logactors.formatting`` stdlib logger (which the self-log receives when ``capture_stdlib`` is
on); the stand-in lines themselves carry every occurrence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

from .._events import EventTuple, LogEvent
from .._json import safe_str
from .._levels import Level, round_level

__all__ = [
    "FORMAT_ERROR",
    "format_all",
    "isolated",
    "name_text",
    "plain",
    "stand_in",
    "substitute",
]

T = TypeVar("T")

#: The property that carries the formatting error in a stand-in event.
FORMAT_ERROR: Final = "format_error"
_UNFORMATTABLE: Final = "<event could not be formatted>"
_REPORTED_LIMIT: Final = 256

_log = logging.getLogger("logactors.formatting")
_reported: set[tuple[str, str]] = set()


def plain(text: str) -> str:
    """``text`` as an exact ``str`` (a subclass's own methods are never called)."""
    return text if type(text) is str else str.__str__(text)


def name_text(name: object) -> str:
    """A property name as exact text (a name that is not a string is shown with ``str``)."""
    return str.__str__(name) if isinstance(name, str) else plain(safe_str(name))


def _text(value: object, default: str = "") -> str:
    """An event field as exact text: strings as they are, anything else ``default``."""
    return str.__str__(value) if isinstance(value, str) else default


def _int(value: object, default: int) -> int:
    return int.__index__(value) if isinstance(value, int) else default


def _level(value: object) -> Level:
    number = _int(value, Level.ERROR)
    try:
        return Level(number)
    except ValueError:
        return round_level(number)


def _describe(error: BaseException) -> str:
    message = plain(safe_str(error))
    name = plain(type(error).__name__)
    return f"{name}: {message}" if message else name


def stand_in(event: EventTuple, error: BaseException) -> LogEvent:
    """The stand-in for an event that could not be formatted: template, level, timestamp,
    logger and task as exact strings, and the error as the ``format_error`` property."""
    fields: tuple[Any, ...] = (None,) * 7
    if isinstance(event, tuple) and tuple.__len__(event) >= 7:
        fields = tuple.__getitem__(event, slice(0, 7))
    return LogEvent(
        timestamp_ns=_int(fields[0], 0),
        level=_level(fields[1]),
        template=_text(fields[2], _UNFORMATTABLE),
        properties={FORMAT_ERROR: _describe(error)},
        exception=None,
        logger=_text(fields[5]),
        task=_text(fields[6]),
    )


def _report(where: str, error: BaseException) -> None:
    key = (where, type(error).__name__)
    if key in _reported or len(_reported) >= _REPORTED_LIMIT:
        return
    _reported.add(key)
    try:
        _log.warning(
            "%s: an event could not be formatted (%s); written as a stand-in with its "
            "template, level and timestamp (reported once per error type)",
            where,
            _describe(error),
        )
    except Exception:  # a handler that fails must not fail the batch
        pass


def isolated(format_one: Callable[[LogEvent], T], event: EventTuple, where: str) -> T:
    """``format_one(event)``, or the formatting of its stand-in when that raises.

    Args:
        format_one: formats one event (the formatter's unguarded per-event path).
        event: the event (a LogEvent or its plain tuple).
        where: the format's name, for the report.

    Raises:
        Exception: only when even the stand-in cannot be formatted (a formatter bug); the
            stand-in's minimal form (no template, logger or task) is tried first.
    """
    try:
        return format_one(event)  # type: ignore[arg-type]
    except Exception as exc:
        error = exc
    return substitute(format_one, event, error, where)


def substitute(
    format_one: Callable[[LogEvent], T], event: EventTuple, error: BaseException, where: str
) -> T:
    """Report ``error`` (once per format and error type) and format the event's stand-in."""
    _report(where, error)
    replacement = stand_in(event, error)
    try:
        return format_one(replacement)
    except Exception:
        minimal = replacement._replace(template=_UNFORMATTABLE, logger="", task="")
        return format_one(minimal)


def format_all(format_one: Callable[[LogEvent], T], events: Sequence[Any], where: str) -> list[T]:
    """Every event of a batch formatted by ``format_one``; when one raises, the batch is done
    again event by event through :func:`isolated` (no cost on the common path)."""
    try:
        return [format_one(e) for e in events]
    except Exception:
        return [isolated(format_one, e, where) for e in events]
