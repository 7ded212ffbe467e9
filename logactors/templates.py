"""Message templates (messagetemplates.org), parsed as Serilog's current parser does.

Parsing rules (Serilog's ``MessageTemplateParser`` since 4.2, where dotted names are standard):

* ``{{`` and ``}}`` are escaped braces; a lone ``}`` is text.
* A hole runs from ``{`` to the *first* ``}``: ``{`` [``@`` | ``$``] name [``,`` alignment]
  [``:`` format] ``}``. A ``{`` with no ``}`` after it starts text that runs to the end of the
  template. A hole that is wrong in any way (empty, bad name, bad alignment, bad format
  alignment) is kept whole, ``{`` to ``}``, as one text token. Malformed input never raises.
  Adjacent text tokens are not merged (``"a {b c} d"`` is three text tokens, as in Serilog).
* A name is either all digits (a positional hole such as ``{0}``) or dot-separated identifiers
  (``http.method``), each starting with a letter or ``_`` and going on with letters, digits and
  ``_``; so ``{0a}``, ``{a.}``, ``{a..b}`` and ``{a.1}`` are text.
* The first ``,`` before any ``:`` starts the alignment: an integer, negative for left
  alignment (padding on the right); ``0`` and ``-0`` are a zero width (no padding).
  ``{x:000,5}`` has the format ``000,5`` and no alignment.
* A format is any text up to the ``}`` (which ends the hole), so Python specs such as
  ``{x:>10}``, ``{x:=^9}`` or ``{x:$}`` are holes.
* Letters and digits are Unicode categories L* and Nd, as .NET's ``char.IsLetter`` and
  ``char.IsDigit``; where .NET sees the two UTF-16 halves of a character outside the BMP,
  Python sees one code point, so such a letter is a letter here.

Bounds (not in Serilog; they keep one hostile template from costing more than itself):

* A template yields at most :data:`MAX_TOKENS` tokens; the text after the last one is kept
  verbatim as one text token (no holes, no escapes resolved).
* At render, an alignment, a format width and a number's precision above :data:`MAX_WIDTH` are
  clamped to it (a string's precision only cuts, so it is left alone; a date's or time's
  format is a ``strftime`` pattern, left alone too).
* :func:`parse` caches templates up to :data:`CACHE_MAX_CHARS` characters, once seen twice,
  within :data:`CACHE_MAX_ENTRIES` entries and :data:`CACHE_MAX_BYTES` bytes (oldest out first);
  longer or one-off templates (f-strings) are parsed each time and not kept.

Rendering follows Python's conventions: the format is Python's format mini-language, strings are
not quoted, ``{@x}`` renders JSON, ``{$x}`` renders ``str(x)``, a missing property renders as its
raw hole text, and nothing ever raises (see :meth:`MessageTemplate.render`).
"""

from __future__ import annotations

import datetime
import enum
import functools
import re
import sys
import threading
import unicodedata
import zlib
from collections.abc import Callable, Mapping, Sequence
from types import CodeType, FunctionType
from typing import Any, Final

import attrs

from ._json import dumps, safe_str

__all__ = [
    "CACHE_MAX_BYTES",
    "CACHE_MAX_CHARS",
    "CACHE_MAX_ENTRIES",
    "MAX_TOKENS",
    "MAX_WIDTH",
    "Destructuring",
    "MessageTemplate",
    "PropertyToken",
    "TextToken",
    "escape_braces",
    "parse",
]


def escape_braces(text: str) -> str:
    """``text`` as a template (or ``str.format`` string) that renders as itself: every brace
    doubled."""
    if "{" in text or "}" in text:
        return text.replace("{", "{{").replace("}", "}}")
    return text


