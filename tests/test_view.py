"""Tests for ``logactors view``: reading logactors' and Serilog's CLEF and JSON lines, filters,
``--json``, malformed lines, colours and ``--follow`` across rotation."""

from __future__ import annotations

import argparse
import io
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

import logactors
from logactors import FileSink, SupervisorConfig
from logactors.cli import build_parser, main
from logactors.cli.view import View, Where, normalize

ANSI = "\x1b["

# A hand-written file in the shape Serilog's CompactJsonFormatter / RenderedCompactJsonFormatter
# write: @@-escaped properties, @r renderings of .NET formats, @x, missing @l, @m only.
SERILOG = [
    {
        "@t": "2024-03-01T10:15:30.1234567Z",
        "@mt": "Hello, {User}! Elapsed {Elapsed:000.0} ms",
        "@r": ["034.5"],
        "User": "nblumhardt",
        "Elapsed": 34.5,
        "SourceContext": "App.Program",
    },
    {
        "@t": "2024-03-01T10:15:31.0000000Z",
        "@mt": "Disk {Pct} full on {Machine}",
        "@l": "Warning",
        "Pct": 93.5,
        "Machine": "web-1",
        "@@type": "escaped",
        "Zone": "eu",
    },
    {
        "@t": "2024-03-01T10:15:32.5000000Z",
        "@m": "Order 42 failed",
        "@i": "a1b2c3d4",
        "@l": "Error",
        "@x": "System.InvalidOperationException: boom\r\n   at Shop.Pay()",
        "RequestId": "r-1",
        "Attempt": 2,
        "Retry": True,
    },
    {
        "@t": "2024-03-01T10:15:33.0000000Z",
        "@mt": "Position {@Pos} reached",
        "@l": "Debug",
        "Pos": {"Lat": 25, "Long": 134},
        "@tr": "4bf92f3577b34da6",
        "Ok": False,
    },
]


