"""NAPT (RFC 3022, 4787, 5382, 5508) as a sans-IO machine: every rule, with scapy judging the
bytes — the packets fed in are scapy's, and every translated packet's checksums (IP, TCP,
UDP, ICMP, and the embedded ones of an ICMP error) are recomputed by scapy and compared."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, TCPerror, UDPerror, defragment
from scapy.layers.inet import fragment as scapy_fragment
from scapy.packet import Packet, Raw

from minternet.ip.ipv4 import IPv4Packet
from minternet.ip.nat import (
    ICMP_TIMEOUT,
    TCP_ESTABLISHED_TIMEOUT,
    TCP_TRANSITORY_TIMEOUT,
    UDP_TIMEOUT,
    Napt,
    Translation,
)
from minternet.randomness import SeededRandom

LAN = "192.168.1.0/24"
PUBLIC = "203.0.113.2"
LAPTOP = "192.168.1.10"
SERVER = "93.184.216.34"


def nat(**kw: float) -> Napt:
    return Napt(LAN, PUBLIC, SeededRandom(7).child("nat"), **kw)


def ours(pkt: Packet) -> IPv4Packet:
    return IPv4Packet.decode(bytes(pkt))


def scapy_checksums_valid(data: bytes) -> None:
    """scapy recomputes every checksum of ``data`` (deleting the field rebuilds it) and
    they must equal what the NAT wrote."""
    pkt = IP(data)
    layers = [IP, TCP, UDP, ICMP, IPerror, TCPerror, UDPerror]
    fresh = pkt.copy()
    for layer in layers:
        if layer in fresh and hasattr(fresh[layer], "chksum"):
            if layer is UDP and pkt[UDP].chksum == 0:
                continue
            if layer in (IPerror, TCPerror, UDPerror):
                continue  # a quote's checksums are compared below, through its own class
            del fresh[layer].chksum
    rebuilt = IP(bytes(fresh))
    for layer in (IP, TCP, UDP, ICMP):
        if layer in pkt and layer not in (IPerror,):
            assert pkt[layer].chksum == rebuilt[layer].chksum, f"{layer.__name__} checksum"


def out_of(t: Translation) -> bytes:
    assert t.packet is not None, t
    return t.packet.encode()


def test_udp_mapping_preserves_port_and_translates_back() -> None:
    n = nat()
    q = IP(src=LAPTOP, dst="198.51.100.53", id=7) / UDP(sport=50096, dport=53) / Raw(b"q" * 31)
    t = n.outbound(ours(q), 1.0)
    assert t.event == "new-mapping"
    wire = IP(out_of(t))
    assert (wire.src, wire[UDP].sport, wire.dst, wire[UDP].dport) == (
        PUBLIC, 50096, "198.51.100.53", 53)  # fmt: skip
    assert bytes(wire[UDP].payload) == b"q" * 31 and wire.id == 7 and wire.ttl == q.ttl
    scapy_checksums_valid(out_of(t))
    r = IP(src="198.51.100.53", dst=PUBLIC) / UDP(sport=53, dport=50096) / Raw(b"answer")
    back = n.inbound(ours(r), 2.0)
    assert back.event == "translated"
    got = IP(out_of(back))
    assert (got.dst, got[UDP].dport, got.src, got[UDP].sport) == (LAPTOP, 50096,
                                                                  "198.51.100.53", 53)  # fmt: skip
    scapy_checksums_valid(out_of(back))


def test_endpoint_independent_mapping_and_port_collision() -> None:
    """RFC 4787 REQ-1: one inside endpoint, one public port, whatever the destination; a
    second host wanting the same port gets another one of the same range (REQ-3)."""
    n = nat()
    a = n.outbound(ours(IP(src=LAPTOP, dst="1.1.1.1") / UDP(sport=40000, dport=53)), 0)
    b = n.outbound(ours(IP(src=LAPTOP, dst="8.8.8.8") / UDP(sport=40000, dport=123)), 0)
    assert a.mapping is b.mapping and b.event == "translated"
    assert IP(out_of(b))[UDP].sport == 40000
    c = n.outbound(ours(IP(src="192.168.1.11", dst="1.1.1.1") / UDP(sport=40000, dport=53)), 0)
    assert c.event == "new-mapping" and c.mapping is not None
    assert c.mapping.public_port != 40000 and c.mapping.public_port >= 1024
    assert IP(out_of(c))[UDP].sport == c.mapping.public_port
    low = n.outbound(ours(IP(src="192.168.1.12", dst="1.1.1.1") / UDP(sport=123, dport=123)), 0)
    low2 = n.outbound(ours(IP(src="192.168.1.13", dst="1.1.1.1") / UDP(sport=123, dport=123)), 0)
    assert low.mapping is not None and low.mapping.public_port == 123
    assert low2.mapping is not None and 1 <= low2.mapping.public_port < 1024
    # the TCP port space is separate from UDP's
    t = n.outbound(ours(IP(src="192.168.1.11", dst="1.1.1.1") / TCP(sport=40000, flags="S")), 0)
    assert t.mapping is not None and t.mapping.public_port == 40000


def test_port_choice_is_seeded() -> None:
    def run(seed: int) -> int:
        n = Napt(LAN, PUBLIC, SeededRandom(seed).child("nat"))
        n.outbound(ours(IP(src=LAPTOP, dst="1.1.1.1") / UDP(sport=5000)), 0)
        t = n.outbound(ours(IP(src="192.168.1.11", dst="1.1.1.1") / UDP(sport=5000)), 0)
        assert t.mapping is not None
        return t.mapping.public_port

    assert run(1) == run(1)
    assert len({run(s) for s in range(5)}) > 1


def test_unsolicited_inbound_is_dropped_and_filtering_by_endpoint() -> None:
    n = nat()
    syn = IP(src="198.18.0.66", dst=PUBLIC) / TCP(sport=40001, dport=22, flags="S")
    t = n.inbound(ours(syn), 0)
    assert t.dropped and t.event == "no-mapping" and "unsolicited" in t.detail
    n.outbound(ours(IP(src=LAPTOP, dst="1.1.1.1") / UDP(sport=5353, dport=53)), 0)
    # right port, wrong remote endpoint: address and port-dependent filtering
    other = IP(src="6.6.6.6", dst=PUBLIC) / UDP(sport=53, dport=5353)
    f = n.inbound(ours(other), 1)
    assert f.dropped and f.event == "filtered"
    wrong_port = IP(src="1.1.1.1", dst=PUBLIC) / UDP(sport=54, dport=5353)
    assert n.inbound(ours(wrong_port), 1).event == "filtered"
    # an unsolicited echo request is not ours to pass on
    ping = IP(src="6.6.6.6", dst=PUBLIC) / ICMP(type=8, id=1, seq=1)
    assert n.inbound(ours(ping), 1).event == "no-mapping"


def test_udp_timeout_frees_the_port() -> None:
    """RFC 4787 REQ-5: at least 2 minutes; refreshed by outbound traffic (REQ-6)."""
    assert UDP_TIMEOUT >= 120
    n = nat()
    q = ours(IP(src=LAPTOP, dst="1.1.1.1") / UDP(sport=5000, dport=53))
    n.outbound(q, 0)
    n.outbound(q, 100)  # refresh
    assert n.expire(100 + UDP_TIMEOUT - 1) == []
    assert len(n.mappings()) == 1
    gone = n.expire(100 + UDP_TIMEOUT)
    assert [m.public_port for m in gone] == [5000] and n.mappings() == []
    late = IP(src="1.1.1.1", dst=PUBLIC) / UDP(sport=53, dport=5000)
    assert n.inbound(ours(late), 100 + UDP_TIMEOUT + 1).event == "no-mapping"
    # the freed port is preserved again for the next host asking for it
    again = n.outbound(ours(IP(src="192.168.1.99", dst="1.1.1.1") / UDP(sport=5000)), 500)
    assert again.event == "new-mapping" and again.mapping is not None
    assert again.mapping.public_port == 5000


def tcp_pair(n: Napt, now: float, flags: str, inbound: bool, seq: int = 0) -> Translation:
    if inbound:
        p = IP(src=SERVER, dst=PUBLIC) / TCP(sport=443, dport=50096, flags=flags, seq=seq)
        return n.inbound(ours(p), now)
    p = IP(src=LAPTOP, dst=SERVER) / TCP(sport=50096, dport=443, flags=flags, seq=seq)
    return n.outbound(ours(p), now)


def test_tcp_timeouts_follow_rfc5382() -> None:
    assert TCP_ESTABLISHED_TIMEOUT >= 2 * 3600 + 4 * 60 and TCP_TRANSITORY_TIMEOUT >= 240
    n = nat()
    t = tcp_pair(n, 0, "S", False)
    assert t.mapping is not None
    s = t.mapping.sessions[(SERVER, 443)]
    assert s.state == "opening" and s.expires == TCP_TRANSITORY_TIMEOUT
    tcp_pair(n, 0.1, "SA", True)
    tcp_pair(n, 0.2, "A", False)
    assert s.state == "established" and s.expires == 0.2 + TCP_ESTABLISHED_TIMEOUT
    # idle for two hours: still there
    assert n.expire(7200) == [] and tcp_pair(n, 7200, "PA", True).event == "translated"
    tcp_pair(n, 7201, "FA", False)
    assert s.state == "established"
    tcp_pair(n, 7202, "FA", True)
    assert s.state == "closing" and s.expires == 7202 + TCP_TRANSITORY_TIMEOUT
    assert len(n.expire(7202 + TCP_TRANSITORY_TIMEOUT)) == 1


def test_tcp_half_open_expires_after_transitory_timeout_and_rst_closes() -> None:
    n = nat()
    tcp_pair(n, 0, "S", False)
    assert n.expire(TCP_TRANSITORY_TIMEOUT - 0.5) == []
    assert len(n.expire(TCP_TRANSITORY_TIMEOUT)) == 1
    tcp_pair(n, 1000, "S", False)
    tcp_pair(n, 1000, "SA", True)
    tcp_pair(n, 1000, "A", False)
    r = tcp_pair(n, 1001, "R", True)
    assert r.mapping is not None and r.mapping.sessions[(SERVER, 443)].state == "closing"


def test_tcp_translation_checksums_and_everything_else_unchanged() -> None:
    n = nat()
    p = (IP(src=LAPTOP, dst=SERVER, ttl=63, id=99, flags="DF")
         / TCP(sport=50096, dport=443, flags="PA", seq=1234, ack=99,
               options=[("MSS", 1460), ("NOP", None), ("WScale", 7)])
         / Raw(b"x" * 517))  # fmt: skip
    t = n.outbound(ours(p), 0)
    wire = IP(out_of(t))
    scapy_checksums_valid(out_of(t))
    before = bytes(p)
    after = out_of(t)
    # only the source address, the source port and the two checksums differ
    changed = [i for i in range(len(before)) if before[i] != after[i]]
    allowed = set(range(10, 16)) | {20, 21, 36, 37}
    assert set(changed) <= allowed, changed
    assert wire[TCP].options == p[TCP].options and wire.flags == "DF"


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 255).map(lambda x: f"192.168.1.{x}"),
    st.integers(1, 65535),
    st.integers(1, 65535),
    st.sampled_from(["udp", "tcp", "udp0"]),
    st.binary(max_size=200),
)
def test_any_packet_round_trips_with_valid_checksums(
    src: str, sport: int, dport: int, kind: str, payload: bytes
) -> None:
    n = nat()
    if kind == "tcp":
        p = IP(src=src, dst=SERVER) / TCP(sport=sport, dport=dport, flags="S") / Raw(payload)
    else:
        p = IP(src=src, dst=SERVER) / UDP(sport=sport, dport=dport) / Raw(payload)
        if kind == "udp0":
            p[UDP].chksum = 0
    t = n.outbound(ours(p), 0)
    data = out_of(t)
    scapy_checksums_valid(data)
    assert IPv4Packet.decode(data).encode() == data
    if kind == "udp0":
        assert IP(data)[UDP].chksum == 0
    # the reply comes back to exactly the sender
    assert t.mapping is not None
    if kind == "tcp":
        r = IP(src=SERVER, dst=PUBLIC) / TCP(sport=dport, dport=t.mapping.public_port,
                                             flags="SA") / Raw(payload)  # fmt: skip
    else:
        r = IP(src=SERVER, dst=PUBLIC) / UDP(sport=dport, dport=t.mapping.public_port)
    back = IP(out_of(n.inbound(ours(r), 1)))
    layer = TCP if kind == "tcp" else UDP
    assert (back.dst, back[layer].dport) == (src, sport)
    scapy_checksums_valid(bytes(back))


def test_icmp_echo_identifier_is_mapped() -> None:
    """RFC 5508 REQ-1/REQ-2: the echo identifier is the query's port."""
    assert ICMP_TIMEOUT >= 60
    n = nat()
    a = n.outbound(ours(IP(src=LAPTOP, dst=SERVER) / ICMP(type=8, id=77, seq=1) / b"ping"), 0)
    b = n.outbound(ours(IP(src="192.168.1.11", dst=SERVER) / ICMP(type=8, id=77, seq=1)), 0)
    assert a.mapping is not None and b.mapping is not None
    assert a.mapping.public_port == 77 and b.mapping.public_port != 77
    wire = IP(out_of(b))
    assert wire[ICMP].id == b.mapping.public_port and wire.src == PUBLIC
    scapy_checksums_valid(out_of(b))
    reply = IP(src=SERVER, dst=PUBLIC) / ICMP(type=0, id=b.mapping.public_port, seq=1)
    back = IP(out_of(n.inbound(ours(reply), 1)))
    assert (back.dst, back[ICMP].id, back[ICMP].type) == ("192.168.1.11", 77, 0)
    scapy_checksums_valid(bytes(back))
    assert len(n.expire(ICMP_TIMEOUT + 1)) == 2


