"""Redaction: secrets masked by key (any depth) and by pattern before any sink sees them."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import example, given
from hypothesis import strategies as st

import logactors
from logactors import CustomSink, FileSink, RedactConfig, SpoolConfig, SupervisorConfig
from logactors._capture import Capture
from logactors._redact import (
    AUTH_FOLDS,
    AUTH_VALUE,
    SHORTEST_MATCH,
    URL_CREDENTIALS,
    Redactor,
    needs_value_scan,
    words,
)
from logactors._selflog import SelfLog
from logactors.config import CaptureConfig
from logactors.testing import capture

from .helpers import ScriptedSink, recovered


def redacted(**kwargs: Any) -> SupervisorConfig:
    return SupervisorConfig(min_level="trace", sinks=(), redact=RedactConfig(**kwargs))


def test_key_words() -> None:
    """Key names split into lower-case words across conventions."""
    assert words("access_token") == ("access", "token")
    assert words("apiKey") == ("api", "key")
    assert words("X-API-KEY") == ("x", "api", "key")
    assert words("HTTPAuthorization") == ("http", "authorization")


def test_matching_rules() -> None:
    """Default keys match as whole words, case-insensitively; 'secretary' is not a secret."""
    r = Redactor(RedactConfig())
    for key in (
        "password",
        "PASSWORD",
        "db_password",
        "passwd",
        "client_secret",
        "token",
        "accessToken",
        "api_key",
        "apiKey",
        "X-Api-Key",
        "Authorization",
        "Cookie",
        "set_cookie",
    ):
        assert r.is_secret_key(key), key
    for key in ("secretary", "user", "tokenizer", "passage", "keyboard"):
        assert not r.is_secret_key(key), key


async def test_masks_by_key_at_any_depth_and_by_pattern() -> None:
    """Nested mappings/lists, template text and exception text are all masked."""
    config = redacted(patterns=[r"\b\d{4}-\d{4}-\d{4}-\d{4}\b", r"sk_live_\w+"])
    async with capture(config=config) as cap:
        cap.log.info(
            "login {user} card 1234-5678-9012-3456 key sk_live_abc",
            user="ada",
            password="hunter2",
            request={
                "headers": {"Authorization": "Bearer t", "Accept": "json"},
                "items": [{"token": "x"}, "note sk_live_zzz here"],
            },
        )
        try:
            raise ValueError("card 1111-2222-3333-4444 rejected")
        except ValueError:
            cap.log.exception("payment failed")
    login, failed = cap.events
    assert login.properties["password"] == "***"
    assert login.properties["user"] == "ada"
    assert login.properties["request"]["headers"] == {"Authorization": "***", "Accept": "json"}
    assert login.properties["request"]["items"] == [{"token": "***"}, "note *** here"]
    assert login.rendered == "login ada card *** key ***"
    assert failed.exception is not None
    assert "1111-2222" not in failed.exception
    assert "card *** rejected" in failed.exception


async def test_threads_and_files_and_spool_never_see_secrets(tmp_path: Path) -> None:
    """Events from threads are masked too; nothing secret reaches a file or the spool."""
    down = ScriptedSink(default="fail")
    config = SupervisorConfig(
        redact=RedactConfig(patterns=[r"hunter\d"]),
        sinks=[
            FileSink(name="file", path=str(tmp_path / "app.clef"), format="clef"),
            CustomSink(
                name="down",
                sink=down,
                breaker=None,
                spool=SpoolConfig(path=str(tmp_path / "down.spool")),
            ),
        ],
    )
    async with logactors.open_logger(config) as log:
        log.info("user {u}", u="ada", password="hunter2")
        await trio.to_thread.run_sync(lambda: log.warning("from thread", api_key="hunter3"))
        log.info("said hunter4 aloud")
        await log.flush()
        await recovered(lambda: log.metrics().sinks["down"].spooled == 3)
    for path in (tmp_path / "app.clef", tmp_path / "down.spool"):
        data = path.read_bytes()
        assert b"hunter" not in data, path.name
    assert (tmp_path / "app.clef").read_text().count("***") == 3


async def test_production_preset_redacts() -> None:
    """The production preset turns redaction on with the default keys."""
    config = SupervisorConfig.preset("production")
    assert config.redact is not None
    assert "password" in config.redact.keys


secret_keys = st.sampled_from(["password", "Password", "api_key", "apiKey", "auth_token"])
plain_keys = st.sampled_from(["user", "count", "path", "items"])
values = st.recursive(
    st.one_of(st.text(max_size=5), st.integers(), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(secret_keys, plain_keys), inner, max_size=3),
    ),
    max_leaves=12,
)


def _secrets_left(value: Any, redactor: Redactor) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if redactor.is_secret_key(k) and v != "***":
                found.append((k, v))
            found.extend(_secrets_left(v, redactor))
    elif isinstance(value, list | tuple):
        for v in value:
            found.extend(_secrets_left(v, redactor))
    return found


@pytest.mark.slow
@given(st.dictionaries(st.one_of(secret_keys, plain_keys), values, max_size=4))
def test_no_secret_key_survives_at_any_depth(props: dict[str, Any]) -> None:
    """Property: after redaction no secret key at any depth holds anything but the mask,
    and the input is not modified."""
    capture = Capture(CaptureConfig(max_depth=64), RedactConfig(), 256 * 1024)
    redactor = capture.redactor
    assert redactor is not None
    before = repr(props)
    out = capture.properties(props)
    assert _secrets_left(out, redactor) == []
    assert repr(props) == before


async def test_database_url_masked_in_every_format_spool_and_fallback(tmp_path: Path) -> None:
    """Default redaction: a ``postgres://u:pw@h/db`` property is masked in every file format,
    in the spool file and in what the fallback sink receives."""
    down = ScriptedSink(default="fail")
    broken = ScriptedSink(default="fail")
    backup = ScriptedSink()
    formats = ("text", "json", "clef", "clef-rendered", "logfmt", "csv")
    config = SupervisorConfig(
        sinks=[
            *(
                FileSink(name=f"f-{fmt}", path=str(tmp_path / f"app.{fmt}"), format=fmt)
                for fmt in formats
            ),
            CustomSink(
                name="down",
                sink=down,
                breaker=None,
                spool=SpoolConfig(path=str(tmp_path / "down.spool")),
            ),
            CustomSink(name="broken", sink=broken, breaker=None, fallback="backup"),
            CustomSink(name="backup", sink=backup, min_level="critical"),  # fallback only
        ],
    )
    async with logactors.open_logger(config) as log:
        log.info(
            "connecting to {db}",
            db="postgres://u:pw@h/db",
            settings={"dsn": "postgres://u:pw@h/db"},
        )
        await log.flush()
        await recovered(lambda: log.metrics().sinks["down"].spooled == 1)
        await recovered(lambda: len(backup.events) == 1)
    for fmt in formats:
        data = (tmp_path / f"app.{fmt}").read_bytes()
        assert b"u:***@h/db" in data and b":pw@" not in data, fmt
    assert b":pw@" not in (tmp_path / "down.spool").read_bytes()
    (event,) = backup.events
    assert event.properties == {
        "db": "postgres://u:***@h/db",
        "settings": {"dsn": "postgres://u:***@h/db"},
    }


def test_self_log_masks_url_credentials() -> None:
    """The self-log masks the password in any URL it prints."""
    lines: list[str] = []
    log = SelfLog(lines.append)
    log("sink http://user:s3cret@collector:4318/v1 failed: http://user:s3cret@collector refused")
    assert lines == [
        "sink http://user:***@collector:4318/v1 failed: http://user:***@collector refused"
    ]


# -- the scan hint: the value rules' regular expression runs only where it may match ----------

_VALUE_RULES = re.compile(f"{URL_CREDENTIALS}|{AUTH_VALUE}")
_FRAGMENTS = (
    *("bearer", "Bearer", "BEARER", "BeArEr", "bEARER", "bearer\t", "be arer"),
    *("basic", "Basic", "BaSiC", "ba\u017fic", "bas\u0131c", "BAS\u0130C", "bas\u0130c"),
    *(" ", "  ", "://", "@", ":", "/", "?", "#", "=", "==", "+", "-", ".", "_", "~", "\n"),
    *("http", "postgres", "u", "pw", "db", "abcdefgh1", "Zm9vOmJhcg", "XYZ", "é", "\u212a"),
)
_WORD_FORMS = (
    "bearer",
    "Bearer",
    "BeArEr",
    "basic",
    "BASIC",
    "ba\u017fic",
    "bas\u0130c",
    "bas\u0131c",
)
_TOKENS = ("abcdefgh1", "Zm9vOmJhcg==", "abcdefghij", "ABCDEFGH", "short1", "a-b.c~d+e/f")
#: pieces shaped like a credential (or nearly: a piece missing, a tab for the space)
_credential = st.one_of(
    st.builds(
        "{}{}{}".format,
        st.sampled_from(_WORD_FORMS),
        st.sampled_from((" ", "  ", "\t", "")),
        st.sampled_from(_TOKENS),
    ),
    st.builds(
        "{}://{}{}{}{}".format,
        st.sampled_from(("http", "postgres", "a", "x+y.z-1", "1a", "")),
        st.sampled_from(("u", "", "user name")),
        st.sampled_from((":", "")),
        st.sampled_from(("pw", "p", "", "p w", "p/w")),
        st.sampled_from(("@h", "@", "h", "")),
    ),
)
_texts = st.lists(
    st.one_of(_credential, st.sampled_from(_FRAGMENTS), st.text(max_size=3)), max_size=8
).map("".join)
_default_rules = Redactor(RedactConfig())


@given(_texts)
@example("BeArEr Zm9vOmJhcg1")
@example("ba\u017fic Zm9vOmJhcg1")
@example("bas\u0130c Zm9vOmJhcg1")
@example("a://:p@")
def test_scan_hint_never_skips_a_string_the_value_rules_change(text: str) -> None:
    """Property: a string the hint lets go holds no match of the value rules (so skipping the
    regular expression for it changes nothing)."""
    if _VALUE_RULES.search(text) is not None:
        assert needs_value_scan(text), text
    if not needs_value_scan(text):
        assert _default_rules.text(text) == text


def test_scan_hint_is_selective() -> None:
    """The hint takes what may hold a credential, and leaves ordinary messages alone."""
    for text in (
        "postgres://u:pw@db/app",
        "Authorization: Bearer abc",  # (no match: too short; the hint only says "maybe")
        "header BeArEr x",
        "ba\u017fic y",
        "\u00e9t\u00e9 bas\u0130c z",
    ):
        assert needs_value_scan(text), text
    for text in (
        "GET /api/orders/17/items -> 200",
        "mail ada@example.org about it",  # an '@' but no '://'
        "see https://example.org/docs",  # a '://' but no '@'
        "basic configuration loaded",  # (the hint takes this one: the rule decides)
        "bearer_token_refreshed",
        "a@b://",  # shorter than any match
        "caf\u00e9 ouvert \u00e0 8h",
    ):
        expected = text == "basic configuration loaded"
        assert needs_value_scan(text) is expected, text
    assert not needs_value_scan("a@b://"[: SHORTEST_MATCH - 1])


def test_auth_folds_are_every_letter_re_folds_that_lower_does_not() -> None:
    """Every code point that the case-insensitive ``bearer|basic`` takes for one of its
    letters is that letter lower-cased, or is in AUTH_FOLDS (and each of those is one)."""
    letters = "abceirs"
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    odd = {c for c in re.findall(f"(?i)[{letters}]", every) if c.lower() not in letters}
    assert odd == set(AUTH_FOLDS)
    assert re.findall("(?i) ", every) == [" "]  # the space after the word is a plain space
