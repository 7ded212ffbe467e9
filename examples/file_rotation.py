"""Rolling files: a FileSink that rolls by size (and by UTC day), keeping the newest few.

``FileSink(rolling="daily", max_bytes=..., retain=...)`` writes to ``app.log``; when the next
batch would make it larger than ``max_bytes`` (or the UTC day changes) the file is renamed
after the period of its content, ``app.YYYYMMDD.log``, then ``app.YYYYMMDD.1.log``,
``app.YYYYMMDD.2.log`` … for further size rolls the same day (hourly rolling adds the hour:
``app.YYYYMMDDHH.log``), and ``retain`` keeps that many rolled files, deleting the oldest.
Every write is one ``os.write`` per batch in a worker thread.

The example writes a few hundred events with a tiny ``max_bytes`` into a temporary directory
and prints the file names and sizes it finds.

Run it with ``python examples/file_rotation.py``.
"""

from __future__ import annotations

import os
import tempfile

import trio

import logactors
from logactors import BatchConfig, FileSink, SupervisorConfig


async def main(directory: str) -> None:
    config = SupervisorConfig(
        sinks=[
            FileSink(
                name="file",
                path=os.path.join(directory, "app.log"),
                format="text",
                rolling="daily",
                max_bytes=4096,  # tiny, to see it roll
                retain=3,  # keep the three newest rolled files
                batch=BatchConfig(max_events=20),
            )
        ]
    )
    async with logactors.open_logger(config) as log:
        for i in range(300):
            log.info("Order {order} shipped to {city}", order=1000 + i, city="Lisbon")
            if i % 20 == 19:
                await log.flush()  # let the batches go out, so the file rolls as it grows
    assert log.report is not None
    assert log.report.ok


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="logactors-rotation-") as tmp:
        trio.run(main, tmp)
        names = sorted(os.listdir(tmp))
        print(f"files in {tmp}:")
        for name in names:
            size = os.path.getsize(os.path.join(tmp, name))
            kind = "active" if name == "app.log" else "rolled"
            print(f"  {name:<24} {size:>6} bytes  ({kind})")
        rolled = [n for n in names if n != "app.log"]
        assert "app.log" in names, names
        assert len(rolled) == 3, names
        newest = max(rolled, key=lambda n: os.path.getmtime(os.path.join(tmp, n)))
        print(f"rolled files kept: {len(rolled)} (retain=3), newest: {newest}")
