"""Golden bytes and round trips for the Ethernet, ARP, IPv4, ICMP and UDP codecs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet.errors import DecodeError
from minternet.ip.icmp import (
    DEST_UNREACHABLE,
    FRAGMENTATION_NEEDED,
    TIME_EXCEEDED,
    IcmpMessage,
)
from minternet.ip.ipv4 import IPv4Packet, Reassembler, fragment
from minternet.link.arp import OP_REPLY, OP_REQUEST, ArpPacket
from minternet.link.ethernet import EthernetFrame, local_mac, mac_from_bytes, mac_to_bytes
from minternet.udp.datagram import UdpDatagram

# An ARP request as captured on a cable-modem network (Wireshark's arp-storm sample).
ARP_REQUEST_FRAME = bytes.fromhex(
    "ffffffffffff00070daff4540806"
    "000108000604000100070daff45418a6ac01000000000000"
    "18a6ad9f" + "00" * 18
)
# The header of the Wikipedia "IPv4 header checksum" example (checksum 0xb861).
IPV4_HEADER = bytes.fromhex("45000073000040004011b861c0a80001c0a800c7")
# A Windows ping: id 1, seq 1, "abcdefghijklmnopqrstuvwabcdefghi" -> checksum 0x4d5a.
ICMP_ECHO = bytes.fromhex("08004d5a00010001") + b"abcdefghijklmnopqrstuvwabcdefghi"


def test_ethernet_golden_arp_request() -> None:
    f = EthernetFrame.decode(ARP_REQUEST_FRAME)
    assert f.dst == "ff:ff:ff:ff:ff:ff" and f.src == "00:07:0d:af:f4:54"
    assert f.ethertype == 0x0806
    arp = ArpPacket.decode(f.payload)
    assert arp.op == OP_REQUEST
    assert (arp.sender_ip, arp.target_ip) == ("24.166.172.1", "24.166.173.159")
    assert arp.target_mac == "00:00:00:00:00:00"
    assert str(arp) == "ARP who-has 24.166.173.159 tell 24.166.172.1"
    rebuilt = EthernetFrame(f.dst, f.src, f.ethertype, arp.encode()).encode()
    assert rebuilt == ARP_REQUEST_FRAME  # padding to 60 bytes included


def test_arp_reply_swaps_roles() -> None:
    req = ArpPacket.request("02:00:00:00:00:01", "10.0.0.1", "10.0.0.2")
    rep = req.reply_to("02:00:00:00:00:02")
    assert rep.op == OP_REPLY
    assert (rep.sender_ip, rep.sender_mac) == ("10.0.0.2", "02:00:00:00:00:02")
    assert (rep.target_ip, rep.target_mac) == ("10.0.0.1", "02:00:00:00:00:01")


def test_ipv4_golden_header_checksum() -> None:
    assert IPV4_HEADER[10:12] == b"\xb8\x61"
    data = IPV4_HEADER + bytes(0x73 - 20)
    p = IPv4Packet.decode(data)
    assert (p.src, p.dst, p.protocol, p.ttl) == ("192.168.0.1", "192.168.0.199", 17, 64)
    assert p.dont_fragment and not p.more_fragments and p.checksum == 0xB861
    assert p.encode() == data


def test_ipv4_rejects_bad_checksum_naming_field() -> None:
    data = bytearray(IPV4_HEADER + bytes(0x73 - 20))
    data[8] = 63  # TTL changed without fixing the checksum
    with pytest.raises(DecodeError) as e:
        IPv4Packet.decode(bytes(data))
    assert e.value.field == "checksum" and e.value.offset == 10


def test_ipv4_ignores_ethernet_padding_and_keeps_options() -> None:
    p = IPv4Packet("10.0.0.1", "10.0.0.2", 1, b"x", options=b"\x94\x04\x00\x00")  # router alert
    data = p.encode() + bytes(10)
    q = IPv4Packet.decode(data)
    assert q == p and q.options == b"\x94\x04\x00\x00" and q.header_len == 24


def test_icmp_golden_echo() -> None:
    m = IcmpMessage.decode(ICMP_ECHO)
    assert (m.type, m.code, m.identifier, m.sequence) == (8, 0, 1, 1)
    assert IcmpMessage.echo_request(1, 1, b"abcdefghijklmnopqrstuvwabcdefghi").encode() == ICMP_ECHO


def test_icmp_errors_quote_the_original() -> None:
    original = IPv4Packet("10.0.0.1", "10.9.9.9", 17, UdpDatagram(5000, 53, b"q" * 40).encode())
    te = IcmpMessage.time_exceeded(0, original.encode())
    q = IcmpMessage.decode(te.encode()).quoted()
    assert q is not None and (q.src, q.dst, q.protocol) == ("10.0.0.1", "10.9.9.9", 17)
    assert q.payload[:4] == (5000).to_bytes(2, "big") + (53).to_bytes(2, "big")
    fn = IcmpMessage.dest_unreachable(FRAGMENTATION_NEEDED, original.encode(), 1400)
    m = IcmpMessage.decode(fn.encode())
    assert (m.type, m.code, m.next_hop_mtu) == (DEST_UNREACHABLE, 4, 1400)
    assert "next-hop MTU 1400" in str(m)
    big = IPv4Packet("10.0.0.1", "10.9.9.9", 17, bytes(2000)).encode()
    assert len(IcmpMessage.time_exceeded(0, big).encode()) + 20 <= 576  # RFC 1812 §4.3.2.3
    assert IcmpMessage(TIME_EXCEEDED, 0).quoted() is None


def test_udp_golden_checksum() -> None:
    # Computed by scapy for this exact header; our codec must agree byte for byte.
    packet = bytes.fromhex("450000211234000040117c7dc0a8010ac6336435cf080035000d00a968656c6c6f")
    ip = IPv4Packet.decode(packet)
    d = UdpDatagram.decode(ip.payload, ip.src, ip.dst)
    assert (d.src_port, d.dst_port, d.payload, d.checksum) == (53000, 53, b"hello", 0x00A9)
    assert d.encode(ip.src, ip.dst) == ip.payload
    rebuilt = IPv4Packet(ip.src, ip.dst, 17, d.encode(ip.src, ip.dst), identification=0x1234)
    assert rebuilt.encode() == packet


def test_udp_checksum_zero_means_none_and_computed_zero_is_ffff() -> None:
    d = UdpDatagram(1, 2, b"abc")
    raw = d.encode()
    assert raw[6:8] == b"\x00\x00"
    assert UdpDatagram.decode(raw, "1.2.3.4", "5.6.7.8") == d  # not checked
    bad = bytearray(d.encode("1.2.3.4", "5.6.7.8"))
    bad[-1] ^= 1
    with pytest.raises(DecodeError, match="checksum"):
        UdpDatagram.decode(bytes(bad), "1.2.3.4", "5.6.7.8")
    # Find a payload whose checksum computes to zero: it must go out as 0xFFFF.
    for i in range(70000):
        payload = i.to_bytes(3, "big")
        enc = UdpDatagram(7, 7, payload).encode("10.0.0.1", "10.0.0.2")
        if enc[6:8] == b"\xff\xff":
            assert UdpDatagram.decode(enc, "10.0.0.1", "10.0.0.2").payload == payload
            break
    else:
        pytest.fail("no payload with a zero checksum found")


def test_mac_helpers() -> None:
    assert mac_to_bytes("02:00:5e:10:00:01") == bytes.fromhex("02005e100001")
    assert mac_from_bytes(bytes.fromhex("02005e100001")) == "02:00:5e:10:00:01"
    assert local_mac(1) == "02:00:00:00:00:01"
    with pytest.raises(ValueError):
        mac_to_bytes("02:00:5e:10:00")


def test_fragment_and_reassemble_with_copied_options() -> None:
    opts = b"\x94\x04\x00\x00" + b"\x07\x07\x04" + bytes(4) + b"\x00"  # copied RA, uncopied RR
    p = IPv4Packet(
        "10.0.0.1", "10.0.0.2", 17, bytes(range(256)) * 12, identification=7, options=opts
    )
    frags = fragment(p, 576)
    assert len(frags) > 1
    assert all(f.total_length <= 576 for f in frags)
    assert frags[0].options == opts and all(f.options == b"\x94\x04\x00\x00" for f in frags[1:])
    assert all(len(f.payload) % 8 == 0 for f in frags[:-1])
    r = Reassembler()
    out = None
    for f in reversed(frags):  # out of order
        out = r.add(IPv4Packet.decode(f.encode()), 0.0)
    assert out is not None and out.payload == p.payload and out.options == opts
    assert len(r) == 0


def test_reassembly_times_out_and_returns_first_fragment() -> None:
    p = IPv4Packet("10.0.0.1", "10.0.0.2", 17, bytes(3000), identification=9)
    frags = fragment(p, 1500)
    r = Reassembler(timeout=30.0)
    assert r.add(frags[0], 0.0) is None
    assert r.next_deadline() == 30.0
    assert r.expire(29.0) == []
    gone = r.expire(30.0)
    assert len(gone) == 1 and gone[0][1] == frags[0]


ips = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
macs = st.binary(min_size=6, max_size=6).map(mac_from_bytes)


@given(macs, macs, st.integers(0x0600, 0xFFFF), st.binary(min_size=46, max_size=1500))
def test_ethernet_round_trip(dst: str, src: str, et: int, payload: bytes) -> None:
    f = EthernetFrame(dst, src, et, payload)
    assert EthernetFrame.decode(f.encode()) == f


@given(st.sampled_from([1, 2]), macs, ips, macs, ips)
def test_arp_round_trip(op: int, sm: str, si: str, tm: str, ti: str) -> None:
    a = ArpPacket(op, sm, si, tm, ti)
    assert ArpPacket.decode(a.encode()) == a


@given(
    ips,
    ips,
    st.integers(0, 255),
    st.binary(max_size=2000),
    st.integers(0, 255),
    st.integers(0, 0xFFFF),
    st.booleans(),
    st.booleans(),
    st.integers(0, 1000),
    st.integers(0, 255),
    st.integers(0, 10).map(lambda n: b"\x01" * (4 * n)),
)
def test_ipv4_round_trip(
    src: str,
    dst: str,
    proto: int,
    payload: bytes,
    ttl: int,
    ident: int,
    df: bool,
    mf: bool,
    off: int,
    tos: int,
    options: bytes,
) -> None:
    p = IPv4Packet(src, dst, proto, payload, ttl, ident, df, mf, off * 8, tos, options)
    assert IPv4Packet.decode(p.encode()) == p


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 2**32 - 1), st.binary(max_size=600))
def test_icmp_round_trip(t: int, c: int, rest: int, payload: bytes) -> None:
    m = IcmpMessage(t, c, rest, payload)
    assert IcmpMessage.decode(m.encode()) == m


@given(ips, ips, st.integers(0, 65535), st.integers(0, 65535), st.binary(max_size=1500))
def test_udp_round_trip(src: str, dst: str, sp: int, dp: int, payload: bytes) -> None:
    d = UdpDatagram(sp, dp, payload)
    assert UdpDatagram.decode(d.encode(src, dst), src, dst) == d


@given(st.binary(min_size=1, max_size=5000), st.integers(68, 1500))
def test_fragment_reassemble_property(payload: bytes, mtu: int) -> None:
    p = IPv4Packet("10.0.0.1", "10.0.0.2", 6, payload, identification=1)
    frags = fragment(p, mtu)
    if len(frags) > 1:
        assert all(f.total_length <= mtu for f in frags)
    else:
        assert frags == [p] and p.total_length <= mtu
    r = Reassembler()
    outs = [r.add(f, 0.0) for f in frags]
    assert outs[-1] == p
