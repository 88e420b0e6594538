"""Sequence-number arithmetic modulo 2**32 (RFC 9293 §3.4).

On the wire a sequence number is 32 bits and wraps. Inside a connection we keep *unwrapped*
offsets from the initial sequence number — plain Python ints that only grow — so every
comparison is an ordinary ``<``. :func:`unwrap` turns a 32-bit number from a segment back into
the offset nearest to one we expect, which is correct as long as the two are less than 2**31
apart (the window is far smaller). The wrap-safe comparisons below are the RFC's
``SEG.SEQ < RCV.NXT`` style for code that works directly on 32-bit values.
"""

from __future__ import annotations

MOD = 1 << 32
MASK = MOD - 1
HALF = 1 << 31


def seq_add(a: int, n: int) -> int:
    """``a + n`` modulo 2**32."""
    return (a + n) & MASK


def seq_diff(a: int, b: int) -> int:
    """The signed distance ``a - b`` in (-2**31, 2**31]."""
    d = (a - b) & MASK
    return d - MOD if d > HALF else d


def seq_lt(a: int, b: int) -> bool:
    return seq_diff(a, b) < 0


def seq_le(a: int, b: int) -> bool:
    return seq_diff(a, b) <= 0


def seq_gt(a: int, b: int) -> bool:
    return seq_diff(a, b) > 0


def seq_ge(a: int, b: int) -> bool:
    return seq_diff(a, b) >= 0


def seq_between(lo: int, x: int, hi: int) -> bool:
    """``lo <= x < hi`` on the circle (``lo == hi`` means an empty range)."""
    return ((x - lo) & MASK) < ((hi - lo) & MASK)


def wrap(base: int, offset: int) -> int:
    """The 32-bit wire value of ``offset`` bytes after the initial number ``base``."""
    return (base + offset) & MASK


def unwrap(base: int, wire: int, near: int) -> int:
    """The offset from ``base`` whose wire value is ``wire``, nearest to offset ``near``."""
    return near + seq_diff(wire, (base + near) & MASK)
