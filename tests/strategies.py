"""Hypothesis strategies shared by the whole suite.

* property names and values: :func:`property_names`, :func:`json_values`, :func:`nasty_text`,
  :func:`awkward_values` (values orjson and ``str`` choke on);
* message templates: :func:`template_pieces` (text and holes with the text each renders to);
* log events: :func:`log_events`; events that attack the formatters: :func:`hostile_events`
  (:func:`hostile_values`, :func:`hostile_names`);
* configurations: :func:`supervisor_configs` (valid :class:`SupervisorConfig` objects that
  survive ``unstructure_config``/``load_config``).
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from logactors import OFF, Level, LogEvent
from logactors import config as cfg

# ---------------------------------------------------------------------------------------------
# Text and property values.

#: Characters that break lines or terminals: C0/C1 controls, DEL, NEL, the Unicode separators.
LINE_BREAKERS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
CONTROL_CHARS = LINE_BREAKERS + "\x00\x07\x08\t\x1b\x7f\x9b"


@functools.cache
def nasty_text(max_size: int = 30) -> st.SearchStrategy[str]:
    """Text rich in braces, quotes, escapes, control characters and line breakers."""
    special = st.sampled_from(
        [
            *CONTROL_CHARS,
            "{",
            "}",
            "{{",
            "}}",
            '"',
            "'",
            "\\",
            "=",
            ",",
            " ",
            "@",
            "$",
            "é",
            "\U0001f600",
            "\ud800",
            "[INF]",
            "\x1b[31m",
        ]
    )
    return st.lists(st.one_of(st.text(max_size=5), special), max_size=max_size).map("".join)


@functools.cache
def property_names() -> st.SearchStrategy[str]:
    """Names a template hole accepts: dotted identifiers of letters, digits and ``_``."""
    first = st.sampled_from(string.ascii_letters + "_é")
    rest = st.text(alphabet=string.ascii_letters + string.digits + "_", max_size=6)
    segment = st.builds(lambda a, b: a + b, first, rest)
    return st.lists(segment, min_size=1, max_size=3).map(".".join)


scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)


@functools.cache
def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Values that survive a JSON round trip unchanged (str keys, lists, finite floats)."""
    return st.recursive(
        scalars.filter(lambda v: not isinstance(v, str) or _utf8_ok(v)),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=8).filter(_utf8_ok), children, max_size=4),
        ),
        max_leaves=max_leaves,
    )


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class BadStr:
    """``str``, ``repr`` and ``format`` all raise."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __format__(self, spec: str) -> str:
        raise RuntimeError("no format")


class BadFormat:
    """``format`` raises; ``str`` works."""

    def __format__(self, spec: str) -> str:
        raise ValueError("no format")

    def __str__(self) -> str:
        return "bad-format"


class BadDict:
    """Even looking at ``__dict__`` raises."""

    @property
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        raise RuntimeError("no dict")

    def __str__(self) -> str:
        raise RuntimeError("no str")


class BadMapping(Mapping[str, Any]):
    """A mapping whose every access raises."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("no item")

    def __iter__(self) -> Any:
        raise RuntimeError("no iter")

    def __len__(self) -> int:
        raise RuntimeError("no len")


def _cycle() -> Any:
    a: list[Any] = [1]
    a.append(a)
    d: dict[str, Any] = {"list": a}
    d["self"] = d
    return d


@functools.cache
def awkward_values() -> st.SearchStrategy[Any]:
    """Values that make naive formatters raise: cycles, huge ints, bad ``__str__``, bytes …"""
    return st.one_of(
        st.builds(_cycle),
        st.integers(min_value=2**64).map(lambda n: n * 10**60),
        st.just(10**5000),  # str() itself raises ValueError (int max str digits)
        st.builds(BadStr),
        st.builds(BadFormat),
        st.builds(BadDict),
        st.builds(BadMapping),
        st.binary(max_size=10),
        st.sets(st.integers(), max_size=3),
        st.frozensets(st.text(max_size=3), max_size=3),
        st.just(float("nan")),
        st.just(math.inf),
        st.just(object()),
        st.text(max_size=5).map(lambda t: t + "\udcff"),  # lone surrogate (surrogateescape)
        st.dictionaries(st.integers(), st.integers(), max_size=3),
        st.tuples(st.integers(), st.text(max_size=3)),
        st.just(Level.ERROR),
        st.just(ValueError("boom\nsecond line")),
        st.just(type),
    )


