"""Message templates: Serilog 4.2's parser, Python-convention rendering, binding, event ids."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logactors.templates import (
    Destructuring,
    MessageTemplate,
    PropertyToken,
    TextToken,
    parse,
)

from .strategies import BadFormat, BadStr, any_values, template_pieces, template_texts

D, AT, DOLLAR = Destructuring.DEFAULT, Destructuring.DESTRUCTURE, Destructuring.STRINGIFY


def T(text: str) -> TextToken:
    return TextToken(text)


def P(
    name: str,
    fmt: str | None = None,
    align: int | None = None,
    hint: Destructuring = D,
    raw: str | None = None,
) -> PropertyToken:
    if raw is None:
        raw = "{" + hint.value + name + (f",{align}" if align is not None else "")
        raw += (f":{fmt}" if fmt is not None else "") + "}"
    return PropertyToken(name, fmt, align, hint, raw)


# Each case: template -> the exact tokens. Sources: the messagetemplates.org grammar, Serilog's
# MessageTemplateParserTests, and Serilog 4.2's parser (#2141: dotted identifiers; names that
# start with a digit must be all digits; a hole runs to the first "}").
PARSE_CASES: list[tuple[str, list[TextToken | PropertyToken]]] = [
    # plain text and the empty template
    ("", [T("")]),
    ("Hello, world!", [T("Hello, world!")]),
    ("{Hello}", [P("Hello")]),
    ("{Greeting}, {Name}!", [P("Greeting"), T(", "), P("Name"), T("!")]),
    ("{x}{y}", [P("x"), P("y")]),
    # escapes
    ("{{ Hi! }", [T("{ Hi! }")]),
    ("Well, {{ Hi!", [T("Well, { Hi!")]),
    ("Hello, {{worl@d}!", [T("Hello, {worl@d}!")]),
    ("Nice }}-: mo", [T("Nice }-: mo")]),
    ("{{Hi}}", [T("{Hi}")]),
    ("Hello, {{worl@d}}!", [T("Hello, {worl@d}!")]),
    ("{{}}", [T("{}")]),
    ("{{{x}}}", [T("{"), P("x"), T("}")]),
    ("{World}}!", [P("World"), T("}!")]),
    ("Hello, {World}}!", [T("Hello, "), P("World"), T("}!")]),
    # lone braces
    ("lone } brace", [T("lone } brace")]),
    ("}", [T("}")]),
    ("}}}", [T("}}")]),
    ("{x}}", [P("x"), T("}")]),
    ("{", [T("{")]),
    ("a{", [T("a"), T("{")]),
    ("{Hello", [T("{Hello")]),
    ("x {a {b} c", [T("x "), T("{a {b}"), T(" c")]),
    # empty and malformed holes: kept whole, "{" to the first "}", as one text token
    ("{}", [T("{}")]),
    ("{ }", [T("{ }")]),
    ("{0 space}", [T("{0 space}")]),
    ("{0 space", [T("{0 space")]),
    ("{0_space", [T("{0_space")]),
    ("{0_{{space}", [T("{0_{{space}")]),
    ("{0_{{space", [T("{0_{{space")]),
    ("{0_}}space}", [T("{0_}"), T("}space}")]),  # 4.2: "0_" is no longer a name
    ("Hello, {w@rld}", [T("Hello, "), T("{w@rld}")]),
    ("Hello, {w@rld", [T("Hello, "), T("{w@rld")]),
    ("Hello, {w{{rld", [T("Hello, "), T("{w{{rld")]),
    ("Hello{{, {w{{rld", [T("Hello{, "), T("{w{{rld")]),
    ("Hello, {w@rld}, HI!", [T("Hello, "), T("{w@rld}"), T(", HI!")]),
    ("{w@rld} Hi!", [T("{w@rld}"), T(" Hi!")]),
    ("{H&llo}, {w@rld}", [T("{H&llo}"), T(", "), T("{w@rld}")]),
    ("{a b} {c}", [T("{a b}"), T(" "), P("c")]),
    ("{a>b} {c}", [T("{a>b}"), T(" "), P("c")]),  # symbols do not cut the hole short
    ("{a\nb} {c}", [T("{a\nb}"), T(" "), P("c")]),
    ("{,,}", [T("{,,}")]),
    ("{,5}", [T("{,5}")]),
    ("{:x}", [T("{:x}")]),
    ("{x:y:z}", [P("x", "y:z")]),
    # positional holes
    ("{0}", [P("0")]),
    ("{0}, {1}, {2}", [P("0"), T(", "), P("1"), T(", "), P("2")]),
    ("{-1}{-0}{0}{1}{3.1415}", [T("{-1}"), T("{-0}"), P("0"), P("1"), T("{3.1415}")]),
    ("{00}", [P("00")]),
    ("{0a}", [T("{0a}")]),
    ("{1.2}", [T("{1.2}")]),
    ("{@0}", [P("0", hint=AT)]),
    # hints
    ("{@Hello}", [P("Hello", hint=AT)]),
    ("{$Hello}", [P("Hello", hint=DOLLAR)]),
    ("{@$}", [T("{@$}")]),
    ("{$@}", [T("{$@}")]),
    ("{@}", [T("{@}")]),
    ("{$}", [T("{$}")]),
    ("{@@x}", [T("{@@x}")]),
    ("{$$x}", [T("{$$x}")]),
    ("{x@}", [T("{x@}")]),
    ("{@x,-5:000}", [P("x", "000", -5, AT)]),
    # alignment
    ("{Hello,-5}", [P("Hello", align=-5)]),
    ("{Hello,-50}", [P("Hello", align=-50)]),
    ("{Hello,5}", [P("Hello", align=5)]),
    ("{Hello,50}", [P("Hello", align=50)]),
    ("{Hello,05}", [P("Hello", align=5, raw="{Hello,05}")]),
    ("{Hello,-5:000}", [P("Hello", "000", -5)]),
    ("{Hello,5:000}", [P("Hello", "000", 5)]),
    ("{Hello:000,-5}", [P("Hello", "000,-5")]),  # a "," after ":" belongs to the format
    ("{Hello:000,5}", [P("Hello", "000,5")]),
    ("{Hello,0}", [T("{Hello,0}")]),
    ("{Hello,-0}", [T("{Hello,-0}")]),
    ("{Hello,-}", [T("{Hello,-}")]),
    ("{Hello,--5}", [T("{Hello,--5}")]),
    ("{Hello,+5}", [T("{Hello,+5}")]),
    ("{Hello, 5}", [T("{Hello, 5}")]),
    ("{Hello,-aa}", [T("{Hello,-aa}")]),
    ("{Hello,aa}", [T("{Hello,aa}")]),
    ("{Hello,-10-1}", [T("{Hello,-10-1}")]),
    ("{Hello,10-1}", [T("{Hello,10-1}")]),
    ("{Hello,}", [T("{Hello,}")]),
    ("{Hello,:format}", [T("{Hello,:format}")]),
    ("{Hello,5,6}", [T("{Hello,5,6}")]),
    ("{Hello,2147483647}", [P("Hello", align=2147483647)]),
    ("{Hello,2147483648}", [T("{Hello,2147483648}")]),
    ("{Hello,-2147483648}", [T("{Hello,-2147483648}")]),
    ("{Hello,\u0663}", [T("{Hello,\u0663}")]),  # an Arabic-Indic digit is no ASCII number
    # formats
    ("{Time:hh:mm}", [P("Time", "hh:mm")]),
    ("{Number:##.0;-##.0;zero}", [P("Number", "##.0;-##.0;zero")]),
    ("{Number:+##.0}", [P("Number", "+##.0")]),
    ("{x:.2f}", [P("x", ".2f")]),
    ("{x:,}", [P("x", ",")]),
    ("{x:a b}", [P("x", "a b")]),
    ("{x:%Y-%m-%d %H:%M:%S.%f}", [P("x", "%Y-%m-%d %H:%M:%S.%f")]),
    ("{x:}", [P("x", None, raw="{x:}")]),  # an empty format is no format
    ("{x,5:}", [P("x", None, 5, raw="{x,5:}")]),
    ("{x:{y}}", [P("x", "{y"), T("}")]),  # "{" is punctuation
    ("{x:\u00ab\u00bb}", [P("x", "\u00ab\u00bb")]),  # Pi/Pf punctuation
    ("{Hello:HH$MM}", [T("{Hello:HH$MM}")]),  # "$" is a currency symbol
    ("{x:>10}", [T("{x:>10}")]),
    ("{x:<10}", [T("{x:<10}")]),
    ("{x:=^9}", [T("{x:=^9}")]),
    ("{x:^9}", [T("{x:^9}")]),
    ("{x:a|b}", [T("{x:a|b}")]),
    ("{x:~}", [T("{x:~}")]),
    ("{x:a\tb}", [T("{x:a\tb}")]),
    ("{x:\u00a0}", [T("{x:\u00a0}")]),  # only the ASCII space is allowed
    # names: underscores, dots, unicode letters
    ("{_123_Hello}", [P("_123_Hello")]),
    ("{_}", [P("_")]),
    ("{http.method}", [P("http.method")]),
    ("{a.b.c}", [P("a.b.c")]),
    ("{a._b}", [P("a._b")]),
    ("{a.b1}", [P("a.b1")]),
    ("{@user.name}", [P("user.name", hint=AT)]),
    ("{user.name,-8:x}", [P("user.name", "x", -8)]),
    ("{.a}", [T("{.a}")]),
    ("{a.}", [T("{a.}")]),
    ("{a..b}", [T("{a..b}")]),
    ("{a.1}", [T("{a.1}")]),
    ("{.}", [T("{.}")]),
    ("{a-b}", [T("{a-b}")]),
    ("{\u540d\u524d}", [P("\u540d\u524d")]),
    ("{na\u00efve}", [P("na\u00efve")]),
    ("{\u03a9.\u00e9}", [P("\u03a9.\u00e9")]),
    ("{x\u0663}", [P("x\u0663")]),
    ("{\u0663}", [P("\u0663")]),  # all (Unicode) digits: a name, but not positional
    ("{\u00b2}", [T("{\u00b2}")]),  # superscript two is No, not Nd
    ("{x\u0301}", [T("{x\u0301}")]),  # a combining mark is not a letter
]


@pytest.mark.parametrize(("template", "expected"), PARSE_CASES)
def test_parse_table(template: str, expected: list[TextToken | PropertyToken]) -> None:
    """Every edge of the grammar parses to exactly these tokens."""
    assert list(parse(template).tokens) == expected


def test_positional_only_for_ascii_digits() -> None:
    """``{0}`` is positional; ``{٣}`` is a name made of digits, as .NET's int.TryParse says."""
    assert parse("{0}").tokens[0].is_positional  # type: ignore[union-attr]
    assert not parse("{\u0663}").tokens[0].is_positional  # type: ignore[union-attr]
    assert parse("{0} {1}").positional
    assert not parse("{0} {x}").positional
    assert not parse("no holes").positional


