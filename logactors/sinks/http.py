"""The HTTP sink: batches POSTed with httpx to Seq, Loki, an OTLP collector, Elasticsearch or
any endpoint that takes NDJSON.

httpx runs natively under trio: httpcore asks ``sniffio`` which async library is running and
picks its trio backend, so no asyncio loop or thread is involved. Each sink owns one
``httpx.AsyncClient`` (one connection pool, keep-alive), built in ``open`` (in a worker thread,
since building it loads the TLS trust store from disk) and closed in ``aclose``.

Protocols (``protocol=``) and what is POSTed; a URL without a path gets the protocol's path:

==================  ==================  ==========================================================
protocol            default path        body
==================  ==================  ==========================================================
``json``            (as given)          NDJSON lines in ``format`` (``json``, ``clef`` …)
``clef``/``seq``    ``/ingest/clef``    CLEF lines, ``application/vnd.serilog.clef``,
                                        ``X-Seq-ApiKey`` from ``api_key`` or ``SEQ_API_KEY``
``loki``            ``/loki/api/v1/push``  JSON streams (:mod:`logactors.formatting.loki`)
``otlp``            ``/v1/logs``        OTLP/HTTP JSON (:mod:`logactors.formatting.otlp`), or binary
                                        protobuf with ``format="protobuf"``
                                        (:mod:`logactors.formatting.otlp_proto`)
``elasticsearch``   ``/_bulk``          bulk NDJSON (:mod:`logactors.formatting.elasticsearch`)
==================  ==================  ==========================================================

Bodies are optionally gzip-compressed (``Content-Encoding: gzip``); when ``batch.max_bytes`` is
set, a batch whose body would be larger is sent as several requests (each at most that size
before compression, unless one event alone is bigger). A retried batch resumes after the
requests that already succeeded.

Outcomes, as the sink actor understands them:

* 2xx: written (for Elasticsearch, item errors in the bulk response are checked too);
* connection errors and timeouts: ``ConnectionError`` / ``TimeoutError`` (retried, then breaker,
  fallback, spool);
* 408, 429 and 5xx: ``SinkError`` with ``retry_after`` from the ``Retry-After`` header
  (seconds or an HTTP date) — retried after at least that long;
* any other status: ``SinkError(permanent=True)`` with the start of the response body, which
  the actor writes to the self-log; the batch goes to the fallback sink (never to the spool).

OTLP follows the OTLP/HTTP specification instead: only 429, 502, 503 and 504 are retried
(honouring ``Retry-After``); every other 4xx and 5xx is permanent, with the ``message`` of the
``google.rpc.Status`` body in the self-log. A 2xx whose ``ExportLogsServiceResponse`` carries a
``partial_success`` is not retried (the specification forbids it): its
``rejected_log_records`` are reported through :meth:`HttpWriter.take_rejected`, and the actor
counts that many events of the batch as failed (which ones the collector does not say) and
writes ``error_message`` to the self-log.

Delivery is at-least-once: a request that timed out may have been processed, and a batch split
over several requests that fails permanently part-way goes to the fallback whole.
"""

from __future__ import annotations

import email.utils
import gzip
import math
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import httpx
import orjson
import trio

from .._events import LogEvent
from .._json import dumps
from .._version import __version__
from ..config import HttpSink
from ..exceptions import ConfigError, SinkError
from ..formatting._time import IsoUtc
from ..formatting.elasticsearch import BulkEncoder
from ..formatting.json import JsonFormatter, clef_dict
from ..formatting.loki import loki_push
from ..formatting.otlp import attributes, export_request_bytes, resource_values
from ._net import Progress
from .base import SinkBase

__all__ = ["HttpWriter", "endpoint_url", "parse_retry_after"]

