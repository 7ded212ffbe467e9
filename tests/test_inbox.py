"""The bounded inbox: overflow policies, never_drop_level, byte cap, flush bookkeeping."""

from __future__ import annotations

import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

import logactors
from logactors import CustomSink, Level, LogEvent, QueueConfig, SupervisorConfig
from logactors._core.inbox import Inbox
from logactors.metrics import Counters

from .helpers import GateSink, assert_balanced


def event(n: int, level: Level = Level.INFO) -> LogEvent:
    return LogEvent(n, level, "e{n}", {"n": n})


def fill(inbox: Inbox, levels: list[Level], size: int = 100) -> None:
    for n, level in enumerate(levels):
        inbox.put_nowait(event(n, level), level, size)


def queued(inbox: Inbox) -> list[int]:
    return [e.properties["n"] for e in inbox._events]


def test_drop_oldest_evicts_oldest_below_never_drop_level() -> None:
    """A full drop_oldest queue evicts the oldest event below never_drop_level."""
    counters = Counters()
    inbox = Inbox(QueueConfig(max_events=3, overflow="drop_oldest"), counters)
    fill(inbox, [Level.ERROR, Level.INFO, Level.INFO, Level.DEBUG, Level.INFO])
    assert queued(inbox) == [0, 3, 4]
    assert counters.accepted == 5 and counters.dropped == 2
    assert inbox.take_drop_notice() == {Level.INFO: 2}


def test_drop_newest_drops_new_low_events_but_admits_protected_ones() -> None:
    """drop_newest drops the newcomer unless it is protected; then a lower one is evicted."""
    counters = Counters()
    inbox = Inbox(QueueConfig(max_events=2, overflow="drop_newest"), counters)
    fill(inbox, [Level.INFO, Level.INFO, Level.INFO, Level.ERROR])
    assert queued(inbox) == [1, 3]
    assert counters.dropped == 2


def test_protected_events_pass_the_soft_bound_until_the_byte_cap() -> None:
    """Errors are admitted past max_events while there is nothing lower to evict."""
    counters = Counters()
    inbox = Inbox(QueueConfig(max_events=2, max_bytes=1000, overflow="drop_oldest"), counters)
    fill(inbox, [Level.ERROR] * 5, size=150)
    assert queued(inbox) == [0, 1, 2, 3, 4]
    assert counters.dropped == 0
    # At the hard cap (1000 bytes), the oldest protected event goes.
    fill(inbox, [Level.CRITICAL] * 3, size=150)
    assert inbox.bytes <= 1000
    assert counters.dropped == 2
    assert len(inbox) == 6


def test_a_low_event_never_evicts_a_protected_one() -> None:
    """When only protected events are queued, a new low event is the one dropped."""
    counters = Counters()
    inbox = Inbox(QueueConfig(max_events=2, overflow="drop_oldest"), counters)
    fill(inbox, [Level.ERROR, Level.ERROR, Level.INFO])
    assert queued(inbox) == [0, 1]
    assert counters.dropped == 1


def test_eviction_skips_protected_prefix_efficiently() -> None:
    """Evicting behind a long run of protected events stays correct (skip hint)."""
    counters = Counters()
    inbox = Inbox(QueueConfig(max_events=1000, overflow="drop_oldest"), counters)
    fill(inbox, [Level.ERROR] * 990 + [Level.INFO] * 10)
    for n in range(1000, 1100):
        inbox.put_nowait(event(n, Level.INFO), Level.INFO, 100)
    assert len(inbox) == 1000
    assert queued(inbox)[:990] == list(range(990))
    assert queued(inbox)[990:] == list(range(1090, 1100))
    assert counters.dropped == 100


def test_block_on_trio_thread_admits_up_to_byte_cap_then_drops() -> None:
    """overflow=block: plain calls go past max_events up to the hard cap, then count drops."""
    counters = Counters()
    inbox = Inbox(QueueConfig(max_events=2, max_bytes=500, overflow="block"), counters)
    fill(inbox, [Level.INFO] * 7, size=100)
    assert len(inbox) == 5
    assert counters.dropped == 2


def test_byte_cap_applies_to_low_events_with_room_in_count() -> None:
    """A queue over its byte cap evicts by bytes even below max_events."""
    counters = Counters()
    inbox = Inbox(QueueConfig(max_events=100, max_bytes=300, overflow="drop_oldest"), counters)
    fill(inbox, [Level.INFO] * 5, size=100)
    assert queued(inbox) == [2, 3, 4]
    assert inbox.bytes == 300


async def test_flush_counts_evicted_events_as_left() -> None:
    """Flush targets are met by events leaving in any way, evictions included."""
    counters = Counters()
    inbox = Inbox(QueueConfig(max_events=2, overflow="drop_oldest"), counters)
    fill(inbox, [Level.INFO] * 2)
    done = inbox.request_flush()
    fill(inbox, [Level.INFO] * 2)  # evicts the two earlier ones
    assert inbox.flush_due
    inbox.release_due_flushes()
    assert done.is_set()


