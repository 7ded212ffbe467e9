"""The import graph of the package has no cycle, and the CLI uses the public API only.

The graph is read from the source (ast): module-level and function-local imports (a function-local
import that closes a cycle is a cycle held apart only by timing), not those under
``if TYPE_CHECKING:``. Lazy imports of optional dependencies and of the sink modules loaded on
demand are edges like any other: they are fine as long as they close no cycle.
"""

from __future__ import annotations

import ast
import functools
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "logactors"


def modules(package: Path) -> dict[str, Path]:
    """Every module of ``package`` by dotted name (a package by its own name)."""
    found = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run: at module level or in functions, not for type checkers."""
    for node in ast.iter_child_nodes(tree):
        if _is_type_checking(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def imported(
    name: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]
) -> Iterator[tuple[str, str]]:
    """The package's modules that ``node`` (in module ``name``) imports, with the names taken."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, ""
        return
    if node.level:
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        yield (submodule, "") if submodule in known else (source, alias.name)


Graph = dict[str, dict[str, set[str]]]


def import_graph(package: Path) -> Graph:
    """``{module: {imported module of the package: names taken from it}}``."""
    mods = modules(package)
    graph: Graph = {name: {} for name in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in _imports(tree):
            for target, taken in imported(name, path.name == "__init__.py", node, set(mods)):
                if target in mods and target != name:
                    names = graph[name].setdefault(target, set())
                    if taken:
                        names.add(taken)
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle of the graph (``[a, b, …, a]``), or None."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


@functools.cache
def package_graph() -> Graph:
    """The import graph of logactors (read once per session; copy before changing it)."""
    return import_graph(PACKAGE)


def test_no_import_cycles() -> None:
    """No module of the package imports itself back through others."""
    graph = {module: dict(targets) for module, targets in package_graph().items()}
    cycle = find_cycle(graph)
    assert cycle is None, " <- ".join(cycle)


def test_a_cycle_through_a_function_local_import_is_found(tmp_path: Path) -> None:
    """The check sees a cycle closed inside a function or through the package root, and not
    one under TYPE_CHECKING."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import c\n"
    )
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")
    (pkg / "c.py").write_text("from . import a\nfrom pkg.b import y\n")
    assert find_cycle(import_graph(pkg)) is None
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    assert sorted(find_cycle(import_graph(pkg)) or []) == ["pkg.a", "pkg.a", "pkg.b"]
    (pkg / "a.py").write_text("")
    (pkg / "__init__.py").write_text("from .c import z\n")
    (pkg / "b.py").write_text("from . import z\n")
    assert sorted(find_cycle(import_graph(pkg)) or []) == ["pkg", "pkg", "pkg.b", "pkg.c"]


def _private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split(".")[1:])


@pytest.mark.parametrize(
    "module", sorted(m for m in modules(PACKAGE) if m.startswith("logactors.cli"))
)
def test_cli_uses_the_public_api(module: str) -> None:
    """The demo and the CLI import only public modules and names of logactors (their own
    private helpers aside)."""
    private = [
        (target, sorted(names))
        for target, names in package_graph()[module].items()
        if not target.startswith("logactors.cli")
        and (_private(target) or any(n.startswith("_") for n in names))
    ]
    assert not private, private
