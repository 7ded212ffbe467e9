"""Each sink's counters are written only by their owner's methods (``self.counters``).

An actor hands events to another actor through that actor's methods (``accept_rerouted``,
``accept_diverted``), never by writing its fields: a write such as
``target.counters.received += n`` would let two actors update one ledger.
"""

from __future__ import annotations

import ast
from pathlib import Path

import logactors

PACKAGE = Path(logactors.__file__).parent

#: Writes by a non-owner that are known and still to be removed, by (module, counter).
#: Nothing may be added here.
KNOWN: frozenset[tuple[str, str]] = frozenset()


def _is_self_counters(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "counters"
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def foreign_counter_writes(source: str) -> list[tuple[int, str, str]]:
    """``(line, function, code)`` of every write to an attribute of some ``counters`` through
    anything but ``self.counters`` (directly or through a name bound to it)."""
    tree = ast.parse(source)
    # Names bound to some ``<x>.counters`` anywhere in the module (closures included): a
    # name is an alias of the owner's counters only if every binding is ``self.counters``.
    bindings: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bindings.setdefault(target.id, []).append(node.value)

    def owned(ref: ast.expr) -> bool:
        if _is_self_counters(ref):
            return True
        if isinstance(ref, ast.Name):
            values = bindings.get(ref.id, [])
            return bool(values) and all(_is_self_counters(v) for v in values)
        return False

    def counters_ref(ref: ast.expr) -> bool:
        if isinstance(ref, ast.Attribute):
            return ref.attr == "counters"
        if isinstance(ref, ast.Name):
            values = bindings.get(ref.id, [])
            return ref.id == "counters" or any(
                isinstance(v, ast.Attribute) and v.attr == "counters" for v in values
            )
        return False

    found: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            targets: list[ast.expr] = []
            if isinstance(child, ast.Assign):
                targets = list(child.targets)
            elif isinstance(child, ast.AugAssign | ast.AnnAssign):
                targets = [child.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and counters_ref(target.value)
                    and not owned(target.value)
                ):
                    found.append((target.lineno, function, ast.unparse(target)))
            visit(child, function)

    visit(tree, "<module>")
    return found


def test_the_checker_finds_foreign_writes() -> None:
    """Writes through another object's counters (or an alias of them) are found; the owner's
    own writes (or an alias of ``self.counters``) are not."""
    source = """
class A:
    def mine(self):
        self.counters.written += 1
        c = self.counters
        c.failed += 1
    def theirs(self, target):
        target.counters.received += 1
        target.inbox.counters.spooled = 3
    def aliased(self, share):
        counters = share.inbox.counters
        counters.dropped += 1
"""
    found = foreign_counter_writes(source)
    assert [(function, code) for _, function, code in found] == [
        ("theirs", "target.counters.received"),
        ("theirs", "target.inbox.counters.spooled"),
        ("aliased", "counters.dropped"),
    ]


def test_no_module_writes_another_objects_counters() -> None:
    """Across the package, counters are written only by their owner's methods (apart from the
    known writes listed in ``KNOWN``)."""
    offending: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for line, function, code in foreign_counter_writes(path.read_text(encoding="utf-8")):
            if (relative, code.rpartition(".")[2]) not in KNOWN:
                offending.append(f"logactors/{relative}:{line} in {function}(): {code}")
    assert offending == []
