"""The DNS codec against golden bytes, dnspython (both directions) and malformed input."""

from __future__ import annotations

import contextlib

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minternet.dns import (
    AAAA,
    CNAME,
    MX,
    NS,
    PTR,
    SOA,
    TXT,
    A,
    BadName,
    Edns,
    Message,
    Name,
    Question,
    Rcode,
    ResourceRecord,
    RType,
    Unknown,
    decode_name,
    encode_name,
    make_query,
    name,
    zones_builtin,
)
from minternet.dns.authoritative import AuthoritativeServer
from minternet.errors import DecodeError

# -- golden bytes --------------------------------------------------------------------------

# RFC 1035 §4.1.4: F.ISI.ARPA, then FOO.F.ISI.ARPA pointing at it, then ARPA pointing inside.
RFC1035_EXAMPLE = bytes.fromhex(
    "abcd 8400 0001 0002 0000 0000"  # id, QR AA, 1 question, 2 answers
    "01 46 03 49 53 49 04 41 52 50 41 00 0001 0001"  # F.ISI.ARPA A IN at offset 12
    "03 46 4f 4f c0 0c 0002 0001 00000e10 0002 c0 12"  # FOO.F.ISI.ARPA NS -> ARPA (offset 18)
    "c0 12 0001 0001 00000e10 0004 0a 00 00 01"  # ARPA A 10.0.0.1
)


def test_rfc1035_compression_example_decodes_and_encodes_byte_for_byte() -> None:
    m = Message.decode(RFC1035_EXAMPLE)
    assert m.id == 0xABCD and m.qr and m.aa and not m.tc
    assert m.questions == (Question(name("F.ISI.ARPA"), RType.A),)
    assert m.answers[0].name == name("foo.f.isi.arpa")
    assert m.answers[0].rdata == NS(name("ARPA"))
    assert m.answers[1].name.labels == (b"ARPA",)
    assert m.answers[1].rdata == A("10.0.0.1")
    assert m.encode() == RFC1035_EXAMPLE


def test_compression_matches_case_insensitively_and_keeps_case() -> None:
    buf = bytearray(b"\x00" * 12)
    comp: dict[tuple[bytes, ...], int] = {}
    encode_name(buf, name("WWW.Example.COM"), comp)
    encode_name(buf, name("mail.example.com"), comp)
    assert bytes(buf[12:]) == b"\x03WWW\x07Example\x03COM\x00\x04mail\xc0\x10"
    n1, end = decode_name(bytes(buf), 12, len(buf))
    n2, end2 = decode_name(bytes(buf), end, len(buf))
    assert n1.labels == (b"WWW", b"Example", b"COM")
    assert n2.labels == (b"mail", b"Example", b"COM") and end2 == len(buf)


def test_no_pointer_beyond_0x3fff() -> None:
    buf = bytearray(0x4000)
    comp: dict[tuple[bytes, ...], int] = {}
    encode_name(buf, name("a.example"), comp)
    encode_name(buf, name("a.example"), comp)
    assert buf[0x4000:] == b"\x01a\x07example\x00" * 2


def test_our_query_golden_bytes() -> None:
    q = make_query("www.example.com", RType.A, ident=0x1234, rd=True, edns=Edns(1232))
    assert q.encode() == bytes.fromhex(
        "1234 0100 0001 0000 0000 0001"
        "03777777 076578616d706c65 03636f6d 00 0001 0001"
        "00 0029 04d0 00000000 0000"
    )


def test_builtin_answer_parses_in_dnspython() -> None:
    srv = AuthoritativeServer(zones_builtin.servers()["a.iana-servers.net"][1])
    for qname, qtype in [
        ("www.example.com", RType.A),
        ("web.example.com", RType.A),
        ("nope.example.com", RType.A),
        ("example.com", RType.ANY),
        ("example.com", RType.MX),
    ]:
        wire = srv.respond(make_query(qname, qtype, 99, rd=False).encode())
        assert wire is not None
        theirs = dns.message.from_wire(wire)
        ours = Message.decode(wire)
        assert _canon_dnspython(theirs) == _canon_ours(ours)


# -- against dnspython ---------------------------------------------------------------------


def _rd_wire(rd: dns.rdata.Rdata) -> bytes:
    return rd.to_wire()  # type: ignore[no-any-return]


