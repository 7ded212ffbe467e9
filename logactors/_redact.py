"""Redaction rules: which property names are secret, and which parts of a text are masked.

The rules are applied by the capture pass (:mod:`logactors._capture`), on the caller's thread,
so no sink, fallback or spool ever sees an unmasked value.

Names. A name is *normalised*: lower-cased, with every character that is not a letter or a
digit removed (``X-Api-Key`` → ``xapikey``, ``passWord`` → ``password``). It is secret when

* a configured key of five or more characters (also normalised: ``api_key`` → ``apikey``)
  occurs anywhere in it: ``password`` masks ``PassWord``, ``user_password``, ``passwordHash``;
  ``token`` masks ``accesstoken`` and ``refreshToken``; ``secret`` masks ``secretkey``. The
  substring rule errs towards masking, except for a few common English words that contain a
  key and are never secrets (:data:`NOT_SECRET`: ``secretary``, ``tokenizer`` …), which are
  skipped when they are a whole word of the name (``secretary_id`` is not masked,
  ``secretarykey`` is: one word, containing ``secret``);
* a shorter key (``pwd``, ``auth``) is one of the name's words (split at separators, case
  changes and digits): ``auth`` masks ``auth``, ``x_auth`` and ``basicAuth`` but not
  ``author``, which a substring rule would hide.

Values. In every string (at any depth, in sets, in bytes, in the template, the exception text,
logger names and property names): credentials in URLs (``scheme://user:pw@host`` →
``scheme://user:***@host``), ``Bearer``/``Basic`` authorization values, and every match of the
configured ``patterns``.
"""

from __future__ import annotations

import re
from typing import Final

from ._cache import remember
from .config import RedactConfig

_WORDS: Final = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_NOT_ALNUM: Final = re.compile(r"[\W_]+")
#: below this length a key is matched as a whole word only (see the module docstring)
_SUBSTRING_MIN: Final = 5
#: ``scheme://user:password@host``: the password part (group 2)
URL_CREDENTIALS: Final = r"(?P<u>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:)[^\s@/?#]+(?=@)"
#: ``Bearer <token>`` / ``Basic <base64>``
#: (a credential: 8+ characters with a digit, capital or symbol after its first, so prose such
#: as "basic configuration" is left alone)
AUTH_VALUE: Final = (
    r"(?P<a>\b(?i:bearer|basic) +)"
    r"(?=[\w\-.~+/][\w\-.~+/]{0,400}?[0-9A-Z+/=\-._~])[\w\-.~+/]{8,}=*"
)
_CACHE_MAX: Final = 8192
#: the value rules match no string shorter than this (``a://:p@`` is the shortest URL match,
#: an authorization value needs 14 characters), so shorter strings are never scanned
SHORTEST_MATCH: Final = 7
#: the characters other than ASCII letters that the case-insensitive ``bearer|basic`` of
#: :data:`AUTH_VALUE` takes for one of their letters and that ``str.lower`` does not turn into
#: it: ``re`` folds U+0130 (capital I with a dot) and U+0131 (dotless i) to ``i`` and U+017F
#: (long s) to ``s`` (tests/test_redaction.py checks this list against every code point)
AUTH_FOLDS: Final = "\u0130\u0131\u017f"
_has_fold: Final = re.compile(f"[{AUTH_FOLDS}]").search
#: whole words that contain a key but name no secret
NOT_SECRET: Final = frozenset(
    {
        "secretary",
        "secretaries",
        "secretariat",
        "tokenize",
        "tokenizer",
        "tokenizers",
        "tokenized",
        "tokenization",
    }
)


def needs_value_scan(text: str) -> bool:
    """Whether the value rules (:data:`URL_CREDENTIALS`, :data:`AUTH_VALUE`) may match ``text``.

    False only when they cannot: a URL credential needs ``://`` and ``@``; an authorization
    value needs ``bearer`` or ``basic``, in any case, followed by a space. The regular
    expression runs only on the strings this lets through (tests/test_redaction.py checks with
    hypothesis that it never turns away a string the rules would change). A message with spaces
    and neither word (most messages) costs a ``lower()`` and a few substring searches.

    One ``return`` expression (no statements, no comprehension), simple to inline into a hot
    loop.
    """
    return len(text) >= SHORTEST_MATCH and (
        ("@" in text and "://" in text)
        or (
            " " in text
            and (
                "bearer " in (low := text.lower())
                or "basic " in low
                # outside ASCII, re also takes a few other letters for an i or an s
                or (not text.isascii() and _has_fold(text) is not None)
            )
        )
    )


def words(name: str) -> tuple[str, ...]:
    """The lower-case words of a name (``apiKey`` → api, key)."""
    return tuple(w.lower() for w in _WORDS.findall(name))


def normalise(name: str) -> str:
    """A name lower-cased with separators removed (``X-Api-Key`` → ``xapikey``)."""
    return _NOT_ALNUM.sub("", name).lower()


class Redactor:
    """Compiled redaction rules (see the module docstring)."""

    def __init__(self, config: RedactConfig) -> None:
        self.mask = config.replacement
        keys = [k for k in config.keys if normalise(k)]
        self._long = tuple({normalise(k) for k in keys if len(normalise(k)) >= _SUBSTRING_MIN})
        self._short = frozenset(normalise(k) for k in keys if len(normalise(k)) < _SUBSTRING_MIN)
        parts = [URL_CREDENTIALS, AUTH_VALUE] if config.value_rules else []
        parts += [f"(?:{p})" for p in config.patterns if p]
        self._pattern = re.compile("|".join(parts)) if parts else None
        self._bytes_pattern = re.compile("|".join(parts).encode()) if parts else None
        #: whether a string may need masking; checked before the regular expression runs
        self.needs_scan = self._scan_all if config.patterns else self._scan_hint
        self._names: dict[str, bool] = {}

    #: the value rules' hint (defined once, as :func:`needs_value_scan`)
    _scan_hint = staticmethod(needs_value_scan)

    @staticmethod
    def _scan_all(text: str) -> bool:
        return True

    def _replace(self, match: re.Match[str]) -> str:
        keep = match.group("u") or match.group("a") or ""
        return keep + self.mask

    def _replace_bytes(self, match: re.Match[bytes]) -> bytes:
        keep = match.group("u") or match.group("a") or b""
        return keep + self.mask.encode("utf-8", "replace")

    def is_secret_key(self, name: object) -> bool:
        """Whether values under this name are masked (cached per name)."""
        if not isinstance(name, str):
            return False
        secret = self._names.get(name)
        if secret is None:
            secret = remember(self._names, name, self._classify(name), _CACHE_MAX)
        return secret

    def _classify(self, name: str) -> bool:
        flat = normalise(name)
        parts = words(name)
        if not NOT_SECRET.isdisjoint(parts):
            flat = "".join(w for w in parts if w not in NOT_SECRET)
        if any(key in flat for key in self._long):
            return True
        return bool(self._short) and not self._short.isdisjoint(parts)

    def text(self, value: str) -> str:
        """``value`` with URL credentials, authorization values and pattern matches masked."""
        if self._pattern is None or not self.needs_scan(value):
            return value
        masked = self._pattern.sub(self._replace, value)
        return value if masked == value else masked

    def data(self, value: bytes) -> bytes:
        """:meth:`text` for bytes."""
        if self._bytes_pattern is None:
            return value
        return self._bytes_pattern.sub(self._replace_bytes, value)
