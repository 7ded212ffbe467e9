"""Levels: names and aliases in any case, numbers rounding down, ``"off"`` for sinks only."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logactors import OFF, Level
from logactors._levels import (
    SERILOG_NAMES,
    SHORT_NAMES,
    level_name,
    parse_level,
    round_level,
)

NAMES = [
    ("trace", Level.TRACE),
    ("verbose", Level.TRACE),
    ("debug", Level.DEBUG),
    ("info", Level.INFO),
    ("information", Level.INFO),
    ("warning", Level.WARNING),
    ("warn", Level.WARNING),
    ("error", Level.ERROR),
    ("critical", Level.CRITICAL),
    ("fatal", Level.CRITICAL),
]


@pytest.mark.parametrize(("name", "level"), NAMES)
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title, lambda s: f"  {s}\t"])
def test_names_and_aliases_any_case(name: str, level: Level, case: object) -> None:
    """Every name and alias is accepted in any case, with surrounding spaces."""
    assert parse_level(case(name)) is level  # type: ignore[operator]


@pytest.mark.parametrize(
    ("number", "level"),
    [
        (5, Level.TRACE),
        (9, Level.TRACE),
        (10, Level.DEBUG),
        (25, Level.INFO),
        (29, Level.INFO),
        (30, Level.WARNING),
        (49, Level.ERROR),
        (50, Level.CRITICAL),
        (99, Level.CRITICAL),
        (10**30, Level.CRITICAL),
        (0, Level.TRACE),  # stdlib NOTSET: everything
        (-7, Level.TRACE),
        (25.9, Level.INFO),
        (30.0, Level.WARNING),
        ("25", Level.INFO),
        (" 40 ", Level.ERROR),
        ("+30", Level.WARNING),
        ("-1", Level.TRACE),
        (logging.WARNING, Level.WARNING),
    ],
)
def test_numbers_round_down(number: object, level: Level) -> None:
    """A number between two levels rounds down to the lower one."""
    assert parse_level(number) is level


@given(st.integers(min_value=Level.TRACE, max_value=10**6))
def test_rounding_is_the_highest_level_at_or_below(number: int) -> None:
    """``round_level(n)`` is the highest level <= n."""
    assert round_level(number) == max(lv for lv in Level if lv <= number)


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_a_level_name_is_its_rounded_level_s(number: int) -> None:
    """``level_name(n)`` (a table for the levels themselves) names the level ``n`` rounds down
    to, and "off" from :data:`OFF` up."""
    expected = "off" if number >= OFF else round_level(number).name.lower()
    assert level_name(number) == expected
    assert level_name(Level(round_level(number))) == round_level(number).name.lower()


def test_levels_pass_through() -> None:
    """A Level is returned as it is."""
    for level in Level:
        assert parse_level(level) is level


def test_off_only_where_allowed() -> None:
    """``"off"`` is a sink level only; elsewhere the error says so."""
    assert parse_level("off", allow_off=True) == OFF
    assert parse_level(" OFF ", allow_off=True) == OFF
    with pytest.raises(ValueError, match="'off' is only accepted for a sink's min_level"):
        parse_level("off")
    assert level_name(OFF) == "off"


@pytest.mark.parametrize(
    "value",
    ["", "nope", "infos", "--5", "2.5", "\u00b2", "1e3", "in fo", "none"],
)
def test_unknown_names_list_the_accepted_ones(value: str) -> None:
    """An unknown name raises ValueError listing every accepted name."""
    with pytest.raises(ValueError, match="unknown level") as info:
        parse_level(value)
    message = str(info.value)
    for name, _ in NAMES:
        assert name in message
    assert "off" not in message.split("accepted:")[1]
    assert "or a number" in message


def test_accepted_names_include_off_for_sinks() -> None:
    """With ``allow_off`` the list of accepted names includes ``off``."""
    with pytest.raises(ValueError, match=r"accepted: .*fatal, off, or a number"):
        parse_level("nope", allow_off=True)


@pytest.mark.parametrize(
    "value", [True, False, None, float("nan"), float("inf"), [20], {"level": 20}, b"info"]
)
def test_non_levels_raise(value: object) -> None:
    """Booleans, None, NaN, containers and bytes are not levels."""
    with pytest.raises(ValueError, match="not a level"):
        parse_level(value)


def test_names_and_abbreviations() -> None:
    """Serilog's names and three-letter forms, and our lower-case names."""
    assert [SERILOG_NAMES[lv] for lv in Level] == [
        "Verbose",
        "Debug",
        "Information",
        "Warning",
        "Error",
        "Fatal",
    ]
    assert [SHORT_NAMES[lv] for lv in Level] == ["VRB", "DBG", "INF", "WRN", "ERR", "FTL"]
    assert [level_name(lv) for lv in Level] == [
        "trace",
        "debug",
        "info",
        "warning",
        "error",
        "critical",
    ]
    assert level_name(25) == "info"
