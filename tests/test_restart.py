"""The restart supervisor: restart intensity per sink, and the actors doing what it decides."""

from __future__ import annotations

from typing import Any

import attrs
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

import logactors
from logactors import BatchConfig, CustomSink, RestartPolicy, RetryConfig, SupervisorConfig
from logactors._core.restart import Dead, Restart, RestartSupervisor

from .helpers import RecordingSink, ScriptedSink, assert_all_balanced


@attrs.frozen
class _Actor:
    name: str


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _supervisor(max_restarts: int, window: float) -> tuple[RestartSupervisor, _Clock]:
    clock = _Clock()
    policy = RestartPolicy(max_restarts=max_restarts, window=window)
    return RestartSupervisor(policy, clock=clock), clock


def _crash_at(
    supervisor: RestartSupervisor, clock: _Clock, when: float, name: str = "s"
) -> Restart | Dead:
    clock.now = when
    return supervisor.on_crash(_Actor(name), RuntimeError("bug"))


def test_restarts_up_to_max_restarts_then_dead() -> None:
    """Within the window, max_restarts crashes restart the sink; the next one marks it dead."""
    supervisor, clock = _supervisor(max_restarts=2, window=60)
    decisions = [_crash_at(supervisor, clock, t) for t in (0, 1, 2)]
    assert decisions == [Restart(1), Restart(2), Dead(3, 60.0, 2)]


def test_max_restarts_zero_first_crash_is_dead() -> None:
    """``max_restarts=0``: the first crash marks the sink dead."""
    supervisor, clock = _supervisor(max_restarts=0, window=60)
    assert _crash_at(supervisor, clock, 5) == Dead(1, 60.0, 0)


def test_window_slides() -> None:
    """Crashes older than the window no longer count; one exactly ``window`` ago still does."""
    supervisor, clock = _supervisor(max_restarts=1, window=10)
    assert _crash_at(supervisor, clock, 0) == Restart(1)
    assert _crash_at(supervisor, clock, 10.5) == Restart(1)  # the crash at 0 left the window
    assert _crash_at(supervisor, clock, 20.5) == Dead(2, 10.0, 1)  # 10.5 is exactly 10 s ago


def test_dead_is_final() -> None:
    """Once dead, a sink stays dead, however long after the window."""
    supervisor, clock = _supervisor(max_restarts=0, window=1)
    dead = _crash_at(supervisor, clock, 0)
    assert isinstance(dead, Dead)
    assert _crash_at(supervisor, clock, 1000) == dead


def test_crashes_are_counted_per_sink() -> None:
    """One sink's crashes never count against another."""
    supervisor, clock = _supervisor(max_restarts=1, window=60)
    assert _crash_at(supervisor, clock, 0, "a") == Restart(1)
    assert _crash_at(supervisor, clock, 1, "b") == Restart(1)
    assert _crash_at(supervisor, clock, 2, "a") == Dead(2, 60.0, 1)
    assert _crash_at(supervisor, clock, 3, "b") == Dead(2, 60.0, 1)


@given(
    max_restarts=st.integers(0, 5),
    window=st.floats(0.5, 50),
    gaps=st.lists(st.floats(0, 30), max_size=30),
)
def test_decisions_match_the_intensity_rule(
    max_restarts: int, window: float, gaps: list[float]
) -> None:
    """Each crash restarts the sink while the crashes within the window (this one included)
    are at most ``max_restarts``; the first one past that marks it dead for good."""
    supervisor, clock = _supervisor(max_restarts, window)
    times: list[float] = []
    now = 0.0
    dead = False
    for gap in gaps:
        now += gap
        times.append(now)
        decision = _crash_at(supervisor, clock, now)
        recent = sum(1 for t in times if now - t <= window)
        if dead or recent > max_restarts:
            assert isinstance(decision, Dead)
            dead = True
        else:
            assert decision == Restart(recent)


# -- the actors do what it decides -----------------------------------------------------------


def _config(*sinks: CustomSink, **kwargs: Any) -> SupervisorConfig:
    return SupervisorConfig(min_level="trace", sinks=sinks, self_log="off", **kwargs)


def _sink(name: str, obj: Any, **kwargs: Any) -> CustomSink:
    retry = RetryConfig(attempts=1, initial_backoff=0.1, max_backoff=5.0, jitter=0)
    batch = BatchConfig(max_events=1, max_delay=0)
    return CustomSink(name=name, sink=obj, retry=retry, batch=batch, **kwargs)


async def test_crashes_spaced_wider_than_the_window_keep_restarting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A sink crashing once per window restarts every time, while another sink of the same
    logger counts its own crashes."""
    spaced = ScriptedSink(["crash", "ok"] * 3)
    other = ScriptedSink(["crash"])
    async with logactors.open_logger(
        _config(
            _sink("spaced", spaced),
            _sink("other", other),
            restart=RestartPolicy(max_restarts=1, window=10),
        )
    ) as log:
        for i in range(3):
            log.info("e{i}", i=i)
            await log.flush()
            await trio.sleep(11)
        metrics = log.metrics()
    assert spaced.values("i") == [0, 1, 2]
    assert (metrics.sinks["spaced"].restarts, metrics.sinks["spaced"].dead) == (3, False)
    assert (metrics.sinks["other"].restarts, metrics.sinks["other"].dead) == (1, False)
    assert_all_balanced(metrics)


async def test_crashes_within_the_window_mark_the_sink_dead(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The second crash within the window (``max_restarts=1``) marks the sink dead: the batch
    in flight and what follows go to the fallback."""
    target = ScriptedSink(["crash", "ok", "crash"])
    fallback = RecordingSink()
    async with logactors.open_logger(
        _config(
            _sink("s", target, fallback="fb"),
            _sink("fb", fallback, min_level="off"),
            restart=RestartPolicy(max_restarts=1, window=10),
        )
    ) as log:
        for i in range(3):
            log.info("e{i}", i=i)
            await log.flush()
            await trio.sleep(5)
        metrics = log.metrics()
    m = metrics.sinks["s"]
    assert target.values("i") == [0]
    assert fallback.values("i") == [1, 2]
    assert (m.restarts, m.dead, m.written, m.rerouted) == (1, True, 1, 2)
    assert_all_balanced(metrics)