async def test_overflow_through_the_logger_counts_and_notifies(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With a stalled sink, drops are counted and the sink later gets an 'N dropped' notice."""
    sink = GateSink()
    config = SupervisorConfig(
        min_level="debug",
        sinks=[
            CustomSink(
                name="gated",
                sink=sink,
                queue=QueueConfig(max_events=10, overflow="drop_oldest"),
                batch=logactors.BatchConfig(max_events=5, max_delay=0),
            )
        ],
    )
    async with logactors.open_logger(config) as log:
        log.info("first")
        await trio.testing.wait_all_tasks_blocked()  # the actor holds "first" at the gate
        for i in range(30):
            log.debug("filler {i}", i=i)
        log.error("important")
        metrics = log.metrics().sinks["gated"]
        assert metrics.dropped == 21
        assert metrics.queue_depth == 11  # 10 queued + 1 in flight
        assert_balanced(metrics, "gated")
        sink.release()
        await log.flush()
        metrics = log.metrics().sinks["gated"]
    assert_balanced(metrics, "gated")
    templates = sink.templates()
    assert templates[0] == "first"
    assert templates[1] == "{dropped} events dropped ({levels})"
    assert sink.events[1].properties["dropped"] == 21
    assert templates[-1] == "important"
    assert metrics.written == 11  # the notice counts nowhere
    assert [e.properties["i"] for e in sink.events[2:-1]] == list(range(21, 30))


async def test_never_drop_level_keeps_errors_through_a_flood(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Errors survive a flood of lower events when the queue is full."""
    sink = GateSink()
    config = SupervisorConfig(
        min_level="debug",
        sinks=[
            CustomSink(
                name="gated",
                sink=sink,
                queue=QueueConfig(
                    max_events=50, overflow="drop_oldest", never_drop_level="warning"
                ),
                batch=logactors.BatchConfig(max_events=100, max_delay=0),
            )
        ],
    )
    async with logactors.open_logger(config) as log:
        log.info("hold")
        await trio.testing.wait_all_tasks_blocked()
        for i in range(1000):
            if i % 100 == 0:
                log.warning("warn {i}", i=i)
            else:
                log.debug("noise {i}", i=i)
        sink.release()
        await log.flush()
    warnings = [
        e.properties["i"]
        for e in sink.events
        if e.level == Level.WARNING and e.logger != "logactors"
    ]
    assert warnings == list(range(0, 1000, 100))


def test_take_part_of_the_queue_keeps_order_and_bytes() -> None:
    """Taking fewer events than are queued (a small part or most of the queue, with and
    without a byte limit) returns the oldest in order, leaves the rest in order, and moves
    exactly their bytes; the queue then goes on as before (puts, eviction, the next take)."""
    for count in (4, 7):
        for max_bytes in (None, 10**9):
            inbox = Inbox(QueueConfig(max_events=12, overflow="drop_oldest"), Counters())
            for n in range(10):
                inbox.put_nowait(event(n), Level.INFO, 1000 + n)
            total = inbox.bytes
            batch = inbox.take(count, max_bytes)
            assert [e.properties["n"] for e in batch] == list(range(count))
            assert queued(inbox) == list(range(count, 10))
            assert inbox.bytes == total - sum(1000 + n for n in range(count))
            assert inbox.in_flight == count
            for n in range(10, 14 + count):  # two more than it holds: the oldest two go
                inbox.put_nowait(event(n), Level.INFO, 1000 + n)
            left = list(range(count + 2, 14 + count))
            assert queued(inbox) == left
            assert inbox.bytes == sum(1000 + n for n in left)
            assert [e.properties["n"] for e in inbox.take(100, max_bytes)] == left
            assert inbox.bytes == 0


@given(
    st.lists(st.integers(300, 2_000), max_size=6),
    st.integers(0, 6),
    st.integers(0, 6_000),
    st.integers(300, 5_000),
)
def test_admits_after_counts_what_is_on_its_way_against_both_bounds(
    queued_sizes: list[int], ahead: int, ahead_bytes: int, size: int
) -> None:
    """Property: one more event fits behind ``ahead`` events on their way (a thread's
    hand-off) when the queue with them stays under ``max_events`` and its bytes with them and
    the new event within the byte cap; an empty queue with nothing ahead admits any size."""
    inbox = Inbox(QueueConfig(max_events=8, max_bytes=8_000), Counters())
    for n, queued_size in enumerate(queued_sizes):
        inbox.put_nowait(event(n), Level.INFO, queued_size)
    count = len(inbox) + ahead
    expected = count == 0 or (
        count < inbox.max_events and inbox.bytes + ahead_bytes + size <= inbox.hard_cap
    )
    assert inbox.admits_after(ahead, ahead_bytes, size) is expected
