"""Fan-out: file sinks that write the same format encode each event once
(logactors.formatting._shared), and write exactly what a sink of their own would."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

import logactors
from logactors import BatchConfig, FileSink, LogEvent, SupervisorConfig
from logactors.formatting import ClefFormatter, TextFormatter, make_formatter
from logactors.formatting._shared import SharedEncoder, SharedFormatters

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
@given(fanout_cases())
def test_shared_output_is_byte_identical(
    case: tuple[str, list[Any], list[list[int]], list[int], int, int],
) -> None:
    """Four sinks sharing an encoder, each with its own batch boundaries and taking turns at
    random, each write exactly what one sink with a formatter of its own writes."""
    fmt, queued, cuts, steps, max_events, max_bytes = case
    own = make_formatter(fmt)
    as_logevents = [e if isinstance(e, LogEvent) else LogEvent(*e) for e in queued]
    one = cuts[0]
    expected = b"".join(own.format_batch(as_logevents[a:b]) for a, b in itertools.pairwise(one))
    encoder = SharedEncoder(make_formatter(fmt), max_events=max_events, max_bytes=max_bytes)
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
)
def test_sinks_taking_different_events(
    takes: list[list[bool]], sizes: list[int], max_events: int
) -> None:
    """Sinks that take different events of the same stream (other levels or filters) still
    write exactly what a formatter of their own writes."""
    events = _events(100)
    encoder = SharedEncoder(ClefFormatter(), max_events=max_events)
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
        for i in range(300):
            log.info("request {id} for {user}", id=i, user="bob")
            if i % 37 == 0:
                await trio.lowlevel.checkpoint()
        await log.flush()
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
