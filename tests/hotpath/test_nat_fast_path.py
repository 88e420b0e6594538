"""The NAT's fast path (an existing mapping's TCP or UDP packet translated on the frame's
bytes: addresses, port, IPv4 and transport checksums patched by RFC 1624 eqn. 3, RFC 3022
§4.2) sends exactly what the full path (decode → :meth:`Napt.outbound`/:meth:`Napt.inbound`
→ forward → encode) sends: the same frames, packet ids, pcapng comments, ``nat`` and ``ip``
events, drops and NAT table, on random frames both ways that take either path — new and
existing mappings, filtered and unsolicited ones, TCP flags that open and close sessions,
fragments, ICMP, TTL 0/1/2, bad IPv4 checksums, corrupt transport checksums, UDP without a
checksum, padding, truncation, too big for the MTU, unresolved next hops, expiry — through a
router whose inside interface has a DHCP server's tap. scapy checks the translated bytes
independently."""

from __future__ import annotations

import random
from typing import Any

import pytest
from scapy.layers.inet import IP, TCP, UDP  # type: ignore[import-untyped]
from scapy.layers.l2 import Ether  # type: ignore[import-untyped]
from scapy.packet import Raw  # type: ignore[import-untyped]

from minternet.apps.ping import ping
from minternet.checksum import checksum_adjust, ones_complement_sum
from minternet.ip.ipv4 import PROTO_TCP, PROTO_UDP
from minternet.ip.nat import CHECKSUM_AT, port_checksum
from minternet.link.ethernet import EthernetFrame
from minternet.node import router as router_module
from minternet.node.router import Router
from minternet.sim.world import World
from minternet.trace.bus import EventLog, FrameRecord

PUBLIC = "198.51.100.1"
WORLD = {
    "nodes": {"h1": {}, "r": {"kind": "router"}, "h2": {}},
    "links": [
        {"a": "h1", "a_ip": "10.1.0.10/24", "b": "r", "b_ip": "10.1.0.1/24", "queue": 10**9,
         "b_dhcp": {"pool": "10.1.0.100-10.1.0.120"}},  # a tap on r's inside interface
        {"a": "r", "a_ip": f"{PUBLIC}/24", "a_nat": "10.1.0.0/24", "b": "h2",
         "b_ip": "198.51.100.20/24", "queue": 10**9, "mtu": 1000},
    ],
}  # fmt: skip

INSIDE = ["10.1.0.10", "10.1.0.10", "10.1.0.10", "10.1.0.33"]  # .33: no ARP entry
REMOTES = ["198.51.100.20", "198.51.100.20", "198.51.100.77", "203.0.113.9"]  # on link,
# without an ARP entry, no route
PORTS = [1000, 5000, 5000, 40000, 40000, 443]


def _packet(rnd: random.Random, src: str, dst: str, sport: int, dport: int) -> bytes:
    """A TCP, UDP or ICMP packet, its checksums right (scapy's) unless spoilt on purpose."""
    kind = rnd.choices(["tcp", "udp", "icmp", "other"], [6, 3, 1, 0.3])[0]
    frag = rnd.random() < 0.06
    ip = IP(
        src=src, dst=dst, ttl=rnd.choice([0, 1, 2, 64, 64, 255]), id=rnd.randint(0, 0xFFFF),
        flags=rnd.choice(["DF", 0, "MF" if frag else 0]),
        frag=rnd.choice([0, 0, 8]) if frag else 0, tos=rnd.choice([0, 0x10]),
    )  # fmt: skip
    payload = Raw(rnd.randbytes(rnd.choice([0, 1, 7, 600, 1200])))
    if kind == "tcp":
        flags = rnd.choice(["A", "A", "A", "PA", "S", "SA", "FA", "R"])
        pkt = ip / TCP(sport=sport, dport=dport, flags=flags, seq=rnd.getrandbits(32)) / payload
    elif kind == "udp":
        pkt = ip / UDP(sport=sport, dport=dport) / payload
        if rnd.random() < 0.1:
            pkt[UDP].chksum = 0  # no checksum (RFC 768)
    elif kind == "icmp":
        pkt = ip / b"\x08\x00\x00\x00" / payload
    else:
        pkt = IP(bytes(ip / payload))
        pkt.proto = 99
    data = bytearray(bytes(pkt))
    if rnd.random() < 0.05 and len(data) > 40:  # a transport checksum that does not verify
        data[36] ^= 0x40
    if rnd.random() < 0.04:  # an IPv4 header that does not verify
        data[10] ^= 0x01
    if rnd.random() < 0.05:
        data += bytes(rnd.randint(1, 9))  # Ethernet padding after total_length
    if rnd.random() < 0.03:
        data = data[: rnd.randint(0, len(data))]
    return bytes(data)


