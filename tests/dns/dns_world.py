"""The DNS part of the built-in world on :mod:`dns_fakenet`: servers, resolver, laptop."""

from __future__ import annotations

from dataclasses import dataclass

from dns_fakenet import FakeNet, FakeStack

from minternet.apps.dns_authoritative import AuthoritativeServer, serve_tcp, serve_udp
from minternet.apps.dns_recursive import RecursiveResolver, ResolverConfig
from minternet.dns import zones_builtin
from minternet.trace.bus import EventLog

RESOLVER_IP = zones_builtin.ISP_RESOLVER
LAPTOP_IP = "192.168.1.10"


@dataclass
class DnsWorld:
    net: FakeNet
    resolver: RecursiveResolver
    resolver_stack: FakeStack
    laptop: FakeStack
    servers: dict[str, AuthoritativeServer]
    log: EventLog

    def resolve(self, qname: str, qtype: int = 1, timeout: float = 60.0):  # type: ignore[no-untyped-def]
        task = self.net.loop.create_task(self.resolver.resolve(qname, qtype))
        return self.net.loop.run_until_complete(task, timeout=timeout)


def make_world(
    seed: int = 1,
    latency: float = 0.005,
    loss: float = 0.0,
    config: ResolverConfig | None = None,
    serve_resolver: bool = False,
) -> DnsWorld:
    net = FakeNet(seed, latency, loss)
    log = EventLog()
    net.trace.subscribe(log)
    servers = {}
    for host, (ip, zones) in zones_builtin.servers().items():
        stack = net.host(host, ip)
        srv = AuthoritativeServer(zones, host)
        servers[host] = srv
        net.loop.create_task(serve_udp(stack, srv))
        net.loop.create_task(serve_tcp(stack, srv))
    rstack = net.host("resolver", RESOLVER_IP)
    resolver = RecursiveResolver(rstack, config)
    if serve_resolver:
        net.loop.create_task(resolver.serve_udp())
        net.loop.create_task(resolver.serve_tcp())
    laptop = net.host("laptop", LAPTOP_IP)
    net.loop.run(until=0.0)
    return DnsWorld(net, resolver, rstack, laptop, servers, log)
