"""Inlining a small function into generated source, from the function itself.

The logger's level methods (:mod:`logactors._levelmethod`) are generated at construction. Where
a call costs a measurable share of a logging call (the inbox's one put, the redaction scan
hint), the generated method carries the callee's own body instead of a call to it: the body is
taken from the function's source with :mod:`ast`, its parameters renamed to the caller's
expressions, its local names given private names, and the module globals it reads either
written as literals (numbers, strings: the module's constants, read once per process)
or passed in the generated function's namespace under private names. The function
stays the one place its logic is written; the inlined copy is derived from it (once per process
for each function and arguments), so the two cannot drift apart.

Only simple bodies are inlined: statements without ``return`` (a procedure), or a single
``return <expression>`` (an expression). Anything else, or a function whose source cannot be
read (a frozen application, a ``.pyc``-only install), raises :class:`NotInlinable`, and the
caller falls back to calling the function.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import textwrap
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["Inlined", "NotInlinable", "inline_body", "inline_expression"]

#: module globals of these types are written into the inlined source as literals
_CONSTANTS: Final = frozenset({int, float, str, bool, bytes, type(None)})


class NotInlinable(Exception):
    """The function cannot be inlined (see the module docstring); call it instead."""


class Inlined:
    """Inlined source and the names it needs in the generated function's namespace."""

    __slots__ = ("namespace", "source")

    def __init__(self, source: str, namespace: dict[str, Any]) -> None:
        self.source = source
        self.namespace = namespace


@functools.cache
def _parsed(function: Callable[..., Any]) -> ast.FunctionDef:
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError) as exc:
        raise NotInlinable(f"no source for {function!r}") from exc
    tree = ast.parse(source)
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise NotInlinable(f"{function!r} is not a plain function")
    return node


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: Mapping[str, ast.expr]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.AST:
        replacement = self.mapping.get(node.id)
        if replacement is None:
            return node
        if isinstance(node.ctx, ast.Load):
            return ast.copy_location(replacement, node)
        if isinstance(replacement, ast.Name):  # an assignment to a renamed local
            return ast.copy_location(ast.Name(replacement.id, node.ctx), node)
        raise NotInlinable(f"assignment to the parameter {node.id!r}")


def _prepare(
    function: Callable[..., Any], arguments: Mapping[str, str], prefix: str
) -> tuple[list[ast.stmt], dict[str, Any]]:
    node = copy.deepcopy(_parsed(function))  # (the transformer edits it in place)
    body = list(node.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]  # the docstring
    params = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
    if node.args.vararg or node.args.kwarg or set(params) != set(arguments):
        raise NotInlinable(f"{function.__name__}: arguments {sorted(arguments)} != {params}")
    assigned: set[str] = set()
    loaded: set[str] = set()
    for sub in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(sub, ast.Name):
            (loaded if isinstance(sub.ctx, ast.Load) else assigned).add(sub.id)
        elif isinstance(sub, ast.Yield | ast.YieldFrom | ast.Await | ast.Global | ast.Nonlocal):
            raise NotInlinable(f"{function.__name__}: unsupported statement")
        elif isinstance(sub, ast.FunctionDef | ast.Lambda | ast.ClassDef | ast.comprehension):
            raise NotInlinable(f"{function.__name__}: nested scope")
    mapping: dict[str, ast.expr] = {
        name: ast.parse(expression, mode="eval").body for name, expression in arguments.items()
    }
    namespace: dict[str, Any] = {}
    for name in assigned - set(params):
        mapping[name] = ast.Name(f"{prefix}{name}", ast.Load())
    function_globals = getattr(function, "__globals__", {})
    builtins = function_globals.get("__builtins__", {})
    for name in loaded - assigned - set(params):
        if name in function_globals:
            value = function_globals[name]
            if type(value) in _CONSTANTS:  # a module constant: its value, read now
                mapping[name] = ast.Constant(value)
            else:
                mapping[name] = ast.Name(f"{prefix}{name}", ast.Load())
                namespace[f"{prefix}{name}"] = value
        elif not (name in builtins if isinstance(builtins, dict) else hasattr(builtins, name)):
            raise NotInlinable(f"{function.__name__}: unknown name {name!r}")
    renamed = [_Rename(mapping).visit(statement) for statement in body]
    return [ast.fix_missing_locations(statement) for statement in renamed], namespace


def inline_body(
    function: Callable[..., Any], arguments: Mapping[str, str], *, prefix: str
) -> Inlined:
    """The body of a procedure (no ``return``) with its parameters replaced by ``arguments``
    (parameter name → expression source, evaluated where the body reads the parameter: pass
    plain names)."""
    source, namespace = _inlined(False, function, tuple(sorted(arguments.items())), prefix)
    return Inlined(source, dict(namespace))


def inline_expression(
    function: Callable[..., Any], arguments: Mapping[str, str], *, prefix: str
) -> Inlined:
    """The expression of a function whose body is one ``return <expression>``."""
    source, namespace = _inlined(True, function, tuple(sorted(arguments.items())), prefix)
    return Inlined(source, dict(namespace))


@functools.lru_cache(maxsize=64)
def _inlined(
    expression: bool,
    function: Callable[..., Any],
    arguments: tuple[tuple[str, str], ...],
    prefix: str,
) -> tuple[str, dict[str, Any]]:
    """The inlined source and namespace, derived once per process for each function and
    arguments (about a millisecond of ``ast`` work each: every runtime start builds its level
    methods, and would pay it again). A failure is not kept: ``NotInlinable`` propagates."""
    body, namespace = _prepare(function, dict(arguments), prefix)
    if expression:
        if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
            raise NotInlinable(f"{function.__name__}: not a single return")
        return f"({ast.unparse(body[0].value)})", namespace
    for statement in body:
        for sub in ast.walk(statement):
            if isinstance(sub, ast.Return):
                raise NotInlinable(f"{function.__name__}: return in a procedure")
    return "\n".join(ast.unparse(statement) for statement in body), namespace
