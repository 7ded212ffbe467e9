"""A local HTTP log collector for the demo and the examples, which can be told to fail.

:class:`Collector` runs a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread. It
accepts NDJSON/CLEF bodies (gzip too), counts the events per first path segment (``/seq/...``
and ``/json/...`` are two "endpoints"), remembers the ``sequence`` property of each event (to
prove nothing went missing or arrived twice) and answers 503 while :attr:`Collector.failing`
is set.

:class:`UrllibPoster` is a small sink that POSTs batches with :mod:`urllib.request` in a worker
thread: the demo's stand-in when the built-in HTTP sink (httpx) is not available.
"""

from __future__ import annotations

import gzip
import http.server
import json
import re
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import trio

from .. import LogEvent
from ..exceptions import SinkError
from ..formatting.json import ClefFormatter, JsonFormatter
from ..sinks.base import SinkBase
from ..stdlib import sink_context

__all__ = ["Collector", "UrllibPoster"]


# The ``sequence`` property of a CLEF line (top level) or a ``json`` line (in "properties"):
# a regular expression is much cheaper than decoding every line in the collector's thread,
# which shares the GIL with the demo it serves.
_SEQUENCE: Final = re.compile(rb'"sequence":(\d+)[,}]')


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    collector: ClassVar[Collector]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo has its own display."""

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        """Take a batch (or refuse it with 503 while failing)."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        endpoint = self.path.split("?", 1)[0].strip("/").split("/", 1)[0] or "/"
        if self.collector.accept(endpoint, body):
            self._reply(200, b"{}")
        else:
            self._reply(503, b'{"error": "collector unavailable (demo outage)"}')

    def do_GET(self) -> None:
        """Health and counters, for curious people."""
        self._reply(200, json.dumps(self.collector.stats()).encode())


class Collector:
    """A local HTTP collector (see the module docstring); a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"collector": self})
        self._server = http.server.ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-collector", daemon=True
        )
        self._lock = threading.Lock()
        #: answer 503 while set
        self.failing = False
        #: events accepted, per endpoint
        self.events: Counter[str] = Counter()
        #: ``sequence`` values accepted, per endpoint
        self.sequences: dict[str, set[int]] = {}
        #: events that arrived a second time (same endpoint, same ``sequence``)
        self.duplicates: Counter[str] = Counter()
        self.requests = 0
        self.refused_requests = 0
        self.refused_events = 0
        self.bad_lines = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Collector:
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Collector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def accept(self, endpoint: str, body: bytes) -> bool:
        """Record one request; False when the collector is failing (the batch is refused)."""
        lines = [line for line in body.split(b"\n") if line.strip()]
        with self._lock:
            self.requests += 1
            if self.failing:
                self.refused_requests += 1
                self.refused_events += len(lines)
                return False
            seen = self.sequences.setdefault(endpoint, set())
            for line in lines:
                if not (line.startswith(b"{") and line.rstrip().endswith(b"}")):
                    self.bad_lines += 1
                    continue
                match = _SEQUENCE.search(line)
                if match is not None:
                    number = int(match.group(1))
                    if number in seen:
                        self.duplicates[endpoint] += 1
                    seen.add(number)
            self.events[endpoint] += len(lines)
            return True

    def stats(self) -> dict[str, Any]:
        """Counters as a JSON-ready dict."""
        with self._lock:
            return {
                "url": self.url,
                "failing": self.failing,
                "events": dict(self.events),
                "duplicates": dict(self.duplicates),
                "requests": self.requests,
                "refused_requests": self.refused_requests,
                "refused_events": self.refused_events,
                "bad_lines": self.bad_lines,
            }


class UrllibPoster(SinkBase):
    """POSTs each batch as CLEF or JSON lines with :mod:`urllib.request` (in a worker thread).

    A refused or failed request raises :class:`OSError` (retried, then breaker, fallback and
    spool); a 4xx answer other than 408/429 is a permanent :class:`~logactors.SinkError`.
    """

    def __init__(self, url: str, protocol: str = "clef", timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self._formatter = ClefFormatter() if protocol == "clef" else JsonFormatter()
        self._content_type = (
            "application/vnd.serilog.clef" if protocol == "clef" else "application/x-ndjson"
        )

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        """Format on the trio thread, POST in a worker thread."""
        data = self._formatter.format_batch(events)
        await trio.to_thread.run_sync(self._post, data, abandon_on_cancel=True)
        return len(data)

    def _post(self, data: bytes) -> None:
        request = urllib.request.Request(
            self.url, data=data, method="POST", headers={"Content-Type": self._content_type}
        )
        with sink_context():
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
            except urllib.error.HTTPError as exc:
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    raise SinkError(f"HTTP {exc.code} from {self.url}", permanent=True) from exc
                raise OSError(f"HTTP {exc.code} from {self.url}") from exc
