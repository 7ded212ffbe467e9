"""Capture at the call: every property value becomes immutable-by-convention data, on the
caller's thread, before the event is queued.

After a logging call returns, nothing the program does to the objects it passed changes what a
sink writes. The rules (documented with a table in the templates guide):

* scalars (``str``, ``int``, ``float``, ``bool``, ``None``, ``datetime``/``date``/``time``,
  ``UUID``, ``Decimal``, ``Enum``, ``bytes``) are kept as they are (subclasses of ``str``,
  ``int`` and ``float`` become the plain type; ``bytearray``/``memoryview`` become ``bytes``);
* ``list``/``tuple``/``set``/``frozenset``/``dict`` (and their subclasses) are copied into new
  containers of the same kind, recursively, at most :attr:`CaptureConfig.max_depth` levels deep
  (a container below is written ``"<max depth>"``) and :attr:`CaptureConfig.max_items` items
  long (the rest becomes one final ``"…(+N more)"`` item, in a mapping under the key ``"…"``);
* ``{@x}`` in the template, or a property name starting with ``@`` (the ``@`` is dropped),
  destructures attrs classes, dataclasses, named tuples, pydantic models and mappings into a
  ``dict`` of their fields, captured with the same rules (nested objects are destructured too);
* ``{$x}``, a ``$``-prefixed name and every other object are stringified with ``str()``
  (``<unrenderable T>`` when that raises) and cut to ``max_event_bytes`` characters with a
  visible ``…[truncated N chars]`` marker; so are the template and the exception text.

Redaction (:mod:`logactors._redact`) is part of the same pass: a secret name masks its value
whatever it holds, and every captured string is masked by the value rules.

:class:`Builder` is the one event builder: every way into the logger (level methods, ``a*``,
bound loggers, other threads, proxies, the stdlib bridge through them) calls :meth:`prepare`
on the caller's thread and :meth:`admit` on the trio thread. The logger's fast path only skips
:meth:`prepare` for calls it has proved need nothing from it (see :mod:`logactors._levelmethod`).
"""

from __future__ import annotations

import contextvars
import dataclasses
import enum
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from ._cache import remember
from ._events import LogEvent
from ._json import safe_str
from ._levels import Level
from ._redact import SHORTEST_MATCH, Redactor
from ._sizing import _SCALARS, BASE_BYTES, KEPT_TYPES, estimate, learn_kept, truncate
from ._trace import add_trace, context_getter
from .config import CaptureConfig, RedactConfig
from .templates import Destructuring, PropertyToken, escape_braces, parse

__all__ = [
    "CONTEXT",
    "SCALARS",
    "Builder",
    "Capture",
    "Text",
    "cut",
    "default_capture",
    "format_exc_info",
]

#: kept as they are (exact types; checked first, before any isinstance)
SCALARS: Final = frozenset({str, bytes, *_SCALARS, *KEPT_TYPES})
#: the scalars the logger's fast path takes (fixed-size in the estimate: :mod:`._sizing`)
_PLAIN: Final = _SCALARS
MAX_DEPTH_MARK: Final = "<max depth>"
MORE_KEY: Final = "…"
#: The exact types of the values the capture has written as their ``str()`` (not
#: destructured), as keys: every value of such a type takes that way (:meth:`Capture._other`'s
#: checks depend on the type alone, for a type that does not define ``__class__``: see
#: :func:`_learn_stringified`), and the level methods' fast case takes them through
#: :meth:`Capture.stringify` where no hole destructures. One cache for the process, emptied
#: when full (so the classes it holds, and what they hold, are kept for a while at most).
STRINGIFIED: Final[dict[type, bool]] = {}
_STRINGIFIED_MAX: Final = 1024


def _learn_stringified(cls: type) -> None:
    """Remember ``cls`` in :data:`STRINGIFIED`, unless a class of its MRO (other than
    ``object``) defines ``__class__``: a proxy type (``wrapt.ObjectProxy``, a lazy object)
    answers ``isinstance`` for what it wraps, so its values do not all take one way."""
    if cls not in STRINGIFIED and not any("__class__" in vars(k) for k in cls.__mro__[:-1]):
        remember(STRINGIFIED, cls, True, _STRINGIFIED_MAX)


