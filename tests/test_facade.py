"""The logger protocol: the three façades satisfy ``BoundLogger``; level methods from one table."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import trio

import logactors
from logactors import BoundLogger, CustomSink, Level, SupervisorConfig
from logactors._facade import ALIASES, LEVEL_METHODS, LevelSurface
from logactors.testing import capture

from .helpers import RecordingSink

ROOT = Path(__file__).resolve().parent.parent

#: every level method and awaiting twin, derived from the levels table
SYNC_NAMES = [name for _, name in LEVEL_METHODS] + [name for name, _, _ in ALIASES]
ASYNC_NAMES = [f"a{name}" for name in SYNC_NAMES]
#: the level each method logs at (and whether it attaches the exception being handled)
EXPECTED = {
    **{name: (level, False) for level, name in LEVEL_METHODS},
    "exception": (Level.ERROR, True),
    "warn": (Level.WARNING, False),
    "fatal": (Level.CRITICAL, False),
}

SATISFIES = """
from __future__ import annotations

import logactors
from logactors import BoundLogger, Level


async def use(log: BoundLogger) -> int:
    log.info("Processing {id}", 42, user="bob")
    log.exception("failed", exc_info=True)
    log.warn("w")
    log.fatal("f")
    log.log("info", "x")
    await log.ainfo("waited {n}", n=1)
    await log.aexception("e")
    await log.alog(Level.ERROR, "x")
    child: BoundLogger = log.bind(a=1).named("child")
    with child.context(b=2):
        child.debug("in context")
    name: str = log.name
    return log.level if log.is_enabled("debug") and name else 0


def each(
    logger: logactors.Logger, proxy: logactors.LoggerProxy, threaded: logactors.ThreadedLogger
) -> list[BoundLogger]:
    a: BoundLogger = logger
    b: BoundLogger = proxy
    c: BoundLogger = threaded
    d: BoundLogger = logactors.get_logger(__name__)
    return [a, b, c, d, logger.bind(x=1), proxy.bind(x=1), threaded.bind(x=1)]
"""

# A façade that lacks ``named`` and has a ``level`` of the wrong type: mypy must reject it,
# which shows the check above can fail.
MISSES = """
from __future__ import annotations

import contextlib
from typing import Any

from logactors import BoundLogger


class Incomplete:
    name = "x"
    level = "info"

    def log(self, level: object, template: str, /, *args: object, **props: Any) -> None: ...
    async def alog(self, level: object, template: str, /, *args: object, **props: Any) -> None:
        ...
    def bind(self, **props: object) -> Incomplete: return self
    def context(self, **props: object) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()
    def is_enabled(self, level: object) -> bool: return True


log: BoundLogger = Incomplete()
"""


@pytest.mark.slow
def test_each_facade_satisfies_bound_logger_under_mypy(tmp_path: Path) -> None:
    """mypy --strict accepts each façade (and their children) as a BoundLogger, and rejects a
    class that lacks a member."""
    (tmp_path / "satisfies.py").write_text(textwrap.dedent(SATISFIES))
    (tmp_path / "misses.py").write_text(textwrap.dedent(MISSES))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "satisfies.py",
            "misses.py",
        ],
        cwd=tmp_path,
        env={"MYPYPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors, result.stdout + result.stderr
    assert all(line.startswith("misses.py:") for line in errors), result.stdout + result.stderr
    assert any("BoundLogger" in line for line in errors), result.stdout


def test_level_surface_names_are_those_of_the_levels_table() -> None:
    """The typed surface lists exactly the methods generated from the levels table."""
    assert set(LevelSurface.__annotations__) == {*SYNC_NAMES, *ASYNC_NAMES}


def test_every_facade_has_every_method() -> None:
    """Logger, LoggerProxy and ThreadedLogger all have the level methods, their awaiting twins and
    the rest of the protocol."""
    members = [*SYNC_NAMES, *ASYNC_NAMES, "log", "alog", "bind", "named", "context"]
    for facade in (logactors.Logger, logactors.LoggerProxy, logactors.ThreadedLogger):
        missing = [
            name for name in [*members, "is_enabled", "name", "level"] if not hasattr(facade, name)
        ]
        assert not missing, (facade, missing)


async def _log_each(log: Any) -> None:
    """Call every level method and twin once, inside an exception handler."""
    try:
        raise KeyError("boom")
    except KeyError:
        for name in SYNC_NAMES:
            getattr(log, name)(name)
        for name in ASYNC_NAMES:
            await getattr(log, name)(name)


def _check(events: list[logactors.LogEvent], logger: str) -> None:
    got = [(event.template, event.level, event.exception is not None) for event in events]
    want = [(name, *EXPECTED[name]) for name in SYNC_NAMES]
    want += [(f"a{name}", *EXPECTED[name]) for name in SYNC_NAMES]
    assert got == want
    assert {event.logger for event in events} == {logger}


async def test_logger_methods_log_at_their_levels() -> None:
    """Each generated method of a Logger logs at its level (exception and aexception attach
    the exception being handled)."""
    async with capture() as cap:
        await _log_each(cap.log.named("svc"))
    _check(cap.events, "svc")


async def test_proxy_methods_log_at_their_levels() -> None:
    """The same through a proxy, which names its events and has ``named`` and ``level``."""
    proxy = logactors.get_logger("mod").named("mod.sub")
    assert proxy.level == logactors.OFF and proxy.name == "mod.sub"
    async with capture() as cap:
        assert proxy.level == Level.TRACE
        await _log_each(proxy)
    _check(cap.events, "mod.sub")


def test_threaded_logger_methods_log_at_their_levels() -> None:
    """The same through a thread-hosted logger, whose ``level`` is its gate."""
    sink = RecordingSink()
    log = logactors.start_in_thread(
        SupervisorConfig(min_level="trace", sinks=[CustomSink(name="rec", sink=sink)])
    )
    try:
        assert log.level == Level.TRACE
        child = log.named("hosted")
        trio.run(_log_each, child)
        assert log.flush(timeout=30)
    finally:
        log.close()
    _check(sink.events, "hosted")


async def test_aflush_is_flush() -> None:
    """``await log.aflush()`` waits for the queues like ``await log.flush()``."""
    async with capture() as cap:
        cap.log.info("one")
        await cap.log.aflush()
        assert len(cap.events) == 1
        cap.log.info("two")
        await cap.log.flush()
        assert len(cap.events) == 2


def test_bound_logger_is_exported() -> None:
    """``logactors.BoundLogger`` is the protocol."""
    assert logactors.BoundLogger is BoundLogger and "BoundLogger" in logactors.__all__
