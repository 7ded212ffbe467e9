"""Redaction: mask secrets before any sink, fallback or spool sees an event.

Keys: a property (at any depth of nested mappings and lists) is masked when its name, split
into words (``access_token`` → access, token; ``apiKey`` → api, key; ``X-Api-Key`` → x, api,
key), contains one of the configured keys as consecutive words, case-insensitively. So
``token`` masks ``access_token`` and ``token``, ``api_key`` masks ``apiKey`` and ``X-API-KEY``,
and ``secret`` does not mask ``secretary``.

Patterns: every match of a configured regular expression is replaced in string values (at any
depth), in the template text (which may hold an f-string's secrets) and in the exception text,
so the rendered message is masked too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final

from .config import RedactConfig

_WORDS: Final = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_MAX_DEPTH: Final = 32


def words(name: str) -> tuple[str, ...]:
    """The lower-case words of a key name."""
    return tuple(w.lower() for w in _WORDS.findall(name))


class Redactor:
    """Compiled redaction rules (see the module docstring)."""

    def __init__(self, config: RedactConfig) -> None:
        self.mask = config.replacement
        self._keys = tuple(words(k) for k in config.keys if words(k))
        patterns = [p for p in config.patterns if p]
        self._pattern = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        self._secret_key = functools.lru_cache(maxsize=4096)(self._match_key)

    def _match_key(self, name: str) -> bool:
        parts = words(name)
        for key in self._keys:
            n = len(key)
            for i in range(len(parts) - n + 1):
                if parts[i : i + n] == key:
                    return True
        return False

    def is_secret_key(self, name: object) -> bool:
        """Whether values under this key name are masked."""
        return isinstance(name, str) and bool(self._keys) and bool(self._secret_key(name))

    def text(self, value: str) -> str:
        """``value`` with every pattern match replaced."""
        if self._pattern is None:
            return value
        return self._pattern.sub(self.mask, value)

    def properties(self, props: dict[str, Any]) -> dict[str, Any]:
        """The properties with secrets masked (the same dict when nothing changed)."""
        out: dict[str, Any] | None = None
        for key, value in props.items():
            new = self.mask if self.is_secret_key(key) else self._value(value, 0)
            if new is not value:
                if out is None:
                    out = dict(props)
                out[key] = new
        return props if out is None else out

    def _value(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            if self._pattern is None:
                return value
            masked = self._pattern.sub(self.mask, value)
            return value if masked == value else masked
        if depth >= _MAX_DEPTH:
            return value
        if isinstance(value, Mapping):
            changed = False
            items: dict[Any, Any] = {}
            try:
                pairs = list(value.items())
            except Exception:
                return value
            for k, v in pairs:
                new = self.mask if self.is_secret_key(k) else self._value(v, depth + 1)
                changed = changed or new is not v
                items[k] = new
            return items if changed else value
        if isinstance(value, list | tuple):
            new_items = [self._value(v, depth + 1) for v in value]
            if any(n is not o for n, o in zip(new_items, value, strict=True)):
                return new_items if isinstance(value, list) else tuple(new_items)
            return value
        return value
