"""Interrupts, cancellation and the body's exceptions, with real processes and real files.

KeyboardInterrupt: the first one drains (strategy as configured), a second one during the drain
switches to immediate (spool what is left) and leaves ``trio.run`` as a bare
``KeyboardInterrupt``; the report is always built and matches what the files hold. A logger
under any cancellation (already cancelled, any deadline, Ctrl-C while starting) returns
promptly with a report. The body's exception propagates as the same object.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

import logactors
from logactors import (
    BatchConfig,
    CustomSink,
    FileSink,
    QueueConfig,
    ShutdownConfig,
    SpoolConfig,
    SupervisorConfig,
)

from .helpers import RecordingSink, assert_all_balanced
from .servers import HttpRecorder, Reply

# The child prints "ready" once idle in the body; the "stuck" sink takes no batch before the
# shutdown (max_delay of an hour) and prints "writing" when the drain hands it one, then hangs.
# The file sink drains normally. The child exits 130 when trio.run raised a bare
# KeyboardInterrupt, 99 for anything else (a group).
PROGRAM = textwrap.dedent(
    """
    import json, sys, trio, logactors
    from logactors import (BatchConfig, CustomSink, FileSink, ShutdownConfig, SpoolConfig,
                           SupervisorConfig)

    class Stuck:
        async def open(self): pass
        async def write_batch(self, events):
            print("writing", flush=True)
            await trio.sleep_forever()
        async def flush(self): pass
        async def aclose(self): pass

    async def main():
        directory, strategy, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
        config = SupervisorConfig(
            self_log="off",
            shutdown=ShutdownConfig(strategy=strategy, timeout=timeout, spool_timeout=0.5),
            sinks=[
                CustomSink(name="stuck", sink=Stuck(), write_timeout=3600,
                           batch=BatchConfig(max_events=10_000, max_delay=3600),
                           spool=SpoolConfig(path=directory + "/stuck.spool")),
                FileSink(name="file", path=directory + "/app.log", format="json"),
            ],
        )
        log = None
        try:
            async with logactors.open_logger(config) as log:
                for i in range(2000):
                    log.info("event {i}", i=i)
                print("ready", flush=True)
                await trio.sleep_forever()
        finally:
            r = log.report
            print(json.dumps({"strategy": r.strategy, "lost": r.lost,
                              "sinks": {n: m.to_dict() | {"balanced": m.balanced}
                                        for n, m in r.sinks.items()}}), flush=True)

    try:
        trio.run(main)
    except KeyboardInterrupt:
        sys.exit(130)
    except BaseException as exc:
        print(repr(exc), file=sys.stderr)
        sys.exit(99)
    """
)


@contextlib.contextmanager
def _child(program: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """The program in a child process, killed if the test fails before it ends."""
    child = subprocess.Popen(
        [sys.executable, "-c", program, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def _wait_for(child: subprocess.Popen[str], wanted: str) -> list[str]:
    """Read the child's stdout up to the line ``wanted``; the lines before it."""
    assert child.stdout is not None
    seen: list[str] = []
    while True:
        line = child.stdout.readline()
        assert line, f"child ended before {wanted!r}: {child.communicate()[1]}"
        if line.strip() == wanted:
            return seen
        seen.append(line.strip())


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.slow
def test_second_interrupt_switches_a_stuck_flush_to_immediate(tmp_path: Path) -> None:
    """strategy=flush waits forever for a stuck sink; a second Ctrl-C during that drain
    switches to immediate (the stuck sink's events are spooled), trio.run raises a bare
    KeyboardInterrupt, and the file holds exactly what the report says was written."""
    with _child(PROGRAM, str(tmp_path), "flush", "0") as child:
        assert "writing" not in _wait_for(child, "ready")
        child.send_signal(signal.SIGINT)
        _wait_for(child, "writing")  # the drain has begun: the stuck sink got its batch
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    report = json.loads(out.strip().splitlines()[-1])
    assert child.returncode == 130, err  # a bare KeyboardInterrupt, not a group
    assert err.strip() == ""
    assert report["strategy"] == "immediate"
    stuck, file = report["sinks"]["stuck"], report["sinks"]["file"]
    assert (stuck["spooled"], stuck["lost"], stuck["balanced"]) == (2000, 0, True)
    # the file sink was draining too: what it had not written when the drain was cut short
    # is lost (no spool), and the file holds exactly what it wrote
    assert file["balanced"] and file["written"] + file["lost"] == 2000
    assert _lines(tmp_path / "app.log") == file["written"]


