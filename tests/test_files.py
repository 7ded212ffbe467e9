"""Safe file opening: symlinks refused, foreign files kept, exclusive temporaries, 0640 always."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

import logactors
from logactors import FileSink, Level, LogEvent, SpoolConfig
from logactors._core.spool import Spool
from logactors._files import UnsafeFileError, create_temporary, open_file, replace_file
from logactors.sinks.file import FileWriter


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def event(n: int) -> LogEvent:
    return LogEvent(1_700_000_000_000_000_000 + n, Level.INFO, "event {n}", {"n": n})


def test_open_file_creates_with_the_mode_whatever_the_umask(
    tmp_path: Path, umask_000: None
) -> None:
    """A created file is 0640 under umask 000; an existing file keeps its mode."""
    fd, created = open_file(str(tmp_path / "a"), os.O_WRONLY)
    os.close(fd)
    assert created and mode_of(tmp_path / "a") == 0o640
    (tmp_path / "b").write_bytes(b"x")
    os.chmod(tmp_path / "b", 0o600)
    fd, created = open_file(str(tmp_path / "b"), os.O_WRONLY)
    os.close(fd)
    assert not created and mode_of(tmp_path / "b") == 0o600
    fd, _ = open_file(str(tmp_path / "c"), os.O_WRONLY, mode=0o600)
    os.close(fd)
    assert mode_of(tmp_path / "c") == 0o600


def test_open_file_refuses_a_symlink(tmp_path: Path) -> None:
    """A link at the path, to a file or dangling, is refused; its target is untouched."""
    target = tmp_path / "target"
    target.write_bytes(b"precious")
    (tmp_path / "link").symlink_to(target)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for name in ("link", "dangling"):
        with pytest.raises(UnsafeFileError, match="symbolic link"):
            open_file(str(tmp_path / name), os.O_WRONLY | os.O_APPEND)
    assert target.read_bytes() == b"precious"
    assert not (tmp_path / "nowhere").exists()


def test_temporaries_are_exclusive_and_never_written_through(
    tmp_path: Path, umask_000: None
) -> None:
    """Temporaries get fresh names: a link planted at ``<path>.tmp`` is neither followed nor
    removed; the replaced file is 0640; no temporary is left behind."""
    target = tmp_path / "target"
    target.write_bytes(b"precious")
    (tmp_path / "f.tmp").symlink_to(target)
    replace_file(str(tmp_path / "f"), b"data")
    replace_file(str(tmp_path / "f"), b"data 2")
    assert (tmp_path / "f").read_bytes() == b"data 2"
    assert mode_of(tmp_path / "f") == 0o640
    assert target.read_bytes() == b"precious"
    assert os.path.islink(tmp_path / "f.tmp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "f.tmp", "target"]
    fd, tmp = create_temporary(str(tmp_path / "g"))
    os.close(fd)
    assert mode_of(Path(tmp)) == 0o640
    assert os.path.dirname(tmp) == str(tmp_path)


def test_spool_refuses_a_symlink_at_its_path(tmp_path: Path) -> None:
    """A spool path that is a link to a file is refused; the file keeps every byte."""
    target = tmp_path / "notes.txt"
    target.write_bytes(b"x" * 14_000)
    (tmp_path / "s").symlink_to(target)
    spool = Spool(SpoolConfig(path=str(tmp_path / "s")), lambda line: None)
    with pytest.raises(UnsafeFileError, match="symbolic link"):
        spool.open()
    assert target.read_bytes() == b"x" * 14_000


def test_spool_refuses_a_foreign_file(tmp_path: Path) -> None:
    """An existing non-empty file that is not a spool is refused, never overwritten."""
    target = tmp_path / "s"
    target.write_bytes(b"some text\n" * 1400)
    spool = Spool(SpoolConfig(path=str(target)), lambda line: None)
    with pytest.raises(UnsafeFileError, match="not a logactors spool"):
        spool.open()
    assert target.read_bytes() == b"some text\n" * 1400
    assert not (tmp_path / "s.cursor").exists()


def test_spool_cursor_tmp_symlink_is_not_written_through(tmp_path: Path) -> None:
    """A link at ``<spool>.cursor.tmp`` is replaced, never followed; a linked cursor is ignored."""
    target = tmp_path / "victim"
    target.write_bytes(b"precious")
    (tmp_path / "s.cursor.tmp").symlink_to(target)
    spool = Spool(SpoolConfig(path=str(tmp_path / "s")), lambda line: None)
    spool.open()
    spool.append([event(1), event(2)])
    spool.read(1)
    spool.commit(1)
    spool.close()
    assert target.read_bytes() == b"precious"
    assert not os.path.islink(tmp_path / "s.cursor")
    os.unlink(tmp_path / "s.cursor")
    (tmp_path / "s.cursor").symlink_to(target)
    lines: list[str] = []
    again = Spool(SpoolConfig(path=str(tmp_path / "s")), lines.append)
    again.open()
    assert any("cursor not opened" in line for line in lines)
    assert again.depth == 2  # replays from the start: at least once, never lost
    again.read(1)
    again.commit(1)
    assert target.read_bytes() == b"precious"
    assert not os.path.islink(tmp_path / "s.cursor")
    again.close()


def test_spool_files_are_0640_under_umask_000(tmp_path: Path, umask_000: None) -> None:
    """The spool, its cursor and its compacted copy are created 0640 whatever the umask."""
    spool = Spool(SpoolConfig(path=str(tmp_path / "s"), max_bytes=3000), lambda line: None)
    spool.open()
    spool.append([event(n) for n in range(30)])
    spool.read(25)
    spool.commit(25)  # compacts
    assert mode_of(tmp_path / "s") == 0o640
    assert mode_of(tmp_path / "s.cursor") == 0o640
    spool.close()
    other = Spool(SpoolConfig(path=str(tmp_path / "t"), file_mode=0o600), lambda line: None)
    other.open()
    assert mode_of(tmp_path / "t") == 0o600
    assert mode_of(tmp_path / "t.cursor") == 0o600
    other.close()


def test_spool_file_mode_is_validated() -> None:
    """``file_mode`` must be permission bits."""
    from logactors import ConfigError

    with pytest.raises(ConfigError, match="file_mode"):
        SpoolConfig(path="x", file_mode=0o1000).check()


def test_file_sink_refuses_a_symlink_and_creates_0640(tmp_path: Path, umask_000: None) -> None:
    """The file sink never opens a log path that is a link; its files are 0640 under umask 000."""
    target = tmp_path / "victim"
    target.write_bytes(b"precious")
    (tmp_path / "app.log").symlink_to(target)
    writer = FileWriter(FileSink(name="f", path=str(tmp_path / "app.log")))
    with pytest.raises(UnsafeFileError):
        trio.run(writer.open)
    assert target.read_bytes() == b"precious"
    ok = FileWriter(FileSink(name="g", path=str(tmp_path / "ok.log")))
    trio.run(ok.open)
    assert mode_of(tmp_path / "ok.log") == 0o640
    trio.run(ok.aclose)
    private = FileWriter(FileSink(name="p", path=str(tmp_path / "private.log"), file_mode=0o600))
    trio.run(private.open)
    assert mode_of(tmp_path / "private.log") == 0o600  # configurable, umask or not
    trio.run(private.aclose)
    with pytest.raises(logactors.ConfigError, match="file_mode"):
        FileSink(name="bad", path="x.log", file_mode=0o1777).check()


def test_logger_with_a_foreign_spool_file_says_so_and_keeps_it(tmp_path: Path) -> None:
    """At start, a spool path holding someone else's file: one self-log line, file untouched,
    the sink runs without its spool and its events are still counted."""
    from logactors import CustomSink, SupervisorConfig, open_logger

    from .helpers import RecordingSink, assert_balanced

    target = tmp_path / "notes.txt"
    target.write_bytes(b"keep me\n" * 1750)
    lines: list[str] = []
    sink = RecordingSink()

    async def run() -> None:
        config = SupervisorConfig(
            self_log=lines.append,
            sinks=[CustomSink(name="s", sink=sink, spool=SpoolConfig(path=str(target)))],
        )
        async with open_logger(config) as log:
            log.info("hello {n}", n=1)
            await log.flush()
            assert_balanced(log.metrics().sinks["s"])

    trio.run(run)
    assert target.read_bytes() == b"keep me\n" * 1750
    assert [line for line in lines if "not a logactors spool" in line]
    assert [e.properties["n"] for e in sink.events] == [1]


def test_spool_refuses_a_foreign_file_at_its_cursor_path(tmp_path: Path) -> None:
    """A large file at ``<spool>.cursor`` is not a cursor: refused, never replaced."""
    (tmp_path / "s.cursor").write_bytes(b"a diary\n" * 500)
    spool = Spool(SpoolConfig(path=str(tmp_path / "s")), lambda line: None)
    with pytest.raises(UnsafeFileError, match="not a spool cursor"):
        spool.open()
    assert (tmp_path / "s.cursor").read_bytes() == b"a diary\n" * 500


def test_spool_refuses_a_fifo_at_its_cursor_path(tmp_path: Path) -> None:
    """A FIFO at ``<spool>.cursor`` is refused at once (opened without blocking)."""
    os.mkfifo(tmp_path / "s.cursor")
    spool = Spool(SpoolConfig(path=str(tmp_path / "s")), lambda line: None)
    with pytest.raises(UnsafeFileError, match="not a spool cursor"):
        spool.open()
    assert stat.S_ISFIFO(os.lstat(tmp_path / "s.cursor").st_mode)
