"""One class per library, each logging the same event the way that library is normally used.

The event: ``"Processing request {id} for {user}"`` with ``id=<int>`` and ``user="bob"``,
written as one JSON/CLEF line to a file. Every library writes the same content per event: the
timestamp, the level, the template or the rendered message, and the two properties (``id``,
``user``) as JSON fields; each suite counts every library's output lines. Template libraries
(logactors, loguru, structlog, the bare pipeline) get the properties as keyword arguments; the
%-style ones (stdlib logging, picologging) get them as positional arguments. Every call in a
timed block is written out inline as real code writes it (``log.info(...)``: attribute lookup
plus call), so no adapter cost is added to any library (the literals are
:data:`benchmarks.TEMPLATE` and :data:`benchmarks.PERCENT_TEMPLATE`).

Each case is opened and closed inside the benchmark's trio run:

* ``open(path, e2e=...)`` builds the logger (not timed);
* ``block(start, n)`` makes ``n`` enabled calls and returns the nanoseconds they took;
* ``disabled_block(start, n)`` makes ``n`` calls below the level gate;
* ``drain()`` lets the consumer catch up (not timed);
* ``close()`` leaves the logger: everything is on disk when it returns.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import math
import os
import queue
import time
from typing import Any, ClassVar

import orjson
import trio

import logactors
from logactors import FileSink, QueueConfig, ShutdownConfig, SupervisorConfig

perf_counter_ns = time.perf_counter_ns

_NEWLINE = orjson.OPT_APPEND_NEWLINE


class IsoCache:
    """``2026-11-23T02:30:34.1234567Z`` from epoch nanoseconds, strftime once per second."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, timestamp_ns: int) -> str:
        second, fraction = divmod(timestamp_ns, 1_000_000_000)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{fraction // 100:07d}Z"


class Case:
    """A library under test (see the module docstring)."""

    key: str = ""  # (a class attribute; a variant of a case sets its own on the instance)
    label: str = ""
    threads: ClassVar[bool] = True  # may be called from a worker thread
    gated: ClassVar[bool] = True  # has a level gate (disabled calls)

    def __init__(self) -> None:
        self.path = ""

    async def open(self, path: str, *, e2e: bool, events: int = 0) -> None:
        """Build the logger writing to ``path`` (``e2e``: a configuration that never drops
        ``events`` events and never abandons them at shutdown)."""
        raise NotImplementedError

    def backlog(self) -> int:
        """Events accepted but not yet handed to the writer (0 when not observable)."""
        return 0

    def block(self, start: int, n: int) -> int:
        """``n`` enabled calls; returns the nanoseconds spent in them."""
        raise NotImplementedError

    def disabled_block(self, start: int, n: int) -> int:
        """``n`` calls below the level gate; returns the nanoseconds spent in them."""
        raise NotImplementedError

    async def drain(self) -> None:
        """Let the consumer catch up (not timed)."""
        await trio.lowlevel.checkpoint()

    async def close(self) -> None:
        """Leave the logger; every accepted event is on disk afterwards."""
        raise NotImplementedError

    def dropped(self) -> int:
        """After ``close``: events the library dropped or lost and counted (0 when it cannot
        drop or does not count)."""
        return 0

    def problems(self) -> list[str]:
        """After ``close``: what went wrong (failures, broken accounting), empty when nothing
        did. Counted drops are not problems: the suites report them."""
        return []


class KeywordCalls(Case):
    """Blocks of calls in the brace style with keyword properties (logactors, structlog,
    loguru): ``log.info("Processing request {id} for {user}", id=i, user="bob")``."""

    log: Any = None

    def block(self, start: int, n: int) -> int:
        log = self.log
        t0 = perf_counter_ns()
        for i in range(start, start + n):
            log.info("Processing request {id} for {user}", id=i, user="bob")
        return perf_counter_ns() - t0

    def disabled_block(self, start: int, n: int) -> int:
        log = self.log
        t0 = perf_counter_ns()
        for i in range(start, start + n):
            log.debug("Processing request {id} for {user}", id=i, user="bob")
        return perf_counter_ns() - t0


class PercentCalls(Case):
    """Blocks of calls in the ``%`` style with positional arguments (stdlib logging,
    picologging): ``log.info("Processing request %s for %s", i, "bob")``."""

    log: Any = None

    def block(self, start: int, n: int) -> int:
        log = self.log
        t0 = perf_counter_ns()
        for i in range(start, start + n):
            log.info("Processing request %s for %s", i, "bob")
        return perf_counter_ns() - t0

    def disabled_block(self, start: int, n: int) -> int:
        log = self.log
        t0 = perf_counter_ns()
        for i in range(start, start + n):
            log.debug("Processing request %s for %s", i, "bob")
        return perf_counter_ns() - t0


# ---------------------------------------------------------------------------------------------
# logactors


class LogactorsCase(KeywordCalls):
    """logactors with a CLEF ``FileSink``."""

    key = "logactors"
    label = "logactors (FileSink clef)"

    def __init__(
        self,
        *,
        sinks: int = 1,
        matching: int | None = None,
        null: bool = False,
        tuned: bool = False,
        format: str = "clef",
    ) -> None:
        super().__init__()
        self.tuned = tuned
        self.format = format
        if tuned:
            self.key = "logactors-tuned"
            self.label = "logactors (clef, tuned queue: block, sized for the run)"
        if format != "clef":
            self.key = f"logactors-{format}"
            self.label = f"logactors (FileSink {format})"
        self.sinks = sinks
        self.matching = sinks if matching is None else matching
        self.null = null
        self.log: logactors.Logger | None = None
        self.report: logactors.ShutdownReport | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._inboxes: list[Any] = []

    def config(self, path: str, *, e2e: bool, events: int = 0) -> SupervisorConfig:
        """The configuration: one file sink (or ``sinks`` of them, or null sinks, ``matching``
        of them taking info).

        The default case runs logactors exactly as configured out of the box (default queue,
        batch and shutdown settings): whatever that configuration drops is counted and shown.
        ``tuned`` (a separate, labelled case) sizes the queue for ``events`` with
        ``overflow="block"`` and a ``flush`` shutdown, so nothing can be dropped.
        """
        if self.tuned and e2e:
            queue_config = QueueConfig(
                max_events=max(events, 10_000) * 2,
                overflow="block",
                max_bytes=max(64 * 1024 * 1024, events * 2048),
            )
            shutdown = ShutdownConfig(strategy="flush")
        else:
            queue_config = QueueConfig()
            shutdown = ShutdownConfig()
        sinks: list[logactors.SinkConfig] = []
        for i in range(self.sinks):
            level = "trace" if i < self.matching else "error"
            if self.null:
                sinks.append(
                    logactors.NullSink(name=f"null{i}", min_level=level, queue=queue_config)
                )
            else:
                sink_path = path if i == 0 else f"{path}.{i}"
                sinks.append(
                    FileSink(
                        name=f"file{i}",
                        path=sink_path,
                        format=self.format,
                        min_level=level,
                        queue=queue_config,
                    )
                )
        return SupervisorConfig(min_level="info", sinks=sinks, shutdown=shutdown)

    async def open(self, path: str, *, e2e: bool, events: int = 0) -> None:
        self.path = path
        self._stack = contextlib.AsyncExitStack()
        self.log = await self._stack.enter_async_context(
            logactors.open_logger(self.config(path, e2e=e2e, events=events))
        )
        self._inboxes = [a.inbox for a in self.log._rt.actors.values()]

    def backlog(self) -> int:
        return max((len(inbox) for inbox in self._inboxes), default=0)

    async def drain(self) -> None:
        assert self.log is not None
        await self.log.flush()

    async def close(self) -> None:
        assert self._stack is not None
        assert self.log is not None
        await self._stack.aclose()
        self.report = self.log.report
        self.log = None

    def dropped(self) -> int:
        report = self.report
        if report is None:
            return 0
        return sum(m.dropped + m.lost for m in report.sinks.values())

    def problems(self) -> list[str]:
        report = self.report
        if report is None:
            return ["no shutdown report"]
        found = []
        for name, m in report.sinks.items():
            if m.failed or not m.balanced:
                found.append(f"{name}: failed={m.failed}, conservation law broken")
        return found


# ---------------------------------------------------------------------------------------------
# the bare trio pipeline


class BareCase(Case):
    """tuple → memory channel ``send_nowait`` → consumer drains with ``receive_nowait`` →
    orjson into one buffer → one ``os.write`` per batch in a worker thread."""

    key = "bare-trio"
    label = "bare trio pipeline"
    threads = False  # a memory channel must not be touched from another thread
    gated = False

    def __init__(self, batch: int = 512) -> None:
        super().__init__()
        self.batch = batch
        self.busy = False
        self._idle = trio.Event()
        self.fd = -1
        self.info: Any = None
        self._send: trio.MemorySendChannel[tuple[int, int, str, dict[str, Any]]] | None = None
        self._recv: trio.MemoryReceiveChannel[tuple[int, int, str, dict[str, Any]]] | None = None
        self._stack: contextlib.AsyncExitStack | None = None

    async def open(self, path: str, *, e2e: bool, events: int = 0) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)
        send, recv = trio.open_memory_channel[tuple[int, int, str, dict[str, Any]]](math.inf)
        self._send, self._recv = send, recv
        send_nowait = send.send_nowait
        now = time.time_ns

        def info(template: str, /, **props: Any) -> None:
            send_nowait((now(), 20, template, props))

        self.info = info
        self._stack = contextlib.AsyncExitStack()
        nursery = await self._stack.enter_async_context(trio.open_nursery())
        nursery.start_soon(self._consume, recv)

    async def _consume(
        self, recv: trio.MemoryReceiveChannel[tuple[int, int, str, dict[str, Any]]]
    ) -> None:
        iso = IsoCache()
        dumps = orjson.dumps
        limit = self.batch
        fd = self.fd
        while True:
            try:
                event = await recv.receive()
            except trio.EndOfChannel:
                return
            self.busy = True
            buffer = bytearray()
            n = 0
            while True:
                timestamp, level, template, props = event
                out = {"@t": iso(timestamp), "@mt": template}
                if level != 20:
                    out["@l"] = "Warning"
                out.update(props)
                buffer += dumps(out, option=_NEWLINE)
                n += 1
                if n >= limit:
                    break
                try:
                    event = recv.receive_nowait()
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            await trio.to_thread.run_sync(_write_all, fd, bytes(buffer))
            self.busy = False
            self._idle.set()

    def block(self, start: int, n: int) -> int:
        t0 = perf_counter_ns()
        for i in range(start, start + n):
            self.info("Processing request {id} for {user}", id=i, user="bob")
        return perf_counter_ns() - t0

    def backlog(self) -> int:
        assert self._recv is not None
        return self._recv.statistics().current_buffer_used

    async def drain(self) -> None:
        assert self._recv is not None
        await trio.lowlevel.checkpoint()
        while self.busy or self._recv.statistics().current_buffer_used:
            self._idle = trio.Event()
            await self._idle.wait()

    async def close(self) -> None:
        assert self._send is not None
        assert self._stack is not None
        self._send.close()
        await self._stack.aclose()
        os.close(self.fd)
        self.fd = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# ---------------------------------------------------------------------------------------------
