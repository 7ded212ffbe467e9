"""The logger front end: level gate, event construction and hand-off to the sink inboxes.

Decide once, not per call: each :class:`Logger` holds its six level methods in slots. A level
below the gate holds a shared no-op (a disabled call costs one function call); an enabled level
holds a closure with everything it needs bound in. ``set_level`` rebuilds the slots of every
logger of the runtime (``bind`` children included).

A logging call never raises and never waits: on the trio thread it builds the event and puts
it in each matching inbox; from any other thread it goes through the hand-off. The awaiting
twins (``ainfo`` …) wait for queue room instead (back-pressure) and raise only
:class:`LoggerClosedError`, after close.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

import trio

from ._events import LogEvent
from ._inbox import Inbox, InboxClosed
from ._json import safe_str
from ._levels import Level, parse_level
from ._sizing import BASE_BYTES, _deep, truncate
from ._trace import add_trace, context_getter, with_trace
from .exceptions import LoggerClosedError
from .templates import parse

if TYPE_CHECKING:
    from ._supervisor import Runtime
    from .metrics import MetricsSnapshot, ShutdownReport
    from .sinks.base import Sink

__all__ = ["Logger", "LogMethod", "ambient", "format_exc_info"]

ExcInfo = Any  # True, an exception, an exc_info tuple, or None/False

_EMPTY: Final[dict[str, Any]] = {}
_CONTEXT: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "logactors_context", default=_EMPTY
)
_SCALARS: Final = frozenset({int, float, bool, type(None)})
_METHODS: Final = (
    (Level.TRACE, "trace"),
    (Level.DEBUG, "debug"),
    (Level.INFO, "info"),
    (Level.WARNING, "warning"),
    (Level.ERROR, "error"),
    (Level.CRITICAL, "critical"),
)
_METHOD_FOR: Final = dict(_METHODS)


class LogMethod(Protocol):
    """``log.info(template, /, *args, exc_info=None, **properties)``."""

    def __call__(
        self, template: str, /, *args: object, exc_info: ExcInfo = None, **props: object
    ) -> None: ...


def _noop(*args: object, **kwargs: object) -> None:
    """A disabled level."""


def format_exc_info(exc_info: ExcInfo) -> str | None:
    """Format ``exc_info`` (True, an exception, or a tuple) as traceback text; never raises."""
    try:
        if exc_info is True:
            info = sys.exc_info()
            if info[1] is None:
                return None
            error: BaseException = info[1]
        elif isinstance(exc_info, BaseException):
            error = exc_info
        elif isinstance(exc_info, tuple) and len(exc_info) == 3 and exc_info[1] is not None:
            error = exc_info[1]
        else:
            return None
        return "".join(traceback.format_exception(error)).rstrip("\n")
    except Exception as exc:  # pragma: no cover - traceback formatting itself failed
        return f"<exception could not be formatted: {safe_str(exc)}>"


def _prepare(
    template: object, args: tuple[object, ...], exc_info: ExcInfo, props: dict[str, Any]
) -> tuple[str, dict[str, Any], str | None]:
    """The slow part of a call: non-str template, positional arguments, exception."""
    if template.__class__ is not str:
        template = safe_str(template).replace("{", "{{").replace("}", "}}")
    assert isinstance(template, str)
    if args:
        props = {**parse(template).bind(args, props), **props}
    exception = format_exc_info(exc_info) if exc_info is not None else None
    return template, props, exception


def _merge(
    static: Mapping[str, Any], bound: Mapping[str, Any], props: dict[str, Any]
) -> dict[str, Any]:
    """config/enricher properties < ambient context < bound < call site."""
    ctx = _CONTEXT.get()
    if ctx:
        return {**static, **ctx, **bound, **props}
    if static or bound:
        return {**static, **bound, **props}
    return props


def _task_name() -> str:
    try:
        return trio.lowlevel.current_task().name
    except RuntimeError:
        return threading.current_thread().name


class AwaitingMethods:
    """The awaiting twins of the level methods, for any class that implements ``alog``."""

    __slots__ = ()

    async def alog(
        self, level: object, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """Log at ``level``, waiting for queue room where the logger can."""
        raise NotImplementedError

    async def atrace(
        self, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """``trace``, waiting for queue room (see :meth:`Logger.alog`)."""
        await self.alog(Level.TRACE, template, *args, exc_info=exc_info, **props)

    async def adebug(
        self, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """``debug``, waiting for queue room."""
        await self.alog(Level.DEBUG, template, *args, exc_info=exc_info, **props)

    async def ainfo(
        self, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """``info``, waiting for queue room."""
        await self.alog(Level.INFO, template, *args, exc_info=exc_info, **props)

    async def awarning(
        self, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """``warning``, waiting for queue room."""
        await self.alog(Level.WARNING, template, *args, exc_info=exc_info, **props)

    async def aerror(
        self, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """``error``, waiting for queue room."""
        await self.alog(Level.ERROR, template, *args, exc_info=exc_info, **props)

    async def acritical(
        self, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """``critical``, waiting for queue room."""
        await self.alog(Level.CRITICAL, template, *args, exc_info=exc_info, **props)

    async def aexception(
        self, template: str, /, *args: object, exc_info: ExcInfo = True, **props: Any
    ) -> None:
        """``exception``, waiting for queue room."""
        await self.alog(Level.ERROR, template, *args, exc_info=exc_info, **props)


class Logger(AwaitingMethods):
    """The logging front end (get one from ``open_logger``, ``start_logger`` or ``bind``).

    Level methods ``trace``, ``debug``, ``info``, ``warning``, ``error`` and ``critical`` take
    ``(template, /, *args, exc_info=None, **properties)``: a message template
    (``"Processing {id}"``), positional arguments bound to its holes left to right (surplus ones
    kept in the property ``args``), and properties as keyword arguments. They never raise and
    never wait. ``exception(...)`` logs at error with the current exception attached.
    """

    __slots__ = (
        "__weakref__",
        "_base",
        "_bound",
        "_name",
        "_rt",
        "critical",
        "debug",
        "error",
        "info",
        "trace",
        "warning",
    )

    trace: LogMethod
    debug: LogMethod
    info: LogMethod
    warning: LogMethod
    error: LogMethod
    critical: LogMethod

    def __init__(self, runtime: Runtime, name: str, bound: Mapping[str, Any]) -> None:
        self._rt = runtime
        self._name = name
        self._bound: dict[str, Any] = dict(bound)
        self._base: dict[str, Any] = {**runtime.static_properties, **bound}
        runtime.loggers.add(self)
        self._apply_level()

    def _apply_level(self) -> None:
        gate = self._rt.min_level
        for level, attr in _METHODS:
            setattr(self, attr, self._method(level) if level >= gate else _noop)

    def _method(self, level: Level) -> LogMethod:
        rt = self._rt
        name = self._name
        static = rt.static_properties
        bound = self._bound
        base = self._base or None
        routes = rt.routes[level]
        # The common case, one route to a sink's inbox: Inbox.put_nowait's first branch is
        # inlined below. Other single routes (a filter, a capture) are called bound.
        inbox = routes[0] if len(routes) == 1 and type(routes[0]) is Inbox else None
        single = routes[0].put_nowait if len(routes) == 1 and inbox is None else None
        # Several routes, all sink inboxes: they share one plain tuple.
        fan_out = (
            tuple(target.put_nowait for target in routes)
            if len(routes) > 1 and all(type(target) is Inbox for target in routes)
            else None
        )
        if inbox is not None:
            queue, queue_sizes, max_events, hard_cap = inbox.fast_path()
            counters = inbox.counters
        limit = rt.max_event_bytes
        simple = rt.enrich is None and rt.keep is None and rt.sequence < 0 and rt.redactor is None
        get_ctx = _CONTEXT.get
        get_ident = threading.get_ident
        now = time.time_ns
        current_task = trio.lowlevel.current_task
        new = tuple.__new__
        scalars = _SCALARS
        deep = _deep
        handoff = rt.handoff
        pending = handoff.pending_events if handoff is not None else ()
        otel = context_getter(rt.config.trace_context)  # trace correlation (_trace.py)

        def emit(template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any) -> None:
            try:
                if get_ident() != rt.gate_thread:  # another thread, or the logger is closed
                    if rt.closed:
                        rt.rejected += 1
                    else:
                        _from_thread(
                            rt, level, name, static, bound, template, args, exc_info, props
                        )
                    return
                if pending:
                    rt.handoff.pump(force=True)  # type: ignore[union-attr]
                exception = None
                if args or exc_info is not None or template.__class__ is not str:
                    template, props, exception = _prepare(template, args, exc_info, props)
                ctx = get_ctx()
                if ctx:
                    props = {**static, **ctx, **bound, **props}
                elif base is not None:
                    props = {**base, **props}
                if otel is not None and (otel_ctx := otel()):  # trace correlation (_trace.py)
                    props = add_trace(props, otel_ctx)
                try:
                    task = current_task().name
                except RuntimeError:
                    task = ""
                if simple:
                    size = BASE_BYTES
                    for value in props.values():
                        cls = type(value)
                        if cls is str:
                            size += 56 + len(value)
                        elif cls in scalars:
                            size += 32
                        else:
                            size += deep(value, limit)
                    if size > limit:
                        props, size = truncate(props, limit)
                    rt.events += 1
                    if inbox is not None:
                        # queued as a plain tuple (see _events.EventTuple)
                        fields = (now(), level, template, props, exception, name, task)
                        counters.accepted += 1
                        if len(queue) < max_events and inbox.bytes + size <= hard_cap:
                            queue.append(fields)
                            queue_sizes.append(size - BASE_BYTES)
                            inbox.bytes += size
                            if inbox._waiter is not None and len(queue) >= inbox._wake_at:
                                inbox.wake()
                        else:
                            inbox.overflow(fields, level, size)
                        return
                    if fan_out is not None:
                        fields = (now(), level, template, props, exception, name, task)
                        for put in fan_out:
                            put(fields, level, size)
                        return
                    event = new(LogEvent, (now(), level, template, props, exception, name, task))
                    if single is not None:
                        single(event, level, size)
                    else:
                        for target in routes:
                            target.put_nowait(event, level, size)
                    return
                if rt.enrich is not None:
                    rt.enrich(props, task)
                admitted = rt.admit(
                    now(), level, template, props, exception, name, task, rt.event_size(props)
                )
                if admitted is not None:
                    rt.route(admitted[0], level, admitted[1])
            except Exception as exc:
                rt.internal_error(exc)

        return emit

    # -- other levels and forms ------------------------------------------------------------------

    def exception(
        self, template: str, /, *args: object, exc_info: ExcInfo = True, **props: object
    ) -> None:
        """Log at error level with the exception being handled attached."""
        self.error(template, *args, exc_info=exc_info, **props)

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
        method: LogMethod = getattr(self, _METHOD_FOR[Level(number)])
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
                _from_thread(
                    rt,
                    number,
                    self._name,
                    rt.static_properties,
                    self._bound,
                    template,
                    args,
                    exc_info,
                    props,
                )
            return
        if number is None or number < rt.min_level:
            await trio.lowlevel.checkpoint()
            return
        if rt.handoff is not None and rt.handoff.pending:
            rt.handoff.pump(force=True)
        try:
            template, props, exception = _prepare(template, args, exc_info, props)
            props = _merge(rt.static_properties, self._bound, props)
            props = with_trace(props, rt.config.trace_context)  # trace correlation (_trace.py)
            task = _task_name()
            if rt.enrich is not None:
                rt.enrich(props, task)
            admitted = rt.admit(
                time.time_ns(),
                number,
                template,
                props,
                exception,
                self._name,
                task,
                rt.event_size(props),
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
        """A child logger that adds ``props`` to every event (shares the level gate)."""
        return Logger(self._rt, self._name, {**self._bound, **props})

    def named(self, name: str) -> Logger:
        """A child logger with another logger name (same bound properties)."""
        return Logger(self._rt, name, self._bound)

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

    async def flush(self) -> None:
        """Wait until every event accepted before the call has left the queues (written,
        rerouted, spooled, failed or dropped) and each sink's ``flush`` ran."""
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
    """Set ambient properties for the current context (see :meth:`Logger.context`)."""
    token = _CONTEXT.set({**_CONTEXT.get(), **props})
    try:
        yield
    finally:
        try:
            _CONTEXT.reset(token)
        except ValueError:  # exited in another context than it was entered in
            pass


def _from_thread(
    rt: Runtime,
    level: Level,
    name: str,
    static: Mapping[str, Any],
    bound: Mapping[str, Any],
    template: str,
    args: tuple[object, ...],
    exc_info: ExcInfo,
    props: dict[str, Any],
) -> None:
    """A call from a thread other than the trio thread: build the fields here, hand off."""
    handoff = rt.handoff
    if handoff is None or handoff.closed:
        if handoff is not None:
            handoff._reject()
        else:
            rt.rejected += 1
        return
    timestamp = time.time_ns()
    template, props, exception = _prepare(template, args, exc_info, props)
    props = _merge(static, bound, props)
    props = with_trace(props, rt.config.trace_context)  # trace correlation (_trace.py)
    task = threading.current_thread().name
    if rt.enrich is not None:
        rt.enrich(props, task)
    handoff.submit((timestamp, level, template, props, exception, name, task, rt.event_size(props)))
