"""KeyboardInterrupt: the first one drains (strategy as configured), a second one during the
drain switches to immediate (spool what is left); the report is always built."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PROGRAM = textwrap.dedent(
    """
    import json, sys, trio, logactors
    from logactors import CustomSink, ShutdownConfig, SpoolConfig, SupervisorConfig

    class Stuck:
        async def open(self): pass
        async def write_batch(self, events):
            print("writing", flush=True)
            await trio.sleep_forever()
        async def flush(self): pass
        async def aclose(self): pass

    async def main():
        config = SupervisorConfig(
            self_log="off",
            shutdown=ShutdownConfig(strategy=sys.argv[2], timeout=3600),
            sinks=[CustomSink(name="stuck", sink=Stuck(), write_timeout=3600,
                              spool=SpoolConfig(path=sys.argv[1]))],
        )
        try:
            async with logactors.open_logger(config) as log:
                for i in range(10):
                    log.info("event {i}", i=i)
                print("ready", flush=True)
                await trio.sleep_forever()
        finally:
            r = log.report
            print(json.dumps({"strategy": r.strategy, "spooled": r.sinks["stuck"].spooled,
                              "lost": r.lost, "balanced": r.sinks["stuck"].balanced}),
                  flush=True)

    trio.run(main)
    """
)


def _run(tmp_path: Path, strategy: str, interrupts: int) -> tuple[int, list[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, str(tmp_path / "stuck.spool"), strategy],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    lines: list[str] = []
    while not {"writing", "ready"} <= set(lines):  # stuck in a write, and idle in the body
        line = child.stdout.readline().strip()
        assert line, f"child ended early: {child.stderr.read() if child.stderr else ''}"
        lines.append(line)
    for _ in range(interrupts):
        os.kill(child.pid, signal.SIGINT)
        time.sleep(0.3)  # a human's second Ctrl-C; the child is stuck in its drain meanwhile
    out, err = child.communicate(timeout=30)
    lines.extend(out.strip().splitlines())
    assert "KeyboardInterrupt" in err
    return child.returncode, lines


def test_second_interrupt_switches_a_stuck_flush_to_immediate(tmp_path: Path) -> None:
    """strategy=flush waits forever for a stuck sink; a second Ctrl-C spools everything."""
    code, lines = _run(tmp_path, "flush", interrupts=2)
    report = json.loads(lines[-1])
    assert code != 0
    assert report == {"strategy": "immediate", "spooled": 10, "lost": 0, "balanced": True}


def test_single_interrupt_drains_and_propagates(tmp_path: Path) -> None:
    """One Ctrl-C: the configured graceful drain runs (here its deadline spools), then the
    KeyboardInterrupt leaves trio.run."""
    program_timeout = PROGRAM.replace("timeout=3600", "timeout=0.5")
    child = subprocess.Popen(
        [sys.executable, "-c", program_timeout, str(tmp_path / "s.spool"), "graceful"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    while child.stdout.readline().strip() != "ready":
        pass
    os.kill(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=30)
    report = json.loads(out.strip().splitlines()[-1])
    assert "KeyboardInterrupt" in err
    assert report == {"strategy": "graceful", "spooled": 10, "lost": 0, "balanced": True}
