"""The authoritative server's answers and the zone parser."""

from __future__ import annotations

import dns.message
import dns.query
import pytest

from minternet.dns import (
    Edns,
    Message,
    Name,
    Opcode,
    Rcode,
    RType,
    make_query,
    name,
    zones_builtin,
)
from minternet.dns.authoritative import AuthoritativeServer
from minternet.dns.rdata import SOA, A
from minternet.dns.zone import parse_zone
from minternet.errors import ConfigError


def server(host: str) -> AuthoritativeServer:
    return AuthoritativeServer(zones_builtin.servers()[host][1])


def ask(host: str, qname: str, qtype: int = RType.A, **kw: object) -> Message:
    q = make_query(qname, qtype, 4242, rd=False, **kw)  # type: ignore[arg-type]
    wire = server(host).respond(q.encode())
    assert wire is not None
    dns.message.from_wire(wire)  # dnspython reads every answer too
    return Message.decode(wire)


def test_root_refers_to_com_with_glue() -> None:
    r = ask("a.root-servers.net", "www.example.com")
    assert r.qr and not r.aa and r.rcode == Rcode.NOERROR and r.id == 4242
    assert [x.to_text() for x in r.authority] == ["com. 172800 IN NS a.gtld-servers.net."]
    assert [x.to_text() for x in r.additional] == ["a.gtld-servers.net. 172800 IN A 192.5.6.30"]


def test_com_refers_to_example_com() -> None:
    r = ask("a.gtld-servers.net", "www.example.com")
    assert not r.aa and r.authority[0].name == name("example.com")
    assert r.additional[0].rdata == A("199.43.135.53")


def test_example_com_answers_with_aa_and_follows_cname_in_zone() -> None:
    r = ask("a.iana-servers.net", "www.example.com")
    assert r.aa and [x.rdata for x in r.answers] == [A("93.184.216.34")]
    r = ask("a.iana-servers.net", "WEB.example.com")
    assert [x.rtype for x in r.answers] == [RType.CNAME, RType.A]
    assert r.questions[0].name.labels[0] == b"WEB"  # the question's case is echoed


def test_nxdomain_and_nodata_carry_the_soa_with_the_negative_ttl() -> None:
    r = ask("a.iana-servers.net", "nope.example.com")
    assert r.aa and r.rcode == Rcode.NXDOMAIN and not r.answers
    soa = r.authority[0]
    assert isinstance(soa.rdata, SOA) and soa.ttl == min(3600, soa.rdata.minimum) == 300
    r = ask("a.iana-servers.net", "www.example.com", RType.MX)
    assert r.aa and r.rcode == Rcode.NOERROR and not r.answers and r.authority[0].rtype == 6


def test_refused_outside_our_zones_and_notimp_for_other_opcodes() -> None:
    assert ask("a.iana-servers.net", "www.google.com").rcode == Rcode.REFUSED
    q = Message(id=1, opcode=Opcode.STATUS).encode()
    wire = server("a.iana-servers.net").respond(q)
    assert wire is not None and Message.decode(wire).rcode == Rcode.NOTIMP


def test_formerr_when_header_is_readable_and_silence_when_not() -> None:
    srv = server("a.iana-servers.net")
    bad = make_query("www.example.com", RType.A, 77).encode()[:-3]
    wire = srv.respond(bad)
    assert wire is not None
    m = Message.decode(wire)
    assert m.rcode == Rcode.FORMERR and m.id == 77 and m.qr
    assert srv.respond(b"\x00\x01\x02") is None
    response = make_query("www.example.com", RType.A, 77)
    assert srv.respond(Message(id=5, qr=True, questions=response.questions).encode()) is None


def test_badvers_for_edns_version_1() -> None:
    r = ask("a.iana-servers.net", "www.example.com", edns=Edns(1232, version=1))
    assert r.rcode == Rcode.BADVERS and r.edns is not None


