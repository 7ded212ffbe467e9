"""The demo's application: a small web shop whose workers, thread and "library" log.

Worker tasks serve simulated requests, each under ``log.context(request_id=..., method=...,
path=...)`` with a logger bound to its worker number; a worker thread indexes documents with
plain (non-trio) logging calls; :class:`InventoryClient` is a "third-party library" that logs
through the stdlib :mod:`logging` module. Each producer paces itself to its share of the
target rate.
"""

from __future__ import annotations

import argparse
import logging
import random
import threading
import time
from typing import Final

import trio

from .. import Logger

__all__ = ["InventoryClient", "PaymentDeclinedError", "produce"]

_THREAD_SHARE: Final = 0.1
_TICK: Final = 0.01
_METHODS: Final = ("GET", "GET", "GET", "POST", "PUT", "DELETE")
_PATHS: Final = ("/cart", "/checkout", "/products/{id}", "/search", "/orders/{id}", "/login")
_TABLES: Final = ("orders", "products", "users", "inventory")
_SKUS: Final = ("apple", "pear", "plum", "fig", "kiwi", "lime")


class PaymentDeclinedError(Exception):
    """What the demo's payment provider raises now and then."""


class InventoryClient:
    """A "third-party library" that logs through the stdlib :mod:`logging` module."""

    def __init__(self) -> None:
        self.log = logging.getLogger("demo.lib")
        self.stock = dict.fromkeys(_SKUS, 500)

    def reserve(self, sku: str, quantity: int) -> int:
        """Reserve stock (logs at info, warns when low); returns the records logged."""
        left = self.stock[sku] = (self.stock[sku] - quantity) % 500
        self.log.info("reserved %d x %s (%d left)", quantity, sku, left)
        if left < 25:
            self.log.warning("stock of %s is low: %d left", sku, left)
            return 2
        return 1


def _charge(order_id: str, amount: float) -> None:
    try:
        raise ConnectionResetError("connection reset by payment provider")
    except ConnectionResetError as exc:
        raise PaymentDeclinedError(f"order {order_id}: charge of {amount:.2f} failed") from exc


def _request(
    log: Logger, rng: random.Random, worker: int, number: int, library: InventoryClient
) -> int:
    """One web request: a handful of events under one ``request_id``; returns how many."""
    method = rng.choice(_METHODS)
    path = rng.choice(_PATHS).replace("{id}", str(rng.randrange(1, 10_000)))
    with log.context(request_id=f"r{worker}-{number:06d}", method=method, path=path):
        log.debug(
            "Request {method} {path} received from {client_ip}",
            client_ip=f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
        )
        events = 3
        elapsed = rng.expovariate(1 / 12.0)
        log.info(
            "Loaded {rows} rows from {table} in {elapsed_ms:.1f} ms",
            rows=rng.randrange(1, 200),
            table=rng.choice(_TABLES),
            elapsed_ms=elapsed,
        )
        if rng.random() < 0.25:
            events += library.reserve(rng.choice(_SKUS), rng.randrange(1, 5))
        if elapsed > 50:
            events += 1
            log.warning(
                "Slow query: {elapsed_ms:.0f} ms (budget {budget_ms} ms)",
                elapsed_ms=elapsed,
                budget_ms=50,
            )
        status = 200
        if rng.random() < 0.0005:
            order_id = f"o-{rng.randrange(10**6):06d}"
            try:
                _charge(order_id, rng.uniform(5, 500))
            except PaymentDeclinedError:
                log.exception("Payment for order {order_id} failed", order_id=order_id)
                status = 502
                events += 1
        log.info(
            "{method} {path} responded {status} in {elapsed_ms:.1f} ms",
            status=status,
            elapsed_ms=elapsed + rng.uniform(0.1, 2.0),
        )
    return events


async def _worker(
    log: Logger, worker: int, rate: float, deadline: float, library: InventoryClient
) -> None:
    """A worker task: requests at ``rate`` events per second until ``deadline``."""
    bound = log.bind(worker=worker)
    rng = random.Random(worker)
    budget = 0.0
    number = 0
    next_tick = trio.current_time()
    while trio.current_time() < deadline:
        budget += rate * _TICK
        while budget >= 1:
            number += 1
            budget -= _request(bound, rng, worker, number, library)
        next_tick += _TICK
        await trio.sleep_until(max(next_tick, trio.current_time()))


def _thread_job(
    log: Logger, rate: float, seconds: float, stop: threading.Event, library: InventoryClient
) -> int:
    """The worker thread: indexing jobs at ``rate`` events per second (plain thread calls)."""
    bound = log.bind(worker="indexer")
    rng = random.Random(1000)
    end = time.monotonic() + seconds
    budget = 0.0
    job = 0
    next_tick = time.monotonic()
    while not stop.is_set() and time.monotonic() < end:
        budget += rate * _TICK
        while budget >= 1:
            job += 1
            with log.context(job_id=f"j-{job:05d}"):
                bound.info(
                    "Indexed batch {batch} with {documents} documents",
                    batch=job,
                    documents=rng.randrange(10, 1000),
                )
                budget -= 1
                if rng.random() < 0.2:
                    budget -= library.reserve(rng.choice(_SKUS), 1)
        next_tick += _TICK
        time.sleep(max(0.0, next_tick - time.monotonic()))
    return job


async def produce(log: Logger, args: argparse.Namespace, stop: threading.Event) -> None:
    """Run the workers and the thread for ``--seconds``."""
    library = InventoryClient()
    seconds: float = args.seconds
    worker_rate = args.rate * (1 - _THREAD_SHARE) / args.workers
    deadline = trio.current_time() + seconds
    async with trio.open_nursery() as nursery:
        for worker in range(args.workers):
            nursery.start_soon(
                _worker, log, worker, worker_rate, deadline, library, name=f"worker-{worker}"
            )
        nursery.start_soon(
            trio.to_thread.run_sync,
            _thread_job,
            log,
            args.rate * _THREAD_SHARE,
            seconds,
            stop,
            library,
            name="indexer-thread",
        )
        try:
            await trio.sleep_until(deadline)
        finally:
            stop.set()
