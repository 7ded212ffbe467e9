"""``start_in_thread``: the supervisor in its own trio loop, for programs that are not trio.

Plain scripts, threads and asyncio programs get a :class:`ThreadedLogger`: the same logging
methods (every call goes through the thread hand-off, whose back-pressure may make the calling
thread, an asyncio loop included, wait briefly for a full sink that is writing), plus synchronous
``flush(timeout)`` and ``close(timeout)``. An ``atexit`` hook drains what is left at
interpreter exit (through the supervisor's own thread: no new host thread is started), and a
forked child restarts its own supervisor thread (the parent's queues are not inherited).
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import threading
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import trio

from ._core.runtime import ConfigSource, Runtime, _run_runtime, coerce_config
from ._facade import ExcInfo, LevelMethods, level_methods
from ._levels import Level
from ._logger import Logger, ambient
from .config import SupervisorConfig
from .metrics import MetricsSnapshot, ShutdownReport

__all__ = ["ThreadedLogger", "start_in_thread"]

_HOSTS: weakref.WeakSet[_Host] = weakref.WeakSet()
_START_TIMEOUT = 30.0


class _Host:
    """Owns the supervisor thread and its trio run."""

    def __init__(self, config: SupervisorConfig) -> None:
        self.config = config
        self.generation = 0
        self._lock = threading.Lock()
        self._start()
        _HOSTS.add(self)

    def _start(self) -> None:
        self.runtime = Runtime(self.config)  # configuration errors raise here, in the caller
        self.token: trio.lowlevel.TrioToken | None = None
        self.logger: Logger | None = None
        self.error: BaseException | None = None
        self.closed = False
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name="logactors-supervisor", daemon=True)
        self.thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise RuntimeError("logactors: the supervisor thread did not start")
        if self.error is not None:
            raise self.error
        self.generation += 1

    def _main(self) -> None:
        try:
            trio.run(self._run)
        except BaseException as exc:  # reported to the starting thread, or lost at exit
            self.error = exc
        finally:
            self._ready.set()

    async def _run(self) -> None:
        self.token = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            self.logger = await nursery.start(_run_runtime, self.runtime)
            self._ready.set()

    def flush(self, timeout: float | None) -> bool:
        if self.closed or self.token is None:
            return True

        async def flush() -> bool:
            with trio.move_on_after(math.inf if timeout is None else timeout) as scope:
                await self.runtime.flush()
            return not scope.cancelled_caught

        try:
            return trio.from_thread.run(flush, trio_token=self.token)
        except trio.RunFinishedError:
            return True

    def close(self, timeout: float | None) -> ShutdownReport | None:
        with self._lock:
            if not self.closed and self.token is not None:
                self.closed = True
                if timeout is not None:
                    self.runtime.shutdown_timeout = timeout
                with contextlib.suppress(trio.RunFinishedError):
                    trio.from_thread.run(self.runtime.aclose, trio_token=self.token)
                self.thread.join(timeout=(timeout or 0) + self.config.shutdown.spool_timeout + 5)
        return self.runtime.report

    def restart_after_fork(self) -> None:
        """In a forked child: the supervisor thread is gone; start a fresh one."""
        self._lock = threading.Lock()
        if not self.closed:
            self._start()


def _close_all_at_exit() -> None:
    for host in list(_HOSTS):
        with contextlib.suppress(Exception):
            host.close(host.config.shutdown.timeout)


def _after_fork_in_child() -> None:
    for host in list(_HOSTS):
        with contextlib.suppress(Exception):
            host.restart_after_fork()


atexit.register(_close_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _forward(level: Level, name: str) -> property:
    """A level method: the hosted logger's own (a property, so a call costs one lookup)."""
    return property(lambda self: getattr(self._target(), name), doc="See :class:`Logger`.")


