"""``logactors demo``: a self-contained trio application that shows the supervisor at work.

Worker tasks, one worker thread and a stdlib-logging "library" log at a high rate, with request
context (``log.context``) and bound properties (``log.bind``). Five sinks:

* ``console``: one event in ``--sample`` (and every error), coloured, shown above the table;
* ``file``: a rolling CLEF file (``demo.clef``, rolled by size);
* ``seq``: CLEF over HTTP to a local collector, with a disk spool;
* ``json``: JSON lines over HTTP to the same collector, with the ``fallback`` file sink.

The collector answers 503 from 25 % to 60 % of the run: both HTTP breakers open; ``seq`` spools
and replays its spool when the collector is back, ``json`` reroutes to ``fallback.clef``. A live
table shows the metrics; at the end come the shutdown report, a delivery check (every event at
info or above in the CLEF file reached the collector, directly, from the spool or through the
fallback file) and where the files are.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any, Final

import attrs
import trio

from .. import Level, Logger, open_logger
from ..config import (
    BatchConfig,
    BreakerConfig,
    CustomSink,
    FileSink,
    HttpSink,
    RetryConfig,
    ShutdownConfig,
    SinkConfig,
    SpoolConfig,
    SupervisorConfig,
)
from ..metrics import MetricsSnapshot, ShutdownReport
from ..sinks.console import should_color
from ._collector import Collector, UrllibPoster
from ._live import (
    BOLD,
    DIM,
    GREEN,
    RED,
    RESET,
    Display,
    SampledConsole,
    metrics_table,
    rates_between,
)
from ._shop import produce

__all__ = ["DESCRIPTION", "EPILOG", "add_arguments", "run"]

DESCRIPTION: Final = """\
Run a self-contained trio application that shows logactors at work (offline, no set-up).

Worker tasks, a worker thread and a stdlib-logging "library" log at a high rate with request
context and bound properties. Sinks: a sampled, coloured console stream; a rolling CLEF file;
an HTTP sink sending CLEF with a disk spool and one sending JSON with a fallback file, both
pointed at a local collector that the demo makes fail (HTTP 503) from 25% to 60% of the run.
The breakers open, events go to the spool and to the fallback file, and the spool is replayed
when the collector recovers. A live table shows per-sink metrics; at the end come the shutdown
report, a delivery check and where the files are."""

EPILOG: Final = """\
exit status:
  0  nothing was lost: the shutdown report is clean (no event dropped for overflow, failed
     with nowhere to go, abandoned at the shutdown deadline or rejected), and the delivery
     check passed: every event at info or above in the CLEF file reached the collector's
     /seq endpoint (directly or replayed from the spool) and the /json endpoint or the
     fallback file, and the spool is empty at exit. Events still in a spool would survive a
     restart, but the demo counts them as not delivered.
  1  something was not delivered (the report and the check say what)
  2  bad arguments, or --dir holds the files of an earlier run"""

_OUTAGE: Final = (0.25, 0.6)  # fractions of the run during which the collector answers 503


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 (got {text})")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 (got {text})")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``demo`` command's options."""
    parser.add_argument(
        "--seconds",
        type=_positive_float,
        default=10.0,
        help="how long the workers log (default 10)",
    )
    parser.add_argument(
        "--rate",
        type=_positive_int,
        default=3000,
        help="target events per second, all producers together (default 3000)",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=4,
        help="worker tasks (default 4; plus one worker thread)",
    )
    parser.add_argument(
        "--dir", default=None, help="where the log files go (default: a new temporary directory)"
    )
    parser.add_argument(
        "--no-live",
        action="store_true",
        help="no in-place table: print plain lines and the table now and then "
        "(the default when stdout is not a terminal)",
    )
    parser.add_argument(
        "--sample",
        type=_positive_int,
        default=200,
        metavar="N",
        help="the console shows one event in N, and every error (default 200)",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour output (default auto: when stdout is a terminal)",
    )
    parser.add_argument(
        "--http",
        choices=("auto", "builtin", "urllib"),
        default="auto",
        help="HTTP sink: the built-in HttpSink (httpx), a small urllib-based "
        "custom sink, or auto (built-in when available)",
    )
    parser.add_argument(
        "--json-report",
        metavar="FILE",
        default=None,
        help="also write the report, the delivery check and the breaker "
        "transitions as JSON to FILE",
    )


