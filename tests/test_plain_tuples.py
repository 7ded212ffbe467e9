"""Queued plain tuples (the logger's fast path) reach only a sink that takes them; every other
sink, fallback and spool sees LogEvents."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio
import trio.testing

import logactors
from logactors import (
    BatchConfig,
    CustomSink,
    FileSink,
    Level,
    LogEvent,
    RetryConfig,
    SpoolConfig,
    SupervisorConfig,
)
from logactors._events import as_events
from logactors.formatting.json import ClefFormatter

from .helpers import RecordingSink, ScriptedSink, assert_all_balanced, recovered

ONCE = RetryConfig(attempts=1, jitter=0)


class PlainSink(ScriptedSink):
    """A scripted sink that takes queued plain tuples, and records the types it was given."""

    takes_plain_tuples = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.types: set[type] = set()

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        self.types.update(type(e) for e in events)
        return await super().write_batch(events)


def config(*sinks: CustomSink) -> SupervisorConfig:
    return SupervisorConfig(min_level="trace", sinks=sinks, self_log="off")


def sink(name: str, obj: Any, **kwargs: Any) -> CustomSink:
    return CustomSink(
        name=name,
        sink=obj,
        retry=ONCE,
        breaker=None,
        batch=BatchConfig(max_events=4, max_delay=0),
        **kwargs,
    )


async def test_sinks_get_log_events() -> None:
    """A sink that does not take plain tuples gets LogEvents with every field."""
    rec = RecordingSink()
    async with logactors.open_logger(config(sink("rec", rec))) as log:
        log.info("Processing {id}", id=1)
        await log.flush()
    assert [type(e) for e in rec.events] == [LogEvent]
    assert rec.events[0].properties == {"id": 1} and rec.events[0].level is Level.INFO


async def test_plain_tuples_stop_at_the_sink_that_takes_them() -> None:
    """The failing sink got plain tuples; its fallback gets LogEvents of the same events."""
    plain = PlainSink(["ok"], default="fail")
    fallback = RecordingSink()
    async with logactors.open_logger(
        config(
            sink("plain", plain, fallback="fb"),
            sink("fb", fallback, min_level="off"),
        )
    ) as log:
        for i in range(8):
            log.info("e{i}", i=i)
        await log.flush()
        metrics = log.metrics()
    assert plain.types == {tuple}
    assert [e[3]["i"] for e in plain.events] == [0, 1, 2, 3]  # (plain tuples)
    assert {type(e) for e in fallback.events} == {LogEvent}
    assert fallback.values("i") == [4, 5, 6, 7]
    assert_all_balanced(metrics)


async def test_plain_tuples_are_spooled_as_log_events(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Events a plain-tuple sink could not write are spooled, and a later run replays them
    to an ordinary sink as LogEvents, in order."""
    spool = SpoolConfig(path=str(tmp_path / "spool"))
    plain = PlainSink(default="fail")
    async with logactors.open_logger(config(sink("s", plain, spool=spool))) as log:
        for i in range(6):
            log.info("e{i}", i=i)
        await log.flush()
    assert log.report is not None and log.report.sinks["s"].spooled == 6
    rec = RecordingSink()
    async with logactors.open_logger(config(sink("s", rec, spool=spool))) as log:
        await recovered(lambda: len(rec.events) >= 6)  # the replay is paced
    assert {type(e) for e in rec.events} == {LogEvent}
    assert rec.values("i") == list(range(6))


