"""RDATA of the record types we know (RFC 1035 §3.3–3.4, RFC 3596 §2.2), and the rest raw.

Each type is a frozen dataclass. ``to_wire(buf, comp)`` appends it to a message being built;
names in NS, CNAME, SOA, MX and PTR may be compressed (they are the RFC 1035 types, RFC 3597
§4), others never. ``from_wire(data, pos, end)`` reads exactly the RDLENGTH octets
``data[pos:end]`` — anything left over or missing is a :class:`DecodeError`. A type we do
not know is kept as :class:`Unknown` raw bytes, re-emitted byte for byte (RFC 3597).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from ..errors import DecodeError
from .codes import RType, type_name
from .name import Compression, Name, decode_name, encode_name


@dataclass(frozen=True, slots=True)
class Rdata:
    """Base of the RDATA classes."""

    rtype: ClassVar[int] = 0
    compressible: ClassVar[bool] = False

    @property
    def type_code(self) -> int:
        return self.rtype

    def to_wire(self, buf: bytearray, comp: Compression | None) -> None:
        raise NotImplementedError

    @classmethod
    def from_wire(cls, data: bytes, pos: int, end: int, what: str = "dns") -> Self:
        raise NotImplementedError

    def to_text(self) -> str:
        raise NotImplementedError

    def encode(self) -> bytes:
        """The RDATA alone, uncompressed."""
        buf = bytearray()
        self.to_wire(buf, None)
        return bytes(buf)

    @classmethod
    def decode(cls, data: bytes) -> Self:
        return cls.from_wire(data, 0, len(data))


def _exact(what: str, field: str, pos: int, end: int) -> None:
    if pos != end:
        raise DecodeError(
            what,
            field,
            pos,
            f"RDATA has {end - pos} bytes left over"
            if pos < end
            else f"RDATA overran RDLENGTH by {pos - end} bytes",
        )


@dataclass(frozen=True, slots=True)
class A(Rdata):
    address: str
    rtype: ClassVar[int] = RType.A

    def __post_init__(self) -> None:
        ipaddress.IPv4Address(self.address)

    def to_wire(self, buf: bytearray, comp: Compression | None) -> None:
        buf += bytes(int(x) for x in self.address.split("."))

    @classmethod
    def from_wire(cls, data: bytes, pos: int, end: int, what: str = "dns") -> Self:
        if end - pos != 4:
            raise DecodeError(what, "A.address", pos, f"A RDATA of {end - pos} bytes, not 4")
        obj = object.__new__(cls)
        object.__setattr__(obj, "address", "%d.%d.%d.%d" % tuple(data[pos:end]))  # noqa: UP031
        return obj

    def to_text(self) -> str:
        return self.address


@dataclass(frozen=True, slots=True)
class AAAA(Rdata):
    address: str
    rtype: ClassVar[int] = RType.AAAA

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", ipaddress.IPv6Address(self.address).compressed)

    def to_wire(self, buf: bytearray, comp: Compression | None) -> None:
        buf += ipaddress.IPv6Address(self.address).packed

    @classmethod
    def from_wire(cls, data: bytes, pos: int, end: int, what: str = "dns") -> Self:
        if end - pos != 16:
            raise DecodeError(what, "AAAA.address", pos, f"AAAA RDATA of {end - pos} bytes")
        return cls(ipaddress.IPv6Address(data[pos:end]).compressed)

    def to_text(self) -> str:
        return self.address


@dataclass(frozen=True, slots=True)
class _Target(Rdata):
    """One domain name (NS, CNAME, PTR)."""

    target: Name
    compressible: ClassVar[bool] = True

    def to_wire(self, buf: bytearray, comp: Compression | None) -> None:
        encode_name(buf, self.target, comp)

    @classmethod
    def from_wire(cls, data: bytes, pos: int, end: int, what: str = "dns") -> Self:
        target, pos = decode_name(data, pos, end, what)
        _exact(what, type_name(cls.rtype), pos, end)
        return cls(target)

    def to_text(self) -> str:
        return self.target.to_text()


@dataclass(frozen=True, slots=True)
class NS(_Target):
    rtype: ClassVar[int] = RType.NS


@dataclass(frozen=True, slots=True)
class CNAME(_Target):
    rtype: ClassVar[int] = RType.CNAME


@dataclass(frozen=True, slots=True)
class PTR(_Target):
    rtype: ClassVar[int] = RType.PTR


@dataclass(frozen=True, slots=True)
class MX(Rdata):
    preference: int
    exchange: Name
    rtype: ClassVar[int] = RType.MX
    compressible: ClassVar[bool] = True

    def to_wire(self, buf: bytearray, comp: Compression | None) -> None:
        buf += self.preference.to_bytes(2, "big")
        encode_name(buf, self.exchange, comp)

    @classmethod
    def from_wire(cls, data: bytes, pos: int, end: int, what: str = "dns") -> Self:
        if end - pos < 3:
            raise DecodeError(what, "MX.preference", pos, "MX RDATA too short")
        pref = (data[pos] << 8) | data[pos + 1]
        exchange, pos = decode_name(data, pos + 2, end, what)
        _exact(what, "MX", pos, end)
        return cls(pref, exchange)

    def to_text(self) -> str:
        return f"{self.preference} {self.exchange}"


_SOA_TAIL = struct.Struct("!IIIII")


@dataclass(frozen=True, slots=True)
class SOA(Rdata):
    mname: Name
    rname: Name
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int  # RFC 2308 §4: the TTL of negative answers
    rtype: ClassVar[int] = RType.SOA
    compressible: ClassVar[bool] = True

    def to_wire(self, buf: bytearray, comp: Compression | None) -> None:
        encode_name(buf, self.mname, comp)
        encode_name(buf, self.rname, comp)
        buf += _SOA_TAIL.pack(self.serial, self.refresh, self.retry, self.expire, self.minimum)

    @classmethod
    def from_wire(cls, data: bytes, pos: int, end: int, what: str = "dns") -> Self:
        mname, pos = decode_name(data, pos, end, what)
        rname, pos = decode_name(data, pos, end, what)
        if end - pos != 20:
            raise DecodeError(what, "SOA.counters", pos, f"{end - pos} bytes, not 20")
        return cls(mname, rname, *_SOA_TAIL.unpack_from(data, pos))

    def to_text(self) -> str:
        return (
            f"{self.mname} {self.rname} {self.serial} {self.refresh} {self.retry} "
            f"{self.expire} {self.minimum}"
        )


@dataclass(frozen=True, slots=True)
class TXT(Rdata):
    strings: tuple[bytes, ...]
    rtype: ClassVar[int] = RType.TXT

    def __post_init__(self) -> None:
        if not self.strings:
            raise ValueError("TXT needs at least one character-string")
        for s in self.strings:
            if len(s) > 255:
                raise ValueError("a TXT character-string holds at most 255 octets")

    def to_wire(self, buf: bytearray, comp: Compression | None) -> None:
        for s in self.strings:
            buf.append(len(s))
            buf += s

    @classmethod
    def from_wire(cls, data: bytes, pos: int, end: int, what: str = "dns") -> Self:
        if pos >= end:
            raise DecodeError(what, "TXT", pos, "TXT RDATA without a character-string")
        strings = []
        while pos < end:
            n = data[pos]
            if pos + 1 + n > end:
                raise DecodeError(what, "TXT.string", pos, "character-string runs past RDLENGTH")
            strings.append(data[pos + 1 : pos + 1 + n])
            pos += 1 + n
        return cls(tuple(strings))

    def to_text(self) -> str:
        return " ".join('"' + _string_text(s) + '"' for s in self.strings)


@dataclass(frozen=True, slots=True)
class Unknown(Rdata):
    """RDATA of a type we do not interpret, kept as the octets (RFC 3597)."""

    code: int
    data: bytes

    @property
    def type_code(self) -> int:
        return self.code

    def to_wire(self, buf: bytearray, comp: Compression | None) -> None:
        buf += self.data

    @classmethod
    def from_wire(cls, data: bytes, pos: int, end: int, what: str = "dns") -> Self:
        raise TypeError("use decode_rdata for unknown types")

    def to_text(self) -> str:
        return f"\\# {len(self.data)} {self.data.hex()}" if self.data else "\\# 0"


def _string_text(s: bytes) -> str:
    """A <character-string> in presentation form: escape ``"`` and ``\\`` and non-ASCII."""
    out = []
    for b in s:
        if b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        elif 0x20 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03d}")
    return "".join(out)


KNOWN: dict[int, type[Rdata]] = {cls.rtype: cls for cls in (A, AAAA, NS, CNAME, PTR, MX, SOA, TXT)}


def decode_rdata(rtype: int, data: bytes, pos: int, end: int, what: str = "dns") -> Rdata:
    """The RDATA of type ``rtype`` in ``data[pos:end]`` (exactly RDLENGTH octets)."""
    cls = KNOWN.get(rtype)
    if cls is None:
        return Unknown(rtype, data[pos:end])
    return cls.from_wire(data, pos, end, what)