#: the widest alignment, format width or number precision rendered (larger ones are clamped)
MAX_WIDTH: Final = 1000
#: tokens one template yields at most; the rest of the text is one verbatim text token
MAX_TOKENS: Final = 1000
#: templates longer than this (in characters) are never cached
CACHE_MAX_CHARS: Final = 4096
#: the parse cache holds at most this many templates ...
CACHE_MAX_ENTRIES: Final = 4096
#: ... and at most this many bytes (an estimate: text, tokens and the template object)
CACHE_MAX_BYTES: Final = 4 * 1024 * 1024
# templates up to this many UTF-16 units get Serilog's Jenkins event id; longer ones a crc32
_JENKINS_MAX_UNITS: Final = 1024


class Destructuring(enum.Enum):
    """How a hole captures its value: as is, as a structure (``@``) or as a string (``$``)."""

    DEFAULT = ""
    DESTRUCTURE = "@"
    STRINGIFY = "$"


@attrs.frozen
class TextToken:
    """Literal text (escapes already resolved: ``{{`` is stored as ``{``)."""

    text: str


@attrs.frozen
class PropertyToken:
    """A hole: ``{name}``, ``{@name}``, ``{name,-10}``, ``{name:.2f}`` …

    Attributes:
        name: the property name (dots are part of the name; ``"0"`` for positional holes).
        format: the format spec after ``:``, or ``None``.
        alignment: the signed width after ``,`` (negative: pad on the right), or ``None``.
        destructuring: the capture hint.
        raw: the hole exactly as written, rendered when the property is missing.
    """

    name: str
    format: str | None
    alignment: int | None
    destructuring: Destructuring
    raw: str

    @property
    def is_positional(self) -> bool:
        """True for numeric names such as ``{0}`` (ASCII digits, as .NET's ``int.TryParse``)."""
        return _is_index(self.name)


Token = TextToken | PropertyToken


def _is_index(name: str) -> bool:
    return name.isascii() and name.isdigit()


# ---------------------------------------------------------------------------------------------
# Character classes, by Unicode category as .NET defines them (``char.IsLetter`` is L*,
# ``char.IsDigit`` is Nd). Python sees code points where .NET sees UTF-16 units, so a letter
# outside the BMP counts as a letter here (see the module docstring).


def _is_letter(c: str) -> bool:
    return unicodedata.category(c)[0] == "L"


def _is_digit(c: str) -> bool:
    return unicodedata.category(c) == "Nd"


def _valid_name(name: str) -> bool:
    """Serilog 4.2: all digits (positional), or dot-separated identifiers.

    An identifier starts with a letter or ``_`` and goes on with letters, digits or ``_``.
    """
    if _is_digit(name[0]):
        return all(_is_digit(c) for c in name)
    begin = True
    for c in name:
        if begin:
            if not (c == "_" or _is_letter(c)):
                return False
            begin = False
        elif c == ".":
            begin = True
        elif not (c == "_" or _is_letter(c) or _is_digit(c)):
            return False
    return not begin


# ---------------------------------------------------------------------------------------------
# Tokenizer.


def _parse_text(text: str, start: int) -> tuple[TextToken, int]:
    """Literal text from ``start`` up to the next lone ``{`` (escapes resolved)."""
    out: list[str] = []
    i = start
    n = len(text)
    find = text.find
    opening = find("{", i)
    while True:
        if -1 < opening < i:
            opening = find("{", i)
        closing = find("}", i, opening if opening != -1 else n)
        j = closing if closing != -1 else opening
        if j == -1:
            out.append(text[i:])
            return TextToken("".join(out)), n
        out.append(text[i:j])
        if text[j] == "{":
            if j + 1 < n and text[j + 1] == "{":
                out.append("{")
                i = j + 2
                continue
            return TextToken("".join(out)), j
        out.append("}")  # "}}" is an escape; a lone "}" is text as well
        i = j + 2 if j + 1 < n and text[j + 1] == "}" else j + 1