def _fold(rtype: int, rdata: bytes) -> bytes:
    """Names inside compressible RDATA may come back in another case (compression matches
    case-insensitively), so compare those RDATA case-insensitively."""
    return rdata.lower() if rtype in (2, 5, 6, 12, 15) else rdata


def _canon_dnspython(m: dns.message.Message) -> tuple[object, ...]:
    def section(rrsets: list[dns.rrset.RRset]) -> list[tuple[object, ...]]:
        out = []
        for rrset in rrsets:
            for rd in rrset:
                out.append(
                    (
                        rrset.name.to_wire().lower(),
                        int(rrset.rdtype),
                        int(rrset.rdclass),
                        rrset.ttl,
                        _fold(int(rrset.rdtype), _rd_wire(rd)),
                    )
                )
        return sorted(out)

    edns = None
    if m.edns >= 0:
        edns = (m.payload, m.edns, tuple((int(o.otype), o.to_wire()) for o in m.options))
    return (
        m.id,
        m.flags & 0x87F0 | (m.flags & 0x7800),
        int(m.rcode()),
        [(q.name.to_wire().lower(), int(q.rdtype), int(q.rdclass)) for q in m.question],
        section(m.answer),
        section(m.authority),
        section(m.additional),
        edns,
    )


def _canon_ours(m: Message) -> tuple[object, ...]:
    def wire_name(n: Name) -> bytes:
        buf = bytearray()
        encode_name(buf, n, None)
        return bytes(buf).lower()

    def section(rrs: tuple[ResourceRecord, ...]) -> list[tuple[object, ...]]:
        return sorted(
            (wire_name(r.name), r.rtype, r.rclass, r.ttl, _fold(r.rtype, r.rdata.encode()))
            for r in rrs
        )

    edns = None
    if m.edns is not None:
        edns = (m.edns.udp_size, m.edns.version, m.edns.options)
    return (
        m.id,
        m.flags & 0x87F0 | (m.flags & 0x7800),
        m.rcode,
        [(wire_name(q.name), q.rtype, q.rclass) for q in m.questions],
        section(m.answers),
        section(m.authority),
        section(m.additional),
        edns,
    )


labels = st.binary(min_size=1, max_size=12).filter(lambda b: b"." not in b) | st.sampled_from(
    [b"www", b"example", b"com", b"WWW", b"Example", b"mail", b"a"]
)
names = st.lists(labels, min_size=0, max_size=5).map(lambda ls: Name(ls))
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: "%d.%d.%d.%d" % t)  # noqa: UP031
ipv6 = st.binary(min_size=16, max_size=16).map(lambda b: AAAA.decode(b).address)
u32 = st.integers(0, 2**32 - 1)
rdatas = st.one_of(
    ipv4.map(A),
    ipv6.map(AAAA),
    names.map(NS),
    names.map(CNAME),
    names.map(PTR),
    st.builds(MX, st.integers(0, 65535), names),
    st.builds(SOA, names, names, u32, u32, u32, u32, u32),
    st.lists(st.binary(max_size=40), min_size=1, max_size=4).map(lambda x: TXT(tuple(x))),
    st.builds(Unknown, st.sampled_from([65280, 65300, 4000, 1000]), st.binary(max_size=30)),
)
records = st.builds(
    lambda n, ttl, rd: ResourceRecord(n, rd.type_code, 1, ttl, rd),
    names,
    st.integers(0, 2**31 - 1),
    rdatas,
)


def _rrset_key(r: ResourceRecord) -> tuple[Name, int]:
    return (r.name, r.rtype)


