"""The configuration package: structured problems, one check for Python and loaded configs,
choices from the annotations, hashable configs, and the sink and format registries."""

from __future__ import annotations

import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
import trio
from hypothesis import given, settings

import logactors
from logactors import ConfigError, LogEvent
from logactors.config import (
    ConsoleSink,
    FileSink,
    MemorySink,
    Problem,
    QueueConfig,
    ShutdownConfig,
    SinkConfig,
    SupervisorConfig,
    load_config,
    register_sink,
    sink_kinds,
    unstructure_config,
)
from logactors.config.convert import CONFIG_MODULES
from logactors.formatting import FORMATS, make_formatter, register_format
from logactors.sinks import SinkBase, sink_factory
from logactors.sinks.base import (
    ReportsRejected,
    TakesPlainTuples,
    rejection_reporter,
    takes_plain_tuples,
)
from logactors.sinks.memory import MemoryWriter, NullWriter

from .strategies import supervisor_configs

# -- structured problems --------------------------------------------------------------------

BAD: dict[str, Any] = {
    "min_level": "loud",
    "properties": {1: "x"},
    "shutdown": {"timeout": -1, "strategy": "later"},
    "sinks": [
        {"type": "memory", "name": "a", "fallback": "b", "capacity": 0},
        {"type": "memory", "name": "b", "fallback": "a", "queue": {"overflow": "spill"}},
        {"type": "memory", "name": "a", "filters": [{"min_level": "nope", "zz": 1}]},
    ],
    "filters": [{"lvl": 1}],
    "redact": {"patterns": ["("], "enabled": "yes"},
    "trace_context": "maybe",
}


def test_python_and_loaded_configs_report_the_same_problems() -> None:
    """The same bad configuration, loaded from data and built in Python (blocks and sinks
    given as tables), gives the same problems with the same paths, in the same order."""
    with pytest.raises(ConfigError) as loaded:
        load_config(BAD)
    with pytest.raises(ConfigError) as built:
        SupervisorConfig(**BAD)
    assert built.value.details == loaded.value.details
    assert built.value.problems == loaded.value.problems
    paths = [p.path for p in loaded.value.details]
    assert ("sinks", 0, "capacity") in paths
    assert ("sinks", 1, "queue", "overflow") in paths
    assert ("sinks", 2, "filters", 0, "min_level") in paths
    assert ("sinks", 2, "name") in paths
    assert ("shutdown", "strategy") in paths
    assert ("redact", "patterns", 0) in paths
    assert ("trace_context",) in paths
    assert len(paths) == len(loaded.value.problems) >= 12


def test_python_objects_report_paths_like_load_config() -> None:
    """A sink built in Python reports, inside the configuration that holds it, the problems
    ``load_config`` reports for its table, with the same full paths; checked on its own, the
    same problems with paths from the sink."""
    table: dict[str, Any] = {
        "name": "f",
        "path": "",
        "rolling": "weekly",
        "queue": {"max_events": 0},
    }
    with pytest.raises(ConfigError) as loaded:
        load_config({"sinks": [{"type": "file", **table}]})
    sink = FileSink(**{**table, "queue": QueueConfig(max_events=0)})
    with pytest.raises(ConfigError) as built:
        SupervisorConfig(sinks=[sink])
    assert built.value.details == loaded.value.details
    assert [p.path for p in loaded.value.details] == [
        ("sinks", 0, "queue", "max_events"),
        ("sinks", 0, "path"),
        ("sinks", 0, "rolling"),
    ]
    with pytest.raises(ConfigError) as alone:
        sink.check()
    assert [p.under("sinks", 0) for p in alone.value.details] == loaded.value.details
    with pytest.raises(ConfigError) as console:
        ConsoleSink(colors=1, stream="stdin").check()  # type: ignore[arg-type]
    assert [p.path for p in console.value.details] == [("stream",), ("colors",)]


