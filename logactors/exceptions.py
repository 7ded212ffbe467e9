"""Exceptions raised by logactors.

::

    Exception
     └── LogactorsError                 base of everything logactors raises
          ├── ConfigError (ValueError)  invalid configuration; lists every problem with its path
          ├── LoggerClosedError         an awaiting ``a*`` call after the logger closed
          └── SinkError                 raised *by a sink* to report a failed write
                                        (``permanent=True``: do not retry)

Plain logging calls (``log.info`` …) never raise: after close they count the event as dropped.
A sink reports a failed write by raising :class:`OSError` or :class:`SinkError`; anything else
from a sink is treated as a bug (the actor is restarted).
"""

from __future__ import annotations

from collections.abc import Iterable


class LogactorsError(Exception):
    """Base class of all logactors exceptions."""


class ConfigError(LogactorsError, ValueError):
    """The configuration is invalid.

    Attributes:
        problems: every problem found, each ``"<field path>: <what is wrong>"``, e.g.
            ``"sinks[1].queue.max_events: must be > 0 (got -1)"``.
    """

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = f"invalid configuration: {self.problems[0]}"
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"invalid configuration ({len(self.problems)} problems):\n{lines}"
        super().__init__(message)


class LoggerClosedError(LogactorsError):
    """An awaiting logging call (``ainfo`` …) was made after the logger shut down."""


class SinkError(LogactorsError):
    """Raised by a sink's ``write_batch`` to report a failed write.

    Args:
        message: what went wrong (goes to the self-log).
        permanent: the write can never succeed (e.g. HTTP 400): do not retry; the batch goes to
            the fallback sink, or counts as failed (never to the spool).
        retry_after: wait at least this long before the next attempt.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        #: the peer asked to wait this many seconds before retrying (e.g. HTTP ``Retry-After``)
        self.retry_after = retry_after
