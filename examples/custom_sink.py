"""A custom sink: events into an SQLite database, configured with ``CustomSink``.

A sink is any object with four coroutine methods (the :class:`logactors.Sink` protocol):
``open()``, ``write_batch(events)``, ``flush()`` and ``aclose()``. The sink actor calls them,
never concurrently, with batches in order; ``write_batch`` must not block the trio loop, so
the blocking database work runs in a worker thread, once per batch. To report a failed write
it raises ``OSError`` or ``logactors.SinkError`` (retried, then breaker, fallback, spool);
anything else is treated as a bug: the actor is restarted.

Two ways to configure one:

* ``CustomSink(name=..., factory="package.module:Name", options={...})``: the factory is
  imported and called as ``Name(**options)`` (also from TOML: ``type = "custom"``); here
  ``"custom_sink:SqliteSink"``, this very file, importable because its directory is on
  ``sys.path`` when it runs as a script;
* ``CustomSink(name=..., sink=obj)``: a ready object, from Python.

Run it with ``python examples/custom_sink.py``.
"""

from __future__ import annotations

import collections
import json
import os
import sqlite3
import tempfile
from collections.abc import Sequence

import trio

import logactors
from logactors import CustomSink, Level, LogEvent, SinkError, SupervisorConfig


class SqliteSink:
    """Writes each event as a row (time, level, message, template, properties as JSON)."""

    def __init__(self, path: str, table: str = "events") -> None:
        self.path = path
        self.table = table
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        self._db = await trio.to_thread.run_sync(self._connect)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False)
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (ts INTEGER, level TEXT, "
            "message TEXT, template TEXT, properties TEXT)"
        )
        return db

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        rows = [
            (
                e.timestamp_ns,
                e.level.name,
                e.rendered,
                e.template,
                json.dumps(dict(e.properties), default=str),
            )
            for e in events
        ]
        await trio.to_thread.run_sync(self._insert, rows)
        return sum(len(r[2]) for r in rows)

    def _insert(self, rows: list[tuple[int, str, str, str, str]]) -> None:
        assert self._db is not None
        try:
            with self._db:  # one transaction per batch
                self._db.executemany(f"INSERT INTO {self.table} VALUES (?, ?, ?, ?, ?)", rows)
        except sqlite3.OperationalError as exc:  # e.g. "database is locked": worth a retry
            raise SinkError(f"sqlite: {exc}") from exc

    async def flush(self) -> None:
        pass  # each batch is committed

    async def aclose(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await trio.to_thread.run_sync(db.close)


class CountingSink:
    """The smallest sink: counts events per level (given to CustomSink as an object)."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()

    async def open(self) -> None:
        pass

    async def write_batch(self, events: Sequence[LogEvent]) -> None:
        self.counts.update(e.level.name for e in events)

    async def flush(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


async def main(database: str) -> CountingSink:
    counter = CountingSink()
    assert isinstance(counter, logactors.Sink)  # the protocol is runtime-checkable
    config = SupervisorConfig(
        min_level="debug",
        sinks=[
            CustomSink(name="sqlite", factory="custom_sink:SqliteSink", options={"path": database}),
            CustomSink(name="counter", sink=counter, min_level="info"),
        ],
    )
    async with logactors.open_logger(config) as log:
        for i in range(100):
            log.log(
                Level.WARNING if i % 10 == 0 else Level.DEBUG if i % 2 else Level.INFO,
                "Item {i} processed by {worker}",
                i=i,
                worker=f"w{i % 3}",
            )
    return counter


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="logactors-custom-") as tmp:
        database = os.path.join(tmp, "logs.sqlite")
        counter = trio.run(main, database)
        with sqlite3.connect(database) as db:
            rows = db.execute(
                "SELECT level, COUNT(*) FROM events GROUP BY level ORDER BY level"
            ).fetchall()
            sample = db.execute(
                "SELECT message, properties FROM events WHERE level = 'WARNING' LIMIT 1"
            ).fetchone()
        db.close()
        print("rows in sqlite by level:", dict(rows))
        print("a warning row:", sample)
        print("counting sink (info and up):", dict(sorted(counter.counts.items())))
        assert dict(rows) == {"DEBUG": 50, "INFO": 40, "WARNING": 10}
        assert counter.counts == {"INFO": 40, "WARNING": 10}
