"""Real peers on 127.0.0.1 for the network sink tests.

* :class:`HttpRecorder`: a stdlib HTTP/1.1 server in a thread that records every request and
  answers from a script (status, headers, body), then with 200.
* :class:`UdpCollector` / :class:`TcpCollector`: trio tasks that collect what a sink sends.
  After ``await log.flush()`` the bytes are in the kernel's buffers; ``await
  trio.testing.wait_all_tasks_blocked()`` then means the collector has read all of them.
* :class:`Rsyslog`: a private ``rsyslogd`` (imudp + imtcp, ``mmpstrucdata``) writing every
  message as JSON to a file.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import trio

# -------------------------------------------------------------------------------------------------
# HTTP


@attrs.frozen
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering (timeouts)


@attrs.frozen
class Request:
    """One request the server received."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    raw: bytes
    at: float  # time.monotonic() on arrival

    @property
    def body(self) -> bytes:
        """The body, gunzipped when it was sent compressed."""
        if self.headers.get("content-encoding") == "gzip":
            return gzip.decompress(self.raw)
        return self.raw

    def json(self) -> Any:
        return json.loads(self.body)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.body.decode().splitlines() if line]


class HttpRecorder:
    """A threaded HTTP server on a free port of 127.0.0.1 (use as a context manager)."""

    def __init__(self, script: Iterable[Reply | int] = ()) -> None:
        self.requests: list[Request] = []
        self.script: list[Reply] = [r if isinstance(r, Reply) else Reply(r) for r in script]
        self._lock = threading.Lock()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                reply = recorder._record(
                    Request(
                        method="POST",
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        raw=raw,
                        at=time.monotonic(),
                    )
                )
                if reply.delay:
                    time.sleep(reply.delay)  # the server thread stalls, as a slow peer would
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    self.wfile.flush()
                except OSError:  # the client gave up (timeout test): nothing to answer
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), daemon=True
        )

    def _record(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self.script.pop(0) if self.script else Reply(200)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HttpRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# -------------------------------------------------------------------------------------------------
# Raw sockets (trio)


class UdpCollector:
    """Collects datagrams on a UDP port of 127.0.0.1 (``await collector.start(nursery)``)."""

    def __init__(self) -> None:
        self.datagrams: list[bytes] = []
        self.sock = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)

    async def start(self, nursery: trio.Nursery) -> str:
        """Bind and start collecting; returns ``"127.0.0.1:port"``."""
        await self.sock.bind(("127.0.0.1", 0))
        nursery.start_soon(self._run)
        host, port = self.sock.getsockname()
        return f"{host}:{port}"

    async def _run(self) -> None:
        with self.sock:
            while True:
                self.datagrams.append(await self.sock.recv(70_000))


class TcpCollector:
    """Accepts TCP connections on 127.0.0.1 and keeps what each one sent."""

    def __init__(self) -> None:
        self.connections: list[bytearray] = []
        self.listeners: list[trio.SocketListener] = []
        self._scopes: list[trio.CancelScope] = []

    async def start(self, nursery: trio.Nursery, port: int = 0) -> str:
        """Listen and start serving; returns ``"127.0.0.1:port"``."""
        self.listeners = await nursery.start(
            functools.partial(trio.serve_tcp, self._handle, port, host="127.0.0.1")
        )
        host, bound = self.listeners[0].socket.getsockname()
        return f"{host}:{bound}"

    async def _handle(self, stream: trio.SocketStream) -> None:
        data = bytearray()
        self.connections.append(data)
        with trio.CancelScope() as scope:
            self._scopes.append(scope)
            async with stream:
                async for chunk in stream:
                    data += chunk

    def close_connections(self) -> None:
        """Close every open connection from this side (the client sees EOF)."""
        for scope in self._scopes:
            scope.cancel()
        self._scopes.clear()

    @property
    def data(self) -> bytes:
        return b"".join(self.connections)


# -------------------------------------------------------------------------------------------------
# rsyslogd