def test_property_names_and_formats_summary() -> None:
    """``property_names`` lists distinct holes in order; ``has_formats`` sees any format."""
    template = parse("{b} {a:x} {b,3} {c}")
    assert template.property_names == ("b", "a", "c")
    assert template.has_formats
    assert not parse("{a} {b,5}").has_formats


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    """Any text parses, and the tokens account for it (holes raw, text non-empty)."""
    tokens = parse(text).tokens
    assert tokens
    for token in tokens:
        if isinstance(token, PropertyToken):
            assert token.raw.startswith("{")
            assert token.raw.endswith("}")
            assert token.raw in text
        elif text:
            assert token.text


@given(st.text().filter(lambda t: "{" not in t and "}" not in t))
def test_text_without_braces_is_one_token(text: str) -> None:
    """Text with no braces is exactly one text token with the same text."""
    assert parse(text).tokens == (TextToken(text),)


@given(template_texts())
def test_cache_returns_the_same_object(text: str) -> None:
    """``parse`` is cached: the same text gives the same MessageTemplate object."""
    assert parse(text) is parse(text)


@given(template_pieces())
def test_built_templates_parse_and_render(case: tuple[str, list[Any], dict[str, Any], str]) -> None:
    """Text + holes parse to those tokens and render to the concatenation of their pieces."""
    template_text, expected, props, rendered = case
    template = parse(template_text)
    tokens = [
        ("text", t.text) if isinstance(t, TextToken) else ("hole", t.name, t.format, t.alignment)
        for t in template.tokens
    ]
    assert tokens == (expected or [("text", "")])
    assert template.render(props) == rendered
    assert template._render_slow(props) == rendered


