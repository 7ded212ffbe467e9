"""Loading configuration from mappings, TOML and JSON files, and writing it back as data.

Structuring is one hand-written walk over the attrs fields of the classes of
:mod:`logactors.config` (the same walk converts tables given to the classes in Python, see
:func:`convert_blocks`), so that it can report *every* problem at once: unknown keys (with a
"did you mean" hint) at every level, missing required fields, sink types, and each class's own
validation, even when a nested table next to it is invalid (the nested field then falls back to
its default while the rest is checked; an invalid sink is stood in for by a placeholder with
its name, so fallback references are still checked). Leaf values are left to the classes'
lenient converters and validators, which know the messages (``must be > 0 (got -1)``). All
problems are raised together as one :class:`~logactors.ConfigError`, each a
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
from collections.abc import Mapping
from typing import Any, Union

import attrs
import cattrs
import orjson

from .._levels import OFF, Level, level_name
from .._plugins import entry_point_sinks
from ..exceptions import ConfigError, Problem
from .blocks import FilterConfig
from .sinks import SINK_TYPES, CustomSink, NullSink, SinkConfig
from .supervisor import SupervisorConfig
from .validate import BLOCK_CONVERTER, FrozenMap, _hints, _show, in_field_order

__all__ = ["convert_blocks", "load_config", "unstructure_config"]

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
    """Problems found while structuring one value (paths relative to it)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems


# ---------------------------------------------------------------------------------------------
# Field shapes: what the structurer does with a field, decided once per class.


@attrs.frozen
class _Nested:
    cls: type
    optional: bool


class _Sinks:
    pass


class _Filters:
    pass


class _Leaf:
    pass


_Shape = _Nested | _Sinks | _Filters | _Leaf


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
        and (tp.__module__ in CONFIG_MODULES or issubclass(tp, SinkConfig))
    )


def _shape_of(tp: Any) -> _Shape:
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
                return _Filters()
    return _Leaf()


@functools.cache
def _shapes(cls: type) -> dict[str, tuple[attrs.Attribute[Any], _Shape]]:
    hints = _hints(cls)
    return {a.name: (a, _shape_of(hints.get(a.name, Any))) for a in attrs.fields(cls) if a.init}


# ---------------------------------------------------------------------------------------------
# Structuring.


def _structure_class(data: Any, cls: type) -> Any:
    """Build ``cls`` from a table, or raise :class:`_Invalid` with every problem."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise _Invalid([Problem((), f"must be a table (got {_show(data)})")])
    fields = _shapes(cls)
    problems: list[Problem] = []
    problems.extend(
        Problem((), f"unknown key {_show(key)}{_did_you_mean(key, fields)}")
        for key in data
        if key not in fields
    )
    kwargs: dict[str, Any] = {}
    for name, (field, shape) in fields.items():
        if name not in data:
            if field.default is attrs.NOTHING:
                problems.append(Problem((name,), "missing (required)"))
            continue
        value, inner = _structure_value(data[name], shape)
        problems.extend(p.under(name) for p in inner)
        if value is not _OMIT:
            kwargs[name] = value
    if not any(fields[n][0].default is attrs.NOTHING and n not in kwargs for n in fields):
        try:
            result = cls(**kwargs)
        except ConfigError as exc:
            problems.extend(exc.details)
        except (TypeError, ValueError) as exc:  # pragma: no cover - validators catch these
            problems.append(Problem((), f"invalid ({exc})"))
        else:
            if not problems:
                return result
    raise _Invalid(in_field_order(problems, cls))


_OMIT: Any = object()


def _structure_value(value: Any, shape: _Shape) -> tuple[Any, list[Problem]]:
    """A field's value and the problems found in it (``_OMIT``: use the default)."""
    if isinstance(shape, _Leaf):
        return value, []
    if isinstance(shape, _Nested):
        if value is None:
            if shape.optional:
                return None, []
            return _OMIT, [Problem((), f"must be a table (got {_show(value)})")]
        try:
            return _structure_class(value, shape.cls), []
        except _Invalid as exc:
            return _OMIT, exc.problems
    if not isinstance(value, list | tuple):
        kind = "sink tables" if isinstance(shape, _Sinks) else "filter tables"
        return _OMIT, [Problem((), f"must be a list of {kind} (got {_show(value)})")]
    out: list[Any] = []
    problems: list[Problem] = []
    for i, item in enumerate(value):
        try:
            if isinstance(shape, _Sinks):
                out.append(_structure_sink(item))
            elif isinstance(item, Mapping):
                out.append(_structure_class(item, FilterConfig))
            else:
                out.append(item)  # "module:callable" or a callable (validated by the class)
        except _Invalid as exc:
            problems.extend(p.under(i) for p in exc.problems)
            if isinstance(shape, _Sinks):
                placeholder = _placeholder(item)
                if placeholder is not None:
                    out.append(placeholder)
    return tuple(out), problems


def _structure_sink(data: Any) -> SinkConfig:
    if isinstance(data, SinkConfig):
        return data
    if not isinstance(data, Mapping):
        raise _Invalid([Problem((), f"must be a table with a 'type' (got {_show(data)})")])
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


def _placeholder(data: Any) -> SinkConfig | None:
    """A stand-in for an invalid sink, so the other sinks' fallbacks are still checked."""
    if not isinstance(data, Mapping):
        return None
    name = data.get("name") or data.get("type")
    if not isinstance(name, str) or not name:
        return None
    fallback = data.get("fallback")
    if not isinstance(fallback, str) or not fallback or fallback == name:
        fallback = None
    try:
        return NullSink(name=name, fallback=fallback)
    except ConfigError:  # pragma: no cover - a non-empty str name is always valid
        return None


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


def convert_blocks(obj: attrs.AttrsInstance) -> list[Problem]:
    """Convert the nested blocks of a config object that were given as tables, in place.

    A config object built in Python (``SupervisorConfig(shutdown={"timeout": 2})``) gets its
    blocks converted exactly as :func:`load_config` converts them: each field whose type is a
    configuration class (``shutdown``, ``restart``, ``queue`` …, found from the attrs fields'
    types, so a new block needs no edit here), and each sink table (with its ``type``) in a
    ``sinks`` list. Called by the classes' validation.

    Returns:
        The problems, with their paths from ``obj``; a block that could not be converted,
        or that is neither a table nor an object of its class, is reported here (and left as
        it is: the object is not used, the caller raises).
    """
    problems: list[Problem] = []
    for name, (_field, shape) in _shapes(type(obj)).items():
        value = getattr(obj, name)
        if isinstance(shape, _Nested):
            if isinstance(value, shape.cls) or (value is None and shape.optional):
                continue
            if not isinstance(value, Mapping):
                what = f"a {shape.cls.__name__}{' or None' if shape.optional else ''}"
                problems.append(
                    Problem(
                        (name,), f"must be {what}, or a table of its fields (got {_show(value)})"
                    )
                )
                continue
            try:
                converted = _structure_class(value, shape.cls)
            except _Invalid as exc:
                problems.extend(p.under(name) for p in exc.problems)
                continue
            object.__setattr__(obj, name, converted)
        elif isinstance(shape, _Sinks) and isinstance(value, tuple):
            if not any(isinstance(item, Mapping) for item in value):
                continue
            sinks: list[Any] = []
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    try:
                        item = _structure_sink(item)
                    except _Invalid as exc:
                        problems.extend(p.under(name, i) for p in exc.problems)
                        item = _placeholder(item)
                        if item is None:
                            continue
                sinks.append(item)
            object.__setattr__(obj, name, tuple(sinks))
    return problems


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


BLOCK_CONVERTER[0] = convert_blocks
