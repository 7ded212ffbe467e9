"""Per-sink circuit breaker, timed on trio's clock (so tests can use the autojump clock).

closed ──(failure_threshold consecutive failed batches)──► open
open ──(reset_timeout elapses, on its own)──► half_open
half_open ──(one good batch)──► closed      half_open ──(a failure)──► open
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from ..config import BreakerConfig
    from ..metrics import CircuitState


class CircuitBreaker:
    """State machine of one sink's breaker; ``report`` receives transition messages."""

    __slots__ = ("_config", "_report", "failures", "opened_at", "state")

    def __init__(self, config: BreakerConfig | None, report: Callable[[str], None]) -> None:
        self._config = config
        self._report = report
        self.state: CircuitState = "closed"
        self.failures = 0
        self.opened_at = -math.inf

    @property
    def reopen_at(self) -> float:
        """When an open breaker turns half-open (``inf`` when not open)."""
        if self.state != "open" or self._config is None:
            return math.inf
        return self.opened_at + self._config.reset_timeout

    @property
    def current_state(self) -> CircuitState:
        """The state as of now (an open breaker past ``reset_timeout`` reads half-open)."""
        if self.state == "open" and trio.current_time() >= self.reopen_at:
            return "half_open"
        return self.state

    def poll(self) -> None:
        """Move open → half-open once ``reset_timeout`` has passed."""
        if self.state == "open" and trio.current_time() >= self.reopen_at:
            self.state = "half_open"
            self._report("circuit half-open: probing with the next batch")

    def allows_write(self) -> bool:
        """Whether a write may be attempted now (closed, or half-open for the probe)."""
        self.poll()
        return self.state != "open"

    def success(self) -> None:
        """A batch was written."""
        self.failures = 0
        if self.state != "closed":
            self.state = "closed"
            self._report("circuit closed: the sink recovered")

    def failure(self) -> None:
        """A batch failed (after its retries, or permanently)."""
        if self._config is None:
            return
        self.failures += 1
        if self.state == "half_open" or (
            self.state == "closed" and self.failures >= self._config.failure_threshold
        ):
            self.state = "open"
            self.opened_at = trio.current_time()
            self._report(
                f"circuit open after {self.failures} consecutive failed batches; "
                f"retrying in {self._config.reset_timeout:g}s"
            )
