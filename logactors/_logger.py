"""The logger front end: level gate, event construction and hand-off to the sink inboxes.

Decide once, not per call: each :class:`Logger` holds its six level methods in slots. A level
below the gate holds a shared no-op (a disabled call costs one function call); an enabled level
holds a method compiled for this logger, level and runtime (:mod:`logactors._levelmethod`),
built on first use. ``set_level`` clears the slots of every logger of the runtime (``bind``
children included), so they are built again.

A logging call never raises and never waits: the event is built by the runtime's one builder
(:class:`logactors._capture.Builder`: values captured and redacted on the caller's thread),
then on the trio thread put in each matching inbox; from any other thread it goes through the
hand-off. The awaiting twins (``ainfo`` …) wait for queue room instead (back-pressure) and raise
only :class:`LoggerClosedError`, after close.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import trio

from ._capture import CONTEXT, default_capture, format_exc_info
from ._core.inbox import InboxClosed
from ._facade import LEVEL_METHODS, LEVEL_OF, METHOD_FOR, ExcInfo, LevelMethods, LogMethod
from ._levelmethod import build as build_level_method
from ._levels import Level, parse_level
from .exceptions import LoggerClosedError

if TYPE_CHECKING:
    from ._core.runtime import Runtime
    from .metrics import MetricsSnapshot, ShutdownReport
    from .sinks.base import Sink

__all__ = ["Logger", "ambient", "format_exc_info"]

_CONTEXT = CONTEXT


def _noop(template: object, /, *args: object, **props: object) -> None:
    """A disabled level. (Its parameters are the level method's, without ``exc_info``'s
    default, which would only slow the call: it arrives in ``props``.)"""


def _task_name() -> str:
    try:
        return trio.lowlevel.current_task().name
    except RuntimeError:
        return threading.current_thread().name


class Logger(LevelMethods):
    """The logging front end (get one from ``open_logger``, ``start_logger`` or ``bind``).

    Level methods ``trace``, ``debug``, ``info``, ``warning``, ``error`` and ``critical`` take
    ``(template, /, *args, exc_info=None, **properties)``: a message template
    (``"Processing {id}"``), positional arguments bound to its holes left to right (surplus ones
    kept in the property ``args``), and properties as keyword arguments. They never raise and
    never wait. ``exception(...)`` logs at error with the current exception attached; ``warn``
    and ``fatal`` are stdlib's aliases. Each has an awaiting twin (``ainfo`` …) that waits for
    queue room (see :meth:`alog`). A :class:`Logger` satisfies :class:`BoundLogger`.
    """

    # the six level methods are slots: one closure (or the shared no-op) per level, built on
    # first use (``__getattr__``), so ``bind`` builds none of them up front
    __slots__ = ("__weakref__", "_bound", "_name", "_rt", *METHOD_FOR.values())

    def __init__(self, runtime: Runtime, name: str, bound: Mapping[str, Any]) -> None:
        capture = runtime.builder.capture
        self._rt = runtime
        self._name = capture.logger_name(name)
        self._bound: dict[str, Any] = capture.properties(bound)

    @classmethod
    def _child(cls, runtime: Runtime, name: str, bound: dict[str, Any]) -> Logger:
        """A logger of ``runtime`` whose name and bound properties (a dict no logger mutates)
        that runtime already captured (``bind``, ``named``): nothing is captured again, and no
        ``__init__`` runs (a class call through a Python ``__init__`` builds an argument tuple
        and a keyword dict: about a quarter of what ``bind`` cost with it)."""
        child = object.__new__(cls)
        child._rt = runtime
        child._name = name
        child._bound = bound
        return child

    def __getattr__(self, attr: str) -> Any:
        """A level method on its first use: the closure for an enabled level, the shared
        no-op for a disabled one; kept in its slot until the gate changes."""
        level = LEVEL_OF.get(attr)
        if level is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
        rt = self._rt
        with rt.loggers_lock:  # from now on set_level must reach this logger
            rt.loggers.add(self)
            epoch, gate = rt.level_epoch, rt.min_level
        method = self._method(level) if level >= gate else _noop
        setattr(self, attr, method)
        if rt.level_epoch != epoch:  # set_level ran meanwhile: build again on the next call
            with contextlib.suppress(AttributeError):
                delattr(self, attr)
        return method

    def _apply_level(self) -> None:
        """The gate or the routes changed: forget the built level methods (rebuilt on use)."""
        for _level, attr in LEVEL_METHODS:
            try:
                delattr(self, attr)
            except AttributeError:  # not built yet
                pass

    def _method(self, level: Level) -> LogMethod:
        """The level method, compiled for this logger, level and runtime
        (:mod:`logactors._levelmethod`)."""
        return build_level_method(self._rt, level, self._name, self._bound)

    # -- other levels and forms ------------------------------------------------------------------

    def log(
        self,
        level: object,
        template: str,
        /,
        *args: object,
        exc_info: ExcInfo = None,
        **props: object,
    ) -> None:
        """Log at ``level`` (a :class:`Level`, a name or a number; between levels rounds down)."""
        try:
            number = parse_level(level)
        except ValueError as exc:
            self._rt.internal_error(exc)
            return
        method: LogMethod = getattr(self, METHOD_FOR[Level(number)])
        method(template, *args, exc_info=exc_info, **props)

    # -- awaiting twins --------------------------------------------------------------------------

    async def alog(
        self,
        level: object,
        template: str,
        /,
        *args: object,
        exc_info: ExcInfo = None,
        **props: Any,
    ) -> None:
        """Log at ``level``, waiting for room in full queues (back-pressure).

        Raises:
            LoggerClosedError: the logger has shut down.
        """
        rt = self._rt
        if rt.closed:
            raise LoggerClosedError("the logger is closed")
        number: Level | None
        try:
            number = Level(parse_level(level))
        except ValueError as exc:
            rt.internal_error(exc)
            number = None
        if threading.get_ident() != rt.thread_id:
            # Another thread or event loop (asyncio, a thread-hosted logger): no trio calls
            # here; the hand-off applies back-pressure for plain threads.
            if number is not None and number >= rt.min_level:
                method: LogMethod = getattr(self, METHOD_FOR[number])
                method(template, *args, exc_info=exc_info, **props)
            return
        if number is None or number < rt.min_level:
            await trio.lowlevel.checkpoint()
            return
        if rt.handoff is not None and rt.handoff.pending:
            rt.handoff.pump(force=True)
        try:
            admitted = rt.builder.admit(
                rt.builder.prepare(
                    time.time_ns(),
                    number,
                    template,
                    args,
                    exc_info,
                    props,
                    rt.static_properties,
                    self._bound,
                    self._name,
                    _task_name(),
                )
            )
        except Exception as exc:
            rt.internal_error(exc)
            await trio.lowlevel.checkpoint()
            return
        if admitted is None:
            await trio.lowlevel.checkpoint()
            return
        event, size = admitted
        rt.events += 1
        try:
            for target in rt.routes[number]:
                await target.put(event, number, size)
        except InboxClosed:
            raise LoggerClosedError("the logger closed while waiting for queue room") from None
        await trio.lowlevel.checkpoint()

    # -- structure -------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The logger name (``LogEvent.logger``)."""
        return self._name

    def bind(self, **props: object) -> Logger:
        """A child logger that adds ``props`` to every event (shares the level gate); the
        values are captured now, once."""
        added = self._rt.builder.bound(props)  # (a new dict)
        bound = {**self._bound, **added} if self._bound else added
        return Logger._child(self._rt, self._name, bound)

    def named(self, name: str) -> Logger:
        """A child logger with another logger name (same bound properties)."""
        return Logger._child(self._rt, self._rt.builder.capture.logger_name(name), self._bound)

    @contextlib.contextmanager
    def context(self, **props: object) -> Iterator[Logger]:
        """Add ``props`` to every event logged in this context (contextvars: child tasks
        started inside inherit it, and so does ``trio.to_thread.run_sync``)."""
        with ambient(**props):
            yield self

    def is_enabled(self, level: object) -> bool:
        """Whether a call at ``level`` passes the logger's gate."""
        try:
            return parse_level(level) >= self._rt.min_level
        except ValueError:
            return False

    def set_level(self, level: object) -> None:
        """Change the gate at runtime, for this logger and every logger sharing its runtime.

        Raises:
            ValueError: ``level`` names no level.
        """
        self._rt.set_level(level)

    @property
    def level(self) -> Level:
        """The current gate."""
        return Level(self._rt.min_level)

    # -- supervisor ------------------------------------------------------------------------------

    async def aflush(self) -> None:
        """Wait until every event accepted before the call has left the queues (written,
        rerouted, spooled, failed or dropped) and each sink's ``flush`` ran."""
        await self._rt.flush()

    async def flush(self) -> None:
        """``await log.flush()``: the same as :meth:`aflush` (kept as the short spelling)."""
        await self._rt.flush()

    def metrics(self) -> MetricsSnapshot:
        """All counters now."""
        return self._rt.snapshot()

    async def aclose(self) -> None:
        """Shut the logger down (drain within the deadline) and wait for the report."""
        await self._rt.aclose()

    @property
    def report(self) -> ShutdownReport | None:
        """The :class:`ShutdownReport`, once the logger has shut down."""
        return self._rt.report

    @property
    def closed(self) -> bool:
        """Whether the logger has stopped taking events."""
        return self._rt.closed

    def sink(self, name: str) -> Sink:
        """The sink object behind the sink called ``name`` (e.g. a memory sink's ``events``).

        Raises:
            KeyError: no sink has that name.
        """
        return self._rt.actors[name].sink

    def capture_stdlib(
        self, level: object = "info", **options: Any
    ) -> contextlib.AbstractContextManager[Any]:
        """Route the stdlib root logger into this logger while the context is active
        (``options``: see :func:`logactors.stdlib.capture_stdlib`)."""
        from .stdlib import capture_stdlib

        return capture_stdlib(self, level, **options)

    def __repr__(self) -> str:
        return f"<Logger {self._name!r} level={Level(self._rt.min_level).name}>"


@contextlib.contextmanager
def ambient(**props: object) -> Iterator[None]:
    """Set ambient properties for the current context (see :meth:`Logger.context`); the values
    are copied now (each logger applies its own capture rules when it logs them)."""
    token = _CONTEXT.set({**_CONTEXT.get(), **default_capture().properties(props)})
    try:
        yield
    finally:
        try:
            _CONTEXT.reset(token)
        except ValueError:  # exited in another context than it was entered in
            pass