def _udp_zero_after_nat(src: str, sport: int, dst: str, dport: int) -> bytes:
    """A UDP datagram whose checksum, once the NAT rewrites its source to PUBLIC:sport
    (port preserved), computes to zero: it must go out as 0xFFFF (RFC 768)."""
    body = bytearray(bytes(UDP(sport=sport, dport=dport, chksum=0) / Raw(bytes(10))))
    body[4:6] = len(body).to_bytes(2, "big")
    pseudo = bytes(map(int, PUBLIC.split("."))) + bytes(map(int, dst.split(".")))
    pseudo += bytes((0, 17)) + len(body).to_bytes(2, "big")
    s = ones_complement_sum(pseudo + bytes(body))
    body[-2:] = (~s & 0xFFFF).to_bytes(2, "big")  # now the words sum to 0xFFFF: checksum 0
    pkt = IP(src=src, dst=dst, ttl=64, id=7) / UDP(bytes(body))
    pkt[UDP].chksum = None  # scapy computes it for the inside source
    return bytes(pkt)


def _frames(rnd: random.Random, w: World) -> list[tuple[str, bytes]]:
    r = w.node("r")
    r_in, r_out = r.interfaces["eth0"].mac, r.interfaces["eth1"].mac
    h1, h2 = w.node("h1").interfaces["eth0"].mac, w.node("h2").interfaces["eth0"].mac
    out: list[tuple[str, bytes]] = []
    for i in range(900):
        if i % 150 == 149:
            out.append(("wait", b""))  # long enough for transitory TCP and UDP sessions to expire
            continue
        if rnd.random() < 0.5:
            src, dst = rnd.choice(INSIDE), rnd.choice(REMOTES)
            data = _packet(rnd, src, dst, rnd.choice(PORTS), rnd.choice(PORTS))
            if i % 97 == 0:
                data = _udp_zero_after_nat(src, 5000, "198.51.100.20", 53)
            elif i % 61 == 0:  # for the DHCP server's tap (a DISCOVER's bytes need not parse)
                to = rnd.choice(["255.255.255.255", "10.1.0.1", "10.1.0.255"])
                data = bytes(IP(src=src, dst=to) / UDP(sport=68, dport=67) / Raw(bytes(240)))
            dst_mac, src_mac, where = r_in, h1, "eth0"
        else:
            src = rnd.choice([*REMOTES[:2], "198.51.100.21"])
            dst = PUBLIC if rnd.random() < 0.9 else rnd.choice(["10.1.0.10", "198.51.100.1"])
            data = _packet(rnd, src, dst, rnd.choice(PORTS), rnd.choice(PORTS))
            dst_mac, src_mac, where = r_out, h2, "eth1"
        if rnd.random() < 0.03:
            dst_mac = rnd.choice(["ff:ff:ff:ff:ff:ff", "02:00:00:00:99:99"])
        out.append((where, EthernetFrame(dst_mac, src_mac, 0x0800, data).encode()))
    return out


def _run(fast: bool, events: bool = False) -> tuple[list[tuple[Any, ...]], dict[str, Any], int]:
    w = World.from_dict(WORLD)
    task = w.loop.create_task(ping(w.node("h1"), "198.51.100.20", count=1))  # warm ARP
    w.loop.run_until_complete(task, 10)
    records: list[FrameRecord] = []
    log = EventLog()
    w.trace.subscribe_frames(records.append)
    if events:
        w.trace.subscribe(log)
    r = w.node("r")
    assert isinstance(r, Router)
    taken = 0
    real_in, real_out = r._fast_nat_in, r._fast_nat_out

    def counted(real: Any) -> Any:
        def wrapper(*args: Any) -> bool:
            nonlocal taken
            ok = bool(fast and real(*args))
            taken += ok
            return ok

        return wrapper

    r._fast_nat_in = counted(real_in)  # type: ignore[method-assign]
    r._fast_nat_out = counted(real_out)  # type: ignore[method-assign]
    for i, (where, frame) in enumerate(_frames(random.Random(3022), w)):
        if where == "wait":
            w.run(until=w.loop.now() + 250.0)
            continue
        r.interfaces[where].deliver(frame, 10_000 + i)
        w.run(until=w.loop.now() + 0.01)
    seen = [(x.time, x.node, x.iface, x.direction, x.data, x.packet_id, x.comment) for x in records]
    seen += [(e.time, e.node, e.iface, e.layer, e.kind, e.fields, e.why) for e in log.events]
    state = {"drops": dict(r.drops), "nat": [(n, m.to_json()) for n, m in r.nat_table()]}
    return seen, state, taken


