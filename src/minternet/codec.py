"""Bounded reading and symmetric writing of wire formats (style.md §2).

:class:`Reader` never reads past its end: every pull is bounds-checked and raises a
:class:`~minternet.errors.DecodeError` naming the field and the offset. :meth:`Reader.block`
restricts reading to a length-prefixed block and checks it is consumed exactly.
:class:`Writer` appends big-endian integers and back-patches length prefixes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .errors import DecodeError


class Reader:
    """A cursor over ``data[start:end]`` whose reads cannot run past ``end``."""

    __slots__ = ("data", "end", "pos", "what")

    def __init__(self, data: bytes, what: str, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.what = what
        self.pos = start
        self.end = len(data) if end is None else end

    def error(self, field: str, reason: str, offset: int | None = None) -> DecodeError:
        return DecodeError(self.what, field, self.pos if offset is None else offset, reason)

    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def _need(self, n: int, field: str) -> int:
        pos = self.pos
        if n < 0 or pos + n > self.end:
            raise self.error(field, f"needs {n} bytes, {self.end - pos} left")
        self.pos = pos + n
        return pos

    def raw(self, n: int, field: str) -> bytes:
        pos = self._need(n, field)
        return self.data[pos : pos + n]

    def rest(self) -> bytes:
        pos, self.pos = self.pos, self.end
        return self.data[pos : self.end]

    def u8(self, field: str) -> int:
        pos = self._need(1, field)
        return self.data[pos]

    def u16(self, field: str) -> int:
        pos = self._need(2, field)
        return int.from_bytes(self.data[pos : pos + 2], "big")

    def u24(self, field: str) -> int:
        pos = self._need(3, field)
        return int.from_bytes(self.data[pos : pos + 3], "big")

    def u32(self, field: str) -> int:
        pos = self._need(4, field)
        return int.from_bytes(self.data[pos : pos + 4], "big")

    def u64(self, field: str) -> int:
        pos = self._need(8, field)
        return int.from_bytes(self.data[pos : pos + 8], "big")

    def vector(self, length_size: int, field: str) -> bytes:
        """A ``length_size``-byte big-endian length followed by that many bytes."""
        n = int.from_bytes(self.raw(length_size, field + ".length"), "big")
        return self.raw(n, field)

    @contextmanager
    def block(self, length: int, field: str) -> Iterator[Reader]:
        """Restrict reads to the next ``length`` bytes; they must be consumed exactly."""
        start = self.pos
        if length < 0 or start + length > self.end:
            raise self.error(field, f"block of {length} bytes, {self.end - start} left")
        sub = Reader(self.data, self.what, start, start + length)
        yield sub
        if sub.pos != sub.end:
            raise sub.error(field, f"{sub.end - sub.pos} bytes left unread in block")
        self.pos = start + length

    def expect_end(self, field: str) -> None:
        if self.pos != self.end:
            raise self.error(field, f"{self.end - self.pos} trailing bytes")


class Writer:
    """Appends big-endian fields to a bytearray; :meth:`block` back-patches a length."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def u8(self, v: int) -> None:
        self.buf.append(v)

    def u16(self, v: int) -> None:
        self.buf += v.to_bytes(2, "big")

    def u24(self, v: int) -> None:
        self.buf += v.to_bytes(3, "big")

    def u32(self, v: int) -> None:
        self.buf += v.to_bytes(4, "big")

    def u64(self, v: int) -> None:
        self.buf += v.to_bytes(8, "big")

    def raw(self, b: bytes) -> None:
        self.buf += b

    def vector(self, length_size: int, b: bytes) -> None:
        if len(b) >= 1 << (8 * length_size):
            raise ValueError(f"{len(b)} bytes do not fit a {length_size}-byte length")
        self.buf += len(b).to_bytes(length_size, "big")
        self.buf += b

    @contextmanager
    def block(self, length_size: int) -> Iterator[Writer]:
        """Write a length prefix of ``length_size`` bytes covering what the body writes."""
        at = len(self.buf)
        self.buf += bytes(length_size)
        yield self
        n = len(self.buf) - at - length_size
        if n >= 1 << (8 * length_size):
            raise ValueError(f"block of {n} bytes does not fit a {length_size}-byte length")
        self.buf[at : at + length_size] = n.to_bytes(length_size, "big")

    def getvalue(self) -> bytes:
        return bytes(self.buf)
