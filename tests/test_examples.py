"""Every program in ``examples/`` runs offline, quickly, writes only to temporary directories,
exits 0 and prints what it is about, so none of them can rot."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real subprocesses: seconds each

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# A characteristic bit of each example's output.
EXPECTED: dict[str, list[str]] = {
    "quickstart.py": [
        "[INF] Processing request 42 for bob",
        "[WRN] Disk at 93.5%",
        "ValueError: invalid literal",
        "written so far: 4 events to the file",
        "nothing lost",
        '"@mt":"Processing request {id} for {user}"',
    ],
    "request_context.py": ["req-10 ", "every one of 50 events carries the request_id"],
    "file_rotation.py": ["(rolled)", "(active)", "rolled files kept: 3 (retain=3)"],
    "http_shipping.py": [
        "breaker states seen: closed -> open",
        "-> closed",
        "of 1500 accepted",
        "nothing lost",
    ],
    "custom_sink.py": [
        "rows in sqlite by level: {'DEBUG': 50, 'INFO': 40, 'WARNING': 10}",
        "counting sink (info and up): {'INFO': 40, 'WARNING': 10}",
    ],
    "stdlib_bridge.py": [
        "[payments.client] charging order 1: 42.00 EUR",
        "exception: TimeoutError: gateway did not answer in 5s",
        "[audit] user ada exported 5000 rows",
        "5 stdlib records arrived as logactors events",
    ],
    "toml_config.py": [
        "loaded logactors.toml",
        "sink 'errors'",
        "logs/app.clef holds 4 events",
        "sinks[0].queue.max_events: must be > 0 (got -1)",
    ],
}


def test_every_example_is_tested() -> None:
    """A new example must be added to EXPECTED (and so gets run)."""
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_has_a_docstring(name: str) -> None:
    """Each example says what it shows and how to run it."""
    docstring = ast.get_docstring(ast.parse((EXAMPLES / name).read_text(encoding="utf-8")))
    assert docstring
    assert f"python examples/{name}" in docstring


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str, tmp_path: Path) -> None:
    """The example exits 0 within a few seconds, prints its characteristic output, and
    leaves nothing behind in the working directory or in examples/."""
    before = sorted(os.listdir(EXAMPLES))
    env = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("FORCE_COLOR", None)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    for expected in EXPECTED[name]:
        assert expected in result.stdout, f"{expected!r} not in:\n{result.stdout}"
    assert list(tmp_path.iterdir()) == []
    assert sorted(os.listdir(EXAMPLES)) == before