#: texts without braces kept by :meth:`Capture.as_plain`: their longest, and how many
_PLAIN_TEXT_CHARS: Final = 512
_PLAIN_TEXTS_MAX: Final = 4096
#: call keywords taken from stdlib logging, never properties
RESERVED: Final = frozenset({"extra", "stack_info", "stacklevel"})
_SAFE_NAMES_MAX: Final = 16384
#: built-in enricher values kept captured (:meth:`Builder.enriched`)
_ENRICHED_MAX: Final = 1024
#: ambient contexts whose captured form a builder keeps (:meth:`Builder.ambient`)
_CONTEXTS_MAX: Final = 256
_EMPTY: Final[dict[str, Any]] = {}
_new_tuple: Final = tuple.__new__
#: ambient properties (``Logger.context``), captured when set
CONTEXT: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "logactors_context", default=_EMPTY
)


class Text(str):
    """A message already rendered (the stdlib bridge's ``record.getMessage()``): the logger
    writes it as text (braces doubled, so it renders as itself), never as a template, and does
    not remember it among the program's templates (each record has its own). Any other
    template that is not a plain ``str`` is taken the same way, through :meth:`Builder.prepare`;
    a ``Text`` also has the level methods' fast case (:meth:`Capture.as_text`)."""

    __slots__ = ()


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with a visible marker."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[truncated {len(text) - limit} chars]"


def _sort_key(item: object) -> tuple[str, str]:
    return type(item).__name__, safe_str(item)


def _more(count: int) -> str:
    return f"…(+{count} more)"


