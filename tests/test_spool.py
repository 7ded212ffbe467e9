"""The disk spool: framing, torn tails, cursor, bounds, compaction, and a SIGKILL crash."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

import logactors
from logactors import CustomSink, Level, LogEvent, SpoolConfig, SupervisorConfig
from logactors._core.spool import LEGACY_MAGIC, MAGIC, Spool, encode_event
from logactors._files import UnsafeFileError

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


# ---------------------------------------------------------------------------------------------
# Damage on disk: only the records it touches are lost.

Damage = tuple[str, int, bytes]  # ("flip", at, mask) | ("cut", at, b"") | ("insert", at, data)


def damage_lists(size: int) -> st.SearchStrategy[list[Damage]]:
    at = st.integers(min_value=0, max_value=size - 1)
    one = st.one_of(
        st.tuples(st.just("flip"), at, st.binary(min_size=1, max_size=1).filter(any)),
        st.tuples(st.just("cut"), at, st.just(b"")),
        st.tuples(st.just("insert"), at, st.binary(min_size=1, max_size=40)),
    )
    return st.lists(one, min_size=1, max_size=3)


def written_spool(path: Path, count: int) -> tuple[bytes, list[tuple[int, int]]]:
    """A closed spool of ``count`` records: its bytes and each record's (start, end)."""
    spool, _ = open_spool(path)
    spool.append([make_event(n) for n in range(count)])
    spool.close()
    data = path.read_bytes()
    bounds: list[tuple[int, int]] = []
    offset = len(MAGIC)
    while offset < len(data):
        (length,) = struct.unpack_from("<I", data, offset + 4)
        bounds.append((offset, offset + 12 + length))
        offset += 12 + length
    return data, bounds


def apply_damage(
    data: bytes, bounds: list[tuple[int, int]], damage: list[Damage]
) -> tuple[bytes, set[int]]:
    """The damaged bytes and the indexes of the records the damage touches."""
    touched: set[int] = set()
    out = bytearray(data)
    for kind, at, extra in sorted(damage, key=lambda d: d[1], reverse=True):
        if at > len(out) or (at == len(out) and kind == "flip"):
            continue  # beyond an earlier cut
        if kind == "flip":
            out[at] ^= extra[0]
            touched |= {i for i, (a, b) in enumerate(bounds) if a <= at < b}
        elif kind == "cut":
            del out[at:]
            touched |= {i for i, (a, b) in enumerate(bounds) if b > at}
        else:
            out[at:at] = extra
            touched |= {i for i, (a, b) in enumerate(bounds) if a < at < b}
    return bytes(out), touched


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_damage_loses_only_the_records_it_touches(tmp_path_factory: Any, data: Any) -> None:
    """Random flips, cuts and insertions: every untouched record is replayed, in order, and
    stays on disk; nothing else is invented; a loss is counted."""
    path = tmp_path_factory.mktemp("spool") / "s"
    original, bounds = written_spool(path, 12)
    damage = data.draw(damage_lists(len(original)))
    damaged, touched = apply_damage(original, bounds, damage)
    path.write_bytes(damaged)
    untouched = [n for n in range(len(bounds)) if n not in touched]
    spool = Spool(SpoolConfig(path=str(path)), lambda line: None)
    try:
        spool.open()
    except UnsafeFileError:
        assert not untouched  # refused only when no intact record is left
        assert path.read_bytes() == damaged  # and never overwritten
        return
    numbers = [e.properties["n"] for e in spool.read(100)]
    spool.release()
    assert set(untouched) <= set(numbers)
    assert numbers == sorted(numbers) and set(numbers) <= set(range(len(bounds)))
    assert spool.depth == len(numbers)
    lost = len(bounds) - len(numbers)
    if lost and not spool.corrupt:  # undetectable only as a cut exactly between records
        assert numbers == list(range(len(numbers)))
        assert len(damaged) <= len(MAGIC) or len(damaged) in {end for _, end in bounds}
    assert spool.corrupt <= lost or any(kind == "insert" for kind, _, _ in damage)
    spool.close()
    again, _ = open_spool(path)  # what was kept is still on disk
    assert [e.properties["n"] for e in again.read(100)] == numbers
    again.close()


@pytest.mark.parametrize("count", [1, 5])
def test_damaged_header_keeps_the_records(tmp_path: Path, count: int) -> None:
    """A flipped byte in the file's magic does not discard the records after it."""
    original, _ = written_spool(tmp_path / "s", count)
    damaged = bytearray(original)
    damaged[3] ^= 0x20
    (tmp_path / "s").write_bytes(bytes(damaged))
    spool, lines = open_spool(tmp_path / "s")
    assert [e.properties["n"] for e in spool.read(10)] == list(range(count))
    assert any("damaged header" in line for line in lines)
    assert (tmp_path / "s").read_bytes()[: len(MAGIC)] == MAGIC
    spool.close()


