"""Configuration from a TOML file: ``logactors.load_config(path)`` and ``open_logger(path)``.

``examples/logactors.toml`` declares the logger's level, properties added to every event, an
enricher (``sequence``: a number per event), the shutdown deadline and three sinks, each
naming its kind with ``type``; durations and sizes are strings like ``"100ms"`` or
``"64MiB"``.
``load_config`` turns it into a :class:`logactors.SupervisorConfig` (or raises one
``ConfigError`` listing every problem with its field path), and ``open_logger`` accepts the
path directly.

The example runs in a temporary directory (the file's relative paths land there), prints the
loaded configuration, logs a few events, shows what the files hold, then shows the error for a
broken configuration.

Run it with ``python examples/toml_config.py``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import trio

import logactors

CONFIG = Path(__file__).with_name("logactors.toml")


async def main() -> None:
    config = logactors.load_config(CONFIG)
    print(
        f"loaded {CONFIG.name}: min_level={logactors.Level(config.min_level).name}, "
        f"properties={dict(config.properties)}"
    )
    for sink in config.sinks:
        print(
            f"  sink {sink.name!r:<10} {sink.kind:<8} format={sink.format:<5} "
            f"min_level={logactors.Level(sink.min_level).name}"
        )

    async with logactors.open_logger(CONFIG) as log:  # a path works as well as a config
        log.info("Stock of {sku} is {count}", sku="apple", count=12)
        log.warning("Stock of {sku} is low: {count}", sku="pear", count=2)  # also on the console
        log.debug("Cache {state}", state="warm")  # only in the CLEF file
        log.error("Reorder of {sku} failed", sku="pear")  # console, CLEF file and errors.log


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="logactors-toml-") as tmp:
        os.chdir(tmp)
        trio.run(main)
        records = [json.loads(line) for line in Path("logs/app.clef").read_text().splitlines()]
        print(f"logs/app.clef holds {len(records)} events; the third one:")
        print("  ", json.dumps(records[2]))
        print("logs/errors.log:", Path("logs/errors.log").read_text().strip())
        assert [r["sequence"] for r in records] == [1, 2, 3, 4]
        assert all(r["app"] == "inventory" for r in records)
        os.chdir(os.path.dirname(os.path.abspath(__file__)))

    try:
        logactors.load_config(
            {
                "sinks": [
                    {
                        "type": "file",
                        "name": "f",
                        "path": "x.log",
                        "queue": {"max_events": -1},
                        "rolling": "weekly",
                    }
                ]
            }
        )
    except logactors.ConfigError as exc:
        print("a broken configuration is reported with every problem:")
        for problem in exc.problems:
            print("  ", problem)
