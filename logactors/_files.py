"""The one way logactors opens and creates its own files (spool, spool cursor, log files).

* A symbolic link at the path is refused (``O_NOFOLLOW``), never followed: a link planted where
  the library writes cannot redirect its writes to another file. Directories above the last
  path component are followed as usual.
* A file the library creates gets ``mode`` exactly (``0o640`` by default), whatever the process
  umask (``os.fchmod`` after the open); an existing file keeps its mode.
* Files replaced as a whole (the spool's cursor, its compacted copy) are written to a new
  temporary file beside the target, created exclusively (``O_EXCL``, a fresh random name: no
  file or link already there is ever opened or removed), then renamed over the target.

Whether an existing file is the library's to take over is the caller's check (the spool checks
its magic); :class:`UnsafeFileError` is what it raises when not.
"""

from __future__ import annotations

import errno
import os
import tempfile
from typing import Final

__all__ = ["DEFAULT_MODE", "UnsafeFileError", "create_temporary", "open_file", "replace_file"]

#: the mode of every file the library creates, unless configured otherwise
DEFAULT_MODE: Final = 0o640


class UnsafeFileError(OSError):
    """A file the library will not open: a symbolic link, or a file that is not its own."""


def _refuse_link(path: str, exc: OSError) -> UnsafeFileError:
    return UnsafeFileError(
        errno.ELOOP,
        f"{path} is a symbolic link; logactors does not follow links to the files it writes "
        "(give the real path)",
        path,
    )


def open_file(path: str, flags: int, *, mode: int = DEFAULT_MODE) -> tuple[int, bool]:
    """Open ``path`` (created if missing) without following a symbolic link.

    Args:
        path: the file.
        flags: ``os.O_*`` access flags (``O_RDWR``, ``O_WRONLY | O_APPEND`` …); ``O_CREAT``,
            ``O_NOFOLLOW`` and ``O_CLOEXEC`` are added.
        mode: the permission bits of a file this call creates (the umask does not apply).

    Returns:
        (the file descriptor, whether this call created the file).

    Raises:
        UnsafeFileError: ``path`` is a symbolic link.
        OSError: the file cannot be opened.
    """
    base = flags | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(3):  # the file may come and go between the two opens
        try:
            fd = os.open(path, base | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            pass
        else:
            try:
                os.fchmod(fd, mode)
            except BaseException:
                os.close(fd)
                raise
            return fd, True
        try:
            return os.open(path, base), False
        except FileNotFoundError:
            continue
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise _refuse_link(path, exc) from None
            raise
    raise FileNotFoundError(errno.ENOENT, f"{path} keeps disappearing while being opened", path)


def create_temporary(path: str, *, mode: int = DEFAULT_MODE) -> tuple[int, str]:
    """Create a new temporary file beside ``path`` (same directory, so it can be renamed over
    ``path``), read-write, with ``mode`` exactly.

    Returns:
        (the file descriptor, the temporary file's path: ``<path>.<random>.tmp``).
    """
    directory, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix=name + ".", suffix=".tmp", dir=directory or ".")
    try:
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    return fd, tmp


def replace_file(path: str, data: bytes, *, mode: int = DEFAULT_MODE, fsync: bool = False) -> None:
    """Replace ``path`` with a file holding ``data``, atomically (temporary file + rename)."""
    fd, tmp = create_temporary(path, mode=mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, path)
