"""ICMP for IPv4 (RFC 792): echo, destination unreachable, time exceeded.

One dataclass :class:`IcmpMessage` carries type, code, the 4-byte "rest of header" (the
identifier and sequence of an echo, the next-hop MTU of "fragmentation needed", RFC 1191 §4)
and the payload: echo data, or for errors the quoted original datagram (its IP header and the
start of its payload) which :meth:`IcmpMessage.quoted` decodes for the transport that sent it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from ..checksum import internet_checksum
from ..errors import DecodeError
from .ipv4 import IPv4Packet

ECHO_REPLY = 0
DEST_UNREACHABLE = 3
ECHO_REQUEST = 8
TIME_EXCEEDED = 11

# Destination unreachable codes (RFC 792, RFC 1191, RFC 1812 §5.2.7.1)
NET_UNREACHABLE = 0
HOST_UNREACHABLE = 1
PROTOCOL_UNREACHABLE = 2
PORT_UNREACHABLE = 3
FRAGMENTATION_NEEDED = 4
# Time exceeded codes
TTL_EXCEEDED = 0
REASSEMBLY_TIME_EXCEEDED = 1

ERROR_TYPES = frozenset({DEST_UNREACHABLE, TIME_EXCEEDED, 4, 5, 12})
# RFC 1812 §4.3.2.3: quote as much as fits in a 576-byte ICMP datagram.
MAX_QUOTE = 576 - 20 - 8

_UNREACH_NAMES = {
    NET_UNREACHABLE: "net unreachable",
    HOST_UNREACHABLE: "host unreachable",
    PROTOCOL_UNREACHABLE: "protocol unreachable",
    PORT_UNREACHABLE: "port unreachable",
    FRAGMENTATION_NEEDED: "fragmentation needed",
}


@dataclass(frozen=True, slots=True)
class IcmpMessage:
    """An ICMP message; ``rest`` is the 32-bit word after the checksum."""

    type: int
    code: int
    rest: int = 0
    payload: bytes = b""
    checksum: int = field(default=0, compare=False)  # as received

    @classmethod
    def echo_request(cls, identifier: int, sequence: int, data: bytes) -> Self:
        return cls(ECHO_REQUEST, 0, (identifier << 16) | sequence, data)

    @classmethod
    def echo_reply(cls, identifier: int, sequence: int, data: bytes) -> Self:
        return cls(ECHO_REPLY, 0, (identifier << 16) | sequence, data)

    @classmethod
    def dest_unreachable(cls, code: int, original: bytes, next_hop_mtu: int = 0) -> Self:
        return cls(DEST_UNREACHABLE, code, next_hop_mtu & 0xFFFF, original[:MAX_QUOTE])

    @classmethod
    def time_exceeded(cls, code: int, original: bytes) -> Self:
        return cls(TIME_EXCEEDED, code, 0, original[:MAX_QUOTE])

    @property
    def identifier(self) -> int:
        return self.rest >> 16

    @property
    def sequence(self) -> int:
        return self.rest & 0xFFFF

    @property
    def next_hop_mtu(self) -> int:
        return self.rest & 0xFFFF

    @property
    def is_error(self) -> bool:
        return self.type in ERROR_TYPES

    def quoted(self) -> IPv4Packet | None:
        """The original datagram an error quotes (payload possibly cut short), or None."""
        if not self.is_error:
            return None
        try:
            return IPv4Packet.decode(self.payload, verify_checksum=False, allow_truncated=True)
        except DecodeError:
            return None

    def encode(self) -> bytes:
        body = self.rest.to_bytes(4, "big") + self.payload
        head = bytes((self.type, self.code))
        csum = internet_checksum(head + b"\x00\x00" + body)
        return head + csum.to_bytes(2, "big") + body

    @classmethod
    def decode(cls, data: bytes, *, verify_checksum: bool = True) -> Self:
        """An ICMP message; a bad checksum (over the whole message, RFC 792) is a
        :class:`DecodeError` unless ``verify_checksum`` is off (a capture's dissector)."""
        if len(data) < 8:
            raise DecodeError("ICMP", "header", 0, f"truncated header: {len(data)} of 8 bytes")
        checksum = int.from_bytes(data[2:4], "big")
        if verify_checksum and internet_checksum(data) != 0:
            raise DecodeError("ICMP", "checksum", 2, f"bad checksum 0x{checksum:04x}")
        return cls(data[0], data[1], int.from_bytes(data[4:8], "big"), data[8:], checksum)

    def __str__(self) -> str:
        if self.type == ECHO_REQUEST:
            return f"ICMP echo request id={self.identifier} seq={self.sequence}"
        if self.type == ECHO_REPLY:
            return f"ICMP echo reply id={self.identifier} seq={self.sequence}"
        if self.type == DEST_UNREACHABLE:
            name = _UNREACH_NAMES.get(self.code, f"code {self.code}")
            extra = f" (next-hop MTU {self.next_hop_mtu})" if self.code == 4 else ""
            return f"ICMP destination unreachable: {name}{extra}"
        if self.type == TIME_EXCEEDED:
            what = "TTL exceeded in transit" if self.code == 0 else "reassembly time exceeded"
            return f"ICMP time exceeded: {what}"
        return f"ICMP type {self.type} code {self.code}"


@dataclass(frozen=True, slots=True)
class IcmpErrorReport:
    """An ICMP error that arrived for a datagram we sent, handed to the transport."""

    reporter: str  # who sent the ICMP error (a router, or the destination)
    type: int
    code: int
    next_hop_mtu: int  # for "fragmentation needed" (RFC 1191), else 0
    quoted: IPv4Packet  # our original datagram as quoted (payload may be cut short)
    message: IcmpMessage