# stdlib logging


def record_json(record: Any, iso: IsoCache) -> str:
    """A stdlib or picologging record as the benchmark's JSON line: timestamp, level, the
    rendered message and the two properties (the call's positional arguments, by name; a
    queue handler keeps them in ``props``: see :func:`keeping_args`)."""
    args = getattr(record, "props", None) or record.args
    return orjson.dumps(
        {
            "@t": iso(int(record.created * 1e9)),
            "@l": record.levelname,
            "@m": record.getMessage(),
            "id": args[0],
            "user": args[1],
        }
    ).decode()


def keeping_args(handler_class: Any) -> Any:
    """``handler_class`` (a ``QueueHandler``) whose ``prepare`` keeps the call's arguments as
    ``record.props``: ``prepare`` renders the message on the caller's thread and drops
    ``args``, and the properties must reach the formatter like every other library's."""

    class KeepingArgs(handler_class):
        def prepare(self, record: Any) -> Any:
            args = record.args
            prepared = super().prepare(record)
            prepared.props = args
            return prepared

    return KeepingArgs


class _StdlibJson(logging.Formatter):
    """A JSON-lines formatter (orjson, cached ISO prefix: the fastest fair stdlib setup)."""

    def __init__(self) -> None:
        super().__init__()
        self._iso = IsoCache()

    def format(self, record: logging.LogRecord) -> str:
        return record_json(record, self._iso)


