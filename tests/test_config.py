"""Configuration: the attrs classes, ``load_config`` from mappings/TOML/JSON, and ConfigError."""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given

import logactors
from logactors import (
    OFF,
    BatchConfig,
    ConfigError,
    ConsoleSink,
    CustomSink,
    FileSink,
    FilterConfig,
    Level,
    LogactorsError,
    MemorySink,
    NullSink,
    QueueConfig,
    RedactConfig,
    SpoolConfig,
    SupervisorConfig,
    load_config,
)
from logactors.config import DEFAULT_OUTPUT_TEMPLATE, sink_kinds
from logactors.config.convert import CONFIG_MODULES, unstructure_config

from .strategies import supervisor_configs

KNOWN = "console, custom, file, gelf, http, memory, null, syslog"
LEVELS = "trace, verbose, debug, info, information, warn, warning, error, critical, fatal"


def problems(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(data)
    return info.value.problems


# ---------------------------------------------------------------------------------------------
# Sources: mapping, TOML, JSON.

TOML = """
min_level = "debug"
properties = { app = "checkout" }

[[sinks]]
type = "console"
name = "console"
min_level = "info"

[[sinks]]
type = "file"
name = "file"
path = "logs/app.clef"
format = "clef"
rolling = "daily"
retain = 7
fallback = "console"
queue = { max_events = 100, max_bytes = "64MiB", overflow = "block" }
batch = { max_delay = "200ms" }
breaker = { failure_threshold = 3, reset_timeout = "5s" }

[shutdown]
timeout = "1m"
"""

MAPPING: dict[str, Any] = {
    "min_level": "debug",
    "properties": {"app": "checkout"},
    "sinks": [
        {"type": "console", "name": "console", "min_level": "info"},
        {
            "type": "file",
            "name": "file",
            "path": "logs/app.clef",
            "format": "clef",
            "rolling": "daily",
            "retain": 7,
            "fallback": "console",
            "queue": {"max_events": 100, "max_bytes": "64MiB", "overflow": "block"},
            "batch": {"max_delay": "200ms"},
            "breaker": {"failure_threshold": 3, "reset_timeout": "5s"},
        },
    ],
    "shutdown": {"timeout": "1m"},
}

EXPECTED = SupervisorConfig(
    min_level=Level.DEBUG,
    properties={"app": "checkout"},
    sinks=(
        ConsoleSink(name="console", min_level=Level.INFO),
        FileSink(
            name="file",
            path="logs/app.clef",
            format="clef",
            rolling="daily",
            retain=7,
            fallback="console",
            queue=QueueConfig(max_events=100, max_bytes=64 * 1024 * 1024, overflow="block"),
            batch=BatchConfig(max_delay=0.2),
            breaker=logactors.BreakerConfig(failure_threshold=3, reset_timeout=5.0),
        ),
    ),
    shutdown=logactors.ShutdownConfig(timeout=60.0),
)


def test_load_from_mapping() -> None:
    """A mapping with levels, durations and sizes as strings builds the expected config."""
    assert load_config(MAPPING) == EXPECTED


def test_load_from_toml(tmp_path: Path) -> None:
    """A .toml file (str or Path) builds the same config as the mapping."""
    path = tmp_path / "logging.toml"
    path.write_text(TOML)
    assert load_config(path) == EXPECTED
    assert load_config(str(path)) == EXPECTED


def test_load_from_json(tmp_path: Path) -> None:
    """A .json file builds the same config as the mapping."""
    path = tmp_path / "logging.json"
    path.write_text(json.dumps(MAPPING))
    assert load_config(path) == EXPECTED


def test_load_from_a_logactors_table(tmp_path: Path) -> None:
    """A file may keep the configuration under a single ``[logactors]`` table."""
    path = tmp_path / "app.json"
    path.write_text(json.dumps({"logactors": MAPPING}))
    assert load_config(path) == EXPECTED


def test_config_objects_pass_through() -> None:
    """A SupervisorConfig is returned as it is; an empty mapping is the default config."""
    assert load_config(EXPECTED) is EXPECTED
    assert load_config({}) == SupervisorConfig()
    assert SupervisorConfig().sinks == (ConsoleSink(name="console"),)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.yaml", "a: 1", "configuration files must end in .toml or .json"),
        ("x.toml", "min_level = ", "not valid TOML"),
        ("x.json", "{", "not valid JSON"),
        ("x.json", "[1, 2]", "the top level must be a table/object"),
        ("x.toml", b"\xff\xfe", "not valid TOML"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    """Unreadable, unparsable or non-table files raise ConfigError naming the file."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    """A missing file raises ConfigError saying it cannot be read."""
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config(tmp_path / "nope.toml")


def test_not_a_source() -> None:
    """Something that is neither a mapping, a path nor a config is rejected clearly."""
    assert problems([1]) == [
        "expected a mapping, a .toml/.json path or a SupervisorConfig (got [1])"
    ]


# ---------------------------------------------------------------------------------------------
# Lenient values: levels, durations, sizes.


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("200ms", 0.2),
        ("5s", 5.0),
        ("1m", 60.0),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        ("250us", 0.00025),
        ("250µs", 0.00025),
        (" 2 s ", 2.0),
        ("3", 3.0),
        (3, 3.0),
        (0.5, 0.5),
        ("1e3ms", 1.0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    """Durations are seconds or strings with ns/us/ms/s/m/h."""
    assert load_config({"shutdown": {"timeout": text}}).shutdown.timeout == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("64MiB", 64 * 1024**2),
        ("10MB", 10_000_000),
        ("1KiB", 1024),
        ("1.5KiB", 1536),
        ("2k", 2000),
        ("1GiB", 1024**3),
        ("512", 512),
        ("512b", 512),
        (2048, 2048),
        (2048.0, 2048),
        ("64mib", 64 * 1024**2),
    ],
)
def test_sizes(text: object, size: int) -> None:
    """Sizes are bytes or strings with b/k/kb/kib/m/mb/mib/g/gb/gib (any case)."""
    config = load_config({"sinks": [{"type": "null", "queue": {"max_bytes": text}}]})
    assert config.sinks[0].queue.max_bytes == size


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("INFO", Level.INFO),
        ("Warn", Level.WARNING),
        ("fatal", Level.CRITICAL),
        ("verbose", Level.TRACE),
        (25, Level.INFO),
        ("35", Level.WARNING),
    ],
)
def test_levels_in_config(value: object, level: Level) -> None:
    """Levels accept names in any case, aliases and numbers (rounding down)."""
    config = load_config({"min_level": value, "sinks": [{"type": "null", "min_level": value}]})
    assert config.min_level == level
    assert config.sinks[0].min_level == level


def test_off_for_sinks_only() -> None:
    """``"off"`` (or the OFF number) is accepted for a sink's level, not the logger's."""
    config = load_config({"sinks": [{"type": "null", "min_level": "off"}]})
    assert config.sinks[0].min_level == OFF
    assert NullSink(min_level=OFF).min_level == OFF
    assert QueueConfig(never_drop_level="off").never_drop_level == OFF
    assert problems({"min_level": "off"}) == [
        "min_level: 'off' is only accepted for a sink's min_level"
    ]


# ---------------------------------------------------------------------------------------------
# Problems: each with its path, every one of them.

SINGLE_PROBLEMS: list[tuple[Any, str]] = [
    (
        {"sinks": [{"type": "null"}, {"type": "memory", "queue": {"max_events": -1}}]},
        "sinks[1].queue.max_events: must be > 0 (got -1)",
    ),
    (
        {"sinks": [{"type": "console", "colour": True}]},
        "sinks[0]: unknown key 'colour' (did you mean 'colors'?)",
    ),
    ({"sinkz": []}, "unknown key 'sinkz' (did you mean 'sinks'?)"),
    ({"zzz": 1}, "unknown key 'zzz'"),
    (
        {"sinks": [{"type": "null", "queue": {"maxevents": 3}}]},
        "sinks[0].queue: unknown key 'maxevents' (did you mean 'max_events'?)",
    ),
    ({"sinks": [{"type": "null", "batch": {"size": 3}}]}, "sinks[0].batch: unknown key 'size'"),
    (
        {"sinks": [{"type": "null", "breaker": {"threshold": 3}}]},
        "sinks[0].breaker: unknown key 'threshold' (did you mean 'failure_threshold'?)",
    ),
    ({"sinks": [{"type": "null", "retry": {"tries": 3}}]}, "sinks[0].retry: unknown key 'tries'"),
    (
        {"sinks": [{"type": "null", "spool": {"path": "x", "size": 1}}]},
        "sinks[0].spool: unknown key 'size'",
    ),
    ({"redact": {"kees": []}}, "redact: unknown key 'kees' (did you mean 'keys'?)"),
    ({"restart": {"max": 1}}, "restart: unknown key 'max'"),
    ({"shutdown": {"deadline": 1}}, "shutdown: unknown key 'deadline'"),
    ({"metrics": {"window": 1}}, "metrics: unknown key 'window' (did you mean 'latency_window'?)"),
    ({"filters": [{"min_level": "info", "colour": 1}]}, "filters[0]: unknown key 'colour'"),
    (
        {"sinks": [{"type": "null", "filters": [{"lvl": 1}]}]},
        "sinks[0].filters[0]: unknown key 'lvl'",
    ),
    ({"sinks": [{"type": "kafka"}]}, f"sinks[0].type: unknown sink type 'kafka' (known: {KNOWN})"),
    ({"sinks": [{"type": 3}]}, f"sinks[0].type: unknown sink type 3 (known: {KNOWN})"),
    ({"sinks": [{"name": "x"}]}, f"sinks[0].type: missing (required: one of {KNOWN})"),
    (
        {"sinks": ["console"]},
        "sinks[0]: must be a sink configuration or a table with a 'type' (got 'console')",
    ),
    ({"sinks": "console"}, "sinks: must be a list of sinks (got 'console')"),
    (
        {"sinks": [{"type": "null", "queue": None}]},
        "sinks[0].queue: must be a QueueConfig, or a table of its fields (got None)",
    ),
    (
        {"sinks": [{"type": "null", "queue": 5}]},
        "sinks[0].queue: must be a QueueConfig, or a table of its fields (got 5)",
    ),
    (
        {"redact": "yes"},
        "redact: must be a RedactConfig or None, or a table of its fields (got 'yes')",
    ),
    (
        {"sinks": [{"type": "null", "queue": {"max_events": "lots"}}]},
        "sinks[0].queue.max_events: must be an integer (got 'lots')",
    ),
    (
        {"sinks": [{"type": "null", "queue": {"max_events": True}}]},
        "sinks[0].queue.max_events: must be an integer (got True)",
    ),
    (
        {"sinks": [{"type": "null", "queue": {"max_events": 2.5}}]},
        "sinks[0].queue.max_events: must be an integer (got 2.5)",
    ),
    ({"min_level": [1]}, "min_level: not a level: [1] (use a level name or number)"),
    ({"min_level": "loud"}, f"min_level: unknown level 'loud' (accepted: {LEVELS}, or a number)"),
    (
        {"sinks": [{"type": "null", "min_level": "loud"}]},
        f"sinks[0].min_level: unknown level 'loud' (accepted: {LEVELS}, off, or a number)",
    ),
    (
        {"sinks": [{"type": "console", "stderr_level": "off"}]},
        "sinks[0].stderr_level: 'off' is only accepted for a sink's min_level",
    ),
    (
        {"sinks": [{"type": "null", "batch": {"max_delay": "soon"}}]},
        "sinks[0].batch.max_delay: must be a number of seconds or a duration like '200ms' "
        "(got 'soon')",
    ),
    (
        {"sinks": [{"type": "null", "batch": {"max_delay": "5 parsecs"}}]},
        "sinks[0].batch.max_delay: must be a number of seconds or a duration like '200ms' "
        "(got '5 parsecs')",
    ),
    ({"shutdown": {"timeout": "-1s"}}, "shutdown.timeout: must be >= 0 (got -1)"),
    (
        {"shutdown": {"timeout": float("nan")}},
        "shutdown.timeout: must be a number of seconds or a duration like '200ms' (got nan)",
    ),
    (
        {"sinks": [{"type": "null", "write_timeout": 0}]},
        "sinks[0].write_timeout: must be > 0 (got 0)",
    ),
    (
        {"sinks": [{"type": "null", "queue": {"max_bytes": "lots"}}]},
        "sinks[0].queue.max_bytes: must be a number of bytes or a size like '64MiB' (got 'lots')",
    ),
    (
        {"sinks": [{"type": "null", "queue": {"max_bytes": "0KiB"}}]},
        "sinks[0].queue.max_bytes: must be > 0 (got 0)",
    ),
    ({"max_event_bytes": 10}, "max_event_bytes: must be >= 1024 (got 10)"),
    (
        {"sinks": [{"type": "null", "name": "a"}, {"type": "memory", "name": "a"}]},
        "sinks[1].name: duplicate sink name 'a' (also sinks[0])",
    ),
    (
        {"sinks": [{"type": "null"}, {"type": "null"}]},
        "sinks[1].name: duplicate sink name 'null' (also sinks[0])",
    ),
    (
        {"sinks": [{"type": "null", "name": "a", "fallback": "zz"}]},
        "sinks[0].fallback: no sink named 'zz' (sinks: a)",
    ),
    (
        {"sinks": [{"type": "null", "name": "a", "fallback": "a"}]},
        "sinks[0].fallback: a sink cannot be its own fallback ('a')",
    ),
    (
        {
            "sinks": [
                {"type": "null", "name": "a", "fallback": "b"},
                {"type": "null", "name": "b", "fallback": "a"},
            ]
        },
        "sinks[0].fallback: fallback cycle: a -> b -> a",
    ),
    (
        {
            "sinks": [
                {"type": "null", "name": "c", "fallback": "a"},
                {"type": "null", "name": "a", "fallback": "b"},
                {"type": "null", "name": "b", "fallback": "a"},
            ]
        },
        "sinks[1].fallback: fallback cycle: a -> b -> a",
    ),  # once, at the cycle's first sink
    (
        {"redact": {"patterns": ["(unclosed"]}},
        "redact.patterns[0]: invalid regular expression '(unclosed': missing ), unterminated "
        "subpattern at position 0",
    ),
    ({"redact": {"patterns": [3]}}, "redact.patterns[0]: must be a string (got 3)"),
    ({"redact": {"keys": 3}}, "redact.keys: must be a list of strings (got 3)"),
    ({"redact": {"keys": [""]}}, "redact.keys[0]: must not be empty"),
    (
        {"sinks": [{"type": "file", "path": "x", "fsync": "false"}]},
        "sinks[0].fsync: must be true or false (got 'false')",
    ),
    (
        {"sinks": [{"type": "console", "colors": "yes"}]},
        "sinks[0].colors: must be true, false or unset (got 'yes')",
    ),
    (
        {"sinks": [{"type": "http", "url": "http://x", "compress": "no"}]},
        "sinks[0].compress: must be true or false (got 'no')",
    ),
    ({"filters": [{"exclude": "yes"}]}, "filters[0].exclude: must be true or false (got 'yes')"),
    (
        {"filters": 3},
        "filters: must be a list of filter tables, 'module:callable' names or callables (got 3)",
    ),
    (
        {"filters": [3]},
        "filters[0]: must be one of filter tables, 'module:callable' names or callables (got 3)",
    ),
    ({"enrichers": 3}, "enrichers: must be a list of enricher names or callables (got 3)"),
    (
        {"enrichers": ["nope"]},
        "enrichers[0]: unknown enricher 'nope' (built-in: hostname, process, sequence, task, "
        "thread; or 'module:callable')",
    ),
    ({"self_log": 3}, "self_log: must be 'stderr', 'off' or a callable (got 3)"),
    ({"properties": [1, 2]}, "properties: must be a table of property values (got [1, 2])"),
    ({"properties": {1: 2}}, "properties: property names must be strings (got [1])"),
    ({"sinks": [{"type": "null", "name": 3}]}, "sinks[0].name: must be a string (got 3)"),
    (
        {"sinks": [{"type": "null", "output_template": 3}]},
        "sinks[0].output_template: must be a string (got 3)",
    ),
    (
        {"sinks": [{"type": "file", "path": "x", "format": "xml"}]},
        "sinks[0].format: must be one of 'clef', 'clef-rendered', 'csv', 'csv-raw', 'json', "
        "'logfmt', 'text' (got 'xml')",
    ),
    ({"sinks": [{"type": "file"}]}, "sinks[0].path: missing (required: the file to write)"),
    (
        {"sinks": [{"type": "file", "path": "x", "rolling": "weekly"}]},
        "sinks[0].rolling: must be one of 'never', 'hourly', 'daily' (got 'weekly')",
    ),
    ({"sinks": [{"type": "null", "spool": {}}]}, "sinks[0].spool.path: missing (required)"),
    (
        {"sinks": [{"type": "custom", "factory": 3}]},
        "sinks[0].factory: must be 'package.module:Name' or a callable (got 3)",
    ),
    (
        {"sinks": [{"type": "custom", "factory": "no colon"}]},
        "sinks[0].factory: must look like 'package.module:Name' (got 'no colon')",
    ),
    (
        {"sinks": [{"type": "custom"}]},
        "sinks[0].factory: give exactly one of factory='module:Name' or sink=<object>",
    ),
    (
        {"sinks": [{"type": "custom", "factory": "a:b", "options": [1]}]},
        "sinks[0].options: must be a table of keyword arguments (got [1])",
    ),
    (
        {"sinks": [{"type": "null", "retry": {"jitter": 2}}]},
        "sinks[0].retry.jitter: must be between 0 and 1 (got 2)",
    ),
    ({"restart": {"max_restarts": -1}}, "restart.max_restarts: must be >= 0 (got -1)"),
    (
        {"shutdown": {"strategy": "now"}},
        "shutdown.strategy: must be one of 'graceful', 'flush', 'immediate' (got 'now')",
    ),
    (
        {"sinks": [{"type": "null", "queue": {"overflow": "spill"}}]},
        "sinks[0].queue.overflow: must be one of 'drop_oldest', 'drop_newest', 'block' "
        "(got 'spill')",
    ),
]


@pytest.mark.parametrize(("data", "expected"), SINGLE_PROBLEMS)
def test_single_problem_messages(data: Any, expected: str) -> None:
    """Each kind of mistake gives exactly one clear message with its field path."""
    assert problems(data) == [expected]


def test_every_problem_is_listed_in_field_order() -> None:
    """Problems anywhere (top level, nested, sibling sinks, fallbacks) are all reported."""
    data = {
        "min_level": "loud",
        "colour": 1,
        "sinks": [
            {
                "type": "null",
                "name": "a",
                "queue": {"max_events": -1, "overflow": "x"},
                "batch": {"max_events": 0},
                "fallback": "b",
            },
            {"type": "file", "name": "b", "fallback": "a", "colour": 2},
            {"type": "kafka"},
            {"type": "null", "name": "d", "fallback": "ghost"},
        ],
        "shutdown": {"timeout": -1},
        "redact": {"patterns": ["("]},
    }
    assert problems(data) == [
        "unknown key 'colour'",
        f"min_level: unknown level 'loud' (accepted: {LEVELS}, or a number)",
        "sinks[0].queue.max_events: must be > 0 (got -1)",
        "sinks[0].queue.overflow: must be one of 'drop_oldest', 'drop_newest', 'block' (got 'x')",
        "sinks[0].batch.max_events: must be > 0 (got 0)",
        "sinks[1]: unknown key 'colour'",
        "sinks[1].path: missing (required: the file to write)",
        f"sinks[2].type: unknown sink type 'kafka' (known: {KNOWN})",
        "sinks[0].fallback: fallback cycle: a -> b -> a",  # placeholders keep names
        "sinks[3].fallback: no sink named 'ghost' (sinks: a, b, d, kafka)",
        "redact.patterns[0]: invalid regular expression '(': missing ), unterminated "
        "subpattern at position 0",
        "shutdown.timeout: must be >= 0 (got -1)",
    ]


def test_config_error_message_and_types() -> None:
    """ConfigError is a ValueError and a LogactorsError; its message lists the problems."""
    with pytest.raises(ConfigError) as info:
        load_config({"min_level": "loud", "zzz": 1})
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, LogactorsError)
    assert str(error).startswith("invalid configuration (2 problems):\n  - unknown key 'zzz'")
    assert str(ConfigError("x: y")) == "invalid configuration: x: y"


def test_python_construction_validates() -> None:
    """The classes built in Python report every problem by field name: a part when checked
    (on its own, with paths from it), SupervisorConfig when built."""
    queue = QueueConfig(max_events=0, overflow="x", block_timeout="never")  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as info:
        queue.check()
    assert info.value.problems == [
        "max_events: must be > 0 (got 0)",
        "overflow: must be one of 'drop_oldest', 'drop_newest', 'block' (got 'x')",
        "block_timeout: must be a number of seconds or a duration like '200ms' (got 'never')",
    ]
    with pytest.raises(ConfigError, match="must be a QueueConfig"):
        MemorySink(queue=7).check()  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"filters\[0\]: unknown key 'lvl'"):
        SupervisorConfig(filters=[{"lvl": 1}])  # type: ignore[list-item]
    assert SupervisorConfig(filters=[{"min_level": "warn"}]).filters == (
        FilterConfig(min_level=Level.WARNING),
    )
    with pytest.raises(ConfigError, match="must not be empty"):
        SpoolConfig(path="").check()
    assert FileSink(path="x.log").check() == FileSink(path="x.log")  # valid: itself


def test_sink_defaults() -> None:
    """A sink without a name is named after its kind and takes the documented defaults."""
    sink = FileSink(path="app.log")
    assert sink.name == "file"
    assert sink.min_level == Level.TRACE
    assert sink.output_template == DEFAULT_OUTPUT_TEMPLATE
    assert sink.queue == QueueConfig(
        max_events=10_000, max_bytes=None, overflow="drop_oldest", never_drop_level=Level.ERROR
    )
    assert sink.batch.max_events == 512
    assert sink.batch.max_delay == 0.2
    assert sink.breaker is not None
    assert (sink.breaker.failure_threshold, sink.breaker.reset_timeout) == (5, 5.0)
    assert (sink.retry.attempts, sink.retry.initial_backoff, sink.retry.max_backoff) == (
        3,
        0.1,
        5.0,
    )
    assert sink.fallback is None
    assert sink.spool is None
    assert sink.queue.hard_cap_bytes == 64 * 1024 * 1024


def test_sink_kinds() -> None:
    """``sink_kinds`` maps every ``type`` name to its class."""
    assert ", ".join(sorted(sink_kinds())) == KNOWN
    assert sink_kinds()["file"] is FileSink


def test_entry_point_sink_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """A type registered under ``logactors.sinks`` becomes a CustomSink with options."""
    from importlib import metadata

    import logactors.config.convert

    ep = metadata.EntryPoint(name="kafka", value="kafka_sink:KafkaSink", group="logactors.sinks")
    monkeypatch.setattr(logactors.config.convert, "entry_point_sinks", lambda: {"kafka": ep})
    config = load_config({"sinks": [{"type": "kafka", "topic": "logs", "min_level": "warn"}]})
    sink = config.sinks[0]
    assert isinstance(sink, CustomSink)
    assert (sink.name, sink.factory, sink.options) == (
        "kafka",
        "kafka_sink:KafkaSink",
        {"topic": "logs"},
    )
    assert sink.min_level == Level.WARNING
    assert "kafka" in problems({"sinks": [{"type": "nope"}]})[0]


# ---------------------------------------------------------------------------------------------
# Round trip and presets.


@given(supervisor_configs())
def test_unstructure_round_trip(config: SupervisorConfig) -> None:
    """``load_config(unstructure_config(c)) == c`` for any config without callables; the
    classes given the same data (every block and sink as a table) build the same config."""
    data = unstructure_config(config)
    assert load_config(data) == config
    assert all(isinstance(sink, dict) for sink in data["sinks"])
    assert SupervisorConfig(**data) == config
    assert load_config(json.loads(json.dumps(data))) == config  # plain JSON data, too


def test_unstructure_writes_level_names() -> None:
    """Levels are written by name, ``"off"`` for a sink that is off."""
    config = SupervisorConfig(
        min_level="warn",
        sinks=[ConsoleSink(min_level=OFF, stderr_level="error")],
        filters=[FilterConfig(max_level="debug")],
    )
    data = unstructure_config(config)
    assert data["min_level"] == "warning"
    assert data["filters"][0]["max_level"] == "debug"
    assert data["sinks"][0]["type"] == "console"
    assert data["sinks"][0]["min_level"] == "off"
    assert data["sinks"][0]["stderr_level"] == "error"


def test_presets() -> None:
    """The three presets have the documented shape and accept overrides."""
    dev = SupervisorConfig.preset("development")
    assert dev.min_level == Level.DEBUG
    assert [type(s) for s in dev.sinks] == [ConsoleSink]

    prod = SupervisorConfig.preset("production")
    assert prod.min_level == Level.INFO
    assert [(type(s), s.format) for s in prod.sinks] == [(ConsoleSink, "clef"), (FileSink, "clef")]
    file = prod.sinks[1]
    assert isinstance(file, FileSink)
    assert (file.path, file.rolling) == ("logs/app.clef", "daily")
    assert all(s.queue.overflow == "drop_oldest" for s in prod.sinks)
    assert all(s.queue.never_drop_level == Level.ERROR for s in prod.sinks)
    assert prod.redact == RedactConfig()

    test = SupervisorConfig.preset("testing", properties={"suite": "x"})
    assert test.min_level == Level.TRACE
    assert [type(s) for s in test.sinks] == [MemorySink]
    assert test.properties == {"suite": "x"}
    for preset in (dev, prod, test):
        assert load_config(unstructure_config(preset)) == preset

    with pytest.raises(ConfigError, match="unknown preset 'staging'"):
        SupervisorConfig.preset("staging")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="min_level: unknown level"):
        SupervisorConfig.preset("testing", min_level="loud")


# ---------------------------------------------------------------------------------------------
# open_logger accepts every form.


async def test_open_logger_accepts_every_form(tmp_path: Path) -> None:
    """open_logger takes a config object, a mapping, a .toml path and a .json path."""
    data = {"min_level": "debug", "sinks": [{"type": "null", "name": "n"}]}
    toml_path = tmp_path / "c.toml"
    toml_path.write_text('min_level = "debug"\n[[sinks]]\ntype = "null"\nname = "n"\n')
    json_path = tmp_path / "c.json"
    json_path.write_text(json.dumps(data))
    for source in (load_config(data), data, toml_path, str(json_path)):
        async with logactors.open_logger(source) as log:  # type: ignore[arg-type]
            assert log.is_enabled("debug")
            assert not log.is_enabled("trace")
            log.debug("hello {x}", x=1)
            await log.flush()
            assert list(log.metrics().sinks) == ["n"]
            assert log.metrics().sinks["n"].written == 1


async def test_open_logger_rejects_bad_config() -> None:
    """An invalid config raises ConfigError before anything starts."""
    with pytest.raises(ConfigError, match=r"sinks\[0\]\.type"):
        async with logactors.open_logger({"sinks": [{"type": "kafka"}]}):
            pass  # pragma: no cover


def test_frozen() -> None:
    """Config objects are immutable values."""
    config = SupervisorConfig()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.min_level = 10  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Blocks given as tables to the classes themselves.


def _block_fields(cls: type) -> list[tuple[str, type]]:
    """The fields of ``cls`` whose type is a configuration class (``X`` or ``X | None``)."""
    hints = typing.get_type_hints(cls)
    out = []
    for field in attrs.fields(cls):
        hint = hints[field.name]
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        for member in typing.get_args(hint) if union else (hint,):
            if (
                isinstance(member, type)
                and attrs.has(member)
                and member.__module__ in CONFIG_MODULES
            ):
                out.append((field.name, member))
    return out


SUPERVISOR_BLOCKS = _block_fields(SupervisorConfig)
SINK_BLOCKS = _block_fields(MemorySink)


def test_every_block_is_found() -> None:
    """The blocks are read from the fields' types (a new block is covered without edits)."""
    assert {"redact", "restart", "shutdown", "metrics"} <= dict(SUPERVISOR_BLOCKS).keys()
    assert {"queue", "batch", "breaker", "retry", "spool"} <= dict(SINK_BLOCKS).keys()


@pytest.mark.parametrize(("name", "cls"), SUPERVISOR_BLOCKS)
def test_each_supervisor_block_as_a_table(name: str, cls: type) -> None:
    """Each block: a table converts to what load_config builds; a bad table or a value of
    the wrong kind is a ConfigError naming the block."""
    table = unstructure_config(SupervisorConfig(**{name: cls(**_required(cls))}))[name]
    built = SupervisorConfig(**{name: table})
    assert isinstance(getattr(built, name), cls)
    assert built == load_config({name: table})
    with pytest.raises(ConfigError) as info:
        SupervisorConfig(**{name: {**table, "zzz": 1}})
    assert info.value.problems == [f"{name}: unknown key 'zzz'"]
    with pytest.raises(ConfigError, match=rf"^invalid configuration: {name}: must be a "):
        SupervisorConfig(**{name: 42})


@pytest.mark.parametrize(("name", "cls"), SINK_BLOCKS)
def test_each_sink_block_as_a_table(name: str, cls: type) -> None:
    """Each sink block likewise, directly and inside a sink table in ``sinks``."""
    table = unstructure_config(
        SupervisorConfig(sinks=[MemorySink(**{name: cls(**_required(cls))})])
    )["sinks"][0][name]
    assert MemorySink(**{name: table}) == MemorySink(**{name: cls(**_required(cls))})
    with pytest.raises(ConfigError) as info:
        MemorySink(**{name: {**table, "zzz": 1}}).check()
    assert info.value.problems == [f"{name}: unknown key 'zzz'"]
    with pytest.raises(ConfigError) as info:
        SupervisorConfig(sinks=[MemorySink(**{name: {**table, "zzz": 1}})])
    assert info.value.problems == [f"sinks[0].{name}: unknown key 'zzz'"]
    with pytest.raises(ConfigError) as info:
        SupervisorConfig(sinks=[{"type": "memory", name: {**table, "zzz": 1}}])
    assert info.value.problems == [f"sinks[0].{name}: unknown key 'zzz'"]


def _required(cls: type) -> dict[str, Any]:
    """Values for the required fields of a block (the spool's path)."""
    return {"path": "spool/x.spool"} if cls is SpoolConfig else {}


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"shutdown": {"timeout": -1}}, "shutdown.timeout: must be >= 0 (got -1)"),
        ({"shutdown": {"strategy": "never"}}, "shutdown.strategy: must be one of"),
        ({"restart": {"max_restarts": -1}}, "restart.max_restarts: must be >= 0 (got -1)"),
        ({"metrics": {"latency_window": 0}}, "metrics.latency_window: must be > 0 (got 0)"),
        ({"redact": {"patterns": ["("]}}, "redact.patterns[0]: invalid regular expression"),
        ({"redact": "on"}, "redact: must be a RedactConfig or None, or a table of its fields"),
        (
            {"sinks": [{"type": "memory", "queue": {"max_events": 0}}]},
            "sinks[0].queue.max_events: must be > 0 (got 0)",
        ),
        ({"sinks": [{"type": "kafka"}]}, "sinks[0].type: unknown sink type 'kafka'"),
    ],
)
def test_bad_tables_name_their_path(kwargs: dict[str, Any], problem: str) -> None:
    """A table that cannot be converted is a ConfigError with its field path, the same
    problem load_config reports."""
    with pytest.raises(ConfigError) as info:
        SupervisorConfig(**kwargs)
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems
    if not isinstance(kwargs.get("redact", {}), str):
        with pytest.raises(ConfigError) as loaded:
            load_config(kwargs)
        assert loaded.value.problems == info.value.problems


async def test_a_shutdown_table_shuts_down() -> None:
    """``SupervisorConfig(shutdown={...})`` runs and shuts down with those settings (it used
    to crash at shutdown with an AttributeError)."""
    config = SupervisorConfig(
        sinks=[{"type": "memory", "name": "m", "batch": {"max_delay": 0}}],  # type: ignore[list-item]
        shutdown={"timeout": "2s", "strategy": "flush"},  # type: ignore[arg-type]
        restart={"max_restarts": 1},  # type: ignore[arg-type]
        metrics={"latency_window": 8},  # type: ignore[arg-type]
    )
    assert config.shutdown.strategy == "flush"
    async with logactors.open_logger(config) as log:
        log.info("one")
        await log.flush()
    assert log.metrics().sinks["m"].written == 1
