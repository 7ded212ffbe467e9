"""Request context in a web-service-style trio program: ``log.context()`` and ``log.bind()``.

Each simulated request runs in its own task under ``log.context(request_id=..., user=...)``.
The context is ambient (a context variable): every event logged while it is active carries
those properties, including events from child tasks the request starts (trio copies the
context into tasks started from it) and from worker threads (``trio.to_thread.run_sync``
copies it too). Components use ``log.bind(component=...)`` for properties of their own.

The example logs to a memory sink, then checks and prints, per request, that every event
carries its own request id and nobody else's.

Run it with ``python examples/request_context.py``.
"""

from __future__ import annotations

import collections
import random

import trio

import logactors
from logactors import MemorySink, SupervisorConfig

USERS = ("ada", "bob", "cy", "dee")


async def query(db: logactors.Logger, table: str, delay: float) -> int:
    await trio.sleep(delay)
    db.debug("SELECT from {table} took {ms:.1f} ms", table=table, ms=delay * 1000)
    return 3


def render_invoice(log: logactors.BoundLogger, order: int) -> str:
    """Runs in a worker thread: the request context comes along."""
    log.info("Rendered invoice for order {order}", order=order)
    return f"invoice-{order}.pdf"


async def handle_request(log: logactors.Logger, number: int, rng: random.Random) -> None:
    user = rng.choice(USERS)
    with log.context(request_id=f"req-{number}", user=user):
        log.info("GET /orders for {user}", user=user)
        db = log.bind(component="db")
        async with trio.open_nursery() as nursery:  # child tasks inherit the context
            for table in ("orders", "items"):
                nursery.start_soon(query, db, table, rng.uniform(0.001, 0.01))
        pdf = await trio.to_thread.run_sync(render_invoice, log, number)
        log.info("Responded 200 with {pdf}", pdf=pdf)


async def main() -> None:
    config = SupervisorConfig(min_level="debug", sinks=[MemorySink(name="memory")])
    async with logactors.open_logger(config) as log:
        rng = random.Random(7)
        async with trio.open_nursery() as nursery:  # ten requests at once
            for number in range(1, 11):
                nursery.start_soon(handle_request, log, number, rng)
        await log.flush()
        events = list(log.sink("memory").events)  # type: ignore[attr-defined]

    by_request: dict[str, list[logactors.LogEvent]] = collections.defaultdict(list)
    for event in events:
        by_request[event.properties["request_id"]].append(event)
    for request_id, items in sorted(by_request.items(), key=lambda kv: int(kv[0][4:])):
        components = sorted({str(e.properties.get("component", "-")) for e in items})
        tasks = len({e.task for e in items})
        print(
            f"{request_id:<7} {len(items)} events from {tasks} tasks/threads, "
            f"user={items[0].properties['user']}, components={components}"
        )
        first = items[0]
        assert all(e.properties["user"] == first.properties["user"] for e in items)
        # The thread's event belongs to the request that started the thread.
        assert [e.properties["order"] for e in items if "order" in e.properties] == [
            int(request_id[4:])
        ]
    assert len(by_request) == 10
    assert all(len(items) == 5 for items in by_request.values())
    print(f"every one of {len(events)} events carries the request_id of its own request")


if __name__ == "__main__":
    trio.run(main)
