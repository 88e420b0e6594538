"""Independent parsers judge our bytes, and we parse theirs: scapy and dpkt, both ways."""

from __future__ import annotations

import dpkt
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, UDP, defragment
from scapy.layers.inet import fragment as scapy_fragment
from scapy.layers.l2 import ARP, Ether

from minternet.ip.icmp import IcmpMessage
from minternet.ip.ipv4 import IPv4Packet, Reassembler, fragment
from minternet.link.arp import ArpPacket
from minternet.link.ethernet import EthernetFrame
from minternet.udp.datagram import UdpDatagram

ips = st.tuples(*[st.integers(1, 254)] * 4).map(lambda t: ".".join(map(str, t)))


@settings(max_examples=60, deadline=None)
@given(
    ips,
    ips,
    st.integers(1, 255),
    st.integers(0, 0xFFFF),
    st.booleans(),
    st.integers(0, 65535),
    st.integers(0, 65535),
    st.binary(max_size=300),
)
def test_scapy_reads_our_udp_in_ipv4_in_ethernet(
    src: str, dst: str, ttl: int, ident: int, df: bool, sp: int, dp: int, payload: bytes
) -> None:
    udp = UdpDatagram(sp, dp, payload).encode(src, dst)
    ip = IPv4Packet(src, dst, 17, udp, ttl=ttl, identification=ident, dont_fragment=df)
    frame = EthernetFrame("02:00:00:00:00:02", "02:00:00:00:00:01", 0x0800, ip.encode())
    pkt = Ether(frame.encode())
    assert pkt[Ether].src == "02:00:00:00:00:01" and pkt[Ether].type == 0x0800
    assert (pkt[IP].src, pkt[IP].dst, pkt[IP].ttl, pkt[IP].id) == (src, dst, ttl, ident)
    assert bool(pkt[IP].flags.DF) == df
    assert (pkt[UDP].sport, pkt[UDP].dport) == (sp, dp)
    assert bytes(pkt[UDP].payload)[: len(payload)] == payload
    # scapy recomputes both checksums and must find ours right.
    ref = Ether(frame.encode())
    del ref[IP].chksum
    del ref[UDP].chksum
    ref = Ether(bytes(ref))
    assert ref[IP].chksum == pkt[IP].chksum
    assert ref[UDP].chksum == pkt[UDP].chksum


@settings(max_examples=60, deadline=None)
@given(
    ips,
    ips,
    st.integers(1, 255),
    st.integers(0, 65535),
    st.integers(0, 65535),
    st.binary(max_size=300),
)
def test_we_read_scapy_udp(src: str, dst: str, ttl: int, sp: int, dp: int, payload: bytes) -> None:
    raw = bytes(
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src=src, dst=dst, ttl=ttl)
        / UDP(sport=sp, dport=dp)
        / payload
    )
    f = EthernetFrame.decode(raw)
    ip = IPv4Packet.decode(f.payload)
    d = UdpDatagram.decode(ip.payload, ip.src, ip.dst)
    assert (ip.src, ip.dst, ip.ttl, d.src_port, d.dst_port, d.payload) == (
        src,
        dst,
        ttl,
        sp,
        dp,
        payload,
    )
    assert ip.encode() == f.payload[: ip.total_length]  # we rebuild scapy's bytes exactly


def test_icmp_both_ways_with_scapy() -> None:
    ours = IPv4Packet(
        "10.0.0.1", "10.0.0.2", 1, IcmpMessage.echo_request(0x1234, 7, b"ping!").encode()
    )
    s = IP(ours.encode())
    assert (s[ICMP].type, s[ICMP].id, s[ICMP].seq, bytes(s[ICMP].payload)) == (
        8,
        0x1234,
        7,
        b"ping!",
    )
    theirs = bytes(
        IP(src="1.1.1.1", dst="2.2.2.2")
        / ICMP(type=11, code=0)
        / IP(src="2.2.2.2", dst="9.9.9.9", ttl=1)
        / UDP(sport=33434, dport=33435)
    )
    ip = IPv4Packet.decode(theirs)
    m = IcmpMessage.decode(ip.payload)
    q = m.quoted()
    assert m.type == 11 and q is not None and q.dst == "9.9.9.9" and q.ttl == 1
    # frag-needed with a next-hop MTU (RFC 1191)
    fn = IcmpMessage.dest_unreachable(4, ours.encode(), 1280).encode()
    assert ICMP(fn).nexthopmtu == 1280


