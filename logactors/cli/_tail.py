"""Reading files line by line while they grow, and following them across rotation.

:class:`Tail` keeps one file open and remembers its identity (device and inode): a path that
now names another file (renamed away and recreated, as logrotate and logactors' own rolling
do) or a file that shrank (truncated in place, ``copytruncate``) counts as rotated. A line
without its newline yet is held back until it is complete, or until the caller asks for
everything (``final=True``).

:class:`Follower` is one step of ``--follow`` over several tails (:meth:`Follower.poll`). When a
tail's file was replaced it drains the old file, then reads every file rolled since it last
looked that it has not read yet, oldest first, then the new file: however many rolls happened
between two polls, every rolled file is read exactly once, in order. Rolled files are the
path's siblings named as logactors' FileSink (``app.20261123.clef``, ``app.20261123.1.clef``)
or logrotate (``app.clef.1``, ``app.clef-20261123``) name them, not compressed ones. What was
read is remembered per file identity as the number of bytes consumed, so a rolled file that
still grows (a writer holding it open) is read on from where it was left, and a file that
reuses the inode of a deleted one (smaller than what was read) is read from its start. The
file replaced last stays open until the next replacement: a writer that still holds it can
finish its last line there (a partial line is never cut in two). Files already rolled when
following starts count as read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from typing import IO, Final

__all__ = ["Follower", "Line", "Tail"]

#: (the file's path, the line number in that file, the line's bytes without ``\n``)
Line = tuple[str, int, bytes]
Identity = tuple[int, int]

_CHUNK: Final = 1 << 20


class Tail:
    """One file being read line by line, possibly while it grows or rotates."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = os.path.basename(path) or path
        self.file: IO[bytes] | None = None
        self.identity: Identity = (-1, -1)
        self.lineno = 0
        self.seen = 0
        self._partial = b""

    def open(self, offset: int = 0) -> None:
        """Open (or reopen) the path and start at ``offset`` (its beginning by default).

        Raises:
            OSError: it cannot be opened.
        """
        file = open(self.path, "rb")  # noqa: SIM115 - kept open while following
        if self.file is not None:
            self.file.close()
        st = os.fstat(file.fileno())
        if offset:
            file.seek(offset)
        self.file = file
        self.identity = (st.st_dev, st.st_ino)
        self.lineno = 0
        self._partial = b""

    def close(self) -> None:
        """Close the file."""
        if self.file is not None:
            self.file.close()
            self.file = None

    def take(self, fresh: Tail) -> Tail:
        """Continue with ``fresh``'s open file (the path's new file); returns a tail that
        holds the file read so far, where it was left (a held-back partial line included)."""
        old = Tail(self.path)
        old.file, old.identity, old.lineno, old._partial = (
            self.file,
            self.identity,
            self.lineno,
            self._partial,
        )
        self.file, self.identity, self.lineno, self._partial = fresh.file, fresh.identity, 0, b""
        fresh.file = None
        return old

    @property
    def consumed(self) -> int:
        """Bytes of the open file handed out as lines (a held-back partial line excluded)."""
        if self.file is None:
            return 0
        return self.file.tell() - len(self._partial)

    def read_lines(self, *, final: bool) -> Iterator[tuple[int, bytes]]:
        """Complete lines available now (``final``: the unterminated tail counts as a line)."""
        file = self.file
        if file is None:
            return
        while True:
            chunk = file.read(_CHUNK)
            if not chunk:
                break
            lines = (self._partial + chunk).split(b"\n")
            self._partial = lines.pop()
            for line in lines:
                self.lineno += 1
                self.seen += 1
                yield self.lineno, line
        if final and self._partial:
            self.lineno += 1
            self.seen += 1
            line, self._partial = self._partial, b""
            yield self.lineno, line

    def lines(self, *, final: bool) -> Iterator[Line]:
        """:meth:`read_lines` with this file's path."""
        path = self.path
        for lineno, line in self.read_lines(final=final):
            yield path, lineno, line

    def rotated(self) -> bool:
        """Whether the path now names another file, or the file shrank (truncated)."""
        if self.file is None:
            return os.path.exists(self.path)
        try:
            st = os.stat(self.path)
        except OSError:
            return False  # moved away and not yet recreated: keep reading the old one
        if (st.st_dev, st.st_ino) != self.identity:
            return True
        return st.st_size < self.file.tell()


def _identity(st: os.stat_result) -> Identity:
    return st.st_dev, st.st_ino