def _split_tag(content: str) -> tuple[str, str | None, str | None] | None:
    """Split hole content into (name, format, alignment), or None when malformed."""
    format_at = content.find(":")
    align_at = content.find(",")
    if format_at == -1 and align_at == -1:
        return content, None, None
    if align_at == -1 or (format_at != -1 and align_at > format_at):
        fmt = None if format_at == len(content) - 1 else content[format_at + 1 :]
        return content[:format_at], fmt, None
    name = content[:align_at]
    if format_at == -1:
        if align_at == len(content) - 1:
            return None
        return name, None, content[align_at + 1 :]
    if align_at == format_at - 1:
        return None
    fmt = None if format_at == len(content) - 1 else content[format_at + 1 :]
    return name, fmt, content[align_at + 1 : format_at]


def _parse_alignment(text: str) -> int | None:
    """A 32-bit width, ``-`` first for left alignment (as .NET's ``int.TryParse``); ``0`` and
    ``-0`` are a zero width."""
    if not all(c == "-" or _is_digit(c) for c in text) or text.rfind("-") > 0:
        return None
    digits = text[1:] if text[:1] == "-" else text
    if not digits or not digits.isascii():
        return None
    width = int(digits)
    if width > 2**31 - 1:
        return None
    return -width if text[:1] == "-" else width


def _parse_property(text: str, start: int) -> tuple[Token, int]:
    """The hole starting at ``text[start] == "{"``: up to the first ``}``, else text to the end."""
    close = text.find("}", start + 1)
    if close == -1:
        return TextToken(text[start:]), len(text)
    end = close + 1
    raw = text[start:end]
    content = raw[1:-1]
    if not content:
        return TextToken(raw), end
    split = _split_tag(content)
    if split is None:
        return TextToken(raw), end
    name, fmt, alignment_text = split
    destructuring = Destructuring.DEFAULT
    if name[:1] == "@":
        destructuring, name = Destructuring.DESTRUCTURE, name[1:]
    elif name[:1] == "$":
        destructuring, name = Destructuring.STRINGIFY, name[1:]
    if not name or not _valid_name(name):
        return TextToken(raw), end
    alignment = None
    if alignment_text is not None:
        alignment = _parse_alignment(alignment_text)
        if alignment is None:
            return TextToken(raw), end
    return PropertyToken(name, fmt, alignment, destructuring, raw), end


def _tokenize(text: str) -> tuple[Token, ...]:
    if not text:
        return (TextToken(""),)
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while True:
        if len(tokens) >= MAX_TOKENS - 1:
            tokens.append(TextToken(text[i:]))  # the bound: the rest is verbatim text
            break
        before = i
        text_token, i = _parse_text(text, i)
        if i > before:
            tokens.append(text_token)
        if i == n:
            break
        token, i = _parse_property(text, i)
        tokens.append(token)
        if i == n:
            break
    return tuple(tokens)


# ---------------------------------------------------------------------------------------------
# Rendering.


# Python's standard format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_STANDARD_SPEC: Final = re.compile(
    r"(?P<head>(?:.?[<>=^])?[-+ ]?z?#?0?)(?P<width>[0-9]*)(?P<grouping>[,_]?)"
    r"(?:\.(?P<precision>[0-9]*))?(?P<type>[a-zA-Z%]?)",
    re.DOTALL,
)


# values whose format spec is a strftime pattern, where digits are literal text
_STRFTIME: Final = (datetime.date, datetime.time)


@functools.lru_cache(maxsize=256)
def _capped_specs(spec: str) -> tuple[str, str] | None:
    """``spec`` with its width (and precision) clamped to :data:`MAX_WIDTH`, or None when it
    needs no clamping: (for a ``str`` value, whose precision only cuts; for any other value)."""
    match = _STANDARD_SPEC.fullmatch(spec)
    if match is None:
        return None
    width, precision = match["width"], match["precision"]
    wide = bool(width) and int(width) > MAX_WIDTH
    precise = bool(precision) and int(precision) > MAX_WIDTH
    if not (wide or precise):
        return None
    width = str(MAX_WIDTH) if wide else width
    tail = match["grouping"]
    for_str = match["head"] + width + tail
    for_other = for_str
    if precision is not None:
        for_str += "." + precision
        for_other += "." + (str(MAX_WIDTH) if precise else precision)
    return for_str + match["type"], for_other + match["type"]


