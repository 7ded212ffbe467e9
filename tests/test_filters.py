"""Declarative filters (``FilterConfig``): the compiled predicate against the filter's
documented meaning, for any event and any combination of conditions."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from logactors import FilterConfig, Level, LogEvent
from logactors._enrich import compile_filter, compile_filters

_LEVELS = st.sampled_from([5, Level.DEBUG, Level.INFO, 25, Level.WARNING, Level.ERROR, 60])
_NAMES = st.sampled_from(["", "app", "app.db", "app.dbx", "app.db.pool", "other", "ap"])
_VALUES = st.one_of(st.integers(-2, 2), st.sampled_from(["a", "b", "1"]), st.booleans(), st.none())
_PROPS = st.dictionaries(st.sampled_from(["user", "noisy", "id"]), _VALUES, max_size=3)


def _meaning(spec: FilterConfig, event: LogEvent) -> bool:
    """What the configuration reference says a filter keeps."""
    matches = (
        (spec.min_level is None or event.level >= spec.min_level)
        and (spec.max_level is None or event.level <= spec.max_level)
        and (
            spec.logger is None
            or spec.logger == ""
            or event.logger == spec.logger
            or event.logger.startswith(spec.logger + ".")
        )
        and all(
            k in event.properties and event.properties[k] == v for k, v in spec.properties.items()
        )
    )
    return not matches if spec.exclude else matches


_SPECS = st.builds(
    FilterConfig,
    min_level=st.one_of(st.none(), _LEVELS),
    max_level=st.one_of(st.none(), _LEVELS),
    logger=st.one_of(st.none(), _NAMES),
    properties=_PROPS,
    exclude=st.booleans(),
)
_EVENTS = st.builds(
    lambda level, logger, props: LogEvent(0, level, "t", props, None, logger, "main"),
    _LEVELS,
    _NAMES,
    _PROPS,
)


@given(_SPECS, _EVENTS)
def test_a_compiled_filter_keeps_what_its_conditions_state(
    spec: FilterConfig, event: LogEvent
) -> None:
    """Level range (inclusive), logger prefix (the name or a dotted child; "" is every
    logger), property equality (``True`` equals ``1``, as in Python), and ``exclude``; the
    predicate takes a plain tuple as it takes a LogEvent."""
    assert compile_filter(spec)(event) is _meaning(spec, event)
    assert compile_filter(spec)(tuple(event)) is _meaning(spec, event)  # type: ignore[arg-type]


@given(st.lists(_SPECS, max_size=3), _EVENTS)
def test_filters_keep_an_event_only_when_every_filter_keeps_it(
    specs: list[FilterConfig], event: LogEvent
) -> None:
    reports: list[str] = []
    keep = compile_filters(specs, reports.append)
    if not specs:
        assert keep is None
        return
    assert keep is not None
    assert keep(event) is all(_meaning(spec, event) for spec in specs)
    assert reports == []


def test_a_filter_that_raises_keeps_the_event_and_reports() -> None:
    def broken(event: Any) -> bool:
        raise ValueError("boom")

    reports: list[str] = []
    keep = compile_filters([broken], reports.append)
    assert keep is not None
    assert keep(LogEvent(0, Level.INFO, "t", {}, None, "", "main")) is True
    assert len(reports) == 1 and "ValueError: boom" in reports[0]