def test_python_sink_objects_report_like_tables() -> None:
    """Valid sink objects with problems between them (names, fallbacks) and bad top-level
    values: the same problems, with paths, as the same data loaded."""
    sinks: list[dict[str, Any]] = [
        {"type": "memory", "name": "a", "fallback": "b"},
        {"type": "memory", "name": "b", "fallback": "a"},
        {"type": "null", "name": "a"},
        {"type": "console", "name": "c", "fallback": "nowhere"},
    ]
    top: dict[str, Any] = {"min_level": "loud", "enrichers": ["nope"], "self_log": 1}
    with pytest.raises(ConfigError) as loaded:
        load_config({**top, "sinks": sinks})
    objects = [
        sink_kinds()[s["type"]](**{k: v for k, v in s.items() if k != "type"}) for s in sinks
    ]
    with pytest.raises(ConfigError) as built:
        SupervisorConfig(**top, sinks=objects)
    assert built.value.details == loaded.value.details
    assert {p.path for p in built.value.details} >= {
        ("min_level",),
        ("sinks", 0, "fallback"),
        ("sinks", 2, "name"),
        ("sinks", 3, "fallback"),
        ("enrichers", 0),
        ("self_log",),
    }


def test_problem_renders_its_path() -> None:
    problem = Problem(("sinks", 1, "queue", "max_events"), "must be > 0 (got -1)")
    assert str(problem) == "sinks[1].queue.max_events: must be > 0 (got -1)"
    assert problem.under("x").location == "x.sinks[1].queue.max_events"
    assert str(Problem((), "whole")) == "whole"
    error = ConfigError([problem, "plain text"])
    assert error.problems == [str(problem), "plain text"]
    assert error.details[1] == Problem((), "plain text")


def test_choices_come_from_the_literal_annotations() -> None:
    """Every ``Literal`` field of every configuration class rejects another value with the
    choices of its annotation, in their order."""
    classes = [
        c
        for c in vars(logactors.config).values()
        if isinstance(c, type) and attrs.has(c) and c.__module__ in CONFIG_MODULES
    ]
    checked = 0
    for cls in classes:
        hints = typing.get_type_hints(cls)
        for field in attrs.fields(cls):
            if typing.get_origin(hints[field.name]) is not typing.Literal:
                continue
            choices = typing.get_args(hints[field.name])
            kwargs: dict[str, Any] = {field.name: "not-a-choice"}
            if cls is FileSink:
                kwargs["path"] = "x.log"
            with pytest.raises(ConfigError) as exc:
                cls(**kwargs).check()  # SupervisorConfig raises when built
            expected = f"must be one of {', '.join(map(repr, choices))} (got 'not-a-choice')"
            assert Problem((field.name,), expected) in exc.value.details, (cls, field.name)
            checked += 1
    assert checked >= 9


# -- hashable configurations ----------------------------------------------------------------


def test_configs_are_hashable() -> None:
    assert hash(SupervisorConfig()) == hash(SupervisorConfig())
    config = SupervisorConfig(properties={"app": "shop", "tags": ["a", "b"]})
    assert hash(config) == hash(SupervisorConfig(properties={"tags": ["a", "b"], "app": "shop"}))
    assert config.properties == {"app": "shop", "tags": ["a", "b"]}
    with pytest.raises(TypeError):
        config.properties["app"] = "other"  # type: ignore[index]
    assert {config, attrs.evolve(config)} == {config}


@pytest.mark.slow
@settings(max_examples=40)
@given(supervisor_configs())
def test_equal_configs_hash_equal(config: SupervisorConfig) -> None:
    again = load_config(unstructure_config(config))
    assert again == config
    assert hash(again) == hash(config)


# -- registries -----------------------------------------------------------------------------


class LinesWriter(SinkBase):
    """A sink of the test's own type: keeps the formatted batches."""

    written: ClassVar[list[bytes]] = []

    def __init__(self, config: LinesSink) -> None:
        self.formatter = make_formatter(config.format)
        self.prefix = config.prefix

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        data = self.formatter.format_batch(events)
        self.written.append(self.prefix.encode() + data)
        return len(data)


