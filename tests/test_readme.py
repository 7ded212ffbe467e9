"""The README works as written: its two commands are the ones CI runs, and every python
block runs (each in a fresh directory, in its own process)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)
COMMANDS = re.findall(r"^(python3 -m venv .*)$", README, flags=re.MULTILINE)


def test_two_commands_and_ci_runs_the_test_command() -> None:
    """The README opens with exactly two set-up commands; .ci/run runs the second verbatim."""
    assert len(COMMANDS) == 2
    demo, tests = COMMANDS
    assert demo.endswith("-m logactors demo")
    assert tests.endswith("-m pytest")
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_python_block_runs(code: str, tmp_path: Path) -> None:
    """Each python block runs to completion without error output."""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_blocks_exist() -> None:
    """The README has the examples this test is meant to guard."""
    assert len(BLOCKS) >= 5
