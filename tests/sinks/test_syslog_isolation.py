"""One event that cannot be formatted costs only itself: syslog (UDP, TCP) and GELF against real
receivers on 127.0.0.1, and every good event arrives exactly once."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
import trio
import trio.testing

import logactors
from logactors import BatchConfig, GelfSink, Level, LogEvent, SupervisorConfig, SyslogSink
from logactors.sinks.syslog import SyslogWriter

from ..servers import TcpCollector, UdpCollector
from ..strategies import BadEq, BadStr, HostileStr, UnhashableStr

pytestmark = pytest.mark.network

GOOD = 500
#: One of each shape the probes used: a str subclass whose __format__ and __str__ raise (as a
#: value and in the message), raising __eq__/__hash__, names that are not plain strings (the
#: last two: added by an enricher, as keyword arguments cannot carry them).
HOSTILE: list[dict[Any, Any]] = [
    {"v": HostileStr("x")},
    {"v": UnhashableStr("y")},
    {"v": BadEq()},
    {"v": BadStr()},
    {"v": 1, HostileStr("name"): 1},
    {"v": 2, 7: "seven", None: "none"},
]


def _batch() -> list[tuple[str, dict[str, Any]]]:
    """GOOD plain events with the hostile ones at random places (seeded): ``(marker, props)``."""
    rng = random.Random(14)
    places = set(rng.sample(range(GOOD + len(HOSTILE)), len(HOSTILE)))
    hostile = iter(HOSTILE)
    out = []
    for i in range(GOOD + len(HOSTILE)):
        if i in places:
            out.append((f"bad{i}z", next(hostile)))
        else:
            out.append((f"good{i}z", {"v": i, "who": "zoë"}))
    return out


def _octet_frames(data: bytes) -> list[bytes]:
    """Split RFC 6587 octet-counted frames (``LEN SP MSG``)."""
    frames = []
    while data:
        length, _, rest = data.partition(b" ")
        size = int(length)
        frames.append(rest[:size])
        data = rest[size:]
    return frames


async def _log_all(sink: Any) -> Any:
    names: dict[Any, Any] = {}
    config = SupervisorConfig(
        min_level="trace", sinks=[sink], self_log="off", enrichers=[lambda: names]
    )
    async with logactors.open_logger(config) as log:
        for marker, props in _batch():
            names = dict(list(props.items())[1:])  # (after "v")
            log.info(marker + " {v}", v=props["v"])
        await log.flush()
        await trio.testing.wait_all_tasks_blocked()
        return log.metrics().sinks[sink.name]


_MARKER = re.compile(r"\b(?:good|bad)\d+z\b")


def _check(messages: list[str], metrics: Any) -> None:
    total = GOOD + len(HOSTILE)
    assert len(messages) == total
    assert (metrics.written, metrics.failed, metrics.restarts, metrics.dead) == (total, 0, 0, False)
    found: dict[str, list[int]] = {}
    for index, message in enumerate(messages):
        for marker in set(_MARKER.findall(message)):
            found.setdefault(marker, []).append(index)
    for i, (marker, _props) in enumerate(_batch()):
        assert found.get(marker) == [i], marker  # exactly once, in order
        if marker.startswith("good"):
            assert "format_error" not in messages[i]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_syslog_hostile_events_cost_only_themselves(
    nursery: trio.Nursery, transport: str
) -> None:
    """A batch with hostile events at random places: the receiver gets every event exactly
    once, ``written`` equals what it got, nothing failed, no restart."""
    collector: UdpCollector | TcpCollector
    collector = UdpCollector() if transport == "udp" else TcpCollector()
    address = await collector.start(nursery)
    sink = SyslogSink(
        name="syslog",
        address=address,
        transport=transport,  # type: ignore[arg-type]
        app_name="iso",
        batch=BatchConfig(max_events=1000, max_delay=0.05),
    )
    metrics = await _log_all(sink)
    if isinstance(collector, UdpCollector):
        raw = collector.datagrams
    else:
        await trio.testing.wait_all_tasks_blocked()
        raw = _octet_frames(collector.data)
    _check([m.decode("utf-8") for m in raw], metrics)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_gelf_hostile_events_cost_only_themselves(
    nursery: trio.Nursery, transport: str
) -> None:
    """GELF likewise: one message per event, each once, ``written`` equals what arrived."""
    collector: UdpCollector | TcpCollector
    collector = UdpCollector() if transport == "udp" else TcpCollector()
    address = await collector.start(nursery)
    sink = GelfSink(
        name="gelf",
        address=address,
        transport=transport,  # type: ignore[arg-type]
        batch=BatchConfig(max_events=1000, max_delay=0.05),
    )
    metrics = await _log_all(sink)
    if isinstance(collector, UdpCollector):
        raw = collector.datagrams
    else:
        await trio.testing.wait_all_tasks_blocked()
        raw = collector.data.split(b"\0")[:-1]
    messages = [json.dumps(json.loads(m), ensure_ascii=False) for m in raw]
    _check(messages, metrics)


class _FlakyLink:
    """A datagram link whose send fails once, at the ``fail_at``-th datagram."""

    def __init__(self, fail_at: int) -> None:
        self.sent: list[bytes] = []
        self.fail_at = fail_at

    async def send(self, datagram: bytes) -> None:
        if len(self.sent) == self.fail_at:
            self.fail_at = -1
            raise ConnectionRefusedError("receiver down for a moment")
        self.sent.append(datagram)


async def test_udp_retry_resumes_and_counts_every_datagram_once() -> None:
    """A send that fails part-way: the retry of the same batch sends only what was not sent,
    and the bytes reported are those of every datagram the receiver got."""
    writer = SyslogWriter(SyslogSink(name="s", address="127.0.0.1:9", app_name="iso"))
    link = _FlakyLink(fail_at=3)
    writer._datagrams = link  # type: ignore[assignment]
    batch = [
        LogEvent(0, Level.INFO, f"m{i}z", {"v": HostileStr("x")}, None, "", "") for i in range(6)
    ]
    with pytest.raises(ConnectionRefusedError):
        await writer.write_batch(batch)
    assert len(link.sent) == 3
    written = await writer.write_batch(batch)  # the actor's retry: the same sequence
    assert [re.findall(r"m\d+z", d.decode())[0] for d in link.sent] == [f"m{i}z" for i in range(6)]
    assert written == sum(len(d) for d in link.sent)