@pytest.mark.slow
def test_single_interrupt_drains_and_propagates(tmp_path: Path) -> None:
    """One Ctrl-C: the configured graceful drain runs (its deadline spools the stuck sink's
    events), then a bare KeyboardInterrupt leaves trio.run."""
    with _child(PROGRAM, str(tmp_path), "graceful", "0.5") as child:
        _wait_for(child, "ready")
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    report = json.loads(out.strip().splitlines()[-1])
    assert child.returncode == 130, err
    assert err.strip() == ""
    assert report["strategy"] == "graceful"
    stuck, file = report["sinks"]["stuck"], report["sinks"]["file"]
    assert (stuck["spooled"], stuck["lost"], stuck["balanced"]) == (2000, 0, True)
    assert _lines(tmp_path / "app.log") == file["written"] == 2000


STARTING = textwrap.dedent(
    """
    import sys, trio, logactors
    from logactors import CustomSink, SupervisorConfig

    class SlowOpen:
        async def open(self):
            print("opening", flush=True)
            await trio.sleep_forever()
        async def write_batch(self, events): return 0
        async def flush(self): pass
        async def aclose(self): pass

    async def main():
        config = SupervisorConfig(
            self_log="stderr",
            sinks=[CustomSink(name="slow", sink=SlowOpen(), write_timeout=3600)],
        )
        async with logactors.open_logger(config):
            print("body", flush=True)

    try:
        trio.run(main)
    except KeyboardInterrupt:
        sys.exit(130)
    except BaseException as exc:
        print(repr(exc), file=sys.stderr)
        sys.exit(99)
    """
)


@pytest.mark.slow
def test_interrupt_while_starting_ends_promptly(tmp_path: Path) -> None:
    """Ctrl-C while a sink opens (its open never returns, write_timeout an hour): the start-up
    is cut short, what started shuts down, and trio.run raises a bare KeyboardInterrupt."""
    with _child(STARTING) as child:
        _wait_for(child, "opening")
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    assert child.returncode == 130, err
    assert "body" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "cancelled while starting" in lines[0], err


# -- exact reports in every shutdown mode -------------------------------------------------------

EVENTS = 20_000


async def _run_mode(tmp_path: Path, mode: str, write_mode: str) -> logactors.ShutdownReport:
    strategy = {"deadline": "graceful", "crash": "graceful"}.get(mode, mode)
    config = SupervisorConfig(
        self_log="off",
        shutdown=ShutdownConfig(strategy=strategy, timeout=0.002 if mode == "deadline" else 30),
        sinks=[
            FileSink(
                name="f",
                path=str(tmp_path / "app.log"),
                format="json",
                write_mode=write_mode,
                queue=QueueConfig(max_events=EVENTS, max_bytes=64 * 2**20),
                batch=BatchConfig(max_events=512, max_delay=0),
            )
        ],
    )
    crash = RuntimeError("the application failed")
    with pytest.raises(RuntimeError) if mode == "crash" else contextlib.nullcontext() as info:
        async with logactors.open_logger(config) as log:
            for i in range(EVENTS):
                log.info("event {i}", i=i)
            await trio.lowlevel.checkpoint()  # the actor takes a batch: a write is under way
            if mode == "crash":
                raise crash
    if info is not None:
        assert info.value is crash
    assert log.report is not None
    return log.report


@pytest.mark.parametrize("write_mode", ["inline", "thread"])
@pytest.mark.parametrize("mode", ["immediate", "deadline", "flush", "graceful", "crash"])
async def test_file_holds_what_the_report_says(tmp_path: Path, mode: str, write_mode: str) -> None:
    """After every shutdown mode the file holds exactly ``written`` events (a write under
    way when the shutdown stops the sink finishes and is counted), and the law holds."""
    report = await _run_mode(tmp_path, mode, write_mode)
    f = report.sinks["f"]
    assert_all_balanced(report)
    assert _lines(tmp_path / "app.log") == f.written
    assert f.written + f.lost == EVENTS
    if mode in ("flush", "graceful", "crash"):
        assert f.written == EVENTS
    if mode == "immediate":
        assert f.written <= 512  # at most the batch that was being written


# -- cancellation never hangs --------------------------------------------------------------------


class SlowOpenSink(RecordingSink):
    """Opens in ``open_delay`` seconds and writes in ``write_delay`` (virtual time)."""

    def __init__(self, open_delay: float, write_delay: float) -> None:
        super().__init__(delay=write_delay)
        self.open_delay = open_delay

    async def open(self) -> None:
        await trio.sleep(self.open_delay)
        await super().open()


async def _log_until_cancelled(
    config: SupervisorConfig, deadline: float, *, pause: float = 0.001
) -> Any:
    """Log 50 events per ``pause`` seconds until ``deadline`` cancels the block."""
    log = None
    with trio.move_on_after(deadline):
        async with logactors.open_logger(config) as log:
            i = 0
            while True:
                log.info("event {i}", i=i)
                i += 1
                if i % 50 == 0:
                    await trio.sleep(pause)
                else:
                    await trio.lowlevel.checkpoint()
    assert log is not None, "the block always runs"
    return log


