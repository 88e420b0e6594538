"""The Internet checksum (RFC 1071), used by IPv4, ICMP, UDP and TCP.

Computed without a per-byte Python loop: the data is summed as one big integer of 16-bit
words by folding 64-bit chunks, which stays in C for the heavy lifting.
"""

from __future__ import annotations


def ones_complement_sum(data: bytes, start: int = 0) -> int:
    """The 16-bit one's-complement sum of ``data`` (odd length padded with a zero byte)."""
    if len(data) & 1:
        data = data + b"\x00"
    # Treat the whole buffer as one big integer; summing it modulo 2**16 - 1 is equivalent to
    # the one's-complement sum of its 16-bit words (since 2**16 ≡ 1 mod 2**16 - 1).
    total = int.from_bytes(data, "big") % 0xFFFF + start
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    # The modulo maps an all-ones sum to 0; one's-complement arithmetic keeps 0xFFFF for any
    # non-zero input whose words sum to a multiple of 0xFFFF.
    if total == 0 and (start or any(data)):
        return 0xFFFF
    return total


def internet_checksum(data: bytes, start: int = 0) -> int:
    """The checksum field value: the complement of the one's-complement sum."""
    return ~ones_complement_sum(data, start) & 0xFFFF


def pseudo_header_sum(src: bytes, dst: bytes, protocol: int, length: int) -> int:
    """Partial sum of the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1) for UDP and TCP."""
    return ones_complement_sum(src + dst + bytes((0, protocol)) + length.to_bytes(2, "big"))


def checksum_adjust(checksum: int, old_sum: int, new_sum: int) -> int:
    """A checksum field after words summing to ``old_sum`` became words summing to
    ``new_sum``: HC' = ~(~HC + ~m + m') (RFC 1624 §3, eqn. 3).

    ``old_sum``/``new_sum`` are one's-complement sums (a single 16-bit word is its own sum;
    :func:`ones_complement_sum` of the bytes otherwise). Used by a router's TTL decrement and
    by NAT's address and port rewrites, which must not recompute over the whole packet.
    """
    total = (~checksum & 0xFFFF) + (~old_sum & 0xFFFF) + new_sum
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
