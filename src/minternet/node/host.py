"""A host: interfaces, ARP, a routing table, IPv4 input/output, ICMP and UDP.

The host implements :class:`minternet.node.api.NetworkStack`. Transports plug in through
:meth:`Host.register_protocol`: a handler is called with every :class:`IPv4Packet` of its
protocol number addressed to this host (reassembled, checksum verified), and if it has an
``icmp_error(report: IcmpErrorReport)`` method, that is called with every ICMP error whose
quoted datagram is of its protocol (destination/port unreachable, fragmentation needed with
the next-hop MTU, time exceeded). TCP attaches itself as :attr:`Host.tcp`.

Nothing here raises for bad input: every dropped frame or packet is counted (in
:attr:`Host.drops` and as ``drop.<reason>`` on the trace bus) and traced with why.
:class:`~minternet.node.router.Router` is a host that forwards (RFC 1812).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Protocol

from ..errors import DecodeError, LocalProtocolError
from ..ip import icmp
from ..ip.address import ANY, BROADCAST, ip_to_bytes
from ..ip.icmp import IcmpErrorReport, IcmpMessage
from ..ip.ipv4 import (
    DEFAULT_TTL,
    HEADER_LEN,
    MAX_PACKET,
    PROTO_ICMP,
    PROTO_UDP,
    PROTOCOL_NAMES,
    IPv4Packet,
    Reassembler,
    fragment,
    originated,
)
from ..ip.routing import Route, RoutingTable
from ..link.arp import OP_REQUEST, ArpPacket
from ..link.ethernet import (
    BROADCAST_MAC,
    ETHERTYPE_ARP,
    ETHERTYPE_IPV4,
    EthernetFrame,
    mac_to_bytes,
)
from ..loop import EventLoop, Future, Timer
from ..randomness import RandomSource
from ..trace.bus import TraceBus
from ..trace.narrate import describe_ip
from .api import Address, Listener, StreamSocket
from .inbox import Inbox
from .interface import Interface
from .neighbors import ArpCache, Pending
from .udp import UdpLayer, UdpSocket


class IpProtocolHandler(Protocol):
    """Receives the packets of one IP protocol number (optionally ``icmp_error`` too)."""

    def __call__(self, packet: IPv4Packet) -> None: ...


class TcpProvider(Protocol):
    """What the TCP module attaches as :attr:`Host.tcp`."""

    def connect(self, addr: Address, timeout: float | None = None) -> Future[StreamSocket]: ...

    def listen(self, port: int, backlog: int = 128, host: str = "0.0.0.0") -> Listener: ...


class IcmpSocket:
    """A raw ICMP endpoint (like ``SOCK_RAW, IPPROTO_ICMP``): ping and traceroute use it.

    It receives every ICMP message delivered to the host: echo replies and errors alike.
    """

    def __init__(self, host: Host, queue: int = 256) -> None:
        self.host = host
        self.inbox: Inbox[tuple[IPv4Packet, IcmpMessage]] = Inbox(host.loop, queue)

    def send(self, dst: str, message: IcmpMessage, *, ttl: int | None = None) -> None:
        self.host.ip_send(dst, PROTO_ICMP, message.encode(), ttl=ttl, df=False)

    def recv(self, timeout: float | None = None) -> Future[tuple[IPv4Packet, IcmpMessage]]:
        return self.inbox.get(timeout)

    def close(self) -> None:
        if self in self.host._icmp_sockets:
            self.host._icmp_sockets.remove(self)
        self.inbox.close()


_DROP_LAYERS = {
    "udp": "udp", "arp": "arp", "ethernet": "link", "unknown": "link", "icmp": "icmp",
    "nat": "nat",
}  # fmt: skip


def _counter() -> Callable[[], int]:
    return itertools.count(1).__next__


class Host:
    """An end system (RFC 1122)."""

    kind = "host"
    forwarding = False

    def __init__(
        self,
        name: str,
        loop: EventLoop,
        random: RandomSource,
        trace: TraceBus,
        *,
        hostname: str | None = None,
        packet_ids: Callable[[], int] | None = None,
        default_ttl: int = DEFAULT_TTL,
        arp_timeout: float = 60.0,
        reassembly_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.hostname = hostname or name
        self.loop = loop
        self.random = random
        self.trace = trace
        self.default_ttl = default_ttl
        self.next_packet_id = packet_ids or _counter()
        self.interfaces: dict[str, Interface] = {}
        self.routes = RoutingTable()
        self.arp = ArpCache(loop, self._send_arp_request, self._arp_gave_up, timeout=arp_timeout)
        self.reassembler = Reassembler(reassembly_timeout)
        self._reassembly_timer: Timer | None = None
        self._handlers: dict[int, IpProtocolHandler] = {}
        self._icmp_sockets: list[IcmpSocket] = []
        self._local: dict[str, Interface] = {}
        self._ip_id = random.child("ip-id").randint(0, 0xFFFF)
        self.drops: dict[str, int] = {}
        self.udp = UdpLayer(self)
        self.register_protocol(PROTO_UDP, self.udp)
        self.tcp: TcpProvider | None = None
        # Per interface: who sees its IPv4 packets before routing (DHCP, like a packet
        # socket: True = consumed) and its ARP packets (RFC 5227 conflict detection).
        self.ip_taps: dict[str, Callable[[Interface, IPv4Packet], bool]] = {}
        # Taps (the same objects as in ip_taps) that take only packets addressed to their
        # interface itself or to a broadcast address (a DHCP server's): a router's fast
        # path may pass them by.
        self.local_ip_taps: dict[str, Callable[[Interface, IPv4Packet], bool]] = {}
        self.arp_watchers: dict[str, Callable[[Interface, ArpPacket], None]] = {}

    # -- configuration ----------------------------------------------------------------
    def add_interface(
        self,
        name: str,
        mac: str,
        address: str | None = None,
        prefix_len: int = 24,
        mtu: int = 1500,
    ) -> Interface:
        if name in self.interfaces:
            raise ValueError(f"{self.name} already has an interface {name}")
        iface = Interface(self, name, mac, address, prefix_len, mtu)
        self.interfaces[name] = iface
        if address is not None:
            self._local[address] = iface
            net, plen = iface.network.split("/")  # type: ignore[union-attr]
            self.routes.add(Route(net, int(plen), name, None, origin="connected"))
        return iface

    def configure_address(self, iface_name: str, address: str, prefix_len: int) -> None:
        """Give ``iface_name`` an address at run time (DHCP), with its connected route."""
        self.deconfigure_address(iface_name)
        iface = self.interfaces[iface_name]
        iface.set_address(address, prefix_len)
        self._local[address] = iface
        net, plen = iface.network.split("/")  # type: ignore[union-attr]
        self.routes.add(Route(net, int(plen), iface_name, None, origin="connected"))

    def deconfigure_address(self, iface_name: str) -> None:
        """Take ``iface_name``'s address off, with every route through the interface."""
        iface = self.interfaces[iface_name]
        if iface.address is None:
            return
        self._local.pop(iface.address, None)
        for r in self.routes:
            if r.iface == iface_name:
                self.routes.remove(r.prefix, r.prefix_len)
        iface.set_address(None, iface.prefix_len)

    def set_default_gateway(self, gateway: str) -> None:
        route = self.routes.lookup(gateway)
        if route is None or route.gateway is not None:
            raise ValueError(f"{self.name}: gateway {gateway} is not on a connected network")
        self.routes.set_default(gateway, route.iface)

    @property
    def addresses(self) -> list[str]:
        return list(self._local)

    @property
    def address(self) -> str:
        """The first address of the host (its "main" address)."""
        if not self._local:
            raise LocalProtocolError(f"{self.name} has no IPv4 address")
        return next(iter(self._local))

    def is_local_address(self, addr: str) -> bool:
        """One of our interface addresses, or loopback (127.0.0.0/8, RFC 1122 §3.2.1.3)."""
        return addr in self._local or addr.startswith("127.")

    def register_protocol(self, protocol: int, handler: IpProtocolHandler) -> None:
        """Hand packets of IP protocol ``protocol`` addressed to us to ``handler``."""
        self._handlers[protocol] = handler

    # -- NetworkStack -----------------------------------------------------------------
    def udp_socket(self, bind: Address = (ANY, 0)) -> UdpSocket:
        return self.udp.bind(bind)

    def icmp_socket(self) -> IcmpSocket:
        sock = IcmpSocket(self)
        self._icmp_sockets.append(sock)
        return sock

    def tcp_connect(self, addr: Address, timeout: float | None = None) -> Future[StreamSocket]:
        if self.tcp is None:
            raise LocalProtocolError(f"no TCP on {self.name}")
        return self.tcp.connect(addr, timeout)

    def tcp_listen(self, port: int, backlog: int = 128, host: str = "0.0.0.0") -> Listener:
        if self.tcp is None:
            raise LocalProtocolError(f"no TCP on {self.name}")
        return self.tcp.listen(port, backlog, host)

    # -- accounting -------------------------------------------------------------------
    def drop(self, reason: str, why: str, iface: str | None = None, **fields: Any) -> None:
        """Count and trace a dropped frame or packet; never raises. The trace event's layer
        is the one the reason names (``udp-…`` → udp, ``arp-…`` → arp, ``ethernet-…`` →
        link, ``icmp-…`` → icmp), else ip."""
        self.drops[reason] = self.drops.get(reason, 0) + 1
        self.trace.count(f"drop.{reason}")
        if self.trace.active:
            layer = _DROP_LAYERS.get(reason.split("-", 1)[0], "ip")
            self.trace.emit(
                self.loop.now(),
                self.name,
                layer,
                "drop",
                {"reason": reason, **fields},
                iface=iface,
                why=why,
            )

    def discard_by_route(self, route: Route, packet: IPv4Packet, via: Interface | None) -> None:
        """A blackhole route drops silently; an unreachable one answers a forwarded packet
        with ICMP host unreachable (as Linux's route types do)."""
        self.drop(
            route.kind,
            f"{packet.src} → {packet.dst} discarded: {route}",
            iface=via.name if via is not None else None,
            dst=packet.dst,
        )
        if route.kind == "unreachable" and via is not None:
            self.send_icmp_error(packet, icmp.DEST_UNREACHABLE, icmp.HOST_UNREACHABLE)

    # -- output -----------------------------------------------------------------------
    def source_address_for(self, dst: str) -> str:
        """The address of the interface the route to ``dst`` leaves by (RFC 1122 §3.3.4.3)."""
        if self.is_local_address(dst):
            return dst
        route = self.routes.lookup(dst)
        if route is None:
            raise LocalProtocolError(f"{self.name}: no route to {dst}")
        if route.kind != "unicast":
            raise LocalProtocolError(f"{self.name}: {route.kind} route to {dst}")
        addr = self.interfaces[route.iface].address
        if addr is None:
            raise LocalProtocolError(f"{self.name}: {route.iface} has no address")
        return addr

    def ip_send(
        self,
        dst: str,
        protocol: int,
        payload: bytes,
        *,
        src: str | None = None,
        ttl: int | None = None,
        df: bool = True,
    ) -> None:
        """Send an IPv4 packet we originate. Problems (no route, no ARP answer, too big with
        DF) are dropped, counted and traced; the sender learns of them as an ICMP error
        report where a real stack would get one."""
        try:
            ip_to_bytes(dst)
        except ValueError:
            raise LocalProtocolError(f"not an IPv4 address: {dst!r}") from None
        if len(payload) > MAX_PACKET - HEADER_LEN:
            raise LocalProtocolError(f"{len(payload)} bytes do not fit an IPv4 packet")
        if ttl is not None and not 0 <= ttl <= 255:
            raise LocalProtocolError(f"TTL must be 0..255, not {ttl}")
        if not 0 <= protocol <= 255:
            raise LocalProtocolError(f"IP protocol must be 0..255, not {protocol}")
        if src is None:
            try:
                src = self.source_address_for(dst)
            except LocalProtocolError as e:
                self.drop("no-route", str(e), dst=dst)
                return
        packet = originated(
            src, dst, protocol, payload, self.default_ttl if ttl is None else ttl,
            self._next_ip_id(), df,
        )  # fmt: skip
        pid = self.next_packet_id()
        if self.trace.active:
            route = self.routes.lookup(dst)  # the choice _output makes (RFC 1122 §3.3.1)
            self.trace.emit(
                self.loop.now(),
                self.name,
                "ip",
                "send",
                {
                    "src": src,
                    "dst": dst,
                    "protocol": PROTOCOL_NAMES.get(protocol, protocol),
                    "ttl": packet.ttl,
                    "id": packet.identification,
                    "bytes": packet.total_length,
                    "route": None if route is None else f"{route.prefix}/{route.prefix_len}",
                    "gateway": None if route is None else route.gateway,
                    "out": None if route is None else route.iface,
                },
            )
        if self.is_local_address(dst):  # loopback: never on a wire
            self.loop.call_soon(self._local_input, packet, None)
            return
        self._output(packet, pid, None)

    def _next_ip_id(self) -> int:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        return self._ip_id

    def _output(
        self,
        packet: IPv4Packet,
        pid: int | None,
        via: Interface | None,
        comment: str | None = None,
        original: IPv4Packet | None = None,
    ) -> None:
        """Route and send ``packet`` (ours, or forwarded: ``original`` is then the packet as
        received, which ICMP errors quote): MTU, fragmentation, ARP."""
        quote = original or packet
        dst = packet.dst
        if dst == BROADCAST:
            iface = via or next((i for i in self.interfaces.values() if i.address), None)
            if iface is None:
                self.drop("no-route", f"no interface for broadcast to {dst}")
                return
            for piece in self._fit(packet, iface, quote):
                self._frame_out(iface, BROADCAST_MAC, piece.encode(), pid, comment)
            return
        route = self.routes.lookup(dst)
        if route is None:
            self.drop("no-route", f"no route to {dst}", dst=dst)
            if via is not None:
                self.send_icmp_error(quote, icmp.DEST_UNREACHABLE, icmp.NET_UNREACHABLE)
            return
        if route.kind != "unicast":
            self.discard_by_route(route, quote, via)
            return
        iface = self.interfaces[route.iface]
        next_hop = route.gateway or dst
        if len(packet.payload) + len(packet.options) + HEADER_LEN <= iface.mtu:
            pieces: list[IPv4Packet] = [packet]  # fits (the common case: no _fit call)
        else:
            pieces = self._fit(packet, iface, quote)
        for piece in pieces:
            data = piece.encode()
            if dst == iface.broadcast:
                self._frame_out(iface, BROADCAST_MAC, data, pid, comment)
                continue
            mac = self.arp.lookup(iface.name, next_hop)
            if mac is not None:
                self._frame_out(iface, mac, data, pid, comment)
            elif not self.arp.enqueue(iface.name, next_hop, (data, pid, comment)):
                self.drop("arp-queue-full", f"too many packets waiting for {next_hop}")

    def _fit(self, packet: IPv4Packet, iface: Interface, quote: IPv4Packet) -> list[IPv4Packet]:
        """The packet, or its fragments, for ``iface``'s MTU (RFC 791 §3.2; RFC 1191)."""
        if packet.total_length <= iface.mtu:
            return [packet]
        if packet.dont_fragment:
            self.drop(
                "fragmentation-needed",
                f"{packet.total_length} bytes > MTU {iface.mtu} of {iface.name} with DF set",
                iface=iface.name,
            )
            self.send_icmp_error(
                quote, icmp.DEST_UNREACHABLE, icmp.FRAGMENTATION_NEEDED, next_hop_mtu=iface.mtu
            )
            return []
        pieces = fragment(packet, iface.mtu)
        self.trace.emit(
            self.loop.now(),
            self.name,
            "ip",
            "fragment",
            {"id": packet.identification, "fragments": len(pieces), "mtu": iface.mtu},
            iface=iface.name,
        )
        return pieces

    def link_send(
        self, iface: Interface, mac: str, packet: IPv4Packet, comment: str | None = None
    ) -> None:
        """Send ``packet`` in one frame to ``mac`` on ``iface``, without routing or ARP: the
        DHCP exchanges before a client has an address (RFC 2131 §4.1)."""
        if self.trace.active:
            self.trace.emit(
                self.loop.now(),
                self.name,
                "ip",
                "send",
                {
                    "src": packet.src,
                    "dst": packet.dst,
                    "protocol": PROTOCOL_NAMES.get(packet.protocol, packet.protocol),
                    "ttl": packet.ttl,
                    "id": packet.identification,
                    "bytes": packet.total_length,
                },
                iface=iface.name,
            )
        self._frame_out(iface, mac, packet.encode(), self.next_packet_id(), comment)

    def new_packet(
        self, src: str, dst: str, protocol: int, payload: bytes, ttl: int | None = None
    ) -> IPv4Packet:
        """An IPv4 packet of ours with the next identification (for :meth:`link_send`)."""
        return IPv4Packet(
            src,
            dst,
            protocol,
            payload,
            ttl=self.default_ttl if ttl is None else ttl,
            identification=self._next_ip_id(),
            dont_fragment=False,
        )

    def arp_send(self, iface: Interface, arp: ArpPacket, comment: str | None = None) -> None:
        """Broadcast an ARP packet we built (RFC 5227 probes and announcements)."""
        frame = EthernetFrame(BROADCAST_MAC, iface.mac, ETHERTYPE_ARP, arp.encode()).encode()
        iface.transmit(frame, self.next_packet_id(), comment)

    def _frame_out(
        self, iface: Interface, mac: str, data: bytes, pid: int | None, comment: str | None
    ) -> None:
        frame = b"".join((mac_to_bytes(mac), iface.mac_bytes, b"\x08\x00", data))
        if len(frame) < 60:
            frame += bytes(60 - len(frame))
        if comment is None and self.trace.frames_active:
            comment = f"{self.name} sends {describe_ip(data)}"
        iface.transmit(frame, pid, comment)

    # -- ARP --------------------------------------------------------------------------
    def _send_arp_request(self, iface_name: str, ip: str) -> None:
        iface = self.interfaces[iface_name]
        if iface.address is None:
            return
        arp = ArpPacket.request(iface.mac, iface.address, ip)
        self.trace.emit(
            self.loop.now(), self.name, "arp", "request", {"who-has": ip}, iface=iface_name
        )
        frame = EthernetFrame(BROADCAST_MAC, iface.mac, ETHERTYPE_ARP, arp.encode()).encode()
        comment = None
        if self.trace.frames_active:
            comment = f"{self.name} asks: who has {ip}? tell {iface.address}"
        iface.transmit(frame, self.next_packet_id(), comment)

    def _arp_gave_up(self, iface_name: str, ip: str, packets: list[Pending]) -> None:
        for data, _, _ in packets:
            self.drop("no-arp-answer", f"no ARP answer from {ip}", iface=iface_name, next_hop=ip)
            try:
                original = IPv4Packet.decode(data)
            except DecodeError:
                continue
            # RFC 1812 §4.3.3.1 / RFC 1122 §3.2.2.1: host unreachable to the source; for a
            # packet of our own this comes back to the sending transport.
            self.send_icmp_error(original, icmp.DEST_UNREACHABLE, icmp.HOST_UNREACHABLE)

    def _arp_input(self, iface: Interface, payload: bytes) -> None:
        try:
            arp = ArpPacket.decode(payload)
        except DecodeError as e:
            self.drop("arp-malformed", str(e), iface=iface.name)
            return
        if self.arp_watchers:
            watcher = self.arp_watchers.get(iface.name)
            if watcher is not None:
                watcher(iface, arp)
        # RFC 826 "Packet Reception": update an existing entry; add one if it is for us.
        for_us = iface.address is not None and arp.target_ip == iface.address
        waiting: list[Pending] = []
        if for_us or self.arp.has(iface.name, arp.sender_ip):
            waiting = self.arp.learn(iface.name, arp.sender_ip, arp.sender_mac)
        self.trace.emit(
            self.loop.now(),
            self.name,
            "arp",
            "recv",
            {
                "op": "request" if arp.op == OP_REQUEST else "reply",
                "sender": arp.sender_ip,
                "mac": arp.sender_mac,
                "target": arp.target_ip,
            },
            iface=iface.name,
        )
        if for_us and arp.op == OP_REQUEST:
            reply = arp.reply_to(iface.mac)
            frame = EthernetFrame(arp.sender_mac, iface.mac, ETHERTYPE_ARP, reply.encode())
            comment = None
            if self.trace.frames_active:
                comment = f"{self.name} answers: {iface.address} is at {iface.mac}"
            iface.transmit(frame.encode(), self.next_packet_id(), comment)
        for data, pid, comment in waiting:
            self._frame_out(iface, arp.sender_mac, data, pid, comment)

    # -- input ------------------------------------------------------------------------
    def frame_received(self, iface: Interface, data: bytes, packet_id: int | None) -> None:
        if len(data) < 14:
            self.drop(
                "ethernet-truncated",
                f"truncated Ethernet header ({len(data)} bytes)",
                iface=iface.name,
            )
            return
        dst = data[0:6]
        if dst != iface.mac_bytes and not dst[0] & 1:
            # Flooded by a switch to every port: a NIC filters frames not for it.
            self.drops["not-our-mac"] = self.drops.get("not-our-mac", 0) + 1
            return
        ethertype = int.from_bytes(data[12:14], "big")
        if ethertype == ETHERTYPE_IPV4:
            self._ip_input(iface, data[14:], packet_id)
        elif ethertype == ETHERTYPE_ARP:
            self._arp_input(iface, data[14:])
        else:
            self.drop("unknown-ethertype", f"ethertype 0x{ethertype:04x}", iface=iface.name)

    def _ip_input(self, iface: Interface, data: bytes, pid: int | None) -> None:
        try:
            packet = IPv4Packet.decode(data)
        except DecodeError as e:
            reason = {"checksum": "ip-bad-checksum", "header": "ip-truncated-header"}.get(
                e.field, "ip-truncated" if "truncated" in e.reason else "ip-malformed"
            )
            self.drop(reason, str(e), iface=iface.name)
            return
        if self.ip_taps:
            tap = self.ip_taps.get(iface.name)
            if tap is not None and tap(iface, packet):
                return
        dst = packet.dst
        if dst in self._local or dst == BROADCAST or dst == iface.broadcast:
            self.for_us(packet, iface, pid)
        elif self.forwarding:
            self.forward(packet, iface, pid)
        else:
            self.drop("not-for-us", f"{dst} is not an address of {self.name}", iface=iface.name)

    def for_us(self, packet: IPv4Packet, iface: Interface, pid: int | None) -> None:
        """A packet addressed to us arrived on ``iface``; a NAT router overrides this (the
        public address is the NAT's as much as the router's)."""
        self._local_input(packet, iface)

    def forward(self, packet: IPv4Packet, iface: Interface, pid: int | None) -> None:
        """Routers override this (RFC 1812 §5.2); a host does not forward."""
        self.drop("not-for-us", f"{packet.dst} is not an address of {self.name}")

    def _local_input(self, packet: IPv4Packet, iface: Interface | None) -> None:
        if packet.is_fragment:
            try:
                whole = self.reassembler.add(packet, self.loop.now())
            except DecodeError as e:
                self.drop("ip-bad-fragment", str(e))
                return
            self._arm_reassembly_timer()
            if whole is None:
                return
            self.trace.emit(
                self.loop.now(),
                self.name,
                "ip",
                "reassembled",
                {"id": whole.identification, "bytes": whole.total_length},
            )
            packet = whole
        if self.trace.active:
            self.trace.emit(
                self.loop.now(),
                self.name,
                "ip",
                "recv",
                {
                    "src": packet.src,
                    "dst": packet.dst,
                    "ttl": packet.ttl,
                    "protocol": PROTOCOL_NAMES.get(packet.protocol, packet.protocol),
                },
                iface=iface.name if iface else None,
            )
        if packet.protocol == PROTO_ICMP:
            self._icmp_input(packet)
            return
        handler = self._handlers.get(packet.protocol)
        if handler is None:
            self.drop("protocol-unreachable", f"no handler for IP protocol {packet.protocol}")
            self.send_icmp_error(packet, icmp.DEST_UNREACHABLE, icmp.PROTOCOL_UNREACHABLE)
            return
        handler(packet)

    def _arm_reassembly_timer(self) -> None:
        if self._reassembly_timer is not None:
            self._reassembly_timer.cancel()
            self._reassembly_timer = None
        deadline = self.reassembler.next_deadline()
        if deadline is not None:
            self._reassembly_timer = self.loop.call_at(deadline, self._reassembly_expired)

    def _reassembly_expired(self) -> None:
        self._reassembly_timer = None
        for key, first in self.reassembler.expire(self.loop.now()):
            self.drop("reassembly-timeout", f"fragments of {key[0]} id {key[3]} timed out")
            if first is not None:  # RFC 792: only if fragment zero arrived
                self.send_icmp_error(first, icmp.TIME_EXCEEDED, icmp.REASSEMBLY_TIME_EXCEEDED)
        self._arm_reassembly_timer()

    # -- ICMP -------------------------------------------------------------------------
    def _icmp_input(self, packet: IPv4Packet) -> None:
        try:
            msg = IcmpMessage.decode(packet.payload)
        except DecodeError as e:
            reason = "icmp-bad-checksum" if e.field == "checksum" else "icmp-malformed"
            self.drop(reason, str(e), src=packet.src)
            return
        self.trace.emit(
            self.loop.now(), self.name, "icmp", "recv", {"from": packet.src, "message": str(msg)}
        )
        if msg.type == icmp.ECHO_REQUEST:
            if self.is_local_address(packet.dst):  # not to broadcasts (RFC 1122 §3.2.2.6)
                reply = IcmpMessage.echo_reply(msg.identifier, msg.sequence, msg.payload)
                self.ip_send(packet.src, PROTO_ICMP, reply.encode(), src=packet.dst, df=False)
            return
        for sock in list(self._icmp_sockets):
            sock.inbox.put((packet, msg))
        if msg.is_error:
            quoted = msg.quoted()
            if quoted is None:
                self.drop("icmp-malformed", "ICMP error without a quoted IPv4 header")
                return
            report = IcmpErrorReport(
                packet.src,
                msg.type,
                msg.code,
                msg.next_hop_mtu if msg.code == icmp.FRAGMENTATION_NEEDED else 0,
                quoted,
                msg,
            )
            handler = self._handlers.get(quoted.protocol)
            hook = getattr(handler, "icmp_error", None)
            if hook is not None:
                hook(report)

    def send_icmp_error(
        self, original: IPv4Packet, type_: int, code: int, next_hop_mtu: int = 0
    ) -> None:
        """Answer ``original`` with an ICMP error, unless RFC 1122 §3.2.2 forbids it: never
        about an ICMP error, a broadcast, a non-initial fragment or a nonsense source."""
        if original.fragment_offset != 0:
            return
        if original.dst == BROADCAST or original.src in (ANY, BROADCAST):
            return
        if (
            original.protocol == PROTO_ICMP
            and original.payload[:1]
            and (original.payload[0] in icmp.ERROR_TYPES)
        ):
            return
        if type_ == icmp.DEST_UNREACHABLE:
            msg = IcmpMessage.dest_unreachable(code, original.encode(), next_hop_mtu)
        else:
            msg = IcmpMessage.time_exceeded(code, original.encode())
        try:
            src = self.source_address_for(original.src)
        except LocalProtocolError:
            return
        self.trace.count("icmp.errors-sent")
        self.trace.emit(
            self.loop.now(), self.name, "icmp", "send", {"to": original.src, "message": str(msg)}
        )
        self.ip_send(original.src, PROTO_ICMP, msg.encode(), src=src, df=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name} {', '.join(self.addresses)})"