@given(
    template_texts(),
    st.dictionaries(st.sampled_from(["a", "b", "x", "0", "1", "a.b"]), any_values(), max_size=4),
)
def test_fast_and_slow_paths_agree(text: str, props: dict[str, Any]) -> None:
    """The compiled fast path and the token-by-token slow path render the same, never raising."""
    template = parse(text)
    assert template.render(props) == template._render_slow(props)


@given(template_texts())
def test_missing_properties_render_raw(text: str) -> None:
    """With no properties every hole renders as its raw text."""
    template = parse(text)
    expected = "".join(t.text if isinstance(t, TextToken) else t.raw for t in template.tokens)
    assert template.render({}) == expected


# ---------------------------------------------------------------------------------------------
# Rendering.

RENDER_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("Disk at {pct:.1f}%", {"pct": 93.456}, "Disk at 93.5%"),
    ("Hello {name}", {"name": "bob"}, "Hello bob"),  # strings are not quoted
    ("{n:05d}|{n:x}|{n:,}", {"n": 48879}, "48879|beef|48,879"),
    ("{x}", {"x": None}, "None"),
    ("{x}", {"x": True}, "True"),
    ("{x}", {"x": [1, "a"]}, "[1, 'a']"),
    ("{@x}", {"x": {"a": [1, 2], "b": None}}, '{"a":[1,2],"b":null}'),
    ("{@x}", {"x": "s"}, '"s"'),
    ("{$x}", {"x": [1, "a"]}, "[1, 'a']"),
    ("{$x:.1f}", {"x": 2.25}, "2.25"),  # stringified: the format does not apply
    ("[{x,5}]", {"x": "ab"}, "[   ab]"),
    ("[{x,-5}]", {"x": "ab"}, "[ab   ]"),
    ("[{x,2}]", {"x": "abcdef"}, "[abcdef]"),  # alignment pads, never truncates
    ("[{x,8:.2f}]", {"x": 3.14159}, "[    3.14]"),
    ("[{x,-8:.2f}]", {"x": 3.14159}, "[3.14    ]"),
    ("[{@x,6}]", {"x": [1]}, "[   [1]]"),
    ("[{$x,-4}]", {"x": 7}, "[7   ]"),
    ("{x:.2f}", {}, "{x:.2f}"),  # missing: the raw hole
    ("{@x,-3:y}", {}, "{@x,-3:y}"),
    ("{x} {y}", {"x": 1}, "1 {y}"),
    ("{{literal}} {x}", {"x": 1}, "{literal} 1"),
    ("{0} and {1}", {"0": "a", "1": "b"}, "a and b"),
    ("{a.b}", {"a.b": 1, "a": {"b": 2}}, "1"),  # dotted names are literal keys
    ("{x:.2f}", {"x": "abc"}, "abc"),  # a format the value rejects renders str(value)
    ("{x:{y}}", {"x": 5}, "5}"),
    ("{x:%Y}", {"x": 7}, "7"),
    ("{x}", {"x": BadFormat()}, "bad-format"),
    ("{x:.2f}", {"x": BadFormat()}, "bad-format"),
    ("{x}", {"x": BadStr()}, "<unrenderable BadStr>"),
    ("{$x}", {"x": BadStr()}, "<unrenderable BadStr>"),
    ("{@x}", {"x": BadStr()}, '"<unrenderable BadStr>"'),
    ("{x}", {"x": 10**5000}, "<unrenderable int>"),
    ("{x}", {"x": "line\nbreak"}, "line\nbreak"),  # escaping is the formatters' job
]


