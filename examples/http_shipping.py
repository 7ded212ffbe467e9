"""Shipping logs over HTTP, with a circuit breaker and a fallback file when the server fails.

An ``HttpSink`` POSTs batches as JSON lines (``protocol="json"``; ``"clef"`` for Seq,
``"loki"``, ``"otlp"``, ``"elasticsearch"`` work the same way) to a small HTTP server this
example starts on 127.0.0.1. The server answers 503 for its first 0.7 seconds: each failed batch
is retried (``RetryConfig``), then handed to the ``fallback`` sink, a local CLEF file; after
two failed batches in a row the breaker opens and events go straight to the fallback without
trying the network. After ``reset_timeout`` the breaker lets one batch through (half-open);
once the server is back that batch succeeds and the breaker closes. Nothing is lost: every
event is either at the server or in the fallback file, and the metrics say which.

A sink with ``spool=SpoolConfig(path=...)`` (and no fallback) would instead keep the events
on disk and replay them to the server when it recovers; ``python -m logactors demo`` shows both.

Needs the ``http`` extra (httpx): ``pip install 'logactors[http]'``.
Run it with ``python examples/http_shipping.py``.
"""

from __future__ import annotations

import http.server
import os
import tempfile
import threading
import time

import trio

import logactors
from logactors import BatchConfig, BreakerConfig, FileSink, HttpSink, RetryConfig

OUTAGE_SECONDS = 0.7


class Collector(http.server.BaseHTTPRequestHandler):
    """Counts the JSON lines it receives; answers 503 during the first 0.7 seconds."""

    protocol_version = "HTTP/1.1"
    started = time.monotonic()
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        failing = time.monotonic() - Collector.started < OUTAGE_SECONDS
        if not failing:
            with Collector.lock:
                Collector.received += sum(1 for line in body.splitlines() if line.strip())
        self.send_response(503 if failing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


async def main(url: str, directory: str) -> logactors.ShutdownReport | None:
    config = logactors.SupervisorConfig(
        sinks=[
            HttpSink(
                name="http",
                url=url,
                protocol="json",
                timeout=2.0,
                batch=BatchConfig(max_events=100, max_delay=0.05),
                retry=RetryConfig(attempts=2, initial_backoff=0.05),
                breaker=BreakerConfig(failure_threshold=2, reset_timeout=0.3),
                fallback="fallback",
            ),
            # Only a fallback: min_level="off" takes no events of its own.
            FileSink(
                name="fallback",
                path=os.path.join(directory, "fallback.clef"),
                format="clef",
                min_level="off",
            ),
        ],
        self_log=lambda line: print("  self-log:", line),
    )
    states: list[str] = []
    async with logactors.open_logger(config) as log:
        for i in range(30):  # 1.5 seconds of traffic, 50 events every 50 ms
            for j in range(50):
                log.info("Shipped event {n}", n=i * 50 + j)
            await trio.sleep(0.05)
            circuit = log.metrics().sinks["http"].circuit
            if not states or states[-1] != circuit:
                states.append(circuit)
    print("breaker states seen:", " -> ".join(states))
    return log.report


if __name__ == "__main__":
    try:
        import httpx  # noqa: F401
    except ImportError:
        raise SystemExit("this example needs httpx: pip install 'logactors[http]'") from None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/ingest"
    with tempfile.TemporaryDirectory(prefix="logactors-http-") as tmp:
        Collector.started = time.monotonic()
        report = trio.run(main, url, tmp)
        server.shutdown()
        assert report is not None
        print(report)
        http_sink, fallback = report.sinks["http"], report.sinks["fallback"]
        print(
            f"server received {Collector.received} events, the fallback file "
            f"{fallback.written}: {Collector.received + fallback.written} of "
            f"{http_sink.accepted} accepted"
        )
        assert Collector.received == http_sink.written
        assert Collector.received + fallback.written == http_sink.accepted == 1500
        assert http_sink.rerouted == fallback.written > 0
