"""Tests for ``logactors demo``: a short run exits 0 with nothing lost, and its report shows
that the HTTP breakers opened during the collector's outage and recovered, that the spool was
replayed and the fallback used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from logactors.cli import main

pytestmark = pytest.mark.slow  # real subprocesses: seconds each


def run_demo(
    tmp_path: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    report = tmp_path / "report.json"
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "logactors",
            "demo",
            "--no-live",
            "--dir",
            str(tmp_path / "logs"),
            "--json-report",
            str(report),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )
    assert report.exists(), result.stdout + result.stderr
    return result, json.loads(report.read_text(encoding="utf-8"))


def check_run(result: subprocess.CompletedProcess[str], document: dict[str, Any]) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert document["ok"] is True
    report = document["report"]
    assert report["ok"] is True
    assert report["lost"] == 0
    assert report["rejected"] == 0
    totals = report["totals"]
    assert totals["dropped"] == totals["failed"] == totals["lost"] == 0
    sinks = report["sinks"]
    assert sinks["file"]["written"] == report["events"] > 1000
    # The collector refused batches during the outage ...
    assert document["collector"]["refused_requests"] > 0
    # ... both HTTP breakers opened, then closed again ...
    for name in ("seq", "json"):
        breaker = document["breakers"][name]
        assert breaker["opened"], breaker
        assert breaker["recovered"], breaker
        assert sinks[name]["circuit"] == "closed"
    # ... seq spooled and replayed everything; json rerouted to the fallback file.
    assert sinks["seq"]["spooled"] > 0
    assert sinks["seq"]["replayed"] == sinks["seq"]["spooled"]
    assert sinks["seq"]["spool_depth"] == 0
    assert sinks["json"]["rerouted"] > 0
    assert sinks["fallback"]["written"] == sinks["json"]["rerouted"]
    # Every info+ event reached the collector (directly or replayed) or the fallback file.
    delivery = document["delivery"]
    assert delivery["ok"] is True
    assert delivery["seq"]["missing"] == delivery["json"]["missing"] == 0
    assert delivery["seq"]["received"] == delivery["seq"]["expected"] > 0
    assert (
        delivery["json"]["received"] + delivery["json"]["fallback"] == delivery["json"]["expected"]
    )
    assert delivery["file"]["missing"] == 0
    out = result.stdout
    assert "shutdown (graceful)" in out and "nothing lost" in out
    assert "demo result: nothing was lost" in out
    assert "breaker seq   closed → open" in out
    assert document["directory"] in out


def test_demo_short_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 3-second demo exits 0, nothing lost, breakers opened and recovered; its files are
    readable by ``logactors view``."""
    result, document = run_demo(tmp_path, "--seconds", "3")
    check_run(result, document)
    assert document["http_sink"] in ("builtin", "urllib")
    # The periodic plain table (not a terminal): printed more than once, no cursor movement.
    assert result.stdout.count("written/s") >= 2
    assert "\x1b[" not in result.stdout
    # Sampled console lines are shown.
    assert " INF " in result.stdout

    logs = tmp_path / "logs"
    names = sorted(p.name for p in logs.iterdir())
    assert "demo.clef" in names and "fallback.clef" in names
    assert main(["view", "--level", "error", "--color", "never", str(logs / "demo.clef")]) == 0
    shown = capsys.readouterr()
    assert shown.err == ""  # no malformed line

    # A second run into the same directory would mix its files with these: refused.
    assert main(["demo", "--seconds", "1", "--no-live", "--dir", str(logs)]) == 2
    assert "already holds files of an earlier run" in capsys.readouterr().err


def test_demo_with_urllib_sink(tmp_path: Path) -> None:
    """The demo works the same with its urllib-based custom HTTP sink."""
    result, document = run_demo(
        tmp_path, "--seconds", "2.5", "--rate", "2000", "--workers", "2", "--http", "urllib"
    )
    assert document["http_sink"] == "urllib"
    check_run(result, document)


def test_demo_help_says_what_lost_means(capsys: pytest.CaptureFixture[str]) -> None:
    """``demo --help`` documents the options and what the exit status means."""
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--seconds", "--rate", "--workers", "--dir", "--no-live", "--json-report"):
        assert option in text
    assert "exit status" in text
    assert "nothing was lost" in text


def test_demo_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """Non-positive durations and rates are usage errors (exit status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--seconds", "0"])
    assert exit_info.value.code == 2
    assert "must be > 0" in capsys.readouterr().err
