"""Hosts and routers: drops are counted and traced, ICMP errors, fragments, UDP sockets."""

from __future__ import annotations

import pytest
from netutil import chain, run, two_hosts

from minternet.apps.ping import ping
from minternet.errors import LocalProtocolError
from minternet.ip import icmp
from minternet.ip.icmp import IcmpErrorReport, IcmpMessage
from minternet.ip.ipv4 import IPv4Packet
from minternet.link.ethernet import EthernetFrame
from minternet.loop import LoopTimeout
from minternet.trace.bus import EventLog


def _frame_to(w, node: str, ip: IPv4Packet | bytes) -> bytes:  # type: ignore[no-untyped-def]
    iface = w.node(node).interfaces["eth0"]
    data = ip.encode() if isinstance(ip, IPv4Packet) else ip
    # Built by hand, without the padding to 60 bytes EthernetFrame.encode would add.
    return bytes.fromhex(iface.mac.replace(":", "") + "020000000099" + "0800") + data


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda b: b[:10], "ip-truncated-header"),
        (lambda b: b[:8] + bytes([b[8] ^ 0xFF]) + b[9:], "ip-bad-checksum"),
        (lambda b: b"\x65" + b[1:], "ip-malformed"),
        (lambda b: b[:30], "ip-truncated"),
    ],
)
def test_bad_packets_are_dropped_counted_and_traced(mangle, reason) -> None:  # type: ignore[no-untyped-def]
    w = two_hosts()
    log = EventLog()
    w.trace.subscribe(log)
    good = IPv4Packet("10.0.0.1", "10.0.0.2", 17, bytes(40)).encode()
    b = w.node("b")
    b.interfaces["eth0"].deliver(_frame_to(w, "b", mangle(good)), None)
    w.run(until=1)
    assert b.drops == {reason: 1}
    assert w.trace.counters[f"drop.{reason}"] == 1
    (ev,) = log.of("ip", "drop")
    assert ev.node == "b" and ev.why and ev.fields["reason"] == reason


def test_truncated_frame_and_unknown_ethertype() -> None:
    w = two_hosts()
    b = w.node("b")
    b.interfaces["eth0"].deliver(b"\x01\x02\x03", None)
    b.interfaces["eth0"].deliver(
        EthernetFrame(b.interfaces["eth0"].mac, "02:00:00:00:00:09", 0x88B5, b"x").encode(), None
    )
    assert b.drops == {"ethernet-truncated": 1, "unknown-ethertype": 1}


def test_ttl_expired_at_router_answers_time_exceeded() -> None:
    w = chain()
    h1 = w.node("h1")
    sock = h1.icmp_socket()
    sock.send("10.3.0.10", IcmpMessage.echo_request(1, 1, b"x"), ttl=2)

    async def wait():  # type: ignore[no-untyped-def]
        return await sock.recv(timeout=5)

    packet, msg = run(w, wait())
    assert msg.type == icmp.TIME_EXCEEDED and packet.src == "10.2.0.2"  # r2's address toward h1
    assert w.node("r2").drops == {"ttl-expired": 1}
    q = msg.quoted()
    assert q is not None and q.ttl == 1 and q.dst == "10.3.0.10"


def test_no_route_answers_net_unreachable() -> None:
    w = chain()
    r = run(w, ping(w.node("h1"), "172.16.0.1", count=1))
    assert r.received == 0
    assert r.replies[0].error is not None and "net unreachable" in r.replies[0].error
    assert w.node("r1").drops == {"no-route": 1}


def test_no_arp_answer_drops_and_reports_host_unreachable() -> None:
    w = chain()
    log = EventLog()
    w.trace.subscribe(log)
    r = run(w, ping(w.node("h1"), "10.3.0.99", count=1, timeout=5))
    assert r.received == 0
    assert "host unreachable" in (r.replies[0].error or "")
    r2 = w.node("r2")
    assert r2.drops == {"no-arp-answer": 1}
    assert len(log.of("arp", "request")) >= 3 + 2  # r2's three tries, plus the path's own


def test_fragmentation_in_the_network_and_reassembly_at_the_host() -> None:
    w = chain(mtu_middle=576)
    log = EventLog()
    w.trace.subscribe(log)
    h1, h2 = w.node("h1"), w.node("h2")
    rx = h2.udp_socket(("0.0.0.0", 7))
    payload = bytes(range(256)) * 12

    async def go():  # type: ignore[no-untyped-def]
        h1.udp_socket().sendto(payload, ("10.3.0.10", 7))
        return await rx.recvfrom(timeout=5)

    data, (src, _) = run(w, go())
    assert data == payload and src == "10.1.0.10"
    assert any(e.kind == "fragment" and e.node == "r1" for e in log.events)
    assert any(e.kind == "reassembled" and e.node == "h2" for e in log.events)


