"""DHCP on nodes: a server on a router (or host) interface and a client that configures a
host's interface from its lease. The protocol is decided in :mod:`minternet.dhcp`; this
module moves its messages and ARP packets and applies what it decides.

Both ends see their interface's packets before routing, as ISC dhcpd and dhclient do with
a packet socket: a client has no address to receive on yet, and a server must know which
interface a broadcast came in by. A server's reply goes where RFC 2131 §4.1 says
(:class:`minternet.dhcp.server.Reply`): broadcast, or straight to the client's hardware
address without ARP, or routed as usual. Every message sent and received is a ``dhcp``
trace event (``send``/``recv``, with every field), and so are the client's state changes,
its ARP probes and announcements (``probe``, ``announce``, ``conflict``, and ``defend``
when it answers a claim on its address, RFC 5227 §2.4), what it put on the interface
(``configure``/``deconfigure``), a ``reboot`` and what the server did (``lease``).

Entry points: :func:`serve_dhcp` (a router interface and its pool) and
:func:`start_dhcp_client` (a host interface).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from ..dhcp.client import (
    Action,
    ArpAnnounce,
    ArpProbe,
    ClientConfig,
    Configure,
    Conflict,
    Deconfigure,
    Defend,
    DhcpClient,
    Ignored,
    Lease,
    State,
    StateChange,
    Transmit,
)
from ..dhcp.message import CLIENT_PORT, SERVER_PORT, DhcpMessage
from ..dhcp.server import DhcpServer, Reply, ServerConfig
from ..errors import DecodeError
from ..ip.address import ANY, BROADCAST, ip_from_int, ip_to_int
from ..ip.ipv4 import PROTO_UDP, IPv4Packet
from ..link.arp import OP_REQUEST, ArpPacket
from ..link.ethernet import BROADCAST_MAC
from ..loop import Future, Timer
from ..udp.datagram import UdpDatagram
from .host import Host
from .interface import Interface


def message_fields(msg: DhcpMessage) -> dict[str, Any]:
    """The fields of a message for a trace event (what ``fetch -v`` and the JSON show)."""
    fields: dict[str, Any] = {
        "type": msg.type_name,
        "op": msg.op,
        "xid": msg.xid,
        "secs": msg.secs,
        "flags": msg.flags,
        "ciaddr": msg.ciaddr,
        "yiaddr": msg.yiaddr,
        "siaddr": msg.siaddr,
        "giaddr": msg.giaddr,
        "chaddr": msg.chaddr,
        "options": [code for code, _ in msg.options],
        "describe": msg.describe(),
    }
    for name in (
        "requested_ip",
        "server_id",
        "subnet_mask",
        "lease_time",
        "renewal_time",
        "rebinding_time",
        "domain_name",
        "host_name",
    ):
        value = getattr(msg, name)
        if value is not None:
            fields[name] = value
    if msg.routers:
        fields["routers"] = list(msg.routers)
    if msg.dns_servers:
        fields["dns_servers"] = list(msg.dns_servers)
    return fields


def _udp_payload(packet: IPv4Packet, port: int) -> tuple[int, bytes] | None:
    """(source port, payload) of a UDP datagram to ``port`` with a valid checksum."""
    if packet.protocol != PROTO_UDP or packet.is_fragment or len(packet.payload) < 8:
        return None
    if int.from_bytes(packet.payload[2:4], "big") != port:
        return None
    try:
        d = UdpDatagram.decode(packet.payload, packet.src, packet.dst)
    except DecodeError:
        return None
    return d.src_port, d.payload


class DhcpServerService:
    """A :class:`~minternet.dhcp.server.DhcpServer` on one interface of a node."""

    def __init__(self, node: Host, iface: str, config: ServerConfig) -> None:
        self.node = node
        self.iface = node.interfaces[iface]
        self.server = DhcpServer(config)
        tap = self._tap
        node.ip_taps[iface] = tap
        node.local_ip_taps[iface] = tap  # it takes nothing in transit

    def stop(self) -> None:
        self.node.ip_taps.pop(self.iface.name, None)
        self.node.local_ip_taps.pop(self.iface.name, None)

    def _tap(self, iface: Interface, packet: IPv4Packet) -> bool:
        if packet.dst not in (BROADCAST, iface.address, iface.broadcast):
            return False
        got = _udp_payload(packet, SERVER_PORT)
        if got is None:
            return False
        node, now = self.node, self.node.loop.now()
        result = self.server.handle(got[1], now)
        trace = node.trace
        if trace.active:
            try:
                fields = message_fields(DhcpMessage.decode(got[1]))
            except DecodeError as e:
                fields = {"malformed": str(e)}
            fields.update(src=packet.src, dst=packet.dst, role="server")
            trace.emit(now, node.name, "dhcp", "recv", fields, iface=iface.name)
            lease: dict[str, Any] = {
                "event": result.event,
                "address": result.address,
                "note": result.note,
            }
            trace.emit(
                now, node.name, "dhcp", "lease", lease, iface=iface.name, why=result.note or None
            )
        for reply in result.replies:
            self._send(reply)
        return True

    def _send(self, reply: Reply) -> None:
        node, iface = self.node, self.iface
        src = iface.address
        if src is None:
            return
        data = reply.message.encode()
        udp = UdpDatagram(SERVER_PORT, reply.port, data).encode(src, reply.dst)
        if node.trace.active:
            fields = message_fields(reply.message)
            fields.update(src=src, dst=reply.dst, role="server", link_mac=reply.link_mac)
            node.trace.emit(node.loop.now(), node.name, "dhcp", "send", fields, iface=iface.name)
        comment = None
        if node.trace.frames_active:
            comment = f"{node.name} sends {reply.message.type_name} to {reply.dst}"
        if reply.link_mac is None:  # routed: a relay, or a client with an address
            node.ip_send(reply.dst, PROTO_UDP, udp, src=src, df=False)
            return
        node.link_send(
            iface, reply.link_mac, node.new_packet(src, reply.dst, PROTO_UDP, udp), comment
        )


def serve_dhcp(
    node: Host,
    iface: str,
    *,
    pool: tuple[str, str] | None = None,
    dns_servers: tuple[str, ...] = (),
    domain_name: str | None = None,
    lease_time: int = 86400,
    routers: tuple[str, ...] | None = None,
    authoritative: bool = True,
) -> DhcpServerService:
    """Serve DHCP on ``node``'s interface ``iface``: its address is the server identifier
    and (unless ``routers`` says otherwise) the router; ``pool`` defaults to .10–.100 of a
    /24 (the host numbers 10–100 of the network, within it). ``authoritative``: the one
    server of its network, as a home router's is (:attr:`ServerConfig.authoritative`)."""
    i = node.interfaces[iface]
    if i.address is None:
        raise ValueError(f"{node.name}/{iface}: a DHCP server needs an address")
    if pool is None:
        base = ip_to_int(i.address) & ~((1 << (32 - i.prefix_len)) - 1) & 0xFFFFFFFF
        size = 1 << (32 - i.prefix_len)
        pool = (ip_from_int(base + min(10, size - 2)), ip_from_int(base + min(100, size - 2)))
    config = ServerConfig(
        i.address,
        pool[0],
        pool[1],
        i.prefix_len,
        routers=(i.address,) if routers is None else routers,
        dns_servers=dns_servers,
        domain_name=domain_name,
        lease_time=lease_time,
        authoritative=authoritative,
    )
    return DhcpServerService(node, iface, config)


