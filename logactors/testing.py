"""Testing helpers: capture what code logs and assert on it.

::

    async with logactors.testing.capture() as cap:
        cap.log.info("Hello {name}", name="ada")
        assert cap.events[0].properties == {"name": "ada"}
        cap.assert_logged("info", "Hello {name}", name="ada")

``cap.events`` is complete as soon as a logging call on the trio thread returns: the capture
sink is written synchronously, at the call. While the capture is open it is also the active
logger for ``logactors.get_logger(...)`` proxies. The pytest plugin offers the same as the
``log_capture`` fixture.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs

from ._core.router import SyncCapture
from ._core.runtime import Runtime, _supervised, coerce_config
from ._events import LogEvent
from ._levels import Level, parse_level
from ._logger import Logger
from .config import SupervisorConfig

__all__ = ["Capture", "capture"]


@attrs.define(eq=False)
class Capture:
    """What :func:`capture` yields: the logger and the events it captured."""

    log: Logger
    _sink: SyncCapture

    @property
    def events(self) -> list[LogEvent]:
        """Every event logged so far, in order."""
        return self._sink.events

    def clear(self) -> None:
        """Forget the events captured so far."""
        self._sink.events.clear()

    def find(
        self,
        level: object | None = None,
        template: str | None = None,
        *,
        logger: str | None = None,
        **properties: object,
    ) -> list[LogEvent]:
        """Events matching every given criterion (properties compared by equality)."""
        number = parse_level(level) if level is not None else None
        return [
            e
            for e in self.events
            if (number is None or e.level == number)
            and (template is None or e.template == template)
            and (logger is None or e.logger == logger)
            and all(k in e.properties and e.properties[k] == v for k, v in properties.items())
        ]

    def assert_logged(
        self,
        level: object | None = None,
        template: str | None = None,
        *,
        count: int | None = None,
        logger: str | None = None,
        **properties: object,
    ) -> list[LogEvent]:
        """Assert that matching events were logged (exactly ``count`` of them, if given).

        Raises:
            AssertionError: listing what was captured instead.
        """
        found = self.find(level, template, logger=logger, **properties)
        if (count is None and not found) or (count is not None and len(found) != count):
            wanted = {"level": level, "template": template, "logger": logger, **properties}
            shown = "\n".join(f"  {e!r}" for e in self.events[-20:]) or "  (nothing)"
            expected = f"{count} event(s)" if count is not None else "an event"
            raise AssertionError(
                f"expected {expected} matching {wanted}, found {len(found)}; captured:\n{shown}"
            )
        return found

    def assert_not_logged(
        self, level: object | None = None, template: str | None = None, **properties: object
    ) -> None:
        """Assert that no matching event was logged."""
        found = self.find(level, template, logger=None, **properties)
        if found:
            shown = "\n".join(f"  {e!r}" for e in found[:20])
            raise AssertionError(f"expected no event matching, found {len(found)}:\n{shown}")

    def messages(self) -> list[str]:
        """The rendered messages, in order."""
        return [e.rendered for e in self.events]

    def levels(self) -> Sequence[str]:
        """The level names, in order."""
        return [e.level.name.lower() for e in self.events]


@asynccontextmanager
async def capture(
    min_level: object = "trace",
    config: SupervisorConfig | Mapping[str, Any] | None = None,
) -> AsyncIterator[Capture]:
    """Open a logger whose events are captured in memory (see the module docstring).

    Args:
        min_level: the logger's gate.
        config: extra configuration (its sinks run too, beside the capture; by default none).
    """
    base = coerce_config(config) if config is not None else SupervisorConfig(sinks=())
    level = parse_level(min_level)
    base = attrs.evolve(base, min_level=level)
    sink = SyncCapture("capture", Level.TRACE)  # everything that passes the logger's gate
    runtime = Runtime(base, captures=(sink,))
    async with _supervised(runtime) as log:
        yield Capture(log, sink)