@pytest.mark.parametrize("where", [1, 6, 10])
def test_one_flip_in_the_middle_loses_one_record(tmp_path: Path, where: int) -> None:
    """A flipped byte in record ``where`` of 12 loses that record only; the file keeps its size."""
    original, bounds = written_spool(tmp_path / "s", 12)
    damaged = bytearray(original)
    start, end = bounds[where]
    damaged[(start + end) // 2] ^= 0x01
    (tmp_path / "s").write_bytes(bytes(damaged))
    spool, _ = open_spool(tmp_path / "s")
    assert [e.properties["n"] for e in spool.read(100)] == [n for n in range(12) if n != where]
    assert spool.corrupt == 1
    assert os.path.getsize(tmp_path / "s") == len(original)
    spool.release()
    spool.read(3)
    spool.commit(3)  # the cursor walks over the damaged stretch too
    assert [e.properties["n"] for e in spool.read(100)] == [n for n in range(12) if n != where][3:]


def test_damage_while_open_replays_one_error_event_per_lost_record(tmp_path: Path) -> None:
    """Damage that appears after open is found by read: the record becomes an error event."""
    spool, lines = open_spool(tmp_path / "s")
    spool.append([make_event(n) for n in range(4)])
    data = (tmp_path / "s").read_bytes()
    second = len(MAGIC) + 12 + struct.unpack_from("<I", data, len(MAGIC) + 4)[0]
    with open(tmp_path / "s", "r+b") as f:
        f.seek(second + 20)
        f.write(b"#")
    events = spool.read(100)
    assert len(events) == 4  # the actor's count of records stays exact
    assert events[1].level is Level.ERROR and "damaged on disk" in events[1].template
    assert [e.properties.get("n") for e in events] == [0, None, 2, 3]
    assert spool.commit(4) == 4
    assert spool.depth == 0 and os.path.getsize(tmp_path / "s") == len(MAGIC)
    assert any("damaged bytes" in line for line in lines)


def test_bound_and_compaction_step_over_damage(tmp_path: Path) -> None:
    """Dropping the oldest and compacting walk over damaged stretches and keep the rest."""
    original, bounds = written_spool(tmp_path / "s", 20)
    damaged = bytearray(original)
    damaged[bounds[2][0] + 15] ^= 0x40
    (tmp_path / "s").write_bytes(bytes(damaged))
    size = bounds[0][1] - bounds[0][0]
    spool, _ = open_spool(tmp_path / "s", max_bytes=size * 19)
    assert spool.depth == 19
    dropped = spool.append([make_event(100), make_event(101)])
    assert dropped >= 2  # at least 0 and 1; the damaged 2 was counted at open, not here
    intact = [n for n in range(20) if n != 2]
    kept = [e.properties["n"] for e in spool.read(100)]
    assert kept == [*intact[dropped:], 100, 101]
    assert spool.depth == len(kept)
    spool.release()
    spool.read(10)
    spool.commit(10)  # compaction
    assert [e.properties["n"] for e in spool.read(100)] == kept[10:]


def test_legacy_spool_is_converted(tmp_path: Path) -> None:
    """A spool in the previous format (no sync bytes) is converted at open, records kept."""
    payloads = [encode_event(make_event(n)) for n in range(3)]
    legacy = LEGACY_MAGIC + b"".join(
        struct.pack("<II", len(p), zlib.crc32(p)) + p for p in payloads
    )
    (tmp_path / "s").write_bytes(legacy)
    spool, lines = open_spool(tmp_path / "s")
    assert [e.properties["n"] for e in spool.read(10)] == [0, 1, 2]
    assert (tmp_path / "s").read_bytes()[: len(MAGIC)] == MAGIC
    assert any("converted 3 records" in line for line in lines)


def test_damaged_records_count_in_spool_dropped(tmp_path: Path) -> None:
    """Records lost to damage at open count in the sink's ``spool_dropped``."""
    original, bounds = written_spool(tmp_path / "s", 6)
    damaged = bytearray(original)
    damaged[bounds[4][0] + 13] ^= 0x08
    (tmp_path / "s").write_bytes(bytes(damaged))
    sink = RecordingSink()

    async def run() -> logactors.MetricsSnapshot:
        config = SupervisorConfig(
            self_log="off",
            sinks=[CustomSink(name="net", sink=sink, spool=SpoolConfig(path=str(tmp_path / "s")))],
        )
        async with logactors.open_logger(config) as log:
            await recovered(lambda: log.metrics().sinks["net"].spool_depth == 0, step=0.01)
            return log.metrics()

    metrics = trio.run(run)
    assert [e.properties["n"] for e in sink.events] == [0, 1, 2, 3, 5]
    assert metrics.sinks["net"].spool_dropped == 1
    assert metrics.sinks["net"].spool_inherited == 6  # five intact, one damaged
    assert_balanced(metrics.sinks["net"])