def find_rsyslogd() -> str | None:
    """The rsyslogd binary, or None."""
    found = shutil.which("rsyslogd")
    if found:
        return found
    for candidate in ("/usr/sbin/rsyslogd", "/sbin/rsyslogd"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


RSYSLOG_CONF = """\
global(workDirectory="{work}" parser.escapeControlCharactersOnReceive="off" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp")
module(load="mmpstrucdata")
input(type="imudp" address="127.0.0.1" port="{port}" ruleset="capture")
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="capture")
template(name="jsonline" type="list") {{ property(name="jsonmesg") constant(value="\\n") }}
ruleset(name="capture") {{
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file="{out}" template="jsonline" flushOnTXEnd="on" asyncWriting="off")
}}
"""


class Rsyslog:
    """A private rsyslogd listening on one UDP and TCP port of 127.0.0.1.

    Every message it receives is parsed as RFC 5424 (structured data through ``mmpstrucdata``
    into ``$!.rfc5424-sd``) and appended to ``out`` as one JSON object per line.
    """

    def __init__(self, binary: str, work: Path) -> None:
        self.binary = binary
        self.work = work
        self.out = work / "out.jsonl"
        self.conf = work / "rsyslog.conf"
        self.pidfile = work / "rsyslogd.pid"
        self.port = _free_port_for_both()
        self.conf.write_text(RSYSLOG_CONF.format(work=work, port=self.port, out=self.out))
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._probes = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def check_config(self) -> None:
        result = subprocess.run(
            [self.binary, "-N1", "-f", str(self.conf)], capture_output=True, timeout=30
        )
        if result.returncode != 0:
            raise RuntimeError(f"rsyslogd rejects its config: {result.stderr.decode()}")

    def start(self, timeout: float = 10.0) -> None:
        """Start rsyslogd and wait (bounded) until both inputs take messages."""
        self._stderr = open(self.work / "stderr.txt", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [self.binary, "-n", "-f", str(self.conf), "-i", str(self.pidfile)],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        deadline = time.monotonic() + timeout
        # Start-up of an external process: a bounded poll is the only way to see readiness.
        while True:
            self._fail_if_exited()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("rsyslogd did not open its TCP port") from None
                time.sleep(0.02)
        self._probes += 1
        probe = f"probe-{self._probes}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            while not any(m.get("app-name") == probe for m in self.messages()):
                self._fail_if_exited()
                if time.monotonic() > deadline:
                    raise TimeoutError("rsyslogd did not take UDP messages")
                udp.sendto(f"<14>1 - - {probe} - - - ready".encode(), ("127.0.0.1", self.port))
                time.sleep(0.02)

    def _fail_if_exited(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            err = (self.work / "stderr.txt").read_text(errors="replace")
            raise RuntimeError(f"rsyslogd exited with {self.process.returncode}: {err}")

    def stop(self) -> None:
        """Stop rsyslogd (SIGTERM, then wait for it to exit)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def messages(
        self, app_name: str | None = None, field: str = "app-name"
    ) -> list[dict[str, Any]]:
        """What rsyslog wrote so far (only those whose ``field`` is ``app_name`` when given)."""
        try:
            text = self.out.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        # rsyslog may be writing right now: only complete lines count.
        complete = text.split("\n")[:-1]
        out = [json.loads(line) for line in complete if line.strip()]
        if app_name is not None:
            out = [m for m in out if m.get(field) == app_name]
        return out

    async def wait_for(
        self, app_name: str, count: int, timeout: float = 10.0, field: str = "app-name"
    ) -> list[dict[str, Any]]:
        """Wait (bounded) until rsyslog has written ``count`` messages of ``app_name``.

        rsyslog is another process: polling its output file is the only way to know.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(app_name, field)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"rsyslog wrote {len(found)} of {count} messages of "
                    f"{app_name!r} within {timeout}s"
                )
            await trio.sleep(0.02)


def _free_port_for_both() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port: int = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port")