# ---------------------------------------------------------------------------------------------
# What the demo observes while it runs.


@attrs.define(eq=False)
class Observed:
    """Breaker states seen per sink (polled ten times a second), and the run's phases."""

    started: float = 0.0
    seconds: float = 10.0
    phase: str = "running"
    states: dict[str, list[str]] = attrs.Factory(dict)
    interrupted: bool = False

    def record(self, snapshot: MetricsSnapshot) -> None:
        """Remember each sink's breaker state when it changed."""
        for name, m in snapshot.sinks.items():
            seen = self.states.setdefault(name, [])
            if not seen or seen[-1] != m.circuit:
                seen.append(m.circuit)

    def breakers(self) -> dict[str, dict[str, Any]]:
        """Per sink: the states seen, whether the breaker opened and whether it closed again."""
        out: dict[str, dict[str, Any]] = {}
        for name, seen in self.states.items():
            opened = "open" in seen
            first_open = seen.index("open") if opened else -1
            recovered = opened and "closed" in seen[first_open:] and seen[-1] != "open"
            out[name] = {"opened": opened, "recovered": recovered, "states": seen}
        return out


# ---------------------------------------------------------------------------------------------
# Configuration.


def builtin_http_available() -> bool:
    """Whether the built-in HTTP sink (``logactors.sinks.http``, needs httpx) can be used."""
    try:
        return (
            importlib.util.find_spec("logactors.sinks.http") is not None
            and importlib.util.find_spec("httpx") is not None
        )
    except (ImportError, ValueError):
        return False


@attrs.frozen
class Paths:
    """Where the demo's files go."""

    directory: str

    @property
    def log(self) -> str:
        """The rolling CLEF file."""
        return os.path.join(self.directory, "demo.clef")

    @property
    def fallback(self) -> str:
        """The fallback sink's file."""
        return os.path.join(self.directory, "fallback.clef")

    @property
    def spool(self) -> str:
        """The ``seq`` sink's spool."""
        return os.path.join(self.directory, "spool", "seq.spool")


def build_config(
    paths: Paths,
    display: Display,
    collector_url: str,
    *,
    seconds: float,
    sample: int,
    colors: bool,
    builtin_http: bool,
) -> SupervisorConfig:
    """The demo's supervisor configuration (see the module docstring)."""
    reset = max(0.2, min(1.0, seconds / 10))
    resilience: dict[str, Any] = {
        "min_level": Level.INFO,
        "breaker": BreakerConfig(failure_threshold=2, reset_timeout=reset),
        "retry": RetryConfig(attempts=2, initial_backoff=0.05, max_backoff=0.2),
        "batch": BatchConfig(max_events=256, max_delay=0.1),
    }

    def http(name: str, protocol: str, **extra: Any) -> SinkConfig:
        url = f"{collector_url}/{name}"
        if builtin_http:
            return HttpSink(
                name=name,
                url=url,
                protocol=protocol,  # type: ignore[arg-type]
                timeout=2.0,
                **resilience,
                **extra,
            )
        return CustomSink(
            name=name, sink=UrllibPoster(url, protocol, timeout=2.0), **resilience, **extra
        )

    sinks: list[SinkConfig] = [
        CustomSink(name="console", sink=SampledConsole(display, sample, colors=colors)),
        FileSink(
            name="file",
            path=paths.log,
            format="clef",
            rolling="hourly",
            max_bytes=2 * 1024 * 1024,
            retain=None,
        ),
        http("seq", "clef", spool=SpoolConfig(path=paths.spool)),
        http("json", "json", fallback="fallback"),
        FileSink(name="fallback", path=paths.fallback, format="clef", min_level="off"),
    ]
    return SupervisorConfig(
        min_level=Level.DEBUG,
        sinks=tuple(sinks),
        properties={"app": "demo-shop"},
        enrichers=("sequence",),
        self_log=display.note,
        shutdown=ShutdownConfig(timeout=5.0),
    )


# ---------------------------------------------------------------------------------------------
# The run: producers, the outage, the monitor, draining.


