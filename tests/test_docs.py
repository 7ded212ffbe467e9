"""The manual works as written: every python block of the getting-started page runs and prints
what the page shows, and every TOML/JSON configuration in the manual loads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGE = DOCS / "getting-started.md"
README = ROOT / "README.md"

_FENCE = re.compile(r"^(\s*)(`{3,})\s*([\w+-]*)\s*$")
_MARKER = re.compile(r"^%\s*test:\s*(skip|output)\b")


@dataclass
class Block:
    """One fenced code block of the page."""

    language: str
    line: int
    code: str
    marker: str | None = None
    expected: list[Block] = field(default_factory=list)


def code_blocks(text: str) -> list[Block]:
    """The fenced blocks of a MyST page, each with the ``% test: ...`` marker just before it."""
    blocks: list[Block] = []
    lines = text.splitlines()
    marker: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        comment = _MARKER.match(line.strip())
        if comment:
            marker = comment.group(1)
        elif fence and fence.group(3):
            indent, ticks, language = fence.groups()
            end = i + 1
            while end < len(lines) and lines[end].strip() != ticks:
                end += 1
            body = [line[len(indent) :] for line in lines[i + 1 : end]]
            blocks.append(Block(language, i + 1, "\n".join(body) + "\n", marker))
            marker = None
            i = end
        elif line.strip():
            marker = None
        i += 1
    return blocks


def python_blocks() -> list[Block]:
    """The python blocks to run, each with the ``text`` blocks marked as its output."""
    runnable: list[Block] = []
    for block in code_blocks(PAGE.read_text(encoding="utf-8")):
        if block.language == "python" and block.marker != "skip":
            runnable.append(block)
        elif block.marker == "output":
            assert runnable, f"line {block.line}: an output block before any python block"
            runnable[-1].expected.append(block)
    return runnable


_NORMALISE = (
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?Z?"), "<time>"),
    (re.compile(r'File \\?"[^"\\]*\\?", line \d+'), 'File "<file>", line <n>'),
    (re.compile(r"\\n *[~^]+(?=\\n|\")"), ""),  # caret lines inside JSON strings
    (re.compile(r"^ *[~^]+ *$\n?", re.MULTILINE), ""),  # caret lines (version-dependent)
    (re.compile(r"\b\d+\.\d+s\b"), "<seconds>"),
    (re.compile(r"[ \t]+$", re.MULTILINE), ""),
)


def normalise(text: str) -> str:
    """Mask what differs between runs: times, durations, traceback paths and carets."""
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return text.strip("\n")


BLOCKS = python_blocks()


def test_page_has_runnable_blocks() -> None:
    """The page has python blocks, and the outputs shown are attached to one."""
    assert len(BLOCKS) >= 3
    assert any(block.expected for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"line{b.line}" for b in BLOCKS])
def test_block_runs(block: Block, tmp_path: Path) -> None:
    """Each python block runs in a fresh directory, quietly, and prints what the page shows."""
    script = tmp_path / "snippet.py"
    script.write_text(block.code, encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("FORCE_COLOR", None)
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"block at line {block.line} failed:\n{result.stderr}"
    assert result.stderr == "", f"block at line {block.line} wrote to stderr:\n{result.stderr}"
    if block.expected:
        expected = "".join(b.code for b in block.expected)
        assert normalise(result.stdout) == normalise(expected)


CONFIG_BLOCKS = [
    (page, block)
    for page in sorted(DOCS.rglob("*.md"))
    if "_build" not in page.parts
    for block in code_blocks(page.read_text(encoding="utf-8"))
    if block.language in ("toml", "json") and block.marker != "skip"
]


@pytest.mark.parametrize(
    ("page", "block"),
    CONFIG_BLOCKS,
    ids=[f"{p.relative_to(DOCS)}:{b.line}" for p, b in CONFIG_BLOCKS],
)
def test_config_block_loads(page: Path, block: Block, tmp_path: Path) -> None:
    """Every configuration file shown in the manual is accepted by load_config."""
    import logactors

    path = tmp_path / f"logging.{block.language}"
    path.write_text(block.code, encoding="utf-8")
    config = logactors.load_config(path)
    assert isinstance(config, logactors.SupervisorConfig)


def test_readme_commands_are_on_the_page() -> None:
    """The install commands shown are the README's, verbatim."""
    readme_commands = [
        line.strip()
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith("python3 -m venv")
    ]
    blocks = code_blocks(PAGE.read_text(encoding="utf-8"))
    page_commands = {b.code.strip() for b in blocks if b.language == "bash"}
    assert len(readme_commands) == 2
    for command in readme_commands:
        assert command in page_commands


def test_normalise_masks_run_specific_text() -> None:
    """Timestamps, durations and traceback locations do not make outputs differ."""
    a = 'x 2026-11-23 02:52:50.236942 [INF] in 0.012s\n  File "/a/b.py", line 3, in m\n   ~~^~~\n'
    b = 'x 2025-01-01 00:00:00.000001 [INF] in 1.500s\n  File "/c.py", line 30, in m\n'
    assert normalise(a) == normalise(b)
    assert normalise('{"@t":"2026-11-23T02:52:50.2369423Z"}') == '{"@t":"<time>"}'