def _oversized(spec: str | None) -> bool:
    """Whether a format spec asks for more than :data:`MAX_WIDTH` (digits in it are the hint)."""
    return spec is not None and len(spec) > 3 and _capped_specs(spec) is not None


def render_value(value: object, token: PropertyToken) -> str:
    """Render one property value for a hole; never raises.

    Widths (alignment, format width) and a number's precision above :data:`MAX_WIDTH` are
    clamped to it.
    """
    if token.destructuring is Destructuring.DESTRUCTURE:
        text = dumps(value).decode("utf-8")
    elif token.destructuring is Destructuring.STRINGIFY:
        text = safe_str(value)
    else:
        spec = token.format or ""
        if len(spec) > 3:
            capped = _capped_specs(spec)
            if capped is not None and not isinstance(value, _STRFTIME):
                spec = capped[0] if isinstance(value, str) else capped[1]
        try:
            text = format(value, spec)
        except Exception:
            text = safe_str(value)
    alignment = token.alignment
    if alignment:
        if alignment > MAX_WIDTH:
            alignment = MAX_WIDTH
        elif alignment < -MAX_WIDTH:
            alignment = -MAX_WIDTH
        text = text.rjust(alignment) if alignment > 0 else text.ljust(-alignment)
    return text


#: templates with more holes render token by token (a bound on the renderers' compiled code)
_COMPILED_HOLES_MAX: Final = 32
#: the renderers' global names (``t0``…, ``n0``…, ``s0``…), made once
_GLOBALS: Final = {
    kind: tuple(sys.intern(f"{kind}{i}") for i in range(_COMPILED_HOLES_MAX + 1)) for kind in "tns"
}


@functools.cache  # (bounded: two per number of holes up to the maximum)
def _renderer_code(holes: int, specs: bool) -> CodeType:
    """The code of a renderer for templates of ``holes`` holes: one f-string of text, hole,
    text … text, whose text, property names and format specs (``specs``: every hole has one,
    ``""`` for none) are the function's globals ``t0``…, ``n0``…, ``s0``…, never source."""
    parts = ["{t0}"]
    for i in range(holes):
        parts.append(f"{{p[n{i}]:{{s{i}}}}}" if specs else f"{{p[n{i}]}}")
        parts.append(f"{{t{i + 1}}}")
    source = "def render(p):\n    return f'" + "".join(parts) + "'\n"
    module = compile(source, "<logactors message template>", "exec")
    code: CodeType = next(c for c in module.co_consts if isinstance(c, CodeType))
    return code


def _compiled_renderer(tokens: Sequence[Token]) -> Callable[[Mapping[str, Any]], str] | None:
    """A function rendering ``tokens`` from a mapping as :meth:`MessageTemplate._render_slow`
    does when every hole's value is there and formats, or None when a hole needs more than
    ``format(value, spec)`` (alignment, ``@``/``$``, a width to clamp) or the template has
    more than :data:`_COMPILED_HOLES_MAX` holes. It raises where the
    slow path would recover (a missing property, a failing format): the caller then takes
    the slow path. Compiled once per number of holes (:func:`_renderer_code`), not per
    template."""
    texts = [""]
    names: list[str] = []
    specs: list[str] = []
    for token in tokens:
        if isinstance(token, TextToken):
            texts[-1] += token.text
            continue
        if token.destructuring is not Destructuring.DEFAULT or token.alignment:
            return None
        spec = token.format or ""
        if _oversized(spec):
            return None
        names.append(token.name)
        specs.append(spec)
        texts.append("")
    if len(names) > _COMPILED_HOLES_MAX:
        return None
    # (the global names are shared strings; there are more of them than of any template's parts)
    namespace: dict[str, Any] = dict(zip(_GLOBALS["t"], texts, strict=False))
    namespace.update(zip(_GLOBALS["n"], names, strict=False))
    has_specs = any(specs)
    if has_specs:
        namespace.update(zip(_GLOBALS["s"], specs, strict=False))
    render: Callable[[Mapping[str, Any]], str] = FunctionType(
        _renderer_code(len(names), has_specs), namespace
    )
    return render


