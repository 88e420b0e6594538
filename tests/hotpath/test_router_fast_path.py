"""The router's fast path (forwarding on the frame's bytes, RFC 1812 §5.2.2/§5.3.1 with the
RFC 1624 checksum update) sends exactly what the full path (decode → forward → encode) sends:
the same frames, packet ids, pcapng comments, ICMP errors and drop counts, on random frames
that take either path (options, TTL 0/1, bad checksums, checksum 0xFFFF, padding, broadcasts,
own address, no route, unresolved next hop, too big for the MTU, other MACs); scapy checks
the forwarded bytes independently. With trace events on, the ``ip forward`` events match
too."""

from __future__ import annotations

import random
from typing import Any

import pytest
from scapy.layers.inet import IP  # type: ignore[import-untyped]
from scapy.layers.l2 import Ether  # type: ignore[import-untyped]

from minternet.apps.ping import ping
from minternet.checksum import internet_checksum
from minternet.ip.ipv4 import IPv4Packet
from minternet.ip.routing import Route
from minternet.link.ethernet import EthernetFrame
from minternet.node.router import Router
from minternet.sim.world import World
from minternet.trace.bus import EventLog, FrameRecord

WORLD = {
    "nodes": {"h1": {}, "r": {"kind": "router"}, "h2": {}},
    "links": [
        {"a": "h1", "a_ip": "10.1.0.10/24", "b": "r", "b_ip": "10.1.0.1/24", "queue": 10**9},
        {"a": "r", "a_ip": "10.2.0.1/24", "b": "h2", "b_ip": "10.2.0.10/24", "queue": 10**9,
         "mtu": 1000},
    ],
}  # fmt: skip

DESTINATIONS = [
    "10.2.0.10",  # h2: the fast path's case
    "10.2.0.10",
    "10.2.0.10",
    "10.2.0.77",  # on link, no ARP entry: queued behind an ARP request
    "10.2.0.255",  # directed broadcast of the egress network
    "10.2.0.1",  # the router's own address
    "10.1.0.1",
    "255.255.255.255",
    "192.0.2.1",  # no route
]


def _with_checksum_ffff(packet: IPv4Packet) -> bytes | None:
    """The packet's bytes with its checksum field 0xFFFF, if that verifies (negative zero)."""
    data = bytearray(packet.encode())
    if (data[10], data[11]) != (0, 0):
        return None
    data[10:12] = b"\xff\xff"
    assert internet_checksum(bytes(data[:20])) == 0
    return bytes(data)


def _frames(rnd: random.Random, r_mac: str, h1_mac: str) -> list[bytes]:
    out: list[bytes] = []
    for i in range(600):
        dst = rnd.choice(DESTINATIONS)
        packet = IPv4Packet(
            "10.1.0.10", dst, rnd.choice([17, 6, 1, 99]),
            rnd.randbytes(rnd.choice([0, 8, 900, 1200])),
            ttl=rnd.choice([0, 1, 2, 3, 64, 255]), identification=rnd.randint(0, 0xFFFF),
            dont_fragment=rnd.random() < 0.5, tos=rnd.randint(0, 255),
            options=b"\x01\x01\x01\x00" if rnd.random() < 0.1 else b"",
            more_fragments=rnd.random() < 0.1,
        )  # fmt: skip
        data = packet.encode()
        if rnd.random() < 0.05:  # a header that does not verify
            data = data[:10] + bytes((data[10] ^ 0x10, data[11])) + data[12:]
        if i % 50 == 0:  # a header whose checksum reads 0xFFFF (the ident picked to allow it)
            zero = IPv4Packet("10.1.0.10", "10.2.0.10", 17, b"x" * 30, identification=0)
            c = int.from_bytes(zero.encode()[10:12], "big")
            ffff = _with_checksum_ffff(
                IPv4Packet("10.1.0.10", "10.2.0.10", 17, b"x" * 30, identification=c)
            )
            assert ffff is not None
            data = ffff
        if rnd.random() < 0.05:
            data += bytes(rnd.randint(1, 9))  # trailing bytes after total_length
        if rnd.random() < 0.05:
            data = data[: rnd.randint(0, len(data))]  # truncated
        dst_mac = r_mac
        if rnd.random() < 0.05:
            dst_mac = rnd.choice(["ff:ff:ff:ff:ff:ff", "02:00:00:00:99:99"])
        ethertype = 0x0800 if rnd.random() < 0.97 else 0x86DD
        out.append(EthernetFrame(dst_mac, h1_mac, ethertype, data).encode())
    return out


class _Run:
    """The world with warm ARP caches (a ping both ways), its frames recorded and, with
    ``events``, its trace events; ``r`` takes its fast path only if ``fast`` (counted in
    ``taken``)."""

    def __init__(self, fast: bool, events: bool) -> None:
        self.w = w = World.from_dict(WORLD)
        task = w.loop.create_task(ping(w.node("h1"), "10.2.0.10", count=1))
        w.loop.run_until_complete(task, 10)
        self.records: list[FrameRecord] = []
        self.log = EventLog()
        for name in ("h1", "r", "h2"):
            w.node(name).trace.subscribe_frames(self.records.append)
            if events:
                w.node(name).trace.subscribe(self.log)
        r = w.node("r")
        assert isinstance(r, Router)
        self.r = r
        self.taken = 0
        real = r._fast_forward

        def counted(*args: Any) -> bool:
            ok = fast and real(*args)
            self.taken += ok
            return ok

        r._fast_forward = counted  # type: ignore[method-assign,assignment]

    def seen(self) -> list[tuple[Any, ...]]:
        """Every frame and event, in order."""
        seen: list[tuple[Any, ...]] = [
            (x.time, x.node, x.iface, x.direction, x.data, x.packet_id, x.comment)
            for x in self.records
        ]
        log = self.log.events
        return seen + [(e.time, e.node, e.iface, e.layer, e.kind, e.fields, e.why) for e in log]


