"""IPv4 (RFC 791): the packet codec, fragmentation and reassembly.

- :class:`IPv4Packet` keeps every header field, options included (as raw bytes, padded to a
  multiple of 4), and recomputes the header checksum on :meth:`~IPv4Packet.encode`.
  :meth:`~IPv4Packet.decode` checks version, IHL, total length and the checksum and ignores
  bytes after ``total_length`` (Ethernet padding).
- :func:`fragment` splits a packet for a smaller MTU (RFC 791 §3.2, "Fragmentation"):
  fragment data in multiples of 8 bytes, options with the *copied* flag repeated in every
  fragment, the others only in the first.
- :class:`Reassembler` puts fragments back together per (src, dst, protocol, id) and gives
  up after a timeout (RFC 1122 §3.3.2 suggests 60–120 s; we default to Linux's 30 s), handing
  back the first fragment so the host can send ICMP "fragment reassembly time exceeded".

The per-packet path is kept lean without changing a byte: :meth:`~IPv4Packet.decode` keeps
the header as received when it is exactly what :meth:`~IPv4Packet.encode_header` would
produce, and :meth:`~IPv4Packet.with_ttl` (a router's TTL − 1) patches that header's TTL and
updates its checksum incrementally (RFC 1624 eqn. 3) instead of re-encoding it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, fields, replace
from typing import Any, Self

from ..checksum import checksum_adjust, internet_checksum, ones_complement_sum
from ..errors import DecodeError
from .address import ip_from_bytes, ip_to_bytes

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTOCOL_NAMES = {PROTO_ICMP: "ICMP", PROTO_TCP: "TCP", PROTO_UDP: "UDP"}

HEADER_LEN = 20
MAX_PACKET = 65535
DEFAULT_TTL = 64

_FLAG_RESERVED = 0x8000
_FLAG_DF = 0x4000
_FLAG_MF = 0x2000
_OFFSET_MASK = 0x1FFF

_HEADER = struct.Struct("!BBHHHBBH4s4s")  # the fixed 20 bytes, options excluded
_from_bytes = int.from_bytes


@dataclass(frozen=True, slots=True)
class IPv4Packet:
    """An IPv4 datagram. ``fragment_offset`` is in bytes (a multiple of 8)."""

    src: str
    dst: str
    protocol: int
    payload: bytes
    ttl: int = DEFAULT_TTL
    identification: int = 0
    dont_fragment: bool = False
    more_fragments: bool = False
    fragment_offset: int = 0
    tos: int = 0
    options: bytes = b""
    reserved_flag: bool = False
    # The checksum as received (decode) — encode() always computes the right one.
    checksum: int = field(default=0, compare=False)
    # The encoded header, when known (decode, with_ttl): encode_header() returns it as is.
    # Not an __init__ argument, so ``replace()`` (fragments, reassembly) never inherits it.
    _header: bytes | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def header_len(self) -> int:
        return HEADER_LEN + len(self.options)

    @property
    def total_length(self) -> int:
        return self.header_len + len(self.payload)

    @property
    def is_fragment(self) -> bool:
        return self.more_fragments or self.fragment_offset != 0

    def with_ttl(self, ttl: int) -> IPv4Packet:
        """This packet with another TTL (what a router sends on; faster than ``replace``).

        A packet whose header bytes are known gets them with the TTL byte replaced and the
        checksum updated incrementally, HC' = ~(~HC + ~m + m') (RFC 1624 §3, eqn. 3): the
        same two bytes a full recomputation gives (see :meth:`decode` for why).
        """
        header = self._header
        patched = None
        if header is not None and 0 <= ttl <= 255:
            proto = header[9]
            old_word = (header[8] << 8) | proto
            new_word = (ttl << 8) | proto
            hc = checksum_adjust((header[10] << 8) | header[11], old_word, new_word)
            patched = header[:8] + bytes((ttl, proto, hc >> 8, hc & 0xFF)) + header[12:]
        return _build(
            self.src, self.dst, self.protocol, self.payload, ttl, self.identification,
            self.dont_fragment, self.more_fragments, self.fragment_offset, self.tos,
            self.options, self.reserved_flag, 0, patched,
        )  # fmt: skip

    def with_addresses(self, src: str, dst: str, payload: bytes) -> IPv4Packet:
        """This packet with other addresses and payload (what a NAT sends on, RFC 3022 §4.1).

        A known header gets its address words replaced and its checksum adjusted
        incrementally (RFC 1624 eqn. 3) rather than recomputed.
        """
        header = self._header
        patched = None
        if header is not None and len(payload) == len(self.payload):
            new = ip_to_bytes(src) + ip_to_bytes(dst)
            old_sum = ones_complement_sum(header[12:20])
            hc = checksum_adjust((header[10] << 8) | header[11], old_sum, ones_complement_sum(new))
            patched = header[:10] + bytes((hc >> 8, hc & 0xFF)) + new + header[20:]
        return _build(
            src, dst, self.protocol, payload, self.ttl, self.identification,
            self.dont_fragment, self.more_fragments, self.fragment_offset, self.tos,
            self.options, self.reserved_flag, 0, patched,
        )  # fmt: skip

    def encode_header(self) -> bytes:
        """The header alone, checksum filled in."""
        if self._header is not None:
            return self._header
        options = self.options
        if len(options) % 4 or len(options) > 40:
            raise ValueError("IPv4 options must be padded to a multiple of 4, at most 40 bytes")
        if self.fragment_offset % 8 or not 0 <= self.fragment_offset <= _OFFSET_MASK * 8:
            raise ValueError(f"bad fragment offset {self.fragment_offset}")
        ihl = 5 + len(options) // 4
        total = ihl * 4 + len(self.payload)
        if total > MAX_PACKET:
            raise ValueError(f"IPv4 packet of {total} bytes exceeds 65535")
        flags = (
            (_FLAG_RESERVED if self.reserved_flag else 0)
            | (_FLAG_DF if self.dont_fragment else 0)
            | (_FLAG_MF if self.more_fragments else 0)
            | (self.fragment_offset >> 3)
        )
        try:
            fixed = _HEADER.pack(
                0x40 | ihl, self.tos, total, self.identification, flags, self.ttl,
                self.protocol, 0, ip_to_bytes(self.src), ip_to_bytes(self.dst),
            )  # fmt: skip
        except struct.error as e:  # a field out of its range (TTL 256, ...)
            raise ValueError(f"IPv4 header field out of range: {e}") from None
        if options:
            header = fixed + options
            checksum = internet_checksum(header)
            return header[:10] + bytes((checksum >> 8, checksum & 0xFF)) + header[12:]
        # internet_checksum of the 20 bytes, inlined (once per packet sent): their sum is
        # the number they make modulo 0xFFFF, except that a non-zero multiple sums to 0xFFFF
        # (RFC 1071; never all zero: the version is 4), whose complement is 0.
        checksum = 0xFFFF - _from_bytes(fixed, "big") % 0xFFFF
        return b"".join((fixed[:10], (checksum % 0xFFFF).to_bytes(2, "big"), fixed[12:]))

    def encode(self) -> bytes:
        return self.encode_header() + self.payload

    @classmethod
    def decode(
        cls, data: bytes, *, verify_checksum: bool = True, allow_truncated: bool = False
    ) -> Self:
        """Decode a datagram. ``allow_truncated`` is for the copy quoted inside an ICMP
        error (RFC 792): its payload may stop before ``total_length`` and its checksum is
        not checked."""
        n = len(data)
        if n < HEADER_LEN:
            raise DecodeError("IPv4", "header", 0, f"truncated header: {n} of 20 bytes")
        vihl, tos, total, ident, flags, ttl, proto, checksum, src, dst = _HEADER.unpack_from(data)
        if vihl >> 4 != 4:
            raise DecodeError("IPv4", "version", 0, f"version {vihl >> 4}, not 4")
        hlen = (vihl & 0x0F) * 4
        if hlen < HEADER_LEN:
            raise DecodeError("IPv4", "ihl", 0, f"header length {hlen} < 20")
        if n < hlen:
            raise DecodeError("IPv4", "options", HEADER_LEN, f"truncated header: {n} of {hlen}")
        if total < hlen:
            raise DecodeError("IPv4", "total_length", 2, f"{total} is less than the header")
        truncated = n < total
        if truncated:
            if not allow_truncated:
                raise DecodeError("IPv4", "payload", hlen, f"truncated: {n} of {total} bytes")
            total = n
        header = bytes(data[:hlen])
        # internet_checksum(header) != 0, inlined (once per packet received): the words sum
        # to 0xFFFF exactly when the number they make is a multiple of 0xFFFF (RFC 1071;
        # the header is never all zero: its version was just checked).
        if verify_checksum and _from_bytes(header, "big") % 0xFFFF:
            raise DecodeError("IPv4", "checksum", 10, f"bad header checksum 0x{checksum:04x}")
        args = (
            ip_from_bytes(src), ip_from_bytes(dst), proto, data[hlen:total], ttl, ident,
            bool(flags & _FLAG_DF), bool(flags & _FLAG_MF), (flags & _OFFSET_MASK) * 8, tos,
            header[HEADER_LEN:], bool(flags & _FLAG_RESERVED), checksum,
        )  # fmt: skip
        # A verified header is exactly what encode_header() computes — every bit is a field
        # and the checksum's complement is the sum of the rest — except for one case: the
        # words summing to 0xFFFF (negative zero), where both 0x0000 and 0xFFFF verify and
        # we compute 0x0000. So a header is kept unless its checksum reads 0xFFFF.
        keep = header if verify_checksum and checksum != 0xFFFF and not truncated else None
        if cls is IPv4Packet:
            return _build(*args, keep)  # type: ignore[return-value]
        packet = cls(*args)
        object.__setattr__(packet, "_header", keep)
        return packet

    def __str__(self) -> str:
        proto = PROTOCOL_NAMES.get(self.protocol, str(self.protocol))
        frag = ""
        if self.is_fragment:
            frag = f" frag off={self.fragment_offset}{' MF' if self.more_fragments else ''}"
        return f"IPv4 {self.src} → {self.dst} {proto} ttl={self.ttl} id={self.identification}{frag}"


# A frozen dataclass's __init__ sets each field through object.__setattr__; the per-packet
# path (decode, with_ttl) builds packets by calling the slots' own setters instead, which
# takes half the time. Same fields, same order (checked here at import), same object.
_SETTERS: list[Any] = [getattr(IPv4Packet, f.name).__set__ for f in fields(IPv4Packet)]
assert [f.name for f in fields(IPv4Packet)][-2:] == ["checksum", "_header"], "update _build"
assert len(_SETTERS) == 14, "IPv4Packet's fields changed: update _build"
(_s_src, _s_dst, _s_proto, _s_payload, _s_ttl, _s_id, _s_df, _s_mf, _s_off, _s_tos, _s_opts,
 _s_rsv, _s_cksum, _s_header) = _SETTERS  # fmt: skip
_new = object.__new__


def _build(
    src: str, dst: str, protocol: int, payload: bytes, ttl: int, identification: int,
    df: bool, mf: bool, offset: int, tos: int, options: bytes, reserved: bool,
    checksum: int, header: bytes | None,
) -> IPv4Packet:  # fmt: skip
    """``IPv4Packet(...)`` with its header bytes known (or None), built quickly."""
    p: IPv4Packet = _new(IPv4Packet)
    _s_src(p, src)
    _s_dst(p, dst)
    _s_proto(p, protocol)
    _s_payload(p, payload)
    _s_ttl(p, ttl)
    _s_id(p, identification)
    _s_df(p, df)
    _s_mf(p, mf)
    _s_off(p, offset)
    _s_tos(p, tos)
    _s_opts(p, options)
    _s_rsv(p, reserved)
    _s_cksum(p, checksum)
    _s_header(p, header)
    return p


def originated(
    src: str, dst: str, protocol: int, payload: bytes, ttl: int, identification: int,
    dont_fragment: bool,
) -> IPv4Packet:  # fmt: skip
    """``IPv4Packet(src, dst, protocol, payload, ttl=ttl, identification=identification,
    dont_fragment=dont_fragment)``, the same object, built in half the time: what a host's
    IP layer sends for its transports (once per packet)."""
    return _build(src, dst, protocol, payload, ttl, identification, dont_fragment, False, 0,
                  0, b"", False, 0, None)  # fmt: skip


def _copied_options(options: bytes) -> bytes:
    """The options whose *copied* flag (bit 0x80 of the type) is set, padded to 4 bytes."""
    out = bytearray()
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == 0:  # end of option list
            break
        if kind == 1:  # no-operation
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2:
            break  # malformed: copy nothing more
        length = options[i + 1]
        if kind & 0x80:
            out += options[i : i + length]
        i += length
    if len(out) % 4:
        out += bytes(4 - len(out) % 4)
    return bytes(out)


def fragment(packet: IPv4Packet, mtu: int) -> list[IPv4Packet]:
    """Split ``packet`` into fragments of at most ``mtu`` bytes (RFC 791 §3.2).

    The caller has already checked the DF flag. A packet that fits is returned alone.
    """
    if packet.total_length <= mtu:
        return [packet]
    later_options = _copied_options(packet.options)
    out: list[IPv4Packet] = []
    data = packet.payload
    pos = 0
    first = True
    while pos < len(data):
        options = packet.options if first else later_options
        room = (mtu - HEADER_LEN - len(options)) // 8 * 8
        if room <= 0:
            raise ValueError(f"MTU {mtu} is too small to fragment into")
        chunk = data[pos : pos + room]
        last = pos + len(chunk) >= len(data)
        out.append(
            replace(
                packet,
                payload=chunk,
                options=options,
                fragment_offset=packet.fragment_offset + pos,
                more_fragments=packet.more_fragments or not last,
            )
        )
        pos += len(chunk)
        first = False
    return out


@dataclass(slots=True)
class _Partial:
    deadline: float
    data: bytearray
    spans: list[tuple[int, int]]  # received [start, end) ranges, merged and sorted
    total: int | None = None
    first: IPv4Packet | None = None


class Reassembler:
    """Reassembly of fragmented datagrams (RFC 791 §3.2 "Reassembly", RFC 815 holes)."""

    def __init__(self, timeout: float = 30.0, max_datagrams: int = 64) -> None:
        self.timeout = timeout
        self.max_datagrams = max_datagrams
        self._partial: dict[tuple[str, str, int, int], _Partial] = {}

    def __len__(self) -> int:
        return len(self._partial)

    def add(self, packet: IPv4Packet, now: float) -> IPv4Packet | None:
        """Add a fragment; the whole datagram once the last hole is filled, else None.

        Raises :class:`DecodeError` for a fragment that cannot belong to a valid datagram
        (beyond 65535 bytes, or a non-final fragment whose size is not a multiple of 8).
        """
        if not packet.is_fragment:
            return packet
        start = packet.fragment_offset
        end = start + len(packet.payload)
        if end + packet.header_len > MAX_PACKET:
            raise DecodeError("IPv4", "fragment_offset", 6, "reassembled size exceeds 65535")
        if packet.more_fragments and len(packet.payload) % 8:
            raise DecodeError("IPv4", "payload", 20, "non-final fragment not a multiple of 8")
        key = (packet.src, packet.dst, packet.protocol, packet.identification)
        part = self._partial.get(key)
        if part is None:
            if len(self._partial) >= self.max_datagrams:
                return None  # the caller counts it; the oldest will time out
            part = self._partial[key] = _Partial(now + self.timeout, bytearray(), [])
        if len(part.data) < end:
            part.data.extend(bytes(end - len(part.data)))
        part.data[start:end] = packet.payload
        part.spans = _merge([*part.spans, (start, end)])
        if not packet.more_fragments:
            part.total = end
        if start == 0:
            part.first = packet
        if part.total is not None and part.first is not None and part.spans[0] == (0, part.total):
            del self._partial[key]
            return replace(
                part.first,
                payload=bytes(part.data[: part.total]),
                more_fragments=False,
                fragment_offset=0,
            )
        return None

    def next_deadline(self) -> float | None:
        return min((p.deadline for p in self._partial.values()), default=None)

    def expire(self, now: float) -> list[tuple[tuple[str, str, int, int], IPv4Packet | None]]:
        """Drop datagrams whose time is up: their keys and first fragments (if received)."""
        gone = [(k, p.first) for k, p in self._partial.items() if p.deadline <= now]
        for k, _ in gone:
            del self._partial[k]
        return gone


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans.sort()
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out
