"""Bridging the stdlib ``logging`` module: libraries that use it end up in logactors' sinks.

Two ways:

* ``with log.capture_stdlib(level="info"):`` routes the *root* stdlib logger into logactors
  while the block runs (its level and handlers are replaced, then restored): everything that
  propagates to the root, from any library and any thread, becomes a logactors event;
* ``logging.getLogger("name").addHandler(logactors.stdlib.LogactorsHandler(log))`` routes
  one logger only.

A record becomes an event whose message is the record's message, rendered at the call; the
logger name is the event's logger (``SourceContext`` in CLEF), ``extra={...}`` fields become
properties, ``exc_info`` becomes the event's exception, and ``log.context(...)`` properties
apply as usual. The record's ``args`` are never copied (a
library may pass anything there); record attributes such as ``threadName`` are added only when
named in ``record_attributes``.

Run it with ``python examples/stdlib_bridge.py``.
"""

from __future__ import annotations

import logging
import threading

import trio

import logactors
from logactors import MemorySink, SupervisorConfig
from logactors.stdlib import LogactorsHandler

# A "third-party library" that knows nothing about logactors.
lib = logging.getLogger("payments.client")


def charge(order: int, amount: float) -> None:
    lib.info("charging order %d: %.2f EUR", order, amount, extra={"gateway": "acme"})
    if amount > 100:
        try:
            raise TimeoutError("gateway did not answer in 5s")
        except TimeoutError:
            lib.error("charge for order %d failed", order, exc_info=True)


async def main() -> list[logactors.LogEvent]:
    config = SupervisorConfig(sinks=[MemorySink(name="memory")])
    async with logactors.open_logger(config) as log:
        with log.capture_stdlib(level="info", record_attributes=["threadName"]):
            with log.context(request_id="r-77"):
                charge(1, 42.0)
                charge(2, 250.0)
            thread = threading.Thread(target=charge, args=(3, 9.99), name="billing-thread")
            thread.start()
            await trio.to_thread.run_sync(thread.join)
            logging.getLogger("urllib3").debug("below the captured level: not routed")
        # One logger only, without touching the root logger:
        audit = logging.getLogger("audit")
        audit.propagate = False
        audit.setLevel(logging.INFO)
        handler = LogactorsHandler(log)
        audit.addHandler(handler)
        audit.warning("user %s exported %d rows", "ada", 5000)
        audit.removeHandler(handler)
        await log.flush()
        return list(log.sink("memory").events)  # type: ignore[attr-defined]


if __name__ == "__main__":
    events = trio.run(main)
    for e in events:
        extra = {
            k: e.properties[k] for k in ("request_id", "gateway", "threadName") if k in e.properties
        }
        print(f"{e.level.name:<8} [{e.logger}] {e.rendered}  {extra}")
        if e.exception:
            print("         exception:", e.exception.strip().splitlines()[-1])
    assert [e.logger for e in events] == ["payments.client"] * 4 + ["audit"]
    assert events[0].properties["request_id"] == "r-77"
    assert "args" not in events[0].properties
    assert events[2].exception is not None
    assert events[3].properties["threadName"] == "billing-thread"
    print(f"{len(events)} stdlib records arrived as logactors events")
