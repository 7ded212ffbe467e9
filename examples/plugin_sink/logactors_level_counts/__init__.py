"""A logactors sink plugin: counts events per level and keeps the counts in a JSON file.

Registered under the ``logactors.sinks`` entry point as ``level_counts`` (see pyproject.toml),
so a configuration can say ``type = "level_counts"``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence

import trio

from logactors import LogEvent


class LevelCountsSink:
    """Counts events per level; writes ``{"info": 12, ...}`` to ``path`` on flush and close.

    Args:
        path: where the counts are written (directories are created).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.counts: Counter[str] = Counter()

    async def open(self) -> None:
        """Nothing to open; fail early if the directory cannot be created."""
        directory = os.path.dirname(self.path)
        if directory:
            await trio.to_thread.run_sync(lambda: os.makedirs(directory, exist_ok=True))

    async def write_batch(self, events: Sequence[LogEvent]) -> None:
        """Count the batch (cheap: no I/O per batch)."""
        self.counts.update(event.level.name.lower() for event in events)

    async def flush(self) -> None:
        """Write the counts (one blocking write in a worker thread)."""
        data = json.dumps(dict(sorted(self.counts.items())))

        def write() -> None:
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(data)
            os.replace(tmp, self.path)

        await trio.to_thread.run_sync(write)

    async def aclose(self) -> None:
        """Write the final counts."""
        await self.flush()