def _title(
    observed: Observed,
    snapshot: MetricsSnapshot,
    events_rate: float,
    collector: Collector,
    colors: bool,
) -> list[str]:
    elapsed = time.monotonic() - observed.started
    seconds = observed.seconds
    start, end = (f * seconds for f in _OUTAGE)
    stats = collector.stats()
    if collector.failing:
        state = f"DOWN (503) — back in {max(0.0, end - elapsed):.1f}s"
        state = RED + state + RESET if colors else state
    else:
        state = "UP" if elapsed < start else "UP again"
        if elapsed < start:
            state += f" — outage in {start - elapsed:.1f}s"
        state = GREEN + state + RESET if colors else state
    received = " ".join(f"/{k}={v}" for k, v in sorted(stats["events"].items())) or "nothing yet"
    phase = observed.phase
    head = (
        f"logactors demo · {phase} · {min(elapsed, seconds):4.1f}s of {seconds:g}s · "
        f"{events_rate:6.0f} events/s · {snapshot.events} events"
    )
    if colors:
        head = BOLD + head + RESET
    line2 = f"collector {state} · received {received} · refused {stats['refused_requests']} batches"
    return [head, line2]


async def _monitor(
    log: Logger, display: Display, observed: Observed, collector: Collector, colors: bool
) -> None:
    """Poll metrics ten times a second; redraw the table (live) or print it now and then."""
    draw_every = 0.25 if display.live else max(1.0, min(2.0, observed.seconds / 5))
    last_draw = -1e9
    previous: MetricsSnapshot | None = None
    previous_at = time.monotonic()
    rates: dict[str, float] = {}
    events_rate = 0.0
    while True:
        snapshot = log.metrics()
        observed.record(snapshot)
        now = time.monotonic()
        if now - previous_at >= 0.5 or previous is None:
            rates = rates_between(previous, snapshot, now - previous_at)
            if previous is not None:
                events_rate = (snapshot.events - previous.events) / (now - previous_at)
            previous, previous_at = snapshot, now
        table = None
        if now - last_draw >= draw_every:
            table = metrics_table(
                snapshot,
                rates,
                colors=colors,
                title=_title(observed, snapshot, events_rate, collector, colors),
            )
            last_draw = now
        await trio.to_thread.run_sync(display.draw, table)
        await trio.sleep(0.1)


async def _outage(collector: Collector, seconds: float) -> None:
    """Make the collector answer 503 from 25 % to 60 % of the run."""
    start, end = (f * seconds for f in _OUTAGE)
    await trio.sleep(start)
    collector.failing = True
    try:
        await trio.sleep(end - start)
    finally:
        collector.failing = False


async def _drain(log: Logger, observed: Observed, limit: float) -> None:
    """After the producers stop: wait until queues and spools are empty (bounded)."""
    observed.phase = "draining"
    with trio.move_on_after(limit):
        await log.flush()
        while True:
            snapshot = log.metrics()
            busy = any(
                m.queue_depth or m.spool_depth or m.circuit == "open"
                for m in snapshot.sinks.values()
            )
            if not busy:
                return
            await trio.sleep(0.05)


async def _on_interrupt(
    cancel: trio.CancelScope, observed: Observed, stop: threading.Event
) -> None:
    """First Ctrl-C: stop producing and go to the report; a second one interrupts for real."""
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        async for _ in signals:
            if observed.interrupted:
                raise KeyboardInterrupt
            observed.interrupted = True
            stop.set()
            cancel.cancel()


@contextlib.contextmanager
def _route_library(log: Logger) -> Iterator[None]:
    """Route the stdlib root logger (and so the "library" ``demo.lib``) into ``log`` while
    active, as an application would with ``log.capture_stdlib()``.

    httpx logs every request at info; records emitted while a sink writes go to the self-log
    only (never back into the sinks), and the demo quiets httpx below warning, as most
    applications do, so that the self-log notes stay readable.
    """
    httpx_logger = logging.getLogger("httpx")
    saved = httpx_logger.level
    httpx_logger.setLevel(logging.WARNING)
    try:
        with log.capture_stdlib("info"):
            yield
    finally:
        httpx_logger.setLevel(saved)