messages = st.builds(
    Message,
    id=st.integers(0, 0xFFFF),
    qr=st.booleans(),
    aa=st.booleans(),
    tc=st.booleans(),
    rd=st.booleans(),
    ra=st.booleans(),
    rcode=st.integers(0, 5),
    questions=st.lists(
        st.builds(Question, names, st.sampled_from([1, 2, 5, 6, 15, 16, 28, 255])),
        max_size=1,
    ).map(tuple),
    # one record per (owner, type) in a section: dnspython merges RRsets (and their TTLs)
    answers=st.lists(records, max_size=4, unique_by=_rrset_key).map(tuple),
    authority=st.lists(records, max_size=3, unique_by=_rrset_key).map(tuple),
    additional=st.lists(records, max_size=3, unique_by=_rrset_key).map(tuple),
    edns=st.none() | st.builds(Edns, st.integers(512, 4096)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_every_message_we_emit_parses_in_dnspython_to_the_same_content(m: Message) -> None:
    wire = m.encode()
    theirs = dns.message.from_wire(wire, ignore_trailing=False)
    assert _canon_dnspython(theirs) == _canon_ours(m)
    assert Message.decode(wire) == m  # and our own decoder gives back the same message
    assert len(wire) <= len(m.encode(compress=False))


_DP_TYPES = ["A", "AAAA", "NS", "CNAME", "PTR", "MX", "SOA", "TXT", "SRV", "HINFO", "CAA"]


@st.composite
def dnspython_rrsets(draw: st.DrawFn) -> dns.rrset.RRset:
    owner = dns.name.Name([*draw(st.lists(labels, max_size=4)), b""])
    rdtype = draw(st.sampled_from(_DP_TYPES))
    target = dns.name.Name([*draw(st.lists(labels, max_size=3)), b""]).to_text()
    text = {
        "A": draw(ipv4),
        "AAAA": draw(ipv6),
        "NS": target,
        "CNAME": target,
        "PTR": target,
        "MX": f"{draw(st.integers(0, 65535))} {target}",
        "SOA": f"{target} {target} 1 2 3 4 {draw(st.integers(0, 2**31))}",
        "TXT": '"' + draw(st.text("abc xyz=;", max_size=20)) + '" "second"',
        "SRV": f"1 2 {draw(st.integers(0, 65535))} {target}",
        "HINFO": '"cpu" "os"',
        "CAA": '0 issue "ca.example"',
    }[rdtype]
    return dns.rrset.from_text(owner, draw(st.integers(0, 2**31 - 1)), "IN", rdtype, text)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 0xFFFF),
    # one RRset per (owner, type) in a section, as dnspython would merge them on reading
    st.lists(dnspython_rrsets(), max_size=5, unique_by=lambda r: (r.name, r.rdtype)),
    st.lists(dnspython_rrsets(), max_size=3, unique_by=lambda r: (r.name, r.rdtype)),
    st.booleans(),
)
def test_every_message_dnspython_emits_parses_in_ours(
    ident: int, answers: list[dns.rrset.RRset], authority: list[dns.rrset.RRset], edns: bool
) -> None:
    m = dns.message.make_query("www.example.com", "A", use_edns=0 if edns else None)
    m.id = ident
    m.flags |= dns.flags.QR | dns.flags.AA
    m.answer = answers
    m.authority = authority
    wire = m.to_wire()
    ours = Message.decode(wire)
    assert _canon_ours(ours) == _canon_dnspython(dns.message.from_wire(wire))


def test_dnspython_edns_options_and_extended_rcode() -> None:
    m = dns.message.make_query(
        "example.com", "TXT", use_edns=0, payload=4096, options=[dns.edns.ECSOption("10.1.2.0", 24)]
    )
    m.flags |= dns.flags.QR
    m.set_rcode(dns.rcode.BADVERS)
    ours = Message.decode(m.to_wire())
    assert ours.rcode == Rcode.BADVERS and ours.edns is not None
    assert ours.edns.udp_size == 4096 and ours.edns.options[0][0] == 8
    assert ours.encode() == m.to_wire()


# -- names ---------------------------------------------------------------------------------


def test_name_text_round_trip_and_limits() -> None:
    n = Name.from_text(r"a\.b.c\032d.example.")
    assert n.labels == (b"a.b", b"c d", b"example")
    assert Name.from_text(n.to_text()) == n
    assert name("WWW.example.com") == name("www.EXAMPLE.com.")
    assert hash(name("WWW.example.com")) == hash(name("www.example.com"))
    assert name("www.example.com").is_subdomain(name("com"))
    assert not name("www.example.com").is_subdomain(name("ample.com"))
    with pytest.raises(BadName):
        Name([b"x" * 64])
    with pytest.raises(BadName):
        Name([b"x" * 63] * 4)  # 4 * 64 + 1 = 257 octets
    Name([b"x" * 63] * 3 + [b"x" * 61])  # exactly 255


# -- malformed input: DecodeError, never anything else -------------------------------------


def _q(body: bytes, qd: int = 1, an: int = 0) -> bytes:
    return bytes.fromhex("beef 0000") + bytes([0, qd, 0, an, 0, 0, 0, 0]) + body


