"""The disk spool: framing, torn tails, cursor, bounds, compaction, and a SIGKILL crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import trio

import logactors
from logactors import CustomSink, Level, LogEvent, SpoolConfig, SupervisorConfig
from logactors._files import UnsafeFileError
from logactors._spool import LEGACY_MAGIC, MAGIC, Spool

from .helpers import RecordingSink, assert_balanced, recovered


def make_event(n: int) -> LogEvent:
    return LogEvent(
        1_700_000_000_000_000_000 + n,
        Level.INFO,
        "event {n}",
        {"n": n, "nested": {"k": [n, "v"]}},
        None,
        "app",
        "task",
    )


def open_spool(path: Path, **kwargs: int) -> tuple[Spool, list[str]]:
    lines: list[str] = []
    spool = Spool(SpoolConfig(path=str(path), **kwargs), lines.append)
    spool.open()
    return spool, lines


def test_append_read_commit_round_trip(tmp_path: Path) -> None:
    """Events come back equal, in order; commit consumes exactly what was read."""
    spool, _ = open_spool(tmp_path / "s")
    events = [make_event(n) for n in range(10)]
    assert spool.append(events) == 0
    assert spool.depth == 10
    first = spool.read(4)
    assert first == events[:4]
    assert spool.commit(4) == 4
    assert spool.read(100) == events[4:]
    spool.release()
    assert spool.depth == 6
    spool.close()


def test_reopen_resumes_from_cursor(tmp_path: Path) -> None:
    """Consumed records stay consumed across a reopen; the rest is inherited."""
    spool, _ = open_spool(tmp_path / "s")
    spool.append([make_event(n) for n in range(5)])
    spool.read(2)
    spool.commit(2)
    spool.close()
    again, _ = open_spool(tmp_path / "s")
    assert again.inherited == 3
    assert [e.properties["n"] for e in again.read(10)] == [2, 3, 4]


@pytest.mark.parametrize("cut", [1, 5, 9, 20])
def test_torn_tail_is_detected_and_skipped(tmp_path: Path, cut: int) -> None:
    """A record cut short by a crash is dropped at open (reported), earlier ones survive."""
    spool, _ = open_spool(tmp_path / "s")
    spool.append([make_event(n) for n in range(3)])
    spool.close()
    size = os.path.getsize(tmp_path / "s")
    with open(tmp_path / "s", "r+b") as f:
        f.truncate(size - cut)
    again, lines = open_spool(tmp_path / "s")
    assert again.depth == 2
    assert any("torn or damaged" in line for line in lines)
    assert again.corrupt == 1
    assert [e.properties["n"] for e in again.read(10)] == [0, 1]
    again.release()
    again.append([make_event(9)])  # appends after the valid data
    assert [e.properties["n"] for e in again.read(10)] == [0, 1, 9]


def test_corrupt_record_is_skipped_and_counted(tmp_path: Path) -> None:
    """A record whose checksum does not match is skipped; the records around it are kept."""
    spool, _ = open_spool(tmp_path / "s")
    spool.append([make_event(n) for n in range(3)])
    spool.close()
    data = bytearray((tmp_path / "s").read_bytes())
    data[len(MAGIC) + 12 + 5] ^= 0xFF  # flip a byte of the first payload
    (tmp_path / "s").write_bytes(bytes(data))
    again, lines = open_spool(tmp_path / "s")
    assert again.depth == 2
    assert again.corrupt == 1
    assert any("damaged stretch" in line for line in lines)
    assert [e.properties["n"] for e in again.read(10)] == [1, 2]
    assert os.path.getsize(tmp_path / "s") == len(data)  # nothing cut


def test_foreign_file_is_refused_and_a_broken_cursor_replays(tmp_path: Path) -> None:
    """A file that is not a spool is never overwritten; a broken cursor replays from start."""
    (tmp_path / "f").write_bytes(b"not a spool at all")
    with pytest.raises(UnsafeFileError, match="not a logactors spool"):
        open_spool(tmp_path / "f")
    assert (tmp_path / "f").read_bytes() == b"not a spool at all"
    spool, lines = open_spool(tmp_path / "s")
    spool.append([make_event(1), make_event(2)])
    spool.close()
    (tmp_path / "s.cursor").write_bytes(b"\x00garbage")
    again, lines = open_spool(tmp_path / "s")
    assert again.depth == 2
    assert any("cursor unreadable" in line for line in lines)


def test_bound_drops_oldest_but_never_records_being_replayed(tmp_path: Path) -> None:
    """Past max_bytes, the oldest records go, except those handed out by read()."""
    spool, _ = open_spool(tmp_path / "s", max_bytes=1500)
    dropped = 0
    for n in range(30):
        dropped += spool.append([make_event(n)])
    assert dropped > 0
    assert spool.depth == 30 - dropped
    pending = spool.read(3)
    before = [e.properties["n"] for e in pending]
    more = spool.append([make_event(100 + n) for n in range(10)])
    assert spool.commit(3) == 3
    survivors = [e.properties["n"] for e in spool.read(100)]
    assert survivors[-1] == 109
    assert not set(before) & set(survivors)
    assert spool.depth == 30 - dropped - more + 10 - 3


def test_compaction_keeps_live_records(tmp_path: Path) -> None:
    """Consumed space is reclaimed; live records and order survive compaction."""
    spool, _ = open_spool(tmp_path / "s", max_bytes=3000)  # compacts past 1500 dead bytes
    spool.append([make_event(n) for n in range(20)])
    size_before = os.path.getsize(tmp_path / "s")
    spool.read(15)
    spool.commit(15)
    assert os.path.getsize(tmp_path / "s") < size_before
    assert [e.properties["n"] for e in spool.read(100)] == list(range(15, 20))
    spool.release()
    spool.close()
    again, _ = open_spool(tmp_path / "s", max_bytes=3000)
    assert [e.properties["n"] for e in again.read(100)] == list(range(15, 20))


def test_values_json_cannot_encode_are_spooled_as_text(tmp_path: Path) -> None:
    """Objects become strings in the spool; the event itself survives."""
    spool, _ = open_spool(tmp_path / "s")
    cyclic: list[object] = []
    cyclic.append(cyclic)
    spool.append([LogEvent(1, Level.ERROR, "x {v}", {"v": object(), "c": cyclic, "n": 2**80})])
    (back,) = spool.read(1)
    assert back.level is Level.ERROR
    assert isinstance(back.properties["v"], str)
    assert back.properties["n"] == str(2**80)


CHILD = textwrap.dedent(
    """
    import sys, trio, logactors
    from logactors import CustomSink, SupervisorConfig, SpoolConfig, BatchConfig

    class Down:
        async def open(self): pass
        async def write_batch(self, events): raise ConnectionError("destination down")
        async def flush(self): pass
        async def aclose(self): pass

    async def main():
        config = SupervisorConfig(
            self_log="off",
            sinks=[CustomSink(name="net", sink=Down(), breaker=None,
                              retry=logactors.RetryConfig(attempts=1),
                              batch=BatchConfig(max_events=50, max_delay=0),
                              spool=SpoolConfig(path=sys.argv[1]))],
        )
        async with logactors.open_logger(config) as log:
            n = 0
            while True:
                for _ in range(100):
                    log.info("event {n}", n=n)
                    n += 1
                await log.flush()
                print(log.metrics().sinks["net"].spooled, flush=True)

    trio.run(main)
    """
)


def test_sigkill_while_spooling_loses_nothing_that_reached_the_spool(tmp_path: Path) -> None:
    """A child logging through a failing sink is SIGKILLed; a new logger on the same spool
    delivers every event that reached the spool, in order, with no gaps."""
    path = tmp_path / "net.spool"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    reported = 0
    deadline = time.monotonic() + 30
    while reported < 3000 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        reported = int(line)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert reported >= 3000, "the child did not spool enough before the deadline"

    sink = RecordingSink()

    async def recover() -> logactors.MetricsSnapshot:
        config = SupervisorConfig(
            sinks=[CustomSink(name="net", sink=sink, spool=SpoolConfig(path=str(path)))]
        )
        async with logactors.open_logger(config) as log:
            await recovered(lambda: log.metrics().sinks["net"].spool_depth == 0, step=0.01)
            return log.metrics()

    metrics = trio.run(recover)
    numbers = [e.properties["n"] for e in sink.events]
    assert len(numbers) >= reported  # everything acknowledged as spooled, maybe a bit more
    assert numbers == list(range(len(numbers)))  # in order, no gap, no duplicate
    assert metrics.sinks["net"].spool_inherited == len(numbers)
    assert_balanced(metrics.sinks["net"])