def _error_for(sent: bytes, icmp_type: int, code: int, reporter: str, mtu: int = 0) -> IP:
    """What a router beyond the NAT sends back: the translated packet quoted (RFC 792)."""
    err = ICMP(type=icmp_type, code=code)
    if mtu:
        err.nexthopmtu = mtu
    return IP(src=reporter, dst=PUBLIC) / err / Raw(sent[:548])


@pytest.mark.parametrize(
    ("icmp_type", "code", "mtu"),
    [(11, 0, 0), (3, 3, 0), (3, 4, 1400)],
    ids=["time-exceeded", "port-unreachable", "frag-needed"],
)
@pytest.mark.parametrize("proto", ["udp", "tcp", "echo"])
def test_icmp_errors_are_translated_back_with_the_embedded_header(
    icmp_type: int, code: int, mtu: int, proto: str
) -> None:
    """RFC 5508 REQ-3: outer destination, embedded source address and port, and every
    checksum, so traceroute and path MTU discovery work through the NAT."""
    n = nat()
    other = "192.168.1.11"  # holds port 33434 first, so the laptop's is really mapped
    taker = {"udp": UDP(sport=33434), "tcp": TCP(sport=33434, flags="S")}
    n.outbound(ours(IP(src=other, dst=SERVER) / taker.get(proto, ICMP(id=33434))), 0)
    if proto == "udp":
        p = IP(src=LAPTOP, dst=SERVER, ttl=1) / UDP(sport=33434, dport=33435) / Raw(b"t" * 12)
    elif proto == "tcp":
        p = IP(src=LAPTOP, dst=SERVER, flags="DF") / TCP(sport=33434, dport=443, flags="S")
    else:
        p = IP(src=LAPTOP, dst=SERVER) / ICMP(type=8, id=33434, seq=3) / Raw(b"e" * 20)
    t = n.outbound(ours(p), 0)
    sent = out_of(t)
    assert t.mapping is not None
    assert t.mapping.public_port != 33434
    err = _error_for(sent, icmp_type, code, "198.18.0.1", mtu)
    back = n.inbound(ours(err), 0.5)
    assert back.event == "translated", back
    got = IP(out_of(back))
    assert got.src == "198.18.0.1" and got.dst == LAPTOP
    assert (got[ICMP].type, got[ICMP].code) == (icmp_type, code)
    if mtu:
        assert got[ICMP].nexthopmtu == mtu
    # the embedded packet is now exactly what the laptop sent
    assert bytes(got[ICMP].payload) == bytes(p)[: len(bytes(got[ICMP].payload))]
    assert bytes(got[ICMP].payload) == bytes(p)
    scapy_checksums_valid(bytes(got))


