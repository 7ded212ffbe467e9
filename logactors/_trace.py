"""Trace correlation: the active OpenTelemetry span's ids on every event, without code.

With ``opentelemetry-api`` importable (extra ``otel``) and ``SupervisorConfig.trace_context``
on (the default), a logging call made while a span is active in the calling task or thread adds
three properties, captured at the call like every other property:

* ``trace_id``: 32 lower-case hex digits;
* ``span_id``: 16 lower-case hex digits;
* ``trace_flags``: the W3C trace flags as an int (``1`` = sampled).

The CLEF formatter writes the first two as ``@tr``/``@sp``; OTLP sends all three as the
record's ``traceId``/``spanId``/``flags``; every other format shows them as plain properties.
An event that already has a ``trace_id`` (given at the call, bound, or in the ambient context)
keeps it.

Cost: nothing when ``opentelemetry-api`` is not installed or the switch is off (the logger holds
``None`` and tests it once per call). Otherwise one context lookup per call: OpenTelemetry keeps
its current context in one ``ContextVar``, whose ``get`` (a C call) returns an empty mapping
when no span (nor any other OpenTelemetry value) is set, so only a non-empty context costs the
span lookup. The span is found through the public API (``trace.get_current_span``); the
``ContextVar`` itself is OpenTelemetry's private attribute, and when it is not there (another
runtime context configured with ``OTEL_PYTHON_CONTEXT``, a future version) the public
``context.get_current`` is used instead.

Since the lookup happens in the calling task or thread, it follows trio tasks (each has its own
context, inherited from its parent at ``start_soon``), ``trio.to_thread.run_sync`` (which copies
the context into the worker thread), plain threads (their own spans) and the stdlib bridge
(records are forwarded in the thread that logged them).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["ContextGetter", "add_trace", "context_getter"]

#: Returns OpenTelemetry's current context (a mapping; empty when nothing is set).
ContextGetter = Callable[[], Mapping[str, object]]

_UNSET: Final = object()
_getter: Any = _UNSET
_current_span: Any = None


def _load() -> ContextGetter | None:
    global _current_span
    try:
        from opentelemetry import context as otel_context
        from opentelemetry import trace
    except ImportError:
        return None
    _current_span = trace.get_current_span
    runtime = getattr(otel_context, "_RUNTIME_CONTEXT", None)
    var = getattr(runtime, "_current_context", None)
    if isinstance(var, contextvars.ContextVar):
        getter: ContextGetter = var.get
        return getter
    return otel_context.get_current


def context_getter(enabled: bool = True) -> ContextGetter | None:
    """OpenTelemetry's current-context getter, or ``None`` when correlation is off or
    ``opentelemetry-api`` is not installed (looked up once per process)."""
    global _getter
    if not enabled:
        return None
    if _getter is _UNSET:
        _getter = _load()
    found: ContextGetter | None = _getter
    return found


def add_trace(props: dict[str, Any], context: Mapping[str, object]) -> dict[str, Any]:
    """Add the ids of the span active in ``context`` to ``props`` (in place; also returned),
    unless ``props`` already has a ``trace_id`` or no valid span is active. Never raises."""
    if "trace_id" in props:
        return props
    try:
        span_context = _current_span(context).get_span_context()
        if not span_context.is_valid:
            return props
        props["trace_id"] = f"{span_context.trace_id:032x}"
        props["span_id"] = f"{span_context.span_id:016x}"
        props["trace_flags"] = int(span_context.trace_flags)
    except Exception:  # a foreign object in the context: no correlation for this event
        pass
    return props
