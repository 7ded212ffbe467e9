"""Configuration of the network sinks: loading from tables, and validation messages."""

from __future__ import annotations

from typing import Any

import pytest

import logactors
from logactors import ConfigError, GelfSink, HttpSink, SyslogSink
from logactors._address import parse_host_port


def problems(**sink: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        logactors.load_config({"sinks": [sink]})
    return info.value.problems


def test_load_network_sinks_from_tables() -> None:
    """type = http/syslog/gelf tables become the config classes, with lenient values."""
    config = logactors.load_config(
        {
            "sinks": [
                {
                    "type": "http",
                    "name": "seq",
                    "url": "http://seq:5341",
                    "protocol": "seq",
                    "timeout": "2s",
                    "compress": True,
                    "api_key": "k",
                },
                {
                    "type": "syslog",
                    "name": "sys",
                    "address": ["10.0.0.1", 6514],
                    "transport": "tcp",
                    "facility": "local0",
                    "app_name": "shop",
                },
                {"type": "gelf", "name": "graylog", "address": "graylog:12201", "chunk_size": 8154},
            ]
        }
    )
    http, syslog, gelf = config.sinks
    assert isinstance(http, HttpSink) and http.timeout == 2.0 and http.protocol == "seq"
    assert isinstance(syslog, SyslogSink) and syslog.address == ("10.0.0.1", 6514)
    assert isinstance(gelf, GelfSink) and gelf.chunk_size == 8154


def test_http_validation() -> None:
    """Every HTTP problem is reported with its path."""
    found = problems(
        type="http",
        url="ftp://x",
        protocol="kafka",
        timeout=0,
        headers={"X": 1},
        bearer_token="t",
        username="u",
        labels=[""],
        index="",
    )
    assert "sinks[0].url: must start with http:// or https:// (got 'ftp://x')" in found
    assert any(p.startswith("sinks[0].protocol: must be one of") for p in found)
    assert any(p.startswith("sinks[0].timeout: must be > 0") for p in found)
    assert any(p.startswith("sinks[0].headers:") for p in found)
    assert any(p.startswith("sinks[0].bearer_token: give either") for p in found)
    assert any(p.startswith("sinks[0].labels:") for p in found)
    assert "sinks[0].index: must not be empty" in found


def test_http_line_format_must_be_a_line_format() -> None:
    """json/loki lines are json, clef or clef-rendered."""
    with pytest.raises(ConfigError, match="format: the loki protocol sends lines in"):
        HttpSink(url="http://x", protocol="loki", format="otlp").check()
    assert HttpSink(url="http://x", protocol="loki", format="clef").format == "clef"


def test_http_password_needs_username() -> None:
    """A password alone is an error."""
    with pytest.raises(ConfigError, match="password: needs a username"):
        HttpSink(url="http://x", password="p").check()


def test_syslog_validation() -> None:
    """Address, facility, transport and size are checked."""
    found = problems(
        type="syslog",
        address="host:99999",
        facility="local9",
        transport="sctp",
        max_message_bytes=100,
    )
    assert "sinks[0].address: port must be in 1..65535 (got 99999)" in found
    assert any(p.startswith("sinks[0].facility: unknown facility 'local9'") for p in found)
    assert any(p.startswith("sinks[0].transport: must be one of") for p in found)
    assert "sinks[0].max_message_bytes: must be >= 480 (got 100)" in found
    with pytest.raises(ConfigError, match="65507"):
        SyslogSink(max_message_bytes=70_000).check()


def test_syslog_unix_address_is_a_path() -> None:
    """For unix the address is a path, not host:port."""
    assert SyslogSink(address="/dev/log", transport="unix").address == "/dev/log"
    with pytest.raises(ConfigError, match="address: must not be empty"):
        SyslogSink(address="", transport="unix").check()


def test_gelf_validation() -> None:
    """No compression over TCP; chunk size bounds; address."""
    found = problems(
        type="gelf", address="no-port-here:", transport="tcp", compress=True, chunk_size=10
    )
    assert any(p.startswith("sinks[0].address: port must be a number") for p in found)
    assert any(p.startswith("sinks[0].compress: GELF over TCP cannot be compressed") for p in found)
    assert "sinks[0].chunk_size: must be >= 64 (got 10)" in found


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("h:1", ("h", 1)),
        ("[::1]:514", ("::1", 514)),
        ("::1", ("::1", 9)),
        ("[::1]", ("::1", 9)),
        ("host", ("host", 9)),
        (("h", 2), ("h", 2)),
        (" h:3 ", ("h", 3)),
    ],
)
def test_parse_host_port(address: Any, expected: tuple[str, int]) -> None:
    """host:port, bracketed IPv6, bare hosts with the default port, and pairs."""
    assert parse_host_port(address, 9) == expected


@pytest.mark.parametrize("address", ["", ":5", "h:x", "h:0", ("h", "5"), ("", 5), 7, "[::1"])
def test_parse_host_port_rejects(address: Any) -> None:
    """Unreadable addresses are ValueErrors."""
    with pytest.raises(ValueError):
        parse_host_port(address, 9)
