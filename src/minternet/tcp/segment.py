"""The TCP segment on the wire (RFC 9293 §3.1) and its options.

A :class:`Segment` is the header, its options and the payload. :meth:`Segment.encode` lays
them out and, given the IPv4 source and destination, fills the checksum over the
pseudo-header (RFC 9293 §3.1, "Checksum"); :meth:`Segment.decode` is the bounded inverse and
raises only :class:`~minternet.errors.DecodeError`. Options known to us are typed —
MSS (RFC 9293 §3.2), Window Scale and Timestamps (RFC 7323), SACK-Permitted and SACK
(RFC 2018) — and any other option is kept as :class:`UnknownOption`, so
``decode(encode(x)) == x`` and ``encode(decode(b)) == b`` for every well-formed ``b``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntFlag
from typing import Self

from ..checksum import internet_checksum, ones_complement_sum
from ..errors import DecodeError

HEADER_LEN = 20
MAX_OPTIONS_LEN = 40
PROTOCOL = 6  # IPv4 protocol number of TCP

_HEADER = struct.Struct("!HHIIBBHHH")


class Flags(IntFlag):
    """The control bits (RFC 9293 §3.1; ECE/CWR from RFC 3168)."""

    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10
    URG = 0x20
    ECE = 0x40
    CWR = 0x80


FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
_FLAG_ORDER = [(f.value, f.name or "") for f in Flags]  # FIN first, as Wireshark lists them


def flag_names(flags: int) -> str:
    """``"SYN,ACK"``, ``"FIN,PSH,ACK"``: the order Wireshark prints them in."""
    names = [n for bit, n in _FLAG_ORDER if flags & bit]
    return ",".join(n for n in names if n) or "none"


# -- options ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndOfOptions:
    """Kind 0: the end of the option list; what follows up to the data offset is padding."""

    def encode(self) -> bytes:
        return b"\x00"


@dataclass(frozen=True, slots=True)
class NoOperation:
    """Kind 1: one byte of alignment padding between options."""

    def encode(self) -> bytes:
        return b"\x01"


@dataclass(frozen=True, slots=True)
class MaximumSegmentSize:
    """Kind 2: the largest segment payload the sender can receive (SYN only)."""

    mss: int

    def encode(self) -> bytes:
        return struct.pack("!BBH", 2, 4, self.mss)


@dataclass(frozen=True, slots=True)
class WindowScale:
    """Kind 3 (RFC 7323 §2): the shift count applied to the sender's window field."""

    shift: int

    def encode(self) -> bytes:
        return bytes((3, 3, self.shift))


@dataclass(frozen=True, slots=True)
class SackPermitted:
    """Kind 4 (RFC 2018 §2): the sender can receive SACK blocks (SYN only)."""

    def encode(self) -> bytes:
        return b"\x04\x02"


@dataclass(frozen=True, slots=True)
class Sack:
    """Kind 5 (RFC 2018 §3): blocks ``(left, right)`` of data received out of order."""

    blocks: tuple[tuple[int, int], ...]

    def encode(self) -> bytes:
        out = bytearray((5, 2 + 8 * len(self.blocks)))
        for left, right in self.blocks:
            out += struct.pack("!II", left, right)
        return bytes(out)


@dataclass(slots=True, unsafe_hash=True)
class Timestamps:
    """Kind 8 (RFC 7323 §3): TSval of the sender and TSecr echoing the peer's.

    A value like the other options, but not ``frozen``: it is built for nearly every
    segment sent and received, and a frozen dataclass's ``__init__`` sets each field
    through ``object.__setattr__`` (see :class:`Segment`). Never modified after creation.
    """

    tsval: int
    tsecr: int

    def encode(self) -> bytes:
        return struct.pack("!BBII", 8, 10, self.tsval, self.tsecr)


@dataclass(frozen=True, slots=True)
class UnknownOption:
    """Any other kind, kept byte for byte."""

    kind: int
    data: bytes

    def encode(self) -> bytes:
        return bytes((self.kind, 2 + len(self.data))) + self.data


Option = (
    EndOfOptions
    | NoOperation
    | MaximumSegmentSize
    | WindowScale
    | SackPermitted
    | Sack
    | Timestamps
    | UnknownOption
)

_FIXED_LENGTHS = {2: 4, 3: 3, 4: 2, 8: 10}

NOP = NoOperation()  # options are immutable: one instance serves every segment
_TS_ONLY = b"\x01\x01\x08\x0a"  # NOP, NOP, Timestamps: the layout of nearly every segment
_TS = struct.Struct("!II")


