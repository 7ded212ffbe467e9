"""Quickstart: a logger with a console sink and a CLEF file, in a trio program.

Shows message templates with properties (``{id}``, ``{pct:.1f}``), ambient context
(``log.context``), a child logger with bound properties (``log.bind``), an exception, waiting
for queue room (``await log.awarning``), ``log.flush()``, the metrics snapshot and, after the
``async with`` block, the shutdown report. The file goes to a temporary directory.

Run it with ``python examples/quickstart.py``.
"""

from __future__ import annotations

import os
import tempfile

import trio

import logactors
from logactors import ConsoleSink, FileSink, SupervisorConfig


async def main(directory: str) -> logactors.ShutdownReport | None:
    config = SupervisorConfig(
        min_level="debug",
        properties={"app": "checkout"},
        sinks=[
            ConsoleSink(name="console", min_level="info"),
            FileSink(name="file", path=os.path.join(directory, "app.clef"), format="clef"),
        ],
    )
    async with logactors.open_logger(config) as log:
        log.info("Processing request {id} for {user}", id=42, user="bob")
        await log.awarning("Disk at {pct:.1f}%", pct=93.5)  # waits for room in the queues
        with log.context(request_id="r-1"):  # every event inside carries request_id
            log.debug("Only in the file: the console sink starts at info")
        db = log.bind(component="db")  # a child logger with bound properties
        try:
            int("forty-two")
        except ValueError:
            db.exception("Parsing {field} failed", field="quantity")  # level error + traceback
        await log.flush()  # everything accepted so far is written
        snapshot = log.metrics()
        print(f"written so far: {snapshot.sinks['file'].written} events to the file")
    return log.report


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="logactors-quickstart-") as tmp:
        report = trio.run(main, tmp)
        print(report)
        with open(os.path.join(tmp, "app.clef"), encoding="utf-8") as file:
            print("first CLEF line:", file.readline().rstrip())
