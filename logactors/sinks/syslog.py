"""The syslog sink: RFC 5424 (or RFC 3164) messages over UDP, TCP or a unix datagram socket.

* ``udp``: one datagram per event, truncated on a UTF-8 boundary to ``max_message_bytes``. The
  socket is connected, so a receiver that is down shows up as ``ConnectionRefusedError`` (from
  the ICMP "port unreachable" of an earlier datagram) and trips the breaker. A retried batch
  resumes after the datagrams already sent (none is sent twice), and the bytes reported are
  those of every datagram sent for the batch. An event that cannot be formatted is sent as its
  stand-in datagram: it never fails the batch.
* ``tcp``: RFC 6587 octet-counting frames (``LEN SP MSG``, so newlines inside a message are
  fine), one ``send_all`` per batch. A broken connection raises ``ConnectionError``; the actor
  retries with backoff and the sink reconnects on the next attempt. Before each write the sink
  checks whether the receiver closed the connection and reconnects if so. Plain TCP syslog is
  still **at-most-once across reconnects**: data the kernel accepted just before the peer went
  away can vanish without an error (use a fallback or spool for what must not be lost), and a
  batch whose write failed part-way is sent again whole.
* ``unix``: datagrams to a local socket such as ``/dev/log`` (truncated like ``udp``).
"""

from __future__ import annotations

from collections.abc import Sequence

from .._events import LogEvent
from ..config import SyslogSink
from ..formatting.syslog import SyslogFormatter, octet_frame, parse_facility
from ._net import LinkedSink, Progress

__all__ = ["SyslogWriter"]

DEFAULT_PORT = 514


class SyslogWriter(LinkedSink):
    """Writes events to a syslog receiver (see the module docstring)."""

    def __init__(self, config: SyslogSink) -> None:
        self._config = config
        datagrams = config.transport != "tcp"
        self._formatter = SyslogFormatter(
            facility=parse_facility(config.facility),
            app_name=config.app_name,
            hostname=config.hostname,
            rfc3164=config.rfc3164,
            max_bytes=config.max_message_bytes if datagrams else None,
        )
        self._links(
            config.address,
            tcp=config.transport == "tcp",
            unix=config.transport == "unix",
            default_port=DEFAULT_PORT,
        )
        self._progress = Progress()

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        """Send ``events``; returns the bytes sent.

        Raises:
            OSError: the receiver is unreachable or the connection broke.
        """
        fmt = self._formatter.format_event
        if self._stream is not None:
            data = b"".join([octet_frame(fmt(e)) for e in events])
            await self._stream.send_all(data)
            return len(data)
        link = self._datagrams
        assert link is not None
        progress = self._progress
        for index in range(progress.start(events), len(events)):
            datagram = fmt(events[index])
            progress.advance(index)
            await link.send(datagram)
            progress.sent += len(datagram)
        return progress.finish()
