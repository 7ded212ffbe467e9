"""Local sinks: console (colours, stderr split) and file (formats, rolling, retention, mode,
reopen after logrotate, one write per batch); the self-log's rate limit."""

from __future__ import annotations

import itertools
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio

import logactors
from logactors import BatchConfig, ConsoleSink, FileSink, Level, LogEvent, SupervisorConfig
from logactors._selflog import SelfLog
from logactors.sinks.file import FileWriter

DAY_NS = 86_400 * 10**9
HOUR_NS = 3_600 * 10**9
T0 = 1_763_856_000 * 10**9  # 2025-11-23T00:00:00Z


def event(ts: int, n: int, level: Level = Level.INFO) -> LogEvent:
    return LogEvent(ts, level, "event {n}", {"n": n}, None, "app", "task")


# -- console ---------------------------------------------------------------------------------------


async def test_console_plain_when_not_a_tty(capsys: pytest.CaptureFixture[str]) -> None:
    """Captured stdout is not a terminal: no colour codes; the default text format."""
    config = SupervisorConfig(sinks=[ConsoleSink(name="c")])
    async with logactors.open_logger(config) as log:
        log.info("Hello {who}", who="world")
        await log.flush()
    out = capsys.readouterr().out
    assert "[INF] Hello world\n" in out
    assert "\x1b[" not in out


async def test_console_forced_colours_and_stderr_split(capsys: pytest.CaptureFixture[str]) -> None:
    """colors=True colours levels and values; errors and above go to stderr, in order."""
    config = SupervisorConfig(
        min_level="debug", sinks=[ConsoleSink(name="c", colors=True, stderr_level="error")]
    )
    async with logactors.open_logger(config) as log:
        log.debug("d {n}", n=1)
        log.error("e {s}", s="x")
        log.info("i")
        log.critical("c")
        await log.flush()
    captured = capsys.readouterr()
    assert "\x1b[" in captured.out
    assert [line for line in captured.out.splitlines() if line] and "DBG" in captured.out
    assert "INF" in captured.out and "ERR" not in captured.out
    assert "ERR" in captured.err and "FTL" in captured.err
    assert captured.err.index("ERR") < captured.err.index("FTL")
    assert "\x1b[36mx\x1b[0m" in captured.err  # the string value is highlighted


