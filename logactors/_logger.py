"""The logger front end: level gate, event construction and hand-off to the sink inboxes.

Decide once, not per call: a :class:`Logger` is an instance of one of its runtime's logger
classes (:class:`LoggerTypes`), whose six level methods are class attributes. A level below the
gate holds a shared no-op (a disabled call costs one function call); an enabled level holds a
method compiled for this runtime, level and kind of logger (:mod:`logactors._levelmethod`).
``set_level`` sets the classes' attributes again, so every logger of the runtime (``bind``
children included) follows at once.

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
import types
from collections.abc import Iterator, KeysView, Mapping
from typing import TYPE_CHECKING, Any, Final

import trio

from ._capture import CONTEXT, default_capture, format_exc_info
from ._core.inbox import InboxClosed
from ._facade import (
    LEVEL_METHODS,
    METHOD_FOR,
    ExcInfo,
    LevelMethods,
    LogMethod,
    level_methods,
)
from ._levelmethod import Method
from ._levelmethod import build as build_level_method
from ._levels import Level, parse_level
from ._sizing import _SCALARS, estimate
from .exceptions import LoggerClosedError

if TYPE_CHECKING:
    from ._core.runtime import Runtime
    from .metrics import MetricsSnapshot, ShutdownReport
    from .sinks.base import Sink

__all__ = ["Logger", "LoggerTypes", "ambient", "format_exc_info"]

_CONTEXT = CONTEXT


def _noop(self: Logger, template: object, /, *args: object, **props: object) -> None:
    """A disabled level. (Its parameters are the level method's, without ``exc_info``'s
    default, which would only slow the call: it arrives in ``props``.)"""


def _task_name() -> str:
    try:
        return trio.lowlevel.current_task().name
    except RuntimeError:
        return threading.current_thread().name


class _Settling:
    """An enabled level method of a logger that has not settled yet, as the runtime's
    :attr:`~LoggerTypes.unsettled` class holds it: reading it (``log.info``, so every call
    too) settles the logger (:meth:`Logger._settle`) and gives the method compiled for its new
    class. A method taken before the first call (``info = log.bind(user=u).info``) is then
    that compiled method, as it is when taken later, not a detour through the settling step
    on each call.

    Called through the class (``type(log).info(log, ...)``) it settles and logs. Where
    settling raises (a bug), reading it gives a method that tries again at each call: each
    failed call is an internal error (counted as rejected, reported on the self-log), never a
    silent no-op, and the logger logs as soon as it can settle."""

    def __init__(self, level: Level, attr: str) -> None:
        self._attr = attr
        self.__name__ = attr
        self.__doc__ = f"Log at {level.name.lower()} (see :class:`Logger`)."

    def __get__(self, logger: Logger | None, owner: type | None = None) -> Any:
        if logger is None:
            return self
        try:
            logger._settle()
        except Exception:
            return types.MethodType(self, logger)  # (settles, or fails, at each call)
        return getattr(logger, self._attr)  # (its class now holds the compiled method)

    def __call__(self, logger: Logger, template: str, /, *args: object, **props: object) -> None:
        try:
            logger._settle()
        except Exception as exc:
            logger._rt.internal_error(exc)
            return
        getattr(logger, self._attr)(template, *args, **props)


_SETTLING: Final[dict[str, _Settling]] = {
    attr: _Settling(level, attr) for level, attr in LEVEL_METHODS
}


def _forward(level: Level, attr: str) -> Method:
    """The level methods of :class:`Logger` itself, which its runtime's classes override (an
    explicit ``Logger.info(log, ...)`` reaches the logger's own)."""

    def method(self: Logger, template: str, /, *args: object, **props: object) -> None:
        getattr(self, attr)(template, *args, **props)

    method.__name__ = attr
    method.__qualname__ = f"Logger.{attr}"
    method.__doc__ = f"Log at {level.name.lower()} (see :class:`Logger`)."
    return method


