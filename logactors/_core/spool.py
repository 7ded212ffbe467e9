"""The spool: an append-only on-disk store of events a sink could not write.

Layout: the data file at ``path`` and a cursor file at ``path + ".cursor"``.

* Data file: the 8-byte magic ``LASPOOL2``, then records, each
  ``<sync 4><u32 length><u32 crc32(length + payload)>`` followed by the payload (one event as
  JSON). The sync bytes ``ff fe 4c 52`` never occur inside a payload (JSON is UTF-8, where
  ``ff`` and ``fe`` never appear), so after damage the next record is found again by its sync
  bytes, a length that fits and a matching checksum.
* Damage loses only what it touches. At open, a damaged stretch between intact records is
  skipped (the records before and after it are replayed) and counted as lost records (one per
  sync marker in it, at least one: ``corrupt``, reported as ``spool_dropped``); a torn or
  damaged tail after the last intact record is cut off. A damaged magic is rewritten when
  intact records follow it. The file is never truncated while it holds intact records.
  Damage that appears while the spool is open is found by ``read``: each lost record is
  replayed as an error event that says so (the sink's counts stay exact).
* A file at ``path`` that is not a spool (no magic, no intact record) is never overwritten:
  ``open`` raises :class:`~logactors._files.UnsafeFileError`; so does a symbolic link at
  ``path``. Files are created with ``SpoolConfig.file_mode`` (0o640), whatever the umask.
* Cursor file: the byte offset of the first record not yet replayed, and its crc32; replaced
  atomically (exclusive temporary file + rename; a large file at the cursor path is someone
  else's and is refused like a foreign spool), so a crash leaves either the old or the new
  cursor. A record is replayed at least once: a crash between the sink's write and the cursor
  update replays it again. A spool in the previous format (``LASPOOL1``) is converted at open.

The spool keeps at most ``max_bytes`` of live records: appending past it drops the oldest
records (counted as ``spool_dropped``), except those being replayed at that moment (the bound
may be exceeded by what arrives during one replay write). Consumed and dropped records are
reclaimed by compaction (rewriting the live records) once they exceed half of ``max_bytes``, so
the file stays under 1.5 x ``max_bytes``. All methods are blocking and thread-safe; actors
call them through ``trio.to_thread.run_sync``.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson

from .._events import LogEvent
from .._files import UnsafeFileError, create_temporary, open_file, replace_file
from .._json import dumps
from .._levels import Level, round_level
from ..config import SpoolConfig

MAGIC: Final = b"LASPOOL2"
LEGACY_MAGIC: Final = b"LASPOOL1"
SYNC: Final = b"\xff\xfeLR"
_HEADER: Final = struct.Struct("<4sII")
_LENGTH: Final = struct.Struct("<I")
_LEGACY_HEADER: Final = struct.Struct("<II")
_CURSOR: Final = struct.Struct("<QI")
_COMPACT_MIN: Final = 1 << 20
_CHUNK: Final = 1 << 20


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
    """A record: header (sync, length, crc32 of length and payload) and payload."""
    length = _LENGTH.pack(len(payload))
    return SYNC + length + _LENGTH.pack(zlib.crc32(payload, zlib.crc32(length))) + payload


def lost_record(path: str, offset: int) -> LogEvent:
    """The error event replayed in place of a record damaged while the spool was open."""
    return LogEvent(
        timestamp_ns=time.time_ns(),
        level=Level.ERROR,
        template="logactors: a spooled event in {spool} was damaged on disk and is lost "
        "(at offset {offset})",
        properties={"spool": path, "offset": offset},
        logger="logactors",
    )


class Spool:
    """One sink's spool (see the module docstring)."""

    def __init__(self, config: SpoolConfig, report: Callable[[str], None]) -> None:
        self.path = config.path
        self.cursor_path = config.path + ".cursor"
        self.max_bytes = config.max_bytes
        self.fsync = config.fsync
        self.mode = config.file_mode
        self._report = report
        self._lock = threading.Lock()
        self._fd = -1
        self._cursor = len(MAGIC)
        self._end = len(MAGIC)
        self._pending: list[int] = []  # end offsets of the events handed out by read()
        # damaged stretches found at open: start -> offset of the next intact record
        self._gaps: dict[int, int] = {}
        #: live records on disk
        self.depth = 0
        #: records a previous run left (found at open), damaged ones included
        self.inherited = 0
        #: records found damaged at open and skipped (each damaged stretch counts the sync
        #: markers in it, at least one); the sink counts them in ``spool_dropped``, so the
        #: spool ledger (spooled + inherited == replayed + dropped + depth) holds
        self.corrupt = 0

    # -- lifecycle -------------------------------------------------------------------------------

    def open(self) -> None:
        """Open (or create) the spool and validate what is on disk.

        Raises:
            UnsafeFileError: ``path`` is a symbolic link, or a file that is not a spool.
            OSError: the file cannot be opened or read.
        """
        with self._lock:
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self._fd, _ = open_file(self.path, os.O_RDWR, mode=self.mode)
            try:
                self._open_locked()
            except BaseException:
                os.close(self._fd)
                self._fd = -1
                raise

    def _open_locked(self) -> None:
        size = os.fstat(self._fd).st_size
        head = os.pread(self._fd, len(MAGIC), 0)
        if head == LEGACY_MAGIC:
            self._convert_legacy(size)
            size = os.fstat(self._fd).st_size
        elif head != MAGIC:
            if size <= len(MAGIC) and MAGIC.startswith(head):
                pass  # new, or torn while its magic was written: ours
            elif self._resync(len(MAGIC) - 1, size)[0] < size:  # an intact record from 8 on
                self._report(f"spool {self.path}: damaged header rewritten; records kept")
            else:
                raise UnsafeFileError(
                    errno.EEXIST,
                    f"{self.path} exists and is not a logactors spool; refusing to overwrite it "
                    "(remove it or choose another spool path)",
                    self.path,
                )
            if size <= len(MAGIC):
                self._read_cursor(len(MAGIC))  # refuses a foreign file at the cursor path
            os.pwrite(self._fd, MAGIC, 0)
            if size <= len(MAGIC):
                size = len(MAGIC)
                self._write_cursor(len(MAGIC))
        self._cursor = self._read_cursor(size)
        count, end, lost = self._scan(self._cursor, size)
        if end < size:
            tail_lost = max(1, self._count_syncs(end, size))
            self._report(
                f"spool {self.path}: {size - end} bytes of torn or damaged records after the "
                f"last intact record were cut off ({tail_lost} record(s) lost)"
            )
            os.ftruncate(self._fd, end)
            lost += tail_lost
        if self._gaps:
            self._report(
                f"spool {self.path}: {len(self._gaps)} damaged stretch(es) skipped "
                f"({sum(b - a for a, b in self._gaps.items())} bytes); the intact records "
                "around them are kept"
            )
        self._end = end
        self.depth = count
        self.inherited = count + lost
        self.corrupt += lost

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
            gap = self._gaps.get(cursor)
            if gap is not None:
                cursor = gap  # counted at open
                continue
            record = self._record_at(cursor, self._end)
            if record is None:  # damaged since open: skip it, counting what it held
                after, syncs = self._resync(cursor, self._end)
                cursor = after
                dropped += max(1, syncs)
                continue
            cursor = record[0]
            dropped += 1
        if dropped or cursor != self._cursor:
            self._cursor = cursor
            self.depth = max(0, self.depth - dropped)
            self._write_cursor(cursor)
            if self._cursor >= self._end:
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
                gap = self._gaps.get(offset)
                if gap is not None:
                    offset = gap
                    continue
                record = self._record_at(offset, self._end)
                if record is None:  # damaged since open: one error event per lost record
                    after, syncs = self._resync(offset, self._end)
                    self._report(
                        f"spool {self.path}: {after - offset} damaged bytes at offset {offset}"
                    )
                    for _ in range(max(1, syncs)):
                        events.append(lost_record(self.path, offset))
                        self._pending.append(after)
                    offset = after
                    continue
                offset, payload = record
                self._pending.append(offset)
                try:
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
            self.depth = max(0, self.depth - consumed)
            if self._cursor >= self._end:
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

    # -- records on disk -------------------------------------------------------------------------

    def _record_at(self, offset: int, end: int) -> tuple[int, bytes] | None:
        """The intact record at ``offset`` as (its end, its payload), or None."""
        if offset + _HEADER.size > end:
            return None
        sync, length, crc = _HEADER.unpack(os.pread(self._fd, _HEADER.size, offset))
        after = offset + _HEADER.size + length
        if sync != SYNC or after > end:
            return None
        payload = os.pread(self._fd, length, offset + _HEADER.size)
        if len(payload) != length or zlib.crc32(payload, zlib.crc32(_LENGTH.pack(length))) != crc:
            return None
        return after, payload

    def _resync(self, offset: int, end: int) -> tuple[int, int]:
        """After damage at ``offset``: the start of the next intact record (``end`` if none),
        and the sync markers passed on the way (the records the damage cost, or one fewer)."""
        syncs = 0
        position = offset
        while position < end:
            chunk = os.pread(self._fd, min(_CHUNK, end - position), position)
            if not chunk:
                break
            found = chunk.find(SYNC)
            while found != -1:
                candidate = position + found
                if candidate > offset and self._record_at(candidate, end) is not None:
                    return candidate, syncs
                syncs += 1
                found = chunk.find(SYNC, found + 1)
            if position + len(chunk) >= end:
                break
            position += len(chunk) - (len(SYNC) - 1)  # a marker may straddle two chunks
        return end, syncs

    def _count_syncs(self, start: int, end: int) -> int:
        return self._resync(start, end)[1]

    def _scan(self, start: int, size: int) -> tuple[int, int, int]:
        """Walk the records from ``start``: (intact records, end of the last one, records
        lost in damaged stretches between intact ones); the stretches go to ``_gaps``."""
        self._gaps = {}
        count = lost = 0
        offset = end = start
        while offset < size:
            record = self._record_at(offset, size)
            if record is not None:
                offset = end = record[0]
                count += 1
                continue
            after, syncs = self._resync(offset, size)
            if after >= size:
                break  # no intact record after: a torn or damaged tail
            self._gaps[offset] = after
            lost += max(1, syncs)
            offset = after
        return count, end, lost

    # -- internals -------------------------------------------------------------------------------

    def _reset(self) -> None:
        os.ftruncate(self._fd, len(MAGIC))
        self._cursor = self._end = len(MAGIC)
        self._gaps = {}
        self._write_cursor(len(MAGIC))

    def _live_ranges(self) -> list[tuple[int, int]]:
        """Byte ranges of the records from the cursor to the end, known damage left out."""
        ranges: list[tuple[int, int]] = []
        offset = self._cursor
        for start, after in sorted(self._gaps.items()):
            if after <= offset:
                continue
            if start > offset:
                ranges.append((offset, start))
            offset = max(offset, after)
        if offset < self._end:
            ranges.append((offset, self._end))
        return ranges

    def _compact(self) -> None:
        fd, tmp = create_temporary(self.path, mode=self.mode)
        live = 0
        try:
            os.write(fd, MAGIC)
            for offset, stop in self._live_ranges():
                while offset < stop:
                    chunk = os.pread(self._fd, min(_CHUNK, stop - offset), offset)
                    if not chunk:
                        break
                    os.write(fd, chunk)
                    offset += len(chunk)
                    live += len(chunk)
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
        self._gaps = {}
        self._cursor = len(MAGIC)
        self._end = len(MAGIC) + live

    def _convert_legacy(self, size: int) -> None:
        """Rewrite a ``LASPOOL1`` spool (records without sync bytes) in the current format."""
        offset = self._read_cursor(size)
        frames: list[bytes] = []
        while offset + _LEGACY_HEADER.size <= size:
            length, crc = _LEGACY_HEADER.unpack(os.pread(self._fd, _LEGACY_HEADER.size, offset))
            if offset + _LEGACY_HEADER.size + length > size:
                break
            payload = os.pread(self._fd, length, offset + _LEGACY_HEADER.size)
            if zlib.crc32(payload) != crc:
                break
            frames.append(frame(payload))
            offset += _LEGACY_HEADER.size + length
        if offset < size:
            self._report(f"spool {self.path}: {size - offset} bytes unreadable in the old format")
        self._report(f"spool {self.path}: converted {len(frames)} records from {LEGACY_MAGIC!r}")
        fd, tmp = create_temporary(self.path, mode=self.mode)
        try:
            os.write(fd, MAGIC + b"".join(frames))
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        self._write_cursor(len(MAGIC))
        os.replace(tmp, self.path)
        os.close(self._fd)
        self._fd = fd

    def _read_cursor(self, size: int) -> int:
        try:
            fd = os.open(
                self.cursor_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
            )
        except FileNotFoundError:
            return len(MAGIC)
        except OSError as exc:
            self._report(f"spool {self.path}: cursor not opened ({exc}); replaying from start")
            return len(MAGIC)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > 64:
                raise UnsafeFileError(
                    errno.EEXIST,
                    f"{self.cursor_path} exists and is not a spool cursor; refusing to overwrite "
                    "it (remove it or choose another spool path)",
                    self.cursor_path,
                )
            raw = os.read(fd, _CURSOR.size + 1)
            offset, crc = _CURSOR.unpack(raw)
            if zlib.crc32(raw[:8]) != crc:
                raise ValueError("cursor checksum mismatch")
        except UnsafeFileError:
            raise
        except (OSError, ValueError, struct.error) as exc:
            self._report(f"spool {self.path}: cursor unreadable ({exc}); replaying from start")
            return len(MAGIC)
        finally:
            os.close(fd)
        if not len(MAGIC) <= offset <= size:
            self._report(f"spool {self.path}: cursor out of range; replaying from start")
            return len(MAGIC)
        return int(offset)

    def _write_cursor(self, offset: int) -> None:
        packed = struct.pack("<Q", offset)
        raw = packed + struct.pack("<I", zlib.crc32(packed))
        replace_file(self.cursor_path, raw, mode=self.mode, fsync=self.fsync)
