"""The demo's terminal display: a metrics table redrawn in place, with log lines above it.

Lines (sampled console events, self-log notes) are queued by any thread with
:meth:`Display.feed` and written by :meth:`Display.draw`, which runs on one task: in live mode
it moves the cursor up over the previous table (ANSI ``CSI n F``), clears to the end of the
screen, writes the queued lines (they scroll up into the terminal's history) and redraws the
table, so the table stays pinned at the bottom. In plain mode (not a terminal, or
``--no-live``) lines are written as they come and the table is printed now and then.
:class:`SampledConsole` is the console sink that feeds it one event in N.
"""

from __future__ import annotations

import collections
import re
import shutil
import threading
from collections.abc import Mapping, Sequence
from typing import IO, Final

from .. import LogEvent
from ..formatting.text import RESET, TextFormatter
from ..levels import Level
from ..metrics import MetricsSnapshot, SinkMetrics
from ..sinks.base import SinkBase

__all__ = [
    "BOLD",
    "DIM",
    "GREEN",
    "RED",
    "RESET",
    "YELLOW",
    "Display",
    "SampledConsole",
    "metrics_table",
    "rates_between",
]

BOLD: Final = "\x1b[1m"
DIM: Final = "\x1b[2m"
RED: Final = "\x1b[31;1m"
GREEN: Final = "\x1b[32m"
YELLOW: Final = "\x1b[33;1m"
CYAN: Final = "\x1b[36m"
_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CIRCUIT_COLORS: Final = {"closed": GREEN, "half_open": YELLOW, "open": RED}
CONSOLE_TEMPLATE: Final = "{Timestamp:%H:%M:%S.%f} {Level:u3} {Message}{NewLine}{Exception}"


def visible_len(text: str) -> int:
    """Length of ``text`` without ANSI escapes."""
    return len(_ANSI.sub("", text))


def fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` visible characters, keeping escapes (and resetting after)."""
    if visible_len(text) <= width:
        return text
    out: list[str] = []
    shown = 0
    pos = 0
    while pos < len(text) and shown < width:
        match = _ANSI.match(text, pos)
        if match:
            out.append(match.group())
            pos = match.end()
            continue
        out.append(text[pos])
        shown += 1
        pos += 1
    return "".join(out) + RESET


class Display:
    """Writes the feed and the table (see the module docstring). Not thread-safe except
    :meth:`feed`, which any thread may call."""

    def __init__(self, out: IO[str], *, live: bool, colors: bool, max_lines: int = 400) -> None:
        self.out = out
        self.live = live
        self.colors = colors
        self._lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._lock = threading.Lock()
        self._height = 0
        self.skipped = 0

    def feed(self, text: str) -> None:
        """Queue lines (a trailing newline is optional) to show above the table."""
        with self._lock:
            for line in text.rstrip("\n").split("\n"):
                if len(self._lines) == self._lines.maxlen:
                    self.skipped += 1
                self._lines.append(line)

    def note(self, text: str) -> None:
        """Queue one highlighted line (e.g. a self-log message; cut to the terminal's width
        in live mode)."""
        line = f"» {text}"
        if self.live:
            line = fit(line, max(20, shutil.get_terminal_size((100, 24)).columns - 1))
        self.feed(f"{YELLOW}{line}{RESET}" if self.colors else line)

    def _take(self) -> list[str]:
        with self._lock:
            lines = list(self._lines)
            self._lines.clear()
        return lines

    def render(self, table: Sequence[str] | None) -> str:
        """What :meth:`draw` writes: the text for queued lines and (maybe) the table."""
        lines = self._take()
        parts: list[str] = []
        if self.live and self._height:
            parts.append(f"\x1b[{self._height}F\x1b[J")
        parts.extend(line + "\n" for line in lines)
        if table is not None:
            width = max(20, shutil.get_terminal_size((100, 24)).columns - 1)
            rows = [fit(row, width) if self.live else row for row in table]
            parts.extend(row + "\n" for row in rows)
            self._height = len(rows) if self.live else 0
        elif self.live:
            self._height = 0
        return "".join(parts)

    def draw(self, table: Sequence[str] | None) -> None:
        """Write queued lines and the table (blocking I/O: call it from a worker thread)."""
        text = self.render(table)
        if text:
            self.out.write(text)
            self.out.flush()

    def start(self) -> None:
        """Hide the cursor while the live table runs."""
        if self.live:
            self.out.write("\x1b[?25l")
            self.out.flush()

    def stop(self) -> None:
        """Show the cursor again; the last table stays on screen."""
        if self.live:
            self.out.write("\x1b[?25h")
            self.out.flush()
        self._height = 0


class SampledConsole(SinkBase):
    """The demo's console sink: formats one event in ``every`` (and every error) for the
    display, coloured like the built-in console sink."""

    def __init__(self, display: Display, every: int = 200, *, colors: bool = False) -> None:
        self.display = display
        self.every = max(1, every)
        self._formatter = TextFormatter(CONSOLE_TEMPLATE, colors=colors)
        self._count = 0
        self.shown = 0

    async def write_batch(self, events: Sequence[LogEvent]) -> int:
        """Pick the sample and queue it for display (no I/O here)."""
        picked: list[LogEvent] = []
        for event in events:
            self._count += 1
            if event.level >= Level.ERROR or self._count % self.every == 0:
                picked.append(event)
        if not picked:
            return 0
        data = self._formatter.format_batch(picked)
        self.display.feed(data.decode("utf-8", "replace"))
        self.shown += len(picked)
        return len(data)


# ---------------------------------------------------------------------------------------------
# The table.

_COLUMNS: Final = (
    ("breaker", 9),
    ("written/s", 9),
    ("written", 8),
    ("queue", 6),
    ("dropped", 7),
    ("rerouted", 8),
    ("spooled", 7),
    ("replayed", 8),
    ("p99 ms", 7),
)


def _circuit(m: SinkMetrics, colors: bool) -> str:
    state = "dead" if m.dead else m.circuit
    text = f"{state:<9}"
    if not colors:
        return text
    color = RED if m.dead else _CIRCUIT_COLORS.get(m.circuit, "")
    return color + text + RESET


def _row(name: str, m: SinkMetrics, rate: float, *, colors: bool, bold: bool = False) -> str:
    cells = [
        f"{m.written:>8}",
        f"{m.queue_depth:>6}",
        f"{m.dropped:>7}",
        f"{m.rerouted:>8}",
        f"{m.spooled:>7}",
        f"{m.replayed:>8}",
        f"{m.latency_p99_ms:>7.1f}",
    ]
    if colors:
        cells[2] = (RED if m.dropped else "") + cells[2] + (RESET if m.dropped else "")
        for i, value in ((3, m.rerouted), (4, m.spooled), (5, m.replayed)):
            if value:
                cells[i] = CYAN + cells[i] + RESET
    head = f"{name:<9}"
    if bold and colors:
        head = BOLD + head + RESET
    breaker = _circuit(m, colors) if not bold else " " * 9
    return "  ".join([head, breaker, f"{rate:>9.0f}", *cells])


def metrics_table(
    snapshot: MetricsSnapshot,
    rates: Mapping[str, float],
    *,
    colors: bool,
    title: Sequence[str] = (),
) -> list[str]:
    """The table's lines: title lines, a header, one row per sink and a total row."""
    header = "  ".join(
        [f"{'sink':<9}", *(f"{n:>{w}}" if n != "breaker" else f"{n:<{w}}" for n, w in _COLUMNS)]
    )
    rule = "─" * visible_len(header)
    lines = [*title, (DIM + header + RESET) if colors else header, rule]
    for name, m in snapshot.sinks.items():
        lines.append(_row(name, m, rates.get(name, 0.0), colors=colors))
    lines.append(rule)
    lines.append(_row("total", snapshot.totals, sum(rates.values()), colors=colors, bold=True))
    return lines


def rates_between(
    before: MetricsSnapshot | None, after: MetricsSnapshot, seconds: float
) -> dict[str, float]:
    """Written events per second per sink between two snapshots."""
    if before is None or seconds <= 0:
        return dict.fromkeys(after.sinks, 0.0)
    out: dict[str, float] = {}
    for name, m in after.sinks.items():
        old = before.sinks.get(name)
        out[name] = (m.written - (old.written if old else 0)) / seconds
    return out
