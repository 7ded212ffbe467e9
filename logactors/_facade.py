"""The logger surface shared by the three façades, written once: :class:`BoundLogger`.

``Logger`` (a trio logger), ``LoggerProxy`` (``get_logger``) and ``ThreadedLogger``
(``start_in_thread``) all satisfy :class:`BoundLogger`; tests/test_facade.py has mypy check it.
The level methods come from one table, :data:`LEVEL_METHODS`:

* the six level methods (``trace`` … ``critical``) are each façade's own, built from the table
  with :func:`level_methods`: a ``Logger``'s are set again on its runtime's classes by the gate
  (:class:`logactors._logger.LoggerTypes`), a proxy and a thread-hosted logger forward theirs;
* ``exception`` and the stdlib aliases ``warn`` and ``fatal`` call the level method they stand
  for, and the awaiting twins (``atrace`` … ``acritical``, ``aexception``) call the façade's
  ``alog``: :class:`LevelMethods` generates them for every façade.

Naming: a synchronous method has the plain name, an ``async`` one the ``a`` prefix (``info`` /
``ainfo``, ``Logger.aflush`` / ``Logger.aclose``). ``await Logger.flush()`` stays as an alias of
``aflush`` (see docs/api.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from ._levels import Level

__all__ = [
    "ALIASES",
    "LEVEL_METHODS",
    "LEVEL_OF",
    "METHOD_FOR",
    "AsyncLogMethod",
    "BoundLogger",
    "ExcInfo",
    "LevelMethods",
    "LogMethod",
    "level_methods",
]

ExcInfo = Any  # True, an exception, an exc_info tuple, or None/False

#: The levels table: each event level and the name of its method.
LEVEL_METHODS: Final = (
    (Level.TRACE, "trace"),
    (Level.DEBUG, "debug"),
    (Level.INFO, "info"),
    (Level.WARNING, "warning"),
    (Level.ERROR, "error"),
    (Level.CRITICAL, "critical"),
)
METHOD_FOR: Final = dict(LEVEL_METHODS)
LEVEL_OF: Final = {name: level for level, name in LEVEL_METHODS}

#: Methods that stand for a level method: (name, level method, ``exc_info`` default).
ALIASES: Final = (
    ("exception", "error", True),
    ("warn", "warning", None),
    ("fatal", "critical", None),
)

_T = TypeVar("_T", bound=type)
_F = TypeVar("_F", bound=Callable[..., Any])


class LogMethod(Protocol):
    """``log.info(template, /, *args, exc_info=None, **properties)``."""

    def __call__(
        self, template: str, /, *args: object, exc_info: ExcInfo = None, **props: object
    ) -> None: ...


class AsyncLogMethod(Protocol):
    """``await log.ainfo(template, /, *args, exc_info=None, **properties)``."""

    async def __call__(
        self, template: str, /, *args: object, exc_info: ExcInfo = None, **props: object
    ) -> None: ...


# A value, not a bare annotation: to mypy the façades that subclass the protocol below then
# implement these members (they are generated at runtime) instead of leaving them abstract.
_GENERATED: Any = None


class LevelSurface(Protocol):
    """The level methods as a type checker sees them (the names of :data:`LEVEL_METHODS`, of
    :data:`ALIASES` and their ``a``-prefixed twins; tests/test_facade.py checks the match)."""

    __slots__ = ()

    trace: LogMethod = _GENERATED
    debug: LogMethod = _GENERATED
    info: LogMethod = _GENERATED
    warning: LogMethod = _GENERATED
    error: LogMethod = _GENERATED
    critical: LogMethod = _GENERATED
    exception: LogMethod = _GENERATED
    warn: LogMethod = _GENERATED
    fatal: LogMethod = _GENERATED
    atrace: AsyncLogMethod = _GENERATED
    adebug: AsyncLogMethod = _GENERATED
    ainfo: AsyncLogMethod = _GENERATED
    awarning: AsyncLogMethod = _GENERATED
    aerror: AsyncLogMethod = _GENERATED
    acritical: AsyncLogMethod = _GENERATED
    aexception: AsyncLogMethod = _GENERATED
    awarn: AsyncLogMethod = _GENERATED
    afatal: AsyncLogMethod = _GENERATED


class BoundLogger(LevelSurface, Protocol):
    """What every logger object offers: ``Logger``, ``LoggerProxy`` and ``ThreadedLogger``.

    Annotate with it to accept any of them::

        def handle(request: Request, log: logactors.BoundLogger) -> None:
            log.info("Handling {path}", path=request.path)

    Level methods ``trace``, ``debug``, ``info``, ``warning``, ``error``, ``critical``,
    ``exception`` (error, with the exception being handled) and the stdlib aliases ``warn`` and
    ``fatal`` take ``(template, /, *args, exc_info=None, **properties)``, never raise and never
    wait; each has an awaiting twin (``ainfo`` …) that waits for queue room where the logger
    can (back-pressure).
    """

    @property
    def name(self) -> str:
        """The logger name (``LogEvent.logger``)."""
        ...

    @property
    def level(self) -> int:
        """The level gate: a :class:`Level` (:data:`OFF` where no logger is there to log)."""
        ...

    def log(
        self, level: object, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """Log at ``level`` (a :class:`Level`, a name or a number)."""

    async def alog(
        self, level: object, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """Log at ``level``, waiting for queue room where the logger can."""

    def bind(self, **props: object) -> BoundLogger:
        """A child logger that adds ``props`` to every event."""
        ...

    def named(self, name: str) -> BoundLogger:
        """A child logger with another logger name."""
        ...

    def context(self, **props: object) -> contextlib.AbstractContextManager[object]:
        """Ambient properties for every event logged in this context."""
        ...

    def is_enabled(self, level: object) -> bool:
        """Whether a call at ``level`` passes the gate."""
        ...


if TYPE_CHECKING:
    _Surface = LevelSurface
else:
    _Surface = object


class LevelMethods(_Surface):
    """Base of the façades: ``exception``, ``warn``, ``fatal`` and the awaiting twins, generated
    below from the levels table. A subclass provides the six level methods and ``alog``."""

    __slots__ = ()

    async def alog(
        self, level: object, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """Log at ``level``, waiting for queue room where the logger can."""
        raise NotImplementedError


def level_methods(make: Callable[[Level, str], object]) -> Callable[[_T], _T]:
    """Class decorator: set the six level methods of a façade to ``make(level, name)`` (a
    function, or a property that returns the method to call)."""

    def decorate(cls: _T) -> _T:
        for level, name in LEVEL_METHODS:
            setattr(cls, name, make(level, name))
        return cls

    return decorate


def _alias(name: str, target: str, exc_default: ExcInfo) -> Callable[..., None]:
    def method(
        self: Any, template: str, /, *args: object, exc_info: ExcInfo = exc_default, **props: Any
    ) -> None:
        getattr(self, target)(template, *args, exc_info=exc_info, **props)

    what = "with the exception being handled attached" if exc_default else "(stdlib's alias)"
    return _named(method, name, f"``{target}`` {what}.")


def _awaiting(name: str, level: Level, exc_default: ExcInfo) -> Callable[..., Any]:
    async def method(
        self: Any, template: str, /, *args: object, exc_info: ExcInfo = exc_default, **props: Any
    ) -> None:
        await self.alog(level, template, *args, exc_info=exc_info, **props)

    return _named(method, name, f"``{name[1:]}``, waiting for queue room (see ``alog``).")


def _named(method: _F, name: str, doc: str) -> _F:
    method.__name__ = name
    method.__qualname__ = f"LevelMethods.{name}"
    method.__doc__ = doc
    return method


for _name, _target, _exc in ALIASES:
    setattr(LevelMethods, _name, _alias(_name, _target, _exc))
for _level, _name in LEVEL_METHODS:
    setattr(LevelMethods, f"a{_name}", _awaiting(f"a{_name}", _level, None))
for _name, _target, _exc in ALIASES:
    setattr(LevelMethods, f"a{_name}", _awaiting(f"a{_name}", LEVEL_OF[_target], _exc))
