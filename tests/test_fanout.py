"""Fan-out: file sinks that write the same format encode each event once
(logactors.formatting._shared), and write exactly what a sink of their own would."""

from __future__ import annotations

import itertools
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

import logactors
from logactors import BatchConfig, FileSink, LogEvent, SupervisorConfig
from logactors.formatting import ClefFormatter, TextFormatter, make_formatter
from logactors.formatting._shared import SharedEncoder, SharedFormatters

from .helpers import assert_all_balanced
from .strategies import any_values, hostile_events, log_events

ALL_FORMATS = ("text", "json", "clef", "clef-rendered", "logfmt", "csv", "csv-raw")


def _cuts(draw: st.DrawFn, n: int) -> list[int]:
    """Random batch boundaries of ``n`` events (sorted, from 0 to n)."""
    inner = draw(st.lists(st.integers(1, max(1, n - 1)), max_size=6)) if n > 1 else []
    return sorted({0, n, *inner})


@st.composite
def fanout_cases(draw: st.DrawFn) -> tuple[str, list[Any], list[list[int]], list[int], int, int]:
    """A format, events (plain tuples and LogEvents, hostile ones among them), batch
    boundaries for one sink and for four sharing sinks, the order the four take their
    batches in, and the cache's bounds."""
    fmt = draw(st.sampled_from(ALL_FORMATS))
    events = draw(
        st.lists(
            st.one_of(
                log_events(values=any_values()),
                hostile_events("marker"),  # type: ignore[call-arg]
            ),
            min_size=1,
            max_size=12,
        )
    )
    queued = [tuple(e) if draw(st.booleans()) else e for e in events]  # as the logger queues
    cuts = [_cuts(draw, len(events)) for _ in range(5)]
    # each step lets one of the four sinks take its next batch
    steps = draw(st.permutations([s for s in range(4) for _ in range(len(cuts[s + 1]) - 1)]))
    max_events = draw(st.integers(1, 32))
    max_bytes = draw(st.integers(1, 4096))
    return fmt, queued, cuts, list(steps), max_events, max_bytes


@pytest.mark.slow
@given(fanout_cases(), st.booleans(), st.sampled_from([None, 4]))
def test_shared_output_is_byte_identical(
    case: tuple[str, list[Any], list[list[int]], list[int], int, int],
    index: bool,
    peers: int | None,
) -> None:
    """Four sinks sharing an encoder, each with its own batch boundaries and taking turns at
    random, each write exactly what one sink with a formatter of its own writes (whether the
    encoder indexes every event or not, knows its peers or not)."""
    fmt, queued, cuts, steps, max_events, max_bytes = case
    own = make_formatter(fmt)
    as_logevents = [e if isinstance(e, LogEvent) else LogEvent(*e) for e in queued]
    one = cuts[0]
    expected = b"".join(own.format_batch(as_logevents[a:b]) for a, b in itertools.pairwise(one))
    encoder = SharedEncoder(
        make_formatter(fmt), max_events=max_events, max_bytes=max_bytes, peers=peers, index=index
    )
    out = [b""] * 4
    taken = [0] * 4
    for s in steps:
        bounds = cuts[s + 1]
        a, b = bounds[taken[s]], bounds[taken[s] + 1]
        taken[s] += 1
        out[s] += encoder.format_batch(queued[a:b])
    assert out == [expected] * 4
    assert encoder.hits + encoder.encoded == 4 * len(queued)


