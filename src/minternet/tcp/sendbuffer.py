"""The send side's buffer: bytes the application wrote and the peer has not acknowledged
(RFC 9293 §3.3.1: SND.UNA to the end of the queued data).

A :class:`SendBuffer` keeps the writes as immutable chunks in sequence-offset order, so
taking a segment's payload is one slice of one chunk (a whole chunk is returned as is), and
an acknowledgment drops the chunks it covers. One growing ``bytearray`` trimmed at the front
made every append near the end of its allocation copy the whole window (hundreds of KiB)
into a new allocation — about a tenth of a bulk sender's CPU. Offsets are the connection's
unwrapped sequence offsets (the first data byte is offset 1).
"""

from __future__ import annotations

from bisect import bisect_right

#: A write shorter than this joins a last chunk shorter than this (HTTP heads, TLS records
#: written in pieces), so segments are rarely assembled from many small chunks.
COALESCE = 2048


class SendBuffer:
    """Bytes at offsets ``[start, end)``, written in order and released from the front."""

    __slots__ = ("_chunks", "_end", "_starts")

    def __init__(self, start: int = 1) -> None:
        self._chunks: list[bytes] = []
        self._starts: list[int] = []  # the offset of each chunk's first byte
        self._end = start  # one past the last byte written

    def append(self, data: bytes | memoryview) -> None:
        """Queue ``data`` after what was written before (one copy of it)."""
        n = len(data)
        if not n:
            return
        chunks = self._chunks
        if chunks and len(chunks[-1]) < COALESCE and n < COALESCE:
            chunks[-1] = chunks[-1] + data
        else:
            chunks.append(bytes(data))
            self._starts.append(self._end)
        self._end += n

    def slice(self, start: int, end: int) -> bytes:
        """The bytes at offsets ``[start, end)`` (written and not yet released)."""
        if end <= start:
            return b""
        starts, chunks = self._starts, self._chunks
        i = bisect_right(starts, start) - 1
        if i < 0 or end > self._end:
            raise LookupError(f"send buffer: [{start}, {end}) is not held")
        chunk = chunks[i]
        off = start - starts[i]
        if off + (end - start) <= len(chunk):
            return chunk[off : off + (end - start)]
        parts = [chunk[off:]]
        pos = starts[i] + len(chunk)
        while pos < end:
            i += 1
            chunk = chunks[i]
            parts.append(chunk[: end - pos])
            pos += len(chunk)
        return b"".join(parts)

    def release(self, upto: int) -> None:
        """Forget the chunks that lie wholly below offset ``upto`` (acknowledged data)."""
        starts, chunks = self._starts, self._chunks
        k = 0
        n = len(chunks)
        while k < n and starts[k] + len(chunks[k]) <= upto:
            k += 1
        if k:
            del chunks[:k]
            del starts[:k]

    @property
    def held(self) -> int:
        """Bytes kept, acknowledged ones of a partly acknowledged first chunk included."""
        return sum(len(c) for c in self._chunks)
