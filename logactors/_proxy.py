"""Module-level loggers: ``get_logger(name)`` proxies and the registry of active loggers.

A proxy is safe to create at import time. Each call finds the logger active in this trio run
(or, from other threads and non-trio code, the most recently started one in the process, such
as a thread-hosted logger) and forwards to a child logger named after the proxy.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import trio

from ._capture import default_capture
from ._facade import METHOD_FOR, ExcInfo, LevelMethods, LogMethod, level_methods
from ._json import safe_str
from ._levels import OFF, Level, parse_level
from ._logger import Logger, ambient
from .templates import parse

if TYPE_CHECKING:
    from ._core.runtime import Runtime

__all__ = ["LoggerProxy", "current_runtime", "get_logger", "orphan_counts", "register"]

_RUN_STACK: trio.lowlevel.RunVar[tuple[Runtime, ...]] = trio.lowlevel.RunVar(
    "logactors_runtimes", default=()
)
_PROCESS_STACK: list[Runtime] = []
_LOCK = threading.Lock()
#: The one active logger when the process has exactly one (the usual case), else None: every
#: trio run and thread then finds that one (:func:`current_runtime`), so a proxy's call skips
#: the lookup.
_sole: Runtime | None = None


def _only_one() -> Runtime | None:
    """:data:`_sole` for the process stack as it is (called holding ``_LOCK``)."""
    return _PROCESS_STACK[0] if len(_PROCESS_STACK) == 1 else None


def register(runtime: Runtime) -> Callable[[], None]:
    """Make ``runtime`` the active one (in this trio run and process-wide); returns undo."""
    global _sole
    in_run = trio.lowlevel.in_trio_run()
    if in_run:
        _RUN_STACK.set((*_RUN_STACK.get(), runtime))
    with _LOCK:
        _PROCESS_STACK.append(runtime)
        _sole = _only_one()

    def unregister() -> None:
        global _sole
        if in_run:
            with contextlib.suppress(RuntimeError):
                _RUN_STACK.set(tuple(r for r in _RUN_STACK.get() if r is not runtime))
        with _LOCK:
            with contextlib.suppress(ValueError):
                _PROCESS_STACK.remove(runtime)
            _sole = _only_one()

    return unregister


def current_runtime() -> Runtime | None:
    """The logger active in this trio run, else the most recent one in the process."""
    try:
        stack = _RUN_STACK.get()
    except RuntimeError:
        stack = ()
    if stack:
        return stack[-1]
    return _PROCESS_STACK[-1] if _PROCESS_STACK else None


class _Orphans:
    """Calls made through a proxy while no logger was active."""

    dropped = 0
    printed = 0
    lock = threading.Lock()


def _orphan(level: Level, name: str, template: str, props: Mapping[str, Any]) -> None:
    if level >= Level.WARNING:
        try:
            message = parse(safe_str(template)).render(props)
            stream = sys.stderr or sys.__stderr__
            if stream is not None:
                stream.write(
                    f"{level.name} {name or 'root'}: {message} (logactors: no logger active)\n"
                )
            with _Orphans.lock:
                _Orphans.printed += 1
        except Exception:
            pass
        return
    with _Orphans.lock:
        _Orphans.dropped += 1


def orphan_counts() -> tuple[int, int]:
    """(dropped, printed) proxy calls made while no logger was active."""
    return _Orphans.dropped, _Orphans.printed


def _forward(level: Level, name: str) -> LogMethod:
    """A proxy's level method (``name`` at ``level``). With one active logger in the process
    (:data:`_sole`), a level below its gate returns at once, and the proxy's child logger
    for that runtime, once made, is called without looking the runtime up, through its level
    method's ``packed`` twin (:func:`logactors._levelmethod.build`): the arguments as this
    method received them, not unpacked and packed again."""

    def method(
        self: LoggerProxy, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        runtime = _sole
        if runtime is not None:
            if level < runtime.min_level:
                return
            cache = self._cache
            if cache is not None and cache[0] is runtime:
                target = cache[1]
                packed = getattr(getattr(type(target), name), "packed", None)
                if packed is not None:
                    packed(target, template, args, exc_info, props)
                else:  # (the child has not settled yet, or the gate has just moved)
                    getattr(target, name)(template, *args, exc_info=exc_info, **props)
                return
        self._call(level, template, args, exc_info, props)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = "See :class:`Logger`."
    return method  # type: ignore[return-value]


@level_methods(_forward)
class LoggerProxy(LevelMethods):
    """A module-level logger (``logactors.get_logger(__name__)``), safe to create at import.

    Each call forwards to the logger active in this trio run (or the most recently started
    one, e.g. a thread-hosted logger), with ``LogEvent.logger`` set to the proxy's name. With
    none active, warning and above go to standard error and the rest are counted as dropped
    (:func:`orphan_counts`).
    """

    __slots__ = ("_bound", "_cache", "name")

    def __init__(self, name: str = "", bound: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self._bound: dict[str, Any] = dict(bound or {})
        self._cache: tuple[Runtime, Logger] | None = None

    def _target(self) -> Logger | None:
        runtime = current_runtime()
        if runtime is None:
            return None
        cache = self._cache
        if cache is not None and cache[0] is runtime:
            return cache[1]
        logger = Logger(runtime, self.name, self._bound)
        self._cache = (runtime, logger)
        return logger

    def _call(
        self,
        level: Level,
        template: str,
        args: tuple[object, ...],
        exc_info: ExcInfo,
        props: dict[str, Any],
    ) -> None:
        target = self._target()
        if target is None:
            _orphan(level, self.name, template, {**self._bound, **props})
            return
        method: LogMethod = getattr(target, METHOD_FOR[level])
        method(template, *args, exc_info=exc_info, **props)

    def log(
        self, level: object, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """See :meth:`Logger.log`."""
        try:
            number = Level(parse_level(level))
        except ValueError:
            return
        self._call(number, template, args, exc_info, props)

    async def alog(
        self, level: object, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """See :meth:`Logger.alog`."""
        target = self._target()
        if target is None:
            self.log(level, template, *args, exc_info=exc_info, **props)
            await trio.lowlevel.checkpoint()
            return
        await target.alog(level, template, *args, exc_info=exc_info, **props)

    def bind(self, **props: object) -> LoggerProxy:
        """A proxy that adds ``props`` to every event (their values copied now)."""
        return LoggerProxy(self.name, {**self._bound, **default_capture().properties(props)})

    def named(self, name: str) -> LoggerProxy:
        """A proxy with another logger name (same bound properties)."""
        return LoggerProxy(name, self._bound)

    @property
    def level(self) -> int:
        """The active logger's gate (:data:`OFF` while none is active)."""
        target = self._target()
        return OFF if target is None else target.level

    def context(self, **props: object) -> contextlib.AbstractContextManager[None]:
        """Ambient properties (works with or without an active logger)."""
        return ambient(**props)

    def is_enabled(self, level: object) -> bool:
        """Whether the active logger would take ``level`` (False with none active)."""
        target = self._target()
        return target is not None and target.is_enabled(level)

    def __repr__(self) -> str:
        return f"<LoggerProxy {self.name!r}>"


def get_logger(name: str = "") -> LoggerProxy:
    """A module-level logger proxy (safe to create at import time; see :class:`LoggerProxy`)."""
    return LoggerProxy(name)
