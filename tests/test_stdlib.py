"""The stdlib logging bridge: LogactorsHandler and capture_stdlib."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import trio

import logactors
from logactors import (
    CustomSink,
    FileSink,
    HttpSink,
    Level,
    LogEvent,
    MemorySink,
    SupervisorConfig,
)
from logactors._logger import Logger
from logactors.config import RedactConfig
from logactors.exceptions import ConfigError
from logactors.stdlib import BridgeStatistics, LogactorsHandler
from logactors.testing import capture

from .helpers import RecordingSink
from .servers import HttpRecorder


async def test_record_becomes_its_message_logger_and_extra() -> None:
    """The logger name is the event's; the only properties are the extra fields; the message
    is rendered at the call;    levels mapped (between levels round down)."""
    async with capture() as cap:
        with cap.log.capture_stdlib("debug"):
            lib = logging.getLogger("httpx.client")
            lib.info("GET %s -> %d", "/api", 200, extra={"request_id": "r-9"})
            lib.debug("braces {not} a template")
            lib.log(25, "between levels")
            lib.log(logactors.Level.TRACE, "below debug")  # below the root level: not captured
    get, braces, between = cap.events
    assert get.logger == "httpx.client"
    assert get.level is Level.INFO
    assert get.rendered == "GET /api -> 200"
    assert get.template == "GET /api -> 200"
    assert dict(get.properties) == {"request_id": "r-9"}
    assert braces.rendered == "braces {not} a template"
    assert braces.level is Level.DEBUG
    assert dict(braces.properties) == {}
    assert between.level is Level.INFO


async def test_message_is_rendered_at_the_call() -> None:
    """What the program does to an argument after the call does not change the message."""
    async with capture() as cap:
        with cap.log.capture_stdlib():
            cart = ["apple"]
            logging.getLogger("shop").info("cart is %s", cart)
            cart.append("x")
            await cap.log.flush()
    (event,) = cap.events
    assert event.rendered == "cart is ['apple']"


async def test_record_args_are_never_copied() -> None:
    """Neither positional args nor a mapping of args become properties by default."""
    environment = {"h": "127.0.0.1", "{database_url}e": "postgres://u:pw@db/app"}
    async with capture() as cap:
        with cap.log.capture_stdlib():
            logging.getLogger("access").info("%(h)s", environment)
            logging.getLogger("lib").info("%s and %s", "a", {"token": "t"})
    access, lib = cap.events
    assert access.rendered == "127.0.0.1"
    assert dict(access.properties) == {}
    assert lib.rendered == "a and {'token': 't'}"
    assert dict(lib.properties) == {}
    assert "pw@db" not in repr(cap.events)


async def test_mapping_args_only_when_asked() -> None:
    """``mapping_args=True`` takes every key of a mapping; a collection takes only those."""
    atoms = {"h": "127.0.0.1", "s": "200", "{secret}e": "x"}
    async with capture() as cap:
        with cap.log.capture_stdlib(mapping_args=True):
            logging.getLogger("a").info("%(h)s %(s)s", atoms)
            logging.getLogger("a").info("positional %s", "args")  # a tuple: never taken
        with cap.log.capture_stdlib(mapping_args=("h", "s")):
            logging.getLogger("b").info("%(h)s", atoms)
        with cap.log.capture_stdlib(mapping_args="h", record_attributes="lineno"):
            logging.getLogger("c").info("%(h)s", atoms)  # one name given as a string
    every, positional, chosen, one = cap.events
    assert dict(every.properties) == {**atoms, "{secret}e": "***"}  # redaction on by default
    assert dict(positional.properties) == {}
    assert dict(chosen.properties) == {"h": "127.0.0.1", "s": "200"}
    assert set(one.properties) == {"h", "lineno"}


async def test_record_attributes_are_opt_in() -> None:
    """``record_attributes`` adds the named record attributes under their own names."""
    chosen = ("threadName", "process", "pathname", "lineno", "funcName", "msg")
    async with capture() as cap:
        with cap.log.capture_stdlib(record_attributes=chosen):
            logging.getLogger("lib").warning("at %d", 3)
    (event,) = cap.events
    props = event.properties
    assert set(props) == set(chosen)
    assert props["threadName"] == threading.current_thread().name
    assert props["funcName"] == "test_record_attributes_are_opt_in"
    assert props["pathname"].endswith("test_stdlib.py")
    assert isinstance(props["lineno"], int) and isinstance(props["process"], int)
    assert props["msg"] == "at %d"


def test_unknown_record_attribute_is_a_config_error() -> None:
    """A typo in ``record_attributes`` is reported with the accepted names."""
    with pytest.raises(ConfigError, match=r"'line'.*lineno"):
        LogactorsHandler(logactors.get_logger("x"), record_attributes=["line"])
    with pytest.raises(ConfigError, match="'args'"):
        LogactorsHandler(logactors.get_logger("x"), record_attributes=["args"])


async def test_extra_fields_go_through_the_logger_call_path() -> None:
    """Extra fields are properties of an ordinary call: redaction applies; names that are
    keywords of the level methods are kept with a ``_`` suffix."""
    config = SupervisorConfig(sinks=(), redact=RedactConfig(keys=("password",)))
    async with capture(config=config) as cap:
        with cap.log.capture_stdlib():
            logging.getLogger("auth").info(
                "login", extra={"user": "ada", "password": "hunter2", "extra": 1}
            )
    (event,) = cap.events
    assert event.properties["user"] == "ada"
    assert event.properties["password"] != "hunter2"
    assert event.properties["extra_"] == 1
    assert "hunter2" not in repr(event)


async def test_rendered_messages_are_masked_by_the_value_rules_and_patterns() -> None:
    """Every forwarded message goes through redaction, in any case of the scheme words and
    from any thread; a message that holds no credential arrives as it was."""
    config = SupervisorConfig(sinks=(), redact=RedactConfig(patterns=(r"card-\d{4}",)))
    messages = [
        ("connecting to %s", "postgres://app:hunter2@db:5432/app"),
        ("sending %s", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload"),
        ("header %s", "authorization: BeArEr Zm9vOmJhcjE5ODQ"),
        ("header %s", "BASIC dXNlcjpwYXNzd29yZA=="),
        ("paid with %s", "card-1234"),
    ]
    async with capture(config=config) as cap:
        with cap.log.capture_stdlib():
            lib = logging.getLogger("client")
            for template, value in messages:
                lib.info(template, value)
            lib.info("GET %s -> %d", "/api/orders/17/items", 200)
            await trio.to_thread.run_sync(lib.info, "from a thread: %s", "http://u:pw@h/")
            await cap.log.flush()
    rendered = [event.rendered for event in cap.events]
    assert rendered == [
        "connecting to postgres://app:***@db:5432/app",
        "sending Authorization: Bearer ***",
        "header authorization: BeArEr ***",
        "header BASIC ***",
        "paid with ***",
        "GET /api/orders/17/items -> 200",
        "from a thread: http://u:***@h/",
    ]
    for secret in ("hunter2", "eyJhbG", "Zm9vOmJh", "dXNlcjpw", "1234", ":pw@"):
        assert secret not in repr(cap.events), secret


async def test_failed_percent_format_is_logged_raw_and_counted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A record whose %-format fails keeps its raw message, gets ``format_error``, is counted
    and said once on the self-log; stdlib's "--- Logging error ---" never appears."""
    lines: list[str] = []
    async with capture(config=SupervisorConfig(sinks=(), self_log=lines.append)) as cap:
        with cap.log.capture_stdlib() as handler:
            lib = logging.getLogger("lib")
            lib.info("%d items", "many")
            lib.info("%s and %s", 1)
            lib.info("%(user)s", {"name": "x"})
            lib.info("fine %s", "after")
            stats = handler.statistics()
    bad1, bad2, bad3, fine = cap.events
    assert [bad1.rendered, bad2.rendered, bad3.rendered] == ["%d items", "%s and %s", "%(user)s"]
    assert bad1.properties["format_error"].startswith("TypeError: ")
    assert bad3.properties["format_error"] == "KeyError: 'user'"
    assert bad1.level is Level.INFO and bad1.logger == "lib"
    assert fine.rendered == "fine after" and "format_error" not in fine.properties
    assert stats == BridgeStatistics(format_errors=3, feedback=0, failed=0)
    assert len([line for line in lines if "could not be %-formatted" in line]) == 1
    assert "Logging error" not in capsys.readouterr().err


