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

import attrs

Path = tuple[str | int, ...]


class LogactorsError(Exception):
    """Base class of all logactors exceptions."""


@attrs.frozen
class Problem:
    """One problem of a configuration: where (``path``) and what (``message``).

    Attributes:
        path: field names and list indexes from the object that was validated down to the
            value at fault, e.g. ``("sinks", 1, "queue", "max_events")``; empty for a problem of
            the whole object or file.
        message: what is wrong, e.g. ``"must be > 0 (got -1)"``.
    """

    path: Path
    message: str

    def under(self, *prefix: str | int) -> Problem:
        """The same problem seen from the object that holds this one at ``prefix``."""
        return Problem((*prefix, *self.path), self.message)

    @property
    def location(self) -> str:
        """The path as written in messages: ``sinks[1].queue.max_events``."""
        out = ""
        for part in self.path:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}" if out else part
        return out

    def __str__(self) -> str:
        location = self.location
        return f"{location}: {self.message}" if location else self.message


class ConfigError(LogactorsError, ValueError):
    """The configuration is invalid.

    Attributes:
        details: every problem found, as :class:`Problem` objects (path and message).
        problems: the same, each as the string ``"<field path>: <what is wrong>"``, e.g.
            ``"sinks[1].queue.max_events: must be > 0 (got -1)"``.
    """

    def __init__(self, problems: str | Problem | Iterable[str | Problem]) -> None:
        items = [problems] if isinstance(problems, str | Problem) else list(problems)
        self.details: list[Problem] = [
            p if isinstance(p, Problem) else Problem((), p) for p in items
        ]
        self.problems: list[str] = [str(p) for p in self.details]
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
