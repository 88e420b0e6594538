"""One direction of a TCP connection put back in order for the report's dissector.

A capture point sees segments in the order they reach it, not in sequence order: a segment
lost before the point comes again later (a retransmission), one the link reordered comes
after the one behind it. :class:`StreamBytes` keeps every payload byte once by its stream
offset (0 is the first byte after the SYN, RFC 9293 §3.4) — the first copy wins, as in
Wireshark's TCP reassembly; a later copy with other bytes is counted, not used — and grows
a contiguous prefix: the bytes a receiving application would have read by then. What
arrives beyond a gap is held until the gap is filled; what the dissector is done with (the
records already complete) can be let go, so the bytes kept are those of the record being
put together and those held past a gap.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import dataclass, field


@dataclass
class StreamBytes:
    """A byte stream rebuilt from segments placed by their offset (see the module)."""

    start: int = 0  # the stream offset of ``data[0]`` (bytes before it were let go)
    data: bytearray = field(default_factory=bytearray)  # contiguous bytes from ``start``
    held: dict[int, bytes] = field(default_factory=dict)  # disjoint chunks past the end
    _keys: list[int] = field(default_factory=list)  # the offsets of ``held``, sorted

    @property
    def end(self) -> int:
        """The stream offset just past the contiguous bytes."""
        return self.start + len(self.data)

    def add(self, off: int, payload: bytes) -> int:
        """Place ``payload`` at stream offset ``off`` (the bytes not seen yet; those seen keep
        their first copy). Returns how many of its bytes differ from that first copy (where
        it is still kept)."""
        end = off + len(payload)
        differ = 0
        if off < self.end:  # overlaps the contiguous bytes (or lies before them)
            lo, hi = max(off, self.start), min(end, self.end)
            if lo < hi:
                kept = self.data[lo - self.start : hi - self.start]
                differ += _differ(payload[lo - off : hi - off], kept)
            if end <= self.end:
                return differ
            payload, off = payload[self.end - off :], self.end
        pos = off
        keys = self._keys
        i = max(bisect_right(keys, off) - 1, 0)  # the held chunk that may hold ``off``
        new: list[int] = []
        while i < len(keys) and keys[i] < end:
            k = keys[i]
            chunk = self.held[k]
            i += 1
            if k + len(chunk) <= pos:
                continue
            if pos < k:  # a piece before this held chunk is new
                self.held[pos] = payload[pos - off : k - off]
                new.append(pos)
            lo, hi = max(pos, k), min(end, k + len(chunk))
            differ += _differ(payload[lo - off : hi - off], chunk[lo - k : hi - k])
            pos = k + len(chunk)
        if pos < end:
            self.held[pos] = payload[pos - off :]
            new.append(pos)
        for k in new:
            insort(keys, k)
        while keys and keys[0] == self.end:
            self.data += self.held.pop(keys.pop(0))
        return differ

    def get(self, lo: int, hi: int) -> bytes:
        """The contiguous bytes at stream offsets [lo, hi) (``start <= lo <= hi <= end``)."""
        return bytes(self.data[lo - self.start : hi - self.start])

    def release(self, upto: int) -> None:
        """Let go of the contiguous bytes before stream offset ``upto``."""
        cut = min(upto, self.end) - self.start
        if cut > 0:
            del self.data[:cut]
            self.start += cut


def _differ(a: bytes | bytearray, b: bytes | bytearray) -> int:
    """How many bytes of two equally long runs differ."""
    if a == b:
        return 0
    return sum(x != y for x, y in zip(a, b, strict=True))


__all__ = ["StreamBytes"]
