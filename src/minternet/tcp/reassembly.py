"""The receive side's buffer: in-order data for the application, out-of-order pieces held
for reassembly (RFC 9293 §3.10.7.4 "seventh"), where the peer's FIN sits, and the SACK
blocks to report (RFC 2018 §4, with the D-SACK block of RFC 2883 first when a duplicate
arrived).

Offsets are unwrapped sequence offsets from the peer's ISN (the connection converts them);
:class:`Reassembler` never sees a 32-bit number. Pieces are kept disjoint and sorted, so a
retransmission overlapping several held pieces stores only the gaps.
"""

from __future__ import annotations

from bisect import bisect_left, insort


class Reassembler:
    """Received bytes: a readable in-order buffer plus out-of-order pieces above it."""

    __slots__ = ("_buf", "_head", "_last", "_pieces", "_starts", "dsack", "fin_at")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._head = 0
        self._starts: list[int] = []
        self._pieces: dict[int, bytes] = {}
        self._last: int | None = None  # start of the most recently received piece
        self.fin_at: int | None = None  # where an out-of-order FIN sits
        self.dsack: tuple[int, int] | None = None  # a duplicate to report once (RFC 2883)

    # -- the application's side ----------------------------------------------------------

    @property
    def readable(self) -> int:
        return len(self._buf) - self._head

    def read(self, max_bytes: int) -> bytes:
        head = self._head
        avail = len(self._buf) - head
        if avail <= 0:
            return b""
        n = min(avail, max_bytes)
        data = bytes(self._buf[head : head + n])
        head += n
        if head == len(self._buf):
            self._buf.clear()
            head = 0
        elif head > 65536 and head * 2 > len(self._buf):
            del self._buf[:head]
            head = 0
        self._head = head
        return data

    # -- the network's side --------------------------------------------------------------

    @property
    def has_holes(self) -> bool:
        """Out-of-order pieces, or a FIN beyond RCV.NXT, are held."""
        return bool(self._starts) or self.fin_at is not None

    @property
    def held(self) -> int:
        """Bytes held out of order."""
        return sum(len(p) for p in self._pieces.values())

    def append(self, data: bytes) -> None:
        """In-order data at RCV.NXT."""
        self._buf += data

    def duplicate(self, start: int, end: int) -> None:
        """``[start, end)`` arrived again: report it in the next ACK's first block."""
        if end > start:
            self.dsack = (start, end)

    def store(self, seq: int, payload: bytes) -> None:
        """Keep an out-of-order piece; parts already held are reported as duplicates."""
        end = seq + len(payload)
        self._last = seq
        starts, pieces = self._starts, self._pieces
        i = bisect_left(starts, seq)
        # Trim against the piece before and skip what later pieces already hold.
        if i > 0:
            prev = starts[i - 1]
            prev_end = prev + len(pieces[prev])
            if prev_end >= end:
                self.duplicate(seq, end)
                return
            if prev_end > seq:
                self.duplicate(seq, prev_end)
                payload = payload[prev_end - seq :]
                seq = prev_end
        while i < len(starts) and starts[i] < end:
            s = starts[i]
            s_end = s + len(pieces[s])
            if s > seq:
                self._put(seq, payload[: s - seq])
                i += 1
            if s_end >= end:
                self.duplicate(max(s, seq), end)
                return
            self.duplicate(max(s, seq), s_end)
            payload = payload[s_end - seq :]
            seq = s_end
            i = bisect_left(starts, seq)
        if payload:
            self._put(seq, payload)

    def store_fin(self, fin_at: int) -> None:
        """A FIN beyond RCV.NXT: held until the data before it is in, and reported in the
        SACK blocks as the sequence number it occupies (RFC 9293 §3.4: the FIN takes one;
        Linux's out-of-order queue covers it too), so the sender learns that the data
        before it is missing."""
        self.fin_at = fin_at
        self._last = fin_at

    def _put(self, seq: int, data: bytes) -> None:
        if seq in self._pieces:
            return
        insort(self._starts, seq)
        self._pieces[seq] = data

    def drain(self, rcv_nxt: int) -> int:
        """Move the pieces that now continue the in-order data; returns the new RCV.NXT."""
        starts, pieces = self._starts, self._pieces
        k = 0
        while k < len(starts) and starts[k] <= rcv_nxt:
            s = starts[k]
            data = pieces.pop(s)
            end = s + len(data)
            if end > rcv_nxt:
                self._buf += data[rcv_nxt - s :]
                rcv_nxt = end
            k += 1
        del starts[:k]
        return rcv_nxt

    def sack_block_count(self, limit: int) -> int:
        """How many blocks the next :meth:`sack_blocks` call will return (it does not
        consume the pending D-SACK block)."""
        return min(len(self._held_ranges()) + (self.dsack is not None), limit)

    def _held_ranges(self) -> list[tuple[int, int]]:
        """The held pieces merged into ranges, in order, the one a held FIN occupies
        included (joined to the range it ends, if any)."""
        blocks: list[tuple[int, int]] = []
        pieces = self._pieces
        for s in self._starts:
            e = s + len(pieces[s])
            if blocks and blocks[-1][1] >= s:
                blocks[-1] = (blocks[-1][0], max(blocks[-1][1], e))
            else:
                blocks.append((s, e))
        fin_at = self.fin_at
        if fin_at is not None:
            if blocks and blocks[-1][1] == fin_at:
                blocks[-1] = (blocks[-1][0], fin_at + 1)
            else:
                blocks.append((fin_at, fin_at + 1))
        return blocks

    def sack_blocks(self, limit: int) -> list[tuple[int, int]]:
        """RFC 2018 §4: merged held ranges, the most recently changed first; a pending
        D-SACK block (RFC 2883 §4) goes before them and is reported once."""
        blocks = self._held_ranges()
        last = self._last
        if last is not None:
            for i, (s, e) in enumerate(blocks):
                if s <= last < e:
                    blocks.insert(0, blocks.pop(i))
                    break
        if self.dsack is not None:
            blocks.insert(0, self.dsack)
            self.dsack = None
        return blocks[:limit]