@functools.cache
def any_values() -> st.SearchStrategy[Any]:
    """JSON-able, nasty-text and awkward values mixed."""
    return st.one_of(json_values(), nasty_text(), awkward_values())


class HostileStr(str):
    """A ``str`` subclass whose own methods all raise: ``format``, ``str``, comparisons,
    ``len``, ``encode``, ``replace`` … (its hash still works, so it can be a dict key; its
    ``repr`` too, so that hypothesis can show a failing example)."""

    def _raise(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("hostile str")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"

    __format__ = __str__ = __eq__ = __ne__ = __lt__ = __le__ = _raise
    __gt__ = __ge__ = __len__ = __bool__ = __iter__ = __getitem__ = __contains__ = _raise
    encode = replace = translate = split = startswith = endswith = isascii = _raise
    join = strip = rstrip = upper = lower = isprintable = _raise
    __hash__ = str.__hash__


class UnhashableStr(HostileStr):
    """A hostile ``str`` whose hash raises too (a value, never a key)."""

    __hash__ = HostileStr._raise  # type: ignore[assignment]


class BadEq:
    """``__eq__`` and ``__hash__`` raise; ``str`` works."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")

    def __hash__(self) -> int:
        raise RuntimeError("no hash")

    def __str__(self) -> str:
        return "bad-eq"


class BadKey:
    """A property name that is not a string and cannot be shown (``str``/``repr`` raise)."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@functools.cache
def hostile_values() -> st.SearchStrategy[Any]:
    """Values that attack the formatter itself: ``str`` subclasses whose methods raise,
    ``__eq__``/``__hash__`` that raise, plus :func:`awkward_values` (those hypothesis can
    show)."""
    return st.one_of(
        st.text(max_size=5).map(HostileStr),
        st.text(max_size=5).map(UnhashableStr),
        st.builds(BadEq),
        st.lists(st.text(max_size=3).map(HostileStr), max_size=2),
        st.dictionaries(st.sampled_from(["k", "trace_id"]), st.builds(BadEq), max_size=2),
        st.builds(BadFormat),
        st.builds(BadMapping),
        st.builds(_cycle),
        st.integers(min_value=2**64, max_value=2**200),
        st.binary(max_size=5),
    )


@functools.cache
def hostile_names() -> st.SearchStrategy[Any]:
    """Property names that are not plain strings: hostile ``str`` subclasses, numbers,
    ``None``, tuples and objects that cannot be shown."""
    return st.one_of(
        st.text(min_size=1, max_size=5).map(HostileStr),  # ("" would share 0's hash)
        st.integers(),
        st.none(),
        st.tuples(st.integers()),
        st.builds(BadKey),
        st.sampled_from(["@t", "@mt", "trace_id", "ts", "msg", "level"]),
    )


def _name_identity(pair: tuple[Any, Any]) -> Any:
    """What makes two names one dict key, worked out without calling a hostile method."""
    name = pair[0]
    if isinstance(name, str):
        return ("str", str.__str__(name))
    if isinstance(name, BadKey):
        return ("id", id(name))
    return (type(name).__name__, name)


@st.composite
def hostile_events(draw: st.DrawFn, marker: str) -> LogEvent:
    """An event that attacks the formatters: hostile values and names, and a template,
    logger, task or exception that is a hostile ``str`` subclass. ``marker`` is in its
    template (as text), so the event can be found in the output."""
    pairs = draw(
        st.lists(
            st.tuples(st.one_of(property_names(), hostile_names()), hostile_values()),
            max_size=4,
            unique_by=_name_identity,
        )
    )
    props = dict(pairs)
    hostile = draw(st.sets(st.sampled_from(["template", "logger", "task", "exception"])))
    template = f"{marker} {{a}}"
    return LogEvent(
        timestamp_ns=draw(st.integers(0, 4_102_444_800 * 10**9)),
        level=draw(st.sampled_from(list(Level))),
        template=HostileStr(template) if "template" in hostile else template,
        properties=props,
        exception=HostileStr("boom") if "exception" in hostile else None,
        logger=HostileStr("lg") if "logger" in hostile else "app",
        task=HostileStr("tk") if "task" in hostile else "",
    )


# ---------------------------------------------------------------------------------------------
# Message templates.

#: Python format specs that Serilog's parser accepts (no ``<``, ``>``, ``=``, ``^``).
NUMBER_SPECS = ("", ".2f", "05d", "x", "X", ",", "+.3e", "_", "08.3f", "%", "b", "o")
STRING_SPECS = ("", "s", ".3", "10", "10.2")


@st.composite
def template_pieces(
    draw: st.DrawFn, *, max_pieces: int = 6
) -> tuple[str, list[Any], dict[str, Any], str]:
    """A template built from random text and holes, with all its properties.

    Returns:
        ``(template, tokens, properties, rendered)``: the template text, the tokens the parser
        must produce (``("text", s)`` or ``("hole", name, format, alignment)``, adjacent texts
        merged), the properties, and the message the template must render to.
    """
    pieces = draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("text"), st.text(min_size=1, max_size=8)),
                st.tuples(
                    st.just("hole"),
                    property_names(),
                    st.one_of(
                        st.tuples(
                            st.just("num"),
                            st.sampled_from(NUMBER_SPECS),
                            st.integers(-(2**40), 2**40),
                        ),
                        st.tuples(
                            st.just("str"), st.sampled_from(STRING_SPECS), st.text(max_size=6)
                        ),
                    ),
                    st.one_of(st.none(), st.integers(-12, 12).filter(bool)),
                ),
            ),
            max_size=max_pieces,
        )
    )
    template: list[str] = []
    tokens: list[Any] = []
    props: dict[str, Any] = {}
    rendered: list[str] = []
    for piece in pieces:
        if piece[0] == "text":
            text = piece[1]
            template.append(text.replace("{", "{{").replace("}", "}}"))
            if tokens and tokens[-1][0] == "text":
                tokens[-1] = ("text", tokens[-1][1] + text)
            else:
                tokens.append(("text", text))
            rendered.append(text)
            continue
        _, name, (kind, spec, value), alignment = piece
        if name in props:  # a repeated name renders its one value
            value = props[name]
            if (kind == "num") != (isinstance(value, int)):
                spec = ""
        props[name] = value
        hole = "{" + name
        if alignment is not None:
            hole += f",{alignment}"
        if spec:
            hole += f":{spec}"
        template.append(hole + "}")
        tokens.append(("hole", name, spec or None, alignment))
        text = format(value, spec)
        if alignment is not None:
            text = text.rjust(alignment) if alignment > 0 else text.ljust(-alignment)
        rendered.append(text)
    return "".join(template), tokens, props, "".join(rendered)