_NEWLINE: Final = orjson.OPT_APPEND_NEWLINE
#: Bodies at least this large are compressed in a worker thread, off the trio loop.
THREAD_COMPRESS_BYTES: Final = 64 * 1024
#: How much of an error response goes into the exception message (and the self-log).
ERROR_BODY_CHARS: Final = 500
#: The statuses OTLP/HTTP retries; every other 4xx/5xx is permanent for ``otlp``.
OTLP_RETRYABLE: Final = frozenset({429, 502, 503, 504})
PROTOBUF: Final = "application/x-protobuf"

_PATHS: Final = {
    "clef": "/ingest/clef",
    "seq": "/ingest/clef",
    "loki": "/loki/api/v1/push",
    "otlp": "/v1/logs",
    "elasticsearch": "/_bulk",
}
_CONTENT_TYPES: Final = {
    "json": "application/x-ndjson",
    "clef": "application/vnd.serilog.clef",
    "seq": "application/vnd.serilog.clef",
    "loki": "application/json",
    "otlp": "application/json",
    "elasticsearch": "application/x-ndjson",
}


def endpoint_url(url: str, protocol: str) -> str:
    """``url`` completed with the protocol's path when it has none (``http://seq:5341`` →
    ``http://seq:5341/ingest/clef``)."""
    parts = urllib.parse.urlsplit(url)
    path = _PATHS.get(protocol)
    if path is None or parts.path not in ("", "/"):
        return url
    return urllib.parse.urlunsplit(parts._replace(path=path))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds (fractions accepted) or an
    HTTP date; ``None`` when absent or unreadable; never negative."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _line_encoder(fmt: str) -> Callable[[LogEvent], bytes]:
    """One event as a line (with newline) in a JSON line format."""
    if fmt in ("clef", "clef-rendered"):
        iso = IsoUtc(7)
        rendered = fmt == "clef-rendered"
        return lambda e: dumps(clef_dict(e, iso, rendered=rendered), _NEWLINE)
    return JsonFormatter().format_event