@pytest.mark.parametrize("events", [False, True], ids=["frames", "frames+events"])
def test_nat_fast_path_sends_what_the_full_path_sends(events: bool) -> None:
    fast, fast_state, taken = _run(True, events)
    full, full_state, _ = _run(False, events)
    assert taken > 100  # many frames were translated on the fast path ...
    assert sum(1 for x in fast if "NAT" in str(x[-1])) > taken  # ... and others on the full one
    assert fast == full
    assert fast_state == full_state
    assert {"nat-unsolicited", "ttl-expired", "ip-bad-checksum"} <= set(fast_state["drops"])


def _verifies(ip: Any) -> bool:
    """Whether scapy, recomputing them, finds the IPv4 packet's TCP/UDP checksum right."""
    layer = ip[TCP] if TCP in ip else ip[UDP]
    got = layer.chksum
    copy = IP(bytes(ip))
    del (copy[TCP] if TCP in copy else copy[UDP]).chksum
    return bool(IP(bytes(copy))[TCP if TCP in ip else UDP].chksum == got)


def test_nat_fast_path_bytes_checked_by_scapy() -> None:
    seen, _, taken = _run(True)
    assert taken
    arrived = {x[5]: x[4] for x in seen if x[1] == "r" and x[3] == "in"}
    good = corrupt = udp_ffff = 0
    for x in seen:
        if x[1] != "r" or x[3] != "out" or not x[6] or "NAT" not in x[6]:
            continue
        ip, before = Ether(x[4])[IP], Ether(arrived[x[5]])[IP]
        if (TCP not in ip and UDP not in ip) or ip.frag or ip.flags.MF or before.flags.MF:
            continue  # ICMP, or a fragment (the checksum covers the whole datagram)
        header = IP(bytes(ip))
        del header.chksum
        assert IP(bytes(header)).chksum == ip.chksum  # scapy recomputes the IPv4 checksum
        if UDP in ip and ip[UDP].chksum == 0:
            assert before[UDP].chksum == 0  # no UDP checksum stays none (RFC 768)
            continue
        # RFC 3022 §4.2: adjusted, not recomputed — a good datagram comes out good (scapy
        # recomputes the same value), a corrupt one stays corrupt.
        ok = _verifies(ip)
        assert ok == _verifies(before)
        good += ok
        corrupt += not ok
        udp_ffff += UDP in ip and ip[UDP].chksum == 0xFFFF
    assert good > 50 and corrupt >= 1
    assert udp_ffff >= 1  # the crafted datagrams whose checksum computes to zero: 0xFFFF


def test_only_a_tap_that_takes_nothing_in_transit_is_passed_by() -> None:
    """The DHCP server's tap on r's inside interface takes only packets for that interface
    or a broadcast: transit frames pass it on the fast path. Any other tap there (a DHCP
    client's takes UDP to port 68 whatever the destination) sees every packet."""
    w = World.from_dict(WORLD)
    w.loop.run_until_complete(w.loop.create_task(ping(w.node("h1"), "198.51.100.20")), 10)
    r = w.node("r")
    assert isinstance(r, Router)
    seen: list[str] = []

    def other_tap(iface: Any, packet: Any) -> bool:
        seen.append(packet.dst)
        return False

    frame = EthernetFrame(
        r.interfaces["eth0"].mac, w.node("h1").interfaces["eth0"].mac, 0x0800,
        bytes(IP(src="10.1.0.10", dst="198.51.100.20") / UDP(sport=5000, dport=68) / b"x"),
    ).encode()  # fmt: skip
    assert r.ip_taps["eth0"] is r.local_ip_taps["eth0"]  # the DHCP server's
    r.interfaces["eth0"].deliver(frame, 1)  # the full path makes the mapping
    w.run()
    for tap, fast in ((None, True), (other_tap, False)):
        if tap is not None:
            r.ip_taps["eth0"] = tap
        got = r._fast_forward(r.interfaces["eth0"], frame, 1)
        w.run()
        assert got == fast
    r.interfaces["eth0"].deliver(frame, 2)  # the full path shows it to the tap
    assert seen == ["198.51.100.20"]