async def test_console_json_format_and_no_color_env(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR wins over auto-detection; any line format works on the console."""
    monkeypatch.setenv("NO_COLOR", "1")
    config = SupervisorConfig(sinks=[ConsoleSink(name="c", format="json")])
    async with logactors.open_logger(config) as log:
        log.info("x {a}", a=1)
        await log.flush()
    line = capsys.readouterr().out.strip()
    assert json.loads(line)["properties"] == {"a": 1}


# -- file ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "clef", "clef-rendered", "logfmt", "csv"])
async def test_file_formats_and_mode(tmp_path: Path, fmt: str) -> None:
    """Every line format writes one line per event to a file created 0o640."""
    path = tmp_path / "sub" / f"app.{fmt}"
    old = os.umask(0o022)
    try:
        config = SupervisorConfig(sinks=[FileSink(name="f", path=str(path), format=fmt)])
        async with logactors.open_logger(config) as log:
            for n in range(3):
                log.info("event {n}", n=n)
    finally:
        os.umask(old)
    assert path.read_text().count("\n") == 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


async def test_one_write_per_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch is written with one os.write call."""
    writes: list[int] = []
    real_write = os.write

    def counting_write(fd: int, data: Any) -> int:
        writes.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", counting_write)
    config = SupervisorConfig(
        sinks=[
            FileSink(
                name="f",
                path=str(tmp_path / "a.log"),
                batch=BatchConfig(max_events=100, max_delay=1),
            )
        ]
    )
    async with logactors.open_logger(config) as log:
        for n in range(250):
            log.info("event {n}", n=n)
        await log.flush()
        batches = log.metrics().sinks["f"].batches
    assert len(writes) == batches == 3


async def test_daily_rolling_names_files_after_their_period(tmp_path: Path) -> None:
    """Crossing a UTC day rolls the file to stem.YYYYMMDD.suffix; retain keeps the newest."""
    path = tmp_path / "app.clef"
    writer = FileWriter(
        FileSink(name="f", path=str(path), format="clef", rolling="daily", retain=2)
    )
    await writer.open()
    for day in range(4):
        await writer.write_batch([event(T0 + day * DAY_NS + 60 * 10**9, day)])
    await writer.aclose()
    rolled = sorted(p.name for p in tmp_path.iterdir() if p.name != "app.clef")
    assert rolled == ["app.20251124.clef", "app.20251125.clef"]  # retain=2: two newest kept
    assert json.loads(path.read_text())["n"] == 3
    assert json.loads((tmp_path / "app.20251125.clef").read_text())["n"] == 2


async def test_hourly_rolling_splits_a_batch_at_the_boundary(tmp_path: Path) -> None:
    """Events of one batch on both sides of an hour go to their own files."""
    path = tmp_path / "app.log"
    writer = FileWriter(
        FileSink(name="f", path=str(path), format="json", rolling="hourly", retain=None)
    )
    await writer.open()
    await writer.write_batch(
        [event(T0 + HOUR_NS - 1, 1), event(T0 + HOUR_NS, 2), event(T0 + HOUR_NS + 5, 3)]
    )
    await writer.aclose()
    older = tmp_path / "app.2025112300.log"
    assert [json.loads(x)["properties"]["n"] for x in older.read_text().splitlines()] == [1]
    assert [json.loads(x)["properties"]["n"] for x in path.read_text().splitlines()] == [2, 3]


async def test_size_rolling_numbers_files_and_never_splits_events(tmp_path: Path) -> None:
    """max_bytes rolls before a file would exceed it, at event boundaries, numbering .N."""
    path = tmp_path / "app.log"
    writer = FileWriter(
        FileSink(name="f", path=str(path), format="json", max_bytes=400, retain=None)
    )
    await writer.open()
    for n in range(10):
        await writer.write_batch([event(T0 + n, n), event(T0 + n, n)])
    await writer.aclose()
    files = [path, *writer.rolled_files()]
    numbers: list[int] = []
    for f in map(Path, files):
        assert f.stat().st_size <= 400
        numbers += [json.loads(x)["properties"]["n"] for x in f.read_text().splitlines()]
    assert sorted(numbers) == sorted(list(range(10)) * 2)
    names = sorted(Path(f).name for f in writer.rolled_files())
    today = time.strftime("%Y%m%d", time.gmtime())  # size-only rolls are named by roll date
    assert f"app.{today}.log" in names and f"app.{today}.1.log" in names


async def test_reopens_when_the_file_is_moved_away(tmp_path: Path) -> None:
    """External logrotate: the file is renamed; the next batch goes to a new file at the path."""
    path = tmp_path / "app.log"
    config = SupervisorConfig(sinks=[FileSink(name="f", path=str(path))])
    async with logactors.open_logger(config) as log:
        log.info("before rotation")
        await log.flush()
        path.rename(tmp_path / "app.log.1")
        log.info("after rotation")
        await log.flush()
    assert "before rotation" in (tmp_path / "app.log.1").read_text()
    assert "after rotation" in path.read_text()
    assert "before rotation" not in path.read_text()


async def test_unwritable_path_fails_the_writes_not_the_program(tmp_path: Path) -> None:
    """A file sink that cannot open its file reports failures; logging goes on."""
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    lines: list[str] = []
    config = SupervisorConfig(
        self_log=lines.append,
        sinks=[
            FileSink(
                name="f",
                path=str(blocker / "app.log"),
                retry=logactors.RetryConfig(attempts=1),
                breaker=None,
            ),
            logactors.MemorySink(name="m"),
        ],
    )
    async with logactors.open_logger(config) as log:
        log.info("x")
        await log.flush()
        metrics = log.metrics()
    assert metrics.sinks["f"].failed == 1
    assert metrics.sinks["m"].written == 1
    assert any("could not open" in line or "failed" in line for line in lines)


# -- self-log ------------------------------------------------------------------------------------


def test_self_log_is_rate_limited_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated messages with one key are cut after a burst and summarised later."""
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    out: list[str] = []
    log = SelfLog(out.append, burst=3, window=10.0)
    for i in range(10):
        log(f"failure {i}", key="sink:write")
    log("other key", key="sink:open")
    assert out == ["failure 0", "failure 1", "failure 2", "other key"]
    now[0] += 11
    log("failure again", key="sink:write")
    assert out[-1] == "failure again (7 similar messages suppressed)"
    assert len(log.recent) == 12


async def test_self_log_goes_to_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    """The default self-log writes to standard error, never through the sinks."""
    from .helpers import ScriptedSink

    config = SupervisorConfig(
        sinks=[
            logactors.CustomSink(
                name="bad",
                sink=ScriptedSink(default="fail"),
                retry=logactors.RetryConfig(attempts=1),
            )
        ]
    )
    async with logactors.open_logger(config) as log:
        log.info("x")
        await log.flush()
    err = capsys.readouterr().err
    assert "logactors" in err and "sink 'bad'" in err and "injected failure" in err


@pytest.mark.parametrize(
    ("mode", "fsync", "in_worker"),
    [
        ("thread", False, True),
        ("inline", False, False),
        ("auto", False, False),
        ("auto", True, True),
    ],
)
async def test_write_mode_decides_where_the_write_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, fsync: bool, in_worker: bool
) -> None:
    """write_mode=thread writes in a worker thread, inline/auto on the trio thread; auto uses
    the worker thread whenever fsync is on."""
    import threading

    writers: list[int] = []
    real_write = os.write

    def recording_write(fd: int, data: Any) -> int:
        writers.append(threading.get_ident())
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", recording_write)
    trio_thread = threading.get_ident()
    config = SupervisorConfig(
        sinks=[FileSink(name="f", path=str(tmp_path / "a.log"), write_mode=mode, fsync=fsync)]
    )  # type: ignore[arg-type]
    async with logactors.open_logger(config) as log:
        log.info("x")
        await log.flush()
    assert writers
    assert all((w != trio_thread) == in_worker for w in writers)


async def test_auto_mode_moves_to_the_worker_thread_after_a_slow_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write slower than the threshold sends the next writes to a worker thread."""
    import threading

    from logactors.sinks import file as file_module

    writers: list[int] = []
    real_write = os.write

    def slow_first_write(fd: int, data: Any) -> int:
        writers.append(threading.get_ident())
        if len(writers) == 1:
            time.sleep(file_module.SLOW_WRITE * 2)  # a stalling disk
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", slow_first_write)
    trio_thread = threading.get_ident()
    config = SupervisorConfig(sinks=[FileSink(name="f", path=str(tmp_path / "a.log"))])
    async with logactors.open_logger(config) as log:
        for n in range(3):
            log.info("event {n}", n=n)
            await log.flush()
    assert writers[0] == trio_thread
    assert all(w != trio_thread for w in writers[1:])
    assert (tmp_path / "a.log").read_text().count("\n") == 3


# -- keeping up, writing once, closed pipes --------------------------------------------------------


def _produce_at_full_speed(log: Any, n: int, produced: list[int] | None = None) -> Any:
    """A producer that checkpoints every 100 events (far below the default queue's 10,000);
    ``produced[0]`` follows how many it logged."""
    produced = produced if produced is not None else [0]

    async def run() -> None:
        for start in range(0, n, 100):
            for i in range(start, start + 100):
                log.info("Processing request {id} for {user}", id=i, user="bob")
            produced[0] = start + 100
            await trio.lowlevel.checkpoint()

    return run()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["auto", "thread", "inline"])