@functools.cache
def template_texts() -> st.SearchStrategy[str]:
    """Arbitrary template-like text: valid and malformed holes, escapes, plain text."""
    hole = st.builds(
        lambda hint, name, align, fmt: "{" + hint + name + align + fmt + "}",
        st.sampled_from(["", "", "@", "$", "@$"]),
        st.one_of(property_names(), st.sampled_from(["0", "1", "12", "0a", "a.", ".a", "", " "])),
        st.sampled_from(["", "", ",5", ",-5", ",0", ",-", ",x", ","]),
        st.sampled_from(["", "", ":.2f", ":x", ":", ":>5", ":a b", ":{", ":+0"]),
    )
    return st.lists(
        st.one_of(hole, st.text(max_size=6), st.sampled_from(["{", "}", "{{", "}}", "{x", "x}"])),
        max_size=8,
    ).map("".join)


# ---------------------------------------------------------------------------------------------
# Events.


@st.composite
def log_events(
    draw: st.DrawFn,
    *,
    values: st.SearchStrategy[Any] | None = None,
    exceptions: bool = True,
) -> LogEvent:
    """A :class:`LogEvent` with nasty text everywhere and ``values`` as property values."""
    values = values if values is not None else any_values()
    props = draw(st.dictionaries(st.one_of(property_names(), nasty_text(8)), values, max_size=5))
    template = draw(st.one_of(template_texts(), nasty_text()))
    exception = draw(st.one_of(st.none(), nasty_text(40))) if exceptions else None
    return LogEvent(
        timestamp_ns=draw(st.integers(0, 4_102_444_800 * 10**9)),  # up to 2100
        level=draw(st.sampled_from(list(Level))),
        template=template,
        properties=props,
        exception=exception,
        logger=draw(st.one_of(st.just(""), nasty_text(10))),
        task=draw(st.one_of(st.just(""), nasty_text(10))),
    )