def _nat_frame_by_library(
    data: bytes, total: int, header: bytes, addresses: bytes, port_at: int, port: int
) -> bytes:
    """What the fast path's translation was before its arithmetic was inlined: the
    library's RFC 1624 functions, one adjustment at a time."""
    ttl, proto = data[22], data[23]
    hc = checksum_adjust(
        (data[24] << 8) | data[25], ones_complement_sum(data[26:34]),
        ones_complement_sum(addresses),
    )  # fmt: skip
    hc = checksum_adjust(hc, (ttl << 8) | proto, ((ttl - 1) << 8) | proto)
    at = 34 + CHECKSUM_AT[proto]
    tc = port_checksum(proto, (data[at] << 8) | data[at + 1], data[26:34], addresses,
                       (data[port_at] << 8) | data[port_at + 1], port)  # fmt: skip
    frame = b"".join((
        header, data[14:22], bytes((ttl - 1, proto, hc >> 8, hc & 0xFF)), addresses,
        data[34:port_at], port.to_bytes(2, "big"), data[port_at + 2 : at],
        tc.to_bytes(2, "big"), data[at + 2 : 14 + total],
    ))  # fmt: skip
    return frame + bytes(max(0, 60 - len(frame)))


def test_inlined_translation_arithmetic_is_the_librarys() -> None:
    """The inlined checksum arithmetic gives the library functions' bytes on random frames
    and on the one's-complement corner cases: addresses and ports all zero or summing to a
    multiple of 0xFFFF (0xFFFF, not 0), checksum fields 0x0000 and 0xFFFF, UDP without a
    checksum, a UDP checksum whose adjustment comes to zero (sent as 0xFFFF)."""
    rnd = random.Random(1624)
    pools = [bytes(4), b"\xff\xff\x00\x00", b"\x00\x00\xff\xff", b"\xff\xff\xff\xff",
             b"\x12\x34\xed\xcb", b"\x80\x00\x7f\xff"]  # fmt: skip
    header = bytes(range(14))
    zero_udp = 0

    def addr() -> bytes:
        return rnd.choice(pools) if rnd.random() < 0.5 else rnd.randbytes(4)

    for _ in range(20_000):
        proto = rnd.choice([PROTO_TCP, PROTO_UDP])
        size = rnd.choice([0, 1, 30, 200])
        transport = bytearray(rnd.randbytes(20 + size))
        at = CHECKSUM_AT[proto]
        transport[at : at + 2] = rnd.choice([b"\x00\x00", b"\xff\xff", rnd.randbytes(2)])
        for p in (0, 2):
            transport[p : p + 2] = rnd.choice([b"\x00\x00", b"\xff\xff", rnd.randbytes(2)])
        ip = bytearray(rnd.randbytes(20))
        ip[0], ip[8], ip[9] = 0x45, rnd.randint(2, 255), proto
        ip[10:12] = rnd.choice([b"\x00\x00", b"\xff\xff", rnd.randbytes(2)])
        ip[12:20] = addr() + addr()
        total = 20 + len(transport)
        ip[2:4] = total.to_bytes(2, "big")
        data = header + bytes(ip) + bytes(transport)
        outbound = rnd.random() < 0.5
        addresses = addr() + data[30:34] if outbound else data[26:30] + addr()
        port_at = 34 if outbound else 36
        port = rnd.choice([0, 0xFFFF, rnd.randint(0, 0xFFFF)])
        if proto == PROTO_UDP and rnd.random() < 0.05:  # make the adjusted sum come to zero
            old = int.from_bytes(data[26:34] + data[port_at : port_at + 2], "big") % 0xFFFF
            new = int.from_bytes(addresses + port.to_bytes(2, "big"), "big") % 0xFFFF
            c = (0xFFFF - ((0xFFFF - old) + new) % 0xFFFF) % 0xFFFF or 0xFFFF
            data = data[: 34 + at] + c.to_bytes(2, "big") + data[36 + at :]
        expected = _nat_frame_by_library(data, total, header, addresses, port_at, port)
        got = router_module._nat_frame(data, total, header, addresses, port_at, port)
        assert got == expected, data.hex()
        zero_udp += proto == PROTO_UDP and got[34 + at : 36 + at] == b"\xff\xff"
    assert zero_udp > 20
