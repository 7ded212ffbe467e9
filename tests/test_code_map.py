"""The code map of docs/architecture.md names every module of the package, and test files that
exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "architecture.md"
_NAME = re.compile(r"`([^`]+)`")


def code_map() -> list[tuple[list[str], list[str]]]:
    """Rows of the code map's tables: (module paths under logactors/, test file patterns)."""
    text = PAGE.read_text()
    section = text[text.index("## Code map") :]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("Module", "---"):
            continue
        modules: list[str] = []
        folder = ""
        for name in _NAME.findall(cells[0]):
            if "/" in name:
                folder = name.rsplit("/", 1)[0] + "/" if not name.endswith("/") else name
            modules.append(name if "/" in name else folder + name)
        rows.append((modules, _NAME.findall(cells[2])))
    return rows


def test_every_module_is_on_the_map() -> None:
    """Each module file of logactors/ is named in the code map (a folder entry covers its
    files), and every name on the map is a file that exists."""
    rows = code_map()
    named = {m for modules, _ in rows for m in modules}
    package = ROOT / "logactors"
    files = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    missing = sorted(
        f
        for f in files
        if f not in named and not any(f.startswith(n) for n in named if n[-1] == "/")
    )
    assert not missing, f"not on the code map: {missing}"
    unknown = sorted(n for n in named if not (package / n).exists())
    assert not unknown, f"on the code map but not in logactors/: {unknown}"


def test_test_files_on_the_map_exist() -> None:
    """Every test file the code map names exists."""
    tests = ROOT / "tests"
    patterns = {p for _, found in code_map() for p in found}
    assert patterns
    assert not sorted(p for p in patterns if not list(tests.glob(p))), patterns
