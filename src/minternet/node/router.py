"""A router (RFC 1812): a host that forwards.

Forwarding (RFC 1812 §5.2, §5.3.1): check the TTL — at 1 or less the packet is dropped and
answered with ICMP time exceeded —, look the destination up (longest-prefix match; no route:
ICMP net unreachable), send it on with TTL − 1 and a recomputed header checksum in a new
Ethernet frame (our MAC as source, the next hop's as destination), fragmenting it or
answering "fragmentation needed" with the next-hop MTU if it does not fit. The frame keeps
the ingress packet id, so pcapng shows one packet id on both sides of the router.
"""

from __future__ import annotations

from ..ip import icmp
from ..ip.ipv4 import IPv4Packet
from .host import Host
from .interface import Interface


class Router(Host):
    kind = "router"
    forwarding = True

    def forward(self, packet: IPv4Packet, iface: Interface, pid: int | None) -> None:
        if packet.ttl <= 1:
            self.drop(
                "ttl-expired",
                f"TTL {packet.ttl} from {packet.src} to {packet.dst} expired",
                iface=iface.name,
            )
            self.send_icmp_error(packet, icmp.TIME_EXCEEDED, icmp.TTL_EXCEEDED)
            return
        route = self.routes.lookup(packet.dst)
        if route is None:
            self.drop("no-route", f"no route to {packet.dst}", iface=iface.name, dst=packet.dst)
            self.send_icmp_error(packet, icmp.DEST_UNREACHABLE, icmp.NET_UNREACHABLE)
            return
        if route.kind != "unicast":
            self.discard_by_route(route, packet, iface)
            return
        out = packet.with_ttl(packet.ttl - 1)
        comment = None
        trace = self.trace
        if trace.active:  # the fields cost more than the rest of forwarding
            trace.emit(
                self.loop.now(),
                self.name,
                "ip",
                "forward",
                {
                    "src": packet.src,
                    "dst": packet.dst,
                    "ttl": [packet.ttl, out.ttl],
                    "in": iface.name,
                    "out": route.iface,
                    "next_hop": route.gateway or packet.dst,
                },
                iface=route.iface,
            )
        if trace.frames_active:
            comment = (
                f"{self.name} forwards {packet.src} → {packet.dst}: TTL {packet.ttl}→"
                f"{out.ttl}, in {iface.name}, out {route.iface} to "
                f"{route.gateway or packet.dst}"
            )
        self._output(out, pid, iface, comment, original=packet)
