"""UDP (RFC 768): the datagram codec with the IPv4 pseudo-header checksum.

A transmitted checksum of zero means "no checksum"; a computed zero is sent as 0xFFFF
(RFC 768, "Fields"). The checksum needs the IP source and destination, so
:meth:`UdpDatagram.encode` and :meth:`UdpDatagram.decode` take them; without them no
checksum is sent or checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from ..checksum import internet_checksum, pseudo_header_sum
from ..errors import DecodeError
from ..ip.address import ip_to_bytes
from ..ip.ipv4 import PROTO_UDP

HEADER_LEN = 8
MAX_PAYLOAD = 65535 - 20 - HEADER_LEN


@dataclass(frozen=True, slots=True)
class UdpDatagram:
    src_port: int
    dst_port: int
    payload: bytes
    checksum: int = field(default=0, compare=False)  # as received

    def encode(self, src: str | None = None, dst: str | None = None) -> bytes:
        length = HEADER_LEN + len(self.payload)
        if length > 65535:
            raise ValueError(f"UDP datagram of {length} bytes exceeds 65535")
        head = (
            self.src_port.to_bytes(2, "big")
            + self.dst_port.to_bytes(2, "big")
            + length.to_bytes(2, "big")
        )
        if src is None or dst is None:
            return head + b"\x00\x00" + self.payload
        start = pseudo_header_sum(ip_to_bytes(src), ip_to_bytes(dst), PROTO_UDP, length)
        csum = internet_checksum(head + b"\x00\x00" + self.payload, start) or 0xFFFF
        return head + csum.to_bytes(2, "big") + self.payload

    @classmethod
    def decode(cls, data: bytes, src: str | None = None, dst: str | None = None) -> Self:
        """Decode; with ``src``/``dst`` a non-zero checksum is verified."""
        if len(data) < HEADER_LEN:
            raise DecodeError("UDP", "header", 0, f"truncated header: {len(data)} of 8 bytes")
        length = int.from_bytes(data[4:6], "big")
        if length < HEADER_LEN:
            raise DecodeError("UDP", "length", 4, f"length {length} < 8")
        if length > len(data):
            raise DecodeError("UDP", "payload", 8, f"truncated: {len(data)} of {length} bytes")
        checksum = int.from_bytes(data[6:8], "big")
        if checksum and src is not None and dst is not None:
            start = pseudo_header_sum(ip_to_bytes(src), ip_to_bytes(dst), PROTO_UDP, length)
            if internet_checksum(data[:length], start) != 0:
                raise DecodeError("UDP", "checksum", 6, f"bad checksum 0x{checksum:04x}")
        return cls(
            int.from_bytes(data[0:2], "big"),
            int.from_bytes(data[2:4], "big"),
            data[8:length],
            checksum,
        )

    def __str__(self) -> str:
        return f"UDP {self.src_port} → {self.dst_port} ({len(self.payload)} bytes)"
