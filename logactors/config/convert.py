"""Loading configuration from mappings, TOML and JSON files, and writing it back as data.

A table becomes an object of its class through the class itself (:func:`_structure_class`):
unknown keys (with a "did you mean" hint) and missing required fields are found here, the rest
is the class's: it converts the tables of its parts (blocks, sinks, filters) with the same walk
(:func:`convert_parts`), and finds the problems of its fields and of its parts
(:func:`~.validate.problems_of`, through :func:`part_problems`). A part given as a table that
has problems stays a table in its place, so that every problem is still found (each sink keeps
its index, its name and fallback still count for the checks between sinks) and the part's
problems are reported under its path exactly as for a part built in Python. Leaf values are
left to the classes' lenient converters and checks, which know the messages (``must be > 0 (got
-1)``). All problems are raised together as one :class:`~logactors.ConfigError`, each a
:class:`~logactors.exceptions.Problem` with its field path.

cattrs is used only the other way, by :func:`unstructure_config`: its own structuring (strict
types, then detailed validation) would reject the lenient values people write by hand
(``"64MiB"``, ``"200ms"``, ``"warn"``) before the classes could convert them, and would report
them in its own words.
"""

from __future__ import annotations

import difflib
import functools
import os
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Union

import attrs
import cattrs
import orjson

from .._levels import OFF, Level, level_name
from .._plugins import entry_point_sinks
from ..exceptions import ConfigError, Problem
from .blocks import FilterConfig
from .sinks import SINK_TYPES, CustomSink, SinkConfig
from .supervisor import SupervisorConfig
from .validate import (
    CONVERT_PARTS,
    PART_PROBLEMS,
    Checked,
    FrozenMap,
    _hints,
    _set,
    _show,
    in_field_order,
    problems_of,
)

__all__ = ["convert_parts", "load_config", "part_problems", "unstructure_config"]

#: Where the configuration classes are defined (re-exported by :mod:`logactors.config`).
CONFIG_MODULES = frozenset(
    {
        "logactors.config.blocks",
        "logactors.config.sinks",
        "logactors.config.supervisor",
    }
)
_COMMON_SINK_FIELDS = frozenset(a.name for a in attrs.fields(SinkConfig))


