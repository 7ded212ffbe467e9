"""Supervision decisions: whether a crashed sink restarts or is marked dead.

The runtime owns one :class:`RestartSupervisor` for all its sinks. A sink actor whose sink
crashes (raises something that is not a write failure) asks it :meth:`RestartSupervisor.on_crash`
and performs the answer:

* :class:`Restart`: close the sink, build a new one from the factory, open it, retry the batch
  in flight once;
* :class:`Dead`: stop writing to the sink; its events go to the fallback or the spool.

The policy is restart intensity as in OTP: at most ``restart.max_restarts`` crashes of one sink
within a sliding window of ``restart.window`` seconds; the next crash in the window marks it
dead, and dead is final.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import attrs
import trio

if TYPE_CHECKING:
    from ..config import RestartPolicy


@attrs.frozen
class Restart:
    """Restart the sink.

    Attributes:
        crashes: crashes of this sink within the window, this one included.
    """

    crashes: int


@attrs.frozen
class Dead:
    """Stop restarting the sink: it crashed more often than the policy allows.

    Attributes:
        crashes: crashes of this sink within the window, this one included.
        window: the policy's window, in seconds.
        max_restarts: the policy's restarts allowed within the window.
    """

    crashes: int
    window: float
    max_restarts: int


class Supervised(Protocol):
    """What the supervisor needs to know of an actor: the name of its sink."""

    @property
    def name(self) -> str: ...


class RestartSupervisor:
    """Decides, per sink, whether a crash is followed by a restart (see the module docstring).

    Args:
        policy: the restart intensity.
        clock: the time in seconds (trio's clock by default: the actors run on it).
    """

    def __init__(
        self, policy: RestartPolicy, *, clock: Callable[[], float] = trio.current_time
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._crashes: dict[str, collections.deque[float]] = {}
        self._dead: dict[str, Dead] = {}

    def on_crash(self, actor: Supervised, error: BaseException) -> Restart | Dead:
        """Record a crash of ``actor``'s sink and decide what the actor does next.

        ``error`` is what the sink raised; this policy counts crashes whatever they are.
        """
        dead = self._dead.get(actor.name)
        if dead is not None:
            return dead
        now = self._clock()
        times = self._crashes.setdefault(actor.name, collections.deque())
        times.append(now)
        window = self.policy.window
        while times and now - times[0] > window:
            times.popleft()
        if len(times) > self.policy.max_restarts:
            dead = Dead(len(times), window, self.policy.max_restarts)
            self._dead[actor.name] = dead
            del self._crashes[actor.name]
            return dead
        return Restart(len(times))
