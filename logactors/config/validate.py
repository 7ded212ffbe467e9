"""Lenient converters and problem collection shared by the configuration classes.

Converters never raise: what they cannot convert stays as it is, and the class validation
(:class:`_Problems`) reports it with the field path, so one ``ConfigError`` lists every problem.

Every configuration class derives from :class:`Checked`. Building one never raises, except
:class:`~logactors.config.SupervisorConfig` (the whole configuration), which checks itself when
built. The problems of an object are found from its fields when asked (:func:`problems_of`):
its own (each class's ``_check``) and those of its parts (blocks, sinks, filters), each under
the path of the part. So the object that holds a part reports the part's problems with their
full path, however the part was built; a part used on its own raises from :meth:`Checked.check`.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, Self, final

import attrs

from .._levels import parse_level
from ..exceptions import ConfigError, Problem

MIB: Final = 1024 * 1024


_UNITS: Final = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZES: Final = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}
_NUMBER_UNIT: Final = re.compile(
    r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Zµ]*)\s*$"
)


def _to_level(value: Any) -> Any:
    try:
        return parse_level(value)
    except ValueError:
        return value


def _to_sink_level(value: Any) -> Any:
    try:
        return parse_level(value, allow_off=True)
    except ValueError:
        return value


def _to_optional_level(value: Any) -> Any:
    return None if value is None else _to_level(value)


def _to_duration(value: Any) -> Any:
    if isinstance(value, str):
        match = _NUMBER_UNIT.match(value)
        if match and match.group(2).lower() in _UNITS | {"": 1.0}:
            unit = match.group(2).lower()
            return float(match.group(1)) * (_UNITS[unit] if unit else 1.0)
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _to_size(value: Any) -> Any:
    if isinstance(value, str):
        match = _NUMBER_UNIT.match(value)
        if match and match.group(2).lower() in _SIZES:
            return int(float(match.group(1)) * _SIZES[match.group(2).lower()])
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _to_optional_size(value: Any) -> Any:
    return None if value is None else _to_size(value)


def _to_tuple(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def _to_str_tuple(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return _to_tuple(value)


def _identity(value: Any) -> Any:
    return value


def _to_address(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 2:
        return (value[0], value[1])
    return value


def _show(value: object) -> str:
    """A short repr for messages."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _to_path(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


Field = str | int | tuple[str | int, ...]


def _path(field: Field) -> tuple[str | int, ...]:
    return field if isinstance(field, tuple) else (field,)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of a configuration class (types, not strings). An annotation
    that cannot be resolved (a name local to a function) stays a string, the others resolve."""
    try:
        return typing.get_type_hints(cls)
    except Exception:
        pass
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        namespace = vars(sys.modules[klass.__module__]) if klass.__module__ in sys.modules else {}
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            try:
                hints[name] = typing.get_type_hints(
                    types.SimpleNamespace(__annotations__={name: annotation}), namespace
                )[name]
            except Exception:
                hints[name] = annotation
    return hints


def _is_optional_bool(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and set(
        typing.get_args(tp)
    ) == {bool, type(None)}


def in_field_order(problems: Iterable[Problem], cls: type) -> list[Problem]:
    """Problems sorted by the field of ``cls`` they concern (problems of the whole object,
    such as unknown keys, first), in the order found otherwise."""
    rank = {a.name: i for i, a in enumerate(attrs.fields(cls))}
    return sorted(problems, key=lambda p: rank.get(p.path[0], -1) if p.path else -1)


def _not_installed(obj: Any) -> Any:
    raise RuntimeError("logactors.config.convert was not imported")  # pragma: no cover


#: :func:`logactors.config.convert.convert_parts` and :func:`~.convert.part_problems`,
#: installed by that module (it builds on the classes that use this one, so this module cannot
#: import it)
CONVERT_PARTS: list[Callable[[Checked], None]] = [_not_installed]
PART_PROBLEMS: list[Callable[[Checked], list[Problem]]] = [_not_installed]


class Checked:
    """Base of the configuration classes: the problems of an object are found from its fields
    when asked, so that the object that holds it reports them with their full path.

    Building a configuration object never raises (except ``SupervisorConfig``, which checks
    itself when built): :meth:`check` raises for an object used on its own.
    """

    __slots__ = ()

    def _check(self, problems: _Problems) -> None:
        """Report the problems of this object's own fields (its parts are checked for it)."""

    def check(self) -> Self:
        """Raise :class:`~logactors.ConfigError` listing every problem of this object and of its
        parts, each with its path from this object; return the object when it has none.

        ``SupervisorConfig`` checks itself when built; a part (a block such as
        :class:`QueueConfig`, a sink) is checked by the configuration that holds it, or by this.
        """
        problems = problems_of(self)
        if problems:
            raise ConfigError(problems)
        return self