@pytest.mark.slow
@settings(max_examples=40)
@given(
    deadline=st.floats(0, 3),
    opens=st.lists(st.sampled_from([0.0, 0.01, 0.5, 2.0]), min_size=1, max_size=3),
    write_delay=st.sampled_from([0.0, 0.001, 0.1]),
)
def test_any_deadline_returns_with_a_report(
    deadline: float, opens: list[float], write_delay: float
) -> None:
    """Under any move_on_after deadline (before, during or after start-up), the block
    returns within the shutdown bounds and the report balances (autojump clock)."""
    sinks = [
        CustomSink(name=f"s{n}", sink=SlowOpenSink(delay, write_delay), write_timeout=5)
        for n, delay in enumerate(opens)
    ]
    config = SupervisorConfig(self_log="off", sinks=sinks, shutdown=ShutdownConfig(timeout=1))

    async def main() -> tuple[Any, float]:
        with trio.fail_after(60):
            log = await _log_until_cancelled(config, deadline, pause=0.05)
        return log.report, trio.current_time()

    report, ended = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert report is not None
    assert_all_balanced(report)
    # start-up is cut at the deadline; the drain is bounded by timeout + spool_timeout
    assert ended <= deadline + 1 + 1 + 0.5
    for metrics in report.sinks.values():
        assert metrics.queue_depth == 0


async def test_already_cancelled_scope_returns_with_a_closed_logger(tmp_path: Path) -> None:
    """Entered inside a cancelled scope: the start-up stops at once, the block runs with a
    closed logger until its first checkpoint, and the report exists."""
    config = SupervisorConfig(
        self_log="off",
        sinks=[
            FileSink(
                name=n,
                path=str(tmp_path / f"{n}.log"),
                spool=SpoolConfig(path=str(tmp_path / f"{n}.spool")),
            )
            for n in ("a", "b")
        ],
    )
    reached = []
    with trio.fail_after(10):
        with trio.CancelScope() as scope:
            scope.cancel()
            async with logactors.open_logger(config) as log:
                reached.append(log.closed)
                await trio.lowlevel.checkpoint()
                reached.append("after checkpoint")
    assert scope.cancelled_caught
    assert reached == [True]
    assert log.report is not None
    assert_all_balanced(log.report)


@pytest.mark.parametrize("deadline", [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.2])
async def test_file_and_spool_sinks_under_short_deadlines(tmp_path: Path, deadline: float) -> None:
    """File + spool sinks (real threads) under deadlines of a few ms: prompt return, a
    balanced report, and each file holds what the report says was written."""
    config = SupervisorConfig(
        self_log="off",
        sinks=[
            FileSink(
                name=n,
                path=str(tmp_path / f"{n}.log"),
                format="json",
                spool=SpoolConfig(path=str(tmp_path / f"{n}.spool")),
            )
            for n in ("a", "b")
        ],
    )
    with trio.fail_after(10):
        log = await _log_until_cancelled(config, deadline)
    report = log.report
    assert report is not None
    assert_all_balanced(report)
    for name in ("a", "b"):
        assert _lines(tmp_path / f"{name}.log") == report.sinks[name].written


@pytest.mark.slow
@pytest.mark.parametrize("deadline", [0.02, 0.05, 0.1, 0.3])
async def test_http_sink_under_short_deadlines(tmp_path: Path, deadline: float) -> None:
    """An HttpSink with a spool, against a real server, under 20-300 ms deadlines: prompt
    return, a balanced report, and the server got exactly ``written`` events."""
    with HttpRecorder() as server:
        config = SupervisorConfig(
            self_log="off",
            sinks=[
                logactors.HttpSink(
                    name="h",
                    url=server.url,
                    batch=BatchConfig(max_delay=0),
                    spool=SpoolConfig(path=str(tmp_path / "h.spool")),
                )
            ],
        )
        with trio.fail_after(20):
            log = await _log_until_cancelled(config, deadline)
        received = sum(len(request.ndjson()) for request in server.requests)
    report = log.report
    assert report is not None
    assert_all_balanced(report)
    assert received == report.sinks["h"].written


# -- exceptions pass through as raised -----------------------------------------------------------


def _config() -> SupervisorConfig:
    return SupervisorConfig(self_log="off", sinks=[CustomSink(name="r", sink=RecordingSink())])