def test_df_set_too_big_gets_fragmentation_needed_with_mtu() -> None:
    w = chain(mtu_middle=1000)
    h1 = w.node("h1")
    reports: list[IcmpErrorReport] = []

    class Proto:
        def __call__(self, packet: IPv4Packet) -> None:
            pass

        def icmp_error(self, report: IcmpErrorReport) -> None:
            reports.append(report)

    h1.register_protocol(253, Proto())
    h1.ip_send("10.3.0.10", 253, bytes(1400), df=True)
    w.run(until=5)
    assert len(reports) == 1
    rep = reports[0]
    assert (rep.type, rep.code, rep.next_hop_mtu, rep.reporter) == (3, 4, 1000, "10.1.0.1")
    assert rep.quoted.protocol == 253 and rep.quoted.dst == "10.3.0.10"
    assert w.node("r1").drops == {"fragmentation-needed": 1}


def test_register_protocol_and_protocol_unreachable() -> None:
    w = chain()
    got: list[IPv4Packet] = []
    w.node("h2").register_protocol(253, got.append)
    w.node("h1").ip_send("10.3.0.10", 253, b"hello", ttl=9)
    w.run(until=2)
    assert len(got) == 1
    p = got[0]
    assert (p.src, p.dst, p.ttl, p.protocol, p.payload) == (
        "10.1.0.10",
        "10.3.0.10",
        7,
        253,
        b"hello",
    )
    reports: list[IcmpErrorReport] = []

    class Proto:
        def __call__(self, packet: IPv4Packet) -> None:
            pass

        def icmp_error(self, report: IcmpErrorReport) -> None:
            reports.append(report)

    w.node("h1").register_protocol(254, Proto())
    w.node("h1").ip_send("10.3.0.10", 254, b"?")
    w.run(until=4)
    assert [(r.type, r.code) for r in reports] == [(3, 2)]


def test_udp_sockets() -> None:
    w = chain()
    h1, h2 = w.node("h1"), w.node("h2")
    server = h2.udp_socket(("10.3.0.10", 53))
    with pytest.raises(LocalProtocolError):
        h2.udp_socket(("0.0.0.0", 53))
    with pytest.raises(LocalProtocolError):
        h2.udp_socket(("10.1.0.10", 5))  # not an address of h2

    async def serve() -> None:
        data, addr = await server.recvfrom()
        server.sendto(data.upper(), addr)

    async def client():  # type: ignore[no-untyped-def]
        w.loop.create_task(serve())
        c = h1.udp_socket()
        assert 49152 <= c.local[1] <= 65535
        c.sendto(b"hello", ("10.3.0.10", 53))
        reply = await c.recvfrom(timeout=5)
        c.sendto(b"nobody", ("10.3.0.10", 54))
        with pytest.raises(LoopTimeout):
            await c.recvfrom(timeout=1)
        return reply, c

    (data, addr), c = run(w, client())
    assert data == b"HELLO" and addr == ("10.3.0.10", 53)
    assert [(e.type, e.code, e.remote) for e in c.errors] == [(3, 3, ("10.3.0.10", 54))]
    assert h2.drops == {"udp-port-unreachable": 1}


def test_host_contract() -> None:
    w = chain()
    h1 = w.node("h1")
    assert h1.source_address_for("10.3.0.10") == "10.1.0.10"
    assert h1.routes.default_gateway == "10.1.0.1"
    # Every host of a world has TCP attached (minternet.node.tcp_host.attach_tcp).
    assert h1.tcp is not None and h1.tcp_listen(80).local == ("0.0.0.0", 80)
    assert h1.random.child("x").random_bytes(4) == w.random.child("h1").child("x").random_bytes(4)
    r1 = w.node("r1")
    assert r1.source_address_for("10.3.0.10") == "10.2.0.1"
    # A host does not forward: a packet for someone else is dropped and counted.
    h1.interfaces["eth0"].deliver(
        _frame_to(w, "h1", IPv4Packet("10.9.9.9", "10.8.8.8", 17, b"")), None
    )
    assert h1.drops == {"not-for-us": 1}


def test_loopback_and_own_address_never_touch_the_wire() -> None:
    w = chain()
    h1 = w.node("h1")
    server = h1.udp_socket(("127.0.0.1", 53))
    own = h1.udp_socket(("0.0.0.0", 54))

    async def go():  # type: ignore[no-untyped-def]
        c = h1.udp_socket()
        c.sendto(b"lo", ("127.0.0.1", 53))
        c.sendto(b"me", ("10.1.0.10", 54))
        return (await server.recvfrom(timeout=1))[0], (await own.recvfrom(timeout=1))[0]

    assert run(w, go()) == (b"lo", b"me")
    assert h1.interfaces["eth0"].frames_out == 0