@level_methods(_forward)
class ThreadedLogger(LevelMethods):
    """A logger whose supervisor runs in its own thread (see :func:`start_in_thread`).

    The logging methods are those of :class:`Logger` (``info`` … ``critical``, ``exception``,
    ``log``, the awaiting twins, ``bind``, ``named``, ``context``, ``is_enabled``,
    ``level``, ``set_level``, ``metrics``, ``report``); ``flush`` and ``close`` are synchronous
    (plain names: see :class:`BoundLogger`).
    """

    __slots__ = ("_bound", "_cache", "_host", "_name")

    def __init__(self, host: _Host, name: str = "", bound: Mapping[str, Any] | None = None) -> None:
        self._host = host
        self._name = name
        self._bound: dict[str, Any] = dict(bound or {})
        self._cache: tuple[int, Logger] | None = None

    def _target(self) -> Logger:
        host = self._host
        cache = self._cache
        if cache is not None and cache[0] == host.generation:
            return cache[1]
        logger = Logger(host.runtime, self._name, self._bound)
        self._cache = (host.generation, logger)
        return logger

    # -- logging ---------------------------------------------------------------------------------

    def log(
        self,
        level: object,
        template: str,
        /,
        *args: object,
        exc_info: ExcInfo = None,
        **props: object,
    ) -> None:
        """See :meth:`Logger.log`."""
        self._target().log(level, template, *args, exc_info=exc_info, **props)

    async def alog(
        self, level: object, template: str, /, *args: object, exc_info: ExcInfo = None, **props: Any
    ) -> None:
        """Like :meth:`log` (from another event loop there is nothing to wait on)."""
        await self._target().alog(level, template, *args, exc_info=exc_info, **props)

    @property
    def name(self) -> str:
        """The logger name."""
        return self._name

    @property
    def level(self) -> Level:
        """The current gate."""
        return self._target().level

    def bind(self, **props: object) -> ThreadedLogger:
        """A child logger adding ``props`` to every event."""
        return ThreadedLogger(self._host, self._name, {**self._bound, **props})

    def named(self, name: str) -> ThreadedLogger:
        """A child logger with another logger name."""
        return ThreadedLogger(self._host, name, self._bound)

    @contextlib.contextmanager
    def context(self, **props: object) -> Iterator[ThreadedLogger]:
        """Ambient properties for this thread's (or asyncio task's) context."""
        with ambient(**props):
            yield self

    def is_enabled(self, level: object) -> bool:
        """Whether ``level`` passes the gate."""
        return self._target().is_enabled(level)

    def set_level(self, level: object) -> None:
        """Change the gate for every logger of this supervisor."""
        self._host.runtime.set_level(level)

    # -- supervisor ------------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything logged before the call has left the queues.

        Returns:
            False if ``timeout`` seconds passed first.
        """
        return self._host.flush(timeout)

    def close(self, timeout: float | None = None) -> ShutdownReport | None:
        """Shut down (drain within ``timeout``, default the configured one) and return the
        report. Idempotent."""
        return self._host.close(timeout)

    def metrics(self) -> MetricsSnapshot:
        """All counters now."""
        return self._host.runtime.snapshot()

    @property
    def report(self) -> ShutdownReport | None:
        """The shutdown report, once closed."""
        return self._host.runtime.report

    @property
    def closed(self) -> bool:
        """Whether the logger has shut down."""
        return self._host.runtime.closed

    def capture_stdlib(
        self, level: object = "info", **options: Any
    ) -> contextlib.AbstractContextManager[Any]:
        """Route the stdlib root logger into this logger while the context is active
        (``options``: see :func:`logactors.stdlib.capture_stdlib`)."""
        from .stdlib import capture_stdlib

        return capture_stdlib(self._target(), level, **options)

    def __repr__(self) -> str:
        return f"<ThreadedLogger {self._name!r}>"


def start_in_thread(config: ConfigSource = None) -> ThreadedLogger:
    """Run the supervisor in its own trio loop on a daemon thread and return its logger.

    For programs that are not trio (plain scripts, asyncio). ``log.close()`` drains and
    returns the :class:`ShutdownReport`; an ``atexit`` hook closes it if you do not.

    Raises:
        ConfigError: the configuration is invalid.
    """
    return ThreadedLogger(_Host(coerce_config(config)))
