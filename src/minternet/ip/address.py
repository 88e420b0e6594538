"""IPv4 addresses as dotted-quad strings, 4 bytes and integers, and ``a.b.c.d/n`` prefixes.

The :mod:`ipaddress` module is correct but slow for a per-packet path, so the conversions
here are small and cached; they raise :class:`ValueError` on anything that is not an address.
"""

from __future__ import annotations

from functools import lru_cache

BROADCAST = "255.255.255.255"
ANY = "0.0.0.0"


@lru_cache(maxsize=8192)
@lru_cache(maxsize=8192)
def ip_to_bytes(addr: str) -> bytes:
    parts = addr.split(".")
    if len(parts) != 4:
        raise ValueError(f"not an IPv4 address: {addr!r}")
    try:
        values = [int(p, 10) for p in parts]
    except ValueError:
        raise ValueError(f"not an IPv4 address: {addr!r}") from None
    if any(not 0 <= v <= 255 for v in values) or any(not p.isdigit() for p in parts):
        raise ValueError(f"not an IPv4 address: {addr!r}")
    return bytes(values)


@lru_cache(maxsize=8192)
def ip_from_bytes(b: bytes) -> str:
    return f"{b[0]}.{b[1]}.{b[2]}.{b[3]}"


def ip_to_int(addr: str) -> int:
    return int.from_bytes(ip_to_bytes(addr), "big")


def ip_from_int(value: int) -> str:
    return ip_from_bytes(value.to_bytes(4, "big"))


def is_ip(text: str) -> bool:
    try:
        ip_to_bytes(text)
    except ValueError:
        return False
    return True


def mask_of(prefix_len: int) -> int:
    if not 0 <= prefix_len <= 32:
        raise ValueError(f"prefix length must be 0..32, not {prefix_len}")
    return (0xFFFFFFFF << (32 - prefix_len)) & 0xFFFFFFFF


def parse_interface(text: str) -> tuple[str, int]:
    """``"192.168.1.10/24"`` → ``("192.168.1.10", 24)``."""
    addr, sep, plen = text.partition("/")
    if not sep or not plen.isdigit():
        raise ValueError(f"expected ADDRESS/PREFIX-LENGTH, got {text!r}")
    ip_to_bytes(addr)
    mask_of(int(plen))
    return addr, int(plen)


def network_of(addr: str, prefix_len: int) -> str:
    return ip_from_int(ip_to_int(addr) & mask_of(prefix_len))


def directed_broadcast(addr: str, prefix_len: int) -> str:
    return ip_from_int(ip_to_int(addr) | (~mask_of(prefix_len) & 0xFFFFFFFF))


def parse_prefix(text: str) -> tuple[str, int]:
    """``"10.0.0.0/8"`` → ``("10.0.0.0", 8)``; host bits must be zero."""
    addr, plen = parse_interface(text)
    if network_of(addr, plen) != addr:
        raise ValueError(f"{text!r} has host bits set")
    return addr, plen
