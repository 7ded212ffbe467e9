"""Fixtures for the network sink tests: a private rsyslogd."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..servers import Rsyslog, find_rsyslogd


def _rsyslogd() -> str:
    binary = find_rsyslogd()
    if binary is None:
        message = "rsyslogd is not installed (Debian: apt-get install rsyslog)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must have it (.ci/run installs it)")
        pytest.skip(message)
    return binary


@pytest.fixture(scope="module")
def rsyslog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rsyslog]:
    """One rsyslogd for a test module; tests tell their messages apart by APP-NAME."""
    server = Rsyslog(_rsyslogd(), tmp_path_factory.mktemp("rsyslog"))
    server.check_config()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_rsyslog(tmp_path: Path) -> Iterator[Rsyslog]:
    """An rsyslogd of this test's own (for tests that stop and restart it)."""
    server = Rsyslog(_rsyslogd(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