@pytest.mark.slow
@given(
    st.lists(st.lists(st.booleans(), min_size=100, max_size=100), min_size=3, max_size=3),
    st.lists(st.integers(1, 60), min_size=3, max_size=3),
    st.integers(2, 64),
    st.booleans(),
    st.sampled_from([None, 3]),
)
def test_sinks_taking_different_events(
    takes: list[list[bool]], sizes: list[int], max_events: int, index: bool, peers: int | None
) -> None:
    """Sinks that take different events of the same stream (other levels or filters) still
    write exactly what a formatter of their own writes (an encoder without an index, meant
    for sinks that take the same events, only finds less)."""
    events = _events(100)
    encoder = SharedEncoder(ClefFormatter(), max_events=max_events, index=index, peers=peers)
    own = ClefFormatter()
    streams = [[e for e, t in zip(events, take, strict=True) if t] for take in takes]
    out = [b""] * 3
    for start in range(0, 100, 50):  # the sinks take turns, each its own batch sizes
        for s, stream in enumerate(streams):
            mine = [e for e in stream if e[0] < 10**18 + start + 50 and e[0] >= 10**18 + start]
            for a in range(0, len(mine), sizes[s]):
                out[s] += encoder.format_batch(mine[a : a + sizes[s]])
    assert out == [own.format_batch(stream) for stream in streams]  # type: ignore[arg-type]


def _events(n: int, start: int = 0) -> list[Any]:
    return [
        (10**18 + i, logactors.Level.INFO, "request {id}", {"id": i, "user": "bob"}, None, "", "")
        for i in range(start, start + n)
    ]


def test_each_event_encoded_once() -> None:
    """The second to fourth sink find every event their peer encoded: nothing is encoded
    again, whatever their batch boundaries."""
    encoder = SharedEncoder(ClefFormatter())
    events = _events(100)
    first = encoder.format_batch(events[:60]) + encoder.format_batch(events[60:])
    assert (encoder.hits, encoder.encoded) == (0, 100)
    for cut in (7, 50, 99):
        assert encoder.format_batch(events[:cut]) + encoder.format_batch(events[cut:]) == first
    assert (encoder.hits, encoder.encoded) == (300, 100)
    assert first == ClefFormatter().format_batch(events)  # type: ignore[arg-type]


@st.composite
def aligned_cases(draw: st.DrawFn) -> tuple[int, list[list[int]], list[int]]:
    """A number of events, batch boundaries for four sinks that take all of them, and the
    order the four take their batches in."""
    n = draw(st.integers(1, 120))
    cuts = [_cuts(draw, n) for _ in range(4)]
    steps = draw(st.permutations([s for s in range(4) for _ in range(len(cuts[s]) - 1)]))
    return n, cuts, list(steps)


@given(aligned_cases())
def test_sinks_taking_the_same_events_find_them_without_an_index(
    case: tuple[int, list[list[int]], list[int]],
) -> None:
    """Sinks that take the same events (one level, no filters) share an encoder with no index
    of every event: whatever their batch boundaries and the order they take their batches in,
    each event is encoded once and each sink writes what a formatter of its own writes; once
    all of them took a chunk, it is let go."""
    n, cuts, steps = case
    events = _events(n)
    encoder = SharedEncoder(ClefFormatter(), peers=4, index=False)
    out = [b""] * 4
    taken = [0] * 4
    for s in steps:
        a, b = cuts[s][taken[s]], cuts[s][taken[s] + 1]
        taken[s] += 1
        out[s] += encoder.format_batch(events[a:b])
    assert out == [ClefFormatter().format_batch(events)] * 4  # type: ignore[arg-type]
    assert (encoder.encoded, encoder.hits) == (n, 3 * n)
    encoder.format_batch(_events(1, n))  # the next encoding lets the finished chunks go
    assert encoder.kept_events == 1


