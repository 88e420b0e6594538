"""DNS messages: header, question, resource records, EDNS(0) (RFC 1035 §4.1, RFC 6891 §6).

:class:`Message` is a frozen dataclass; :meth:`Message.encode` compresses names (RFC 1035
§4.1.4) and :meth:`Message.decode` reads a whole message, bounds-checked, each RDATA
exactly within its RDLENGTH. The OPT pseudo-record is not kept among the additional records
but as :attr:`Message.edns`, and the 12-bit extended rcode is put together from the header's
4 bits and OPT's 8 (RFC 6891 §6.1.3). Every problem is a :class:`DecodeError` naming the
field and the offset; :func:`peek_header` reads only the 12-byte header, so a server can
still answer FORMERR to a query whose body is malformed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from typing import Self

from ..errors import DecodeError
from .codes import Opcode, RClass, Rcode, RType, class_name, rcode_name, type_name
from .name import ROOT, Compression, Name, decode_name, encode_name
from .rdata import Rdata, decode_rdata

UDP_LIMIT = 512  # RFC 1035 §2.3.4, without EDNS
OUR_EDNS_SIZE = 1232  # the EDNS payload size we offer: the DNS flag day 2020 value

WHAT = "dns"
_HEADER = struct.Struct("!HHHHHH")
_RR_FIXED = struct.Struct("!HHIH")
_Q_FIXED = struct.Struct("!HH")

# Flag bits in the second 16-bit word of the header (RFC 1035 §4.1.1, RFC 4035 §3.2).
QR = 0x8000
AA = 0x0400
TC = 0x0200
RD = 0x0100
RA = 0x0080
AD = 0x0020
CD = 0x0010
DO = 0x8000  # in the OPT record's TTL field (RFC 3225)


@dataclass(frozen=True, slots=True)
class Question:
    name: Name
    rtype: int = RType.A
    rclass: int = RClass.IN

    def to_text(self) -> str:
        return f"{self.name} {class_name(self.rclass)} {type_name(self.rtype)}"


@dataclass(frozen=True, slots=True)
class ResourceRecord:
    name: Name
    rtype: int
    rclass: int
    ttl: int
    rdata: Rdata

    def to_text(self) -> str:
        return (
            f"{self.name} {self.ttl} {class_name(self.rclass)} {type_name(self.rtype)} "
            f"{self.rdata.to_text()}"
        )

    def with_ttl(self, ttl: int) -> ResourceRecord:
        return replace(self, ttl=ttl)


def rr(owner: str | Name, ttl: int, rdata: Rdata, rclass: int = RClass.IN) -> ResourceRecord:
    """A record from its owner, TTL and RDATA (the type comes from the RDATA)."""
    n = owner if isinstance(owner, Name) else Name.from_text(owner)
    return ResourceRecord(n, rdata.type_code, rclass, ttl, rdata)


@dataclass(frozen=True, slots=True)
class Edns:
    """The OPT pseudo-record of RFC 6891 §6.1: payload size, version, DO bit, options."""

    udp_size: int = 1232
    ext_rcode: int = 0  # the upper 8 bits of the 12-bit rcode
    version: int = 0
    do: bool = False
    z: int = 0  # the other 15 flag bits, kept as received
    options: tuple[tuple[int, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    id: int = 0
    qr: bool = False
    opcode: int = Opcode.QUERY
    aa: bool = False
    tc: bool = False
    rd: bool = False
    ra: bool = False
    z: bool = False
    ad: bool = False
    cd: bool = False
    rcode: int = Rcode.NOERROR  # the full 12-bit rcode when EDNS is present
    questions: tuple[Question, ...] = ()
    answers: tuple[ResourceRecord, ...] = ()
    authority: tuple[ResourceRecord, ...] = ()
    additional: tuple[ResourceRecord, ...] = ()
    edns: Edns | None = field(default=None)

    # -- convenience -----------------------------------------------------------------
    @property
    def question(self) -> Question | None:
        return self.questions[0] if self.questions else None

    @property
    def flags(self) -> int:
        f = (self.opcode & 0xF) << 11 | (self.rcode & 0xF)
        if self.qr:
            f |= QR
        if self.aa:
            f |= AA
        if self.tc:
            f |= TC
        if self.rd:
            f |= RD
        if self.ra:
            f |= RA
        if self.z:
            f |= 0x0040
        if self.ad:
            f |= AD
        if self.cd:
            f |= CD
        return f

    def flag_names(self) -> list[str]:
        names = [("qr", self.qr), ("aa", self.aa), ("tc", self.tc), ("rd", self.rd)]
        names += [("ra", self.ra), ("ad", self.ad), ("cd", self.cd)]
        return [n for n, on in names if on]

    @property
    def rcode_name(self) -> str:
        return rcode_name(self.rcode)

    def reply(self, **kw: object) -> Message:
        """The skeleton of an answer: same id, opcode, RD and question, QR set."""
        return Message(
            id=self.id,
            qr=True,
            opcode=self.opcode,
            rd=self.rd,
            cd=self.cd,
            questions=self.questions,
            **kw,  # type: ignore[arg-type]
        )

    # -- wire ------------------------------------------------------------------------
    def encode(self, compress: bool = True) -> bytes:
        buf = bytearray()
        edns = self.edns
        rcode = self.rcode
        if rcode > 0xF and edns is None:
            raise ValueError(f"rcode {rcode} needs EDNS (an OPT record) to be sent")
        buf += _HEADER.pack(
            self.id,
            self.flags,
            len(self.questions),
            len(self.answers),
            len(self.authority),
            len(self.additional) + (edns is not None),
        )
        comp: Compression | None = {} if compress else None
        for q in self.questions:
            encode_name(buf, q.name, comp)
            buf += _Q_FIXED.pack(q.rtype, q.rclass)
        for section in (self.answers, self.authority, self.additional):
            for r in section:
                _encode_rr(buf, r, comp)
        if edns is not None:
            buf.append(0)  # owner: the root
            ttl = (
                ((rcode >> 4) & 0xFF) << 24
                | (edns.version & 0xFF) << 16
                | (DO if edns.do else 0)
                | (edns.z & 0x7FFF)
            )
            buf += _RR_FIXED.pack(RType.OPT, edns.udp_size, ttl, 0)
            at = len(buf)
            for code, value in edns.options:
                buf += struct.pack("!HH", code, len(value))
                buf += value
            struct.pack_into("!H", buf, at - 2, len(buf) - at)
        return bytes(buf)

    @classmethod
    def decode(cls, data: bytes) -> Self:
        end = len(data)
        if end < 12:
            raise DecodeError(WHAT, "header", 0, f"{end} bytes, a header needs 12")
        ident, flags, qd, an, ns, ar = _HEADER.unpack_from(data, 0)
        pos = 12
        memo: dict[int, Name] = {}
        questions = []
        for _ in range(qd):
            qname, pos = decode_name(data, pos, end, WHAT, memo)
            if pos + 4 > end:
                raise DecodeError(WHAT, "question.type", pos, "question runs past the end")
            qtype, qclass = _Q_FIXED.unpack_from(data, pos)
            pos += 4
            questions.append(Question(qname, qtype, qclass))
        sections: list[list[ResourceRecord]] = [[], [], []]
        edns: Edns | None = None
        ext_rcode = 0
        for index, count in enumerate((an, ns, ar)):
            out = sections[index]
            for _ in range(count):
                owner, pos = decode_name(data, pos, end, WHAT, memo)
                if pos + 10 > end:
                    raise DecodeError(WHAT, "rr.type", pos, "record header runs past the end")
                rtype, rclass, ttl, rdlength = _RR_FIXED.unpack_from(data, pos)
                pos += 10
                rd_end = pos + rdlength
                if rd_end > end:
                    raise DecodeError(
                        WHAT, "rr.rdlength", pos - 2, f"RDLENGTH {rdlength} runs past the end"
                    )
                if rtype == RType.OPT:
                    if index != 2 or edns is not None or owner.labels:
                        raise DecodeError(
                            WHAT, "opt", pos - 10, "OPT must be one, in additional, owned by root"
                        )
                    ext_rcode = ttl >> 24
                    edns = Edns(
                        udp_size=rclass,
                        ext_rcode=ext_rcode,
                        version=(ttl >> 16) & 0xFF,
                        do=bool(ttl & DO),
                        z=ttl & 0x7FFF,
                        options=_decode_options(data, pos, rd_end),
                    )
                else:
                    rdata = decode_rdata(rtype, data, pos, rd_end, WHAT)
                    out.append(ResourceRecord(owner, rtype, rclass, ttl, rdata))
                pos = rd_end
        if pos != end:
            raise DecodeError(WHAT, "message", pos, f"{end - pos} trailing bytes")
        return cls(
            id=ident,
            qr=bool(flags & QR),
            opcode=(flags >> 11) & 0xF,
            aa=bool(flags & AA),
            tc=bool(flags & TC),
            rd=bool(flags & RD),
            ra=bool(flags & RA),
            z=bool(flags & 0x0040),
            ad=bool(flags & AD),
            cd=bool(flags & CD),
            rcode=(flags & 0xF) | (ext_rcode << 4),
            questions=tuple(questions),
            answers=tuple(sections[0]),
            authority=tuple(sections[1]),
            additional=tuple(sections[2]),
            edns=edns,
        )

    def to_text(self) -> str:
        """The message laid out the way ``dig`` prints one."""
        lines = [
            f";; ->>HEADER<<- opcode: {_opcode_name(self.opcode)}, status: {self.rcode_name}, "
            f"id: {self.id}",
            f";; flags: {' '.join(self.flag_names())}; QUERY: {len(self.questions)}, "
            f"ANSWER: {len(self.answers)}, AUTHORITY: {len(self.authority)}, "
            f"ADDITIONAL: {len(self.additional) + (self.edns is not None)}",
        ]
        if self.edns is not None:
            lines += [
                "",
                ";; OPT PSEUDOSECTION:",
                f"; EDNS: version: {self.edns.version}, flags:{' do' if self.edns.do else ''}; "
                f"udp: {self.edns.udp_size}",
            ]
        lines += ["", ";; QUESTION SECTION:"]
        lines += [";" + _columns(q.name.to_text(), "", class_name(q.rclass), type_name(q.rtype))
                  for q in self.questions]  # fmt: skip
        for title, section in (
            ("ANSWER", self.answers),
            ("AUTHORITY", self.authority),
            ("ADDITIONAL", self.additional),
        ):
            if section:
                lines += ["", f";; {title} SECTION:"]
                lines += [record_text(r) for r in section]
        return "\n".join(lines)


def _columns(owner: str, ttl: str, rclass: str, rtype: str, rdata: str = "") -> str:
    """dig's layout: tab-separated columns, the owner padded to 24 characters."""
    out = owner + "\t" * max(1, 3 - len(owner) // 8)
    out += f"{ttl}\t" if ttl != "" else "\t"
    out += f"{rclass}\t{rtype}"
    return out + (f"\t{rdata}" if rdata else "")


def record_text(r: ResourceRecord) -> str:
    """One record as dig prints it (tab-separated)."""
    return _columns(
        r.name.to_text(), str(r.ttl), class_name(r.rclass), type_name(r.rtype), r.rdata.to_text()
    )


def _opcode_name(op: int) -> str:
    try:
        return Opcode(op).name
    except ValueError:
        return f"OPCODE{op}"


def _encode_rr(buf: bytearray, r: ResourceRecord, comp: Compression | None) -> None:
    encode_name(buf, r.name, comp)
    buf += _RR_FIXED.pack(r.rtype, r.rclass, r.ttl, 0)
    at = len(buf)
    r.rdata.to_wire(buf, comp if r.rdata.compressible else None)
    n = len(buf) - at
    buf[at - 2] = n >> 8
    buf[at - 1] = n & 0xFF


def _decode_options(data: bytes, pos: int, end: int) -> tuple[tuple[int, bytes], ...]:
    out = []
    while pos < end:
        if pos + 4 > end:
            raise DecodeError(WHAT, "opt.option", pos, "option header runs past RDLENGTH")
        code, length = struct.unpack_from("!HH", data, pos)
        pos += 4
        if pos + length > end:
            raise DecodeError(WHAT, "opt.option.length", pos - 2, "option runs past RDLENGTH")
        out.append((code, data[pos : pos + length]))
        pos += length
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Header:
    """Only the 12-byte header: enough to answer FORMERR to an unreadable query."""

    id: int
    flags: int
    qdcount: int
    ancount: int
    nscount: int
    arcount: int

    @property
    def qr(self) -> bool:
        return bool(self.flags & QR)

    @property
    def opcode(self) -> int:
        return (self.flags >> 11) & 0xF

    @property
    def rd(self) -> bool:
        return bool(self.flags & RD)


def peek_header(data: bytes) -> Header:
    if len(data) < 12:
        raise DecodeError(WHAT, "header", 0, f"{len(data)} bytes, a header needs 12")
    return Header(*_HEADER.unpack_from(data, 0))


def make_query(
    qname: Name | str,
    qtype: int = RType.A,
    ident: int = 0,
    rd: bool = True,
    edns: Edns | None = None,
) -> Message:
    n = qname if isinstance(qname, Name) else Name.from_text(qname)
    return Message(id=ident, rd=rd, questions=(Question(n, qtype, RClass.IN),), edns=edns)


__all__ = [
    "AA",
    "OUR_EDNS_SIZE",
    "QR",
    "RA",
    "RD",
    "ROOT",
    "TC",
    "UDP_LIMIT",
    "Edns",
    "Header",
    "Message",
    "Question",
    "ResourceRecord",
    "make_query",
    "peek_header",
    "rr",
]