def _fields_of(value: Any) -> dict[str, Any] | None:
    """The fields of a structured object (attrs, dataclass, named tuple, pydantic, mapping)."""
    cls = type(value)
    if attrs.has(cls):
        return {a.name: getattr(value, a.name) for a in attrs.fields(cls)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and isinstance(getattr(cls, "_fields", None), tuple):
        return dict(zip(cls._fields, value, strict=False))
    if isinstance(value, Mapping):
        return dict(value.items())
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        return {name: getattr(value, name) for name in type(value).model_fields}
    return None


class Capture:
    """Compiled capture rules (bounds and redaction) for one runtime."""

    def __init__(
        self, config: CaptureConfig, redact: RedactConfig | None, max_event_bytes: int
    ) -> None:
        self.max_depth = config.max_depth
        self.max_items = config.max_items
        self.max_text = max_event_bytes
        enabled = redact is not None and redact.enabled
        self.redactor = Redactor(redact) if enabled and redact is not None else None
        self.mask = redact.replacement if redact is not None else "***"
        #: property names known to need nothing (not secret, not reserved, not masked): the
        #: logger's fast path takes a call only when all its names are in here
        self.safe_names: set[str] = set()
        #: property names known to be secret (and otherwise as plain as the safe ones): the
        #: fast path writes the mask for their values
        self.secret_names: set[str] = set()
        #: 0: strings never need a scan; 1: only those ``Redactor.needs_scan`` picks (the
        #: value rules' hint); 2: every string (user patterns)
        self.scan = 0 if self.redactor is None else (2 if redact and redact.patterns else 1)
        self._needs_scan = self.redactor.needs_scan if self.redactor is not None else None
        #: the value rules match no shorter string (``SHORTEST_MATCH``); user patterns may
        self._scan_min = SHORTEST_MATCH if self.scan == 1 else 0
        #: template -> (as written, its length, its hole names when positional arguments bind
        #: to them by name, else ``()``; ``None`` until a call passes arguments: see
        #: :meth:`hole_names`): the templates the builder has seen, which the logger's fast
        #: path takes (and, not kept here, text without braces: :meth:`as_plain` and
        #: :attr:`plain_texts`, a printf call's text and a ``Text``: :meth:`as_text`)
        self.templates: dict[str, tuple[str, int, tuple[str, ...] | None]] = {}
        self._names: dict[str, tuple[str, bool]] = {}
        #: texts without braces the fast case took (:meth:`as_plain`; the level methods look
        #: them up here first)
        self.plain_texts: dict[str, tuple[str, int, tuple[str, ...]]] = {}

    # -- names, texts ----------------------------------------------------------------------------

    def name(self, key: str) -> tuple[str, bool]:
        """(the name as written, whether its value is masked), cached; learns safe names."""
        known = self._names.get(key)
        if known is not None:
            return known
        redactor = self.redactor
        if redactor is None:
            masked, secret = key, False
        else:
            masked, secret = redactor.text(key), redactor.is_secret_key(key)
        if (
            masked == key
            and key not in RESERVED
            and key[:1] not in ("@", "$")
            and len(self.safe_names) + len(self.secret_names) < _SAFE_NAMES_MAX
        ):
            (self.secret_names if secret else self.safe_names).add(key)
        known = (masked, secret)
        if len(key) <= 256:
            remember(self._names, key, known, _SAFE_NAMES_MAX)
        return known

    def text(self, value: str) -> str:
        """A string value: masked by the value rules (property strings are cut by size)."""
        redactor = self.redactor
        return value if redactor is None else redactor.text(value)

    def template(self, template: str, *, learn: bool = True) -> str:
        """The template, cut and masked; a short one written by the program is remembered
        (``learn``; not text rendered at the call, such as a printf-style message, which
        would only fill the cache with one-off entries)."""
        known = self.templates.get(template)
        if known is not None:
            return known[0]
        out = cut(template, self.max_text)
        if self.redactor is not None:
            out = self.redactor.text(out)
        if learn and len(template) <= 512 and "{$" not in template:  # ({$x}: the capture)
            remember(self.templates, template, (out, len(out), None), 4096)
        return out

    def logger_name(self, name: str) -> str:
        """A logger name as events carry it: masked (and cut) when redaction is on."""
        return self.template(name, learn=False) if self.redactor is not None else name

    def as_text(self, text: str) -> tuple[str, int, tuple[str, ...]] | None:
        """A rendered message as the level methods' fast case takes it: (its braces doubled,
        its length, no hole names), when it needs neither a cut nor masking; else None (the
        builder's path, which gives the same text for the others)."""
        return self._unchanged(escape_braces(str.__str__(text)))

    def as_plain(self, template: str) -> tuple[str, int, tuple[str, ...]] | None:
        """A template the capture has not seen that has no braces (a fixed message, an
        f-string's text) as the level methods' fast case takes it: (itself, its length, no
        hole names), when it needs neither a cut nor masking; else None (the builder's path,
        which gives the same text for the others). Such texts are kept in a cache of their own,
        :attr:`plain_texts` (up to 512 characters, 4,096 of them, emptied when full), not among
        the templates: one-off texts rendered at the call fill and empty it, never the
        templates' cache, and a text logged again skips the checks (the scan of a sentence is
        most of them): the level methods look it up there before they call this."""
        if "{" in template or "}" in template:
            return None
        known = self._unchanged(template)
        if known is not None and len(template) <= _PLAIN_TEXT_CHARS:
            remember(self.plain_texts, template, known, _PLAIN_TEXTS_MAX)
        return known

    def _unchanged(self, out: str) -> tuple[str, int, tuple[str, ...]] | None:
        """(``out``, its length, no hole names) when the capture would write it unchanged (no
        cut, nothing to mask: the value rules' hint says so), else None."""
        if len(out) > self.max_text or (self._needs_scan is not None and self._needs_scan(out)):
            return None
        return out, len(out), ()

    def hole_names(self, template: str) -> tuple[str, ...]:
        """The hole names positional arguments bind to by name (``()`` for a template without
        holes or with positional holes ``{0}``), parsed on the first call with arguments and
        kept in the template's cache entry."""
        parsed = parse(template)
        names = () if parsed.positional else parsed.property_names
        known = self.templates.get(template)
        if known is not None:
            self.templates[template] = (known[0], known[1], names)
        return names

    def stringify(self, value: object) -> str:
        """``str(value)`` (never raises), cut and masked."""
        return self.text(cut(safe_str(value), self.max_text))

    # -- values ----------------------------------------------------------------------------------

    def value(self, value: Any, depth: int = 0, destructure: bool = False) -> Any:
        """The captured form of one value (see the module docstring); never raises."""
        try:
            return self._value(value, depth, destructure)
        except Exception:
            return f"<unrenderable {type(value).__name__}>"

    def _value(self, value: Any, depth: int, destructure: bool) -> Any:
        cls = type(value)
        if cls is str:
            redactor = self.redactor
            if redactor is None or not redactor.needs_scan(value):
                return value
            return redactor.text(value)
        if cls in SCALARS:
            if cls is bytes and self.redactor is not None:
                return self.redactor.data(value)
            return value
        if cls is dict and not destructure:
            if depth >= self.max_depth:
                return MAX_DEPTH_MARK
            return self._mapping(value, depth, False)
        if cls is list or cls is tuple:
            if depth >= self.max_depth:
                return MAX_DEPTH_MARK
            return self._items(value, depth, destructure)
        return self._other(value, depth, destructure)

    def _other(self, value: Any, depth: int, destructure: bool) -> Any:
        if isinstance(value, enum.Enum):
            inner = value.value  # (what the formats write)
            if type(inner) is str:
                masked = self.text(inner)
                if masked != inner:
                    return masked  # (a credential: the value's masked text)
            learn_kept(type(value))
            return value
        if destructure:
            fields = _fields_of(value)
            if fields is not None:
                if depth >= self.max_depth:
                    return MAX_DEPTH_MARK
                return self._mapping(fields, depth, True)
        if isinstance(value, str):
            return self._value(str.__str__(value), depth, False)
        if isinstance(value, bool | int):
            return int.__int__(value)
        if isinstance(value, float):
            return float.__float__(value)
        if isinstance(value, bytearray | memoryview):
            return self._value(bytes(value[: self.max_text]), depth, False)
        if isinstance(value, dict):
            if depth >= self.max_depth:
                return MAX_DEPTH_MARK
            return self._mapping(value, depth, destructure)
        if isinstance(value, list | tuple | set | frozenset):
            if depth >= self.max_depth:
                return MAX_DEPTH_MARK
            return self._items(value, depth, destructure)
        if not destructure:
            _learn_stringified(type(value))
        return self.stringify(value)

    def plain(self, value: Any, depth: int) -> tuple[Any, int] | None:
        """A copy of a ``dict``/``list`` holding only plain scalars (``str``, ``int``,
        ``float``, ``bool``, ``None``) under names known to need nothing, within the bounds,
        with its estimated size (as :func:`~logactors._sizing.estimate` counts it); None when
        the value needs the full rules. For such a value the result equals :meth:`value`'s:
        the logger's fast path uses it (tests/test_capture.py proves the two agree)."""
        if depth >= self.max_depth or len(value) > self.max_items:
            return None
        needs_scan = self._needs_scan
        scan_min = self._scan_min
        plain = _PLAIN
        size = 64
        if type(value) is dict:
            safe = self.safe_names
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key not in safe:
                    return None
                cls = type(item)
                if cls is str:
                    n = len(item)
                    if n >= scan_min and needs_scan is not None and needs_scan(item):
                        return None
                    size += 112 + len(key) + n
                elif cls in plain:
                    size += 88 + len(key)
                elif cls is dict or cls is list:
                    inner = self.plain(item, depth + 1)
                    if inner is None:
                        return None
                    item = inner[0]
                    size += 56 + len(key) + inner[1]
                else:
                    return None
                out[key] = item
            return out, size
        items: list[Any] = []
        for item in value:
            cls = type(item)
            if cls is str:
                n = len(item)
                if n >= scan_min and needs_scan is not None and needs_scan(item):
                    return None
                size += 64 + n
            elif cls in plain:
                size += 40
            elif cls is dict or cls is list:
                inner = self.plain(item, depth + 1)
                if inner is None:
                    return None
                item = inner[0]
                size += 8 + inner[1]
            else:
                return None
            items.append(item)
        return items, size

    def _mapping(self, value: Mapping[Any, Any], depth: int, destructure: bool) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        limit = self.max_items
        total = len(value)
        names = self._names
        for count, (key, item) in enumerate(value.items()):
            if count >= limit:
                out[MORE_KEY] = _more(total - count)
                break
            if type(key) is str:
                known = names.get(key) or self.name(key)
                out[known[0]] = self.mask if known[1] else self._value(item, depth + 1, destructure)
            else:
                captured = self._value(key, depth + 1, False)
                try:
                    hash(captured)
                except TypeError:
                    captured = safe_str(captured)
                out[captured] = self._value(item, depth + 1, destructure)
        return out

    def _items(self, value: Any, depth: int, destructure: bool) -> Any:
        limit = self.max_items
        items: list[Any] = []
        total = len(value)
        for item in value:
            if len(items) >= limit:
                items.append(_more(total - limit))
                break
            items.append(self._value(item, depth + 1, destructure))
        if isinstance(value, list):
            return items
        if isinstance(value, tuple):
            return tuple(items)
        if total <= limit:
            # Inserted in a sorted order, so equal sets are written in one order whatever
            # their history (a set's iteration order depends on its insertions).
            try:
                items.sort()
            except TypeError:
                items.sort(key=_sort_key)
        try:
            return set(items) if isinstance(value, set) else frozenset(items)
        except TypeError:  # an unhashable captured item: keep the items in a list
            return items

    def properties(
        self, props: Mapping[str, Any], template: str | None = None, depth: int = 0
    ) -> dict[str, Any]:
        """Captured properties: names masked, ``@``/``$`` names and template holes applied."""
        hints: dict[str, Destructuring] | None = None  # (a dict only for "{@"/"{$" holes)
        if template is not None and ("{@" in template or "{$" in template):
            hints = {}
            for token in parse(template).tokens:
                if isinstance(token, PropertyToken):
                    hints[token.name] = token.destructuring
        out: dict[str, Any] = {}
        plain = _PLAIN
        safe = self.safe_names
        redactor = self.redactor
        for key, value in props.items():
            if key in safe and not hints:
                # a name known to need nothing (no prefix, not secret, not masked): the value
                # as the rules below would capture it, without the name's lookups
                cls = type(value)
                if cls in plain or (
                    cls is str and (redactor is None or not redactor.needs_scan(value))
                ):
                    out[key] = value
                else:
                    out[key] = self.value(value, depth, False)
                continue
            how = hints.get(key, Destructuring.DEFAULT) if hints else Destructuring.DEFAULT
            if type(key) is not str:
                key = safe_str(key)
            first = key[:1]
            if (first == "@" or first == "$") and len(key) > 1:
                key = key[1:]
                how = Destructuring.DESTRUCTURE if first == "@" else Destructuring.STRINGIFY
            name, secret = self.name(key)
            if secret:
                out[name] = self.mask
            elif type(value) in plain and how is not Destructuring.STRINGIFY:
                out[name] = value  # int, float, bool, None: nothing to capture
            elif how is Destructuring.STRINGIFY:
                out[name] = self.stringify(value)
            else:
                out[name] = self.value(value, depth, how is Destructuring.DESTRUCTURE)
        return out


_DEFAULT: list[Capture] = []


def default_capture() -> Capture:
    """The capture with the default bounds and no redaction (ambient properties are copied
    when set, outside any runtime; each runtime applies its own rules when it logs them)."""
    if not _DEFAULT:
        _DEFAULT.append(Capture(CaptureConfig(), None, 256 * 1024))
    return _DEFAULT[0]


# ---------------------------------------------------------------------------------------------
# The event builder.

ExcInfo = Any  # True, an exception, an exc_info tuple, or None/False
#: (timestamp_ns, level, template, properties, exception, logger, task, size)
Prepared = tuple[int, Level, str, dict[str, Any], "str | None", str, str, int]


def format_exc_info(exc_info: ExcInfo) -> str | None:
    """Format ``exc_info`` (True, an exception, or a tuple) as traceback text (with its chain
    and notes); never raises."""
    try:
        if exc_info is True:
            info = sys.exc_info()
            if info[1] is None:
                return None
            error: BaseException = info[1]
        elif isinstance(exc_info, BaseException):
            error = exc_info
        elif isinstance(exc_info, tuple) and len(exc_info) == 3 and exc_info[1] is not None:
            error = exc_info[1]
        else:
            return None
        return "".join(traceback.format_exception(error)).rstrip("\n")
    except Exception as exc:  # pragma: no cover - traceback formatting itself failed
        return f"<exception could not be formatted: {safe_str(exc)}>"


def _printf(template: str, args: tuple[object, ...]) -> str | None:
    """``template % args`` for a stdlib-style call (no holes, ``%`` specifiers), or None."""
    if "%" not in template or parse(template).property_names:
        return None
    try:
        return template % (args[0] if len(args) == 1 and isinstance(args[0], Mapping) else args)
    except Exception:
        return None


class Builder:
    """The one event builder (see the module docstring)."""

    def __init__(
        self,
        capture: Capture,
        *,
        enrich: Callable[[dict[str, Any], str], None] | None,
        builtin_enrichers: tuple[str, ...] | None = None,
        keep: Callable[[LogEvent], bool] | None,
        sequence: bool,
        max_event_bytes: int,
        report: Callable[..., None],
        trace: bool = False,
    ) -> None:
        self.capture = capture
        #: OpenTelemetry's context getter when trace correlation is on (:mod:`._trace`)
        self.trace = context_getter(trace)
        self._enrich = enrich
        self._keep = keep
        #: the last sequence number given (-1: the ``sequence`` enricher is off)
        self.sequence = 0 if sequence else -1
        self.limit = max_event_bytes
        self._report = report
        self._context = CONTEXT.get
        self._said: set[str] = set()
        #: id of an ambient context -> (the context, its captured properties, their bytes)
        self._contexts: dict[int, tuple[Mapping[str, Any], dict[str, Any], int]] = {}
        # The optional stages, compiled into chains of only the configured ones: after the
        # capture on the caller's thread (``prepare``: trace ids, enrichers), and on the trio
        # thread (``admit``: filters, then the sequence number).
        caller: list[Callable[[dict[str, Any], str], dict[str, Any]]] = []
        if self.trace is not None:
            caller.append(self._add_trace)
        if enrich is not None:
            caller.append(self._add_enriched)
        self._caller_stages = tuple(caller)
        trio_side: list[Callable[[LogEvent, int], int]] = []
        if keep is not None:
            trio_side.append(self._filter)
        if sequence:
            trio_side.append(self._number)
        self._trio_stages = tuple(trio_side)
        #: no stage on the trio thread (the caller's stages ran in ``prepare``, or in the level
        #: method's fast case): the level methods may skip :meth:`admit`
        self.simple = not trio_side
        #: the sequence number is the only stage on the trio thread (no filter): the level
        #: methods number the event themselves (:meth:`number`), without :meth:`admit`
        self.numbers_only = sequence and keep is None
        #: the built-in per-call enrichers when they are the only ones (the level methods'
        #: fast case adds them from a cache: :meth:`enriched`), None when a user enricher runs
        #: (or when the capture gives both the same name: a masking pattern matching both):
        #: then the fast case adds all of them through :meth:`enrichment`, at each call
        self.builtin_enrichers = builtin_enrichers if enrich is not None else ()
        if builtin_enrichers:
            names = capture.properties(dict.fromkeys(builtin_enrichers, ""))
            if len(names) < len(builtin_enrichers):
                self.builtin_enrichers = None
        self._enriched: dict[tuple[str, str], tuple[str, Any, int]] = {}

    # -- the optional stages ---------------------------------------------------------------------

    def _add_trace(self, captured: dict[str, Any], task: str) -> dict[str, Any]:
        otel = self.trace() if self.trace is not None else None
        return add_trace(captured, otel) if otel else captured

    def _add_enriched(self, captured: dict[str, Any], task: str) -> dict[str, Any]:
        for key, value in self.enrichment(task).items():
            captured.setdefault(key, value)
        return captured

    def enrichment(self, task: str) -> dict[str, Any]:
        """The per-call enrichers' properties for a call from ``task``, captured: what
        :meth:`_add_enriched` adds (each under a name the event does not have yet)."""
        extra: dict[str, Any] = {}
        if self._enrich is not None:
            self._enrich(extra, task)
        return self.capture.properties(extra)

    def value_bytes(self, value: object) -> int:
        """What the event's estimate counts for one captured property value."""
        return estimate({"": value}, self.limit) - BASE_BYTES

    def enriched(self, key: str, value: str) -> tuple[str, Any, int]:
        """A built-in enricher's property (``thread``, ``task``) as :meth:`_add_enriched`
        adds it: its captured name and value, and what the event's estimate counts for it
        (kept per name and value: a service has few threads and task names)."""
        cached = self._enriched.get((key, value))
        if cached is None:
            ((name, captured),) = self.capture.properties({key: value}).items()
            cached = (name, captured, self.value_bytes(captured))
            remember(self._enriched, (key, value), cached, _ENRICHED_MAX)
        return cached

    def _filter(self, event: LogEvent, size: int) -> int:
        keep = self._keep
        return size if keep is None or keep(event) else -1

    def _number(self, event: LogEvent, size: int) -> int:
        return self.number(event.properties, size)  # type: ignore[arg-type]  # (still ours)

    def number(self, properties: dict[str, Any], size: int) -> int:
        """Give an event (its properties: a dict made for this event alone, by the builder or
        the level method's fast case) the next sequence number; returns its size with the
        number. The level methods call it for a runtime whose only trio-thread stage it is
        (:attr:`numbers_only`)."""
        self.sequence += 1
        properties["sequence"] = self.sequence
        return size + 32

    def once(self, key: str, message: str) -> None:
        """A self-log line the first time only."""
        if key not in self._said:
            self._said.add(key)
            self._report(message, key=f"capture:{key}")

    def bound(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Bound properties, captured once (at ``bind``)."""
        return self.capture.properties(props)

    def ambient(self, ctx: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """The ambient context's properties as this runtime captures them, and their estimated
        bytes (the event's estimate counts each value on its own); kept per context (a context
        is a new mapping whenever it changes, and tasks serving requests at once each log in
        their own), up to a bound. An entry holds its context, so no other object can take
        its id while it is kept."""
        contexts = self._contexts
        kept = contexts.get(id(ctx))
        if kept is not None and kept[0] is ctx:
            return kept[1], kept[2]
        captured = self.capture.properties(ctx)
        size = estimate(captured, self.limit) - BASE_BYTES
        remember(contexts, id(ctx), (ctx, captured, size), _CONTEXTS_MAX)
        return captured, size

    def prepare(
        self,
        timestamp_ns: int,
        level: Level,
        template: object,
        args: tuple[object, ...],
        exc_info: ExcInfo,
        props: dict[str, Any],
        static: Mapping[str, Any],
        bound: Mapping[str, Any],
        logger: str,
        task: str,
    ) -> Prepared:
        """Capture a call: properties, template, exception, context, enrichers, size."""
        capture = self.capture
        exception = format_exc_info(exc_info) if exc_info is not None else None
        if props and not RESERVED.isdisjoint(props):
            props, exception = self._stdlib_keywords(props, exception)
        learn = template.__class__ is str  # (a template the program wrote)
        if not learn:
            template = escape_braces(safe_str(template))
        assert isinstance(template, str)
        if args:
            printf = _printf(template, args)
            if printf is not None:
                template = escape_braces(printf)
                learn = False
            else:
                props = {**parse(template).bind(args, props), **props}
        captured = capture.properties(props, template)
        ctx = self._context()
        if ctx:  # config/enricher properties < ambient context < bound < call site
            captured = {**static, **self.ambient(ctx)[0], **bound, **captured}
        elif static or bound:
            captured = {**static, **bound, **captured}
        for stage in self._caller_stages:
            captured = stage(captured, task)
        template = capture.template(template, learn=learn)
        if exception is not None:
            exception = capture.text(cut(exception, self.limit))
        size = estimate(captured, self.limit) + len(template) + (len(exception or ""))
        if size > self.limit:
            captured, size = truncate(captured, self.limit)
            size += len(template) + len(exception or "")
        return (timestamp_ns, level, template, captured, exception, logger, task, size)

    def _stdlib_keywords(
        self, props: dict[str, Any], exception: str | None
    ) -> tuple[dict[str, Any], str | None]:
        props = dict(props)
        extra = props.pop("extra", None)
        if isinstance(extra, Mapping):
            props = {**{str(k): v for k, v in extra.items()}, **props}
        elif extra is not None:
            self.once("extra", f"extra= must be a mapping (got {type(extra).__name__}); ignored")
        if props.pop("stack_info", False):
            stack = "".join(traceback.format_stack()[:-3]).rstrip("\n")
            text = f"Stack (most recent call last):\n{stack}"
            exception = text if exception is None else f"{exception}\n{text}"
        if "stacklevel" in props:
            props.pop("stacklevel")
            self.once("stacklevel", "stacklevel= is not supported (the call site is not recorded)")
        return props, exception

    def admit(self, prepared: Prepared) -> tuple[LogEvent, int] | None:
        """Finish an event on the trio thread (filters, sequence); None when filtered out.

        The sequence number is taken after the filters, so a gap in it always means an event
        was lost downstream, never that a filter rejected it.
        """
        event = _new_tuple(LogEvent, prepared[:7])  # (LogEvent's own __new__ is Python)
        size = prepared[7]
        for stage in self._trio_stages:
            size = stage(event, size)
            if size < 0:
                return None
        return event, size
