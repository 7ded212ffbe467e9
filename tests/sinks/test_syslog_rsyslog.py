"""The syslog sink against a real rsyslogd: what rsyslog parsed is what was logged."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import logactors
from logactors import (
    BatchConfig,
    BreakerConfig,
    MemorySink,
    RetryConfig,
    SupervisorConfig,
    SyslogSink,
)
from logactors.formatting.syslog import SD_ID

from ..helpers import assert_balanced
from ..servers import Rsyslog, refused_port

pytestmark = pytest.mark.network

BOM = "\ufeff"
TRICKY = {
    "quote": 'say "hi"',
    "bracket": "a]b[c",
    "backslash": "C:\\temp\\",
    "newline": "line1\nline2",
    "unicode": "héllo wörld ✓ 日本",
    "mixed": '\\"]',
}
SEVERITY = {"trace": 7, "debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2}


def sink(rsyslog: Rsyslog, app: str, transport: str, **kwargs: Any) -> SyslogSink:
    kwargs.setdefault("batch", BatchConfig(max_events=64, max_delay=0))
    return SyslogSink(
        name="syslog",
        address=rsyslog.address,
        transport=transport,  # type: ignore[arg-type]
        app_name=app,
        hostname="test-host",
        facility="local4",
        **kwargs,
    )


def config(*sinks: Any, **kwargs: Any) -> SupervisorConfig:
    return SupervisorConfig(min_level="trace", sinks=sinks, **kwargs)


def sd(message: dict[str, Any]) -> dict[str, str]:
    return dict(message["$!"]["rfc5424-sd"][SD_ID])


def msg(message: dict[str, Any]) -> str:
    text: str = message["msg"]
    return text.removeprefix(BOM)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_rsyslog_parses_header_sd_and_message(rsyslog: Rsyslog, transport: str) -> None:
    """Severity, facility, app-name, hostname, procid, msgid, structured data (with ``"``,
    ``]``, ``\\``, newlines and non-ASCII) and the message reach rsyslog intact."""
    app = f"hdr-{transport}"
    async with logactors.open_logger(config(sink(rsyslog, app, transport))) as log:
        for i, level in enumerate(SEVERITY):
            log.log(level, "event {seq} at {level_name}", seq=i, level_name=level)
        log.bind(component="db").warning("Tricky {quote} {bracket}", **TRICKY)
        await log.flush()
    got = await rsyslog.wait_for(app, len(SEVERITY) + 1)
    by_seq = {sd(m).get("seq"): m for m in got}
    for i, level in enumerate(SEVERITY):
        m = by_seq[str(i)]
        assert m["syslogseverity"] == str(SEVERITY[level])
        assert m["syslogfacility"] == "20"  # local4
        assert m["pri"] == str(20 * 8 + SEVERITY[level])
        assert m["app-name"] == app
        assert m["hostname"] == "test-host"
        assert m["procid"] == str(os.getpid())
        assert m["msgid"] == "-"
        assert msg(m) == f"event {i} at {level}"
        assert sd(m) == {"seq": str(i), "level_name": level}
    tricky = by_seq[None]
    assert sd(tricky) == {**TRICKY, "component": "db"}
    assert tricky["syslogseverity"] == "4"
    assert msg(tricky) == 'Tricky say "hi" a]b[c'


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_rsyslog_receives_exceptions_newlines_and_bom(
    rsyslog: Rsyslog, transport: str
) -> None:
    """A multi-line message with an exception arrives whole (newlines kept, one message), with
    the BOM exactly when the text is not ASCII."""
    app = f"exc-{transport}"
    async with logactors.open_logger(config(sink(rsyslog, app, transport))) as log:
        try:
            raise ValueError("bad välue")
        except ValueError:
            log.exception("Failed for {user}\nsecond line", user="zoë")
        log.info("plain ascii")
        await log.flush()
    first, second = await rsyslog.wait_for(app, 2)
    assert first["msg"].startswith(BOM + "Failed for zoë\nsecond line\nTraceback")
    assert first["msg"].endswith("ValueError: bad välue")
    assert first["syslogseverity"] == "3"
    assert second["msg"] == "plain ascii"


async def test_rsyslog_msgid_is_the_logger_name(rsyslog: Rsyslog) -> None:
    """MSGID carries the logger name."""
    app = "msgid"
    async with logactors.open_logger(config(sink(rsyslog, app, "tcp"))) as log:
        proxy = logactors.get_logger("shop.checkout")
        proxy.info("from a named logger")
        await log.flush()
    [m] = await rsyslog.wait_for(app, 1)
    assert m["msgid"] == "shop.checkout"
    assert msg(m) == "from a named logger"


async def test_udp_truncates_on_a_character_boundary(rsyslog: Rsyslog) -> None:
    """An event larger than max_message_bytes arrives as one datagram of at most that size,
    cut on a UTF-8 boundary (rsyslog sees valid text)."""
    app = "trunc"
    s = sink(rsyslog, app, "udp", max_message_bytes=600)
    async with logactors.open_logger(config(s)) as log:
        log.info("{text}", text="é" * 2000, n=1)
        await log.flush()
    [m] = await rsyslog.wait_for(app, 1)
    assert len(m["rawmsg"].encode()) <= 600
    assert m["msg"].startswith(BOM + "éééé")
    assert 0 < len(msg(m)) < 300
    assert set(msg(m)) == {"é"}
    assert sd(m) == {"n": "1"}  # the oversized SD-PARAM was left out whole, the small one kept


async def test_tcp_many_events_in_order(rsyslog: Rsyslog) -> None:
    """Octet-counted framing keeps hundreds of events apart and in order over one
    connection, and the sink reports the bytes it sent."""
    app = "bulk"
    async with logactors.open_logger(config(sink(rsyslog, app, "tcp"))) as log:
        for i in range(300):
            log.info("event {i}\nwith a second line", i=i)
        await log.flush()
        metrics = log.metrics().sinks["syslog"]
    got = await rsyslog.wait_for(app, 300)
    assert [msg(m) for m in got] == [f"event {i}\nwith a second line" for i in range(300)]
    assert metrics.written == 300
    assert metrics.bytes > 300 * 60


async def test_tcp_restart_of_rsyslog_loses_nothing(private_rsyslog: Rsyslog) -> None:
    """rsyslog restarted mid-stream: the sink notices the closed connection, fails while it is
    down (retried with backoff by the actor), reconnects, and every event arrives once, in
    order."""
    rsyslog = private_rsyslog
    app = "restart"
    lines: list[str] = []
    s = sink(
        rsyslog,
        app,
        "tcp",
        retry=RetryConfig(attempts=200, initial_backoff=0.02, max_backoff=0.05),
        breaker=BreakerConfig(failure_threshold=1000),
    )
    async with logactors.open_logger(config(s, self_log=lines.append)) as log:
        for i in range(20):
            log.info("before {i}", i=i)
        await log.flush()
        await rsyslog.wait_for(app, 20)
        await trio.to_thread.run_sync(rsyslog.stop)
        for i in range(20):
            log.info("during {i}", i=i)
        # Every task idle means the actor tried, failed and now sleeps in its backoff.
        await trio.testing.wait_all_tasks_blocked()
        assert any("failed" in line for line in lines), lines
        await trio.to_thread.run_sync(rsyslog.start)
        await log.flush()
        for i in range(20):
            log.info("after {i}", i=i)
        await log.flush()
        metrics = log.metrics().sinks["syslog"]
    expected = (
        [f"before {i}" for i in range(20)]
        + [f"during {i}" for i in range(20)]
        + [f"after {i}" for i in range(20)]
    )
    got = await rsyslog.wait_for(app, 60)
    assert [msg(m) for m in got] == expected
    assert metrics.written == 60 and metrics.failed == 0
    assert any("ConnectionRefusedError" in line or "connect" in line.lower() for line in lines)


async def test_udp_to_a_closed_port_trips_the_breaker() -> None:
    """UDP to a port nobody listens on: the ICMP error surfaces as ConnectionRefusedError,
    the breaker opens and the events reach the fallback."""
    s = SyslogSink(
        name="syslog",
        address=f"127.0.0.1:{refused_port()}",
        transport="udp",
        fallback="mem",
        batch=BatchConfig(max_events=1, max_delay=0),
        retry=RetryConfig(attempts=2, initial_backoff=0.001),
        breaker=BreakerConfig(failure_threshold=1, reset_timeout=60),
    )
    fallback = MemorySink(name="mem", min_level="off")
    async with logactors.open_logger(config(s, fallback, self_log="off")) as log:
        for i in range(5):
            log.info("event {i}", i=i)
        await log.flush()
        snap = log.metrics()
        mem = log.sink("mem")
    assert snap.sinks["syslog"].circuit == "open"
    assert snap.sinks["syslog"].rerouted == 5
    # Each refused datagram is reported against itself (loopback ICMP is synchronous), so
    # every event is rerouted: none was counted as written into the void.
    delivered = [e.properties["i"] for e in mem.events]  # type: ignore[attr-defined]
    assert delivered == list(range(5))
    assert snap.sinks["syslog"].written == 0
    assert_balanced(snap.sinks["syslog"], "syslog")


async def test_unix_datagram_socket(tmp_path: Path) -> None:
    """``unix`` sends one datagram per event to a local socket such as /dev/log."""
    path = str(tmp_path / "log.sock")
    receiver = trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    await receiver.bind(path)
    with receiver:
        s = SyslogSink(
            name="syslog",
            address=path,
            transport="unix",
            app_name="ux",
            hostname="h",
            batch=BatchConfig(max_delay=0),
        )
        async with logactors.open_logger(config(s)) as log:
            log.warning("over {kind}", kind="unix")
            log.info("second")
            await log.flush()
            first = await receiver.recv(65536)
            second = await receiver.recv(65536)
    assert first.startswith(b"<12>1 ")
    assert first.endswith(b'[logactors@32473 kind="unix"] over unix')
    assert b" h ux " in first
    assert second.endswith(b" - second")


async def test_unix_socket_missing_is_a_failed_write(tmp_path: Path) -> None:
    """No socket at the path: the write fails (OSError) and the events go to the fallback."""
    s = SyslogSink(
        name="syslog",
        address=str(tmp_path / "missing.sock"),
        transport="unix",
        fallback="mem",
        retry=RetryConfig(attempts=1),
        batch=BatchConfig(max_delay=0),
    )
    async with logactors.open_logger(
        config(s, MemorySink(name="mem", min_level="off"), self_log="off")
    ) as log:
        log.info("nowhere")
        await log.flush()
        mem = log.sink("mem")
        snap = log.metrics()
    assert [e.template for e in mem.events] == ["nowhere"]  # type: ignore[attr-defined]
    assert snap.sinks["syslog"].rerouted == 1


async def test_rfc3164_for_old_relays(rsyslog: Rsyslog) -> None:
    """rfc3164=True: rsyslog's legacy parser reads the PRI, host, tag and message."""
    app = "legacy3164"
    async with logactors.open_logger(config(sink(rsyslog, app, "udp", rfc3164=True))) as log:
        log.error("old {style} message", style="bsd")
        await log.flush()
    found = await rsyslog.wait_for(app, 1, field="programname")
    [m] = found
    assert m["protocol-version"] == "0"
    assert (m["syslogseverity"], m["syslogfacility"]) == ("3", "20")
    assert m["hostname"] == "test-host"
    assert m["syslogtag"] == f"{app}[{os.getpid()}]:"
    assert m["msg"].strip() == "old bsd message"
