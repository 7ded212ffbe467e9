"""The ``syslog`` format: RFC 5424 messages with the properties as structured data (or RFC 3164).

An RFC 5424 message is::

    <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [logactors@32473 name="value" ...] BOM MSG

* ``PRI`` is ``facility * 8 + severity``; levels map to severities as CRITICAL→2 (crit),
  ERROR→3 (err), WARNING→4 (warning), INFO→6 (info), DEBUG/TRACE→7 (debug).
* ``TIMESTAMP`` is RFC 3339 in UTC with microseconds; ``MSGID`` is the logger name (as
  Serilog's syslog sink uses ``SourceContext``), ``-`` for the root logger.
* The header fields keep only printable US-ASCII (others become ``_``) within their RFC lengths.
* The properties form one SD-ELEMENT with the SD-ID ``logactors@32473`` (32473 is the private
  enterprise number reserved for documentation). PARAM-NAMEs are 1-32 printable US-ASCII
  characters other than ``=``, space, ``]`` and ``"`` (others become ``_``; names that collide
  after that get a ``_2``, ``_3`` … suffix); in PARAM-VALUEs ``"``, ``\\`` and ``]`` are escaped
  with a backslash. Strings are sent as they are, other values as JSON.
* ``MSG`` is the rendered message, followed by a newline and the exception text when there is
  one. It starts with the UTF-8 BOM when it holds non-ASCII text (RFC 5424 §6.4).

Datagram transports pass ``max_bytes``: a message longer than that is truncated on a UTF-8
character boundary; when the structured data would leave no room for the message, the SD-PARAMs
that do not fit are left out first (whole), so what is sent always parses.

RFC 3164 (``rfc3164=True``, for old relays) is ``<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG``
with the local time, no structured data and no BOM.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Final

from .._cache import remember
from .._events import LogEvent
from .._json import dumps, safe_str
from ._isolate import isolated, name_text, plain
from ._time import IsoUtc

__all__ = [
    "FACILITIES",
    "SD_ID",
    "SyslogFormatter",
    "octet_frame",
    "parse_facility",
    "sd_element",
    "sd_escape",
    "sd_name",
    "sd_value",
    "syslog_severity",
    "truncate_utf8",
]

#: The SD-ID of the element that carries the properties.
SD_ID: Final = "logactors@32473"
BOM: Final = b"\xef\xbb\xbf"

FACILITIES: Final[dict[str, int]] = {
    "kern": 0,
    "user": 1,
    "mail": 2,
    "daemon": 3,
    "auth": 4,
    "syslog": 5,
    "lpr": 6,
    "news": 7,
    "uucp": 8,
    "cron": 9,
    "authpriv": 10,
    "ftp": 11,
    "ntp": 12,
    "security": 13,
    "console": 14,
    "solaris-cron": 15,
    **{f"local{i}": 16 + i for i in range(8)},
}

_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_NAME_CACHE_LIMIT: Final = 4096
_name_cache: dict[str, str] = {}


def parse_facility(value: object) -> int:
    """A facility number from a name (``"local0"``, case-insensitive) or a number 0..23.

    Raises:
        ValueError: unknown name or number out of range.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 23:
            return value
        raise ValueError(f"facility must be 0..23 (got {value})")
    if isinstance(value, str):
        text = value.strip().lower()
        if text in FACILITIES:
            return FACILITIES[text]
        if text.isdigit():
            return parse_facility(int(text))
    raise ValueError(
        f"unknown facility {value!r} (one of {', '.join(FACILITIES)}, or a number 0..23)"
    )


def syslog_severity(level: int) -> int:
    """The syslog severity (RFC 5424 §6.2.1) of a level; also GELF's ``level``."""
    if level >= 50:
        return 2
    if level >= 40:
        return 3
    if level >= 30:
        return 4
    if level >= 20:
        return 6
    return 7


def _printable(text: str, max_length: int) -> str:
    """A header field: printable US-ASCII only, 1..max_length characters, ``-`` when empty."""
    out = "".join(c if "!" <= c <= "~" else "_" for c in text[:max_length])
    return out or "-"


def sd_name(name: str) -> str:
    """A valid PARAM-NAME (or SD-ID) for a property name: 1-32 printable US-ASCII characters
    except ``=``, space, ``]`` and ``"``; anything else becomes ``_``."""
    cached = _name_cache.get(name)
    if cached is not None:
        return cached
    out = "".join(c if "!" <= c <= "~" and c not in '=]"' else "_" for c in name[:32]) or "_"
    return remember(_name_cache, name, out, _NAME_CACHE_LIMIT)


def _utf8_safe(text: str) -> str:
    """``text`` with lone surrogates (which UTF-8 cannot carry) spelled as ``\\udXXX``."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def sd_escape(text: str) -> str:
    """Escape ``\\``, ``"`` and ``]`` for a PARAM-VALUE (RFC 5424 §6.3.3); lone surrogates are
    spelled out first, so every backslash in the result is an escape."""
    text = _utf8_safe(text)
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if '"' in text:
        text = text.replace('"', '\\"')
    if "]" in text:
        text = text.replace("]", "\\]")
    return text


def sd_value(value: object) -> str:
    """The text of a property value: strings as they are, numbers as Python writes them,
    ``true``/``false``/``null``, containers as JSON, anything else as ``str``."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)  # a subclass's __format__/__str__ never runs
    if value is None or isinstance(value, bool | Mapping | list | tuple):
        return dumps(value).decode("utf-8", "replace")
    return plain(safe_str(value))