@attrs.frozen(kw_only=True)
class LinesSink(SinkConfig):
    """Writes formatted lines to a list (registered by the fixture)."""

    kind: ClassVar[str] = "lines"
    writer: ClassVar[str] = f"{__name__}:LinesWriter"

    prefix: str = ""


class ShoutFormatter:
    def format_batch(self, events: Sequence[LogEvent]) -> bytes:
        return b"".join(e.rendered.upper().encode() + b"!\n" for e in events)


@pytest.fixture
def registered() -> Iterator[None]:
    register_sink(LinesSink)
    register_format("shout", lambda **_: ShoutFormatter())
    LinesWriter.written.clear()
    try:
        yield
    finally:
        logactors.config.sinks.SINK_TYPES.pop("lines")
        FORMATS.pop("shout")


async def test_custom_sink_type_and_format_from_a_config_dict(registered: None) -> None:
    """A sink type and a format added through the registries are usable by name."""
    assert sink_kinds()["lines"] is LinesSink
    config = load_config(
        {"sinks": [{"type": "lines", "name": "out", "format": "shout", "prefix": ">"}]}
    )
    assert config.sinks == (LinesSink(name="out", format="shout", prefix=">"),)
    async with logactors.open_logger(config) as log:
        log.info("paid {amount}", amount=3)
        await log.flush()
    assert LinesWriter.written == [b">PAID 3!\n"]
    # the new format is a line format: the built-in line sinks accept it too
    assert FileSink(path="x.log", format="shout").format == "shout"
    with pytest.raises(ConfigError) as exc:
        load_config({"sinks": [{"type": "lines", "colour": 1}]})
    assert exc.value.details == [Problem(("sinks", 0), "unknown key 'colour'")]


def test_registering_a_taken_kind_is_refused(registered: None) -> None:
    with pytest.raises(ValueError, match="already"):
        register_sink(type("LinesSink2", (LinesSink,), {}))


async def test_sink_factory_follows_the_writer_name() -> None:
    memory = MemorySink(name="m")
    build = sink_factory(memory)
    assert isinstance(build(), MemoryWriter)
    assert build() is build()  # keep_writer: its events outlive a restart
    null = sink_factory(logactors.NullSink())
    assert isinstance(null(), NullWriter)
    assert null() is not null()
    await trio.lowlevel.checkpoint()


def test_sink_side_protocols() -> None:
    """Plain tuples and rejected events are declared through typed protocols."""
    assert isinstance(NullWriter(), TakesPlainTuples)
    assert isinstance(MemoryWriter(), ReportsRejected)
    assert MemoryWriter().take_rejected() == (0, [])
    assert FORMATS["clef"].plain_tuples and not FORMATS["clef-rendered"].plain_tuples

    class Bare:  # a sink that does not inherit SinkBase
        takes_plain_tuples = True

        def take_rejected(self) -> tuple[int, list[str]]:
            return (2, ["dropped"])

    class Plain:
        pass

    assert takes_plain_tuples(NullWriter()) and not takes_plain_tuples(MemoryWriter())
    assert takes_plain_tuples(Bare()) and not takes_plain_tuples(Plain())
    bare = Bare()
    assert rejection_reporter(bare) is bare
    assert rejection_reporter(Plain()) is None
    reporter = rejection_reporter(MemoryWriter())
    assert reporter is not None and reporter.take_rejected() == (0, [])