async def _raised_through_logger(exc: BaseException) -> BaseException:
    try:
        async with logactors.open_logger(_config()) as log:
            log.info("before")
            await trio.lowlevel.checkpoint()
            raise exc
    except BaseException as caught:
        assert log.report is not None and log.report.sinks["r"].written == 1
        return caught
    raise AssertionError("nothing raised")


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("plain"),
        ExceptionGroup("mine", [ValueError(1), KeyError(2)]),
        BaseExceptionGroup("mixed", [KeyboardInterrupt(), ValueError(3)]),
        ExceptionGroup("nested", [ExceptionGroup("inner", [OSError()])]),
        KeyboardInterrupt(),
        SystemExit(2),
    ],
    ids=repr,
)
async def test_body_exception_is_the_same_object(exc: BaseException) -> None:
    assert await _raised_through_logger(exc) is exc


async def test_nursery_group_from_the_body_is_the_same_object() -> None:
    """The normal way errors surface in trio: a child task fails in a nursery of the body.
    The nursery's group leaves open_logger as it is, not wrapped once more."""

    async def fail() -> None:
        raise ValueError("child failed")

    inner: list[BaseException] = []
    with pytest.raises(ExceptionGroup) as info:
        async with logactors.open_logger(_config()):
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(fail)
            except BaseException as exc:
                inner.append(exc)
                raise
    assert info.value is inner[0]
    assert [type(e) for e in info.value.exceptions] == [ValueError]


async def test_start_logger_cancelled_while_starting_returns_promptly(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """start_logger in the caller's nursery, the caller cancelled while a sink opens (it would
    take an hour): at the deadline the start-up stops, what started shuts down, and
    start_logger hands back the closed logger with its report (the cancellation surfaces at
    the caller's next checkpoint); the nursery is free to exit."""
    slow = SlowOpenSink(open_delay=3600, write_delay=0)
    fast = RecordingSink()
    config = SupervisorConfig(
        self_log="off",
        sinks=[
            CustomSink(name="fast", sink=fast),
            CustomSink(name="slow", sink=slow, write_timeout=7200),
        ],
    )
    started = trio.current_time()
    handed: list[Any] = []
    async with trio.open_nursery() as nursery:
        with trio.move_on_after(0.5) as scope:
            handed.append(await logactors.start_logger(nursery, config))
            await trio.lowlevel.checkpoint()
    assert scope.cancelled_caught
    assert trio.current_time() - started < 2
    [log] = handed
    assert log.closed and log.report is not None
    assert_all_balanced(log.report)
    assert (fast.opened, fast.closed, slow.opened) == (1, 1, 0)


@pytest.mark.slow
async def test_http_deadline_lets_the_write_under_way_finish(tmp_path: Path) -> None:
    """graceful with a 50 ms deadline while the server takes 300 ms per answer: the write
    under way finishes within spool_timeout and counts as written, the rest is spooled; the
    server received exactly ``written`` events."""
    with HttpRecorder([Reply(200, delay=0.3)] * 50) as server:
        config = SupervisorConfig(
            self_log="off",
            shutdown=ShutdownConfig(timeout=0.05, spool_timeout=2),
            sinks=[
                logactors.HttpSink(
                    name="h",
                    url=server.url,
                    batch=BatchConfig(max_events=100, max_delay=0),
                    spool=SpoolConfig(path=str(tmp_path / "h.spool")),
                )
            ],
        )
        async with logactors.open_logger(config) as log:
            for i in range(1000):
                log.info("event {i}", i=i)
            with trio.fail_after(10):  # poll a condition (the server is a thread)
                while not server.requests:  # the first write has reached the server
                    await trio.sleep(0.01)
        received = sum(len(request.ndjson()) for request in server.requests)
    assert log.report is not None
    h = log.report.sinks["h"]
    assert_all_balanced(log.report)
    assert log.report.deadline_hit
    assert received == h.written > 0
    assert h.spooled == 1000 - h.written and h.lost == 0


async def test_the_block_runs_when_start_up_is_cancelled_as_a_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """trio may raise a cancellation during ``nursery.start`` as a group holding only
    ``Cancelled`` (about one run in 25 of the test above, with real threads), for the
    supervisor's start or a sink actor's: the block still runs with the closed logger, as
    for a bare ``Cancelled``."""
    real_start = trio.Nursery.start

    async def start(self: trio.Nursery, *args: Any, **kwargs: Any) -> Any:
        try:
            return await real_start(self, *args, **kwargs)
        except trio.Cancelled as exc:  # (the supervisor's start and each sink actor's)
            raise BaseExceptionGroup("Exceptions from Trio nursery", [exc]) from None

    monkeypatch.setattr(trio.Nursery, "start", start)
    config = SupervisorConfig(
        self_log="off", sinks=[FileSink(name="a", path=str(tmp_path / "a.log"), format="json")]
    )
    ran = []
    with trio.move_on_after(0):
        async with logactors.open_logger(config) as log:
            ran.append(log)
            log.info("after the deadline")
            await trio.lowlevel.checkpoint()
    assert len(ran) == 1
    assert ran[0].report is not None
    assert_all_balanced(ran[0].report)