def sd_element(
    properties: Mapping[str, object], sd_id: str = SD_ID, budget: int | None = None
) -> str:
    """The SD-ELEMENT holding ``properties`` (``-`` when there are none).

    Args:
        properties: the event's properties.
        sd_id: the element's SD-ID.
        budget: leave out SD-PARAMs that would take the element's UTF-8 size beyond this.
    """
    if not properties:
        return "-"
    parts = [f"[{sd_id}"]
    size = len(sd_id) + 2
    seen: set[str] = set()
    for key, value in properties.items():
        name = sd_name(key if type(key) is str else name_text(key))
        if name in seen:
            base = name
            n = 2
            while name in seen:
                suffix = f"_{n}"
                name = base[: 32 - len(suffix)] + suffix
                n += 1
        param = f' {name}="{sd_escape(sd_value(value))}"'
        if budget is not None:
            length = len(param.encode("utf-8", "backslashreplace"))
            if size + length > budget:
                continue  # too big: leave it out, smaller ones after it may still fit
            size += length
        seen.add(name)
        parts.append(param)
    if len(parts) == 1:
        return "-"
    parts.append("]")
    return "".join(parts)


def truncate_utf8(data: bytes, limit: int) -> bytes:
    """``data`` cut to at most ``limit`` bytes without splitting a UTF-8 character."""
    if len(data) <= limit:
        return data
    cut = limit
    while cut > 0 and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return data[:cut]


def octet_frame(message: bytes) -> bytes:
    """RFC 6587 octet-counting framing: ``MSG-LEN SP SYSLOG-MSG``."""
    return b"%d %b" % (len(message), message)


def _message_text(event: LogEvent) -> str:
    text = event.rendered
    if type(text) is not str:
        text = str.__str__(text)
    if event.exception:
        exception = plain(event.exception)
        text = f"{text}\n{exception}" if text else exception
    return text


def _program_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name or "python"


class SyslogFormatter:
    """Formats events as syslog messages (without transport framing).

    Args:
        facility: facility number 0..23.
        app_name: APP-NAME / TAG (default: the program name).
        hostname: HOSTNAME (default: this machine's name).
        procid: PROCID (default: this process id).
        rfc3164: the old BSD format.
        max_bytes: truncate each message to this size (datagram transports).
    """

    def __init__(
        self,
        *,
        facility: int = 1,
        app_name: str | None = None,
        hostname: str | None = None,
        procid: int | str | None = None,
        rfc3164: bool = False,
        max_bytes: int | None = None,
    ) -> None:
        import socket

        self._facility = facility
        self._rfc3164 = rfc3164
        self._max_bytes = max_bytes
        host = hostname or socket.gethostname()
        app = app_name or _program_name()
        pid = str(os.getpid() if procid is None else procid)
        self._host = _printable(host, 255)
        if rfc3164:
            tag = "".join(
                c if c.isascii() and (c.isalnum() or c in "-_./") else "_" for c in app[:32]
            )
            self._tag = f"{tag or 'logactors'}[{_printable(pid, 128)}]:"
        else:
            self._app = _printable(app, 48)
            self._procid = _printable(pid, 128)
        self._iso = IsoUtc(6)
        self._msgids: dict[str, str] = {}

    def _msgid(self, logger: str) -> str:
        msgid = self._msgids.get(logger)
        if msgid is None:
            msgid = _printable(logger, 32) if logger else "-"
            if len(self._msgids) < _NAME_CACHE_LIMIT:
                self._msgids[logger] = msgid
        return msgid

    def format_event(self, event: LogEvent) -> bytes:
        """One event as a syslog message (no framing, no trailing newline); an event that
        cannot be formatted is sent as its stand-in (see :mod:`logactors.formatting._isolate`).
        """
        return isolated(self._message, event, "syslog")

    def _message(self, event: LogEvent) -> bytes:
        pri = self._facility * 8 + syslog_severity(event.level)
        text = _message_text(event)
        if self._rfc3164:
            return self._format_3164(event, pri, text)
        logger = event.logger
        head = (
            f"<{pri}>1 {self._iso(event.timestamp_ns)} {self._host} {self._app} "
            f"{self._procid} {self._msgid(logger if type(logger) is str else plain(logger))}"
        )
        sd = sd_element(event.properties)
        body = text.encode("utf-8", "backslashreplace") if text else b""
        bom = b"" if text.isascii() else BOM
        data = self._join(head, sd, bom, body)
        limit = self._max_bytes
        if limit is None or len(data) <= limit:
            return data
        head_size = len(head) + 1
        room_for_message = min(len(body) + len(bom) + 1, limit // 4) if body else 0
        if head_size + len(sd.encode("utf-8", "backslashreplace")) + room_for_message > limit:
            sd = sd_element(event.properties, budget=limit - head_size - room_for_message)
            data = self._join(head, sd, bom, body)
        return truncate_utf8(data, limit)

    @staticmethod
    def _join(head: str, sd: str, bom: bytes, body: bytes) -> bytes:
        start = f"{head} {sd}".encode("utf-8", "backslashreplace")
        if not body:
            return start
        return b"%b %b%b" % (start, bom, body)

    def _format_3164(self, event: LogEvent, pri: int, text: str) -> bytes:
        t = time.localtime(event.timestamp_ns // 1_000_000_000)
        stamp = (
            f"{_MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
        )
        data = f"<{pri}>{stamp} {self._host} {self._tag} {text}".encode("utf-8", "backslashreplace")
        if self._max_bytes is not None:
            data = truncate_utf8(data, self._max_bytes)
        return data