async def test_file_sink_takes_plain_tuples_and_its_fallback_does_not(tmp_path: Path) -> None:
    """A real clef FileSink that cannot open its file: the events reach the fallback as
    LogEvents; a working one writes the queued tuples."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()  # a directory where the file should be: open fails with an OSError
    good = tmp_path / "good.clef"
    fallback = RecordingSink()
    async with logactors.open_logger(
        config(
            FileSink(name="bad", path=str(blocked), format="clef", fallback="fb", retry=ONCE),
            FileSink(name="good", path=str(good), format="clef"),
            sink("fb", fallback, min_level="off"),
        )
    ) as log:
        assert log.sink("good").takes_plain_tuples is True  # type: ignore[attr-defined]
        log.info("Processing {id}", id=7)
        await log.flush()
    assert {type(e) for e in fallback.events} == {LogEvent}
    assert fallback.values("id") == [7]
    assert b'"@mt":"Processing {id}","id":7}' in good.read_bytes()


def test_clef_formats_plain_tuples_like_log_events() -> None:
    """The CLEF batch path gives the same bytes for queued tuples and LogEvents, including
    events that take the exact path (trace ids, odd names)."""
    ts = 1_700_000_000_123_456_789
    events = [
        LogEvent(ts, Level.INFO, "a {x}", {"x": 1}),
        LogEvent(ts + 1, Level.ERROR, "b", {"trace_id": 5, "@odd": 2}, "boom", "app", "t"),
        LogEvent(ts + 2, Level.INFO, "c {y:05d}", {"y": 3, "z": [{"@t": 1}, {"@t": 2}]}),
    ]
    tuples = [tuple(e) for e in events]
    expected = b"".join(ClefFormatter().format_event(e) for e in events)
    assert ClefFormatter().format_batch(tuples) == expected  # type: ignore[arg-type]
    assert ClefFormatter().format_batch(events) == expected
    assert as_events(tuples) == events and {type(e) for e in as_events(tuples)} == {LogEvent}


async def test_fan_out_shares_one_tuple_and_each_sink_gets_its_form() -> None:
    """With several sinks taking a level, one queued tuple serves all: the plain-tuple sink
    gets it as it is, the others get LogEvents, in the same order."""
    plain, a, b = PlainSink(), RecordingSink(), RecordingSink()
    async with logactors.open_logger(
        config(
            sink("plain", plain),
            sink("a", a),
            sink("b", b),
        )
    ) as log:
        for i in range(6):
            log.info("e{i}", i=i)
        await log.flush()
    assert plain.types == {tuple} and [e[3]["i"] for e in plain.events] == list(range(6))
    for rec in (a, b):
        assert {type(e) for e in rec.events} == {LogEvent}
        assert rec.values("i") == list(range(6))


def test_as_events_converts_only_plain_tuples() -> None:
    """Mixed batches (a thread's LogEvents between queued tuples) keep their order; LogEvents
    pass as they are."""
    first = LogEvent(1, Level.INFO, "a", {})
    plain = (2, Level.WARNING, "b", {"x": 1}, None, "", "")
    mixed = as_events([first, plain, first])
    assert mixed == [first, LogEvent(*plain), first]
    assert [type(e) for e in mixed] == [LogEvent] * 3 and mixed[0] is first
    assert as_events([first]) == [first] and as_events([]) == []


def test_clef_common_events_never_take_the_exact_path(monkeypatch: Any) -> None:
    """The batch path serves the usual events (levels, exception, logger, formats, nested
    values, an e-mail address) without falling back to the exact path (a guard for speed:
    the bytes would be the same either way)."""
    ts = 1_700_000_000_123_456_789
    events = [
        (
            ts,
            Level.INFO,
            "Processing request {id} for {user}",
            {"id": 1, "user": "bob"},
            None,
            "",
            "main",
        ),
        (ts + 1, Level.WARNING, "Slow {ms:.1f} ms", {"ms": 12.345}, None, "app.db", "t"),
        (ts + 2, Level.ERROR, "Failed {n}", {"n": [1, {"a": None}]}, "Traceback ...", "", ""),
        (ts + 3, Level.DEBUG, "Mail to {to}", {"to": "bob@example.com"}, None, "", ""),
        (ts + 4, Level.INFO, "no properties", {}, None, "", ""),
    ]
    expected = b"".join(ClefFormatter().format_event(LogEvent(*e)) for e in events)

    def refuse(self: ClefFormatter, event: LogEvent) -> bytes:
        raise AssertionError(f"exact path taken for {event!r}")

    def refuse_checks(self: ClefFormatter, out: object, event: object) -> bytes:
        raise AssertionError(f"per-event checks taken for {event!r}")

    monkeypatch.setattr(ClefFormatter, "format_event", refuse)
    monkeypatch.setattr(ClefFormatter, "_checked", refuse_checks)
    assert ClefFormatter().format_batch(events) == expected  # type: ignore[arg-type]
