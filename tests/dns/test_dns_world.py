"""DNS on the simulated world (Ethernet, ARP, IPv4, UDP hop by hop): the walk, the stub on
the laptop, and an off-path attacker host spoofing answers through real routers."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import replace
from typing import Any

import pytest

from minternet.apps.dns_world import install_dns
from minternet.dns import Message, Question, Rcode, RType, name, rr, zones_builtin
from minternet.dns.rdata import NS, A
from minternet.trace.bus import EventLog, TraceBus


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


pytestmark = pytest.mark.skipif(
    not _have("minternet.sim.world"), reason="the simulated network is not merged"
)

RESOLVER = zones_builtin.ISP_RESOLVER
IANA = "199.43.135.53"


def _world(seed: int = 1) -> tuple[Any, Any, EventLog]:
    world_module = importlib.import_module("minternet.sim.world")
    trace = TraceBus()
    log = EventLog()
    trace.subscribe(log)
    world = world_module.World.default(seed=seed, trace=trace)
    dep = install_dns(world)
    return world, dep, log


def _run(world: Any, coro: Any, timeout: float = 120) -> Any:
    return world.loop.run_until_complete(world.loop.create_task(coro), timeout=timeout)


def test_laptop_resolves_through_the_isp_resolver_from_the_root() -> None:
    world, dep, log = _world()
    answer = _run(world, dep.stub.lookup("www.example.com"))
    assert answer.addresses == ("93.184.216.34",) and answer.source == "dns"
    zones = [e.fields["zone"] for e in log.of("dns", "query") if e.node == "resolver"]
    assert zones == [".", "com.", ".", "net.", "iana-servers.net.", "example.com."]
    answered = [e.node for e in log.of("dns", "answer")]
    assert answered[0] == "a.root-servers.net" and answered[-1] == "a.iana-servers.net"
    # real packets carried it: the resolver's UDP went through routers, hop by hop
    assert any(e.layer == "ip" for e in log.events)
    again = _run(world, dep.stub.lookup("www.example.com"))
    assert again.source == "browser-cache"


def _spoof(world: Any, attacker: str, src: str, dst: str, dport: int, payload: bytes) -> None:
    udp = importlib.import_module("minternet.udp.datagram")
    datagram = udp.UdpDatagram(53, dport, payload).encode(src, dst)
    world.node(attacker).ip_send(dst, 17, datagram, src=src)


def test_off_path_attacker_host_racing_forged_answers_poisons_nothing() -> None:
    world, dep, _log = _world(seed=11)
    resolver = dep.resolver
    assert _run(world, resolver.resolve("www.example.com")).addresses() == ["93.184.216.34"]
    rng = world.random.child("attacker")
    _spoof(world, "www", IANA, RESOLVER, 9, b"warm up the attacker's ARP cache")
    world.loop.run(until=world.loop.now() + 1)
    for attempt in range(1000):
        qname = f"a{attempt}.example.com"
        forged = Message(
            id=0,
            qr=True,
            aa=True,
            questions=(Question(name(qname), RType.A),),
            answers=(rr(qname, 86400, A("6.6.6.6")),),
            authority=(rr("example.com", 86400, NS(name("ns.evil.example.com"))),),
            additional=(rr("ns.evil.example.com", 86400, A("6.6.6.6")),),
        )
        task = world.loop.create_task(resolver.resolve(qname))
        # The attacker (the web server's host, off the resolver's path) starts the race when
        # it asks for the name; its forgeries claim to come from the real server.
        for _ in range(5):
            wire = replace(forged, id=rng.randint(0, 0xFFFF)).encode()
            _spoof(world, "www", IANA, RESOLVER, rng.randint(1024, 65535), wire)
        res = world.loop.run_until_complete(task, timeout=60)
        assert res.rcode == Rcode.NXDOMAIN
    # the forgeries really arrived: nearly all at closed ports (ICMP port unreachable)
    assert world.trace.counters.get("drop.udp-port-unreachable", 0) > 4900
    dump = resolver.cache.dump(world.loop.now())
    assert not [line for line in dump if "6.6.6.6" in line or "evil" in line]


def _hosts_have_tcp() -> bool:
    world = importlib.import_module("minternet.sim.world").World.default(seed=1)
    return getattr(world.node("resolver"), "tcp", None) is not None


def test_truncated_answers_go_again_over_simulated_tcp() -> None:
    if not _hosts_have_tcp():
        pytest.skip("the simulated hosts have no TCP yet")
    world, dep, log = _world()
    res = _run(world, dep.resolver.resolve("big.example.com", RType.TXT))
    assert res.rcode == Rcode.NOERROR and len(res.answers) == 1
    transports = [e.fields["transport"] for e in log.of("dns", "query") if e.node == "resolver"]
    assert transports[-2:] == ["udp", "tcp"]
    tcp_nodes = {e.node for e in log.events if e.layer == "tcp"}
    assert {"resolver", "a.iana-servers.net"} <= tcp_nodes  # real segments both ways
    answer = _run(world, dep.stub.lookup("big.example.com", RType.TXT))
    assert answer.rcode == Rcode.NOERROR and answer.records