def test_a_chunk_is_let_go_once_every_peer_took_it() -> None:
    """With its peers known, the encoder keeps a chunk until each of the others took all of
    it, then lets it go before it encodes again (the events are freed then, not when the
    bounds push them out); without them it keeps chunks up to its bounds."""
    events = _events(100)
    known = SharedEncoder(ClefFormatter(), peers=3, index=False)
    unknown = SharedEncoder(ClefFormatter())
    for encoder in (known, unknown):
        encoder.format_batch(events[:50])  # the first sink encodes
        encoder.format_batch(events[:50])  # the second
        encoder.format_batch(events[:20])  # the third, in two batches
        assert encoder.kept_events == 50
        encoder.format_batch(events[20:50])
        assert encoder.kept_events == 50  # (let go when the next batch is encoded)
        encoder.format_batch(events[50:])
    assert known.kept_events == 50
    assert unknown.kept_events == 100
    first = events[0]
    before = sys.getrefcount(first)
    known.format_batch(_events(1, 100))  # the others took nothing of events[50:]
    after = sys.getrefcount(first)
    assert known.kept_events == 51
    assert after == before  # (events[0] was let go already)
    assert sys.getrefcount(events[50]) == sys.getrefcount(events[49]) + 1  # kept: one more


def test_the_index_is_kept_only_for_sinks_taking_different_events() -> None:
    """Sinks announced with one route (one min_level, no filters) share an encoder without an
    index of every event; as soon as one takes its own selection, the encoder keeps one."""
    shared = SharedFormatters()
    for fmt, route in [("clef", 20), ("clef", 20), ("json", 20), ("json", 30)]:
        shared.add(fmt, "", route)
    shared.add("text", "{Message}", None)
    shared.add("text", "{Message}", 20)
    clef, json, text = shared.get("clef"), shared.get("json"), shared.get("text", "{Message}")
    assert (clef._index, json._index, text._index) == (False, True, True)
    assert (clef._takers, json._takers, text._takers) == (1, 1, 1)


def test_stand_in_record_is_shared() -> None:
    """An event that cannot be formatted is written as its stand-in by every sink, encoded
    once; the events around it are unaffected."""

    class Bad:
        def __str__(self) -> str:
            raise RuntimeError("no str")

        __repr__ = __str__

    events = _events(3)
    events[1] = (events[1][0], events[1][1], "bad {x}", {"x": Bad()}, None, "", "")
    encoder = SharedEncoder(TextFormatter("{Message}{NewLine}"))
    first = encoder.format_batch(events)
    assert encoder.format_batch(events[1:2]) == first.splitlines(keepends=True)[1]
    assert (encoder.hits, encoder.encoded) == (1, 3)
    assert first.startswith(b"request 0\n") and first.endswith(b"request 2\n")


def test_memory_is_bounded() -> None:
    """The cache keeps at most max_events events and about max_bytes of records; a record
    larger than half of max_bytes is not kept."""
    encoder = SharedEncoder(ClefFormatter(), max_events=64, max_bytes=8192)
    for start in range(0, 5000, 50):
        encoder.format_batch(_events(50, start))
        assert encoder.kept_events <= 64
        assert encoder.kept_bytes <= 8192
    big = [(10**18, logactors.Level.INFO, "x" * 5000, {}, None, "", "")]
    assert encoder.format_batch(big).startswith(b'{"@t"')
    assert encoder.kept_bytes <= 8192
    encoder.format_batch(big)
    assert encoder.encoded == 5002  # encoded again: it was not kept


def test_no_sharing_without_a_peer_or_across_formats() -> None:
    """A format only one sink writes gets a formatter of its own; sinks sharing a format
    share one encoder; text templates are part of the format."""
    shared = SharedFormatters()
    for fmt, template in [("clef", ""), ("clef", ""), ("json", ""), ("text", "{Message}")]:
        shared.add(fmt, template)
    shared.add("text", "{Level} {Message}")
    first, second = shared.get("clef"), shared.get("clef")
    assert isinstance(first, SharedEncoder) and first is second
    assert not isinstance(shared.get("json"), SharedEncoder)
    assert not isinstance(shared.get("text", "{Message}"), SharedEncoder)


