"""Message templates: Serilog 4.2's parser, Python-convention rendering, binding, event ids."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logactors import templates
from logactors.templates import (
    CACHE_MAX_BYTES,
    CACHE_MAX_CHARS,
    CACHE_MAX_ENTRIES,
    MAX_TOKENS,
    MAX_WIDTH,
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
    ("{Hello,0}", [P("Hello", align=0)]),  # a zero width is a hole, as in Serilog
    ("{Hello,-0}", [P("Hello", align=0, raw="{Hello,-0}")]),
    ("{Hello,00:x}", [P("Hello", "x", 0, raw="{Hello,00:x}")]),
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
    # a format may hold any character but "}" (symbols, controls, any space)
    ("{Hello:HH$MM}", [P("Hello", "HH$MM")]),
    ("{x:$}", [P("x", "$")]),
    ("{x:>10}", [P("x", ">10")]),
    ("{x:<10}", [P("x", "<10")]),
    ("{x:=^9}", [P("x", "=^9")]),
    ("{x:^9}", [P("x", "^9")]),
    ("{x:*>+#012,.3f}", [P("x", "*>+#012,.3f")]),
    ("{x:a|b}", [P("x", "a|b")]),
    ("{x:~}", [P("x", "~")]),
    ("{x:`y`}", [P("x", "`y`")]),
    ("{x:a\tb}", [P("x", "a\tb")]),
    ("{x:\n}", [P("x", "\n")]),
    ("{x:\u00a0}", [P("x", "\u00a0")]),
    ("{x:\u2028\U0001f600}", [P("x", "\u2028\U0001f600")]),
    ("{x,-3:<>}", [P("x", "<>", -3)]),
    ("{x:a}b}", [P("x", "a"), T("b}")]),  # the first "}" ends the hole
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
    """``parse`` is cached from the second use: then the same text gives the same object."""
    parse(text)
    parse(text)
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


def test_the_compiled_renderer_is_shared_by_templates_of_one_shape() -> None:
    """Templates with the same number of holes (and formats or not) share one compiled code
    object; their text, names and formats are the function's values, never its source; a
    hole the renderer cannot take (alignment, ``@``, a width to clamp) or too many holes
    leave the template to the token-by-token path, with the same output."""
    first = parse("Processing request {id} for {user}")
    second = parse("'''\n{a}\\ {{b}} \"{c}\" f'{{x}}'")
    assert first._fast is not None and second._fast is not None
    assert first._fast.__code__ is second._fast.__code__
    assert first.render({"id": 5, "user": "bob"}) == "Processing request 5 for bob"
    assert second.render({"a": 1, "c": "q"}) == "'''\n1\\ {b} \"q\" f'{x}'"
    formatted = parse("{n:>5} and {m}")
    assert formatted._fast is not None and formatted._fast.__code__ is not first._fast.__code__
    assert formatted.render({"n": 3, "m": 1.5}) == "    3 and 1.5"
    count = templates._COMPILED_HOLES_MAX + 1
    many = parse("".join(f"{{p{i}}}," for i in range(count)))
    assert many._fast is None
    assert many.render({f"p{i}": i for i in range(count)}) == "".join(f"{i}," for i in range(count))
    for text in ("{x,5}", "{@x}", "{$x}", "{x:>99999}"):
        assert parse(text)._fast is None, text
        assert parse(text).render({"x": 1}) == parse(text)._render_slow({"x": 1})


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


def test_event_id_of_long_templates_is_a_crc32() -> None:
    """Past 1,024 UTF-16 units the id is the crc32 of the UTF-16 text (no pure-Python hash)."""
    import zlib

    edge = "a" * 1024
    assert parse(edge).event_id == f"{_reference_hash(edge):08x}"
    long = "a" * 1025
    assert parse(long).event_id == f"{zlib.crc32(long.encode('utf-16-le')):08x}"
    huge = MessageTemplate("x" * 2**20, (TextToken("x" * 2**20),))
    assert len(huge.event_id) == 8


# ---------------------------------------------------------------------------------------------
# Bounds: widths at render, tokens per template, the parse cache.

CAP_CASES: list[tuple[str, object, str]] = [
    ("{a,200000000}", "x", " " * (MAX_WIDTH - 1) + "x"),
    ("{a,-200000000}", "x", "x" + " " * (MAX_WIDTH - 1)),
    ("{a,2147483647}", 7, " " * (MAX_WIDTH - 1) + "7"),
    ("{a:200000000}", "x", "x" + " " * (MAX_WIDTH - 1)),
    ("{a:>200000000}", "x", " " * (MAX_WIDTH - 1) + "x"),
    ("{a:*^5000}", "x", "*" * 499 + "x" + "*" * 500),
    ("{a:0200000000d}", 5, "0" * (MAX_WIDTH - 1) + "5"),
    ("{a:.200000000f}", 1.5, "1.5" + "0" * (MAX_WIDTH - 1)),
    ("{a:,.5000e}", 2.0, "2." + "0" * MAX_WIDTH + "e+00"),
    ("{a:.200000000}", "abc", "abc"),  # a string's precision only cuts: left alone
    ("{a:.2}", "abc", "ab"),
    ("{a:1000}", 1, " " * 999 + "1"),  # at the bound: unchanged
    ("{a:%Y%m%d%H%M%S}", datetime(2024, 1, 2, 3, 4, 5), "20240102030405"),  # not standard
    ("{a:2000}", datetime(2024, 1, 2), "2000"),  # a date's own mini-language: not touched
]


@pytest.mark.parametrize(("template", "value", "expected"), CAP_CASES)
def test_widths_are_clamped_at_render(template: str, value: object, expected: str) -> None:
    """Alignment, format width and a number's precision above MAX_WIDTH render at MAX_WIDTH."""
    parsed = parse(template)
    assert parsed.render({"a": value}) == expected
    assert parsed._render_slow({"a": value}) == expected


