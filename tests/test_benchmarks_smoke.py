"""Smoke test of the benchmark suite: ``python -m benchmarks --quick`` runs and saves its JSON.

Nothing here looks at the figures (tests never assert wall-clock times); it only checks that
every suite ran, that the events reached their files (the suites assert that themselves), and
that the report and the JSON file were written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import SUITES

pytestmark = pytest.mark.slow  # real subprocesses: seconds each

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_runs_and_writes_json(tmp_path: Path) -> None:
    """The quick pass completes, prints the goals table and saves every suite to JSON."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--quiet", "--results", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "GOALS" in done.stdout
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    results = json.loads(files[0].read_text(encoding="utf-8"))
    assert results["meta"]["quick"] is True
    assert results["meta"]["machine"]["python"]
    for suite in SUITES:
        assert suite in results, suite
    assert "logactors" in results["caller"]["results"]
    assert "bare-trio" in results["e2e"]["results"]
    assert "logactors-tuned" in results["e2e"]["results"]
    assert results["e2e"]["dropped"]["logactors-tuned"] == 0
    assert set(results["shapes"]["results"]) >= {"two scalars", "positional", "nested dict"}
    assert results["metrics"]["updates_per_event"] > 0
    assert results["latency"]["results"]["logactors"]["p99"] > 0
    assert results["memory"]["queue_depth"] > 0
    assert results["shutdown"]["graceful"]["lost"] == 0
    assert {g["verdict"] for g in results["goals"]} <= {"PASS", "FAIL", "n/a"}


def test_profile_measures_the_real_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmarks.profile`` times the library's own builder, put and formatters (never a
    copy): each of them is called while the profile runs, and every row has a figure."""
    import trio

    from benchmarks import profile
    from logactors._capture import Builder
    from logactors._inbox import Inbox
    from logactors.formatting.json import ClefFormatter

    calls: dict[str, int] = {}

    def counting(cls: type, name: str) -> None:
        original = getattr(cls, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            calls[name] = calls.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(cls, name, wrapper)

    counting(Builder, "prepare")
    counting(Builder, "admit")
    counting(Inbox, "put_nowait")
    counting(ClefFormatter, "format_batch")
    result = trio.run(profile.profile, profile.Sizes.quick())
    assert set(calls) == {"prepare", "admit", "put_nowait", "format_batch"}
    assert set(result["caller_whole_ns"]) == {row[0] for row in profile.WHOLE_CALLS}
    assert len(result["caller_parts_ns"]) >= 5
    assert {"clef: format_batch", "text: format_batch"} <= set(result["consumer_ns_per_event"])
    assert "Builder.prepare" in profile.render(result)