def _run(fast: bool, events: bool = False) -> tuple[list[tuple[Any, ...]], dict[str, int], int]:
    run = _Run(fast, events)
    w, r = run.w, run.r
    r_in = r.interfaces["eth0"]
    frames = _frames(random.Random(1812), r_in.mac, w.node("h1").interfaces["eth0"].mac)
    for i, frame in enumerate(frames):
        r_in.deliver(frame, 10_000 + i)
        w.run()
    return run.seen(), dict(r.drops), run.taken


@pytest.mark.parametrize("events", [False, True], ids=["frames", "frames+events"])
def test_fast_path_sends_what_the_full_path_sends(events: bool) -> None:
    fast, fast_drops, taken = _run(True, events)
    full, full_drops, _ = _run(False, events)
    assert taken > 50  # many frames took the fast path ...
    assert len(fast) > taken  # ... and the others the full one
    assert fast == full
    assert fast_drops == full_drops
    assert {"ttl-expired", "ip-bad-checksum", "no-route"} <= set(fast_drops)


def test_fast_path_bytes_checked_by_scapy() -> None:
    seen, _, _ = _run(True)
    forwarded = [x for x in seen if x[1] == "r" and x[3] == "out" and x[6] and "forwards" in x[6]]
    assert forwarded
    for _, _, _, _, data, _, _ in forwarded[:100]:
        ip = Ether(data)[IP]
        checksum = ip.chksum
        del ip.chksum
        assert IP(bytes(ip))[IP].chksum == checksum  # scapy recomputes the same checksum
        assert ip.ttl >= 1


def _run_changes(fast: bool, events: bool) -> tuple[list[tuple[Any, ...]], dict[str, int], int]:
    """Frames through ``r`` while what its fast path remembers per destination changes
    between two frames: the ARP entry of the next hop expires (and is resolved again),
    is learnt anew with another MAC, a more specific route (via an unresolved gateway) is
    added and removed, the egress MTU shrinks and grows back. The ARP cache itself (what
    lookups removed) is part of what must match."""
    run = _Run(fast, events)
    w, r = run.w, run.r
    r_in, r_out = r.interfaces["eth0"], r.interfaces["eth1"]
    h1_mac = w.node("h1").interfaces["eth0"].mac
    pid = 20_000
    arp: list[Any] = []

    def one(dst: str = "10.2.0.10", df: bool = True, size: int = 700) -> None:
        nonlocal pid
        packet = IPv4Packet("10.1.0.10", dst, 17, bytes(size), identification=pid & 0xFFFF,
                            dont_fragment=df)  # fmt: skip
        r_in.deliver(EthernetFrame(r_in.mac, h1_mac, 0x0800, packet.encode()).encode(), pid)
        pid += 1
        arp.append((w.loop.now(), dict(r.arp._entries)))  # expired entries too

    def send(df: bool = True) -> None:
        """Four frames 0.1 s apart (three for h2, one for r)."""
        for dst in ("10.2.0.10", "10.2.0.10", "10.2.0.1", "10.2.0.10"):
            one(dst, df)
            w.run(until=w.loop.now() + 0.1)

    send()
    expires = r.arp._entries[("eth1", "10.2.0.10")][1]
    w.run(until=expires - 0.1)
    one()
    w.run(until=expires)
    one()  # the entry expires now, between two frames: removed and asked for again
    w.run(until=w.loop.now() + 0.5)
    send()
    r.arp.learn("eth1", "10.2.0.10", "02:00:00:00:99:99")  # learnt anew, another MAC
    send()
    r.arp.learn("eth1", "10.2.0.10", w.node("h2").interfaces["eth0"].mac)
    send()
    w.run(until=w.loop.now() + 61)  # expired, not looked up: ARP from h2 updates it
    task = w.loop.create_task(ping(w.node("h2"), "10.2.0.1", count=1))
    w.loop.run_until_complete(task, 10)
    send()
    r.routes.add(Route("10.2.0.10", 32, "eth1", "10.2.0.77"))  # no ARP answer: gives up
    send()
    w.run(until=w.loop.now() + 5)
    r.routes.remove("10.2.0.10", 32)
    send()
    r_out.mtu = 600  # too big now: fragmentation needed (DF) or fragments
    send()
    send(df=False)
    r_out.mtu = 1000
    send()
    return run.seen() + arp, dict(r.drops), run.taken


@pytest.mark.parametrize("events", [False, True], ids=["frames", "frames+events"])
def test_fast_path_follows_routes_arp_and_mtu_as_they_change(events: bool) -> None:
    fast, fast_drops, taken = _run_changes(True, events)
    full, full_drops, _ = _run_changes(False, events)
    assert taken > 10
    assert fast == full
    assert fast_drops == full_drops
    assert {"no-arp-answer", "fragmentation-needed"} <= set(fast_drops)
    requests = [x for x in fast if len(x) == 7 and x[1] == "r" and x[3] == "out" and x[6]
                and "who has 10.2.0.10" in x[6]]  # fmt: skip
    assert len(requests) >= 2  # the expired entry was asked for again
