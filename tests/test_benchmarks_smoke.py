"""Smoke tests of the benchmarks: ``python -m benchmarks --quick`` runs every suite and saves
its JSON; ``benchmarks.profile`` calls the library's own code; docs/performance.md and the
README show exactly what their committed results file renders.

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
import trio

from benchmarks import ablation, markdown
from benchmarks.__main__ import SUITES

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # a real subprocess: seconds
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
        timeout=300,
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
    assert [len(results["stall"]["threads"]), len(results["stall"]["asyncio_burst"])] == [4, 2]
    assert results["stall"]["threads"][3]["logging"]["gc_freeze"] is True
    assert [r["written"] + r["dropped"] for r in results["writers"]["runs"]] == [
        results["writers"]["events"]
    ] * 4
    assert results["bridge"]["ratio_call"] > 0
    assert set(results["shipping"]["protocols"]) >= {"otlp-json", "otlp-protobuf"}
    assert results["profile"]["caller_whole_ns"]
    assert results["ablation"]["ratio_to_bare"][ablation.BARE] == 1
    assert set(results["ablation"]["ns"]) == set(ablation.ROWS)
    assert set(ablation.ROWS) == {"full", "every rule part", "bare trio pipeline"} | set(
        ablation.ABLATIONS
    )
    named = {g["goal"].split(":")[0] for g in results["goals"]}
    assert named >= {"stall", "writers", "bridge", "shipping"}
    assert "THREAD PRODUCERS" in done.stdout
    rendered = markdown.render_full(results, "x.json")
    assert "### Thread producers and the trio loop" in rendered
    assert "### Where the time goes" in rendered


@pytest.mark.slow  # a second of profiling
def test_profile_measures_the_real_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmarks.profile`` times the library's own builder, put and formatters (never a
    copy): each of them is called while the profile runs, and every row has a figure."""
    import trio

    from benchmarks import profile
    from logactors._capture import Builder
    from logactors._core.inbox import Inbox
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


@pytest.mark.parametrize("document", ["docs/performance.md", "README.md"])
def test_documented_figures_are_the_committed_results(document: str) -> None:
    """Each generated section of the page is exactly what its committed results file renders
    (so every figure on it comes from that file), and the file is a full run, not a smoke
    pass, that recorded the machine and its load."""
    text = (ROOT / document).read_text(encoding="utf-8")
    found = markdown.sections(text)
    assert found, f"{document} has no generated benchmark section"
    for kind, path, body in found:
        assert path.startswith("benchmarks/results/"), path
        tracked = subprocess.run(
            ["git", "ls-files", "--error-unmatch", path],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        assert tracked.returncode == 0, f"{path} is not committed"
        results = json.loads((ROOT / path).read_text(encoding="utf-8"))
        assert results["meta"]["quick"] is False
        assert results["meta"]["machine"]["cores"]
        assert results["meta"]["load_before"] and results["meta"]["load_after"]
        assert body == markdown.render_section(kind, path), (
            f"{document}: the {kind} section differs from what {path} renders; run "
            f"python -m benchmarks.report --update {document}"
        )


def test_markdown_update_rewrites_only_the_generated_section(tmp_path: Path) -> None:
    """``--update`` replaces what is between the markers and keeps the prose around them."""
    page = ROOT / "docs/performance.md"
    kind, path, _ = markdown.sections(page.read_text(encoding="utf-8"))[0]
    doc = tmp_path / "page.md"
    doc.write_text(
        f"prose before\n<!-- BEGIN benchmark {kind}: {path} -->\nstale 1.23 µs\n"
        f"<!-- END benchmark {kind} -->\nprose after\n",
        encoding="utf-8",
    )
    from benchmarks.report import main

    assert main(["--update", str(doc)]) == 0
    updated = doc.read_text(encoding="utf-8")
    assert updated.startswith("prose before\n") and updated.endswith("prose after\n")
    assert "stale" not in updated
    assert markdown.sections(updated)[0][2] == markdown.render_section(kind, path)


def test_every_ablation_still_names_a_line_of_the_template() -> None:
    """``benchmarks.ablation`` edits the real level-method template: each part it takes out
    must still be in the template (and the edited template must still compile and log)."""
    from logactors import _levelmethod

    for name, (old, _new) in ablation.ABLATIONS.items():
        assert old in _levelmethod.TEMPLATE, name
    rows = trio.run(ablation._pass, 1, 10)
    assert set(rows) == set(ablation.ROWS) and min(rows.values()) > 0


def test_paired_goals_take_the_side_by_side_ratios() -> None:
    """A section with ``paired`` rounds is judged on their median (the note keeps the ratio of
    the medians); an older results file without them, on the ratio of the medians; a library
    the run left out (picologging where it does not install) is n/a."""
    from benchmarks._util import summary
    from benchmarks.report import _paired

    e2e = {
        "results": {"logactors": summary([300.0, 100.0, 200.0]), "pico": summary([100.0] * 3)},
        "paired": {"pico": summary([2.6, 2.4, 2.7])},
    }
    goal = _paired("e2e", e2e, "logactors", "pico", ">=", 2.5)
    assert (goal["value"], goal["verdict"]) == (2.6, "PASS")
    assert "ratio of the medians 2.00" in goal["note"]
    fanout = {
        "results": {"4": summary([5.0] * 3), "1": summary([3.0] * 3)},
        "paired": {"4": summary([1.5, 1.7, 1.4])},
    }
    assert _paired("fan-out", fanout, "4", "1", "<=", 1.6)["value"] == 1.5
    missing = _paired("e2e", e2e, "logactors", "structlog", ">=", 3.0)  # (a library left out)
    assert missing["verdict"] == "n/a"
    del e2e["paired"]
    assert _paired("e2e", e2e, "logactors", "pico", ">=", 2.5)["value"] == 2.0


def test_frozen_heap_freezes_counts_full_collections_and_unfreezes() -> None:
    """The caller turns run on a frozen heap; a full collection inside a timed block is
    counted on that block's case, and the heap is unfrozen afterwards."""
    import gc

    from benchmarks._util import FULL_COLLECTIONS, Blocks, Loop, frozen_heap

    def block(start: int, n: int) -> int:
        gc.collect()  # (a full collection, as the collector would start one)
        return n

    quiet = Blocks()
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        collecting = Blocks()
        collecting.run(block, 0, 10)
        quiet.run(lambda start, n: n, 0, 10)
    assert gc.get_freeze_count() == 0 and FULL_COLLECTIONS not in gc.callbacks
    counted = collecting.per_call(Loop(wall=0.0, cpu=0.0))
    assert counted["full_gcs"] == 1 and counted["full_gc_ms"] > 0
    assert quiet.per_call(Loop(wall=0.0, cpu=0.0))["full_gcs"] == 0
