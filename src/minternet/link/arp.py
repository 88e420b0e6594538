"""ARP for IPv4 over Ethernet (RFC 826): the packet codec.

The cache, its timeouts and the queue of packets waiting for an answer live in
:mod:`minternet.node.neighbors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from ..codec import Reader
from ..ip.address import ip_from_bytes, ip_to_bytes
from .ethernet import mac_from_bytes, mac_to_bytes

HTYPE_ETHERNET = 1
PTYPE_IPV4 = 0x0800
OP_REQUEST = 1
OP_REPLY = 2
PACKET_LEN = 28
ZERO_MAC = "00:00:00:00:00:00"


@dataclass(frozen=True, slots=True)
class ArpPacket:
    """An Ethernet/IPv4 ARP packet (RFC 826 "Packet format")."""

    op: int
    sender_mac: str
    sender_ip: str
    target_mac: str
    target_ip: str

    @classmethod
    def request(cls, sender_mac: str, sender_ip: str, target_ip: str) -> Self:
        return cls(OP_REQUEST, sender_mac, sender_ip, ZERO_MAC, target_ip)

    def reply_to(self, my_mac: str) -> ArpPacket:
        """The answer to this request from the owner of :attr:`target_ip`."""
        return ArpPacket(OP_REPLY, my_mac, self.target_ip, self.sender_mac, self.sender_ip)

    def encode(self) -> bytes:
        return (
            b"\x00\x01\x08\x00\x06\x04"
            + self.op.to_bytes(2, "big")
            + mac_to_bytes(self.sender_mac)
            + ip_to_bytes(self.sender_ip)
            + mac_to_bytes(self.target_mac)
            + ip_to_bytes(self.target_ip)
        )

    @classmethod
    def decode(cls, data: bytes) -> Self:
        """Decode the first 28 bytes; what follows is Ethernet padding and is ignored."""
        r = Reader(data, "ARP")
        if r.u16("htype") != HTYPE_ETHERNET:
            raise r.error("htype", "only Ethernet (1) is supported", 0)
        if r.u16("ptype") != PTYPE_IPV4:
            raise r.error("ptype", "only IPv4 (0x0800) is supported", 2)
        if r.u8("hlen") != 6:
            raise r.error("hlen", "hardware address length must be 6", 4)
        if r.u8("plen") != 4:
            raise r.error("plen", "protocol address length must be 4", 5)
        op = r.u16("op")
        if op not in (OP_REQUEST, OP_REPLY):
            raise r.error("op", f"unknown opcode {op}", 6)
        return cls(
            op,
            mac_from_bytes(r.raw(6, "sender_mac")),
            ip_from_bytes(r.raw(4, "sender_ip")),
            mac_from_bytes(r.raw(6, "target_mac")),
            ip_from_bytes(r.raw(4, "target_ip")),
        )

    def __str__(self) -> str:
        if self.op == OP_REQUEST:
            return f"ARP who-has {self.target_ip} tell {self.sender_ip}"
        return f"ARP {self.sender_ip} is-at {self.sender_mac}"
