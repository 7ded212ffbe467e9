"""Network addresses of the socket sinks: ``"host:port"``, ``"[::1]:514"`` or ``(host, port)``."""

from __future__ import annotations

__all__ = ["parse_host_port"]


def parse_host_port(address: object, default_port: int | None = None) -> tuple[str, int]:
    """Split a socket sink's address into host and port.

    Args:
        address: ``"host:port"``, ``"[ipv6]:port"``, ``"host"`` (with ``default_port``) or a
            ``(host, port)`` pair.
        default_port: the port when the address names none.

    Returns:
        ``(host, port)`` with the brackets of an IPv6 literal removed.

    Raises:
        ValueError: the address cannot be read, or the port is not in 1..65535.
    """
    if isinstance(address, tuple) and len(address) == 2:
        host, port = address
        if not isinstance(host, str) or not host:
            raise ValueError(f"host must be a non-empty string (got {host!r})")
        if isinstance(port, bool) or not isinstance(port, int):
            raise ValueError(f"port must be an integer (got {port!r})")
    elif isinstance(address, str) and address.strip():
        text = address.strip()
        port_text: str | None = None
        if text.startswith("["):
            host, sep, rest = text[1:].partition("]")
            if not sep or (rest and not rest.startswith(":")):
                raise ValueError(f"cannot read address {address!r} (expected '[ipv6]:port')")
            port_text = rest[1:] if rest else None
        elif text.count(":") == 1:
            host, _, port_text = text.partition(":")
        else:  # a bare host name, IPv4 address or unbracketed IPv6 literal
            host = text
        if port_text is None:
            if default_port is None:
                raise ValueError(f"address {address!r} has no port (expected 'host:port')")
            port = default_port
        else:
            try:
                port = int(port_text)
            except ValueError:
                raise ValueError(f"port must be a number in {address!r}") from None
        if not host:
            raise ValueError(f"address {address!r} has no host")
    else:
        raise ValueError(f"must be 'host:port' or (host, port) (got {address!r})")
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be in 1..65535 (got {port})")
    return host, port