class StdlibQueueCase(PercentCalls):
    """stdlib ``logging``: ``QueueHandler`` → ``SimpleQueue`` → ``QueueListener`` thread →
    ``FileHandler`` with a JSON formatter."""

    key = "stdlib-queue"
    label = "stdlib QueueHandler+Listener"
    _serial: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.SimpleQueue[Any] | None = None
        self._listener: logging.handlers.QueueListener | None = None
        self._file: logging.FileHandler | None = None
        self._qhandler: logging.handlers.QueueHandler | None = None

    async def open(self, path: str, *, e2e: bool, events: int = 0) -> None:
        self.path = path
        StdlibQueueCase._serial += 1
        self._queue = queue.SimpleQueue()
        self._file = logging.FileHandler(path, mode="w", encoding="utf-8")
        self._file.setFormatter(_StdlibJson())
        self._listener = logging.handlers.QueueListener(self._queue, self._file)
        self._qhandler = keeping_args(logging.handlers.QueueHandler)(self._queue)
        logger = logging.getLogger(f"bench.stdlib.{self._serial}")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        logger.addHandler(self._qhandler)
        self.log = logger
        self._listener.start()

    def backlog(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    async def drain(self) -> None:
        assert self._queue is not None
        while not self._queue.empty():  # noqa: ASYNC110 - fed and drained by other threads
            await trio.sleep(0.0002)
        await trio.sleep(0.0005)

    async def close(self) -> None:
        assert self._listener is not None
        assert self._file is not None
        assert self.log is not None
        self._listener.stop()
        self._file.close()
        if self._qhandler is not None:
            self.log.removeHandler(self._qhandler)
        await trio.lowlevel.checkpoint()


# ---------------------------------------------------------------------------------------------
# structlog


class StructlogCase(KeywordCalls):
    """structlog's fast path: filtering bound logger, orjson ``JSONRenderer``,
    ``BytesLogger`` writing the file synchronously."""

    key = "structlog"
    label = "structlog orjson sync file"

    def __init__(self) -> None:
        super().__init__()
        self._file: Any = None

    async def open(self, path: str, *, e2e: bool, events: int = 0) -> None:
        import structlog

        self.path = path
        self._file = open(path, "wb")  # noqa: ASYNC230, SIM115 - setup, not timed
        self.log = structlog.wrap_logger(
            structlog.BytesLogger(self._file),
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.JSONRenderer(serializer=orjson.dumps),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
            cache_logger_on_first_use=True,
        ).bind()

    async def close(self) -> None:
        self._file.close()
        await trio.lowlevel.checkpoint()


# ---------------------------------------------------------------------------------------------
# loguru


class LoguruCase(KeywordCalls):
    """loguru ``enqueue=True`` (its background writer) with a sink function writing the same
    JSON line as the others (``serialize=True`` would write the whole record: ~685 B a line)."""

    key = "loguru"
    label = "loguru enqueue=True, JSON sink function"

    def __init__(self) -> None:
        super().__init__()
        self._handler = -1
        self._file: Any = None

    async def open(self, path: str, *, e2e: bool, events: int = 0) -> None:
        from loguru import logger

        self.path = path
        self._file = file = open(path, "wb")  # noqa: ASYNC230, SIM115 - setup, not timed
        iso = IsoCache()
        write = file.write
        dumps = orjson.dumps

        def sink(message: Any) -> None:
            record = message.record
            write(
                dumps(
                    {
                        "@t": iso(int(record["time"].timestamp() * 1e9)),
                        "@l": record["level"].name,
                        "@m": record["message"],
                        **record["extra"],
                    },
                    option=_NEWLINE,
                )
            )

        logger.remove()
        self._handler = logger.add(
            sink, enqueue=True, level="INFO", format="{message}", catch=False
        )
        self.log = logger

    async def drain(self) -> None:
        self.log.complete()
        await trio.lowlevel.checkpoint()

    async def close(self) -> None:
        self.log.remove(self._handler)
        self._file.close()
        await trio.lowlevel.checkpoint()


# ---------------------------------------------------------------------------------------------
# picologging


def picologging_available() -> bool:
    """Whether picologging imports here (it has no wheels for every Python)."""
    try:
        import picologging.handlers  # noqa: F401
    except ImportError:
        return False
    return True


class _PicoBase(PercentCalls):
    _serial: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        self._handlers: list[Any] = []

    def _formatter(self) -> Any:
        import picologging

        iso = IsoCache()

        class PicoJson(picologging.Formatter):
            def format(self, record: Any) -> str:
                return record_json(record, iso)

        return PicoJson()

    def _logger(self, handler: Any) -> Any:
        import picologging

        _PicoBase._serial += 1
        logger = picologging.getLogger(f"bench.pico.{self._serial}")
        logger.propagate = False
        logger.setLevel(picologging.INFO)
        logger.addHandler(handler)
        self._handlers.append(handler)
        return logger


class PicoQueueCase(_PicoBase):
    """picologging ``QueueHandler`` → ``QueueListener`` → ``FileHandler`` (JSON formatter)."""

    key = "pico-queue"
    label = "picologging QueueHandler"

    async def open(self, path: str, *, e2e: bool, events: int = 0) -> None:
        import picologging
        import picologging.handlers

        self.path = path
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._file = picologging.FileHandler(path, mode="w", encoding="utf-8")
        self._file.setFormatter(self._formatter())
        self._listener = picologging.handlers.QueueListener(self._queue, self._file)
        self.log = self._logger(keeping_args(picologging.handlers.QueueHandler)(self._queue))
        self._listener.start()

    def backlog(self) -> int:
        return self._queue.qsize()

    async def drain(self) -> None:
        while not self._queue.empty():  # noqa: ASYNC110 - fed and drained by other threads
            await trio.sleep(0.0002)
        await trio.sleep(0.0005)

    async def close(self) -> None:
        self._listener.stop()
        self._file.close()
        for handler in self._handlers:
            self.log.removeHandler(handler)
        await trio.lowlevel.checkpoint()


class PicoFileCase(_PicoBase):
    """picologging ``FileHandler`` written synchronously (JSON formatter)."""

    key = "pico-file"
    label = "picologging sync FileHandler"

    async def open(self, path: str, *, e2e: bool, events: int = 0) -> None:
        import picologging

        self.path = path
        self._file = picologging.FileHandler(path, mode="w", encoding="utf-8")
        self._file.setFormatter(self._formatter())
        self.log = self._logger(self._file)

    async def close(self) -> None:
        self._file.close()
        for handler in self._handlers:
            self.log.removeHandler(handler)
        await trio.lowlevel.checkpoint()


class PicoTextCase(_PicoBase):
    """picologging ``StreamHandler`` on a file opened for writing, a plain-text formatter
    (timestamp with microseconds, level, rendered message): the fastest text setup it has."""

    key = "pico-text"
    label = "picologging StreamHandler text"

    async def open(self, path: str, *, e2e: bool, events: int = 0) -> None:
        import picologging

        self.path = path
        self._stream = open(path, "w", encoding="utf-8")  # noqa: ASYNC230, SIM115 - setup
        handler = picologging.StreamHandler(self._stream)
        handler.setFormatter(
            picologging.Formatter("%(asctime)s.%(msecs)03d [%(levelname)s] %(message)s")
        )
        self.log = self._logger(handler)

    async def close(self) -> None:
        self._stream.flush()
        self._stream.close()
        for handler in self._handlers:
            self.log.removeHandler(handler)
        await trio.lowlevel.checkpoint()


def text_cases(*, picologging: bool | None = None) -> list[Case]:
    """The text-format comparison: logactors ``format="text"`` and picologging's
    StreamHandler."""
    cases: list[Case] = [LogactorsCase(format="text")]
    if picologging is None:
        picologging = picologging_available()
    if picologging:
        cases.append(PicoTextCase())
    return cases


# ---------------------------------------------------------------------------------------------
# reference: an empty function with the same call shape


class EmptyCallCase(KeywordCalls):
    """Reference: ``log.debug(...)`` on a function that does nothing (no logger at all; only
    its disabled blocks are run)."""

    key = "empty-call"
    label = "empty function, same call shape"
    threads = False

    class _Log:
        @staticmethod
        def debug(template: str, /, *args: object, **props: object) -> None:
            """Nothing."""

    async def open(self, path: str, *, e2e: bool, events: int = 0) -> None:
        self.log = self._Log()

    async def close(self) -> None:
        await trio.lowlevel.checkpoint()


def library_cases(*, picologging: bool | None = None, tuned: bool = False) -> list[Case]:
    """Every library case, logactors first (picologging only where it installs); ``tuned``
    adds logactors with a queue sized for the run (the end-to-end suite)."""
    cases: list[Case] = [
        LogactorsCase(),
        *([LogactorsCase(tuned=True)] if tuned else []),
        BareCase(),
        StdlibQueueCase(),
        StructlogCase(),
        LoguruCase(),
    ]
    if picologging is None:
        picologging = picologging_available()
    if picologging:
        cases += [PicoQueueCase(), PicoFileCase()]
    return cases