# ---------------------------------------------------------------------------------------------
# Configurations.

_names = st.text(alphabet=string.ascii_lowercase + "_-", min_size=1, max_size=8)
_levels = st.sampled_from(list(Level))
_durations = st.one_of(
    st.integers(0, 3600).map(float), st.floats(0, 3600, allow_nan=False, allow_infinity=False)
)
_positive_durations = _durations.filter(lambda d: d > 0)
_sizes = st.integers(1, 2**40)


_queues = st.builds(
    cfg.QueueConfig,
    max_events=st.integers(1, 10**6),
    max_bytes=st.one_of(st.none(), _sizes),
    overflow=st.sampled_from(["drop_oldest", "drop_newest", "block"]),
    never_drop_level=st.one_of(_levels, st.just(OFF)),
    block_timeout=_durations,
)
_batches = st.builds(
    cfg.BatchConfig,
    max_events=st.integers(1, 10**4),
    max_delay=_durations,
    max_bytes=st.one_of(st.none(), _sizes),
)
_breakers = st.one_of(
    st.none(),
    st.builds(cfg.BreakerConfig, failure_threshold=st.integers(1, 100), reset_timeout=_durations),
)
_retries = st.builds(
    cfg.RetryConfig,
    attempts=st.integers(1, 10),
    initial_backoff=_durations,
    max_backoff=_durations,
    jitter=st.floats(0, 1),
)
_spools = st.one_of(
    st.none(),
    st.builds(
        cfg.SpoolConfig, path=st.just("spool/x.spool"), max_bytes=_sizes, fsync=st.booleans()
    ),
)
_short_text = st.text(max_size=8).filter(_utf8_ok)
_filter_configs = st.builds(
    cfg.FilterConfig,
    min_level=st.one_of(st.none(), _levels),
    max_level=st.one_of(st.none(), _levels),
    logger=st.one_of(st.none(), _short_text),
    properties=st.dictionaries(
        _short_text, st.one_of(st.integers(-100, 100), _short_text), max_size=2
    ),
    exclude=st.booleans(),
)
_filter_lists = st.lists(_filter_configs, max_size=2).map(tuple)
_sink_levels = st.one_of(_levels, st.just(OFF))


def _common(draw: st.DrawFn, name: str, formats: frozenset[str]) -> dict[str, Any]:
    return {
        "name": name,
        "min_level": draw(_sink_levels),
        "format": draw(st.sampled_from(sorted(formats))),
        "output_template": draw(st.text(max_size=20).filter(_utf8_ok)),
        "queue": draw(_queues),
        "batch": draw(_batches),
        "breaker": draw(_breakers),
        "retry": draw(_retries),
        "spool": draw(_spools),
        "write_timeout": draw(_positive_durations),
        "filters": draw(_filter_lists),
    }


