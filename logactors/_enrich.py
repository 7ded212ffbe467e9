"""Enrichers (properties added to every event) and filters (events kept or rejected).

Built-in enrichers: ``hostname`` and ``process`` (constant, computed once), ``thread`` and
``task`` (per call), ``sequence`` (a per-logger number assigned in routing order, so
downstream can prove gaps). User enrichers are callables returning a mapping of properties,
called on the logging thread (so they can read context variables and thread-locals).

Filters: :class:`~logactors.config.FilterConfig` tables, or callables taking a
:class:`~logactors.LogEvent` and returning whether to keep it. A filter that raises keeps the
event (and reports to the self-log): a bug in a filter must not hide logs.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from ._events import LogEvent
from ._plugins import load_object
from .config import BUILTIN_ENRICHERS, FilterConfig

Enricher = Callable[[], Mapping[str, object]]
Predicate = Callable[[LogEvent], bool]


def _resolve(spec: object, what: str) -> Any:
    if isinstance(spec, str):
        try:
            return load_object(spec)
        except (ImportError, AttributeError, ValueError) as exc:
            from .exceptions import ConfigError

            raise ConfigError(f"{what}: cannot import {spec!r}: {exc}") from exc
    return spec


def static_properties(enrichers: Sequence[object]) -> dict[str, object]:
    """Properties of the constant built-in enrichers."""
    props: dict[str, object] = {}
    if "hostname" in enrichers:
        props["hostname"] = socket.gethostname()
    if "process" in enrichers:
        props["process"] = os.getpid()
    return props


#: the built-in enrichers computed per call, in the order :func:`dynamic_enricher` adds them
PER_CALL: Final = ("thread", "task")


def per_call_builtins(enrichers: Sequence[object]) -> tuple[str, ...] | None:
    """The built-in per-call enrichers configured (in the order they are added) when they are
    the only per-call ones, None when a user enricher runs too. (The level methods' fast case
    adds these itself, as :meth:`logactors._capture.Builder.enriched` captures them.)"""
    if any(not (isinstance(e, str) and e in BUILTIN_ENRICHERS) for e in enrichers):
        return None
    return tuple(name for name in PER_CALL if name in enrichers)


def dynamic_enricher(enrichers: Sequence[object]) -> Callable[[dict[str, Any], str], None] | None:
    """A function adding the per-call properties to a fresh properties dict, or None."""
    want_thread = "thread" in enrichers
    want_task = "task" in enrichers
    users: list[Enricher] = [
        _resolve(e, f"enrichers[{i}]")
        for i, e in enumerate(enrichers)
        if not (isinstance(e, str) and e in BUILTIN_ENRICHERS)
    ]
    if not (want_thread or want_task or users):
        return None

    def enrich(props: dict[str, Any], task: str) -> None:
        if want_thread:
            props.setdefault("thread", threading.current_thread().name)
        if want_task:
            props.setdefault("task", task)
        for user in users:
            try:
                extra = user()
            except Exception:
                continue
            if extra:
                for key, value in extra.items():
                    props.setdefault(key, value)

    return enrich


def compile_filter(spec: FilterConfig) -> Predicate:
    """A predicate for a declarative filter: only the conditions the filter gives are
    tested, by position in the event's tuple (a filter runs for every event it sees)."""
    lo = spec.min_level
    hi = spec.max_level
    prefix = spec.logger
    dotted = None if not prefix else prefix + "."  # (an empty prefix: every logger)
    wanted = tuple(dict(spec.properties).items())

    def matches(event: LogEvent) -> bool:
        # (a LogEvent's level is at 1, its properties at 3, its logger name at 5)
        if lo is not None and event[1] < lo:
            return False
        if hi is not None and event[1] > hi:
            return False
        if dotted is not None:
            logger = event[5]
            if not (logger == prefix or logger.startswith(dotted)):
                return False
        if wanted:
            props = event[3]
            for key, value in wanted:  # (equality as the configuration states it)
                if key in props and props[key] == value:
                    continue
                return False
        return True

    if spec.exclude:
        return lambda event: not matches(event)
    return matches


def compile_filters(
    specs: Sequence[object], report: Callable[[str], None], what: str = "filters"
) -> Predicate | None:
    """One predicate that keeps an event when every filter keeps it, or None for no filters."""
    predicates: list[Predicate] = []
    for i, spec in enumerate(specs):
        if isinstance(spec, FilterConfig):
            predicates.append(compile_filter(spec))
        else:
            predicates.append(_resolve(spec, f"{what}[{i}]"))
    if not predicates:
        return None

    def keep(event: LogEvent) -> bool:
        for predicate in predicates:
            try:
                if not predicate(event):
                    return False
            except Exception as exc:
                report(f"filter {predicate!r} raised {type(exc).__name__}: {exc}; event kept")
        return True

    return keep
