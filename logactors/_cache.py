"""Bounded caches: the one way a cache of the library stores what it learnt (a leaf module).

Property names, templates, captured enricher values and contexts, logfmt keys, syslog names…
repeat from one event to the next, so the library keeps what it worked out for them in plain
dicts, looked up inline on the hot path. A cache is a bound, not a working set: when it is
full it is emptied, and what is still in use comes back on its next miss (no eviction order to
maintain per hit). Only misses call :func:`remember`.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["remember"]

K = TypeVar("K")
V = TypeVar("V")


def remember(cache: dict[K, V], key: K, value: V, limit: int) -> V:
    """Store ``value`` under ``key`` in ``cache``, emptied first when it holds ``limit``
    entries; returns ``value``."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value
