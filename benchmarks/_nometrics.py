"""A build of the logactors hot path with its metrics counters removed (for the metrics cost).

The functions of the event path are recompiled from their own source with every counter update
taken out (``x.counters.<name> += ...``, ``rt.events += 1`` / ``self.events += 1`` and the batch
latency sample), and swapped in for the duration of a ``with counters_removed():`` block.
Queue bookkeeping that the logger needs to work (``inbox.bytes``, ``enqueued``, ``done``,
``in_flight``) stays. The source is read at run time, so this follows the core as it changes;
a function that is missing or cannot be recompiled (or whose file was edited after the import,
so that its source is not the running code) is reported, not patched.
"""

from __future__ import annotations
import __future__

import ast
import contextlib
import inspect
import textwrap
from collections.abc import Iterator
from types import CodeType, FunctionType, ModuleType
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


def _read_sources() -> dict[tuple[str, str, str], str]:
    """The source of every target, read now (at import, right after logactors itself was
    imported), so that later edits of the files do not leak in."""
    sources = {}
    for module, class_name, name in TARGETS:
        function = getattr(getattr(module, class_name, None), name, None)
        if isinstance(function, FunctionType):
            try:
                sources[module.__name__, class_name, name] = textwrap.dedent(
                    inspect.getsource(function)
                )
            except (OSError, TypeError):
                pass
    return sources


_SOURCES = _read_sources()


def _is_counter(node: ast.stmt) -> bool:
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Attribute):
        target = node.target
        owner = target.value
        if isinstance(owner, ast.Attribute) and owner.attr == "counters":
            return True  # self.counters.written += n
        if isinstance(owner, ast.Name) and owner.id == "counters":
            return True  # counters.accepted += 1 (a bound local)
        if target.attr == "events" and isinstance(owner, ast.Name) and owner.id in {"rt", "self"}:
            return True  # rt.events += 1
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "append"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "latencies"
        ):
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


def _plain_consts(code: CodeType) -> list[object]:
    # docstrings differ by the indentation that dedenting the source removed
    return [
        inspect.cleandoc(c) if isinstance(c, str) else c
        for c in code.co_consts
        if not isinstance(c, CodeType)
    ]


def _same_code(a: CodeType, b: CodeType) -> bool:
    """Whether two code objects come from the same source: same names, variables and constants,
    nested code too (bytecode is not compared: it depends on how the module was compiled)."""
    if (
        a.co_names != b.co_names
        or a.co_varnames != b.co_varnames
        or a.co_freevars != b.co_freevars
        or _plain_consts(a) != _plain_consts(b)
    ):
        return False
    inner_a = [c for c in a.co_consts if isinstance(c, CodeType)]
    inner_b = [c for c in b.co_consts if isinstance(c, CodeType)]
    return len(inner_a) == len(inner_b) and all(
        _same_code(x, y) for x, y in zip(inner_a, inner_b, strict=True)
    )


def _compile(module: ModuleType, tree: ast.Module) -> FunctionType:
    code = compile(
        tree,
        f"<nometrics {module.__name__}>",
        "exec",
        flags=__future__.annotations.compiler_flag,
        dont_inherit=True,
    )
    namespace: dict[str, Any] = dict(vars(module))
    exec(code, namespace)
    return next(
        v for k, v in namespace.items() if isinstance(v, FunctionType) and k not in vars(module)
    )


def _rebuild(
    module: ModuleType, class_name: str, function: FunctionType
) -> tuple[FunctionType, list[str]]:
    """The function without its counters. Raises ValueError when the source read is not the
    code that is running (the file was edited after the import)."""
    source = _SOURCES.get((module.__name__, class_name, function.__name__))
    if source is None:
        raise ValueError("no source")
    if not _same_code(_compile(module, ast.parse(source)).__code__, function.__code__):
        raise ValueError("source on disk differs from the running code")
    stripper = _Strip()
    tree = ast.fix_missing_locations(stripper.visit(ast.parse(source)))
    return _compile(module, tree), stripper.removed


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
                rebuilt, lines = _rebuild(module, class_name, function)
            except (OSError, SyntaxError, TypeError, ValueError, StopIteration) as exc:
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
