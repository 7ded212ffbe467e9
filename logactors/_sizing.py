"""Estimated memory of an event, and truncation of events larger than ``max_event_bytes``.

The estimate is what an inbox counts against its ``max_bytes`` cap. It is cheap for the common
case (a few strings and numbers) and bounded for nested values: the walk stops once the budget
is exceeded, so a huge list costs at most ``limit`` worth of walking, never its full size. The
builder (:mod:`logactors._capture`) adds the template and exception text to it; captured values
are plain containers, so the walk checks exact types first.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Mapping
from typing import Any, Final

from ._json import safe_repr

#: An event with no properties: the event tuple, its dict, the timestamp int, the deque slots.
#: Calibrated so the estimate is not below what a queued event really costs: with a stalled
#: sink, 5 M events of two properties grew RSS by 430 bytes per queued event (benchmarks,
#: memory suite) against an estimate of 330 with 240 here.
BASE_BYTES: Final = 340
_STR_OVERHEAD: Final = 56
_SCALAR_BYTES: Final = 32
_SCALARS: Final = frozenset({int, float, bool, type(None)})
#: What the estimate counts for an object it does not walk: one kept as it is that is not a
#: ``str``, a plain scalar or ``bytes`` (a datetime, a UUID, a Decimal, an Enum member), and
#: any other.
_OBJECT_BYTES: Final = 64
#: The exact types of the immutable values the capture keeps as they are beyond ``str``, the
#: plain scalars and ``bytes`` (:data:`logactors._capture.SCALARS`)
KEPT_TYPES: Final = frozenset(
    {
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
        decimal.Decimal,
    }
)
#: Those types, and the Enum classes the capture has met whose members it keeps as they are
#: (:func:`learn_kept`): values of these exact types are counted as :data:`_OBJECT_BYTES`
#: without the walk's checks, and the level methods' fast case takes them. One set for the
#: process (what it holds does not depend on any configuration); it never shrinks.
KEPT: Final[set[type]] = set(KEPT_TYPES)
#: Most Enum classes :data:`KEPT` learns (the rest take the builder, as before they were met).
KEPT_MAX: Final = 256 + len(KEPT_TYPES)
_REFUSED: Final[set[type]] = set()


def learn_kept(cls: type, kept: set[type] = KEPT, refused: set[type] = _REFUSED) -> None:
    """Add an Enum class whose every member's value is a plain scalar (an ``int``, a
    ``float``, a ``bool`` or ``None``: nothing a redaction rule could match) to ``kept``,
    within :data:`KEPT_MAX`; a class with other values is remembered as refused (within the
    same bound), not checked again."""
    if cls in kept or cls in refused or not issubclass(cls, enum.Enum):
        return
    plain = all(type(member.value) in _SCALARS for member in cls.__members__.values())
    target = kept if plain else refused
    if len(target) < KEPT_MAX:
        target.add(cls)


def _deep(value: object, budget: int, depth: int = 0) -> int:
    """Estimated bytes of a value, walking at most until ``budget`` is exceeded."""
    cls = value.__class__
    if cls is str:
        return _STR_OVERHEAD + len(value)  # type: ignore[arg-type]
    if cls in _SCALARS:
        return _SCALAR_BYTES
    if cls in KEPT:
        return _OBJECT_BYTES
    if cls is dict:  # captured values: exact types first, no ABC checks
        total = 64
        for k, v in value.items():  # type: ignore[attr-defined]
            total += _deep(k, budget, depth + 1) + _deep(v, budget, depth + 1)
            if total > budget:
                break
        return total
    if cls is list or cls is tuple:
        total = 64
        for item in value:  # type: ignore[attr-defined]
            total += 8 + _deep(item, budget, depth + 1)
            if total > budget:
                break
        return total
    if isinstance(value, bytes | bytearray):
        return 40 + len(value)
    if depth > 32:
        return _OBJECT_BYTES
    total = 64
    if isinstance(value, Mapping):
        try:
            for k, v in value.items():
                total += _deep(k, budget, depth + 1) + _deep(v, budget, depth + 1)
                if total > budget:
                    break
        except Exception:
            return total
        return total
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            total += 8 + _deep(item, budget, depth + 1)
            if total > budget:
                break
        return total
    return _OBJECT_BYTES


def estimate(properties: Mapping[str, Any], limit: int) -> int:
    """Estimated bytes of an event with these properties (stops counting past ``limit``)."""
    size = BASE_BYTES
    for value in properties.values():
        cls = value.__class__
        if cls is str:
            size += _STR_OVERHEAD + len(value)
        elif cls in _SCALARS:
            size += _SCALAR_BYTES
        else:
            size += _deep(value, limit)
    return size


def truncate(properties: Mapping[str, Any], limit: int) -> tuple[dict[str, Any], int]:
    """Shrink the largest values until the event fits in ``limit`` bytes.

    Strings keep their head and end with ``…[truncated N chars]``; other values become a
    truncated ``repr`` with the same marker. Returns the new properties and their estimate.
    """
    props = dict(properties)
    sizes = {key: estimate({key: value}, limit) - BASE_BYTES for key, value in props.items()}
    total = BASE_BYTES + sum(sizes.values())
    for key in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if total <= limit:
            break
        allowance = max(64, limit - (total - sizes[key]) - _STR_OVERHEAD - 64)
        value = props[key]
        text = value if isinstance(value, str) else safe_repr(value)
        if len(text) > allowance:
            props[key] = f"{text[:allowance]}…[truncated {len(text) - allowance} chars]"
        else:
            props[key] = text
        new = estimate({key: props[key]}, limit) - BASE_BYTES
        total += new - sizes[key]
        sizes[key] = new
    return props, total