@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=10**12),
    st.sampled_from(["", "<", ">", "^", "*>", "0"]),
    st.sampled_from(["", "f", "e", "g", "%", "d", "s"]),
    any_values(),
)
def test_no_hole_renders_wider_than_the_bound(
    width: int, precision: int, align: str, kind: str, value: object
) -> None:
    """Whatever the widths asked, one hole renders at most MAX_WIDTH plus the value's own text."""
    spec = f"{align}{width}" + (f".{precision}" if kind != "d" else "") + kind
    for text in (f"{{a:{spec}}}", f"{{a,{width}:{spec}}}", f"{{a,-{width}}}"):
        rendered = parse(text).render({"a": value})
        plain = parse("{a}").render({"a": value})
        assert len(rendered) <= 2 * MAX_WIDTH + 10 + len(plain)


def test_token_count_is_bounded() -> None:
    """A template yields at most MAX_TOKENS tokens; the rest is one verbatim text token."""
    text = "{a} {{" * (MAX_TOKENS * 3)
    tokens = parse(text).tokens
    assert len(tokens) == MAX_TOKENS
    rendered = "".join(t.text if isinstance(t, TextToken) else t.raw for t in tokens)
    assert len(rendered) <= len(text)
    assert tokens[-1] == TextToken(text[-len(tokens[-1].text) :])  # type: ignore[union-attr]
    assert parse("{a} " * (MAX_TOKENS // 2 - 1)).tokens[-1] == TextToken(" ")  # under: whole


def test_positional_is_precomputed() -> None:
    """``positional`` is an attribute set at parse, and binding by index uses it."""
    template = parse("{1} {0} {1}")
    assert template.positional is True
    assert template._indices == (("1", 1), ("0", 0))
    assert template.bind(("a", "b"), {}) == {"1": "b", "0": "a"}


def test_cache_admits_on_second_use_and_skips_long_templates() -> None:
    """A template is cached on its second use; one longer than CACHE_MAX_CHARS never is."""
    templates.cache_clear()
    parse("once {a}")
    assert templates.cache_size()[0] == 0  # a one-off (an f-string) is not kept
    parse("once {a}")
    assert "once {a}" in templates._cache
    long = "{a}" + "x" * CACHE_MAX_CHARS
    for _ in range(3):
        parse(long)
    assert long not in templates._cache
    assert templates.cache_size()[0] == 1
    templates.cache_clear()
    assert templates.cache_size() == (0, 0)


@given(st.lists(st.integers(min_value=0, max_value=CACHE_MAX_CHARS - 10), max_size=60))
def test_cache_is_bounded_in_entries_and_bytes(sizes: list[int]) -> None:
    """Whatever is parsed, the cache stays within its entry and byte bounds, oldest out first."""
    templates.cache_clear()
    for i, size in enumerate(sizes):
        text = f"{i} {{a}}" + "y" * size
        parse(text)
        parse(text)
        entries, size_bytes = templates.cache_size()
        assert entries <= CACHE_MAX_ENTRIES
        assert size_bytes <= CACHE_MAX_BYTES
        assert size_bytes == sum(templates._cache_cost.values())
        assert text in templates._cache  # the newest always fits
    templates.cache_clear()


def test_cache_byte_bound_evicts_oldest_first() -> None:
    """Filling the cache with large templates keeps it under CACHE_MAX_BYTES, newest kept."""
    templates.cache_clear()
    texts = [f"{i:06d} {{a}}" + "z" * (CACHE_MAX_CHARS - 20) for i in range(2000)]
    for text in texts:
        parse(text)
        parse(text)
    entries, size_bytes = templates.cache_size()
    assert size_bytes <= CACHE_MAX_BYTES
    assert 0 < entries < len(texts)
    assert list(templates._cache) == texts[-entries:]
    templates.cache_clear()


def test_parse_of_a_large_new_template_is_linear() -> None:
    """A 1 MiB template is parsed into few tokens and not kept (its cost is bounded by size)."""
    templates.cache_clear()
    big = "x" * 2**20 + "{a}" + "}" * 1000 + "{" * 1000
    template = parse(big)
    assert template.render({"a": 1}).startswith("x" * 100)
    assert len(template.tokens) <= 4
    assert templates.cache_size() == (0, 0)