async def test_a_file_sink_keeps_up_with_a_producer_at_full_speed(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Default configuration, every write_mode: 60,000 events, none dropped, all on disk, in
    order; while the producer runs, it never logs more than a few batches between two
    writes. ``thread`` is the mode that starved before (its worker got no GIL)."""
    from logactors.sinks import file as file_module

    n = 60_000
    path = tmp_path / "app.log"
    produced = [0]
    marks: list[int] = []
    real_write_all = file_module._write_all

    def counted(fd: int, data: Any) -> int:
        marks.append(produced[0])
        return real_write_all(fd, data)

    monkeypatch.setattr(file_module, "_write_all", counted)
    sink = FileSink(name="f", path=str(path), format="clef", write_mode=mode)  # type: ignore[arg-type]
    async with logactors.open_logger(SupervisorConfig(sinks=[sink])) as log:
        await _produce_at_full_speed(log, n, produced)
    during = [m for m in marks if m < n]
    assert max(b - a for a, b in itertools.pairwise([0, *during])) <= 5_000
    assert log.report is not None
    m = log.report.sinks["f"]
    assert (m.dropped, m.failed, m.written) == (0, 0, n)
    ids = [json.loads(line)["id"] for line in path.read_text().splitlines()]
    assert ids == list(range(n))


@pytest.mark.slow
async def test_a_console_sink_keeps_up_with_a_producer_at_full_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console sink writes from a worker thread: it keeps up too."""
    n = 60_000
    path = tmp_path / "stdout.txt"
    with open(path, "w", encoding="utf-8") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        config = SupervisorConfig(sinks=[ConsoleSink(name="c", format="clef")])
        async with logactors.open_logger(config) as log:
            await _produce_at_full_speed(log, n)
    assert log.report is not None
    m = log.report.sinks["c"]
    assert (m.dropped, m.failed, m.written) == (0, 0, n)
    ids = [json.loads(line)["id"] for line in path.read_text().splitlines()]
    assert ids == list(range(n))


async def test_a_worker_thread_write_is_not_starved_by_a_busy_trio_thread(tmp_path: Path) -> None:
    """The hand-off itself: jobs started while the trio thread never sleeps (checkpoints
    only) all complete, each within a bounded number of the producer's checkpoints."""
    from logactors.sinks.base import start_job, wait_job

    finished: list[int] = []
    checkpoints = 0

    async def busy() -> None:
        nonlocal checkpoints
        while len(finished) < 50:
            sum(range(2_000))  # CPU work between checkpoints, as a producer does
            checkpoints += 1
            await trio.lowlevel.checkpoint()

    async def writer() -> None:
        for i in range(50):
            job = start_job(lambda i=i: finished.append(i))
            await wait_job(job)
            job.result()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(busy)
        nursery.start_soon(writer)
    assert finished == list(range(50))


class _StallingReader:
    """Reads a FIFO line by line in a thread; after ``stall_after`` lines it waits for
    ``go`` (an Event the test sets), so the writer blocks on a full pipe meanwhile."""

    def __init__(self, path: str, stall_after: int) -> None:
        self.path = path
        self.stall_after = stall_after
        self.go = threading.Event()
        self.lines: list[bytes] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with open(self.path, "rb") as fifo:
            for line in fifo:
                self.lines.append(line)
                if len(self.lines) == self.stall_after:
                    self.go.wait()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["auto", "thread"])
