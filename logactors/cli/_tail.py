"""Reading a file line by line while it grows, and noticing when it is rotated.

:class:`Tail` keeps the file open and remembers its identity (device and inode): a path that
now names another file (renamed away and recreated, as logrotate and logactors' own rolling
do) or a file that shrank (truncated in place, ``copytruncate``) counts as rotated; the caller
drains the old file, then reopens. A line without its newline yet is held back until it is
complete, or until the caller asks for everything (``final=True``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO

__all__ = ["Tail"]


class Tail:
    """One file being read line by line, possibly while it grows or rotates."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = os.path.basename(path) or path
        self.file: IO[bytes] | None = None
        self.identity: tuple[int, int] = (-1, -1)
        self.lineno = 0
        self.seen = 0
        self._partial = b""

    def open(self) -> None:
        """Open (or reopen) the path and start at its beginning.

        Raises:
            OSError: it cannot be opened.
        """
        file = open(self.path, "rb")  # noqa: SIM115 - kept open while following
        if self.file is not None:
            self.file.close()
        st = os.fstat(file.fileno())
        self.file = file
        self.identity = (st.st_dev, st.st_ino)
        self.lineno = 0
        self._partial = b""

    def close(self) -> None:
        """Close the file."""
        if self.file is not None:
            self.file.close()
            self.file = None

    def read_lines(self, *, final: bool) -> Iterator[tuple[int, bytes]]:
        """Complete lines available now (``final``: the unterminated tail counts as a line)."""
        file = self.file
        if file is None:
            return
        while True:
            chunk = file.read(1 << 20)
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