class _Siblings:
    """Which names in a tail's directory are its rolled files, and in which order."""

    def __init__(self, path: str) -> None:
        self.directory = os.path.dirname(path) or "."
        self.base = os.path.basename(path)
        stem, suffix = os.path.splitext(self.base)
        # logactors' FileSink: stem.YYYYMMDD[HH][.N]suffix
        self._rolled = re.compile(
            rf"^{re.escape(stem)}\.(\d{{8}}(?:\d{{2}})?)(?:\.(\d+))?{re.escape(suffix)}$"
        )
        # logrotate: base.N (newest is 1), or base-DATE / base.DATE (``dateext``); nothing
        # else that starts with the name (a spool, its cursor, temporary files)
        self._numbered = re.compile(rf"^{re.escape(self.base)}\.(\d+)$")
        self._dated = re.compile(rf"^{re.escape(self.base)}[-.]\d[\d_.:T+-]*$")

    def matches(self, name: str) -> bool:
        """Whether ``name`` is one of the path's rolled files."""
        return bool(self._rolled.match(name) or self._dated.match(name))

    def order(self, name: str) -> tuple[int, str, int]:
        """Oldest first among names whose modification times are equal (coarse clocks)."""
        match = self._rolled.match(name)
        if match:
            return 0, match.group(1).ljust(10, "0"), int(match.group(2) or 0)
        match = self._numbered.match(name)
        if match:
            return 1, "", -int(match.group(1))
        return 2, name, 0

    def scan(self) -> list[tuple[str, os.stat_result]]:
        """The rolled files present now, with their stat (regular files only)."""
        found: list[tuple[str, os.stat_result]] = []
        try:
            names = os.listdir(self.directory)
        except OSError:
            return found
        for name in names:
            if not self.matches(name):
                continue
            path = os.path.join(self.directory, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            if os.path.isfile(path):
                found.append((path, st))
        return found


class Follower:
    """One ``--follow`` step at a time over several tails (see the module docstring)."""

    def __init__(self, tails: Iterable[Tail]) -> None:
        self.tails = list(tails)
        self._siblings = {tail.path: _Siblings(tail.path) for tail in self.tails}
        #: per followed path: rolled file identity -> bytes already read (or counted as read)
        self._consumed: dict[str, dict[Identity, int]] = {
            path: {_identity(st): st.st_size for _, st in siblings.scan()}
            for path, siblings in self._siblings.items()
        }
        #: per followed path: the file replaced last, kept open while its writer may still
        #: finish a line in it (until the next replacement, or the end)
        self._previous: dict[str, Tail] = {}

    def poll(self) -> list[Iterator[Line]]:
        """The new lines of each tail, one iterator per tail, each in file order.

        Consume every iterator before the next poll; each reads lazily (rotation is detected
        when its first line is asked for).
        """
        return [self._poll(tail) for tail in self.tails]

    def finish(self) -> list[Iterator[Line]]:
        """What is left, unterminated last lines included (at exit)."""
        return [self._finish(tail) for tail in self.tails]

    def close(self) -> None:
        """Close the replaced files still open (the tails are closed by their owner)."""
        for previous in self._previous.values():
            previous.close()
        self._previous.clear()

    def _finish(self, tail: Tail) -> Iterator[Line]:
        previous = self._previous.pop(tail.path, None)
        if previous is not None:
            yield from previous.lines(final=True)
            previous.close()
        yield from tail.lines(final=True)

    def _poll(self, tail: Tail) -> Iterator[Line]:
        known = self._consumed[tail.path]
        previous = self._previous.get(tail.path)
        if previous is not None and (tail.file is None or not tail.rotated()):
            yield from previous.lines(final=False)
            known[previous.identity] = previous.consumed
        if tail.file is None:
            if os.path.exists(tail.path):
                try:
                    tail.open()
                except OSError:
                    return
                yield from tail.lines(final=False)
            return
        if not tail.rotated():
            yield from tail.lines(final=False)
            return
        fresh = Tail(tail.path)
        try:
            fresh.open()
        except OSError:
            return  # gone again between the two looks: keep reading the old file
        if fresh.identity == tail.identity:  # truncated in place: read it again from the start
            fresh.close()
            yield from tail.lines(final=True)
            tail.open()
            yield from tail.lines(final=False)
            return
        if previous is not None:  # replaced again: the file replaced before is done
            del self._previous[tail.path]
            yield from previous.lines(final=True)
            known[previous.identity] = previous.consumed
            previous.close()
        # What was written to the old file before it was replaced; it stays open a while.
        old = tail.take(fresh)
        yield from old.lines(final=False)
        known[old.identity] = old.consumed
        self._previous[tail.path] = old
        yield from self._rolled_since(self._siblings[tail.path], known)
        yield from tail.lines(final=False)

    def _rolled_since(self, siblings: _Siblings, known: dict[Identity, int]) -> Iterator[Line]:
        """Rolled files not read yet (or grown since), oldest first."""
        following = {tail.identity for tail in self.tails if tail.file is not None}
        following.update(previous.identity for previous in self._previous.values())
        present: set[Identity] = set()
        unread: list[tuple[int, tuple[int, str, int], str, Identity, int]] = []
        for path, st in siblings.scan():
            identity = _identity(st)
            present.add(identity)
            if identity in following:
                continue
            done = known.get(identity)
            if done is None or st.st_size < done:
                start = 0  # new, or another file that reuses a deleted file's inode
            elif st.st_size > done:
                start = done  # a writer still appended to it after it was rolled
            else:
                continue
            name = os.path.basename(path)
            unread.append((st.st_mtime_ns, siblings.order(name), path, identity, start))
        for stale in set(known) - present - following:
            del known[stale]
        for _, _, path, identity, start in sorted(unread):
            reader = Tail(path)
            try:
                reader.open(start)
            except OSError:
                continue
            if reader.identity != identity:  # replaced between the scan and the open
                reader.close()
                continue
            try:
                yield from reader.lines(final=True)
                known[identity] = reader.consumed
            finally:
                reader.close()