class MessageTemplate:
    """A parsed message template; get one with :func:`parse` (cached)."""

    __slots__ = (
        "_event_id",
        "_fast",
        "_indices",
        "has_formats",
        "positional",
        "property_names",
        "text",
        "tokens",
    )

    def __init__(self, text: str, tokens: tuple[Token, ...]) -> None:
        self.text = text
        self.tokens = tokens
        names: dict[str, None] = {}
        for token in tokens:
            if isinstance(token, PropertyToken):
                names.setdefault(token.name)
        #: distinct hole names, in order of first appearance
        self.property_names: tuple[str, ...] = tuple(names)
        #: whether some hole has a format (CLEF writes their renderings as ``@r``)
        self.has_formats = any(
            isinstance(t, PropertyToken) and t.format is not None for t in tokens
        )
        #: True when every hole is positional (``{0}``, ``{1}`` …): arguments bind by index
        self.positional = bool(names) and all(_is_index(n) for n in names)
        # (name, index) of each distinct positional hole, for bind()
        self._indices: tuple[tuple[str, int], ...] = (
            tuple((n, int(n)) for n in names) if self.positional else ()
        )
        self._event_id: str | None = None
        # (long templates render token by token: their renderer would copy the text twice)
        self._fast = _compiled_renderer(tokens) if len(text) <= CACHE_MAX_CHARS else None

    @property
    def event_id(self) -> str:
        """Serilog's event type (``@i``): 8 hex digits, computed on first use.

        The Jenkins one-at-a-time hash of the text's UTF-16 units, as Serilog's
        ``EventIdHash``, for templates up to 1,024 units; longer ones (beyond any template
        written by hand) get their crc32 instead, so the id of a huge template costs no more
        than a copy of it.
        """
        event_id = self._event_id
        if event_id is None:
            data = self.text.encode("utf-16-le", "surrogatepass")
            if len(data) <= 2 * _JENKINS_MAX_UNITS:
                event_id = f"{_jenkins_hash(data):08x}"
            else:
                event_id = f"{zlib.crc32(data):08x}"
            self._event_id = event_id
        return event_id

    def render(self, properties: Mapping[str, Any]) -> str:
        """Render with ``properties``; never raises.

        A value whose format fails renders ``str(value)``; one whose ``str`` fails renders
        ``<unrenderable TypeName>``; a missing property renders as its raw hole.
        """
        fast = self._fast
        if fast is not None:
            try:
                return fast(properties)
            except Exception:  # (a missing property, a failing format: the slow path's rules)
                pass
        return self._render_slow(properties)

    def _render_slow(self, properties: Mapping[str, Any]) -> str:
        out: list[str] = []
        for token in self.tokens:
            if isinstance(token, TextToken):
                out.append(token.text)
                continue
            try:
                value = properties[token.name]
            except Exception:
                out.append(token.raw)
                continue
            out.append(render_value(value, token))
        return "".join(out)

    def formatted_values(self, properties: Mapping[str, Any]) -> list[str]:
        """Renderings of the holes that carry a format, in order (CLEF's ``@r``)."""
        return [
            render_value(properties[t.name], t) if t.name in properties else t.raw
            for t in self.tokens
            if isinstance(t, PropertyToken) and t.format is not None
        ]

    def bind(self, args: Sequence[object], named: Mapping[str, object]) -> dict[str, object]:
        """Bind positional call arguments to holes, as Serilog does.

        With only positional holes, the hole ``{i}`` (also ``{00i}``) takes argument *i*;
        otherwise arguments bind to the distinct hole names left to right, skipping names given
        as keywords. Arguments no hole takes are kept, in order, in the property ``args``.

        Returns:
            The properties the arguments bind to (not including ``named``).
        """
        bound: dict[str, object] = {}
        if self.positional:
            used: set[int] = set()
            for name, index in self._indices:
                if index < len(args) and name not in named:
                    bound[name] = args[index]
                    used.add(index)
            surplus = [value for index, value in enumerate(args) if index not in used]
        else:
            free = [n for n in self.property_names if n not in named]
            bound.update(zip(free, args, strict=False))
            surplus = list(args[len(free) :])
        if surplus:
            bound["args"] = surplus
        return bound

    def __repr__(self) -> str:
        return f"MessageTemplate({self.text!r})"

    def __str__(self) -> str:
        return self.text