@pytest.mark.parametrize(
    ("wire", "field"),
    [
        (_q(b"\xc0\x0c\x00\x01\x00\x01"), "name.pointer"),  # points at itself
        (_q(b"\xc0\x0e\x00\x00\xc0\x0c"), "name.pointer"),  # forward pointer
        (_q(b"\x01a\xc0\x0e\x00\x01\x00\x01"), "name.pointer"),  # two-step loop
        (_q(b"\x03www\x07exam"), "name.label"),  # truncated label
        (_q(b"\x03www\x00\x00"), "question.type"),  # truncated question
        (_q(b"\x40abc\x00\x00\x01\x00\x01"), "name.label"),  # extended label type
        (b"\x12\x34\x01", "header"),
        (
            _q(
                b"\x00\x00\x01\x00\x01"
                + b"\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x05\x01\x02\x03\x04\x05",
                an=1,
            ),
            "A.address",
        ),
        (
            _q(
                b"\x00\x00\x01\x00\x01" + b"\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x09\x01\x02",
                an=1,
            ),
            "rr.rdlength",
        ),
        (
            _q(
                b"\x00\x00\x05\x00\x01"
                + b"\x00\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x04\x01a\x00\x00",
                an=1,
            ),
            "CNAME",
        ),
        (_q(b"\x00\x00\x01\x00\x01\xff"), "message"),  # trailing byte
    ],
)
def test_malformed_messages_raise_decode_error_naming_the_field(wire: bytes, field: str) -> None:
    with pytest.raises(DecodeError) as e:
        Message.decode(wire)
    assert e.value.field == field, str(e.value)


def test_long_compressed_name_is_refused() -> None:
    # 130 labels of one octet reached through chained pointers: > 255 octets in all.
    body = bytearray()
    prev = None
    for _ in range(130):
        at = 12 + len(body)
        body += b"\x01x" + ((0xC000 | prev).to_bytes(2, "big") if prev is not None else b"\x00")
        prev = at
    wire = _q(bytes(body) + (0xC000 | prev).to_bytes(2, "big") + b"\x00\x01\x00\x01", qd=1)  # type: ignore[operator]
    with pytest.raises(DecodeError):
        Message.decode(wire)


_VALID = [
    make_query("www.example.com", RType.A, 7, edns=Edns()).encode(),
    RFC1035_EXAMPLE,
    AuthoritativeServer(zones_builtin.servers()["a.gtld-servers.net"][1]).respond(
        make_query("www.example.com", RType.A, 7).encode()
    )
    or b"",
]


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(_VALID),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255))),
    st.integers(0, 400),
)
def test_mutated_messages_decode_or_raise_decode_error(
    base: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(base)
    for at, value in flips:
        if at < len(data):
            data[at] = value
    data = data[: max(cut, 0)] if cut < len(data) else data
    try:
        m = Message.decode(bytes(data))
    except DecodeError:
        return
    Message.decode(m.encode())  # whatever we accept, we can write and read again


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_decoder_or_the_server(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        Message.decode(data)
    srv = AuthoritativeServer(zones_builtin.servers()["a.iana-servers.net"][1])
    reply = srv.respond(data)
    if reply is not None:
        assert Message.decode(reply).qr


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=20), max_size=6))
def test_name_text_escapes_round_trip_and_dnspython_reads_them(raw: list[bytes]) -> None:
    try:
        n = Name(raw)
    except BadName:
        return
    text = n.to_text()
    assert Name.from_text(text).labels == n.labels
    assert dns.name.from_text(text).labels == (*n.labels, b"")
    assert Name.from_text(dns.name.Name([*raw, b""]).to_text()).labels == n.labels


def test_tcp_framing_takes_whole_messages_only() -> None:
    from minternet.dns.framing import frame, take_framed
    from minternet.errors import LocalProtocolError

    a, b = make_query("www.example.com").encode(), make_query("example.com", RType.MX).encode()
    stream = frame(a) + frame(b)
    buf = bytearray()
    got = []
    for byte in stream:  # one byte at a time, as a TCP stream may deliver them
        buf.append(byte)
        while (m := take_framed(buf)) is not None:
            got.append(m)
    assert got == [a, b] and not buf
    assert dns.message.from_wire(got[1]).question[0].rdtype == dns.rdatatype.MX
    with pytest.raises(LocalProtocolError):
        frame(b"x" * 0x10000)
