"""The quality gates run with the tests: ruff check, ruff format --check and mypy --strict."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINTED = ["logactors", "tests", "benchmarks", "examples", "noxfile.py", "docs/conf.py", "docs/_ext"]

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def _tool(name: str) -> str:
    """The tool from the running interpreter's environment (the project's virtualenv)."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed (pip install -e '.[dev]')"
    return found


def test_ruff_check() -> None:
    """`ruff check` reports nothing."""
    result = _run(_tool("ruff"), "check", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    """`ruff format --check` would change no file."""
    result = _run(_tool("ruff"), "format", "--check", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    """`mypy --strict` over the package and the benchmarks reports no error."""
    result = _run(sys.executable, "-m", "mypy", "--strict", "logactors", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr
