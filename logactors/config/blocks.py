"""Building blocks of a sink's configuration: queue, batching, breaker, retry, spool, filters.

These are parts: building one never raises; the sink or ``SupervisorConfig`` that holds one
reports its problems under its path (``sinks[0].queue.max_events: must be > 0 (got -1)``), and
``check()`` raises for one used on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from .._levels import Level
from .validate import (
    EMPTY,
    Checked,
    _Problems,
    _show,
    _to_duration,
    _to_mapping,
    _to_optional_level,
    _to_optional_size,
    _to_path,
    _to_sink_level,
    _to_size,
    _to_tuple,
)
from .validate import MIB as _MIB


@attrs.frozen(kw_only=True)
class QueueConfig(Checked):
    """A sink's inbox: its bound, and what a full inbox does to a non-blocking call.

    Attributes:
        max_events: soft bound on queued events; past it the ``overflow`` policy applies.
        max_bytes: hard cap on the estimated memory of the queue (64 MiB when ``None``).
        overflow: ``"drop_oldest"`` (evict the oldest lower-level event), ``"drop_newest"``
            (drop the new event) or ``"block"`` (wait for room where waiting is possible).
        never_drop_level: events at or above this level are never dropped for overflow below
            the hard cap; lower events are evicted first.
        block_timeout: with ``"block"``, how long a call from a plain thread waits for room.
    """

    max_events: int = 10_000
    max_bytes: int | None = attrs.field(default=None, converter=_to_optional_size)
    overflow: Literal["drop_oldest", "drop_newest", "block"] = "drop_oldest"
    never_drop_level: int = attrs.field(default=Level.ERROR, converter=_to_sink_level)
    block_timeout: float = attrs.field(default=1.0, converter=_to_duration)

    def _check(self, p: _Problems) -> None:
        p.positive_int("max_events", self.max_events)
        p.size("max_bytes", self.max_bytes, optional=True)
        p.choice("overflow")
        p.level("never_drop_level", self.never_drop_level, allow_off=True)
        p.number("block_timeout", self.block_timeout)

    @property
    def hard_cap_bytes(self) -> int:
        """The memory cap that applies (``max_bytes``, or 64 MiB when unset)."""
        return self.max_bytes if self.max_bytes is not None else 64 * _MIB


@attrs.frozen(kw_only=True)
class BatchConfig(Checked):
    """How a sink actor groups events: up to ``max_events`` or ``max_delay`` seconds after the
    first one, whichever comes first; ``max_bytes`` also caps a batch's estimated size.

    Attributes:
        max_events: most events in one batch (one ``write_batch`` call).
        max_delay: seconds to wait for more events after the first one before writing a partial
            batch (``0``: write what is queued at once).
        max_bytes: cap on a batch's estimated size in bytes (``None``: no cap).
    """

    max_events: int = 512
    max_delay: float = attrs.field(default=0.2, converter=_to_duration)
    max_bytes: int | None = attrs.field(default=None, converter=_to_optional_size)

    def _check(self, p: _Problems) -> None:
        p.positive_int("max_events", self.max_events)
        p.number("max_delay", self.max_delay)
        p.size("max_bytes", self.max_bytes, optional=True)


@attrs.frozen(kw_only=True)
class BreakerConfig(Checked):
    """Circuit breaker: open after ``failure_threshold`` consecutive failed batches, half-open
    ``reset_timeout`` seconds later, closed again after one good batch.

    Attributes:
        failure_threshold: consecutive failed batches (each after its retries) that open the
            breaker.
        reset_timeout: seconds an open breaker waits before it turns half-open on its own.
    """

    failure_threshold: int = 5
    reset_timeout: float = attrs.field(default=5.0, converter=_to_duration)

    def _check(self, p: _Problems) -> None:
        p.positive_int("failure_threshold", self.failure_threshold)
        p.number("reset_timeout", self.reset_timeout)


@attrs.frozen(kw_only=True)
class RetryConfig(Checked):
    """Retries of a failed batch: ``attempts`` tries in total (1 means no retry), with capped
    exponential backoff from ``initial_backoff`` up to ``max_backoff`` and ``jitter`` (a
    fraction of the delay, drawn uniformly).

    Attributes:
        attempts: tries per batch in total (``1``: no retry).
        initial_backoff: seconds before the second try; doubled for each further try.
        max_backoff: cap on the delay between tries (a peer's ``retry_after`` may ask for more,
            honoured up to 30 s).
        jitter: fraction of each delay added or removed at random (``0.1``: ±10%).
    """

    attempts: int = 3
    initial_backoff: float = attrs.field(default=0.1, converter=_to_duration)
    max_backoff: float = attrs.field(default=5.0, converter=_to_duration)
    jitter: float = 0.1

    def _check(self, p: _Problems) -> None:
        p.positive_int("attempts", self.attempts)
        p.number("initial_backoff", self.initial_backoff)
        p.number("max_backoff", self.max_backoff)
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, int | float):
            p.add("jitter", f"must be a number between 0 and 1 (got {self.jitter!r})")
        elif not 0 <= self.jitter <= 1:
            p.add("jitter", f"must be between 0 and 1 (got {self.jitter})")


@attrs.frozen(kw_only=True)
class SpoolConfig(Checked):
    """An on-disk store for events a sink could not write, replayed when it recovers.

    Attributes:
        path: the spool file (its directory is created; a ``.cursor`` file sits beside it).
        max_bytes: bound on the spool's live records; the oldest are dropped (and counted).
        fsync: ``fsync`` after each append (survives power loss, not only process crashes).
        file_mode: permission bits of the spool and cursor files the spool creates (whatever
            the umask; existing files keep theirs).
    """

    path: str = attrs.field(converter=_to_path)
    max_bytes: int = attrs.field(default=256 * _MIB, converter=_to_size)
    fsync: bool = False
    file_mode: int = 0o640

    def _check(self, p: _Problems) -> None:
        p.string("path", self.path)
        p.size("max_bytes", self.max_bytes)
        p.booleans()
        p.file_mode("file_mode", self.file_mode)


@attrs.frozen(kw_only=True)
class FilterConfig(Checked):
    """A declarative filter: an event matches when every given condition holds.

    Attributes:
        min_level / max_level: inclusive level range.
        logger: logger-name prefix (``"app.db"`` matches ``app.db`` and ``app.db.pool``).
        properties: property values the event must carry (equality).
        exclude: reject matching events instead of keeping only them.
    """

    min_level: int | None = attrs.field(default=None, converter=_to_optional_level)
    max_level: int | None = attrs.field(default=None, converter=_to_optional_level)
    logger: str | None = None
    properties: Mapping[str, object] = attrs.field(default=EMPTY, converter=_to_mapping)
    exclude: bool = False

    def _check(self, p: _Problems) -> None:
        if self.min_level is not None:
            p.level("min_level", self.min_level)
        if self.max_level is not None:
            p.level("max_level", self.max_level)
        if self.logger is not None:
            p.string("logger", self.logger, empty=True)
        if not isinstance(self.properties, Mapping):
            p.add(
                "properties", f"must be a table of property values (got {_show(self.properties)})"
            )
        p.booleans()


def _to_filters(value: Any) -> Any:
    """A list of filters as a tuple (the class that holds it converts its tables)."""
    return _to_tuple(value)