@level_methods(_forward)
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

    # A logger is an instance of one of its runtime's classes (:class:`LoggerTypes`), which hold
    # the level methods; the slots hold what differs from one logger to the next: its name and
    # bound properties, and (once it has settled) their merge with the
    # configuration's properties, its keys and its size.
    __slots__ = ("__weakref__", "_base", "_base_names", "_bound", "_fixed_size", "_name", "_rt")
    _rt: Runtime
    _name: str
    _bound: dict[str, Any]
    _base: dict[str, Any]
    _base_names: KeysView[str]
    _fixed_size: int

    def __new__(cls, runtime: Runtime, name: str, bound: Mapping[str, Any]) -> Logger:
        """A logger of ``runtime`` (an instance of its class for new loggers), its name and
        bound properties captured now."""
        capture = runtime.builder.capture
        return Logger._child(runtime, capture.logger_name(name), capture.properties(bound))

    def __init_subclass__(cls, *, runtime_class: bool = False, **kwargs: Any) -> None:
        # A logger takes its runtime's class for its kind when it settles, which would drop
        # a subclass's methods without a word: only LoggerTypes makes subclasses.
        if not runtime_class:
            raise TypeError(
                "logactors.Logger cannot be subclassed (a logger's class is its runtime's); "
                "wrap a Logger, or add properties with bind()"
            )
        super().__init_subclass__(**kwargs)

    def __copy__(self) -> Logger:
        """A logger with the same name, properties and runtime (a copy shares its runtime)."""
        return Logger._child(self._rt, self._name, self._bound)

    def __deepcopy__(self, memo: dict[int, Any]) -> Logger:
        return self.__copy__()

    def __reduce__(self) -> Any:
        raise TypeError("a Logger belongs to its running logger and cannot be pickled")

    @classmethod
    def _child(cls, runtime: Runtime, name: str, bound: dict[str, Any]) -> Logger:
        """A logger of ``runtime`` whose name and bound properties (a dict no logger mutates)
        that runtime already captured (``bind``, ``named``): nothing is captured again, and no
        ``__init__`` runs (a class call through a Python ``__init__`` builds an argument tuple
        and a keyword dict: about a quarter of what ``bind`` cost with it)."""
        child: Logger = object.__new__(runtime.logger_types.unsettled)
        child._rt = runtime
        child._name = name
        child._bound = bound
        return child

    def _settle(self) -> None:
        """The first read of an enabled level method (:class:`_Settling`): merge the bound
        properties with the configuration's (and size the merge once), then become an
        instance of the runtime's class for this kind of logger, whose level methods take it
        from here. (Two threads settling the same logger at once compute the same values.)"""
        rt = self._rt
        base = {**rt.static_properties, **self._bound}
        plain = True
        for value in base.values():
            if type(value) is not str and type(value) not in _SCALARS:
                plain = False
                break
        self._base = base
        self._base_names = base.keys()
        # (used only when the base is plain: then the estimate of an event holding just it)
        self._fixed_size = estimate(base, rt.max_event_bytes)
        self.__class__ = rt.logger_types.of_kind(bool(base), plain)

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
        (A level method kept in a variable, ``info = log.info``, stays the one read before:
        read it again to follow the new gate.)

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


class LoggerTypes:
    """A runtime's logger classes, which hold its level methods: decided once per runtime,
    level and kind of logger, not per logger nor per call.

    Each class is a subclass of :class:`Logger` with no slots of its own (a logger changes
    class when an enabled level method of it is first read, :meth:`Logger._settle`) whose six
    level methods are class attributes: a level below the gate holds the shared no-op (a
    disabled call costs one function call), an enabled one the method compiled for this
    runtime, level and kind (:func:`logactors._levelmethod.build`, once per runtime start),
    or in :attr:`unsettled`, the class of a new logger, the settling step (:class:`_Settling`:
    reading it settles the logger). :meth:`apply` sets them again when the gate or the routes
    change: every logger of the runtime, ``bind`` children included, follows at
    once, and the runtime keeps no list of its loggers.

    A class attribute is set only when it changes: CPython 3.13 stops caching look-ups on a
    class whose attributes were set about a thousand times, and a service may switch its
    level back and forth for as long as it runs (one switch changes the levels crossing the
    gate, not the others).
    """

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        # (set_level and a kind's first logger may run on different threads; re-entrant: a
        # finalizer or signal handler that runs while a method compiles may log)
        self._lock = threading.RLock()
        self._kinds: dict[tuple[bool, bool], type[Logger]] = {}
        #: the compiled methods, by level and kind (until the routes change: ``rebuild``)
        self._methods: dict[tuple[Level, tuple[bool, bool]], Method] = {}
        #: the class of a logger before an enabled level method of it is first read
        self.unsettled = self._new(None)

    def of_kind(self, has_base: bool, plain_base: bool) -> type[Logger]:
        """The class of loggers with (or without) properties to merge, plain or not."""
        kind = (has_base, plain_base)
        cls = self._kinds.get(kind)
        if cls is None:
            with self._lock:
                cls = self._kinds.get(kind)
                if cls is None:
                    new = self._new(kind)
                    # (a re-entrant call on this thread may have made one meanwhile)
                    cls = self._kinds.setdefault(kind, new)
        return cls

    def apply(self, *, rebuild: bool = False) -> None:
        """The gate changed (or, with ``rebuild``, what the methods are compiled for: the
        routes, the hand-off): set the classes' level methods that changed."""
        with self._lock:
            if rebuild:
                self._methods.clear()
            self._fill(self.unsettled, None)
            for kind, cls in list(self._kinds.items()):
                self._fill(cls, kind)

    def _new(self, kind: tuple[bool, bool] | None) -> type[Logger]:
        namespace = {"__slots__": (), "__module__": Logger.__module__, "__doc__": Logger.__doc__}
        cls = type(Logger.__name__, (Logger,), namespace, runtime_class=True)
        cls.__qualname__ = Logger.__qualname__
        self._fill(cls, kind)
        return cls

    def _fill(self, cls: type[Logger], kind: tuple[bool, bool] | None) -> None:
        gate = self._rt.min_level
        for level, attr in LEVEL_METHODS:
            method: object
            if level < gate:
                method = _noop
            elif kind is None:
                method = _SETTLING[attr]
            else:
                built = self._methods.get((level, kind))
                if built is None:
                    built = build_level_method(self._rt, level, *kind)
                    built = self._methods.setdefault((level, kind), built)
                method = built
            if cls.__dict__.get(attr) is not method:
                setattr(cls, attr, method)
