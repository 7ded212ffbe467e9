"""Message templates (messagetemplates.org), parsed exactly as Serilog's parser does.

Parsing rules (Serilog 4.2's ``MessageTemplateParser``, dotted names accepted):

* ``{{`` and ``}}`` are escaped braces; a lone ``}`` is text.
* A hole is ``{`` [``@`` | ``$``] name [``,`` alignment] [``:`` format] ``}``. The scan of a hole
  stops at the first character not allowed in a hole; if that is not ``}``, everything scanned so
  far is kept as text and parsing resumes there. A hole that is syntactically wrong in any other
  way (empty, bad name, bad alignment) is kept whole as text. Malformed input never raises.
* A name is letters, digits and ``_``, optionally in dot-separated segments (``http.method``);
  a name that starts with a digit must be all digits (a positional hole such as ``{0}``).
* An alignment is a non-zero integer; negative pads on the right (left-aligns).
* A format is letters, digits, punctuation, space and ``+`` (never ``}``).

Rendering follows Python's conventions: the format is Python's format mini-language, strings are
not quoted, ``{@x}`` renders JSON, ``{$x}`` renders ``str(x)``, a missing property renders as its
raw hole text, and nothing ever raises (see :meth:`MessageTemplate.render`).
"""

from __future__ import annotations

import enum
import functools
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
        """True for numeric names such as ``{0}``."""
        return self.name.isdigit()


Token = TextToken | PropertyToken

# ---------------------------------------------------------------------------------------------
# Character classes, by Unicode category as .NET defines them.

_PUNCTUATION: Final = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"})


def _is_letter_or_digit(c: str) -> bool:
    category = unicodedata.category(c)
    return category[0] == "L" or category == "Nd"


def _valid_in_name(c: str) -> bool:
    return c == "_" or c == "." or _is_letter_or_digit(c)


def _valid_in_format(c: str) -> bool:
    return c != "}" and (
        c == " " or c == "+" or _is_letter_or_digit(c) or unicodedata.category(c) in _PUNCTUATION
    )


def _valid_in_tag(c: str) -> bool:
    return c == ":" or c == "@" or c == "$" or _valid_in_name(c) or _valid_in_format(c)


def _valid_name(name: str) -> bool:
    if not name or not all(_valid_in_name(c) for c in name):
        return False
    if unicodedata.category(name[0]) == "Nd":
        return all(unicodedata.category(c) == "Nd" for c in name)
    return all(name.split("."))  # no leading, trailing or doubled dots


# ---------------------------------------------------------------------------------------------
# Tokenizer.


def _parse_text(text: str, start: int) -> tuple[TextToken, int]:
    out: list[str] = []
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "{":
            if i + 1 < n and text[i + 1] == "{":
                out.append("{")
                i += 2
                continue
            break
        out.append(c)
        if c == "}" and i + 1 < n and text[i + 1] == "}":
            i += 1
        i += 1
    return TextToken("".join(out)), i


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
    if not all(c == "-" or unicodedata.category(c) == "Nd" for c in text):
        return None
    if text.rfind("-") > 0:
        return None
    digits = text[1:] if text.startswith("-") else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    width = int(digits)
    if width == 0 or width > 2**31 - 1:
        return None
    return -width if text.startswith("-") else width


def _parse_property(text: str, start: int) -> tuple[Token, int]:
    i = start + 1
    n = len(text)
    while i < n and _valid_in_tag(text[i]):
        i += 1
    if i == n or text[i] != "}":
        return TextToken(text[start:i]), i
    end = i + 1
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
    if not _valid_name(name):
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
        before = i
        token, i = _parse_property(text, i)
        if i > before:
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
        return bool(self.property_names) and all(n.isdigit() for n in self.property_names)

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

    def bind(
        self, args: Sequence[object], named: Mapping[str, object]
    ) -> dict[str, object]:
        """Bind positional call arguments to holes, as Serilog does.

        With only positional holes (``{0}``), argument *i* binds to ``"i"``; otherwise arguments
        bind to the distinct hole names left to right, skipping names given as keywords.
        Arguments left over are kept in the property ``args``.

        Returns:
            The properties the arguments bind to (not including ``named``).
        """
        bound: dict[str, object] = {}
        surplus: list[object] = []
        if self.positional:
            holes = set(self.property_names)
            for index, value in enumerate(args):
                key = str(index)
                if key in holes and key not in named:
                    bound[key] = value
                else:
                    surplus.append(value)
        else:
            free = [n for n in self.property_names if n not in named]
            for index, value in enumerate(args):
                if index < len(free):
                    bound[free[index]] = value
                else:
                    surplus.append(value)
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
