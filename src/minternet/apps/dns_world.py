"""Put the DNS of the built-in world on its hosts: the three authorities, the ISP resolver,
and the laptop's stub resolver.

:func:`install_dns` takes anything with a loop and named nodes that are
:class:`~minternet.node.api.NetworkStack` s — the simulator's ``World`` — and starts the
servers as tasks on the world's loop (UDP always; TCP where the node has TCP — a node
without it serves UDP only and says so in the trace). ``minternet dig`` uses it, and
``minternet fetch`` can: ``install_dns(world).stub.lookup("www.example.com")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..dns import zones_builtin
from ..dns.hosts import DEFAULT_HOSTS, HostsFile
from ..dns.stub import ResolvConf
from ..errors import ConfigError
from ..loop import EventLoop, Task
from ..node.api import NetworkStack
from .dns_authoritative import AuthoritativeServer, serve_tcp, serve_udp
from .dns_recursive import RecursiveResolver, ResolverConfig
from .dns_stub import StubResolver

RESOLVER_NODE = "resolver"
LAPTOP_NODE = "laptop"


class WorldLike(Protocol):
    @property
    def loop(self) -> EventLoop: ...

    def node(self, name: str) -> NetworkStack: ...


@dataclass
class DnsDeployment:
    """What :func:`install_dns` started, for the commands to use and show."""

    authorities: dict[str, AuthoritativeServer]
    resolver: RecursiveResolver
    stub: StubResolver | None
    tasks: list[Task[None]] = field(default_factory=list)

    def stop(self) -> None:
        for t in self.tasks:
            t.cancel()


def install_dns(
    world: WorldLike,
    *,
    resolver_config: ResolverConfig | None = None,
    hosts_text: str = DEFAULT_HOSTS,
    laptop: str | None = LAPTOP_NODE,
) -> DnsDeployment:
    """Start the built-in world's name servers and resolvers on its nodes."""
    # Find every node first: a world without one of them starts nothing.
    servers = [
        (host, _node(world, host), zones) for host, (_a, zones) in zones_builtin.servers().items()
    ]
    rstack = _node(world, RESOLVER_NODE)
    lstack = _node(world, laptop) if laptop is not None else None
    authorities: dict[str, AuthoritativeServer] = {}
    tasks: list[Task[None]] = []
    for host, stack, zones in servers:
        srv = AuthoritativeServer(zones, host)
        authorities[host] = srv
        tasks.append(world.loop.create_task(serve_udp(stack, srv), name=f"dns-udp@{host}"))
        tasks.append(world.loop.create_task(serve_tcp(stack, srv), name=f"dns-tcp@{host}"))
    resolver = RecursiveResolver(rstack, resolver_config)
    tasks.append(world.loop.create_task(resolver.serve_udp(), name="dns-udp@resolver"))
    tasks.append(world.loop.create_task(resolver.serve_tcp(), name="dns-tcp@resolver"))
    stub = None
    if lstack is not None:
        stub = StubResolver(
            lstack,
            ResolvConf(_leased_dns(world, lstack) or (zones_builtin.ISP_RESOLVER,)),
            HostsFile.parse(hosts_text, "hosts"),
        )
    return DnsDeployment(authorities, resolver, stub, tasks)


def _leased_dns(world: WorldLike, stack: NetworkStack) -> tuple[str, ...]:
    """The DNS servers the laptop's DHCP lease gave (option 6), as dhclient writes them
    into resolv.conf; () if it has no DHCP lease."""
    for client in getattr(world, "dhcp_clients", ()):
        if client.node is stack and client.dns_servers:
            return tuple(client.dns_servers)
    return ()


def _node(world: WorldLike, name: str) -> NetworkStack:
    try:
        return world.node(name)
    except (KeyError, ConfigError) as e:
        raise ConfigError(f"the world has no node {name!r} for DNS") from e
