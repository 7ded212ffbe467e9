"""Child process for test_capture's memory bound: large templates, exceptions, objects and
strings logged into a stalled sink; prints the RSS growth (bytes) and the queue cap."""

from __future__ import annotations

import gc
import resource
import sys
from collections.abc import Sequence

import trio
import trio.testing

import logactors
from logactors import BatchConfig, CustomSink, QueueConfig, ShutdownConfig, SupervisorConfig

CAP = 8 * 1024 * 1024
SIZE = 20_000


class Stalled:
    async def open(self) -> None: ...

    async def write_batch(self, events: Sequence[logactors.LogEvent]) -> int:
        await trio.sleep_forever()
        return 0

    async def flush(self) -> None: ...

    async def close(self) -> None: ...


class Big:
    def __init__(self, i: int) -> None:
        self.i = i

    def __str__(self) -> str:
        return f"{self.i}" + "o" * SIZE


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def main(count: int) -> None:
    sink = CustomSink(
        name="stalled",
        sink=Stalled(),
        breaker=None,
        write_timeout=3600,
        queue=QueueConfig(max_events=1_000_000, max_bytes=CAP, overflow="drop_newest"),
        batch=BatchConfig(max_events=4),
    )
    config = SupervisorConfig(
        sinks=[sink], self_log="off", shutdown=ShutdownConfig(strategy="immediate")
    )
    async with logactors.open_logger(config) as log:
        for i in range(50):  # warm up: caches, the actor's first batch
            log.info("warm {i}", i=i)
        await trio.testing.wait_all_tasks_blocked()
        gc.collect()
        before = peak_rss()
        for i in range(count):
            kind = i % 4
            if kind == 0:
                log.info(f"template {i} " + "t" * SIZE)
            elif kind == 1:
                try:
                    raise ValueError(f"{i}" + "e" * SIZE)
                except ValueError:
                    log.exception("failed {i}", i=i)
            elif kind == 2:
                log.info("object {o}", o=Big(i))
            else:
                log.info("string {s}", s=f"{i}" + "s" * SIZE)
            if i % 200 == 0:
                await trio.lowlevel.checkpoint()
        gc.collect()
        after = peak_rss()
        m = log.metrics().sinks["stalled"]
        print(after - before, CAP, m.dropped, m.queue_depth, flush=True)


if __name__ == "__main__":
    trio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 4000)