async def test_a_write_that_times_out_is_written_once(tmp_path: Path, mode: str) -> None:
    """A FIFO whose reader stalls: the write outlives write_timeout; its retry waits for it
    instead of writing the batch again. The reader sees every line once, none corrupt, and
    ``written`` equals what it read."""
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    reader = _StallingReader(fifo, stall_after=100)
    timed_out = trio.Event()

    def self_log(line: str) -> None:
        if "write_timeout" in line:
            timed_out.set()

    n = 3_000
    sink = FileSink(
        name="f",
        path=fifo,
        format="clef",
        write_mode=mode,  # type: ignore[arg-type]
        write_timeout=0.2,
        retry=logactors.RetryConfig(attempts=10, initial_backoff=0.05, max_backoff=0.2),
    )
    config = SupervisorConfig(sinks=[sink], self_log=self_log)
    async with logactors.open_logger(config) as log:
        for i in range(n):
            log.info("Event {i} {pad}", i=i, pad="x" * 100)
            if i % 100 == 99:
                await trio.lowlevel.checkpoint()
        with trio.fail_after(60):
            await timed_out.wait()
        reader.go.set()
        await log.flush()
    reader.thread.join(60)
    assert not reader.thread.is_alive()
    ids = [json.loads(line)["i"] for line in reader.lines]  # every line parses
    assert ids == list(range(n))  # each once, in order
    assert log.report is not None
    m = log.report.sinks["f"]
    assert (m.written, m.failed, m.dropped) == (len(reader.lines), 0, 0)


