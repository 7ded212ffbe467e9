"""pytest plugin (entry point ``pytest11``): the ``log_capture`` fixture.

::

    async def test_greets(log_capture):
        await greet(log_capture.log)
        log_capture.assert_logged("info", "Hello {name}", name="ada")

The fixture is async (pytest-trio runs it); the logger is also the active one for
``logactors.get_logger`` proxies during the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .testing import Capture, capture


@pytest.fixture
async def log_capture() -> AsyncIterator[Capture]:
    """A :class:`logactors.testing.Capture` at trace level for the test's duration."""
    async with capture("trace") as cap:
        yield cap