async def _main(
    args: argparse.Namespace,
    paths: Paths,
    display: Display,
    collector: Collector,
    colors: bool,
    builtin_http: bool,
) -> tuple[ShutdownReport | None, Observed]:
    observed = Observed(started=time.monotonic(), seconds=args.seconds)
    config = build_config(
        paths,
        display,
        collector.url,
        seconds=args.seconds,
        sample=args.sample,
        colors=colors,
        builtin_http=builtin_http,
    )
    stop = threading.Event()
    display.start()
    try:
        async with open_logger(config) as log:
            with _route_library(log):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_monitor, log, display, observed, collector, colors)
                    nursery.start_soon(_outage, collector, args.seconds)
                    work = trio.CancelScope()
                    if threading.current_thread() is threading.main_thread():
                        nursery.start_soon(_on_interrupt, work, observed, stop)
                    with work:
                        await produce(log, args, stop)
                    collector.failing = False
                    await _drain(log, observed, limit=max(5.0, args.seconds))
                    observed.record(log.metrics())
                    observed.phase = "shutting down"
                    nursery.cancel_scope.cancel()
        report = log.report
        if report is not None:
            observed.phase = "done"
            final = MetricsSnapshot(
                sinks=report.sinks, events=report.events, rejected=report.rejected
            )
            elapsed = max(1e-9, time.monotonic() - observed.started)
            rates = {name: m.written / elapsed for name, m in report.sinks.items()}
            table = metrics_table(
                final,
                rates,
                colors=colors,
                title=_title(observed, final, report.events / elapsed, collector, colors),
            )
            display.draw(table)
        return report, observed
    finally:
        display.stop()


# ---------------------------------------------------------------------------------------------
# After the run: the delivery check, the files, the report.


def _clef_records(path: str) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as file:
        for line in file:
            if line.strip():
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    yield obj


def log_files(paths: Paths) -> list[str]:
    """The rolling CLEF file and its rolled siblings (``demo.YYYYMMDDHH[.N].clef``), sorted."""
    names = [
        n for n in os.listdir(paths.directory) if n.startswith("demo.") and n.endswith(".clef")
    ]
    return [os.path.join(paths.directory, n) for n in sorted(names)]


def delivery_check(paths: Paths, collector: Collector, events: int) -> dict[str, Any]:
    """Compare what the files hold with what the collector received, by ``sequence``.

    * ``file``: the CLEF files hold every sequence number from 1 to ``events``;
    * ``seq``: every event at info or above in the files reached ``/seq``;
    * ``json``: every such event reached ``/json`` or ``fallback.clef``.
    """
    in_files: set[int] = set()
    info_up: set[int] = set()
    for path in log_files(paths):
        for obj in _clef_records(path):
            number = obj.get("sequence")
            if isinstance(number, int):
                in_files.add(number)
                if obj.get("@l") not in ("Verbose", "Debug"):
                    info_up.add(number)
    fallback: set[int] = set()
    if os.path.exists(paths.fallback):
        fallback = {
            n for obj in _clef_records(paths.fallback) if isinstance(n := obj.get("sequence"), int)
        }
    stats = collector.stats()
    seq = collector.sequences.get("seq", set())
    via_json = collector.sequences.get("json", set())
    expected = set(range(1, events + 1))
    checks: dict[str, Any] = {
        "file": {"expected": events, "found": len(in_files), "missing": len(expected - in_files)},
        "seq": {
            "expected": len(info_up),
            "received": len(seq & info_up),
            "missing": len(info_up - seq),
            "duplicates": stats["duplicates"].get("seq", 0),
        },
        "json": {
            "expected": len(info_up),
            "received": len(via_json & info_up),
            "fallback": len(fallback & info_up),
            "missing": len(info_up - via_json - fallback),
            "duplicates": stats["duplicates"].get("json", 0),
        },
    }
    checks["ok"] = all(c["missing"] == 0 for c in checks.values() if isinstance(c, dict))
    return checks


def _files(paths: Paths) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for root, _dirs, names in os.walk(paths.directory):
        for name in sorted(names):
            path = os.path.join(root, name)
            lines = 0
            if name.endswith(".clef"):
                with open(path, "rb") as file:
                    lines = sum(1 for _ in file)
            out.append({"path": path, "bytes": os.path.getsize(path), "events": lines})
    return sorted(out, key=lambda f: f["path"])