class HttpWriter(SinkBase):
    """POSTs batches to an HTTP endpoint (see the module docstring)."""

    def __init__(self, config: HttpSink) -> None:
        self._config = config
        protocol = config.protocol
        self.url = endpoint_url(config.url, protocol)
        self._max_bytes = config.batch.max_bytes
        self._otlp = protocol == "otlp"
        self._protobuf = self._otlp and config.format == "protobuf"
        headers = {
            "Content-Type": PROTOBUF if self._protobuf else _CONTENT_TYPES[protocol],
            "User-Agent": f"logactors/{__version__}",
        }
        if protocol in ("clef", "seq"):
            api_key = config.api_key or os.environ.get("SEQ_API_KEY")
            if api_key:
                headers["X-Seq-ApiKey"] = api_key
        if config.bearer_token:
            headers["Authorization"] = f"Bearer {config.bearer_token}"
        if config.compress:
            headers["Content-Encoding"] = "gzip"
        headers.update(config.headers)
        self._headers = headers
        self._auth: httpx.Auth | None = None
        if config.username is not None:
            self._auth = httpx.BasicAuth(config.username, config.password or "")
        self._pieces: Callable[[LogEvent], bytes] | None = None
        self._document: Callable[[Sequence[LogEvent]], bytes] | None = None
        if protocol in ("json", "clef", "seq"):
            fmt = config.format
            if protocol != "json":
                fmt = "clef-rendered" if fmt == "clef-rendered" else "clef"
            self._pieces = _line_encoder(fmt)
        elif protocol == "elasticsearch":
            self._pieces = BulkEncoder(config.index).encode
        elif protocol == "loki":
            encode_line = _line_encoder(
                config.format if config.format in ("json", "clef", "clef-rendered") else "json"
            )
            labels = config.labels
            self._document = lambda events: loki_push(
                events, labels, lambda e: encode_line(e)[:-1].decode("utf-8")
            )
        elif self._protobuf:
            try:
                from ..formatting.otlp_proto import ProtoEncoder
            except ImportError as exc:
                raise ConfigError(
                    f"sink {config.name!r}: format='protobuf' needs opentelemetry-proto: "
                    f"pip install 'logactors[otlp-proto]' ({exc})"
                ) from exc
            self._document = ProtoEncoder(resource_values(config.resource), __version__).encode
        else:  # otlp, JSON mapping
            resource = attributes(resource_values(config.resource))
            self._document = lambda events: export_request_bytes(
                events, resource, scope_version=__version__
            )
        self._client: httpx.AsyncClient | None = None
        self._progress = Progress()
        #: events the peer accepted but discarded since the last take_rejected (OTLP partial
        #: success), with the peer's reasons
        self._rejected = 0
        self._rejected_reasons: list[str] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            headers=self._headers,
            auth=self._auth,
            timeout=httpx.Timeout(self._config.timeout),
            follow_redirects=False,
        )

    async def open(self) -> None:
        """Create the connection pool (its TLS set-up reads files: done in a worker thread)."""
        if self._client is None:
            self._client = await trio.to_thread.run_sync(self._new_client)

    async def flush(self) -> None:
        """Nothing is buffered (each batch is sent when written)."""

    async def aclose(self) -> None:
        """Close the connection pool."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- writing ---------------------------------------------------------------------------------

    def bodies(self, events: Sequence[LogEvent], start: int = 0) -> Iterator[tuple[int, bytes]]:
        """The request bodies for ``events[start:]`` (uncompressed), each with the index just
        after its last event; at most ``batch.max_bytes`` each unless one event is bigger."""
        if start >= len(events):
            return
        cap = self._max_bytes
        if self._pieces is not None:
            encode = self._pieces
            if cap is None:
                yield len(events), b"".join([encode(e) for e in events[start:]])
                return
            group: list[bytes] = []
            size = 0
            for index in range(start, len(events)):
                piece = encode(events[index])
                if group and size + len(piece) > cap:
                    yield index, b"".join(group)
                    group, size = [], 0
                group.append(piece)
                size += len(piece)
            if group:
                yield len(events), b"".join(group)
            return
        assert self._document is not None
        yield from self._split_document(events, start, len(events), cap)

    def _split_document(
        self, events: Sequence[LogEvent], lo: int, hi: int, cap: int | None
    ) -> Iterator[tuple[int, bytes]]:
        assert self._document is not None
        if lo >= hi:
            return
        body = self._document(events[lo:hi])
        if cap is None or len(body) <= cap or hi - lo == 1:
            yield hi, body
            return
        mid = (lo + hi) // 2
        yield from self._split_document(events, lo, mid, cap)
        yield from self._split_document(events, mid, hi, cap)

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        """POST ``events`` (in one or more requests); returns the bytes sent.

        Raises:
            ConnectionError / TimeoutError: the server could not be reached in time.
            SinkError: the server refused the batch (retryable or permanent; see above).
        """
        if self._client is None:
            await self.open()
        progress = self._progress
        start = progress.start(events)
        if start == 0:
            self._rejected, self._rejected_reasons = 0, []  # (a new batch)
        sent = 0
        for end, body in self.bodies(events, start):
            data = await self._compress(body) if self._config.compress else body
            await self._post(data)
            sent += len(data)
            progress.advance(end)
        progress.finish()
        return sent

    async def _compress(self, body: bytes) -> bytes:
        if len(body) >= THREAD_COMPRESS_BYTES:
            return await trio.to_thread.run_sync(_gzip, body)
        return _gzip(body)

    async def _post(self, data: bytes) -> None:
        client = self._client
        assert client is not None
        try:
            response = await client.post(self.url, content=data)
        except httpx.TimeoutException as exc:
            raise TimeoutError(f"POST {self.url} timed out: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise ConnectionError(f"POST {self.url} failed: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise OSError(f"POST {self.url} failed: {exc!r}") from exc
        status = response.status_code
        if 200 <= status < 300:
            if self._config.protocol == "elasticsearch":
                _check_bulk_response(response)
            elif self._otlp:
                self._partial_success(response)
            return
        detail = _snippet(response)
        message = f"POST {self.url}: HTTP {status} {response.reason_phrase}: {detail}"
        if self._otlp:
            if status in OTLP_RETRYABLE:
                raise SinkError(
                    message, retry_after=parse_retry_after(response.headers.get("Retry-After"))
                )
            raise SinkError(message, permanent=True)
        if status in (408, 429) or status >= 500:
            raise SinkError(
                message, retry_after=parse_retry_after(response.headers.get("Retry-After"))
            )
        raise SinkError(message, permanent=True)

    def _partial_success(self, response: httpx.Response) -> None:
        """Note an OTLP ``partial_success`` (rejected records, or a warning)."""
        found = _otlp_partial_success(response)
        if found is None:
            return
        rejected, reason = found
        self._rejected += rejected
        text = " ".join(reason.split())[:ERROR_BODY_CHARS]
        if rejected:
            text = f"{rejected} log records rejected: {text or '(no error_message)'}"
        if text:
            self._rejected_reasons.append(text)

    def take_rejected(self) -> tuple[int, list[str]]:
        """Events of the batch just written that the peer accepted but discarded (OTLP partial
        success), and the peer's messages (warnings too); both reset by the call. The actor
        asks after every successful ``write_batch``."""
        taken = self._rejected, self._rejected_reasons
        self._rejected, self._rejected_reasons = 0, []
        return taken


def _otlp_partial_success(response: httpx.Response) -> tuple[int, str] | None:
    """``(rejected_log_records, error_message)`` of an OTLP success response (binary protobuf
    or JSON, by its Content-Type), or None when it carries no ``partial_success``."""
    body = response.content
    if not body:
        return None
    if response.headers.get("content-type", "").startswith(PROTOBUF):
        try:
            from ..formatting.otlp_proto import parse_partial_success
        except ImportError:
            return None
        return parse_partial_success(body)
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    partial = data.get("partialSuccess") if isinstance(data, dict) else None
    if not isinstance(partial, dict):
        return None
    try:
        rejected = max(0, int(partial.get("rejectedLogRecords") or 0))
    except (TypeError, ValueError):
        rejected = 0
    message = partial.get("errorMessage")
    return rejected, message if isinstance(message, str) else ""


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


def _snippet(response: httpx.Response) -> str:
    content = response.content
    if response.headers.get("content-type", "").startswith(PROTOBUF):
        # An OTLP failure: a binary google.rpc.Status; its message is what a person can read.
        try:
            from ..formatting.otlp_proto import parse_status_message
        except ImportError:
            pass
        else:
            status_message = parse_status_message(content)
            if status_message is not None:
                content = status_message.encode("utf-8")
    text = content[: ERROR_BODY_CHARS * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    if len(text) > ERROR_BODY_CHARS:
        text = text[:ERROR_BODY_CHARS] + "…"
    return text or "(empty body)"


def _check_bulk_response(response: httpx.Response) -> None:
    """Raise for the item failures of an Elasticsearch ``_bulk`` response (HTTP 200 with
    ``"errors": true``): retryable when any item got 429 or 5xx, else permanent."""
    try:
        data: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return
    if not isinstance(data, dict) or not data.get("errors"):
        return
    failures: list[tuple[int, object]] = []
    items = data.get("items")
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and item:
            result = next(iter(item.values()))
            if isinstance(result, dict):
                status = result.get("status")
                if isinstance(status, int) and status >= 300:
                    failures.append((status, result.get("error")))
    if not failures:
        return
    retryable = any(s == 429 or s >= 500 for s, _ in failures)
    first = dumps(failures[0][1]).decode("utf-8", "replace")[:ERROR_BODY_CHARS]
    message = (
        f"bulk: {len(failures)} of {len(items) if isinstance(items, list) else '?'} "
        f"documents rejected (first: HTTP {failures[0][0]} {first})"
    )
    raise SinkError(message, permanent=not retryable)
