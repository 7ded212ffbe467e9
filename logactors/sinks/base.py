"""The sink protocol and a base class for sinks that format events into bytes.

A sink is anything with these four coroutine methods (``open``, ``flush`` and ``aclose`` may be
no-ops). The actor guarantees that they are never called concurrently for one sink, that
``write_batch`` gets events in order, and that its exceptions are handled:

* ``OSError`` (including ``ConnectionError``/``TimeoutError``) or :class:`~logactors.SinkError`:
  a failed write, retried with backoff, then counted by the breaker and sent to the fallback or
  spool; ``SinkError(permanent=True)`` is not retried and never spooled.
* anything else: a bug in the sink; the actor is restarted (``open`` is called again).

``write_batch`` must not block the trio loop: do blocking I/O in a worker thread, once per batch.
It may return the number of bytes it wrote (for the ``bytes`` metric).

A sink gets :class:`~logactors.LogEvent` objects. One that only unpacks its events as tuples
(``timestamp_ns, level, template, properties, exception, logger, task = event``) may declare
it (:class:`TakesPlainTuples`: the attribute ``takes_plain_tuples = True``) to be given the
queued tuples as they are, which spares the actor building a LogEvent per event; the events it
cannot write still reach its fallback or spool as LogEvents.

A sink whose peer may accept a batch but discard some of its events (OTLP partial success)
reports them with ``take_rejected()`` (:class:`ReportsRejected`; :class:`SinkBase` reports
none).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol, runtime_checkable

import trio

from .._events import LogEvent

__all__ = [
    "ReportsLate",
    "ReportsRejected",
    "late_reporter",
    "rejection_reporter",
    "takes_plain_tuples",
    "Sink",
    "SinkBase",
    "TakesPlainTuples",
    "ThreadJob",
    "start_job",
    "wait_job",
]


@runtime_checkable
class Sink(Protocol):
    """What a sink implements (see the module docstring)."""

    async def open(self) -> None:
        """Acquire resources (files, connections); called before the first write and after a
        restart. ``OSError`` here counts as a failed write and is retried."""

    async def write_batch(self, events: Sequence[LogEvent]) -> int | None:
        """Write ``events`` (in order); return the bytes written, or ``None``."""

    async def flush(self) -> None:
        """Push out anything buffered (called by ``log.flush()`` and at shutdown)."""

    async def aclose(self) -> None:
        """Release resources (called once at shutdown, and before a restart)."""


@runtime_checkable
class TakesPlainTuples(Protocol):
    """A sink that may be given the queued plain tuples (see the module docstring): when
    ``takes_plain_tuples`` is true, its ``write_batch`` only unpacks its events."""

    takes_plain_tuples: bool


@runtime_checkable
class ReportsRejected(Protocol):
    """A sink that reports events its peer accepted but discarded (OTLP partial success)."""

    def take_rejected(self) -> tuple[int, list[str]]:
        """Events of the batch just written that the peer discarded since the last call, and
        the peer's messages about them."""
        ...


@runtime_checkable
class ReportsLate(Protocol):
    """A sink whose timed-out write may still complete, and that reports such events."""

    def take_late(self) -> int:
        """Events of an earlier batch, given up by the actor after its write timed out, that
        the sink has since seen written after all (reset by the call)."""
        ...


class SinkBase:
    """Convenience base: no-op ``open``/``flush``/``aclose``; subclasses add ``write_batch``.
    It declares the optional capabilities (:class:`TakesPlainTuples`: no;
    :class:`ReportsRejected`: nothing rejected; :class:`ReportsLate`: nothing late), which
    subclasses override."""

    #: its ``write_batch`` only unpacks its events (see :class:`TakesPlainTuples`)
    takes_plain_tuples: bool = False

    def take_rejected(self) -> tuple[int, list[str]]:
        """No event is ever discarded by a peer: ``(0, [])``."""
        return (0, [])

    def take_late(self) -> int:
        """Events of an earlier batch, given up by the actor after its write timed out, that
        the sink has since seen written after all (reset by the call). Writers whose timed-out
        write can still complete override it; by default none: 0."""
        return 0

    async def open(self) -> None:
        """Nothing to open."""

    async def flush(self) -> None:
        """Nothing buffered."""

    async def aclose(self) -> None:
        """Nothing to close."""


def takes_plain_tuples(sink: object) -> bool:
    """Whether ``sink`` may be given the queued plain tuples (:class:`TakesPlainTuples` with
    ``takes_plain_tuples`` true). A :class:`SinkBase` is answered from its typed attribute
    (fast: this is asked per batch); another object through the runtime protocol check."""
    if isinstance(sink, SinkBase):
        return sink.takes_plain_tuples is True
    return isinstance(sink, TakesPlainTuples) and sink.takes_plain_tuples is True