def problems_of(obj: Checked) -> list[Problem]:
    """Every problem of a configuration object, its parts' included, with paths from it, in
    the order of its fields (problems of the whole object first)."""
    p = _Problems(obj)
    p.items.extend(PART_PROBLEMS[0](obj))
    obj._check(p)
    return in_field_order(p.items, p.cls)


def convert_parts(obj: Checked) -> None:
    """Replace the parts of ``obj`` given as tables by objects of their classes, in place (a
    table with problems stays a table: :func:`problems_of` reports it)."""
    CONVERT_PARTS[0](obj)


class _Problems:
    """Collects the problems of one config object, each with its path from that object."""

    def __init__(self, obj: Checked) -> None:
        self.obj = obj
        #: the object's attrs class
        self.cls: Any = type(obj)
        self.items: list[Problem] = []

    def add(self, field: Field, message: str) -> None:
        self.items.append(Problem(_path(field), message))

    def file_mode(self, field: Field, value: object) -> None:
        """Permission bits of a file logactors creates (0 to 0o777)."""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0o777:
            self.add(field, f"must be permission bits from 0 to 0o777 (got {value!r})")

    def positive_int(self, field: Field, value: object, *, minimum: int = 1) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(field, f"must be an integer (got {_show(value)})")
        elif value < minimum:
            self.add(
                field,
                f"must be >= {minimum} (got {value})"
                if minimum != 1
                else f"must be > 0 (got {value})",
            )

    def optional_positive_int(self, field: Field, value: object) -> None:
        if value is not None:
            self.positive_int(field, value)

    def size(
        self, field: Field, value: object, *, minimum: int = 1, optional: bool = False
    ) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(
                field, f"must be a number of bytes or a size like '64MiB' (got {_show(value)})"
            )
        else:
            self.positive_int(field, value, minimum=minimum)

    def number(self, field: Field, value: object, *, positive: bool = False) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            self.add(
                field,
                f"must be a number of seconds or a duration like '200ms' (got {_show(value)})",
            )
        elif value < 0 or (positive and value == 0):
            shown = int(value) if isinstance(value, float) and value.is_integer() else value
            self.add(field, f"must be {'> 0' if positive else '>= 0'} (got {shown})")

    def boolean(self, field: Field, value: object, *, optional: bool = False) -> None:
        if not (isinstance(value, bool) or (optional and value is None)):
            what = "true, false or unset" if optional else "true or false"
            self.add(field, f"must be {what} (got {_show(value)})")

    def strings(self, field: str, value: object, *, empty: bool = True) -> None:
        """A list of strings (converted to a tuple)."""
        if not isinstance(value, tuple):
            self.add(field, f"must be a list of strings (got {_show(value)})")
            return
        for i, item in enumerate(value):
            self.string((field, i), item, empty=empty)

    def booleans(self) -> None:
        """Check every field of the object whose type is ``bool`` or ``bool | None``."""
        for a in attrs.fields(self.cls):
            tp = _hints(self.cls).get(a.name)
            if tp is bool:
                self.boolean(a.name, getattr(self.obj, a.name))
            elif _is_optional_bool(tp):
                self.boolean(a.name, getattr(self.obj, a.name), optional=True)

    def level(self, field: Field, value: object, *, allow_off: bool = False) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                parse_level(value, allow_off=allow_off)
            except ValueError as exc:
                self.add(field, str(exc))
            else:  # pragma: no cover - converters already parsed it
                self.add(field, f"not a level: {value!r}")

    def choice(self, field: str, choices: Iterable[str] | None = None) -> None:
        """The field's value must be one of ``choices``: by default the values of its
        ``Literal`` annotation."""
        value = getattr(self.obj, field)
        if choices is None:
            choices = typing.get_args(_hints(self.cls)[field])
        allowed = tuple(choices)
        if value not in allowed:
            self.add(field, f"must be one of {', '.join(map(repr, allowed))} (got {_show(value)})")

    def string(self, field: Field, value: object, *, empty: bool = False) -> None:
        if not isinstance(value, str):
            self.add(field, f"must be a string (got {_show(value)})")
        elif not value and not empty:
            self.add(field, "must not be empty")


@final
class FrozenMap(Mapping[str, Any]):
    """An immutable mapping (the table fields of the frozen configuration classes), hashable
    so that configurations are: its hash is that of its keys (values may be lists)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data) if data is not None else {}

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._data)


#: The default of the table fields.
EMPTY: Final = FrozenMap()


def _to_mapping(value: Any) -> Any:
    """A mapping as a :class:`FrozenMap` (anything else stays, for the validator to report)."""
    if isinstance(value, FrozenMap) or not isinstance(value, Mapping):
        return value
    return FrozenMap(value)


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)
