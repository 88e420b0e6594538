"""The built-in world's DNS on the real simulated network (Ethernet, ARP, IPv4, UDP, TCP hop
by hop), as ``install_dns`` sets it up, with what the tests need around it: a trace log, the
frames every interface saw, a way to stop a node's name server, and an attacker that sends
UDP with any source address from a real host."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import dpkt

from minternet.apps.dns_recursive import RecursiveResolver
from minternet.apps.dns_world import DnsDeployment, install_dns
from minternet.dns import zones_builtin
from minternet.dns.authoritative import AuthoritativeServer
from minternet.dns.resolution import Resolved, ResolverConfig
from minternet.node.host import Host
from minternet.sim.world import World
from minternet.trace.bus import EventLog, FrameRecord, TraceBus
from minternet.udp.datagram import UdpDatagram

RESOLVER_IP = zones_builtin.ISP_RESOLVER
IANA = "199.43.135.53"
T = TypeVar("T")
Sniffer = Callable[[tuple[str, int], tuple[str, int], bytes], object]


@dataclass
class DnsWorld:
    world: World
    dep: DnsDeployment
    log: EventLog
    sniffers: list[Sniffer] = field(default_factory=list)

    @property
    def resolver(self) -> RecursiveResolver:
        return self.dep.resolver

    @property
    def servers(self) -> dict[str, AuthoritativeServer]:
        return self.dep.authorities

    @property
    def laptop(self) -> Host:
        return self.world.node("laptop")

    def now(self) -> float:
        return self.world.loop.now()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        loop = self.world.loop
        return loop.run_until_complete(loop.create_task(coro), timeout=timeout)

    def resolve(self, qname: str, qtype: int = 1, timeout: float = 120.0) -> Resolved:
        return self.run(self.resolver.resolve(qname, qtype), timeout)

    def wait(self, seconds: float) -> None:
        self.world.loop.run(until=self.now() + seconds)

    def stop(self, node: str) -> None:
        """Stop the DNS server on ``node`` (UDP and TCP): it stays up and answers nothing."""
        for t in self.dep.tasks:
            if t.name in (f"dns-udp@{node}", f"dns-tcp@{node}"):
                t.cancel()
        self.wait(0.0)

    def stop_tcp(self, node: str) -> None:
        for t in self.dep.tasks:
            if t.name == f"dns-tcp@{node}":
                t.cancel()
        self.wait(0.0)

    def spoof(self, src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> None:
        """A UDP datagram with a forged source, sent by the web server's host (off-path)."""
        datagram = UdpDatagram(src[1], dst[1], payload).encode(src[0], dst[0])
        self.world.node("www").ip_send(dst[0], 17, datagram, src=src[0])

    def _frame(self, rec: FrameRecord) -> None:
        """Give every UDP datagram the resolver sends to the sniffers (an on-path view)."""
        if rec.node != "resolver" or rec.direction != "out" or not self.sniffers:
            return
        ip = dpkt.ethernet.Ethernet(rec.data).data
        if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, dpkt.udp.UDP):
            return
        src = (dpkt.utils.inet_to_str(ip.src), ip.data.sport)
        dst = (dpkt.utils.inet_to_str(ip.dst), ip.data.dport)
        for sniff in list(self.sniffers):
            sniff(src, dst, bytes(ip.data.data))


def make_world(
    seed: int = 1, config: ResolverConfig | None = None, *, frames: bool = False
) -> DnsWorld:
    trace = TraceBus()
    log = EventLog()
    trace.subscribe(log)
    world = World.default(seed=seed, trace=trace)
    dep = install_dns(world, resolver_config=config)
    w = DnsWorld(world, dep, log)
    if frames:
        trace.subscribe_frames(w._frame)
    world.loop.run(until=0.0)
    return w