def rejection_reporter(sink: object) -> ReportsRejected | None:
    """``sink`` as a :class:`ReportsRejected`, or ``None`` when it does not report rejected
    events (a :class:`SinkBase` always does; another object if it has ``take_rejected``)."""
    if isinstance(sink, (SinkBase, ReportsRejected)):  # SinkBase first: the fast check
        return sink
    return None


def late_reporter(sink: object) -> ReportsLate | None:
    """``sink`` as a :class:`ReportsLate`, or ``None`` when it does not report late writes
    (a :class:`SinkBase` always does; another object if it has ``take_late``)."""
    if isinstance(sink, (SinkBase, ReportsLate)):  # SinkBase first: the fast check
        return sink
    return None


# -- blocking writes in a worker thread ------------------------------------------------------------

#: A worker-thread write is first waited for by blocking the trio thread up to this long, as
#: an inline write would (a page-cache write takes tens of microseconds): the GIL goes to the
#: worker at once, and on a busy machine the worker gets the CPU, while the producer (which
#: runs on the trio thread) waits instead of outrunning the queue. Only a write that takes
#: longer than this lets the trio thread go on, so a hung disk cannot hold the loop.
FIRST_WAIT: Final = 0.05
#: After that the wait is asynchronous, with a short blocking wait (the GIL hand-off, and the
#: CPU to the worker on a busy machine) every tick: ticks of ``MIN_TICK`` for ``SHORT_WAIT``
#: seconds, then doubling up to ``MAX_TICK`` (a write blocked for long costs the trio thread
#: ``HANDOFF_WAIT`` per tick: 2.5% at most).
HANDOFF_WAIT: Final = 0.0005
MIN_TICK: Final = 0.001
SHORT_WAIT: Final = 0.05
MAX_TICK: Final = 0.02


class ThreadJob:
    """One blocking call running in a worker thread, started by :func:`start_job` and waited
    for by :func:`wait_job`.

    Why not ``trio.to_thread.run_sync``: a worker thread needs the GIL to start, after every
    system call and to report back, and while trio tasks keep the trio thread busy it does not
    get it: each trio checkpoint releases the GIL for an instant and takes it straight back,
    which restarts the waiter's switch interval (a file sink's worker once wrote nothing for
    26 s). Blocking the trio thread on a :class:`threading.Event` hands the GIL over for
    certain; a job that is done within ``FIRST_WAIT`` costs no trio round trip at all.

    A job is never abandoned by its owner: a sink that stops waiting (``write_timeout``) keeps
    the job and waits for it before its next write, so two writes never overlap.
    """

    __slots__ = ("_error", "_result", "_token", "_woken", "done")

    def __init__(self) -> None:
        self.done = threading.Event()
        self._result: Any = None
        self._error: BaseException | None = None
        self._woken: trio.Event | None = None
        self._token = trio.lowlevel.current_trio_token()

    def _deliver(self, outcome: Any) -> None:  # (worker thread)
        try:
            self._result = outcome.unwrap()
        except BaseException as exc:  # handed to the trio side by result()
            self._error = exc
        self.done.set()
        try:
            self._token.run_sync_soon(self._wake)
        except trio.RunFinishedError:
            pass

    def _wake(self) -> None:  # (trio thread)
        if self._woken is not None:
            self._woken.set()

    @property
    def failed(self) -> bool:
        """Done, with an exception."""
        return self.done.is_set() and self._error is not None

    @property
    def error(self) -> BaseException | None:
        """The exception the call raised (once done)."""
        return self._error

    def result(self) -> Any:
        """The call's return value; raises what it raised."""
        if self._error is not None:
            raise self._error
        return self._result


def start_job(function: Callable[[], Any]) -> ThreadJob:
    """Run ``function()`` in a worker thread (trio's thread cache); call from the trio thread."""
    job = ThreadJob()
    trio.lowlevel.start_thread_soon(function, job._deliver)
    return job


async def wait_job(job: ThreadJob, *, first_wait: float = FIRST_WAIT) -> None:
    """Wait until ``job`` is done (see :class:`ThreadJob`), blocking up to ``first_wait``
    first (``0`` for a job already waited for once). Cancellable: the job runs on."""
    await trio.lowlevel.checkpoint_if_cancelled()
    left = trio.current_effective_deadline() - trio.current_time()  # (write_timeout)
    if job.done.wait(max(0.0, min(first_wait, left))):
        await trio.lowlevel.cancel_shielded_checkpoint()
        return
    tick = MIN_TICK
    slow_after = trio.current_time() + SHORT_WAIT
    while not job.done.is_set():
        job._woken = trio.Event()
        if job.done.is_set():
            break
        with trio.move_on_after(tick):
            await job._woken.wait()
        if job.done.wait(HANDOFF_WAIT):
            break
        if trio.current_time() > slow_after:
            tick = min(MAX_TICK, tick * 2)
    job._woken = None