async def test_exc_info_and_stack_info() -> None:
    """logger.exception() carries its traceback; stack_info=True becomes the ``stack``."""
    async with capture() as cap:
        with cap.log.capture_stdlib():
            try:
                {}["missing"]
            except KeyError:
                logging.getLogger("lib").exception("lookup failed")
            logging.getLogger("lib").info("where", stack_info=True)
    event, stacked = cap.events
    assert event.level is Level.ERROR
    assert event.exception is not None
    assert "KeyError: 'missing'" in event.exception
    assert stacked.properties["stack"].startswith("Stack (most recent call last):")
    assert stacked.exception is None


async def test_one_named_logger_per_stdlib_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """The named logger for a stdlib logger name is built once, not once per record."""
    built: list[str] = []
    original = Logger.named

    def counting(self: Logger, name: str) -> Logger:
        built.append(name)
        return original(self, name)

    monkeypatch.setattr(Logger, "named", counting)
    async with capture() as cap:
        with cap.log.capture_stdlib():
            for i in range(100):
                logging.getLogger("a" if i % 2 else "b").info("n=%d", i)
    assert sorted(built) == ["a", "b"]
    assert len(cap.events) == 100
    assert [e.logger for e in cap.events[:2]] == ["b", "a"]


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


async def test_handler_filters_apply() -> None:
    """Filters added to the handler still decide (the handler skips only stdlib's lock)."""
    async with capture() as cap:
        with cap.log.capture_stdlib() as handler:
            handler.addFilter(lambda record: record.name != "noisy")
            logging.getLogger("noisy").warning("dropped by the filter")
            logging.getLogger("ok").warning("kept")
    assert [e.rendered for e in cap.events] == ["kept"]