def test_a_part_alone_is_never_accepted_silently() -> None:
    """A part built on its own does not raise when built (the configuration that holds it
    reports its problems with their paths), but wherever it is used: ``check()``, the sink
    factory, and any configuration that takes it. Equality, hashing and immutability do not
    depend on its problems."""
    with pytest.raises(ConfigError) as exc:
        ShutdownConfig(timeout=-1).check()
    assert exc.value.details == [Problem(("timeout",), "must be >= 0 (got -1)")]
    queue = QueueConfig(max_events=0)
    with pytest.raises(ConfigError) as exc:
        queue.check()
    assert exc.value.problems == ["max_events: must be > 0 (got 0)"]
    assert queue == QueueConfig(max_events=0) != QueueConfig()
    assert hash(queue) == hash(QueueConfig(max_events=0))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        queue.max_events = 5  # type: ignore[misc]
    sink = MemorySink(name="m", queue=queue)
    with pytest.raises(ConfigError) as exc:
        sink_factory(sink)
    assert exc.value.problems == ["queue.max_events: must be > 0 (got 0)"]
    with pytest.raises(ConfigError) as exc:
        SupervisorConfig(sinks=[sink])
    assert exc.value.problems == ["sinks[0].queue.max_events: must be > 0 (got 0)"]
    with pytest.raises(ConfigError) as exc:
        SupervisorConfig.preset("testing", sinks=[sink])
    assert exc.value.problems == ["sinks[0].queue.max_events: must be > 0 (got 0)"]
    # a table with problems stays a table, immutable and hashable like the rest
    tabled = MemorySink(name="m", queue={"max_events": 0, "zzz": 1})  # type: ignore[arg-type]
    assert tabled.queue == {"max_events": 0, "zzz": 1}
    again = MemorySink(name="m", queue={"zzz": 1, "max_events": 0})  # type: ignore[arg-type]
    assert tabled == again
    assert hash(tabled) == hash(again)
    with pytest.raises(TypeError):
        tabled.queue["zzz"] = 2  # type: ignore[index]
    with pytest.raises(ConfigError) as exc:
        tabled.check()
    assert exc.value.problems == [
        "queue: unknown key 'zzz'",
        "queue.max_events: must be > 0 (got 0)",
    ]


def test_sink_factory_reports_a_writer_that_cannot_be_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing writer module, a missing dependency of it, and a missing name are each
    reported as a ConfigError naming the sink."""

    @attrs.frozen(kw_only=True)
    class Missing(SinkConfig):
        kind: ClassVar[str] = "missing"
        writer: ClassVar[str] = "no_such_module_here:Writer"

    with pytest.raises(ConfigError, match="'m': writer 'no_such_module_here:Writer' cannot be"):
        sink_factory(Missing(name="m"))

    (tmp_path / "writer_with_dep.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    @attrs.frozen(kw_only=True)
    class NeedsDep(SinkConfig):
        kind: ClassVar[str] = "needsdep"
        writer: ClassVar[str] = "writer_with_dep:Writer"
        extra: ClassVar[str] = "thing"

    with pytest.raises(
        ConfigError, match=r"needs a missing dependency: pip install 'logactors\[thing\]'"
    ):
        sink_factory(NeedsDep(name="n"))

    @attrs.frozen(kw_only=True)
    class NoName(SinkConfig):
        kind: ClassVar[str] = "noname"
        writer: ClassVar[str] = f"{__name__}:NoSuchWriter"

    with pytest.raises(ConfigError, match="cannot be imported"):
        sink_factory(NoName(name="x"))


def test_a_sink_type_with_a_local_annotation_is_checked() -> None:
    """A sink type defined in a function, with an annotation that cannot be resolved outside
    it, still gets its bool and Literal fields checked (the other annotations resolve)."""

    class Local:
        pass

    @attrs.frozen(kw_only=True)
    class Scoped(SinkConfig):
        kind: ClassVar[str] = "scoped"
        writer: ClassVar[str] = "x:y"

        thing: Local | None = None
        flag: bool = False
        mode: typing.Literal["a", "b"] = "a"

        def _validate(self, problems: Any) -> None:
            problems.choice("mode")

    assert Scoped(flag=True).flag is True
    with pytest.raises(ConfigError) as exc:
        Scoped(flag="x", mode="c").check()  # type: ignore[arg-type]
    assert exc.value.problems == [
        "flag: must be true or false (got 'x')",
        "mode: must be one of 'a', 'b' (got 'c')",
    ]