@st.composite
def sink_configs(draw: st.DrawFn, name: str) -> cfg.SinkConfig:
    """One sink configuration of a random built-in kind (no callables, so it round-trips)."""
    kind = draw(st.sampled_from(["console", "file", "memory", "null", "custom"]))
    if kind == "console":
        return cfg.ConsoleSink(
            **_common(draw, name, cfg.ConsoleSink.accepted_formats()),
            stream=draw(st.sampled_from(["stdout", "stderr"])),
            colors=draw(st.one_of(st.none(), st.booleans())),
            stderr_level=draw(st.one_of(st.none(), _levels)),
        )
    if kind == "file":
        return cfg.FileSink(
            **_common(draw, name, cfg.FileSink.accepted_formats()),
            path=draw(st.sampled_from(["app.log", "logs/app.clef", "/tmp/x.json"])),
            rolling=draw(st.sampled_from(["never", "hourly", "daily"])),
            max_bytes=draw(st.one_of(st.none(), _sizes)),
            retain=draw(st.one_of(st.none(), st.integers(1, 100))),
            fsync=draw(st.booleans()),
        )
    if kind == "memory":
        return cfg.MemorySink(
            **_common(draw, name, cfg.MemorySink.accepted_formats()),
            capacity=draw(st.one_of(st.none(), st.integers(1, 10**6))),
        )
    if kind == "null":
        return cfg.NullSink(**_common(draw, name, cfg.NullSink.accepted_formats()))
    return cfg.CustomSink(
        **_common(draw, name, cfg.CustomSink.accepted_formats()),
        factory=draw(st.sampled_from(["tests.helpers:FlakySink", "pkg.mod:Sink"])),
        options=draw(
            st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 9), max_size=2)
        ),
    )


_properties = st.dictionaries(_short_text, json_values(4), max_size=3)
_enricher_lists = st.lists(
    st.sampled_from(["hostname", "process", "thread", "task", "sequence", "pkg.mod:enrich"]),
    max_size=3,
    unique=True,
).map(tuple)
_redacts = st.one_of(
    st.none(),
    st.builds(
        cfg.RedactConfig,
        keys=st.lists(st.text(min_size=1, max_size=6).filter(_utf8_ok), max_size=3).map(tuple),
        patterns=st.lists(st.sampled_from([r"\d{16}", r"secret-\w+", "a|b"]), max_size=2).map(
            tuple
        ),
        replacement=st.sampled_from(["***", "", "[redacted]"]),
    ),
)
_restarts = st.builds(
    cfg.RestartPolicy, max_restarts=st.integers(0, 100), window=_positive_durations
)
_shutdowns = st.builds(
    cfg.ShutdownConfig,
    timeout=_durations,
    strategy=st.sampled_from(["graceful", "flush", "immediate"]),
    spool_timeout=_durations,
)
_metrics = st.builds(cfg.MetricsConfig, latency_window=st.integers(1, 10**5))


@st.composite
def supervisor_configs(draw: st.DrawFn) -> cfg.SupervisorConfig:
    """A valid :class:`SupervisorConfig` (unique sink names, acyclic fallbacks)."""
    names = draw(st.lists(_names, min_size=1, max_size=4, unique=True))
    sinks = [draw(sink_configs(name)) for name in names]
    # Fallbacks only point "forward", so chains can never loop.
    for i in range(len(sinks) - 1):
        if draw(st.booleans()):
            target = draw(st.sampled_from(names[i + 1 :]))
            sinks[i] = _evolve(sinks[i], fallback=target)
    return cfg.SupervisorConfig(
        min_level=draw(_levels),
        sinks=tuple(sinks),
        properties=draw(_properties),
        enrichers=draw(_enricher_lists),
        filters=draw(_filter_lists),
        redact=draw(_redacts),
        restart=draw(_restarts),
        shutdown=draw(_shutdowns),
        self_log=draw(st.sampled_from(["stderr", "off"])),
        metrics=draw(_metrics),
        max_event_bytes=draw(st.integers(1024, 2**30)),
    )


def _evolve(sink: cfg.SinkConfig, **changes: Any) -> cfg.SinkConfig:
    import attrs

    return attrs.evolve(sink, **changes)
