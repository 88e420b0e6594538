"""Ethernet II framing (IEEE 802.3 clause 3, DIX "Ethernet II" type field) and MAC helpers.

A frame on the simulated wire is ``dst(6) src(6) ethertype(2) payload``; the 4-byte FCS is
not carried (like most captures). :meth:`EthernetFrame.encode` pads the payload to the
46-byte minimum with zeros, as a real NIC does, so the upper layer must use its own length
field (IPv4 total length, ARP's fixed size) to ignore the padding.

MAC addresses are lower-case ``"02:00:00:00:00:01"`` strings in the dataclasses; the
conversions are cached because the same few addresses are converted over and over.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Self

from ..errors import DecodeError

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_VLAN = 0x8100
ETHERTYPE_IPV6 = 0x86DD

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
HEADER_LEN = 14
MIN_PAYLOAD = 46  # 64-byte minimum frame minus header and FCS
MAX_PAYLOAD = 1500  # the standard Ethernet MTU

ETHERTYPE_NAMES = {ETHERTYPE_IPV4: "IPv4", ETHERTYPE_ARP: "ARP", ETHERTYPE_IPV6: "IPv6"}


@lru_cache(maxsize=4096)
def mac_to_bytes(mac: str) -> bytes:
    """``"02:00:5e:10:00:01"`` → 6 bytes; ``ValueError`` if it is not a MAC address."""
    parts = mac.split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise ValueError(f"not a MAC address: {mac!r}")
    return bytes.fromhex("".join(parts))


@lru_cache(maxsize=4096)
def mac_from_bytes(b: bytes) -> str:
    """6 bytes → ``"02:00:5e:10:00:01"``."""
    return b.hex(":")


def is_multicast(mac: str) -> bool:
    """The I/G bit (least significant bit of the first octet): group address."""
    return bool(int(mac[:2], 16) & 1)


def local_mac(index: int) -> str:
    """A locally administered unicast MAC (``02:…``, U/L bit set) numbered ``index``."""
    if not 0 <= index < 1 << 40:
        raise ValueError(f"MAC index out of range: {index}")
    return mac_from_bytes(b"\x02" + index.to_bytes(5, "big"))


@dataclass(frozen=True, slots=True)
class EthernetFrame:
    """An Ethernet II frame without FCS."""

    dst: str
    src: str
    ethertype: int
    payload: bytes

    def encode(self) -> bytes:
        payload = self.payload
        if len(payload) < MIN_PAYLOAD:
            payload = payload + bytes(MIN_PAYLOAD - len(payload))
        return (
            mac_to_bytes(self.dst)
            + mac_to_bytes(self.src)
            + self.ethertype.to_bytes(2, "big")
            + payload
        )

    @classmethod
    def decode(cls, data: bytes) -> Self:
        if len(data) < HEADER_LEN:
            raise DecodeError("Ethernet", "header", 0, f"truncated header: {len(data)} of 14 bytes")
        ethertype = int.from_bytes(data[12:14], "big")
        if ethertype < 0x0600:
            # An 802.3 length field (LLC/SNAP frames): not Ethernet II.
            raise DecodeError("Ethernet", "ethertype", 12, f"802.3 length {ethertype}, not a type")
        return cls(mac_from_bytes(data[0:6]), mac_from_bytes(data[6:12]), ethertype, data[14:])

    def __str__(self) -> str:
        name = ETHERTYPE_NAMES.get(self.ethertype, f"0x{self.ethertype:04x}")
        return f"Ethernet {self.src} → {self.dst} {name} ({len(self.payload)} bytes)"