async def test_records_from_threads_arrive_in_order() -> None:
    """A stdlib logger used from a worker thread reaches the sinks, in order."""
    async with capture() as cap:
        with cap.log.capture_stdlib():

            def work() -> None:
                for i in range(50):
                    logging.getLogger("worker").info("item %d", i, extra={"i": i})

            await trio.to_thread.run_sync(work)
            await cap.log.flush()
    assert [e.properties["i"] for e in cap.events] == list(range(50))
    assert cap.events[7].rendered == "item 7"


class ChattySink(RecordingSink):
    """Logs through stdlib while writing, on the trio thread and in a worker thread, like an
    HTTP client logging its own requests."""

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        logging.getLogger("httpx").info("HTTP Request: POST %s", "/ingest")
        await trio.to_thread.run_sync(lambda: logging.getLogger("urllib3").info("pool"))
        return await super().write_batch(events)


async def test_records_from_inside_a_sink_are_counted_and_said_once() -> None:
    """No feedback loop and no flood: a sink's own stdlib records are counted, the self-log
    says so once, and none of them becomes an event."""
    lines: list[str] = []
    chatty = ChattySink()
    config = SupervisorConfig(sinks=[CustomSink(name="chatty", sink=chatty)], self_log=lines.append)
    async with logactors.open_logger(config) as log:
        with log.capture_stdlib() as handler:
            for i in range(5):
                log.info("event {i}", i=i)
                await log.flush()  # one batch per event: five writes, ten chatty records
            events = log.metrics().events
            stats = handler.statistics()
    assert events == 5
    assert chatty.templates() == ["event {i}"] * 5
    assert stats.feedback == 10
    about = [line for line in lines if "feedback" in line]
    assert len(about) == 1
    assert "'httpx'" in about[0]
    assert not any("/ingest" in line for line in lines)


@pytest.mark.network
async def test_http_sink_with_debug_capture_does_not_feed_itself() -> None:
    """HttpSink + capture_stdlib(level="debug") against a real server: httpx/httpcore records
    of the sink's requests never reach a sink, the self-log has at most one line about them,
    and the count is visible."""
    lines: list[str] = []
    with HttpRecorder() as server:
        config = SupervisorConfig(
            sinks=[
                HttpSink(name="http", url=f"{server.url}/ingest", protocol="json"),
                MemorySink(name="memory"),
            ],
            self_log=lines.append,
            min_level="debug",
        )
        async with logactors.open_logger(config) as log:
            with log.capture_stdlib(level="debug") as handler:
                for i in range(4):
                    log.info("app event {i}", i=i)
                    await log.flush()
                stats = handler.statistics()
            report_metrics = log.metrics()
            in_memory = list(log.sink("memory").events)  # type: ignore[attr-defined]
    received = [record for request in server.requests for record in request.ndjson()]
    assert len(server.requests) == 4
    assert [r["properties"]["i"] for r in received] == [0, 1, 2, 3]
    assert all(r.get("logger", "") == "" for r in received)  # no httpx/httpcore record
    assert [e.rendered for e in in_memory] == [f"app event {i}" for i in range(4)]
    assert report_metrics.events == 4
    assert stats.feedback >= 4  # httpx logs each request at info, httpcore at debug
    assert len([line for line in lines if "feedback" in line]) <= 1
    assert not any("HTTP Request" in line for line in lines)


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
    assert event.logger == "some.lib"
    assert dict(event.properties) == {}