def _half_then_fail(error: OSError) -> Callable[[int, Any], int]:
    """An ``os.write`` that writes half a batch (and a few bytes more) on its first call,
    raises ``error`` on its second, and writes normally afterwards."""
    real_write = os.write
    calls = [0]

    def write(fd: int, data: Any) -> int:
        calls[0] += 1
        if calls[0] == 1:
            return real_write(fd, bytes(data[: len(data) // 2 + 7]))
        if calls[0] == 2:
            raise error
        return real_write(fd, data)

    return write


def test_a_write_that_failed_part_way_continues_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.write fails after writing half a batch: the retry of that batch writes only the
    rest (no duplicate, no broken line)."""
    path = tmp_path / "a.log"
    writer = FileWriter(FileSink(name="f", path=str(path), format="clef", write_mode="inline"))
    batch = [event(T0 + i, i) for i in range(100)]
    half_then_fail = _half_then_fail(OSError(28, "No space left on device"))

    async def main() -> None:
        await writer.open()
        monkeypatch.setattr(os, "write", half_then_fail)
        with pytest.raises(OSError):
            await writer.write_batch(batch)
        total = await writer.write_batch(batch)  # the actor's retry: the same batch object
        await writer.aclose()
        assert total == path.stat().st_size

    trio.run(main)
    ids = [json.loads(line)["n"] for line in path.read_text().splitlines()]
    assert ids == list(range(100))


_PIPE_CHILD = """
import json, sys, trio, logactors
from logactors import ConsoleSink, SupervisorConfig

async def main():
    sink = ConsoleSink(name="c", on_broken_pipe=sys.argv[1])
    async with logactors.open_logger(SupervisorConfig(sinks=[sink])) as log:
        for i in range(200_000):
            log.info("line {i}", i=i)
            if i % 100 == 99:
                await trio.lowlevel.checkpoint()
    m = log.report.sinks["c"]
    print(json.dumps({"written": m.written, "failed": m.failed, "dropped": m.dropped}),
          file=sys.stderr)

trio.run(main)
"""


@pytest.mark.slow
@pytest.mark.parametrize("on_broken_pipe", ["exit", "fail"])
def test_a_closed_stdout_pipe_fails_the_console_sink_once(on_broken_pipe: str) -> None:
    """``python app.py | head``: the reader closes after one line. ``exit``: the process ends
    by SIGPIPE at once, as a command-line tool does; ``fail``: it runs on, the sink's events
    are counted failed. Either way no retries and a few stderr lines, not one per batch
    (200,000 events are 390 batches)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _PIPE_CHILD, on_broken_pipe],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=os.getcwd(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"20")  # a timestamped line: head read it
    proc.stdout.close()
    err = proc.stderr.read().decode().splitlines()
    proc.stderr.close()
    code = proc.wait(60)
    notes = [line for line in err if line.startswith("logactors ")]
    # exit: one line; fail: the self-log's burst per key and the breaker, never one per batch
    assert len(notes) <= 2 * 5 + 1
    assert any("closed pipe" in line for line in notes)
    assert not any("attempt 2/" in line for line in notes)  # never retried
    assert not any("Traceback" in line or "Exception ignored" in line for line in err)
    if on_broken_pipe == "exit":
        assert code == -signal.SIGPIPE
        assert len(notes) == 1  # the closed pipe, said once with its events' fate
    else:
        assert code == 0
        counts = json.loads(err[-1])
        assert counts["written"] + counts["failed"] + counts["dropped"] == 200_000
        assert counts["failed"] > 0


# -- one rolling file, many processes --------------------------------------------------------------

_SHARED_CHILD = """
import json, sys, trio, logactors
from logactors import FileSink, SupervisorConfig

path, proc, n, retain = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

async def main():
    sink = FileSink(name="f", path=path, format="clef", shared=True, max_bytes="1MiB",
                    retain=retain)
    sys.stdin.readline()  # start together
    async with logactors.open_logger(SupervisorConfig(sinks=[sink])) as log:
        for start in range(0, n, 100):
            for i in range(start, start + 100):
                log.info("Worker {proc} event {i}", proc=proc, i=i)
            await trio.lowlevel.checkpoint()
    m = log.report.sinks["f"]
    print(json.dumps({"written": m.written, "dropped": m.dropped, "failed": m.failed}))

trio.run(main)
"""


@pytest.mark.slow
def test_four_processes_share_one_rolling_file(tmp_path: Path) -> None:
    """4 processes x 100,000 events into one file rolled every 1 MiB: every event exactly
    once, every line parses, and the rolled files are within ``retain``."""
    path = str(tmp_path / "app.clef")
    n, retain = 100_000, 60
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SHARED_CHILD, path, str(p), str(n), str(retain)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=os.getcwd(),
        )
        for p in range(4)
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.close()
    reports = []
    for proc in procs:
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        assert proc.wait(300) == 0
        reports.append(json.loads(out))
    assert all(r == {"written": n, "dropped": 0, "failed": 0} for r in reports)
    files = sorted(f for f in os.listdir(tmp_path) if f.startswith("app.") and f != "app.clef.lock")
    rolled = [f for f in files if f != "app.clef"]
    assert 30 <= len(rolled) <= retain  # ~40 MB in 1 MiB files
    seen: dict[tuple[int, int], int] = {}
    for name in files:
        data = (tmp_path / name).read_bytes()
        assert len(data) <= 1024 * 1024 or name == "app.clef"
        for line in data.splitlines():
            record = json.loads(line)
            key = (record["proc"], record["i"])
            seen[key] = seen.get(key, 0) + 1
    assert len(seen) == 4 * n
    assert set(seen.values()) == {1}


def test_a_line_cut_by_an_abandoned_write_is_ended_before_the_next_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The actor gave up on a batch whose write failed part-way: before the next batch, the
    cut line is completed (every line parses; that event is counted in ``late_events``)."""
    path = tmp_path / "a.log"
    writer = FileWriter(FileSink(name="f", path=str(path), format="clef", write_mode="inline"))
    first = [event(T0 + i, i) for i in range(10)]
    second = [event(T0 + i, i) for i in range(10, 20)]
    half_then_fail = _half_then_fail(OSError(5, "Input/output error"))

    async def main() -> None:
        await writer.open()
        monkeypatch.setattr(os, "write", half_then_fail)
        with pytest.raises(OSError):
            await writer.write_batch(first)
        await writer.write_batch(second)  # not a retry: the actor counted `first` as failed
        await writer.aclose()

    trio.run(main)
    ids = [json.loads(line)["n"] for line in path.read_text().splitlines()]
    assert ids[-10:] == list(range(10, 20))
    assert ids[:-10] == list(range(len(ids) - 10))  # a prefix of `first`, its last line whole
    assert writer.late_events == 1
    assert (writer.take_late(), writer.take_late()) == (1, 0)  # what the actor picks up, once


async def test_late_writes_reach_the_metrics_and_the_report() -> None:
    """Events a sink reports as written late (``take_late``) are counted in ``late_written``,
    once, said once on the self-log, and the conservation law still holds."""
    from logactors.sinks.base import SinkBase

    class LateSink(SinkBase):
        def __init__(self) -> None:
            self.late = [3, 0, 2]

        async def write_batch(self, events: Any) -> int:
            return 0

        def take_late(self) -> int:
            return self.late.pop(0) if self.late else 0

    lines: list[str] = []
    config = logactors.SupervisorConfig(
        sinks=[logactors.CustomSink(name="late", sink=LateSink(), batch={"max_events": 1})],
        self_log=lines.append,
    )
    async with logactors.open_logger(config) as log:
        for i in range(5):
            log.info("e {i}", i=i)
            await log.flush()
        assert log.metrics().sinks["late"].late_written == 5
    assert log.report is not None
    m = log.report.sinks["late"]
    assert (m.late_written, m.written, m.balanced) == (5, 5, True)
    assert "5 written late after a timed-out write" in str(log.report)
    assert sum("reached the destination after all" in line for line in lines) == 1


def test_on_broken_pipe_and_shared_are_validated() -> None:
    """``on_broken_pipe`` takes ``exit``/``fail``; ``shared`` is a boolean."""
    assert ConsoleSink().on_broken_pipe == "exit"
    assert FileSink(path="a.log").shared is False
    with pytest.raises(logactors.ConfigError, match="on_broken_pipe"):
        ConsoleSink(on_broken_pipe="ignore").check()  # type: ignore[arg-type]
    with pytest.raises(logactors.ConfigError, match="shared"):
        FileSink(path="a.log", shared="yes").check()  # type: ignore[arg-type]


def test_a_timed_out_write_that_completes_at_close_counts_as_late_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The actor gave up on a batch whose worker-thread write outlived ``write_timeout``; the
    write completes before the sink closes: the report counts those events in ``late_written``
    (they are in the file) while the law still counts them failed."""
    import threading

    from logactors.sinks.file import FileWriter

    release = threading.Event()
    real = FileWriter._write_job
    calls = [0]

    def held(self: FileWriter, write: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            release.wait(30)  # a stalled disk, released by the test below
        return real(self, write)

    monkeypatch.setattr(FileWriter, "_write_job", held)
    path = tmp_path / "app.log"
    config = {
        "self_log": "off",
        "sinks": [
            {
                "type": "file",
                "name": "f",
                "path": str(path),
                "format": "json",
                "write_mode": "thread",
                "write_timeout": 0.2,
                "retry": {"attempts": 1},
            }
        ],
    }

    async def main() -> logactors.ShutdownReport | None:
        async with logactors.open_logger(config) as log:
            for i in range(3):
                log.info("e {i}", i=i)
            await log.flush()  # the write timed out: the batch is counted failed
            assert log.metrics().sinks["f"].failed == 3
            release.set()
        return log.report

    report = trio.run(main)
    assert report is not None
    m = report.sinks["f"]
    assert (m.failed, m.late_written, m.balanced) == (3, 3, True)
    assert len(path.read_text().splitlines()) == 3


async def test_late_writes_are_taken_from_any_sink_that_reports_them() -> None:
    """A sink that is no ``SinkBase`` but has ``take_late`` (``ReportsLate``) is asked too."""

    class PlainLateSink:
        def __init__(self) -> None:
            self.late = [2]

        async def open(self) -> None:
            pass

        async def write_batch(self, events: Any) -> int:
            return 0

        async def flush(self) -> None:
            pass

        async def aclose(self) -> None:
            pass

        def take_late(self) -> int:
            return self.late.pop(0) if self.late else 0

    config = logactors.SupervisorConfig(
        sinks=[logactors.CustomSink(name="late", sink=PlainLateSink())], self_log=[].append
    )
    async with logactors.open_logger(config) as log:
        log.info("e")
        await log.flush()
        assert log.metrics().sinks["late"].late_written == 2
