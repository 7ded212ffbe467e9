"""GELF 1.1: the message fields, chunking, compression, and both transports on real sockets."""

from __future__ import annotations

import gzip
import json
import logging
import re
from typing import Any

import pytest
import trio
import trio.testing

import logactors
from logactors import (
    BatchConfig,
    GelfSink,
    Level,
    LogEvent,
    MemorySink,
    RetryConfig,
    SupervisorConfig,
)
from logactors.formatting.gelf import (
    CHUNK_MAGIC,
    MAX_CHUNKS,
    GelfEncoder,
    chunk,
    field_name,
    gelf_dict,
)

from ..servers import TcpCollector, UdpCollector, refused_port

TS = 1_700_000_000_123_456_789
FIELD = re.compile(r"^[\w.\-]*$")


def event(
    template: str = "hello",
    level: Level = Level.INFO,
    exception: str | None = None,
    logger: str = "",
    **props: Any,
) -> LogEvent:
    return LogEvent(TS, level, template, props, exception, logger, "task")


def reassemble(datagrams: list[bytes]) -> list[bytes]:
    """Payloads from GELF datagrams: plain ones as they are, chunked ones put back together
    (checking every chunk's header), in order of completion."""
    out: list[bytes] = []
    pending: dict[bytes, dict[int, bytes]] = {}
    counts: dict[bytes, int] = {}
    for d in datagrams:
        if not d.startswith(CHUNK_MAGIC):
            out.append(d)
            continue
        message_id, seq, count = d[2:10], d[10], d[11]
        assert 0 < count <= MAX_CHUNKS and seq < count
        assert counts.setdefault(message_id, count) == count
        parts = pending.setdefault(message_id, {})
        assert seq not in parts
        parts[seq] = d[12:]
        if len(parts) == count:
            out.append(b"".join(parts[i] for i in range(count)))
            del pending[message_id]
    assert not pending, "incomplete chunked messages"
    return out


def decode(payload: bytes) -> dict[str, Any]:
    if payload[:2] == b"\x1f\x8b":
        payload = gzip.decompress(payload)
    result: dict[str, Any] = json.loads(payload)
    return result


def config(*sinks: Any, **kwargs: Any) -> SupervisorConfig:
    return SupervisorConfig(min_level="trace", sinks=sinks, **kwargs)


# -- the message ----------------------------------------------------------------------------------


def test_gelf_fields() -> None:
    """version, host, short_message, full_message (exception), timestamp in seconds, level
    (syslog severity), _logger and the properties as additional fields."""
    obj = gelf_dict(
        event(
            "Paid {amount}",
            Level.ERROR,
            "Traceback...\nKeyError: 'x'",
            "shop.pay",
            amount=9.5,
            user="bob",
        ),
        "web-1",
    )
    assert obj == {
        "version": "1.1",
        "host": "web-1",
        "short_message": "Paid 9.5",
        "full_message": "Traceback...\nKeyError: 'x'",
        "timestamp": 1_700_000_000.123457,
        "level": 3,
        "_logger": "shop.pay",
        "_amount": 9.5,
        "_user": "bob",
    }


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        (Level.TRACE, 7),
        (Level.DEBUG, 7),
        (Level.INFO, 6),
        (Level.WARNING, 4),
        (Level.ERROR, 3),
        (Level.CRITICAL, 2),
    ],
)
def test_level_is_always_sent(level: Level, severity: int) -> None:
    """``level`` is present for every level (GELF's default would be 1, alert)."""
    assert gelf_dict(event(level=level), "h")["level"] == severity


def test_no_exception_no_full_message() -> None:
    """full_message only when there is an exception; an empty message is never sent empty."""
    obj = gelf_dict(event(""), "h")
    assert "full_message" not in obj
    assert obj["short_message"] == "-"


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("user", "_user"),
        ("id", "_id_"),
        ("logger", "_logger_"),
        ("a b/c", "_a_b_c"),
        ("dotted.name-x", "_dotted.name-x"),
        ("ünï", "__n_"),
        ("", "_"),
    ],
)
def test_field_names(name: str, field: str) -> None:
    """Names match ^[\\w.-]*$ after the underscore; _id (reserved) is renamed."""
    assert field_name(name) == field
    assert FIELD.match(field[1:])


def test_id_property_is_never_sent_as_id() -> None:
    """A property called ``id`` does not become the forbidden ``_id``."""
    obj = gelf_dict(event(id=7, _id=8), "h")
    assert "_id" not in obj
    assert obj["_id_"] == 7
    assert obj["__id"] == 8


def test_field_values_are_strings_or_numbers() -> None:
    """GELF values: strings and numbers; other types are converted."""
    obj = gelf_dict(
        event(b=True, n=None, i=3, f=1.5, nan=float("nan"), big=2**70, d={"k": [1]}, l=[1, "x"]),
        "h",
    )
    assert (obj["_b"], obj["_n"], obj["_i"], obj["_f"]) == ("true", "null", 3, 1.5)
    assert (obj["_nan"], obj["_big"]) == ("nan", str(2**70))
    assert (obj["_d"], obj["_l"]) == ('{"k":[1]}', '[1,"x"]')


