"""The GELF sink (Graylog): GELF 1.1 over UDP (chunked, optionally gzip-compressed) or TCP.

* ``udp``: one datagram per event when the payload fits in ``chunk_size`` bytes, else GELF
  chunks of at most ``chunk_size`` bytes each (at most 128; bigger messages are reduced to fit,
  marked ``_truncated``, and reported through the ``logactors.sinks.gelf`` stdlib logger, which
  the self-log receives when ``capture_stdlib`` is active). The socket is connected, so a
  receiver that is down trips the breaker; a retried batch resumes after the events sent.
* ``tcp``: each message followed by a NUL byte, one write per batch, never compressed (GELF
  TCP has no compression). Reconnects like the syslog TCP transport and is, like it,
  at-most-once across reconnects.
"""

from __future__ import annotations

import logging
import random
import socket
from collections.abc import Sequence

from .._events import LogEvent
from ..config import GelfSink
from ..formatting.gelf import CHUNK_HEADER_BYTES, MAX_CHUNKS, GelfEncoder, chunk
from ._net import LinkedSink, Progress

__all__ = ["GelfWriter"]

DEFAULT_PORT = 12201
_log = logging.getLogger(__name__)


class GelfWriter(LinkedSink):
    """Writes events to a GELF receiver (see the module docstring)."""

    def __init__(self, config: GelfSink) -> None:
        self._config = config
        self._host = config.host or socket.gethostname()
        self._size = config.chunk_size
        self._encoder = GelfEncoder(
            self._host,
            compress=config.compress,
            max_bytes=MAX_CHUNKS * (config.chunk_size - CHUNK_HEADER_BYTES),
        )
        self._links(config.address, tcp=config.transport == "tcp", default_port=DEFAULT_PORT)
        self._progress = Progress()
        self._random = random.Random()

    def datagrams(self, event: LogEvent) -> list[bytes]:
        """The UDP datagrams that carry one event."""
        payload = self._encoder.encode(event)
        if len(payload) <= self._size:
            return [payload]
        message_id = self._random.getrandbits(64).to_bytes(8, "big")
        return chunk(payload, message_id, self._size)

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        """Send ``events``; returns the bytes sent.

        Raises:
            OSError: the receiver is unreachable or the connection broke.
        """
        if self._stream is not None:
            encode = self._encoder.json
            data = b"".join([encode(e) + b"\0" for e in events])
            await self._stream.send_all(data)
            return len(data)
        link = self._datagrams
        assert link is not None
        progress = self._progress
        truncated = self._encoder.truncated
        for index in range(progress.start(events), len(events)):
            datagrams = self.datagrams(events[index])
            progress.advance(index)
            for datagram in datagrams:
                await link.send(datagram)
                progress.sent += len(datagram)
        sent = progress.finish()
        if self._encoder.truncated > truncated:
            _log.warning(
                "GELF sink %r: %d messages exceeded %d chunks of %d bytes and were truncated",
                self._config.name,
                self._encoder.truncated - truncated,
                MAX_CHUNKS,
                self._size,
            )
        return sent
