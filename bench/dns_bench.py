"""DNS: our codec against dnspython in the same run, and recursive lookups in the simulator.

1. Messages encoded and decoded per second, ours (:mod:`minternet.dns.message`) and
   dnspython's (``dns.message.from_wire`` / ``to_wire``), on the same five messages the
   built-in world really sends: an EDNS query, the root's referral, com.'s referral, an
   answer through a CNAME, an NXDOMAIN with its SOA.
2. Recursive lookups of www.example.com per second of wall time in the simulator: cold (the
   resolver's cache flushed before each: six queries, root → com → net → iana-servers.net
   → example.com) and warm (from the cache), on the built-in simulated world: every query
   a real UDP datagram through ARP, IPv4 and the routers.

Run: ``python -m bench.dns_bench`` (medians of several runs; ratio = ours / dnspython).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import dns.message

from minternet.apps.dns_world import install_dns
from minternet.dns import Edns, Message, RType, make_query, zones_builtin
from minternet.dns.authoritative import AuthoritativeServer
from minternet.sim.world import World

RUNS = 5


def _messages() -> list[tuple[str, bytes]]:
    servers = {h: AuthoritativeServer(z) for h, (_a, z) in zones_builtin.servers().items()}

    def ask(host: str, qname: str, qtype: int = RType.A) -> bytes:
        wire = servers[host].respond(make_query(qname, qtype, 1, rd=False, edns=Edns()).encode())
        assert wire is not None
        return wire

    return [
        ("query", make_query("www.example.com", RType.A, 1, edns=Edns()).encode()),
        ("root referral", ask("a.root-servers.net", "www.example.com")),
        ("com referral", ask("a.gtld-servers.net", "www.example.com")),
        ("cname answer", ask("a.iana-servers.net", "web.example.com")),
        ("nxdomain+soa", ask("a.iana-servers.net", "nope.example.com")),
    ]


def _rate(fn: Callable[[], object], n: int) -> float:
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append(n / (time.perf_counter() - t0))
    return statistics.median(samples)


def codec(n: int = 3000) -> list[tuple[str, float, float]]:
    rows = []
    msgs = _messages()
    ours_objs = [Message.decode(w) for _, w in msgs]
    theirs_objs = [dns.message.from_wire(w) for _, w in msgs]
    wires = [w for _, w in msgs]

    def ours_decode() -> None:
        for w in wires:
            Message.decode(w)

    def theirs_decode() -> None:
        for w in wires:
            dns.message.from_wire(w)

    def ours_encode() -> None:
        for m in ours_objs:
            m.encode()

    def theirs_encode() -> None:
        for m in theirs_objs:
            m.to_wire()

    k = len(msgs)
    rows.append(("decode", _rate(ours_decode, n) * k, _rate(theirs_decode, n) * k))
    rows.append(("encode", _rate(ours_encode, n) * k, _rate(theirs_encode, n) * k))
    return rows


def _world() -> tuple[str, Any, Any]:
    """(what, loop, resolver) on the built-in simulated world, trace off."""
    world = World.default(seed=1)
    dep = install_dns(world)
    return "simulated world (Ethernet, ARP, IPv4, UDP hop by hop)", world.loop, dep.resolver


def lookups(n_cold: int = 100, n_warm: int = 3000) -> tuple[str, float, float, int]:
    what, loop, resolver = _world()

    def once() -> Any:
        return loop.run_until_complete(loop.create_task(resolver.resolve("www.example.com")))

    first = once()
    assert first.addresses() == ["93.184.216.34"], first.explanation

    def cold() -> None:
        resolver.cache.flush()
        once()

    cold_rate = _rate(cold, n_cold)
    once()
    warm_rate = _rate(once, n_warm)
    resolver.cache.flush()
    return what, cold_rate, warm_rate, once().queries


def main() -> None:
    print(f"DNS codec, 5 real messages of the built-in world, median of {RUNS} runs")
    print(f"{'':8} {'ours msg/s':>12} {'dnspython msg/s':>16} {'ratio':>6}")
    for op, ours, theirs in codec():
        print(f"{op:8} {ours:12,.0f} {theirs:16,.0f} {ours / theirs:6.2f}")
    what, cold, warm, queries = lookups()
    print(f"\nrecursive lookups of www.example.com on the {what}, wall time:")
    print(f"  cold cache ({queries} queries each): {cold:10,.0f} lookups/s")
    print(f"  warm cache:                 {warm:10,.0f} lookups/s")


if __name__ == "__main__":
    main()