def test_icmp_error_with_a_short_quote_translates_what_is_there() -> None:
    """RFC 792 quotes only 8 bytes of the transport: the TCP checksum is not in them."""
    n = nat()
    p = IP(src=LAPTOP, dst=SERVER) / TCP(sport=1111, dport=443, flags="S")
    sent = out_of(n.outbound(ours(p), 0))
    err = IP(src="198.18.0.1", dst=PUBLIC) / ICMP(type=11, code=0) / Raw(sent[:28])
    got = IP(out_of(n.inbound(ours(err), 0)))
    assert bytes(got[ICMP].payload) == bytes(p)[:28]
    scapy_checksums_valid(bytes(got))


def test_icmp_error_about_no_mapping_is_dropped() -> None:
    n = nat()
    stray = bytes(IP(src=PUBLIC, dst=SERVER) / UDP(sport=999, dport=53))
    err = IP(src="198.18.0.1", dst=PUBLIC) / ICMP(type=3, code=3) / Raw(stray)
    assert n.inbound(ours(err), 0).event == "no-mapping"
    garbage = IP(src="198.18.0.1", dst=PUBLIC) / ICMP(type=3, code=3) / Raw(b"\x45junk")
    assert n.inbound(ours(garbage), 0).dropped


def test_outbound_icmp_error_about_an_inbound_packet() -> None:
    """RFC 5508 REQ-4: the laptop's port unreachable for a reply that came in."""
    n = nat()
    n.outbound(ours(IP(src="192.168.1.11", dst="1.1.1.1") / UDP(sport=6000)), 0)
    first = n.outbound(ours(IP(src=LAPTOP, dst="1.1.1.1") / UDP(sport=6000, dport=53)), 0)
    assert first.mapping is not None
    port = first.mapping.public_port
    arrived = IP(src="1.1.1.1", dst=PUBLIC) / UDP(sport=53, dport=port) / Raw(b"late")
    inside_copy = out_of(n.inbound(ours(arrived), 1))
    err = IP(src=LAPTOP, dst="1.1.1.1") / ICMP(type=3, code=3) / Raw(inside_copy)
    t = n.outbound(ours(err), 1)
    got = IP(out_of(t))
    assert got.src == PUBLIC and bytes(got[ICMP].payload) == bytes(arrived)
    scapy_checksums_valid(bytes(got))


