"""The services ``minternet tap up`` runs on our host, for the kernel side to use.

- TCP (RFC 9293, ours) attached to the host, so the kernel's TCP has someone to talk to;
- DNS on port 53 (UDP and TCP): the built-in world's zones, authoritatively, with
  ``www.example.com`` moved to our host's TAP address — and the namespace's resolver pointed
  at us, so a program inside it that looks up ``www.example.com`` asks our DNS server;
- Discard on TCP port 9 (RFC 863): reads and throws away what it is sent — the upload half
  of the throughput benchmark.

Every service is an ``async def`` task on the host's loop; :func:`start_services` returns
what it started, for the command's summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..apps.dns_authoritative import AuthoritativeServer, serve_tcp, serve_udp
from ..dns import zones_builtin
from ..dns.zone import parse_zone
from ..errors import MinternetError
from ..loop import Task
from ..node.api import NetworkStack, StreamSocket
from ..tcp.host import attach_tcp
from .taphost import TapHost

WWW = "www.example.com"
DISCARD_PORT = 9  # RFC 863


@dataclass(slots=True)
class Services:
    """What runs on our host: names for the summary, tasks to cancel at the end."""

    names: list[str] = field(default_factory=list)
    tasks: list[Task[None]] = field(default_factory=list)
    ca_file: Path | None = None

    def stop(self) -> None:
        for t in self.tasks:
            t.cancel()


def tap_dns_server(www_address: str) -> AuthoritativeServer:
    """Every built-in zone, with ``www.example.com`` answering ``www_address``."""
    example = parse_zone(
        zones_builtin.EXAMPLE_COM_ZONE.replace(zones_builtin.WWW_ADDRESS, www_address),
        where="example.com zone (tap)",
    )
    zones = [z for z in zones_builtin.all_zones() if z.origin != example.origin]
    return AuthoritativeServer([*zones, example], "minternet-tap")


async def serve_discard(stack: NetworkStack, port: int = DISCARD_PORT) -> None:
    """RFC 863: "simply throw away any data received", one task per connection."""
    listener = stack.tcp_listen(port)

    async def drain(conn: StreamSocket) -> None:
        try:
            while await conn.recv(1 << 20):
                pass
        except (MinternetError, OSError):
            conn.abort()
            return
        await conn.close()

    try:
        while True:
            conn = await listener.accept()
            stack.loop.create_task(drain(conn), name="discard")
    finally:
        listener.close()


def start_services(th: TapHost, *, dns: bool = True, discard: bool = True) -> Services:
    """Attach TCP to our host; start the DNS server (53, UDP and TCP) and Discard (9)."""
    host = th.host
    loop = host.loop
    out = Services(["icmp-echo"])
    attach_tcp(host)
    out.names.append("tcp")
    if dns:
        server = tap_dns_server(th.address)
        out.tasks.append(loop.create_task(serve_udp(host, server, 53), name="dns-udp"))
        out.tasks.append(loop.create_task(serve_tcp(host, server, 53), name="dns-tcp"))
        th.net.ns.use_resolver(th.address)
        out.names.append("dns:53")
    if discard:
        out.tasks.append(loop.create_task(serve_discard(host), name="discard"))
        out.names.append("discard:9")
    return out