def decode_options(data: bytes, offset: int = HEADER_LEN) -> tuple[Option, ...]:
    """Parse the option bytes ``data`` (found at ``offset`` in the segment, for errors)."""
    if len(data) == 12 and data[:4] == _TS_ONLY:
        tsval, tsecr = _TS.unpack_from(data, 4)
        return (NOP, NOP, Timestamps(tsval, tsecr))
    out: list[Option] = []
    i, n = 0, len(data)
    while i < n:
        kind = data[i]
        if kind == 0:
            out.append(EndOfOptions())
            break
        if kind == 1:
            out.append(NOP)
            i += 1
            continue
        if i + 1 >= n:
            raise DecodeError("TCP", f"option {kind} length", offset + i, "missing")
        length = data[i + 1]
        if length < 2 or i + length > n:
            raise DecodeError(
                "TCP",
                f"option {kind} length",
                offset + i + 1,
                f"{length} does not fit the {n - i} option bytes left",
            )
        body = data[i + 2 : i + length]
        want = _FIXED_LENGTHS.get(kind)
        if want is not None and length != want:
            raise DecodeError(
                "TCP", f"option {kind} length", offset + i + 1, f"must be {want}, is {length}"
            )
        if kind == 2:
            out.append(MaximumSegmentSize(int.from_bytes(body, "big")))
        elif kind == 3:
            out.append(WindowScale(body[0]))
        elif kind == 4:
            out.append(SackPermitted())
        elif kind == 5:
            if (length - 2) % 8 or length == 2:
                raise DecodeError(
                    "TCP",
                    "option 5 (SACK) length",
                    offset + i + 1,
                    f"{length} is not 2 + 8n with n >= 1",
                )
            out.append(Sack(tuple(struct.iter_unpack("!II", body))))
        elif kind == 8:
            tsval, tsecr = struct.unpack("!II", body)
            out.append(Timestamps(tsval, tsecr))
        else:
            out.append(UnknownOption(kind, body))
        i += length
    return tuple(out)


def encode_options(options: tuple[Option, ...]) -> bytes:
    """The option bytes, padded with zeros (EOL) to a multiple of four."""
    if len(options) == 3 and options[0] is NOP and options[1] is NOP:
        ts = options[2]
        if type(ts) is Timestamps:
            return _TS_ONLY + _TS.pack(ts.tsval, ts.tsecr)
    raw = b"".join(o.encode() for o in options)
    if len(raw) % 4:
        raw += bytes(4 - len(raw) % 4)
    if len(raw) > MAX_OPTIONS_LEN:
        raise ValueError(f"{len(raw)} bytes of TCP options exceed {MAX_OPTIONS_LEN}")
    return raw


# -- the segment -------------------------------------------------------------------------


@dataclass(slots=True, unsafe_hash=True)
class Segment:
    """One TCP segment: header fields, options and payload.

    ``checksum`` is the value decoded from the wire (or the one to write when no addresses
    are given to :meth:`encode`).

    A value: compared and hashed by its fields and never modified after creation. It is not
    declared ``frozen`` only because a frozen dataclass's ``__init__`` sets each of the
    eleven fields through ``object.__setattr__``, which made building the two segments of
    every packet (sent, and decoded on arrival) cost ~6× a plain one: ~6 % of a bulk
    transfer's CPU (``bench/README.md``, TCP).
    """

    src_port: int
    dst_port: int
    seq: int
    ack: int
    flags: int
    window: int
    payload: bytes = b""
    options: tuple[Option, ...] = ()
    urgent: int = 0
    checksum: int = 0
    reserved: int = 0

    @property
    def seg_len(self) -> int:
        """SEG.LEN: payload octets plus one each for SYN and FIN (RFC 9293 §3.4)."""
        return len(self.payload) + (self.flags & SYN and 1) + (self.flags & FIN and 1)

    def option(self, kind: type[Option]) -> Option | None:
        """The first option of the given class, if present."""
        for o in self.options:
            if type(o) is kind:
                return o
        return None

    def encode(self, src: bytes | None = None, dst: bytes | None = None) -> bytes:
        """The wire bytes; with ``src``/``dst`` (4-byte IPv4 addresses) the checksum is filled."""
        opts = encode_options(self.options) if self.options else b""
        offset = (HEADER_LEN + len(opts)) >> 2
        head = _HEADER.pack(
            self.src_port,
            self.dst_port,
            self.seq,
            self.ack,
            (offset << 4) | (self.reserved & 0x0F),
            self.flags & 0xFF,
            self.window,
            0 if src is not None else self.checksum,
            self.urgent,
        )
        data = head + opts + self.payload
        if src is None or dst is None:
            return data
        csum = checksum(data, src, dst)
        return data[:16] + csum.to_bytes(2, "big") + data[18:]

    @classmethod
    def decode(cls, data: bytes) -> Self:
        """Parse a whole segment (the IP payload); the checksum is not verified here."""
        n = len(data)
        if n < HEADER_LEN:
            raise DecodeError("TCP", "header", 0, f"needs {HEADER_LEN} bytes, {n} given")
        sport, dport, seq, ack, off_rsv, flags, window, csum, urgent = _HEADER.unpack_from(data)
        hlen = (off_rsv >> 4) * 4
        if hlen < HEADER_LEN or hlen > n:
            raise DecodeError("TCP", "data offset", 12, f"header length {hlen} outside [20, {n}]")
        options = decode_options(data[HEADER_LEN:hlen]) if hlen > HEADER_LEN else ()
        return cls(
            sport,
            dport,
            seq,
            ack,
            flags,
            window,
            bytes(data[hlen:]),
            options,
            urgent,
            csum,
            off_rsv & 0x0F,
        )


_PROTO = bytes((0, PROTOCOL))


def checksum(data: bytes, src: bytes, dst: bytes) -> int:
    """The checksum of segment bytes ``data`` (checksum field zero) with the pseudo-header."""
    return internet_checksum(src + dst + _PROTO + len(data).to_bytes(2, "big") + data)


def checksum_ok(data: bytes, src: bytes, dst: bytes) -> bool:
    """True if the received segment ``data`` sums to all-ones with its pseudo-header."""
    return ones_complement_sum(src + dst + _PROTO + len(data).to_bytes(2, "big") + data) == 0xFFFF