@pytest.mark.parametrize(("template", "props", "expected"), RENDER_CASES)
def test_render_table(template: str, props: dict[str, Any], expected: str) -> None:
    """Rendering follows Python's conventions and never raises."""
    parsed = parse(template)
    assert parsed.render(props) == expected
    assert parsed._render_slow(props) == expected


def test_render_with_a_mapping_that_raises() -> None:
    """A properties mapping whose lookups raise renders raw holes."""

    class Exploding(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise RuntimeError("boom")

    assert parse("a {x} b {y:.1f}").render(Exploding(x=1)) == "a {x} b {y:.1f}"


@given(template_texts(), st.dictionaries(st.sampled_from(["a", "b", "x", "0"]), any_values()))
def test_destructured_holes_render_json(text: str, props: dict[str, Any]) -> None:
    """Every ``{@x}`` rendering (without alignment) is one valid JSON document."""
    template = parse(text)
    for token in template.tokens:
        if (
            isinstance(token, PropertyToken)
            and token.destructuring is AT
            and token.alignment is None
            and token.name in props
        ):
            json.loads(MessageTemplate(token.raw, (token,)).render(props))


def test_formatted_values_for_clef() -> None:
    """``formatted_values`` renders only the holes with a format, in order, raw when missing."""
    template = parse("{a} {b:x} {c,4:.1f} {d:y}")
    assert template.formatted_values({"a": 1, "b": 255, "c": 2.0}) == ["ff", " 2.0", "{d:y}"]


# ---------------------------------------------------------------------------------------------
# Binding positional arguments.

BIND_CASES: list[tuple[str, tuple[Any, ...], dict[str, Any], dict[str, Any]]] = [
    ("{a} {b}", (1, 2), {}, {"a": 1, "b": 2}),
    ("{a} {b}", (1,), {}, {"a": 1}),
    ("{a} {b}", (1, 2, 3, 4), {}, {"a": 1, "b": 2, "args": [3, 4]}),
    ("{a} {b} {a}", (1, 2), {}, {"a": 1, "b": 2}),  # distinct names, first appearance
    ("{a} {b}", (2,), {"a": 1}, {"b": 2}),  # keywords are skipped
    ("{a} {b}", (1, 2), {"a": 0, "b": 0}, {"args": [1, 2]}),
    ("no holes", (1, 2), {}, {"args": [1, 2]}),
    ("{0} {1}", ("x", "y"), {}, {"0": "x", "1": "y"}),
    ("{1} {0}", ("x", "y"), {}, {"1": "y", "0": "x"}),  # positional binds by index
    ("{1}", ("x", "y", "z"), {}, {"1": "y", "args": ["x", "z"]}),
    ("{0} {0}", ("x",), {}, {"0": "x"}),
    ("{00}", ("x",), {}, {"00": "x"}),
    ("{5}", ("x",), {}, {"args": ["x"]}),
    ("{0} {name}", ("x", "y"), {}, {"0": "x", "name": "y"}),  # mixed: left to right
    ("{http.method} {http.path}", ("GET", "/"), {}, {"http.method": "GET", "http.path": "/"}),
    ("{a}", (), {}, {}),
]


@pytest.mark.parametrize(("template", "args", "named", "expected"), BIND_CASES)
def test_bind(
    template: str, args: tuple[Any, ...], named: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Positional arguments bind to holes as Serilog binds them; surplus ones go to ``args``."""
    assert parse(template).bind(args, named) == expected


# ---------------------------------------------------------------------------------------------
# Event ids (Serilog's EventIdHash: Jenkins one-at-a-time over UTF-16 code units).


def _reference_hash(text: str) -> int:
    units: list[int] = []
    for char in text:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            units += [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]
        else:
            units.append(code)
    h = 0
    mask = 0xFFFFFFFF
    for unit in units:
        h = (h + unit) & mask
        h = (h + ((h << 10) & mask)) & mask
        h ^= h >> 6
    h = (h + ((h << 3) & mask)) & mask
    h ^= h >> 11
    return (h + ((h << 15) & mask)) & mask


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", "ca2e9442"),
        ("", "00000000"),
        ("The quick brown fox jumps over the lazy dog", "519e91f5"),
    ],
)
def test_event_id_known_vectors(text: str, expected: str) -> None:
    """The published Jenkins one-at-a-time vectors, as 8 lower-case hex digits."""
    assert parse(text).event_id == expected


@given(st.text())
def test_event_id_hashes_utf16_units(text: str) -> None:
    """Characters outside the BMP hash as their two surrogates, as .NET strings do."""
    assert parse(text).event_id == f"{_reference_hash(text):08x}"


def test_event_id_distinguishes_templates() -> None:
    """Different templates get different ids; the same template the same id."""
    assert parse("Template 1").event_id != parse("Template 2").event_id
    assert parse("\U0001f600").event_id == f"{_reference_hash(chr(0xD83D) + chr(0xDE00)):08x}"
