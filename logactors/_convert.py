"""Loading configuration from mappings, TOML and JSON files, through cattrs.

cattrs structures the mapping into the attrs classes with detailed validation; every error it
collects (wrong types, missing fields, unknown keys, our own validation problems) is turned into
one line ``<field path>: <problem>`` and all of them are raised together as one ConfigError.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from typing import Any

import attrs
import cattrs
import orjson
from cattrs.errors import AttributeValidationNote, ForbiddenExtraKeysError, IterableValidationNote

from .config import (
    SINK_TYPES,
    CustomSink,
    SinkConfig,
    SupervisorConfig,
)
from .exceptions import ConfigError

__all__ = ["load_config", "unstructure_config"]

_COMMON_SINK_FIELDS = frozenset(a.name for a in attrs.fields(SinkConfig))


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(
        forbid_extra_keys=True, detailed_validation=True, prefer_attrib_converters=True
    )

    def structure_sink(data: Any, _: type) -> SinkConfig:
        if isinstance(data, SinkConfig):
            return data
        if not isinstance(data, Mapping):
            raise ConfigError(f"type: a sink must be a table with a 'type' (got {data!r})")
        kind = data.get("type")
        rest = {k: v for k, v in data.items() if k != "type"}
        if kind is None:
            raise ConfigError(
                f"type: missing (one of {', '.join(sorted(_known_kinds()))})"
            )
        cls = SINK_TYPES.get(kind) if isinstance(kind, str) else None
        if cls is None:
            plugin = _plugin(kind)
            if plugin is None:
                raise ConfigError(
                    f"type: unknown sink type {kind!r} "
                    f"(known: {', '.join(sorted(_known_kinds()))})"
                )
            options = {k: v for k, v in rest.items() if k not in _COMMON_SINK_FIELDS}
            common = {k: v for k, v in rest.items() if k in _COMMON_SINK_FIELDS}
            common.setdefault("name", kind)
            return converter.structure({**common, "factory": plugin, "options": options},
                                       CustomSink)
        return converter.structure(rest, cls)

    converter.register_structure_hook(SinkConfig, structure_sink)
    return converter


def _known_kinds() -> set[str]:
    from .sinks import entry_point_sinks

    return set(SINK_TYPES) | set(entry_point_sinks())


def _plugin(kind: object) -> str | None:
    if not isinstance(kind, str):
        return None
    from .sinks import entry_point_sinks

    ep = entry_point_sinks().get(kind)
    return ep.value if ep is not None else None


_CONVERTER = _make_converter()


def _problems(exc: BaseException, path: str = "") -> list[str]:
    """Flatten a cattrs error tree into ``path: problem`` lines."""
    here = path
    for note in getattr(exc, "__notes__", []):
        if isinstance(note, AttributeValidationNote):
            here = f"{path}.{note.name}" if path else note.name
        elif isinstance(note, IterableValidationNote):
            here = f"{path}[{note.index}]"
    if isinstance(exc, ForbiddenExtraKeysError):
        prefix = f"{here}: " if here else ""
        return [f"{prefix}unknown key {k!r}" for k in sorted(exc.extra_fields)]
    if isinstance(exc, BaseExceptionGroup):
        out: list[str] = []
        for inner in exc.exceptions:
            out.extend(_problems(inner, here))
        return out
    if isinstance(exc, ConfigError):
        return [f"{here}.{p}" if here and not p.startswith("[") else f"{here}{p}"
                for p in exc.problems]
    if isinstance(exc, KeyError):
        return [f"{here}: required field missing"]
    message = str(exc) or type(exc).__name__
    if isinstance(exc, TypeError | ValueError):
        message = f"invalid value ({message})"
    return [f"{here}: {message}" if here else message]


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
        ConfigError: listing every problem found, each with its field path.
    """
    if isinstance(source, SupervisorConfig):
        return source
    data = dict(source) if isinstance(source, Mapping) else _read(source)
    try:
        return _CONVERTER.structure(data, SupervisorConfig)
    except ConfigError:
        raise
    except Exception as exc:
        problems = _problems(exc)
        raise ConfigError(problems or [str(exc)]) from None


def unstructure_config(config: SupervisorConfig) -> dict[str, Any]:
    """The configuration as plain data that :func:`load_config` reads back (sinks get
    their ``type``; callables cannot be represented and are left as they are)."""
    data: dict[str, Any] = _CONVERTER.unstructure(config)
    data["sinks"] = [
        {"type": sink.kind, **_CONVERTER.unstructure(sink, type(sink))}
        for sink in config.sinks
    ]
    for sink in data["sinks"]:
        if sink["type"] == "custom" and sink.get("sink") is None:
            sink.pop("sink", None)
    return data