def test_large_answer_is_truncated_over_udp_and_whole_over_tcp() -> None:
    srv = server("a.iana-servers.net")
    q = make_query("big.example.com", RType.TXT, 9, rd=False, edns=Edns(1232)).encode()
    udp = srv.respond(q, over_tcp=False)
    assert udp is not None and len(udp) <= 512
    m = Message.decode(udp)
    assert m.tc and not m.answers
    tcp = srv.respond(q, over_tcp=True)
    assert tcp is not None and len(tcp) > 1232
    m = Message.decode(tcp)
    assert not m.tc and m.answers[0].rtype == RType.TXT


def test_without_edns_the_limit_is_512() -> None:
    srv = server("a.iana-servers.net")
    q = make_query("example.com", RType.ANY, 9, rd=False).encode()
    udp = srv.respond(q)
    assert udp is not None and len(udp) <= 512


def test_zone_parser_reads_the_builtin_zone_like_dnspython() -> None:
    import dns.zone

    ours = parse_zone(zones_builtin.EXAMPLE_COM_ZONE)
    theirs = dns.zone.from_text(zones_builtin.EXAMPLE_COM_ZONE, relativize=False)
    ours_set = sorted(
        (r.name.to_text().lower(), r.rtype, r.ttl, r.rdata.encode()) for r in ours.all_records()
    )
    theirs_set = sorted(
        (n.to_text().lower(), int(rds.rdtype), rds.ttl, rd.to_wire())
        for n, rds in theirs.nodes.items()
        for rds in rds.rdatasets
        for rd in rds
    )
    assert ours_set == theirs_set


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("$ORIGIN x.\n@ IN SOA a. b. 1 2 3 4\n", "SOA needs"),
        ("$ORIGIN x.\n@ IN SOA a. b. 1 2 3 4 5\nwww IN A 300.1.1.1\n", "zone:3"),
        ("www IN A 1.2.3.4\n", r"no \$ORIGIN"),
        ("$ORIGIN x.\nwww IN A 1.2.3.4\n", "no SOA"),
        ('$ORIGIN x.\n@ IN TXT "open\n', "unterminated"),
    ],
)
def test_zone_parser_errors_are_one_line_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_zone(text)


def test_empty_non_terminal_is_nodata_not_nxdomain() -> None:
    z = parse_zone("$ORIGIN t.\n@ IN SOA a. b. 1 2 3 4 60\na.b IN A 1.2.3.4\n")
    srv = AuthoritativeServer([z])
    wire = srv.respond(make_query("b.t", RType.A, 1).encode())
    assert wire is not None and Message.decode(wire).rcode == Rcode.NOERROR
    wire = srv.respond(make_query("c.t", RType.A, 1).encode())
    assert wire is not None and Message.decode(wire).rcode == Rcode.NXDOMAIN
    assert Name.from_text("a.b.t") in z.nodes


# -- malformed queries: FORMERR when the header is readable, never an exception ------------

_LOOP = bytes.fromhex("abcd 0000 0001 0000 0000 0000") + b"\xc0\x0c\x00\x01\x00\x01"
_TRUNCATED = make_query("www.example.com", RType.A, 0xABCD).encode()[:-2]
_BAD_RDLENGTH = (
    bytes.fromhex("abcd 0000 0001 0000 0000 0001")
    + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x09\x00"  # OPT claiming 9 bytes, 1 there
)


@pytest.mark.parametrize("wire", [_LOOP, _TRUNCATED, _BAD_RDLENGTH])
def test_compression_loop_truncation_and_bad_rdlength_get_formerr(wire: bytes) -> None:
    reply = server("a.iana-servers.net").respond(wire)
    assert reply is not None
    m = Message.decode(reply)
    assert m.rcode == Rcode.FORMERR and m.id == 0xABCD and m.qr
    assert dns.message.from_wire(reply).rcode() == dns.rcode.FORMERR


