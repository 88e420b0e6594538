"""DNS over a byte stream: each message behind a two-octet length (RFC 1035 §4.2.2, RFC 7766 §8).

Sans-IO: :func:`frame` prefixes a message, :func:`take_framed` cuts the next whole message
off a receive buffer (or says that more bytes are needed). The socket loop that fills the
buffer is :func:`minternet.apps.dns_transport.read_framed`.
"""

from __future__ import annotations

from ..errors import LocalProtocolError

MAX_MESSAGE = 0xFFFF


def frame(message: bytes) -> bytes:
    """``message`` with its two-octet length in front."""
    if len(message) > MAX_MESSAGE:
        raise LocalProtocolError(f"a DNS message of {len(message)} bytes cannot be framed")
    return len(message).to_bytes(2, "big") + message


def take_framed(buf: bytearray) -> bytes | None:
    """The next whole message in ``buf`` (removed from it), or None if it is not all there."""
    if len(buf) < 2:
        return None
    n = int.from_bytes(buf[:2], "big")
    if len(buf) < 2 + n:
        return None
    message = bytes(buf[2 : 2 + n])
    del buf[: 2 + n]
    return message


__all__ = ["MAX_MESSAGE", "frame", "take_framed"]
