"""Router forwarding rate in frames per second of wall time.

A router with two interfaces and warm ARP caches is handed Ethernet frames carrying UDP
packets on its ingress interface; each is decoded (Ethernet, IPv4 with checksum check),
looked up (longest-prefix match), sent on with TTL − 1 and a new header checksum in a new
Ethernet frame, and put on the egress link (whose delivery events are then run). The peer in
the same run is dpkt doing the bare minimum of the same job (parse Ethernet+IPv4, decrement
the TTL, serialise with a recomputed checksum), with no routing, ARP or link at all.
"""

from __future__ import annotations

import dpkt

from minternet.apps.ping import ping
from minternet.ip.ipv4 import IPv4Packet
from minternet.link.ethernet import EthernetFrame
from minternet.sim.world import World
from minternet.udp.datagram import UdpDatagram

from ._util import fmt, median_rates

FRAMES = 20000

WORLD = {
    "nodes": {"h1": {}, "r": {"kind": "router"}, "h2": {}},
    "links": [
        {"a": "h1", "a_ip": "10.1.0.10/24", "b": "r", "b_ip": "10.1.0.1/24", "queue": 10**9},
        {"a": "r", "a_ip": "10.2.0.1/24", "b": "h2", "b_ip": "10.2.0.10/24", "queue": 10**9},
    ],
}


def _setup() -> tuple[World, bytes]:
    w = World.from_dict(WORLD)
    task = w.loop.create_task(ping(w.node("h1"), "10.2.0.10", count=1))  # warm ARP both ways
    w.loop.run_until_complete(task, 10)
    h2 = w.node("h2")
    h2.udp_socket(("0.0.0.0", 9))
    r_in = w.node("r").interfaces["eth0"]
    h1_mac = w.node("h1").interfaces["eth0"].mac
    udp = UdpDatagram(5000, 9, bytes(512)).encode("10.1.0.10", "10.2.0.10")
    packet = IPv4Packet("10.1.0.10", "10.2.0.10", 17, udp, identification=1).encode()
    frame = EthernetFrame(r_in.mac, h1_mac, 0x0800, packet).encode()
    return w, frame


def ours() -> int:
    w, frame = _setup()
    r = w.node("r")
    r_in = r.interfaces["eth0"]
    out = r.interfaces["eth1"]
    before = out.frames_out
    for i in range(FRAMES):
        r_in.deliver(frame, i)
    w.run()
    assert out.frames_out - before == FRAMES, out.frames_out - before
    return FRAMES


def peer_dpkt() -> int:
    _, frame = _setup()
    for _ in range(FRAMES):
        eth = dpkt.ethernet.Ethernet(frame)
        ip = eth.data
        ip.ttl -= 1
        ip.sum = 0
        eth.src, eth.dst = eth.dst, eth.src
        bytes(eth)
    return FRAMES


def main() -> dict[str, float]:
    rates = median_rates({"minternet router": ours, "dpkt parse+TTL+serialise": peer_dpkt})
    print(f"forwarding: {FRAMES} UDP frames of 560 bytes through one router, median of 7 runs")
    peer = rates["dpkt parse+TTL+serialise"]
    for name, r in rates.items():
        print(f"  {name:26s} {fmt(r):>12s} frames   x{r / peer:5.2f} dpkt")
    return rates


if __name__ == "__main__":
    main()