def test_colliding_field_names_are_kept_apart() -> None:
    """Two properties that sanitize to the same name both arrive."""
    obj = gelf_dict(event(**{"a b": 1, "a/b": 2}), "h")
    assert (obj["_a_b"], obj["_a_b_2"]) == (1, 2)


# -- chunking -------------------------------------------------------------------------------------


def test_chunk_headers_and_reassembly() -> None:
    """Chunks carry magic, message id, sequence number and count, and fit the datagram size."""
    payload = bytes(range(256)) * 10
    chunks = chunk(payload, b"ABCDEFGH", 100)
    assert len(chunks) == -(-len(payload) // 88)
    assert all(len(c) <= 100 for c in chunks)
    assert all(c[:10] == CHUNK_MAGIC + b"ABCDEFGH" for c in chunks)
    assert [(c[10], c[11]) for c in chunks] == [(i, len(chunks)) for i in range(len(chunks))]
    assert reassemble(list(reversed(chunks))) == [payload]


def test_chunk_refuses_more_than_128() -> None:
    """GELF allows at most 128 chunks."""
    chunk(b"x" * 128 * 52, b"12345678", 64)
    with pytest.raises(ValueError, match="128"):
        chunk(b"x" * (128 * 52 + 1), b"12345678", 64)


@pytest.mark.parametrize("compress", [False, True])
def test_oversized_message_is_reduced_to_fit(compress: bool) -> None:
    """A message too big for 128 chunks is cut (marked _truncated) instead of being sent in
    more chunks than Graylog accepts."""
    limit = 128 * (64 - 12)
    encoder = GelfEncoder("h", compress=compress, max_bytes=limit)
    text = "".join(f"{i:08x}" for i in range(20_000))  # barely compressible
    payload = encoder.encode(event("{text}", exception="trace " * 5000, text=text, other=1))
    assert len(payload) <= limit
    obj = decode(payload)
    assert obj["_truncated"] == "true"
    assert obj["_original_bytes"] > limit
    assert obj["short_message"].startswith(text[:100])
    assert obj["short_message"].endswith("…[truncated]")
    assert "_text" not in obj and "_other" not in obj
    assert obj["level"] == 6
    assert encoder.truncated == 1
    small = encoder.encode(event("fits"))
    assert decode(small)["short_message"] == "fits" and encoder.truncated == 1


# -- UDP on a real socket -------------------------------------------------------------------------


async def test_udp_one_datagram_per_small_event(nursery: trio.Nursery) -> None:
    """Small events: one plain JSON datagram each, in order."""
    collector = UdpCollector()
    address = await collector.start(nursery)
    sink = GelfSink(name="gelf", address=address, host="gelf-host", batch=BatchConfig(max_delay=0))
    async with logactors.open_logger(config(sink)) as log:
        for i in range(10):
            log.info("event {i}", i=i)
        await log.flush()
        await trio.testing.wait_all_tasks_blocked()
        metrics = log.metrics().sinks["gelf"]
    assert len(collector.datagrams) == 10
    objs = [json.loads(d) for d in collector.datagrams]
    assert [o["short_message"] for o in objs] == [f"event {i}" for i in range(10)]
    assert {o["host"] for o in objs} == {"gelf-host"}
    assert metrics.bytes == sum(len(d) for d in collector.datagrams)


@pytest.mark.parametrize("compress", [False, True])
async def test_udp_chunking_reassembles(nursery: trio.Nursery, compress: bool) -> None:
    """Events bigger than chunk_size arrive as chunks of at most chunk_size bytes that put
    back together give the full message (gzip-compressed when asked)."""
    collector = UdpCollector()
    address = await collector.start(nursery)
    sink = GelfSink(
        name="gelf",
        address=address,
        chunk_size=300,
        compress=compress,
        batch=BatchConfig(max_delay=0),
    )
    long_text = " ".join(f"word{i}" for i in range(2000))
    async with logactors.open_logger(config(sink)) as log:
        log.info("small")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("{text}", text=long_text, user="zoë")
        log.info("small again")
        await log.flush()
        await trio.testing.wait_all_tasks_blocked()
    assert all(len(d) <= 300 for d in collector.datagrams)
    chunked = [d for d in collector.datagrams if d.startswith(CHUNK_MAGIC)]
    assert len(chunked) > 1
    payloads = reassemble(collector.datagrams)
    if compress:
        assert all(p[:2] == b"\x1f\x8b" for p in payloads)
    objs = [decode(p) for p in payloads]
    assert [o["short_message"][:11] for o in objs] == ["small", long_text[:11], "small again"]
    big = objs[1]
    assert big["short_message"] == long_text
    assert big["_text"] == long_text and big["_user"] == "zoë"
    assert big["full_message"].startswith("Traceback")
    assert "RuntimeError: boom" in big["full_message"]
    assert big["level"] == 3


async def test_udp_more_than_128_chunks_is_truncated_and_reported(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    """An event that would need more than 128 chunks arrives in at most 128, marked as
    truncated, and the sink says so (stdlib warning, routed to the self-log when captured)."""
    collector = UdpCollector()
    address = await collector.start(nursery)
    sink = GelfSink(name="gelf", address=address, chunk_size=64, batch=BatchConfig(max_delay=0))
    text = "".join(f"{i:08x}" for i in range(5000))
    with caplog.at_level(logging.WARNING, logger="logactors.sinks.gelf"):
        async with logactors.open_logger(config(sink)) as log:
            log.info("{text}", text=text)
            await log.flush()
            await trio.testing.wait_all_tasks_blocked()
    assert 64 < len(collector.datagrams) <= 128
    [payload] = reassemble(collector.datagrams)
    obj = decode(payload)
    assert obj["_truncated"] == "true"
    assert text.startswith(obj["short_message"].removesuffix("…[truncated]"))
    assert any("truncated" in r.getMessage() and "'gelf'" in r.getMessage() for r in caplog.records)


async def test_udp_refused_goes_to_fallback() -> None:
    """Nobody listening: the refusal is a failed write; events reach the fallback."""
    sink = GelfSink(
        name="gelf",
        address=f"127.0.0.1:{refused_port()}",
        fallback="mem",
        retry=RetryConfig(attempts=1),
        batch=BatchConfig(max_delay=0),
    )
    async with logactors.open_logger(
        config(sink, MemorySink(name="mem", min_level="off"), self_log="off")
    ) as log:
        log.info("lost?")
        await log.flush()
        events = list(log.sink("mem").events)  # type: ignore[attr-defined]
        metrics = log.metrics().sinks["gelf"]
    assert [e.template for e in events] == ["lost?"]
    assert (metrics.written, metrics.rerouted) == (0, 1)


# -- TCP on a real socket -------------------------------------------------------------------------


async def test_tcp_nul_framing(nursery: trio.Nursery) -> None:
    """Over TCP each message is JSON followed by one NUL byte, never compressed."""
    collector = TcpCollector()
    address = await collector.start(nursery)
    sink = GelfSink(
        name="gelf", address=address, transport="tcp", chunk_size=64, batch=BatchConfig(max_delay=0)
    )
    async with logactors.open_logger(config(sink)) as log:
        log.info("one {x}", x="with\0nul")
        log.warning("two\nlines " + "z" * 5000)
        await log.flush()
        await trio.testing.wait_all_tasks_blocked()
        metrics = log.metrics().sinks["gelf"]
    data = collector.data
    assert data.endswith(b"\0")
    frames = data.split(b"\0")[:-1]
    assert len(frames) == 2
    objs = [json.loads(f) for f in frames]
    assert objs[0]["short_message"] == "one with\0nul" and objs[0]["_x"] == "with\0nul"
    assert objs[1]["short_message"] == "two\nlines " + "z" * 5000
    assert objs[1]["level"] == 4
    assert metrics.bytes == len(data)
    assert len(collector.connections) == 1


async def test_tcp_reconnects_after_the_peer_closed(nursery: trio.Nursery) -> None:
    """When the receiver closes the connection, the next write goes over a new one."""
    collector = TcpCollector()
    address = await collector.start(nursery)
    sink = GelfSink(name="gelf", address=address, transport="tcp", batch=BatchConfig(max_delay=0))
    async with logactors.open_logger(config(sink)) as log:
        log.info("first")
        await log.flush()
        await trio.testing.wait_all_tasks_blocked()
        collector.close_connections()
        await trio.testing.wait_all_tasks_blocked()
        log.info("second")
        await log.flush()
        await trio.testing.wait_all_tasks_blocked()
    assert len(collector.connections) == 2
    assert [json.loads(bytes(c).rstrip(b"\0"))["short_message"] for c in collector.connections] == [
        "first",
        "second",
    ]


async def test_tcp_refused_goes_to_fallback() -> None:
    """Connection refused: OSError, so the events go to the fallback."""
    sink = GelfSink(
        name="gelf",
        address=f"127.0.0.1:{refused_port()}",
        transport="tcp",
        fallback="mem",
        retry=RetryConfig(attempts=2, initial_backoff=0.001),
        batch=BatchConfig(max_delay=0),
    )
    async with logactors.open_logger(
        config(sink, MemorySink(name="mem", min_level="off"), self_log="off")
    ) as log:
        log.info("a")
        log.info("b")
        await log.flush()
        events = list(log.sink("mem").events)  # type: ignore[attr-defined]
    assert [e.template for e in events] == ["a", "b"]
