"""A build of the logactors hot path with its metrics counters removed (for the metrics cost).

The functions of the event path are recompiled from their own source with every counter update
taken out (``x.counters.<name> += ...``, ``rt.events += 1`` / ``self.events += 1`` and the batch
latency sample), and swapped in for the duration of a ``with counters_removed():`` block.
Queue bookkeeping that the logger needs to work (``inbox.bytes``, ``enqueued``, ``done``,
``in_flight``) stays. The source is read at run time, so this follows the core as it changes;
a function that is missing or cannot be recompiled is reported, not patched.
"""

from __future__ import annotations
import __future__

import ast
import contextlib
import inspect
import textwrap
from collections.abc import Iterator
from types import FunctionType, ModuleType
from typing import Any

from logactors import _actor, _inbox, _logger, _supervisor

#: (module, class name, method name) of the per-event and per-batch path.
TARGETS: tuple[tuple[ModuleType, str, str], ...] = (
    (_logger, "Logger", "_method"),
    (_inbox, "Inbox", "put_nowait"),
    (_supervisor, "Runtime", "route"),
    (_actor, "SinkActor", "_deliver"),
    (_actor, "SinkActor", "_attempt"),
)


def _is_counter(node: ast.stmt) -> bool:
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Attribute):
        target = node.target
        owner = target.value
        if isinstance(owner, ast.Attribute) and owner.attr == "counters":
            return True  # self.counters.written += n
        if (target.attr == "events" and isinstance(owner, ast.Name)
                and owner.id in {"rt", "self"}):
            return True  # rt.events += 1
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if (isinstance(func, ast.Attribute) and func.attr == "append"
                and isinstance(func.value, ast.Attribute) and func.value.attr == "latencies"):
            return True  # self.latencies.append(...)
    return False


class _Strip(ast.NodeTransformer):
    def __init__(self) -> None:
        self.removed: list[str] = []

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if not isinstance(statements, list) or not statements:
                continue
            if not all(isinstance(s, ast.stmt) for s in statements):
                continue
            kept = []
            for statement in statements:
                if _is_counter(statement):
                    self.removed.append(ast.unparse(statement))
                else:
                    kept.append(statement)
            if not kept:
                kept = [ast.Pass()]
            setattr(node, field, kept)
        return node


def _rebuild(module: ModuleType, function: FunctionType) -> tuple[FunctionType, list[str]]:
    source = textwrap.dedent(inspect.getsource(function))
    tree = ast.parse(source)
    stripper = _Strip()
    tree = ast.fix_missing_locations(stripper.visit(tree))
    code = compile(tree, f"<nometrics {module.__name__}>", "exec",
                   flags=__future__.annotations.compiler_flag, dont_inherit=True)
    namespace: dict[str, Any] = dict(vars(module))
    exec(code, namespace)
    rebuilt = namespace[function.__name__]
    assert isinstance(rebuilt, FunctionType)
    return rebuilt, stripper.removed


@contextlib.contextmanager
def counters_removed() -> Iterator[dict[str, list[str]]]:
    """Swap in the counter-free functions; yields what was removed per function (or why a
    function was left alone)."""
    originals: list[tuple[type, str, Any]] = []
    removed: dict[str, list[str]] = {}
    try:
        for module, class_name, name in TARGETS:
            key = f"{module.__name__}.{class_name}.{name}"
            cls = getattr(module, class_name, None)
            function = getattr(cls, name, None) if cls is not None else None
            if not isinstance(function, FunctionType):
                removed[key] = ["<not found: left alone>"]
                continue
            try:
                rebuilt, lines = _rebuild(module, function)
            except (OSError, SyntaxError, TypeError, AssertionError, KeyError) as exc:
                removed[key] = [f"<cannot rebuild: {exc!r}>"]
                continue
            assert cls is not None
            originals.append((cls, name, cls.__dict__[name]))
            setattr(cls, name, rebuilt)
            removed[key] = lines
        yield removed
    finally:
        for cls, name, original in reversed(originals):
            setattr(cls, name, original)
