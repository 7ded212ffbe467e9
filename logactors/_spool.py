"""The spool: an append-only on-disk store of events a sink could not write.

Layout: the data file at ``path`` and a cursor file at ``path + ".cursor"``.

* Data file: the 8-byte magic ``LASPOOL1``, then records, each
  ``<u32 length><u32 crc32(payload)>`` followed by the payload (one event as JSON). A record cut
  short by a crash, or one whose checksum does not match, ends the valid data: it and anything
  after it are dropped (counted, reported in the self-log), never fatal.
* Cursor file: the byte offset of the first record not yet replayed, and its crc32; replaced
  atomically (write + rename), so a crash leaves either the old or the new cursor. A record is
  replayed at least once: a crash between the sink's write and the cursor update replays it again.

The spool keeps at most ``max_bytes`` of live records: appending past it drops the oldest
records (counted as ``spool_dropped``), except those being replayed at that moment (the bound
may be exceeded by what arrives during one replay write). Consumed and dropped records are
reclaimed by compaction (rewriting the live tail) once they exceed half of ``max_bytes``, so
the file stays under 1.5 x ``max_bytes``. All methods are blocking and thread-safe; actors
call them through ``trio.to_thread.run_sync``.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson

from ._events import LogEvent
from ._json import dumps
from ._levels import Level, round_level
from .config import SpoolConfig

MAGIC: Final = b"LASPOOL1"
_HEADER: Final = struct.Struct("<II")
_CURSOR: Final = struct.Struct("<QI")
_COMPACT_MIN: Final = 1 << 20


def encode_event(event: LogEvent) -> bytes:
    """One event as spool payload (JSON; values orjson cannot encode become strings)."""
    return dumps(
        {
            "t": event.timestamp_ns,
            "l": int(event.level),
            "m": event.template,
            "p": event.properties,
            "x": event.exception,
            "g": event.logger,
            "k": event.task,
        }
    )


def decode_event(payload: bytes) -> LogEvent:
    """Rebuild an event from a spool payload."""
    data: dict[str, Any] = orjson.loads(payload)
    return LogEvent(
        timestamp_ns=int(data["t"]),
        level=round_level(int(data["l"])),
        template=str(data["m"]),
        properties=dict(data.get("p") or {}),
        exception=data.get("x"),
        logger=str(data.get("g") or ""),
        task=str(data.get("k") or ""),
    )


def unreadable_record(path: str, error: Exception) -> LogEvent:
    """The error event replayed in place of a record that cannot be decoded."""
    return LogEvent(
        timestamp_ns=time.time_ns(),
        level=Level.ERROR,
        template="logactors: a spooled event in {spool} could not be read back ({error})",
        properties={"spool": path, "error": f"{type(error).__name__}: {error}"},
        logger="logactors",
    )


def frame(payload: bytes) -> bytes:
    """A record: header (length, crc32) and payload."""
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


class Spool:
    """One sink's spool (see the module docstring)."""

    def __init__(self, config: SpoolConfig, report: Callable[[str], None]) -> None:
        self.path = config.path
        self.cursor_path = config.path + ".cursor"
        self.max_bytes = config.max_bytes
        self.fsync = config.fsync
        self._report = report
        self._lock = threading.Lock()
        self._fd = -1
        self._cursor = len(MAGIC)
        self._end = len(MAGIC)
        self._pending: list[int] = []  # end offsets of records handed out by read()
        #: live records on disk
        self.depth = 0
        #: records a previous run left (found at open)
        self.inherited = 0
        #: records discarded at open because they were torn or corrupt
        self.corrupt = 0

    # -- lifecycle -------------------------------------------------------------------------------

    def open(self) -> None:
        """Open (or create) the spool and validate what is on disk."""
        with self._lock:
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
            size = os.fstat(self._fd).st_size
            if size < len(MAGIC) or os.pread(self._fd, len(MAGIC), 0) != MAGIC:
                if size:
                    self._report(f"spool {self.path}: not a spool file; starting it anew")
                os.ftruncate(self._fd, 0)
                os.pwrite(self._fd, MAGIC, 0)
                size = len(MAGIC)
                self._write_cursor(len(MAGIC))
            self._cursor = self._read_cursor(size)
            count, end = self._scan(self._cursor, size)
            if end < size:
                self._report(
                    f"spool {self.path}: {size - end} bytes of torn or corrupt records at the "
                    "end were skipped"
                )
                os.ftruncate(self._fd, end)
                self.corrupt += 1
            self._end = end
            self.depth = count
            self.inherited = count

    def close(self) -> None:
        """Close the file (the data stays on disk for the next run)."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    # -- writing ---------------------------------------------------------------------------------

    def append(self, events: Sequence[LogEvent]) -> int:
        """Append ``events``; returns how many old records were dropped to stay in bounds."""
        data = b"".join(frame(encode_event(e)) for e in events)
        with self._lock:
            dropped = self._make_room(len(data))
            os.pwrite(self._fd, data, self._end)
            self._end += len(data)
            self.depth += len(events)
            if self.fsync:
                os.fsync(self._fd)
            return dropped

    def _make_room(self, incoming: int) -> int:
        dropped = 0
        limit = self.max_bytes
        cursor = self._cursor
        floor = self._pending[-1] if self._pending else cursor
        while self._end - cursor + incoming > limit and cursor < self._end:
            if self._pending and cursor < floor:
                break  # never drop records being replayed
            header = os.pread(self._fd, _HEADER.size, cursor)
            if len(header) < _HEADER.size:
                break
            length, _ = _HEADER.unpack(header)
            cursor += _HEADER.size + length
            dropped += 1
        if dropped:
            self._cursor = cursor
            self.depth -= dropped
            self._write_cursor(cursor)
            if self.depth == 0:
                self._reset()
            elif not self._pending and self._cursor - len(MAGIC) > limit // 2:
                self._compact()
        return dropped

    # -- replay ----------------------------------------------------------------------------------

    def read(self, limit: int) -> list[LogEvent]:
        """Read up to ``limit`` of the oldest records without consuming them (see commit)."""
        with self._lock:
            events: list[LogEvent] = []
            self._pending = []
            offset = self._cursor
            while len(events) < limit and offset < self._end:
                header = os.pread(self._fd, _HEADER.size, offset)
                length, crc = _HEADER.unpack(header)
                payload = os.pread(self._fd, length, offset + _HEADER.size)
                offset += _HEADER.size + length
                self._pending.append(offset)
                try:
                    if zlib.crc32(payload) != crc:
                        raise ValueError("checksum mismatch")
                    events.append(decode_event(payload))
                except Exception as exc:  # replay a visible stand-in: one record, one event
                    self._report(f"spool {self.path}: unreadable record at offset {offset}")
                    events.append(unreadable_record(self.path, exc))
            return events

    def commit(self, count: int) -> int:
        """Consume the first ``count`` records returned by the last ``read``; returns how many
        were consumed (fewer if some were already dropped)."""
        with self._lock:
            if count <= 0 or not self._pending:
                self._pending = []
                return 0
            target = self._pending[min(count, len(self._pending)) - 1]
            consumed = sum(1 for end in self._pending[:count] if end > self._cursor)
            self._pending = []
            self._cursor = max(self._cursor, target)
            self.depth -= consumed
            if self.depth <= 0:
                self.depth = 0
                self._reset()
            else:
                self._write_cursor(self._cursor)
                dead = self._cursor - len(MAGIC)
                if dead > self.max_bytes // 2 or (
                    dead > _COMPACT_MIN and dead > self._end - self._cursor
                ):
                    self._compact()
            return consumed

    def release(self) -> None:
        """Forget the last ``read`` without consuming it (the write failed)."""
        with self._lock:
            self._pending = []

    # -- internals -------------------------------------------------------------------------------

    def _reset(self) -> None:
        os.ftruncate(self._fd, len(MAGIC))
        self._cursor = self._end = len(MAGIC)
        self._write_cursor(len(MAGIC))

    def _compact(self) -> None:
        live = self._end - self._cursor
        tmp = self.path + ".compact"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o640)
        try:
            os.write(fd, MAGIC)
            offset = self._cursor
            while offset < self._end:
                chunk = os.pread(self._fd, min(1 << 20, self._end - offset), offset)
                os.write(fd, chunk)
                offset += len(chunk)
            if self.fsync:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        self._write_cursor(len(MAGIC))  # cursor first: a crash here replays, never loses
        os.replace(tmp, self.path)
        os.close(self._fd)
        self._fd = fd
        self._cursor = len(MAGIC)
        self._end = len(MAGIC) + live

    def _read_cursor(self, size: int) -> int:
        try:
            with open(self.cursor_path, "rb") as f:
                raw = f.read()
            offset, crc = _CURSOR.unpack(raw)
            if zlib.crc32(raw[:8]) != crc:
                raise ValueError("cursor checksum mismatch")
        except FileNotFoundError:
            return len(MAGIC)
        except (OSError, ValueError, struct.error) as exc:
            self._report(f"spool {self.path}: cursor unreadable ({exc}); replaying from start")
            return len(MAGIC)
        if not len(MAGIC) <= offset <= size:
            self._report(f"spool {self.path}: cursor out of range; replaying from start")
            return len(MAGIC)
        return int(offset)

    def _write_cursor(self, offset: int) -> None:
        packed = struct.pack("<Q", offset)
        raw = packed + struct.pack("<I", zlib.crc32(packed))
        tmp = self.cursor_path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(raw)
            if self.fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, self.cursor_path)

    def _scan(self, start: int, size: int) -> tuple[int, int]:
        """Count valid records from ``start``; return (count, end of the valid data)."""
        count = 0
        offset = start
        while offset + _HEADER.size <= size:
            length, crc = _HEADER.unpack(os.pread(self._fd, _HEADER.size, offset))
            if offset + _HEADER.size + length > size:
                break
            payload = os.pread(self._fd, length, offset + _HEADER.size)
            if zlib.crc32(payload) != crc:
                break
            offset += _HEADER.size + length
            count += 1
        return count, offset
