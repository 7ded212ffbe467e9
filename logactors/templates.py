"""Message templates (messagetemplates.org), parsed exactly as Serilog 4.2's parser does.

Parsing rules (Serilog 4.2's ``MessageTemplateParser``, where dotted names are standard):

* ``{{`` and ``}}`` are escaped braces; a lone ``}`` is text.
* A hole runs from ``{`` to the *first* ``}``: ``{`` [``@`` | ``$``] name [``,`` alignment]
  [``:`` format] ``}``. A ``{`` with no ``}`` after it starts text that runs to the end of the
  template. A hole that is wrong in any way (empty, bad name, bad alignment, bad format
  character) is kept whole, ``{`` to ``}``, as one text token. Malformed input never raises.
  Adjacent text tokens are not merged (``"a {b c} d"`` is three text tokens, as in Serilog).
* A name is either all digits (a positional hole such as ``{0}``) or dot-separated identifiers
  (``http.method``), each starting with a letter or ``_`` and going on with letters, digits and
  ``_``; so ``{0a}``, ``{a.}``, ``{a..b}`` and ``{a.1}`` are text.
* The first ``,`` before any ``:`` starts the alignment: a non-zero integer, negative for left
  alignment (padding on the right). ``{x:000,5}`` has the format ``000,5`` and no alignment.
* A format is letters, digits, Unicode punctuation, space and ``+``. Symbols such as ``<``,
  ``>``, ``=``, ``^``, ``|``, ``~``, ``$`` and control characters make the hole text, so Python
  specs that need them (``{x:>10}``) are written with an alignment instead (``{x,10}``).
* Letters and digits are Unicode categories L* and Nd, as .NET's ``char.IsLetter`` and
  ``char.IsDigit``; where .NET sees the two UTF-16 halves of a character outside the BMP,
  Python sees one code point, so such a letter is a letter here.

Rendering follows Python's conventions: the format is Python's format mini-language, strings are
not quoted, ``{@x}`` renders JSON, ``{$x}`` renders ``str(x)``, a missing property renders as its
raw hole text, and nothing ever raises (see :meth:`MessageTemplate.render`).
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import attrs

from ._json import dumps, safe_str

__all__ = [
    "Destructuring",
    "MessageTemplate",
    "PropertyToken",
    "TextToken",
    "parse",
]


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
# ``char.IsDigit`` is Nd, ``char.IsPunctuation`` is P*). Python sees code points where .NET sees
# UTF-16 units, so a letter outside the BMP counts as a letter here (see the module docstring).

_PUNCTUATION: Final = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"})


def _is_letter(c: str) -> bool:
    return unicodedata.category(c)[0] == "L"


def _is_digit(c: str) -> bool:
    return unicodedata.category(c) == "Nd"


def _valid_in_format(c: str) -> bool:
    if c.isascii():
        return c.isalnum() or c in _ASCII_FORMAT_EXTRA
    category = unicodedata.category(c)
    return category[0] == "L" or category == "Nd" or category in _PUNCTUATION


# ASCII punctuation (P*) plus space and "+"; not "$", "^", "`", "<", "=", ">", "|", "~"
# (symbols in Unicode's terms), and never "}" (a hole ends there).
_ASCII_FORMAT_EXTRA: Final = frozenset(" +!\"#%&'()*,-./:;?@[\\]_{")


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

_BRACE: Final = re.compile("[{}]")


def _parse_text(text: str, start: int) -> tuple[TextToken, int]:
    """Literal text from ``start`` up to the next lone ``{`` (escapes resolved)."""
    out: list[str] = []
    i = start
    n = len(text)
    search = _BRACE.search
    while True:
        match = search(text, i)
        if match is None:
            out.append(text[i:])
            return TextToken("".join(out)), n
        j = match.start()
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
    """A non-zero 32-bit width, ``-`` first for left alignment (as .NET's ``int.TryParse``)."""
    if not all(c == "-" or _is_digit(c) for c in text) or text.rfind("-") > 0:
        return None
    digits = text[1:] if text[:1] == "-" else text
    if not digits or not digits.isascii():
        return None
    width = int(digits)
    if width == 0 or width > 2**31 - 1:
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
    if fmt is not None and not all(_valid_in_format(c) for c in fmt):
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


def render_value(value: object, token: PropertyToken) -> str:
    """Render one property value for a hole; never raises."""
    if token.destructuring is Destructuring.DESTRUCTURE:
        text = dumps(value).decode("utf-8")
    elif token.destructuring is Destructuring.STRINGIFY:
        text = safe_str(value)
    else:
        try:
            text = format(value, token.format or "")
        except Exception:
            text = safe_str(value)
    alignment = token.alignment
    if alignment is not None:
        text = text.rjust(alignment) if alignment > 0 else text.ljust(-alignment)
    return text


def _python_format_string(tokens: Sequence[Token]) -> tuple[str, tuple[str, ...]] | None:
    """Compile tokens into ``str.format`` form for the fast path, or None when unsafe."""
    parts: list[str] = []
    names: list[str] = []
    for token in tokens:
        if isinstance(token, TextToken):
            parts.append(token.text.replace("{", "{{").replace("}", "}}"))
            continue
        if token.destructuring is not Destructuring.DEFAULT or token.alignment is not None:
            return None
        spec = token.format or ""
        if "{" in spec or "}" in spec:
            return None
        parts.append(f"{{{len(names)}:{spec}}}" if spec else f"{{{len(names)}}}")
        names.append(token.name)
    return "".join(parts), tuple(names)


class MessageTemplate:
    """A parsed message template; get one with :func:`parse` (cached)."""

    __slots__ = ("_fast", "_names", "event_id", "has_formats", "property_names", "text", "tokens")

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
        #: Serilog's event type (``@i``): Jenkins one-at-a-time hash of the text, 8 hex digits
        self.event_id = f"{_jenkins_hash(text):08x}"
        compiled = _python_format_string(tokens)
        self._fast: Callable[..., str] | None = None
        self._names: tuple[str, ...] = ()
        if compiled is not None:
            self._fast = compiled[0].format
            self._names = compiled[1]

    @property
    def positional(self) -> bool:
        """True when every hole is positional (``{0}``, ``{1}`` …): arguments bind by index."""
        return bool(self.property_names) and all(_is_index(n) for n in self.property_names)

    def render(self, properties: Mapping[str, Any]) -> str:
        """Render with ``properties``; never raises.

        A value whose format fails renders ``str(value)``; one whose ``str`` fails renders
        ``<unrenderable TypeName>``; a missing property renders as its raw hole.
        """
        fast = self._fast
        if fast is not None:
            if not self._names:
                return fast()
            try:
                return fast(*[properties[name] for name in self._names])
            except Exception:
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
            for name in self.property_names:
                index = int(name)
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


def _jenkins_hash(text: str) -> int:
    """Jenkins one-at-a-time over UTF-16 code units, as Serilog's ``EventIdHash``."""
    h = 0
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (h + (data[i] | (data[i + 1] << 8))) & 0xFFFFFFFF
        h = (h + (h << 10)) & 0xFFFFFFFF
        h ^= h >> 6
    h = (h + (h << 3)) & 0xFFFFFFFF
    h ^= h >> 11
    return (h + (h << 15)) & 0xFFFFFFFF


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> MessageTemplate:
    """Parse a message template (cached; malformed holes become text, never an error)."""
    return MessageTemplate(text, _tokenize(text))