class DhcpClientService:
    """A :class:`~minternet.dhcp.client.DhcpClient` configuring one interface of a host.

    On a lease it sets the interface's address and prefix, the default route via the
    lease's first router, and :attr:`dns_servers`/:attr:`domain_name`; it calls every
    function in :attr:`on_configure` (the stub resolver takes its servers from there). On
    expiry, a DHCPNAK or :meth:`release` it takes them off again.

    It keeps the interface's last lease (:attr:`last_lease`, until the lease is lost,
    declined or released): :meth:`reboot` (the host went down and up again, or its link
    came back) starts a new client in INIT-REBOOT with it (RFC 2131 §3.2)."""

    def __init__(self, node: Host, iface: str, config: ClientConfig) -> None:
        self.node = node
        self.iface = node.interfaces[iface]
        self.config = config
        self.client = DhcpClient(config, node.random.child(f"dhcp:{iface}"))
        self.last_lease: Lease | None = None
        self.boots = 1
        self.dns_servers: tuple[str, ...] = ()
        self.domain_name: str | None = None
        self.on_configure: list[Callable[[Lease], None]] = []
        self.on_deconfigure: list[Callable[[Lease, str], None]] = []
        self._timer: Timer | None = None
        self._bound: list[Future[Lease]] = []
        self._releasing: tuple[Lease, str] | None = None
        node.ip_taps[iface] = self._tap
        node.arp_watchers[iface] = self._arp

    @property
    def lease(self) -> Lease | None:
        return self.client.lease if self.client.state is State.BOUND else None

    def start(self) -> None:
        self._apply(self.client.start(self.node.loop.now()))

    def release(self) -> None:
        self._apply(self.client.release(self.node.loop.now()))

    def reboot(self) -> None:
        """The host went down and up again, or the interface's link came back: the
        interface loses its address (as a rebooted host's does) and a new client, with
        new randomness, starts in INIT-REBOOT with :attr:`last_lease` if it has not
        expired (RFC 2131 §3.2, §4.4.2), else in INIT."""
        node, now = self.node, self.node.loop.now()
        if self.client.state in (State.BOUND, State.RENEWING, State.REBINDING):
            lease = self.client.lease
            assert lease is not None
            self._deconfigure(lease, "the host went down")
        self.boots += 1
        random = node.random.child(f"dhcp:{self.iface.name}:boot{self.boots}")
        self.client = DhcpClient(self.config, random, previous_lease=self.last_lease)
        previous = self.last_lease.address if self.last_lease else None
        node.trace.emit(
            now,
            node.name,
            "dhcp",
            "reboot",
            {"previous": previous, "state": self.client.state.value},
            iface=self.iface.name,
        )
        self.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.node.ip_taps.pop(self.iface.name, None)
        self.node.arp_watchers.pop(self.iface.name, None)

    def wait_bound(self, timeout: float | None = None) -> Future[Lease]:
        """A future that completes when the interface is configured."""
        fut: Future[Lease] = Future(self.node.loop)
        lease = self.lease
        if lease is not None:
            fut.set_result(lease)
            return fut
        self._bound.append(fut)
        if timeout is not None:

            def expire() -> None:
                if not fut.done():
                    fut.set_exception(TimeoutError(f"no DHCP lease within {timeout:g} s"))

            self.node.loop.call_later(timeout, expire)
        return fut

    # -- input ------------------------------------------------------------------------
    def _tap(self, iface: Interface, packet: IPv4Packet) -> bool:
        got = _udp_payload(packet, CLIENT_PORT)
        if got is None:
            return False
        node, now = self.node, self.node.loop.now()
        if node.trace.active:
            try:
                fields = message_fields(DhcpMessage.decode(got[1]))
            except DecodeError as e:
                fields = {"malformed": str(e)}
            fields.update(src=packet.src, dst=packet.dst, role="client")
            node.trace.emit(now, node.name, "dhcp", "recv", fields, iface=iface.name)
        self._apply(self.client.on_message(got[1], now))
        return True

    def _arp(self, iface: Interface, arp: ArpPacket) -> None:
        now = self.node.loop.now()
        if self._releasing is not None and arp.sender_ip == self._releasing[0].server_id:
            self.node.loop.call_soon(self._released)  # after the DHCPRELEASE has gone out
        self._apply(self.client.on_arp(arp.op, arp.sender_mac, arp.sender_ip, arp.target_ip, now))

    def _on_timer(self) -> None:
        self._timer = None
        self._apply(self.client.on_timer(self.node.loop.now()))

    # -- output -----------------------------------------------------------------------
    def _apply(self, actions: list[Action]) -> None:
        node, iface = self.node, self.iface
        now = node.loop.now()
        trace = node.trace
        for a in actions:
            if isinstance(a, Transmit):
                self._transmit(a)
            elif isinstance(a, ArpProbe):
                fields: dict[str, Any] = {"target": a.target, "number": a.number}
                comment = f"{node.name} probes: is {a.target} in use? (RFC 5227)"
                self._arp_check(ANY, a.target, "probe", fields, comment)
            elif isinstance(a, ArpAnnounce):
                fields = {"address": a.address, "number": a.number}
                comment = f"{node.name} announces {a.address} is at {iface.mac} (RFC 5227)"
                self._arp_check(a.address, a.address, "announce", fields, comment)
            elif isinstance(a, Defend):
                fields = {"address": a.address, "mac": a.mac}
                comment = f"{node.name} defends {a.address} against {a.mac} (RFC 5227 §2.4)"
                self._arp_check(a.address, a.address, "defend", fields, comment)
            elif isinstance(a, Configure):
                self.last_lease = a.lease
                self._configure(a.lease)
            elif (
                isinstance(a, Deconfigure)
                and a.reason == "released"
                and (node.arp.lookup(iface.name, a.lease.server_id) is None)
            ):
                # The DHCPRELEASE waits for ARP: keep the address until it has gone out.
                self._releasing = (a.lease, a.reason)
                node.loop.call_later(node.arp.retries * node.arp.retry_interval, self._released)
            elif isinstance(a, Deconfigure):
                self._deconfigure(a.lease, a.reason)
            elif isinstance(a, Conflict):
                trace.emit(
                    now,
                    node.name,
                    "dhcp",
                    "conflict",
                    {"address": a.address, "mac": a.mac, "how": a.how},
                    iface=iface.name,
                )
            elif isinstance(a, StateChange):
                if a.new in (State.INIT, State.RELEASED):  # kept only after no answer
                    self.last_lease = self.client.previous_lease
                trace.emit(
                    now,
                    node.name,
                    "dhcp",
                    "state",
                    {"old": a.old.value, "new": a.new.value},
                    iface=iface.name,
                    why=a.why,
                )
            elif isinstance(a, Ignored):
                trace.emit(now, node.name, "dhcp", "ignored", {}, iface=iface.name, why=a.why)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.client.next_deadline()
        if deadline is not None:
            self._timer = node.loop.call_at(deadline, self._on_timer)

    def _arp_check(
        self, sender: str, target: str, event: str, fields: dict[str, Any], comment: str
    ) -> None:
        """An RFC 5227 ARP request from our MAC (a probe: sender 0.0.0.0; an announcement
        or a defence: sender = target), and its ``dhcp`` trace event."""
        node, iface = self.node, self.iface
        node.trace.emit(node.loop.now(), node.name, "dhcp", event, fields, iface=iface.name)
        arp = ArpPacket(OP_REQUEST, iface.mac, sender, "00:00:00:00:00:00", target)
        node.arp_send(iface, arp, comment if node.trace.frames_active else None)

    def _transmit(self, t: Transmit) -> None:
        node, iface = self.node, self.iface
        udp = UdpDatagram(CLIENT_PORT, SERVER_PORT, t.message.encode()).encode(t.src, t.dst)
        if node.trace.active:
            fields = message_fields(t.message)
            fields.update(src=t.src, dst=t.dst, role="client")
            node.trace.emit(node.loop.now(), node.name, "dhcp", "send", fields, iface=iface.name)
        comment = None
        if node.trace.frames_active:
            comment = f"{node.name} sends {t.message.type_name} to {t.dst}"
        if t.dst == BROADCAST:
            node.link_send(
                iface, BROADCAST_MAC, node.new_packet(t.src, t.dst, PROTO_UDP, udp), comment
            )
        else:  # RENEWING, RELEASE: an ordinary unicast datagram from our address
            node.ip_send(t.dst, PROTO_UDP, udp, src=t.src, df=False)

    def _configure(self, lease: Lease) -> None:
        node = self.node
        node.configure_address(self.iface.name, lease.address, lease.prefix_len)
        if lease.routers:
            # a router not on the lease's network is not usable (RFC 2132 §3.5)
            with contextlib.suppress(ValueError):
                node.set_default_gateway(lease.routers[0])
        self.dns_servers = lease.dns_servers
        self.domain_name = lease.domain_name
        node.trace.emit(
            node.loop.now(),
            node.name,
            "dhcp",
            "configure",
            {
                "address": lease.address,
                "prefix_len": lease.prefix_len,
                "routers": list(lease.routers),
                "dns_servers": list(lease.dns_servers),
                "domain_name": lease.domain_name,
                "lease_time": lease.lease_time,
                "server_id": lease.server_id,
                "t1": lease.t1,
                "t2": lease.t2,
                "expires": lease.expires,
            },
            iface=self.iface.name,
        )
        for f in list(self.on_configure):
            f(lease)
        waiting, self._bound = self._bound, []
        for fut in waiting:
            if not fut.done():
                fut.set_result(lease)

    def _released(self) -> None:
        if self._releasing is not None:
            lease, reason = self._releasing
            self._releasing = None
            self._deconfigure(lease, reason)

    def _deconfigure(self, lease: Lease, reason: str) -> None:
        node = self.node
        node.deconfigure_address(self.iface.name)
        self.dns_servers = ()
        self.domain_name = None
        node.trace.emit(
            node.loop.now(),
            node.name,
            "dhcp",
            "deconfigure",
            {"address": lease.address},
            iface=self.iface.name,
            why=reason,
        )
        for f in list(self.on_deconfigure):
            f(lease, reason)


def start_dhcp_client(
    node: Host, iface: str, config: ClientConfig | None = None, *, start: bool = True
) -> DhcpClientService:
    """A DHCP client on ``node``'s ``iface`` (its MAC as chaddr, its hostname as option
    12), started at once unless ``start`` is false."""
    i = node.interfaces[iface]
    config = config or ClientConfig(i.mac, hostname=node.hostname.split(".", 1)[0])
    service = DhcpClientService(node, iface, config)
    if start:
        service.start()
    return service


__all__ = [
    "DhcpClientService",
    "DhcpServerService",
    "message_fields",
    "serve_dhcp",
    "start_dhcp_client",
]