def test_fragments_follow_the_first() -> None:
    n = nat()
    big = IP(src=LAPTOP, dst=SERVER, id=4242) / UDP(sport=7000, dport=9) / Raw(b"z" * 3000)
    frags = scapy_fragment(big, fragsize=1000)  # type: ignore[no-untyped-call]
    outs = [IP(out_of(n.outbound(ours(f), 0))) for f in frags]
    assert all(o.src == PUBLIC for o in outs)
    whole = defragment(outs)[0]  # type: ignore[no-untyped-call]
    assert whole[UDP].sport == 7000
    scapy_checksums_valid(bytes(whole))
    stray = IP(src=LAPTOP, dst=SERVER, id=999, frag=100) / Raw(b"q" * 16)
    assert n.outbound(ours(stray), 0).event == "untranslatable"


def test_corruption_stays_detectable() -> None:
    """RFC 3022 §4.2: incremental adjustment keeps a bad checksum bad."""
    n = nat()
    p = IP(src=LAPTOP, dst=SERVER) / UDP(sport=1234, dport=53) / Raw(b"hello")
    raw = bytearray(bytes(p))
    raw[-1] ^= 0x01  # flipped in the payload on the LAN
    t = n.outbound(IPv4Packet.decode(bytes(raw)), 0)
    wire = IP(out_of(t))
    fresh = wire.copy()
    del fresh[UDP].chksum
    assert IP(bytes(fresh))[UDP].chksum != wire[UDP].chksum


def test_untranslatable_protocols_and_short_headers() -> None:
    n = nat()
    gre = IPv4Packet(LAPTOP, SERVER, 47, b"\x00" * 8)
    assert n.outbound(gre, 0).event == "untranslatable"
    short = IPv4Packet(LAPTOP, SERVER, 6, b"\x00" * 10)
    assert n.outbound(short, 0).event == "untranslatable"
    redirect = IP(src=LAPTOP, dst=SERVER) / ICMP(type=13)
    assert n.outbound(ours(redirect), 0).event == "untranslatable"
    with pytest.raises(ValueError):
        Napt("192.168.1.1/24", PUBLIC, SeededRandom(1))
