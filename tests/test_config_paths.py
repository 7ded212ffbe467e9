"""A configuration built in Python reports every problem of its whole tree, each with its full
path, exactly as ``load_config`` reports the same configuration given as data: the same
``ConfigError`` (same problems, paths, messages, order), however deep the parts, however many
of them are invalid, although Python builds the innermost objects first."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logactors.config import (
    BatchConfig,
    BreakerConfig,
    CaptureConfig,
    ConfigError,
    FilterConfig,
    MetricsConfig,
    Problem,
    QueueConfig,
    RedactConfig,
    RestartPolicy,
    RetryConfig,
    ShutdownConfig,
    SpoolConfig,
    SupervisorConfig,
    load_config,
    sink_kinds,
)

#: the blocks, by the field that holds them
BLOCKS: dict[str, type] = {
    "queue": QueueConfig,
    "batch": BatchConfig,
    "breaker": BreakerConfig,
    "retry": RetryConfig,
    "spool": SpoolConfig,
    "redact": RedactConfig,
    "capture": CaptureConfig,
    "restart": RestartPolicy,
    "shutdown": ShutdownConfig,
    "metrics": MetricsConfig,
}


def in_python(table: dict[str, Any], cls: type = SupervisorConfig) -> Any:
    """The configuration of ``table`` built the way a program writes it: every block, filter
    and sink an object of its class, the innermost built first (as Python evaluates
    ``SupervisorConfig(sinks=[FileSink(queue=QueueConfig(...))])``)."""
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        if key in BLOCKS and isinstance(value, dict):
            value = BLOCKS[key](**value)
        elif key == "filters":
            value = [FilterConfig(**f) for f in value]
        elif key == "sinks":
            value = [
                in_python({k: v for k, v in s.items() if k != "type"}, sink_kinds()[s["type"]])
                for s in value
            ]
        kwargs[key] = value
    return cls(**kwargs)


def both(data: dict[str, Any]) -> tuple[list[Problem], list[Problem]]:
    """The problems of ``data`` loaded, and of the same configuration built in Python."""
    with pytest.raises(ConfigError) as loaded:
        load_config(data)
    with pytest.raises(ConfigError) as built:
        in_python(data)
    return loaded.value.details, built.value.details


# -- table-driven ---------------------------------------------------------------------------

CASES: list[tuple[dict[str, Any], list[str]]] = [
    (  # several problems in several sinks, nested two deep, and in the top level
        {
            "min_level": "loud",
            "sinks": [
                {
                    "type": "file",
                    "name": "f",
                    "path": "x.log",
                    "queue": {"max_events": -1, "overflow": "spill"},
                    "rolling": "weekly",
                    "retry": {"attempts": 0, "jitter": 2},
                },
                {
                    "type": "console",
                    "name": "c",
                    "stream": "stdin",
                    "breaker": {"failure_threshold": 0, "reset_timeout": "soon"},
                    "spool": {"path": "", "max_bytes": 0, "fsync": "yes"},
                },
                {"type": "memory", "name": "m", "capacity": 0, "fallback": "ghost"},
            ],
            "shutdown": {"timeout": -1},
        },
        [
            "min_level: unknown level 'loud' (accepted: trace, verbose, debug, info, "
            "information, warn, warning, error, critical, fatal, or a number)",
            "sinks[0].queue.max_events: must be > 0 (got -1)",
            "sinks[0].queue.overflow: must be one of 'drop_oldest', 'drop_newest', 'block' "
            "(got 'spill')",
            "sinks[0].retry.attempts: must be > 0 (got 0)",
            "sinks[0].retry.jitter: must be between 0 and 1 (got 2)",
            "sinks[0].rolling: must be one of 'never', 'hourly', 'daily' (got 'weekly')",
            "sinks[1].breaker.failure_threshold: must be > 0 (got 0)",
            "sinks[1].breaker.reset_timeout: must be a number of seconds or a duration like "
            "'200ms' (got 'soon')",
            "sinks[1].spool.path: must not be empty",
            "sinks[1].spool.max_bytes: must be > 0 (got 0)",
            "sinks[1].spool.fsync: must be true or false (got 'yes')",
            "sinks[1].stream: must be one of 'stdout', 'stderr' (got 'stdin')",
            "sinks[2].capacity: must be > 0 (got 0)",
            "sinks[2].fallback: no sink named 'ghost' (sinks: c, f, m)",
            "shutdown.timeout: must be >= 0 (got -1)",
        ],
    ),
    (  # invalid sinks keep their index, name and fallback: duplicates and cycles still found
        {
            "sinks": [
                {"type": "memory", "name": "a", "fallback": "b", "queue": {"max_events": 0}},
                {"type": "memory", "name": 5, "batch": {"max_delay": -1}},
                {"type": "memory", "name": "b", "fallback": "a", "batch": {"max_events": 0}},
                {"type": "null", "name": "a", "write_timeout": 0},
            ],
        },
        [
            "sinks[0].queue.max_events: must be > 0 (got 0)",
            "sinks[1].name: must be a string (got 5)",
            "sinks[1].batch.max_delay: must be >= 0 (got -1)",
            "sinks[2].batch.max_events: must be > 0 (got 0)",
            "sinks[3].write_timeout: must be > 0 (got 0)",
            "sinks[3].name: duplicate sink name 'a' (also sinks[0])",
            "sinks[0].fallback: fallback cycle: a -> b -> a",
        ],
    ),
    (  # filters of a sink and of the top level, and the top-level blocks
        {
            "sinks": [
                {
                    "type": "null",
                    "filters": [{"min_level": "warn"}, {"min_level": "nope", "exclude": "no"}],
                }
            ],
            "filters": [{"logger": 5}],
            "redact": {"patterns": ["("], "replacement": 5},
            "capture": {"max_depth": 0},
            "restart": {"window": 0},
            "metrics": {"latency_window": 0},
        },
        [
            "sinks[0].filters[1].min_level: unknown level 'nope' (accepted: trace, verbose, "
            "debug, info, information, warn, warning, error, critical, fatal, or a number)",
            "sinks[0].filters[1].exclude: must be true or false (got 'no')",
            "filters[0].logger: must be a string (got 5)",
            "redact.patterns[0]: invalid regular expression '(': missing ), unterminated "
            "subpattern at position 0",
            "redact.replacement: must be a string (got 5)",
            "capture.max_depth: must be > 0 (got 0)",
            "restart.window: must be > 0 (got 0)",
            "metrics.latency_window: must be > 0 (got 0)",
        ],
    ),
]


@pytest.mark.parametrize(("data", "expected"), CASES)
def test_python_reports_the_whole_tree_like_load_config(
    data: dict[str, Any], expected: list[str]
) -> None:
    loaded, built = both(data)
    assert built == loaded
    assert [str(p) for p in built] == expected


def test_the_message_lists_every_problem_with_its_path() -> None:
    """What the user reads: one error, every problem, full paths."""
    data = CASES[0][0]
    with pytest.raises(ConfigError) as built:
        in_python(data)
    text = str(built.value)
    assert text.startswith(f"invalid configuration ({len(CASES[0][1])} problems):\n")
    assert text.splitlines()[1:] == [f"  - {p}" for p in CASES[0][1]]


# -- generated ------------------------------------------------------------------------------

#: values each field rejects, by the block or sink type that has the field
BAD_VALUES: dict[str, dict[str, list[Any]]] = {
    "queue": {
        "max_events": [-1, 0, "many"],
        "max_bytes": [0, "lots"],
        "overflow": ["spill"],
        "never_drop_level": ["loud"],
        "block_timeout": [-1, "never"],
    },
    "batch": {"max_events": [0], "max_delay": [-1, "later"], "max_bytes": [0]},
    "breaker": {"failure_threshold": [0, 1.5], "reset_timeout": ["soon", -2]},
    "retry": {
        "attempts": [0, "3"],
        "initial_backoff": [-1],
        "max_backoff": ["x"],
        "jitter": [2, "lots"],
    },
    "spool": {"path": [""], "max_bytes": [0], "fsync": ["yes"], "file_mode": [0o1000]},
    "filter": {"min_level": ["nope"], "logger": [5], "exclude": ["no"]},
    "sink": {
        "name": [5, None],
        "min_level": ["loud"],
        "format": ["xml"],
        "write_timeout": [0, "never"],
        "fallback": ["ghost", 5, ""],
    },
    "file": {
        "path": [""],
        "rolling": ["weekly"],
        "retain": [0],
        "max_bytes": [0],
        "write_mode": ["fast"],
        "file_mode": [-1],
    },
    "console": {
        "stream": ["stdin"],
        "on_broken_pipe": ["ignore"],
        "colors": ["maybe"],
        "stderr_level": ["loud"],
    },
    "memory": {"capacity": [0]},
    "null": {},
    "top": {
        "min_level": ["loud"],
        "enrichers": [["nope"]],
        "self_log": [1],
        "max_event_bytes": [10],
        "trace_context": ["maybe"],
    },
    "shutdown": {"timeout": [-1], "strategy": ["later"]},
    "restart": {"max_restarts": [-1], "window": [0]},
    "metrics": {"latency_window": [0]},
    "capture": {"max_depth": [0], "max_items": [-3]},
    "redact": {"patterns": [["("]], "replacement": [5], "enabled": ["yes"]},
}


@st.composite
def bad_fields(draw: st.DrawFn, kind: str) -> tuple[dict[str, Any], set[tuple[str, ...]]]:
    """Some fields of ``kind`` with rejected values, and their paths."""
    choices = BAD_VALUES[kind]
    names = draw(st.sets(st.sampled_from(sorted(choices)), max_size=3)) if choices else set()
    table = {name: draw(st.sampled_from(choices[name])) for name in sorted(names)}
    return table, {(name,) for name in table}


@st.composite
def bad_blocks(
    draw: st.DrawFn, kinds: list[str]
) -> tuple[dict[str, Any], set[tuple[str | int, ...]]]:
    """Blocks among ``kinds``, valid or not (a spool always has its path)."""
    table: dict[str, Any] = {}
    paths: set[tuple[str | int, ...]] = set()
    for kind in draw(st.sets(st.sampled_from(kinds))):
        fields, bad = draw(bad_fields(kind))
        if kind == "spool":
            fields.setdefault("path", "spool/x.spool")
        table[kind] = fields
        paths |= {(kind, *p) for p in bad}
    return table, paths


@st.composite
def bad_filters(draw: st.DrawFn) -> tuple[list[dict[str, Any]], set[tuple[str | int, ...]]]:
    filters: list[dict[str, Any]] = []
    paths: set[tuple[str | int, ...]] = set()
    for i in range(draw(st.integers(0, 2))):
        fields, bad = draw(bad_fields("filter"))
        filters.append(fields)
        paths |= {("filters", i, *p) for p in bad}
    return filters, paths


@st.composite
def bad_sink(draw: st.DrawFn) -> tuple[dict[str, Any], set[tuple[str | int, ...]]]:
    kind = draw(st.sampled_from(["file", "console", "memory", "null"]))
    table: dict[str, Any] = {"type": kind, "name": draw(st.sampled_from(["a", "b", "c"]))}
    if kind == "file":
        table["path"] = "app.log"
    if draw(st.booleans()):
        table["fallback"] = draw(st.sampled_from(["a", "b", "c"]))
    paths: set[tuple[str | int, ...]] = set()
    for fields in (bad_fields("sink"), bad_fields(kind)):
        values, bad = draw(fields)
        table.update(values)
        paths |= bad
    blocks, bad = draw(bad_blocks(["queue", "batch", "breaker", "retry", "spool"]))
    table.update(blocks)
    paths |= bad
    if draw(st.booleans()):
        table["filters"], bad = draw(bad_filters())
        paths |= bad
    return table, paths


@st.composite
def bad_configs(draw: st.DrawFn) -> tuple[dict[str, Any], set[tuple[str | int, ...]]]:
    """A configuration as data, with problems anywhere (or none), and the paths of the values
    that were made invalid."""
    data, paths = draw(bad_fields("top"))
    blocks, bad = draw(bad_blocks(["shutdown", "restart", "metrics", "capture", "redact"]))
    data.update(blocks)
    paths |= bad
    sinks = []
    for i in range(draw(st.integers(1, 4))):
        sink, bad = draw(bad_sink())
        sinks.append(sink)
        paths |= {("sinks", i, *p) for p in bad}
    data["sinks"] = sinks
    if draw(st.booleans()):
        data["filters"], bad = draw(bad_filters())
        paths |= bad
    return data, paths


@given(bad_configs())
def test_python_and_load_config_agree_on_any_tree(
    case: tuple[dict[str, Any], set[tuple[str | int, ...]]],
) -> None:
    """Built in Python (objects, or the classes given tables) or loaded: the same problems
    (paths, messages, order), and each value made invalid is among them; or, when nothing is
    wrong, the same configuration."""
    data, bad_paths = case
    try:
        loaded = load_config(data)
    except ConfigError as exc:
        details = exc.details
    else:
        assert not bad_paths
        assert in_python(data) == loaded == SupervisorConfig(**data)
        return
    with pytest.raises(ConfigError) as built:
        in_python(data)
    assert built.value.details == details
    with pytest.raises(ConfigError) as tabled:
        SupervisorConfig(**data)
    assert tabled.value.details == details
    assert built.value.problems == [str(p) for p in details]
    found = {p.path for p in details}
    for path in bad_paths:
        assert any(f[: len(path)] == path for f in found), (path, details)