class _Invalid(Exception):
    """The problems of a table that does not make a valid object (paths relative to it)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems


# ---------------------------------------------------------------------------------------------
# Parts: the fields whose values are configuration objects, found once per class from the
# fields' types (a new block or list of them needs no edit here).


@attrs.frozen
class _Nested:
    """A block: an object of ``cls`` (or ``None`` when optional), or a table of its fields."""

    cls: type[Checked]
    optional: bool


@attrs.frozen
class _Sinks:
    """A list of sinks: sink objects, or tables with a ``type``."""


@attrs.frozen
class _Filters:
    """A list of filters: filter objects or tables; also names and callables when allowed."""

    callables: bool

    @property
    def what(self) -> str:
        if self.callables:
            return "filter tables, 'module:callable' names or callables"
        return "filter tables"


_Part = _Nested | _Sinks | _Filters


def _strip_none(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        return (args[0] if len(args) == 1 else Union[tuple(args)]), optional  # noqa: UP007
    return tp, False


def _is_config_class(tp: Any) -> bool:
    return (
        isinstance(tp, type)
        and attrs.has(tp)
        and issubclass(tp, Checked)
        and (tp.__module__ in CONFIG_MODULES or issubclass(tp, SinkConfig))
    )


def _part_of(tp: Any) -> _Part | None:
    inner, optional = _strip_none(tp)
    if _is_config_class(inner):
        return _Nested(inner, optional)
    if typing.get_origin(inner) is tuple:
        args = typing.get_args(inner)
        if len(args) == 2 and args[1] is Ellipsis:
            item = args[0]
            if item is SinkConfig:
                return _Sinks()
            members = typing.get_args(item) or (item,)
            if FilterConfig in members:
                return _Filters(callables=str in members)
    return None


@functools.cache
def _fields(cls: type) -> dict[str, tuple[attrs.Attribute[Any], _Part | None]]:
    """The fields given when building ``cls``, each with its kind of part (``None``: a value)."""
    hints = _hints(cls)
    return {a.name: (a, _part_of(hints.get(a.name, Any))) for a in attrs.fields(cls) if a.init}


@functools.cache
def _parts(cls: type) -> tuple[tuple[str, _Part], ...]:
    return tuple((name, part) for name, (_a, part) in _fields(cls).items() if part is not None)


# ---------------------------------------------------------------------------------------------
# Tables to objects.


def _structure_class(data: Mapping[Any, Any], cls: type) -> Any:
    """Build ``cls`` from a table, or raise :class:`_Invalid` with every problem."""
    fields = _fields(cls)
    problems = [
        Problem((), f"unknown key {_show(key)}{_did_you_mean(key, fields)}")
        for key in data
        if key not in fields
    ]
    missing = [
        Problem((name,), "missing (required)")
        for name, (field, _part) in fields.items()
        if name not in data and field.default is attrs.NOTHING
    ]
    problems.extend(missing)
    if not missing:
        try:
            result = cls(**{name: data[name] for name in fields if name in data})
        except ConfigError as exc:  # SupervisorConfig checks itself when built
            problems.extend(exc.details)
        except (TypeError, ValueError) as exc:  # pragma: no cover - the checks catch these
            problems.append(Problem((), f"invalid ({exc})"))
        else:
            problems.extend(problems_of(result))
            if not problems:
                return result
    raise _Invalid(in_field_order(problems, cls))


def _structure_sink(data: Mapping[Any, Any]) -> SinkConfig:
    """Build a sink from its table (its ``type`` names the class), or raise :class:`_Invalid`."""
    if "type" not in data:
        raise _Invalid([Problem(("type",), f"missing (required: one of {_known_kinds()})")])
    kind = data["type"]
    rest = {k: v for k, v in data.items() if k != "type"}
    cls = SINK_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is not None:
        result: SinkConfig = _structure_class(rest, cls)
        return result
    plugin = _plugin(kind)
    if plugin is None:
        raise _Invalid(
            [Problem(("type",), f"unknown sink type {_show(kind)} (known: {_known_kinds()})")]
        )
    options = {k: v for k, v in rest.items() if k not in _COMMON_SINK_FIELDS}
    common = {k: v for k, v in rest.items() if k in _COMMON_SINK_FIELDS}
    common.setdefault("name", kind)
    custom: SinkConfig = _structure_class(
        {**common, "factory": plugin, "options": options}, CustomSink
    )
    return custom


def _structure_filter(data: Mapping[Any, Any]) -> FilterConfig:
    result: FilterConfig = _structure_class(data, FilterConfig)
    return result


def _did_you_mean(key: object, fields: Mapping[str, object]) -> str:
    if not isinstance(key, str):
        return ""
    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _known_kinds() -> str:
    return ", ".join(sorted(set(SINK_TYPES) | set(entry_point_sinks())))


def _plugin(kind: object) -> str | None:
    if not isinstance(kind, str):
        return None
    ep = entry_point_sinks().get(kind)
    return ep.value if ep is not None else None


def _built(table: Mapping[Any, Any], build: Callable[[Mapping[Any, Any]], Any]) -> Any:
    """The object built from a table, or the table itself (immutable, so that the object that
    holds it stays hashable) when it has problems: :func:`part_problems` reports them."""
    try:
        return build(table)
    except _Invalid:
        return FrozenMap(table)


def _table_problems(
    table: Mapping[Any, Any], build: Callable[[Mapping[Any, Any]], Any]
) -> list[Problem]:
    try:
        build(table)
    except _Invalid as exc:
        return exc.problems
    return []


def convert_parts(obj: Checked) -> None:
    """Replace the parts of a configuration object that were given as tables by objects of
    their classes, in place: blocks (``shutdown``, ``queue`` …), sink tables (with their
    ``type``) in ``sinks``, filter tables in ``filters``. Called when the object is built, so
    that ``SupervisorConfig(shutdown={"timeout": 2}).shutdown`` is a ``ShutdownConfig``, built
    exactly as :func:`load_config` builds it. A table with problems stays in its place as a
    table: :func:`part_problems` reports them.
    """
    cls: type = type(obj)
    for name, part in _parts(cls):
        value = getattr(obj, name)
        if isinstance(part, _Nested):
            if isinstance(value, Mapping):
                _set(obj, name, _built(value, functools.partial(_structure_class, cls=part.cls)))
        elif isinstance(value, tuple) and any(isinstance(item, Mapping) for item in value):
            build = _structure_sink if isinstance(part, _Sinks) else _structure_filter
            _set(
                obj,
                name,
                tuple(_built(v, build) if isinstance(v, Mapping) else v for v in value),
            )


def part_problems(obj: Checked) -> list[Problem]:
    """The problems of the parts of a configuration object, each under its path from the
    object: a part object's own (:func:`~.validate.problems_of`, recursively), a table's (as
    :func:`load_config` finds them), or a value that is neither."""
    problems: list[Problem] = []
    cls: type = type(obj)
    for name, part in _parts(cls):
        value = getattr(obj, name)
        if isinstance(part, _Nested):
            problems.extend(p.under(name) for p in _block_problems(value, part))
        elif not isinstance(value, tuple):
            what = part.what if isinstance(part, _Filters) else "sinks"
            problems.append(Problem((name,), f"must be a list of {what} (got {_show(value)})"))
        else:
            for i, item in enumerate(value):
                found = (
                    _sink_problems(item)
                    if isinstance(part, _Sinks)
                    else _filter_problems(item, part)
                )
                problems.extend(p.under(name, i) for p in found)
    return problems


def _block_problems(value: object, part: _Nested) -> list[Problem]:
    if isinstance(value, part.cls):
        return problems_of(value)
    if value is None and part.optional:
        return []
    if isinstance(value, Mapping):
        return _table_problems(value, functools.partial(_structure_class, cls=part.cls))
    what = f"a {part.cls.__name__}{' or None' if part.optional else ''}"
    return [Problem((), f"must be {what}, or a table of its fields (got {_show(value)})")]


def _sink_problems(item: object) -> list[Problem]:
    if isinstance(item, SinkConfig):
        return problems_of(item)
    if isinstance(item, Mapping):
        return _table_problems(item, _structure_sink)
    return [
        Problem((), f"must be a sink configuration or a table with a 'type' (got {_show(item)})")
    ]


def _filter_problems(item: object, part: _Filters) -> list[Problem]:
    if isinstance(item, FilterConfig):
        return problems_of(item)
    if isinstance(item, Mapping):
        return _table_problems(item, _structure_filter)
    if part.callables and (isinstance(item, str) or callable(item)):
        return []
    return [Problem((), f"must be one of {part.what} (got {_show(item)})")]


def _make_converter() -> cattrs.Converter:
    """The converter that turns configurations back into plain data (structuring is the
    hand-written walk above: it alone reports every problem with its path)."""
    converter = cattrs.Converter()
    converter.register_unstructure_hook(FrozenMap, dict)
    # Levels are written by name ("info"; "off" for a sink), so files read back the same level.
    converter.register_unstructure_hook(int, _unstructure_int)
    converter.register_unstructure_hook(Level, level_name)
    return converter


def _unstructure_int(value: int) -> Any:
    return level_name(value) if isinstance(value, Level) else value


_CONVERTER = _make_converter()


# ---------------------------------------------------------------------------------------------
# Public functions.


def _read(source: str | os.PathLike[str]) -> dict[str, Any]:
    path = os.fspath(source)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration ({exc.strerror or exc})") from exc
    try:
        if path.endswith(".toml"):
            data: Any = tomllib.loads(raw.decode("utf-8"))
        elif path.endswith(".json"):
            data = orjson.loads(raw)
        else:
            raise ConfigError(f"{path}: configuration files must end in .toml or .json")
    except (tomllib.TOMLDecodeError, orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {path.rsplit('.', 1)[-1].upper()}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a table/object")
    # A file may keep the configuration under [logactors] (e.g. inside pyproject-like files).
    if set(data) == {"logactors"} and isinstance(data["logactors"], dict):
        data = data["logactors"]
    result: dict[str, Any] = data
    return result


def load_config(
    source: Mapping[str, Any] | str | os.PathLike[str] | SupervisorConfig,
) -> SupervisorConfig:
    """Build a :class:`SupervisorConfig` from a mapping or a ``.toml``/``.json`` file.

    Each sink names its kind with ``type`` (``console``, ``file``, ``http``, ``syslog``,
    ``gelf``, ``memory``, ``null``, ``custom``, or a name registered under the
    ``logactors.sinks`` entry point). Levels are names or numbers; durations are seconds or
    strings such as ``"200ms"``; sizes are bytes or strings such as ``"64MiB"``.

    Raises:
        ConfigError: listing every problem found, each with its field path
            (``sinks[1].queue.max_events: must be > 0 (got -1)``).
    """
    if isinstance(source, SupervisorConfig):
        return source
    if isinstance(source, Mapping):
        data: Any = source
    elif isinstance(source, str | os.PathLike):
        data = _read(source)
    else:
        raise ConfigError(
            f"expected a mapping, a .toml/.json path or a SupervisorConfig (got {_show(source)})"
        )
    try:
        config: SupervisorConfig = _structure_class(data, SupervisorConfig)
    except _Invalid as exc:
        raise ConfigError(exc.problems) from None
    return config


def unstructure_config(config: SupervisorConfig) -> dict[str, Any]:
    """The configuration as plain data that :func:`load_config` reads back to an equal config.

    Sinks get their ``type``; levels are written by name; callables (enrichers, filters,
    ``self_log``, a ``CustomSink``'s factory or sink object) cannot be represented as data and
    are left as they are.
    """
    data: dict[str, Any] = _CONVERTER.unstructure(config)
    data["sinks"] = [_unstructure_sink(sink) for sink in config.sinks]
    return data


def _unstructure_sink(sink: SinkConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"type": sink.kind, **_CONVERTER.unstructure(sink, type(sink))}
    if isinstance(sink, CustomSink) and sink.sink is None:
        out.pop("sink", None)
    if out.get("min_level") == OFF:
        out["min_level"] = "off"
    return out


CONVERT_PARTS[0] = convert_parts
PART_PROBLEMS[0] = part_problems
