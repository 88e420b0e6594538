"""The DNS part of the built-in world on :mod:`dns_fakenet`, set up by ``install_dns``."""

from __future__ import annotations

from dataclasses import dataclass

from dns_fakenet import FakeNet, FakeStack

from minternet.apps.dns_authoritative import AuthoritativeServer
from minternet.apps.dns_recursive import RecursiveResolver, Resolution, ResolverConfig
from minternet.apps.dns_world import DnsDeployment, install_dns
from minternet.dns import zones_builtin
from minternet.trace.bus import EventLog

RESOLVER_IP = zones_builtin.ISP_RESOLVER
LAPTOP_IP = "192.168.1.10"


@dataclass
class DnsWorld:
    net: FakeNet
    dep: DnsDeployment
    resolver: RecursiveResolver
    resolver_stack: FakeStack
    laptop: FakeStack
    servers: dict[str, AuthoritativeServer]
    log: EventLog

    def resolve(self, qname: str, qtype: int = 1, timeout: float = 60.0) -> Resolution:
        task = self.net.loop.create_task(self.resolver.resolve(qname, qtype))
        return self.net.loop.run_until_complete(task, timeout=timeout)


def make_world(
    seed: int = 1,
    latency: float = 0.005,
    loss: float = 0.0,
    config: ResolverConfig | None = None,
    trace: bool = True,
) -> DnsWorld:
    net = FakeNet(seed, latency, loss)
    log = EventLog()
    if trace:
        net.trace.subscribe(log)
    for host, (ip, _zones) in zones_builtin.servers().items():
        net.host(host, ip)
    rstack = net.host("resolver", RESOLVER_IP)
    laptop = net.host("laptop", LAPTOP_IP)
    dep = install_dns(net, resolver_config=config)
    net.loop.run(until=0.0)
    return DnsWorld(net, dep, dep.resolver, rstack, laptop, dep.authorities, log)