def _summary(
    report: ShutdownReport,
    observed: Observed,
    checks: dict[str, Any],
    paths: Paths,
    files: list[dict[str, Any]],
    colors: bool,
    ok: bool,
) -> str:
    def mark(good: bool) -> str:
        text = "ok" if good else "NOT OK"
        return (GREEN if good else RED) + text + RESET if colors else text

    lines = ["", str(report), ""]
    breakers = observed.breakers()
    for name in ("seq", "json"):
        info = breakers.get(name, {})
        states = " → ".join(info.get("states", [])) or "?"
        lines.append(f"breaker {name:<5} {states}")
    f, s, j = checks["file"], checks["seq"], checks["json"]
    lines += [
        "",
        "delivery check (by the 'sequence' property):",
        f"  file  {f['found']}/{f['expected']} events in the CLEF files  {mark(f['missing'] == 0)}",
        f"  seq   {s['received']}/{s['expected']} info+ events reached the collector's /seq "
        f"(spool: {report.sinks['seq'].spooled} spooled, {report.sinks['seq'].replayed} "
        f"replayed), {s['duplicates']} duplicates  {mark(s['missing'] == 0)}",
        f"  json  {j['received']} via /json + {j['fallback']} in fallback.clef of "
        f"{j['expected']} info+ events  {mark(j['missing'] == 0)}",
        "",
        f"files in {paths.directory}:",
    ]
    for entry in files:
        rel = os.path.relpath(entry["path"], paths.directory)
        count = f"{entry['events']:>7} events" if rel.endswith(".clef") else " " * 14
        lines.append(f"  {rel:<32} {count} {entry['bytes']:>10} bytes")
    lines += [
        "",
        f"try:  python -m logactors view {paths.log} --level warning",
        f"      python -m logactors view {paths.fallback} --where worker=1 --json",
        "",
    ]
    verdict = "nothing was lost" if ok else "SOME EVENTS WERE NOT DELIVERED (see above)"
    if colors:
        verdict = (GREEN if ok else RED) + BOLD + verdict + RESET
    lines.append(f"demo result: {verdict}" + (" (interrupted)" if observed.interrupted else ""))
    return "\n".join(lines)


def _tolerant(stream: object) -> None:
    """Let a stream that cannot encode the table's box characters escape them instead."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):  # pragma: no cover - a stream already in use
            pass


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns the exit status (see ``EPILOG``)."""
    out = sys.stdout
    _tolerant(out)
    forced = {"always": True, "never": False}.get(args.color)
    colors = should_color(out, forced)
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    live = tty and not args.no_live and os.environ.get("TERM") != "dumb"
    if args.http == "builtin" and not builtin_http_available():
        print(
            "logactors demo: the built-in HTTP sink is not available "
            "(logactors.sinks.http / httpx)",
            file=sys.stderr,
        )
        return 2
    builtin_http = args.http == "builtin" or (args.http == "auto" and builtin_http_available())
    directory = args.dir or tempfile.mkdtemp(prefix="logactors-demo-")
    os.makedirs(directory, exist_ok=True)
    paths = Paths(os.path.abspath(directory))
    leftovers = log_files(paths) + [p for p in (paths.fallback, paths.spool) if os.path.exists(p)]
    if leftovers:
        # The delivery check compares this run's files with what the collector received.
        print(
            f"logactors demo: {paths.directory} already holds files of an earlier run "
            f"({os.path.basename(leftovers[0])}); give an empty or new --dir",
            file=sys.stderr,
        )
        return 2
    display = Display(out, live=live, colors=colors)
    sink_kind = "HttpSink (built-in)" if builtin_http else "urllib custom sink"
    intro = (
        f"logactors demo: {args.seconds:g}s, {args.rate} events/s, {args.workers} worker "
        f"tasks + 1 thread; HTTP via {sink_kind}; files in {paths.directory}"
    )
    print(DIM + intro + RESET if colors else intro, flush=True)
    with Collector() as collector:
        report, observed = trio.run(_main, args, paths, display, collector, colors, builtin_http)
        if report is None:  # pragma: no cover - the logger always builds a report
            print("logactors demo: no shutdown report", file=sys.stderr)
            return 1
        checks = delivery_check(paths, collector, report.events)
        files = _files(paths)
        spool_left = report.sinks["seq"].spool_depth
        ok = report.ok and checks["ok"] and spool_left == 0
        print(_summary(report, observed, checks, paths, files, colors, ok), flush=True)
        if args.json_report:
            document = {
                "ok": ok,
                "report": report.to_dict(),
                "delivery": checks,
                "breakers": observed.breakers(),
                "collector": collector.stats(),
                "directory": paths.directory,
                "files": files,
                "http_sink": "builtin" if builtin_http else "urllib",
                "interrupted": observed.interrupted,
                "display_lines_skipped": display.skipped,
            }
            with open(args.json_report, "w", encoding="utf-8") as file:
                json.dump(document, file, indent=2)
    return 0 if ok else 1