def test_thread_safe() -> None:
    """Threads formatting overlapping batches through one encoder all get the right bytes."""
    encoder = SharedEncoder(ClefFormatter(), max_events=40, max_bytes=1 << 20)
    events = _events(400)
    expected = ClefFormatter().format_batch(events)  # type: ignore[arg-type]
    results: list[bytes] = []

    def run(size: int) -> None:
        out = b"".join(encoder.format_batch(events[i : i + size]) for i in range(0, 400, size))
        results.append(out)

    threads = [threading.Thread(target=run, args=(size,)) for size in (3, 7, 16, 50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


async def _log_requests(log: Any, n: int, *, checkpoint_every: int) -> None:
    """``n`` request events, a checkpoint now and then (the sinks take partial batches), then
    a flush."""
    for i in range(n):
        log.info("request {id} for {user}", id=i, user="bob")
        if i % checkpoint_every == 0:
            await trio.lowlevel.checkpoint()
    await log.flush()


async def test_file_sinks_share_the_encoding(tmp_path: Path) -> None:
    """Four CLEF file sinks with different batch sizes write identical files and encode each
    event once; a sink of another format keeps its own formatter."""
    sinks: list[Any] = [
        FileSink(
            name=f"f{i}",
            path=str(tmp_path / f"f{i}.clef"),
            format="clef",
            batch=BatchConfig(max_events=size, max_delay=0),
        )
        for i, size in enumerate((1, 5, 16, 512))
    ]
    sinks.append(FileSink(name="text", path=str(tmp_path / "t.log"), format="text"))
    config = SupervisorConfig(min_level="trace", sinks=sinks, self_log="off")
    async with logactors.open_logger(config) as log:
        await _log_requests(log, 300, checkpoint_every=37)
        writers = [log._rt.actors[f"f{i}"].sink for i in range(4)]
        encoder = writers[0]._formatter  # type: ignore[attr-defined]
        assert all(w._formatter is encoder for w in writers)  # type: ignore[attr-defined]
        assert isinstance(encoder, SharedEncoder)
        assert (encoder.encoded, encoder.hits) == (300, 900)
        text_sink = log._rt.actors["text"].sink
        assert isinstance(text_sink._formatter, TextFormatter)  # type: ignore[attr-defined]
    files = [(tmp_path / f"f{i}.clef").read_bytes() for i in range(4)]
    assert files[0].count(b"\n") == 300
    assert files == [files[0]] * 4


def _shared_sinks(tmp_path: Path, n: int, **options: Any) -> list[Any]:
    return [
        FileSink(name=f"f{i}", path=str(tmp_path / f"f{i}.clef"), format="clef", **options)
        for i in range(n)
    ]


async def test_same_level_file_sinks_share_without_an_index(tmp_path: Path) -> None:
    """File sinks of one level and no filters share an encoder without an index that knows its
    peers; a sink with filters (or another level) makes it keep one."""
    sinks = _shared_sinks(tmp_path, 3)
    sinks.append(FileSink(name="e", path=str(tmp_path / "e.clef"), format="clef", min_level=40))
    sinks += [
        FileSink(name=f"j{i}", path=str(tmp_path / f"j{i}.json"), format="json") for i in range(2)
    ]
    sinks.append(
        FileSink(
            name="j2",
            path=str(tmp_path / "j2.json"),
            format="json",
            filters=[logactors.FilterConfig(min_level="info")],
        )
    )
    sinks.append(FileSink(name="t0", path=str(tmp_path / "t0.log"), format="text"))
    sinks.append(FileSink(name="t1", path=str(tmp_path / "t1.log"), format="text"))
    config = SupervisorConfig(sinks=sinks, self_log="off")
    async with logactors.open_logger(config) as log:
        clef = log._rt.actors["f0"].sink._formatter  # type: ignore[attr-defined]
        json = log._rt.actors["j0"].sink._formatter  # type: ignore[attr-defined]
        text = log._rt.actors["t0"].sink._formatter  # type: ignore[attr-defined]
        assert (clef._index, clef._takers) == (True, 3)
        assert (json._index, json._takers) == (True, 2)
        assert (text._index, text._takers) == (False, 1)
        assert log._rt.actors["t1"].sink.shares_batches  # type: ignore[attr-defined]


async def test_a_failing_sink_costs_its_peers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One of four sharing file sinks fails every write: its events are counted failed (it
    has no fallback or spool), the other three write identical files, each event is still
    encoded once, and every sink's counters balance."""
    from logactors.sinks.file import FileWriter

    real = FileWriter._write_job

    def failing(self: FileWriter, write: Any) -> int:
        if self.path.endswith("f2.clef"):
            raise OSError(28, "No space left on device")
        return real(self, write)

    monkeypatch.setattr(FileWriter, "_write_job", failing)
    sinks = _shared_sinks(tmp_path, 4, batch=BatchConfig(max_events=32, max_delay=0), breaker=None)
    config = SupervisorConfig(sinks=sinks, self_log="off")
    async with logactors.open_logger(config) as log:
        await _log_requests(log, 200, checkpoint_every=50)
        encoder = log._rt.actors["f0"].sink._formatter  # type: ignore[attr-defined]
        assert encoder.encoded == 200
    report = log.report
    assert report is not None
    assert_all_balanced(report)
    assert report.sinks["f2"].failed == 200
    assert [report.sinks[f"f{i}"].written for i in (0, 1, 3)] == [200] * 3
    files = [(tmp_path / f"f{i}.clef").read_bytes() for i in (0, 1, 3)]
    assert files[0].count(b"\n") == 200
    assert files == [files[0]] * 3


async def test_a_stalled_sink_catches_up_with_the_same_lines(tmp_path: Path) -> None:
    """One of three sharing sinks is stalled while the others write everything: they are not
    held up; once it resumes it writes the same lines (encoding what the encoder no longer
    keeps), and the encoder never keeps more than its bounds."""
    gate = trio.Event()
    sinks = _shared_sinks(tmp_path, 3, batch=BatchConfig(max_events=16, max_delay=0))
    config = SupervisorConfig(sinks=sinks, self_log="off")
    async with logactors.open_logger(config) as log:
        stalled = log._rt.actors["f1"].sink
        real = stalled.write_batch

        async def held(events: Any) -> int:
            await gate.wait()
            return await real(events)

        stalled.write_batch = held  # type: ignore[method-assign]
        encoder = stalled._formatter  # type: ignore[attr-defined]
        encoder._max_events = 64  # (a small cache: the stalled sink falls out of it)
        for i in range(300):
            log.info("request {id} for {user}", id=i, user="bob")
            if i % 10 == 0:
                await trio.testing.wait_all_tasks_blocked()
                assert encoder.kept_events <= 64
        await trio.testing.wait_all_tasks_blocked()
        for i in (0, 2):
            assert log.metrics().sinks[f"f{i}"].written == 300
        assert log.metrics().sinks["f1"].written == 0
        gate.set()
        await log.flush()
        assert log.metrics().sinks["f1"].written == 300
    files = [(tmp_path / f"f{i}.clef").read_bytes() for i in range(3)]
    assert files[0].count(b"\n") == 300
    assert files == [files[0]] * 3


async def test_events_are_let_go_once_every_sharing_sink_wrote_them(tmp_path: Path) -> None:
    """Sharing sinks keep no batch once written, so when the next batch is encoded nothing of
    the logger holds the events of the last one any more."""
    config = SupervisorConfig(sinks=_shared_sinks(tmp_path, 2), self_log="off")
    async with logactors.open_logger(config) as log:
        inbox = log._rt.actors["f0"].inbox
        log.info("first {n}", n=1)
        first = inbox._events[0]
        await log.flush()
        log.info("second {n}", n=2)
        await log.flush()
        refs = sys.getrefcount(first)
        assert refs == 2  # ``first`` and the call's argument
    assert (tmp_path / "f1.clef").read_bytes() == (tmp_path / "f0.clef").read_bytes()
