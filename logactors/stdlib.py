"""Bridge from the stdlib :mod:`logging` module into logactors.

``LogactorsHandler(log)`` is a :class:`logging.Handler`; ``log.capture_stdlib(level="info")``
installs one on the root logger while the context is active (setting the root level and
replacing its handlers) and restores both afterwards. Works from any thread.

A record becomes an event whose template is the rendered message with braces doubled (so it
renders as itself), with properties: ``logger`` name (also ``LogEvent.logger``), the original
``msg`` format and ``args``, every ``extra`` field, ``thread``/``thread_id``, ``process``,
``module``/``func``/``line``/``pathname``; ``exc_info`` becomes the event's exception. Records
emitted while a sink is writing (e.g. an HTTP client's own request logs) go to the self-log
only, so a sink can never feed itself.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from ._levels import Level, parse_level, round_level
from ._logger import LogMethod
from ._threads import in_sink

if TYPE_CHECKING:
    from ._logger import Logger
    from ._proxy import LoggerProxy

__all__ = ["LogactorsHandler", "capture_stdlib"]

_STANDARD: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_METHODS: Final = {
    Level.TRACE: "trace",
    Level.DEBUG: "debug",
    Level.INFO: "info",
    Level.WARNING: "warning",
    Level.ERROR: "error",
    Level.CRITICAL: "critical",
}
_guard = threading.local()


def in_sink_context() -> bool:
    """Whether the current task or thread works for a sink (its records must not loop back).

    True inside every sink actor's task and the worker threads it starts, and inside
    :func:`sink_context` (for sinks that run their own threads).
    """
    return in_sink() or bool(getattr(_guard, "depth", 0))


@contextlib.contextmanager
def sink_context() -> Iterator[None]:
    """Mark the current thread as working for a sink (for threads a sink starts itself)."""
    _guard.depth = getattr(_guard, "depth", 0) + 1
    try:
        yield
    finally:
        _guard.depth -= 1


class LogactorsHandler(logging.Handler):
    """A :class:`logging.Handler` that forwards records to a logactors logger."""

    def __init__(self, log: Logger | LoggerProxy, level: int | str = logging.NOTSET) -> None:
        super().__init__(level)
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one record; never raises."""
        try:
            if in_sink_context():
                runtime = getattr(self._log, "_rt", None)
                if runtime is not None:
                    runtime.self_log(f"[{record.name}] {record.getMessage()}", key="stdlib")
                return
            message = record.getMessage()
            props: dict[str, Any] = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
            props.update(
                logger=record.name,
                msg=str(record.msg),
                thread=record.threadName,
                thread_id=record.thread,
                process=record.process,
                module=record.module,
                func=record.funcName,
                line=record.lineno,
                pathname=record.pathname,
            )
            if record.args:
                props["args"] = record.args if isinstance(record.args, tuple) else [record.args]
            template = message.replace("{", "{{").replace("}", "}}")
            level = round_level(record.levelno)
            log = self._log
            named = log.named(record.name) if hasattr(log, "named") else log
            method: LogMethod = getattr(named, _METHODS[level])
            method(template, exc_info=record.exc_info or None, **props)
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def capture_stdlib(log: Logger, level: object = "info") -> Iterator[LogactorsHandler]:
    """Route the root stdlib logger into ``log`` while active; restore it afterwards."""
    root = logging.getLogger()
    saved_level = root.level
    saved_handlers = root.handlers[:]
    handler = LogactorsHandler(log)
    root.handlers = [handler]
    root.setLevel(int(parse_level(level)))
    try:
        yield handler
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