def test_arp_both_ways_with_scapy() -> None:
    ours = ArpPacket.request("02:00:00:00:00:01", "192.168.1.10", "192.168.1.1")
    s = ARP(ours.encode())
    assert (s.op, s.hwsrc, s.psrc, s.pdst) == (
        1,
        "02:00:00:00:00:01",
        "192.168.1.10",
        "192.168.1.1",
    )
    theirs = bytes(
        ARP(
            op=2,
            hwsrc="02:aa:bb:cc:dd:ee",
            psrc="10.1.2.3",
            hwdst="02:00:00:00:00:01",
            pdst="10.1.2.4",
        )
    )
    a = ArpPacket.decode(theirs)
    assert (a.op, a.sender_mac, a.sender_ip, a.target_ip) == (
        2,
        "02:aa:bb:cc:dd:ee",
        "10.1.2.3",
        "10.1.2.4",
    )
    assert a.encode() == theirs


def test_dpkt_reads_ours_and_we_read_dpkt() -> None:
    udp = UdpDatagram(5353, 53, b"\x12\x34query").encode("192.168.1.10", "198.51.100.53")
    ip = IPv4Packet("192.168.1.10", "198.51.100.53", 17, udp, ttl=61, identification=99)
    frame = EthernetFrame("02:00:00:00:00:02", "02:00:00:00:00:01", 0x0800, ip.encode()).encode()
    e = dpkt.ethernet.Ethernet(frame)
    assert isinstance(e.data, dpkt.ip.IP)
    assert (
        e.data.ttl == 61
        and e.data.id == 99
        and e.data.sum == IPv4Packet.decode(ip.encode()).checksum
    )
    assert e.data.data.sport == 5353 and e.data.data.data == b"\x12\x34query"
    # dpkt builds (and checksums) a packet; we decode it, verifying both checksums.
    d_udp = dpkt.udp.UDP(sport=1000, dport=2000, data=b"hello dpkt")
    d_ip = dpkt.ip.IP(src=bytes([10, 0, 0, 1]), dst=bytes([10, 0, 0, 2]), p=17, ttl=5, data=d_udp)
    d_ip.len = 20 + 8 + len(b"hello dpkt")
    d_udp.ulen = 8 + len(b"hello dpkt")
    raw = bytes(d_ip)
    ours = IPv4Packet.decode(raw)
    got = UdpDatagram.decode(ours.payload, ours.src, ours.dst)
    assert got.payload == b"hello dpkt" and got.checksum != 0
    icmp = dpkt.icmp.ICMP(type=8, code=0, data=dpkt.icmp.ICMP.Echo(id=5, seq=6, data=b"xyz"))
    m = IcmpMessage.decode(bytes(icmp))
    assert (m.identifier, m.sequence, m.payload) == (5, 6, b"xyz")
    assert m.encode() == bytes(icmp)


def test_fragments_both_ways_with_scapy() -> None:
    big = IPv4Packet(
        "10.0.0.1",
        "10.0.0.2",
        17,
        UdpDatagram(1, 2, bytes(range(256)) * 16).encode("10.0.0.1", "10.0.0.2"),
        identification=4242,
    )
    ours = [IP(f.encode()) for f in fragment(big, 1000)]
    whole = defragment(ours)
    assert len(whole) == 1 and bytes(whole[0][UDP].payload) == bytes(range(256)) * 16
    theirs = scapy_fragment(IP(big.encode()), fragsize=496)
    r = Reassembler()
    out = None
    for f in theirs:
        out = r.add(IPv4Packet.decode(bytes(f)), 0.0)
    assert out is not None and out.payload == big.payload