def _jenkins_hash(data: bytes) -> int:
    """Jenkins one-at-a-time over UTF-16 code units (``data`` in UTF-16-LE), as Serilog's
    ``EventIdHash``."""
    h = 0
    for i in range(0, len(data), 2):
        h = (h + (data[i] | (data[i + 1] << 8))) & 0xFFFFFFFF
        h = (h + (h << 10)) & 0xFFFFFFFF
        h ^= h >> 6
    h = (h + (h << 3)) & 0xFFFFFFFF
    h ^= h >> 11
    return (h + (h << 15)) & 0xFFFFFFFF


# The parse cache: templates seen twice (``_seen`` holds the builtin hashes of those seen once),
# oldest out first. Lookups take no lock; changes do (parse runs on any thread).
_cache: dict[str, MessageTemplate] = {}
_cache_cost: dict[str, int] = {}
_cache_bytes = 0
_seen: set[int] = set()
_cache_lock = threading.Lock()


def _cost(template: MessageTemplate) -> int:
    """Estimated bytes a cached template holds (its text, tokens and the object, and its
    renderer: a function and its globals, about 100 bytes per token)."""
    renderer = 0 if template._fast is None else 500 + 100 * len(template.tokens)
    return sys.getsizeof(template.text) + 160 * len(template.tokens) + 400 + renderer


def parse(text: str) -> MessageTemplate:
    """Parse a message template (malformed holes become text, never an error).

    Templates of at most :data:`CACHE_MAX_CHARS` characters are cached from their second use,
    within :data:`CACHE_MAX_ENTRIES` entries and :data:`CACHE_MAX_BYTES` bytes.
    """
    template = _cache.get(text)
    if template is not None:
        return template
    template = MessageTemplate(text, _tokenize(text))
    if len(text) <= CACHE_MAX_CHARS:
        _remember(text, template)
    return template


def _remember(text: str, template: MessageTemplate) -> None:
    global _cache_bytes
    key = hash(text)
    with _cache_lock:
        if key not in _seen:
            if len(_seen) >= CACHE_MAX_ENTRIES:
                _seen.clear()
            _seen.add(key)
            return
        _seen.discard(key)
        if text in _cache:
            return
        cost = _cost(template)
        while _cache and (
            len(_cache) >= CACHE_MAX_ENTRIES or _cache_bytes + cost > CACHE_MAX_BYTES
        ):
            oldest = next(iter(_cache))
            del _cache[oldest]
            _cache_bytes -= _cache_cost.pop(oldest)
        _cache[text] = template
        _cache_cost[text] = cost
        _cache_bytes += cost


def cache_clear() -> None:
    """Empty the parse cache (tests and benchmarks)."""
    global _cache_bytes
    with _cache_lock:
        _cache.clear()
        _cache_cost.clear()
        _seen.clear()
        _cache_bytes = 0


def cache_size() -> tuple[int, int]:
    """(templates, estimated bytes) in the parse cache."""
    return len(_cache), _cache_bytes