# ---------------------------------------------------------------------------------------------
# A real hypercorn (trio worker) whose access log goes through the bridge.


async def hello_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A tiny ASGI app: 200 and a short body for every request."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-ok", b"1")]})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.mark.network
async def test_hypercorn_access_log_carries_no_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hypercorn's access log passes a mapping holding the whole environment as the record's
    args: access lines are written, no environment variable reaches any sink."""
    httpx = pytest.importorskip("httpx")
    hypercorn_config = pytest.importorskip("hypercorn.config")
    hypercorn_trio = pytest.importorskip("hypercorn.trio")
    secret = "marker-6f1d0c9e-secret"
    monkeypatch.setenv("LOGACTORS_TEST_SECRET", secret)
    monkeypatch.setenv("DATABASE_URL", f"postgres://u:{secret}-pw@db/app")
    clef, as_json = tmp_path / "app.clef", tmp_path / "app.json"
    config = SupervisorConfig(
        sinks=[
            FileSink(name="clef", path=str(clef), format="clef"),
            FileSink(name="json", path=str(as_json), format="json"),
        ]
    )
    server_config = hypercorn_config.Config()
    server_config.bind = ["127.0.0.1:0"]
    server_config.accesslog = logging.getLogger("hypercorn.access")
    server_config.errorlog = logging.getLogger("hypercorn.error")
    async with capture(config=config) as cap:
        with cap.log.capture_stdlib(level="info") as handler:
            stop = trio.Event()
            async with trio.open_nursery() as nursery:
                binds = await nursery.start(
                    lambda task_status: hypercorn_trio.serve(
                        hello_app,
                        server_config,
                        shutdown_trigger=stop.wait,
                        task_status=task_status,
                    )
                )
                async with httpx.AsyncClient() as client:
                    for i in range(3):
                        response = await client.get(f"{binds[0]}/hello/{i}?q={i}")
                        assert response.text == "hello"
                stop.set()
            await cap.log.flush()
            stats = handler.statistics()
    access = [e for e in cap.events if e.logger == "hypercorn.access"]
    assert len(access) == 3
    for i, event in enumerate(access):
        assert f'"GET /hello/{i} 1.1" 200' in event.rendered
        assert dict(event.properties) == {}
    written = clef.read_text(encoding="utf-8") + as_json.read_text(encoding="utf-8")
    assert written.count("hypercorn.access") == 6  # every access line in both files
    assert secret not in written
    assert "database_url" not in written.lower() and "LOGACTORS_TEST_SECRET" not in written
    assert secret not in repr(cap.events)
    lines = [json.loads(line) for line in clef.read_text(encoding="utf-8").splitlines()]
    assert all(len(line) < 20 for line in lines)  # a handful of fields, not ~1 KB of atoms
    assert stats == BridgeStatistics(format_errors=0, feedback=0, failed=0)


async def test_forwarded_messages_do_not_fill_the_template_cache() -> None:
    """Each record's rendered message is text, not a template: thousands of distinct messages
    neither grow the logger's template cache nor evict the program's own templates, and they
    are written as themselves (braces included)."""
    async with capture() as cap:
        log = cap.log
        log.info("app {n}", n=1)
        templates = log._rt.builder.capture.templates
        before = set(templates)
        lib = logging.getLogger("tests.bridge.cache")
        lib.propagate = False
        lib.setLevel(logging.INFO)
        lib.handlers = [LogactorsHandler(log)]
        try:
            for i in range(5000):
                lib.info("GET /item/%d {x} -> %d", i, 200)
        finally:
            lib.handlers = []
        assert set(templates) == before
        await log.flush()
    assert len(cap.events) == 5001
    assert cap.events[-1].rendered == "GET /item/4999 {x} -> 200"
