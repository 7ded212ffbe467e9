"""Socket plumbing shared by the syslog and GELF sinks (trio sockets only, never blocking).

* :class:`DatagramLink`: a *connected* UDP or unix datagram socket. Connecting matters: the
  kernel then keeps an ICMP "port unreachable" from the peer as a socket error, which the link
  checks after each send and raises as ``ConnectionRefusedError``, so a receiver that is down
  trips the breaker instead of swallowing events silently (on loopback the error belongs to the
  datagram just sent; from a remote host it arrives a round trip later).
* :class:`StreamLink`: a TCP stream that reconnects on the next write after a failure, and that
  checks before each write whether the peer has closed its end (trio pitfall 8: after the peer
  closes, the first send can succeed and lose its data).
* :class:`Progress`: how far a batch got, so that the actor's retry of the *same* batch does not
  resend the datagrams that already left.

Every failure is raised as an ``OSError`` (``ConnectionError`` for a broken stream), which the
sink actor retries with backoff, counts in the breaker and routes to the fallback or spool.
"""

from __future__ import annotations

import errno
import os
import socket as stdlib_socket
from collections.abc import Sequence

import trio

from .._address import parse_host_port
from .._events import LogEvent
from .base import SinkBase

__all__ = ["DatagramLink", "Progress", "StreamLink", "resolve"]


async def resolve(host: str, port: int, kind: int) -> tuple[int, int, int, object]:
    """``(family, type, proto, sockaddr)`` of the first address for ``host:port``.

    Raises:
        OSError: the name cannot be resolved.
    """
    infos = await trio.socket.getaddrinfo(host, port, type=kind)
    if not infos:  # pragma: no cover - getaddrinfo raises instead
        raise OSError(errno.EADDRNOTAVAIL, f"no address for {host}:{port}")
    family, type_, proto, _, sockaddr = infos[0]
    return int(family), int(type_), proto, sockaddr


class DatagramLink:
    """A connected datagram socket: UDP to ``host:port``, or a unix datagram socket path.

    Args:
        address: ``"host:port"`` / ``(host, port)`` for UDP, or a path for ``unix``.
        unix: the address is a unix socket path.
        default_port: the port when the address names none.
    """

    def __init__(
        self, address: str | tuple[str, int], *, unix: bool = False, default_port: int | None = None
    ) -> None:
        self._address = address
        self._unix = unix
        self._default_port = default_port
        self._sock: trio.socket.SocketType | None = None

    async def connect(self) -> None:
        """Open and connect the socket (a no-op when it is open).

        Raises:
            OSError: resolution or connection failed (e.g. no such unix socket).
        """
        if self._sock is not None:
            return
        if self._unix:
            sock = trio.socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_DGRAM)
            target: object = str(self._address)
        else:
            host, port = parse_host_port(self._address, self._default_port)
            family, type_, proto, target = await resolve(host, port, stdlib_socket.SOCK_DGRAM)
            sock = trio.socket.socket(family, type_, proto)
        try:
            await sock.connect(target)
        except BaseException:
            sock.close()
            raise
        self._sock = sock

    async def send(self, datagram: bytes) -> None:
        """Send one datagram (connecting first when needed).

        Raises:
            OSError: the send failed (the socket is closed; the next send reconnects).
        """
        if self._sock is None:
            await self.connect()
        assert self._sock is not None
        try:
            await self._sock.send(datagram)
            # An ICMP "port unreachable" (synchronous on loopback, later for remote peers)
            # leaves an error on the socket: report it now, against this datagram, rather
            # than on some later send.
            error = self._sock.getsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_ERROR)
        except OSError:
            self.close()
            raise
        if error:
            raise OSError(error, f"{os.strerror(error)} (datagram to {self._address})")

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class StreamLink:
    """A TCP connection that is re-established on the next write after it broke.

    Delivery over plain TCP is at-most-once across reconnects: bytes the kernel accepted before
    the peer went away can be lost without any error, and a write that fails part-way is resent
    whole (so the peer may see part of a batch twice).
    """

    def __init__(self, address: str | tuple[str, int], *, default_port: int | None = None) -> None:
        self._address = address
        self._default_port = default_port
        self._stream: trio.SocketStream | None = None

    async def connect(self) -> None:
        """Connect (a no-op when connected and the peer has not closed its end).

        Raises:
            OSError: the connection failed (refused, unreachable, unresolvable).
        """
        stream = self._stream
        if stream is not None:
            if not stream.socket.is_readable():
                return
            # A log receiver never sends: readable means EOF or a reset. Reconnect rather
            # than write into a connection whose data would be lost.
            self.close()
        host, port = parse_host_port(self._address, self._default_port)
        self._stream = await trio.open_tcp_stream(host, port)

    async def send_all(self, data: bytes) -> None:
        """Write ``data`` on a live connection (reconnecting first when needed).

        Raises:
            ConnectionError: the write failed; the connection is dropped (the next write
                reconnects).
            OSError: reconnecting failed.
        """
        await self.connect()
        stream = self._stream
        assert stream is not None
        try:
            await stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            self.close()
            raise ConnectionError(f"TCP connection lost: {exc}") from exc
        except BaseException:
            # Cancelled (write_timeout or shutdown) part-way: the framing is broken; start over.
            self.close()
            raise

    def close(self) -> None:
        """Drop the connection at once (idempotent, synchronous)."""
        if self._stream is not None:
            self._stream.socket.close()
            self._stream = None


class Progress:
    """How many events of the batch being written were already sent, and their bytes.

    The actor retries a failed write with the very same sequence object, so a sink that
    remembers the object (by identity, holding a reference) can resume after what was sent,
    and report the bytes of every attempt once the batch is through (what the receiver got).
    """

    def __init__(self) -> None:
        self._batch: Sequence[LogEvent] | None = None
        self._done = 0
        #: bytes sent for the current batch, over every attempt
        self.sent = 0

    def start(self, events: Sequence[LogEvent]) -> int:
        """Where to start writing ``events`` (0 unless it is a retry of a partial write)."""
        if events is self._batch:
            return self._done
        self._batch = events
        self._done = 0
        self.sent = 0
        return 0

    def advance(self, done: int) -> None:
        """``done`` events of the current batch have been sent."""
        self._done = done

    def finish(self) -> int:
        """The batch is fully written; returns the bytes sent for it, over every attempt."""
        sent = self.sent
        self._batch = None
        self._done = 0
        self.sent = 0
        return sent


class LinkedSink(SinkBase):
    """Base of the sinks that talk over one :class:`StreamLink` (TCP) or one
    :class:`DatagramLink` (UDP, unix datagrams): connect, nothing to flush, close."""

    _stream: StreamLink | None
    _datagrams: DatagramLink | None

    def _links(
        self, address: str | tuple[str, int], *, tcp: bool, unix: bool = False, default_port: int
    ) -> None:
        """Create the link for the configured transport."""
        self._stream = StreamLink(address, default_port=default_port) if tcp else None
        self._datagrams = (
            None if tcp else DatagramLink(address, unix=unix, default_port=default_port)
        )

    async def open(self) -> None:
        """Connect (TCP: open the connection; datagrams: connect the socket, so that a
        receiver that is down is reported)."""
        if self._stream is not None:
            await self._stream.connect()
        else:
            assert self._datagrams is not None
            await self._datagrams.connect()

    async def flush(self) -> None:
        """Nothing is buffered (each batch is sent when written)."""

    async def aclose(self) -> None:
        """Close the socket or connection."""
        if self._stream is not None:
            self._stream.close()
        if self._datagrams is not None:
            self._datagrams.close()