def test_tcp_framing_byte_by_byte_and_pipelined() -> None:
    from dns_world import IANA, make_world

    from minternet.dns.framing import frame, take_framed

    w = make_world()
    q1 = make_query("www.example.com", RType.A, 1).encode()
    q2 = make_query("nope.example.com", RType.A, 2).encode()
    framed = frame(q1) + frame(q2)
    assert framed[:2] == len(q1).to_bytes(2, "big")  # RFC 1035 §4.2.2, by hand

    async def talk(chunks: list[bytes]) -> list[Message]:
        conn = await w.laptop.tcp_connect((IANA, 53), timeout=5)
        conn.set_nodelay(True)  # one segment per byte when sent byte by byte
        for c in chunks:
            await conn.send(c)
        buf = bytearray()
        out: list[Message] = []
        while len(out) < 2:
            buf += await conn.recv(timeout=5)
            while (m := take_framed(buf)) is not None:
                out.append(Message.decode(m))
                assert dns.message.from_wire(m).id == out[-1].id  # an independent reading
        await conn.close()
        return out

    for chunks in ([framed], [framed[i : i + 1] for i in range(len(framed))]):
        replies = w.run(talk(chunks), timeout=60)
        assert [(r.id, r.rcode) for r in replies] == [(1, Rcode.NOERROR), (2, Rcode.NXDOMAIN)]


# RFC 4592 §2.2.1's example zone (SRV owners given TXT records here: only their names matter).
RFC4592_ZONE = """\
$ORIGIN example.
example.                 3600 IN SOA ns.example.com. hostmaster.example. 1 2 3 4 5
example.                 3600    NS  ns.example.com.
example.                 3600    NS  ns.example.net.
*.example.               3600    TXT "this is a wildcard"
*.example.               3600    MX  10 host1.example.
sub.*.example.           3600    TXT "this is not a wildcard"
host1.example.           3600    A   192.0.2.1
_ssh._tcp.host1.example. 3600    TXT "srv"
_ssh._tcp.host2.example. 3600    TXT "srv"
subdel.example.          3600    NS  ns.example.com.
subdel.example.          3600    NS  ns.example.net.
"""


@pytest.mark.parametrize(
    ("qname", "qtype", "rcode", "answer"),
    [  # RFC 4592 §2.2.1, "synthesized" and "not synthesized" cases
        ("host3.example", RType.MX, Rcode.NOERROR, "host3.example. 3600 IN MX 10 host1.example."),
        ("host3.example", RType.A, Rcode.NOERROR, None),  # NODATA: the wildcard has no A
        ("foo.bar.example", RType.TXT, Rcode.NOERROR,
         'foo.bar.example. 3600 IN TXT "this is a wildcard"'),
        ("host1.example", RType.MX, Rcode.NOERROR, None),  # exists: no synthesis
        ("sub.*.example", RType.MX, Rcode.NOERROR, None),  # exists: no synthesis
        ("_telnet._tcp.host1.example", RType.SRV, Rcode.NXDOMAIN, None),  # encloser _tcp.host1
        ("ghost.*.example", RType.MX, Rcode.NXDOMAIN, None),  # encloser *.example, no *.*.
    ],
)  # fmt: skip
def test_rfc4592_wildcards(qname: str, qtype: int, rcode: int, answer: str | None) -> None:
    srv = AuthoritativeServer([parse_zone(RFC4592_ZONE)])
    wire = srv.respond(make_query(qname, qtype, 1, rd=False).encode())
    assert wire is not None
    m = Message.decode(wire)
    assert m.rcode == rcode and m.aa
    assert [r.to_text() for r in m.answers] == ([answer] if answer else [])
    if not m.answers:
        assert m.authority[0].rtype == RType.SOA


def test_rfc4592_delegation_wins_over_wildcard() -> None:
    srv = AuthoritativeServer([parse_zone(RFC4592_ZONE)])
    wire = srv.respond(make_query("host.subdel.example", RType.A, 1, rd=False).encode())
    assert wire is not None
    m = Message.decode(wire)
    assert not m.aa and m.authority[0].name == name("subdel.example") and not m.answers
