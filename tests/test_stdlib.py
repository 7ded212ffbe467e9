"""The stdlib logging bridge: LogactorsHandler and capture_stdlib."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import trio

import logactors
from logactors import CustomSink, Level, LogEvent, SupervisorConfig
from logactors.stdlib import LogactorsHandler
from logactors.testing import capture

from .helpers import RecordingSink


async def test_record_fields_arrive_as_properties() -> None:
    """Name, mapped level, rendered message, %-format and args, extra, thread, location."""
    async with capture() as cap:
        with cap.log.capture_stdlib("debug"):
            lib = logging.getLogger("httpx.client")
            lib.info("GET %s -> %d", "/api", 200, extra={"request_id": "r-9"})
            lib.debug("braces {not} a template")
            lib.log(25, "between levels")
    get, braces, between = cap.events
    assert get.logger == "httpx.client"
    assert get.level is Level.INFO
    assert get.rendered == "GET /api -> 200"
    assert get.template == "GET /api -> 200"
    props = get.properties
    assert props["msg"] == "GET %s -> %d"
    assert props["args"] == ("/api", 200)
    assert props["request_id"] == "r-9"
    assert props["thread"] == threading.current_thread().name
    assert props["func"] == "test_record_fields_arrive_as_properties"
    assert props["pathname"].endswith("test_stdlib.py")
    assert isinstance(props["line"], int)
    assert braces.rendered == "braces {not} a template"
    assert braces.level is Level.DEBUG
    assert between.level is Level.INFO


async def test_exc_info_becomes_the_event_exception() -> None:
    """logger.exception() carries its traceback into the event."""
    async with capture() as cap:
        with cap.log.capture_stdlib():
            try:
                {}["missing"]
            except KeyError:
                logging.getLogger("lib").exception("lookup failed")
    (event,) = cap.events
    assert event.level is Level.ERROR
    assert event.exception is not None
    assert "KeyError: 'missing'" in event.exception


async def test_capture_stdlib_installs_and_restores_root() -> None:
    """The root logger's level and handlers are replaced while active and restored after."""
    root = logging.getLogger()
    old_handlers = root.handlers[:]
    old_level = root.level
    async with capture() as cap:
        with cap.log.capture_stdlib("warning") as handler:
            assert root.handlers == [handler]
            assert root.level == logging.WARNING
            logging.getLogger("quiet").info("below the captured level")
            logging.getLogger("loud").warning("kept")
        logging.getLogger("after").warning("not captured")
    assert root.handlers == old_handlers
    assert root.level == old_level
    assert [e.rendered for e in cap.events] == ["kept"]


async def test_records_from_threads_arrive_in_order() -> None:
    """A stdlib logger used from a worker thread reaches the sinks, in order."""
    async with capture() as cap:
        with cap.log.capture_stdlib():

            def work() -> None:
                for i in range(50):
                    logging.getLogger("worker").info("item %d", i)

            await trio.to_thread.run_sync(work)
            await cap.log.flush()
    assert [e.properties["args"][0] for e in cap.events] == list(range(50))


class ChattySink(RecordingSink):
    """Logs through stdlib while writing, on the trio thread and in a worker thread, like an
    HTTP client logging its own requests."""

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        logging.getLogger("httpx").info("HTTP Request: POST %s", "/ingest")
        await trio.to_thread.run_sync(lambda: logging.getLogger("urllib3").info("pool"))
        return await super().write_batch(events)


async def test_records_from_inside_a_sink_go_to_the_self_log_only() -> None:
    """No feedback loop: a sink's own stdlib records do not come back as events."""
    lines: list[str] = []
    chatty = ChattySink()
    config = SupervisorConfig(sinks=[CustomSink(name="chatty", sink=chatty)], self_log=lines.append)
    async with logactors.open_logger(config) as log:
        with log.capture_stdlib():
            log.info("one event")
            await log.flush()  # the write logged through stdlib: a loop would be visible now
            await log.flush()
            events = log.metrics().events
    assert events == 1
    assert chatty.templates() == ["one event"]
    assert any("HTTP Request: POST /ingest" in line for line in lines)
    assert any("pool" in line for line in lines)


async def test_handler_on_a_named_logger_with_a_proxy() -> None:
    """LogactorsHandler also works with a module-level proxy and a non-root logger."""
    async with capture() as cap:
        handler = LogactorsHandler(logactors.get_logger("bridge"))
        lib = logging.getLogger("some.lib")
        lib.addHandler(handler)
        lib.setLevel(logging.INFO)
        lib.propagate = False
        try:
            lib.info("hello %s", "world")
        finally:
            lib.removeHandler(handler)
            lib.propagate = True
    (event,) = cap.events
    assert event.rendered == "hello world"
    assert event.properties["logger"] == "some.lib"
