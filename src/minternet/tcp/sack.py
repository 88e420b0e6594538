"""The sender's SACK scoreboard and loss-recovery arithmetic (RFC 6675).

The scoreboard keeps the byte ranges the receiver reported with SACK blocks (RFC 2018) as
disjoint, sorted ``[start, end)`` intervals of unwrapped sequence offsets above SND.UNA. From
it come the three things RFC 6675 recovery needs: ``IsLost`` (§4: more than
``(DupThresh - 1) * SMSS`` bytes or ``DupThresh`` discontiguous ranges SACKed above a hole),
``NextSeg`` rule 1 (the first lost hole not yet retransmitted) and ``pipe`` (§4: the bytes
believed to be in the network). Work per ACK is proportional to the number of holes, never
to the amount of data outstanding.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator

DUP_THRESH = 3


class Scoreboard:
    """SACKed ranges above the cumulative ACK point."""

    __slots__ = ("ends", "sacked_bytes", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.sacked_bytes = 0

    def __bool__(self) -> bool:
        return bool(self.starts)

    def __len__(self) -> int:
        return len(self.starts)

    def ranges(self) -> list[tuple[int, int]]:
        return list(zip(self.starts, self.ends, strict=True))

    def clear(self) -> None:
        self.starts.clear()
        self.ends.clear()
        self.sacked_bytes = 0

    def add(self, blocks: Iterable[tuple[int, int]], una: int, snd_max: int) -> int:
        """Record SACK blocks (offsets); returns how many bytes were newly SACKed.

        Blocks at or below ``una`` (D-SACK, stale) or beyond ``snd_max`` (bogus) are clipped
        or ignored (RFC 6675 §5: only blocks that are not yet ACKed).
        """
        before = self.sacked_bytes
        for start, end in blocks:
            start = max(start, una)
            end = min(end, snd_max)
            if end > start:
                self._insert(start, end)
        return self.sacked_bytes - before

    def _insert(self, start: int, end: int) -> None:
        starts, ends = self.starts, self.ends
        i = bisect_left(ends, start)  # first range that ends at or after our start
        j = i
        new_start, new_end = start, end
        removed = 0
        while j < len(starts) and starts[j] <= end:
            new_start = min(new_start, starts[j])
            new_end = max(new_end, ends[j])
            removed += ends[j] - starts[j]
            j += 1
        starts[i:j] = [new_start]
        ends[i:j] = [new_end]
        self.sacked_bytes += (new_end - new_start) - removed

    def advance(self, una: int) -> None:
        """Forget everything below the new cumulative ACK point ``una``."""
        starts, ends = self.starts, self.ends
        k = 0
        while k < len(starts) and ends[k] <= una:
            self.sacked_bytes -= ends[k] - starts[k]
            k += 1
        if k:
            del starts[:k]
            del ends[:k]
        if starts and starts[0] < una:
            self.sacked_bytes -= una - starts[0]
            starts[0] = una

    def covers(self, seq: int) -> bool:
        """True if byte ``seq`` has been SACKed."""
        i = bisect_right(self.starts, seq) - 1
        return i >= 0 and seq < self.ends[i]

    @property
    def highest(self) -> int | None:
        """The highest SACKed offset (exclusive), if any."""
        return self.ends[-1] if self.ends else None

    def lost_below(self, smss: int) -> int:
        """The boundary L: every hole below L is lost per RFC 6675 ``IsLost``; 0 if none."""
        starts, ends = self.starts, self.ends
        threshold = (DUP_THRESH - 1) * smss
        acc = 0
        n = len(starts)
        for k in range(n - 1, -1, -1):
            acc += ends[k] - starts[k]
            if acc > threshold or n - k >= DUP_THRESH:
                return starts[k]
        return 0

    def holes(self, una: int, upto: int) -> Iterator[tuple[int, int]]:
        """The un-SACKed ranges between ``una`` and ``upto``."""
        at = una
        for s, e in zip(self.starts, self.ends, strict=True):
            if s >= upto:
                break
            if s > at:
                yield at, min(s, upto)
            at = max(at, e)
        if at < upto:
            yield at, upto

    def next_lost(self, una: int, high_rxt: int, smss: int) -> tuple[int, int] | None:
        """NextSeg rule 1: the first lost, not yet retransmitted range (at most SMSS)."""
        boundary = self.lost_below(smss)
        for s, e in self.holes(max(una, high_rxt), boundary):
            return s, min(e, s + smss)
        return None

    def pipe(self, una: int, snd_max: int, high_rxt: int, smss: int) -> int:
        """RFC 6675 §4 ``SetPipe``: outstanding, minus SACKed and lost, plus retransmitted."""
        boundary = self.lost_below(smss)
        lost = 0
        retransmitted = 0
        for s, e in self.holes(una, boundary):
            lost += e - s
            if high_rxt > s:
                retransmitted += min(e, high_rxt) - s
        return (snd_max - una) - self.sacked_bytes - lost + retransmitted
