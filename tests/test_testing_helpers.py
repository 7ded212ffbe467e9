"""The testing helpers (capture, the log_capture fixture) and the configuration presets."""

from __future__ import annotations

import pytest

import logactors
from logactors import ConsoleSink, FileSink, Level, MemorySink, SupervisorConfig
from logactors.testing import Capture


async def test_log_capture_fixture_comes_from_the_plugin(log_capture: Capture) -> None:
    """The pytest11 plugin provides log_capture; events are there as soon as the call returns."""
    log_capture.log.info("Hello {name}", name="ada")
    log_capture.log.debug("details", step=2)
    assert log_capture.events[0].rendered == "Hello ada"
    log_capture.assert_logged("info", "Hello {name}", name="ada")
    log_capture.assert_logged(Level.DEBUG, count=1)
    log_capture.assert_not_logged("error")
    assert log_capture.messages() == ["Hello ada", "details"]
    assert log_capture.levels() == ["info", "debug"]


async def test_assert_logged_failure_lists_what_was_captured(log_capture: Capture) -> None:
    """A failed assertion says what it wanted and shows the captured events."""
    log_capture.log.warning("disk {pct}%", pct=93)
    with pytest.raises(AssertionError) as info:
        log_capture.assert_logged("error", "disk {pct}%")
    assert "found 0" in str(info.value)
    assert "disk {pct}%" in str(info.value)
    with pytest.raises(AssertionError):
        log_capture.assert_not_logged("warning")
    with pytest.raises(AssertionError):
        log_capture.assert_logged("warning", count=2)


async def test_fixture_logger_is_active_for_module_proxies(log_capture: Capture) -> None:
    """Code using get_logger() is captured too."""
    logactors.get_logger("app.payments").error("refused {id}", id=7)
    (event,) = log_capture.find("error", logger="app.payments", id=7)
    assert event.rendered == "refused 7"
    log_capture.clear()
    assert log_capture.events == []


def test_presets() -> None:
    """development / production / testing presets, with overrides."""
    dev = SupervisorConfig.preset("development")
    assert dev.min_level == Level.DEBUG
    assert isinstance(dev.sinks[0], ConsoleSink)
    prod = SupervisorConfig.preset("production", min_level="warning")
    assert prod.min_level == Level.WARNING
    console, file = prod.sinks
    assert isinstance(console, ConsoleSink) and console.format == "clef"
    assert isinstance(file, FileSink) and file.rolling == "daily" and file.format == "clef"
    assert file.queue.overflow == "drop_oldest" and file.queue.never_drop_level == Level.ERROR
    assert prod.redact is not None
    testing = SupervisorConfig.preset("testing")
    assert isinstance(testing.sinks[0], MemorySink)
    assert testing.min_level == Level.TRACE
    with pytest.raises(logactors.ConfigError):
        SupervisorConfig.preset("staging")  # type: ignore[arg-type]


async def test_testing_preset_memory_sink_is_readable() -> None:
    """With the testing preset, the memory sink's events are reachable through log.sink()."""
    async with logactors.open_logger(SupervisorConfig.preset("testing")) as log:
        log.trace("fine detail")
        await log.flush()
        events = list(log.sink("memory").events)  # type: ignore[attr-defined]
    assert [e.template for e in events] == ["fine detail"]