def run_view(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run ``logactors view`` in-process; returns (status, stdout, stderr)."""
    status = main(["view", "--color", "never", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write_serilog(path: Path, *, extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(obj) for obj in SERILOG]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


async def write_with_logactors(path: Path, fmt: str) -> Path:
    """Log a few representative events through a FileSink with ``fmt``."""
    config = SupervisorConfig(
        min_level="debug",
        properties={"app": "shop"},
        sinks=[FileSink(name="f", path=str(path), format=fmt)],
    )
    async with logactors.open_logger(config) as log:
        log.info("Charged {user} {amount:.2f} EUR", user="bob", amount=3.14159, order=7)
        log.debug("Cache {state}", state="warm")
        worker = log.bind(worker=3)
        with log.context(request_id="r-9"):
            worker.warning("Slow: {ms} ms", ms=250, note="line1\nline2")
        try:
            raise ZeroDivisionError("division by zero")
        except ZeroDivisionError:
            worker.exception("Payment {n} failed", n=2)
    return path


@pytest.mark.parametrize("fmt", ["clef", "json", "clef-rendered"])
async def test_renders_files_logactors_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """Every logactors JSON format renders as one aligned line per event, with levels, the
    message, extra properties and the exception indented below."""
    path = await write_with_logactors(tmp_path / f"app.{fmt}", fmt)
    status, out, err = run_view(capsys, path)
    assert status == 0
    assert err == ""
    lines = out.splitlines()
    events = [line for line in lines if not line.startswith("    ")]
    assert len(events) == 4
    assert [line[24:27] for line in events] == ["INF", "DBG", "WRN", "ERR"]
    assert all(line[4] == "-" and line[13] == ":" and line[23] == " " for line in events)
    assert "Charged bob 3.14 EUR" in events[0]
    assert "order=7" in events[0]
    assert "app=shop" in events[0]
    assert "Slow: 250 ms" in events[2]
    assert "request_id=r-9" in events[2] and "worker=3" in events[2]
    # A newline inside a value cannot forge a line.
    assert '"line1\\nline2"' in events[2]
    assert "Payment 2 failed" in events[3]
    block = lines[lines.index(events[3]) + 1 :]
    assert block[0] == "    Traceback (most recent call last):"
    assert block[-1] == "    ZeroDivisionError: division by zero"
    if fmt != "clef-rendered":  # with a template, properties shown in the message are not repeated
        assert "user=" not in events[0]


def test_serilog_clef(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Serilog's CLEF: @r renderings, @@ escapes undone, missing @l is Information, @m only,
    @x indented (Windows line ends too), {@x} as JSON, @tr as trace_id."""
    status, out, _ = run_view(capsys, "--utc", write_serilog(tmp_path / "serilog.clef"))
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == (
        "2024-03-01 10:15:30.123 INF Hello, nblumhardt! Elapsed 034.5 ms  SourceContext=App.Program"
    )
    assert lines[1] == (
        "2024-03-01 10:15:31.000 WRN Disk 93.5 full on web-1  @type=escaped Zone=eu"
    )
    assert lines[2] == (
        "2024-03-01 10:15:32.500 ERR Order 42 failed  RequestId=r-1 Attempt=2 Retry=true"
    )
    assert lines[3:5] == ["    System.InvalidOperationException: boom", "       at Shop.Pay()"]
    assert lines[5] == (
        '2024-03-01 10:15:33.000 DBG Position {"Lat":25,"Long":134} reached  '
        "Ok=false trace_id=4bf92f3577b34da6"
    )
    assert len(lines) == 6


def test_level_filter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--level shows events at or above the level (missing @l counts as Information)."""
    path = write_serilog(tmp_path / "s.clef")
    _, out, _ = run_view(capsys, "--level", "warning", path)
    assert [line[24:27] for line in out.splitlines() if not line.startswith(" ")] == ["WRN", "ERR"]
    _, out, _ = run_view(capsys, "--level", "information", path)
    assert len([line for line in out.splitlines() if not line.startswith(" ")]) == 3
    _, out, _ = run_view(capsys, "--level", "ERR", path)  # the abbreviations work too
    assert [line[24:27] for line in out.splitlines() if not line.startswith(" ")] == ["ERR"]


@pytest.mark.parametrize(
    ("wheres", "expected"),
    [
        (["Machine=web-1"], ["WRN"]),
        (["Attempt=2"], ["ERR"]),  # a number matches its JSON text
        (['Attempt="2"'], []),  # ...but the JSON string "2" is not the number 2
        (["Retry=true"], ["ERR"]),  # booleans as JSON
        (["Ok=0"], []),  # 0 is not false
        (["Pct=93.5", "Zone=eu"], ["WRN"]),  # several conditions: all must hold
        (["Pct=93.5", "Zone=us"], []),
        (["@type=escaped"], ["WRN"]),  # the @@-escaped name, unescaped
        (["Pos.Lat=25"], ["DBG"]),  # dotted names reach into objects
        (["trace_id=4bf92f3577b34da6"], ["DBG"]),
        (["Missing=x"], []),
    ],
)
def test_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], wheres: list[str], expected: list[str]
) -> None:
    """--where filters by property equality, as text and as JSON."""
    path = write_serilog(tmp_path / "s.clef")
    args = [arg for w in wheres for arg in ("--where", w)]
    _, out, _ = run_view(capsys, *args, path)
    assert [line[24:27] for line in out.splitlines() if not line.startswith(" ")] == expected


def test_where_string_property_equal_to_number_text() -> None:
    """A string property matches the same text: worker=3 matches "3" and 3."""
    assert Where("worker=3").matches(normalize({"@t": "2024-01-01T00:00:00Z", "worker": "3"}))
    assert Where("worker=3").matches(normalize({"@t": "2024-01-01T00:00:00Z", "worker": 3}))
    assert not Where("worker=3").matches(normalize({"@t": "2024-01-01T00:00:00Z", "worker": 4}))
    with pytest.raises(ValueError, match="key=value"):
        Where("worker")


def test_json_output_is_the_matching_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json prints matching events as JSON lines, as they were read (still valid CLEF)."""
    path = write_serilog(tmp_path / "s.clef")
    _, out, _ = run_view(capsys, "--json", "--level", "warning", path)
    records = [json.loads(line) for line in out.splitlines()]
    assert records == [SERILOG[1], SERILOG[2]]
    assert ANSI not in out


def test_malformed_lines_are_reported_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lines that are not JSON objects go to stderr with file:line; the rest is shown."""
    path = tmp_path / "mixed.clef"
    good = json.dumps(SERILOG[0])
    path.write_text(f'{good}\nnot json at all\n\n[1, 2]\n{{"@t": \n{good}', encoding="utf-8")
    status, out, err = run_view(capsys, path)
    assert status == 0
    assert len(out.splitlines()) == 2  # the last line has no newline and still counts
    reports = err.splitlines()
    assert len(reports) == 3
    assert f"{path}:2: malformed line (not JSON" in reports[0]
    assert f"{path}:4: malformed line (a JSON list, not an object)" in reports[1]
    assert f"{path}:5: malformed line" in reports[2]


def test_missing_file_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that cannot be opened is reported and makes the exit status 1; others are shown."""
    path = write_serilog(tmp_path / "s.clef")
    status, out, err = run_view(capsys, tmp_path / "nope.clef", path)
    assert status == 1
    assert "cannot open" in err and "nope.clef" in err
    # Two files: each line starts with the (padded) file name.
    assert out.splitlines()[0].startswith("s.clef    2024-03-01")


def test_generic_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """JSON lines from other tools: common key names for time, level and message."""
    path = tmp_path / "other.jsonl"
    path.write_text(
        '{"timestamp": "2024-05-01T08:00:00Z", "level": "warn", "event": "cache miss", "key": 1}\n'
        '{"time": 1714550400.5, "severity": "ERROR", "msg": "down", "exception": "Trace\\nX"}\n'
        '{"ts": 1714550400123, "level": "notice", "message": "odd level"}\n',
        encoding="utf-8",
    )
    status, out, _ = run_view(capsys, "--utc", path)
    assert status == 0
    assert out.splitlines() == [
        "2024-05-01 08:00:00.000 WRN cache miss  key=1",
        "2024-05-01 08:00:00.500 ERR down",
        "    Trace",
        "    X",
        "2024-05-01 08:00:00.123 NOT odd level",
    ]


def test_colors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--color always colours levels and values; never and auto (not a terminal) do not."""
    path = write_serilog(tmp_path / "s.clef")
    main(["view", "--color", "always", str(path)])
    coloured = capsys.readouterr().out
    assert "\x1b[33;1mWRN\x1b[0m" in coloured
    assert "\x1b[36mnblumhardt\x1b[0m" in coloured
    main(["view", str(path)])  # auto: capsys is not a terminal
    assert ANSI not in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# --follow, in a subprocess (bounded by --max-events and --idle-exit, never by sleeps).


def clef_line(n: str, pad: int = 0) -> str:
    obj = {"@t": "2024-03-01T10:00:00Z", "@mt": "event {n}", "n": n}
    if pad:
        obj["pad"] = "x" * pad
    return json.dumps(obj) + "\n"


class LineReader:
    """Reads a pipe in a thread so the test can wait for each line with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def take(self, count: int, timeout: float = 15.0) -> list[str]:
        return [self.lines.get(timeout=timeout).rstrip("\n") for _ in range(count)]


def test_follow_across_rotation_and_truncation(tmp_path: Path) -> None:
    """--follow prints new lines, drains a file renamed away (lines the writer still appended
    to it), reopens the new file at the path, and starts over when a file is truncated."""
    path = tmp_path / "app.clef"
    path.write_text("".join(clef_line(f"a{i}") for i in range(1, 4)), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "logactors",
        "view",
        "--follow",
        "--color",
        "never",
        "--poll-interval",
        "0.02",
        "--idle-exit",
        "20",
        "--max-events",
        "8",
        str(path),
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        follow_with(proc, path, tmp_path)


def follow_with(proc: subprocess.Popen[str], path: Path, tmp_path: Path) -> None:
    try:
        assert proc.stdout is not None
        reader = LineReader(proc.stdout)
        assert [line[28:] for line in reader.take(3)] == ["event a1", "event a2", "event a3"]

        # A writer that still holds the old file open appends after it was renamed away.
        with open(path, "a", encoding="utf-8") as old_writer:
            os.rename(path, tmp_path / "app.1.clef")
            old_writer.write(clef_line("a4"))
        with open(path, "w", encoding="utf-8") as new_writer:
            # Larger than the old file: only the inode tells that it is another file.
            new_writer.write(clef_line("b1", pad=300) + clef_line("b2"))
        # A line written in two parts is shown once it is complete.
        assert [line[28:36] for line in reader.take(3)] == ["event a4", "event b1", "event b2"]

        with open(path, "a", encoding="utf-8") as writer:  # a partial line, then its end
            half = clef_line("b3")
            writer.write(half[:20])
            writer.flush()
            writer.write(half[20:])
        assert [line[28:] for line in reader.take(1)] == ["event b3"]

        # Truncated in place (copytruncate) and rewritten with less than before.
        with open(path, "w", encoding="utf-8") as writer:
            writer.write(clef_line("c1"))
        assert [line[28:] for line in reader.take(1)] == ["event c1"]
        assert proc.wait(timeout=15) == 0  # --max-events 8 reached
        assert proc.stderr is not None and proc.stderr.read() == ""
    finally:
        proc.kill()
        proc.wait()


def test_follow_idle_exit(tmp_path: Path) -> None:
    """--idle-exit ends a follow that sees no new line; the unterminated tail is shown."""
    path = tmp_path / "app.clef"
    path.write_text(clef_line("x1") + clef_line("x2").rstrip("\n"), encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "logactors",
            "view",
            "--follow",
            "--color",
            "never",
            "--poll-interval",
            "0.02",
            "--idle-exit",
            "0.2",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    assert [line[28:] for line in result.stdout.splitlines()] == ["event x1", "event x2"]


# ---------------------------------------------------------------------------------------------
# --follow driven step by step in-process (View.step / View.follow with an injected sleep):
# rolls between polls, partial lines, several files merged by time.


def view_args(*args: str | Path) -> argparse.Namespace:
    """Parsed ``logactors view`` arguments."""
    return build_parser().parse_args(["view", "--color", "never", *map(str, args)])


def numbered(n: int, second: int | None = None) -> str:
    """One CLEF line carrying ``n`` (and a time ``second`` seconds after 10:00)."""
    at = 0 if second is None else second
    stamp = f"2024-03-01T10:{at // 60:02d}:{at % 60:02d}Z"
    return json.dumps({"@t": stamp, "@mt": "event {n}", "n": n}) + "\n"


def printed_numbers(out: io.StringIO) -> list[int]:
    """The ``n`` of every event printed as a JSON line."""
    return [json.loads(line)["n"] for line in out.getvalue().splitlines()]


class RollingWriter:
    """Writes numbered lines to ``app.clef`` and rolls it as FileSink does (rename to
    ``app.YYYYMMDD[.N].clef``, start a new file); never deletes a rolled file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "app.clef"
        self.next = 0
        self.rolls = 0
        self.pending = ""  # the rest of a line written in part
        self.path.touch()

    def write(self, count: int, split: int = 0) -> None:
        """Finish a partial line, write ``count`` lines, then the first ``split`` characters
        of the next one (its rest comes with the next write or roll)."""
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(self.pending)
            self.pending = ""
            for _ in range(count):
                file.write(numbered(self.next))
                self.next += 1
            if split:
                line = numbered(self.next)
                self.next += 1
                cut = min(split, len(line) - 1)
                file.write(line[:cut])
                self.pending = line[cut:]

    def roll(self) -> None:
        """Complete a partial line, then rename the file away and start a new one."""
        self.write(0)
        suffix = f".{self.rolls}" if self.rolls else ""
        os.rename(self.path, self.directory / f"app.20240301{suffix}.clef")
        self.rolls += 1
        self.path.touch()


_OPS = st.one_of(
    st.tuples(st.just("write"), st.integers(0, 5), st.sampled_from([0, 0, 1, 10, 30])),
    st.tuples(st.just("roll"), st.just(0), st.just(0)),
    st.tuples(st.just("poll"), st.just(0), st.just(0)),
)


@pytest.mark.slow
@settings(max_examples=60)
@given(ops=st.lists(_OPS, max_size=40))
def test_follow_reads_every_rolled_file_once_in_order(ops: list[tuple[str, int, int]]) -> None:
    """Whatever the order of writes, rolls (any number between two polls) and polls, every
    event is printed exactly once and in order; files rolled before following started are
    not shown; a partial line is printed only once complete."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "app.20240229.clef").write_text(numbered(-1), encoding="utf-8")  # old
        writer = RollingWriter(directory)
        writer.write(2)
        out = io.StringIO()
        view = View(view_args("--follow", "--json", writer.path), out, io.StringIO())
        try:
            view.read()
            for op, count, split in ops:
                if op == "write":
                    writer.write(count, split)
                elif op == "roll":
                    writer.roll()
                else:
                    view.step()
                    shown = printed_numbers(out)
                    assert shown == list(range(len(shown)))  # never a partial or a duplicate
            writer.write(0)  # complete the last line
            view.step()
            view.finish()
        finally:
            view.close()
        assert printed_numbers(out) == list(range(writer.next))


def test_two_rolls_between_polls_with_a_real_file_sink(tmp_path: Path) -> None:
    """A FileSink rolling by size: every file rolled between two polls (two and more) is read,
    in order, once."""
    path = tmp_path / "app.clef"
    config = SupervisorConfig(
        sinks=[FileSink(name="f", path=str(path), format="clef", max_bytes=1024, retain=None)]
    )
    out = io.StringIO()
    rolls_per_poll: list[int] = []

    async def main() -> None:
        async with logactors.open_logger(config) as log:
            log.info("event {n}", n=0)
            await log.flush()
            view = View(view_args("--follow", "--json", path), out, io.StringIO())
            try:
                view.read()
                n = 1
                for burst in (5, 30, 60, 1, 45, 0, 90):  # ~10 events per file: 0 to 9 rolls
                    before = len(list(tmp_path.glob("app.*.clef")))
                    for _ in range(burst):
                        log.info("event {n}", n=n)
                        n += 1
                        await log.flush()  # one batch per event: a roll can fall anywhere
                    rolls_per_poll.append(len(list(tmp_path.glob("app.*.clef"))) - before)
                    view.step()
            finally:
                await log.flush()
                view.step()
                view.finish()
                view.close()

    trio.run(main)
    assert max(rolls_per_poll) >= 2
    assert printed_numbers(out) == list(range(1 + 5 + 30 + 60 + 1 + 45 + 90))


def test_rolled_file_appended_after_it_was_drained(tmp_path: Path) -> None:
    """A writer still holding a rolled file appends to it after the viewer drained it: those
    lines are read (once) when the viewer next looks at the rolled files."""
    path = tmp_path / "app.clef"
    path.write_text(numbered(0), encoding="utf-8")
    out = io.StringIO()
    view = View(view_args("--follow", "--json", path), out, io.StringIO())
    view.read()
    with open(path, "a", encoding="utf-8") as late_writer:
        os.rename(path, tmp_path / "app.20240301.clef")
        path.write_text(numbered(1), encoding="utf-8")
        view.step()  # drains the rolled file, reads the new one
        late_writer.write(numbered(2))
    os.rename(path, tmp_path / "app.20240301.1.clef")
    path.write_text(numbered(3), encoding="utf-8")
    view.step()
    view.step()
    view.close()
    assert printed_numbers(out) == [0, 1, 2, 3]


def test_follow_loop_with_an_injected_sleep(tmp_path: Path) -> None:
    """The follow loop polls after each sleep, holds a partial line, and ends after
    ``--idle-exit`` seconds without data (a fake clock: no real waiting)."""
    path = tmp_path / "app.clef"
    path.write_text(numbered(0), encoding="utf-8")
    out = io.StringIO()
    view = View(
        view_args("--follow", "--json", "--idle-exit", "1", "--poll-interval", "0.2", path),
        out,
        io.StringIO(),
    )
    now = [0.0]
    seen: list[list[int]] = []
    line = numbered(1)
    actions = [
        lambda: path.write_text(numbered(0) + line[:10], encoding="utf-8"),
        lambda: None,
        lambda: path.write_text(numbered(0) + line, encoding="utf-8"),
    ]

    def sleep(seconds: float) -> None:
        seen.append(printed_numbers(out))
        now[0] += seconds
        if actions:
            actions.pop(0)()

    view.read()
    view.follow(sleep=sleep, clock=lambda: now[0])
    view.close()
    assert seen[:4] == [[0], [0], [0], [0, 1]]  # the partial line waits for its end
    assert printed_numbers(out) == [0, 1]
    assert 1.0 <= now[0] <= 2.0  # idle for --idle-exit after the last line, then stopped


def test_several_files_are_merged_by_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A glob of rolled files prints in time order whatever the order of the names; each
    file keeps its own order; a line without a time stays after the one before it."""
    newest = tmp_path / "app.clef"
    older = tmp_path / "app.20240301.clef"
    oldest = tmp_path / "app.20240301.1.clef"  # sorts first by name, but is not the oldest
    oldest.write_text(numbered(0, 0) + numbered(1, 10), encoding="utf-8")
    older.write_text(numbered(2, 20) + numbered(4, 40), encoding="utf-8")
    untimed = json.dumps({"@mt": "event {n}", "n": 5, "@l": "Warning"}) + "\n"
    newest.write_text(numbered(3, 30) + untimed + numbered(6, 50), encoding="utf-8")
    status, out, _ = run_view(capsys, "--json", oldest, newest, older)
    assert status == 0
    assert [json.loads(line)["n"] for line in out.splitlines()] == [0, 1, 2, 3, 5, 4, 6]


# ---------------------------------------------------------------------------------------------
# Output that cannot attack its reader.

_HOSTILE = "\u202egnp.exe\u2066x\u2069\u200bzero\u200d\x85nel\x9bcsi\x1b[31mred\u2028sep"


def test_view_escapes_bidi_zero_width_and_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text output: messages, property names and values, exceptions and level labels show
    bidi, zero-width and control characters as escapes."""
    path = tmp_path / "hostile.clef"
    record = {
        "@t": "2024-03-01T10:00:00Z",
        "@mt": "Hello {user} " + _HOSTILE,
        "user": _HOSTILE,
        "@x": "Boom " + _HOSTILE + "\n  at frame " + _HOSTILE,
        "k" + _HOSTILE: 1,
    }
    rendered = {"@t": "2024-03-01T10:00:01Z", "@m": _HOSTILE, "@l": _HOSTILE}
    path.write_text(json.dumps(record) + "\n" + json.dumps(rendered) + "\n", encoding="utf-8")
    status, out, err = run_view(capsys, path)
    assert status == 0 and err == ""
    for char in "\u202e\u2066\u2069\u200b\u200d\x85\x9b\x1b\u2028":
        assert char not in out, repr(char)
    assert "\\u202egnp.exe\\u2066x\\u2069\\u200bzero\\u200d\\x85nel\\x9bcsi\\x1b[31mred" in out
    assert len(out.splitlines()) == 4  # two events, one with a two-line exception


def test_view_json_escapes_and_keeps_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json writes the same characters as JSON escapes: the same JSON value, nothing raw."""
    path = tmp_path / "hostile.clef"
    record = {"@t": "2024-03-01T10:00:00Z", "@m": _HOSTILE, "p" + _HOSTILE: _HOSTILE}
    line = json.dumps(record, ensure_ascii=False)
    path.write_text(line.replace(", ", ",\t") + "\r\n", encoding="utf-8")  # tab, CR: whitespace
    status, out, _ = run_view(capsys, "--json", path)
    assert status == 0
    for char in "\u202e\u2066\u2069\u200b\u200d\x85\x9b\x1b\u2028\t\r":
        assert char not in out, repr(char)
    assert json.loads(out) == record


def test_file_names_are_printed_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file name with bidi or control characters is escaped in the source column and in
    error messages."""
    name = "a\u202eflc.\x1b]0;x\x07.clef"
    good = write_serilog(tmp_path / name)
    missing = tmp_path / ("missing\u2066" + name)
    status, out, err = run_view(capsys, good, missing)
    assert status == 1
    assert "a\\u202eflc.\\x1b]0;x\\x07.clef" in out.splitlines()[0]
    assert "missing\\u2066a\\u202e" in err
    for char in "\u202e\u2066\x1b\x07":
        assert char not in out + err


def test_logrotate_numbering_and_files_that_are_not_rolled_logs(tmp_path: Path) -> None:
    """logrotate's scheme (app.clef.1 newest, shifted on each rotation) twice between polls:
    every event once, in order; a spool or cursor file beside the log is never read."""
    path = tmp_path / "app.clef"
    path.write_text(numbered(0), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    view = View(view_args("--follow", "--json", path), out, err)
    view.read()

    def logrotate(content: str) -> None:
        for n in (3, 2, 1):
            if (tmp_path / f"app.clef.{n}").exists():
                os.rename(tmp_path / f"app.clef.{n}", tmp_path / f"app.clef.{n + 1}")
        os.rename(path, tmp_path / "app.clef.1")
        path.write_text(content, encoding="utf-8")

    with open(path, "a", encoding="utf-8") as file:
        file.write(numbered(1))
    logrotate(numbered(2))
    logrotate(numbered(3) + numbered(4))
    (tmp_path / "app.clef.cursor").write_bytes(b"\x00\x01binary\n")
    (tmp_path / "app.clef.spool").write_bytes(b"LASP\x00\n")
    logrotate(numbered(5))
    view.step()
    view.close()
    assert printed_numbers(out) == [0, 1, 2, 3, 4, 5]
    assert err.getvalue() == ""


def test_partial_line_in_a_rolled_file_is_not_cut(tmp_path: Path) -> None:
    """A writer that still holds the rolled file finishes its half-written line there after
    the roll: the line is printed once, whole, and nothing is reported malformed."""
    path = tmp_path / "app.clef"
    out, err = io.StringIO(), io.StringIO()
    line = numbered(1)
    with open(path, "w", encoding="utf-8") as writer:
        writer.write(numbered(0) + line[:15])
        writer.flush()
        view = View(view_args("--follow", "--json", path), out, err)
        view.read()
        os.rename(path, tmp_path / "app.20240301.clef")
        path.write_text(numbered(2), encoding="utf-8")
        view.step()
        assert printed_numbers(out) == [0, 2]
        writer.write(line[15:])
    view.step()
    view.finish()
    view.close()
    assert printed_numbers(out) == [0, 2, 1]
    assert err.getvalue() == ""
